import numpy as np
import pytest

from bleedorigin.visualization import plot_error_curves


def test_plot_error_curves_writes_png(tmp_path):
    out = tmp_path / 'sub' / 'curves.png'
    curves = {'fixed60': np.linspace(0, 20, 50), 'none': np.r_[np.linspace(0, 80, 40),
                                                               [np.nan] * 10]}
    plot_error_curves(curves, str(out), title='t', markers={'alert': 12})
    data = out.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 5000
    with pytest.raises(ValueError, match='no curves'):
        plot_error_curves({}, str(tmp_path / 'x.png'))
