"""Frame-wise error plots (paper Figure 13) and alert-latency histograms."""
import os
import os.path as osp
from typing import Mapping, Optional, Sequence

import numpy as np


def plot_error_curves(curves: Mapping[str, Sequence[float]], out_file: str, title: str = '',
                      xlabel: str = 'frames after onset', ylabel: str = 'pixel error (px)',
                      markers: Optional[Mapping[str, float]] = None,
                      x_offset: int = 0) -> str:
    """Plot one frame-wise error curve per method into a PNG.

    Args:
        curves (Mapping[str, Sequence[float]]): Name -> (T,) errors; NaN where
            there is no value (invisible source, no prediction) breaks the line.
        out_file (str): PNG path; the folder is created.
        title (str): Figure title.
        xlabel (str): X axis label.
        ylabel (str): Y axis label.
        markers (Mapping[str, float] | None): Label -> x of a vertical line
            (e.g. ``{'alert': 42}``).
        x_offset (int): Added to the curve index to get x. Defaults to 0.

    Returns:
        str: ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if not curves:
        raise ValueError(f'{out_file}: no curves to plot')
    figure, axis = plt.subplots(figsize=(8, 4), dpi=100)
    for name, values in curves.items():
        values = np.asarray(values, np.float64).reshape(-1)
        axis.plot(np.arange(len(values)) + x_offset, values, label=name, linewidth=1.2)
    for label, x in (markers or {}).items():
        axis.axvline(x, color='k', linestyle='--', linewidth=0.8)
        axis.text(x, axis.get_ylim()[1], f' {label}', va='top', fontsize=8)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    figure.savefig(out_file)
    plt.close(figure)
    return out_file
