"""Atomic writes: the final name holds a whole file or the old one, never a part."""
import json
import os

import numpy as np
import pytest

from bleedorigin.utils.io import atomic_output, write_json_atomic


def test_write_json_atomic_writes_whole_file_and_no_temp(tmp_path):
    path = tmp_path / 'sub' / 'a.json'
    write_json_atomic(str(path), {'b': 1, 'a': [1, 2]}, sort_keys=True, make_dirs=True)
    assert json.loads(path.read_text()) == {'a': [1, 2], 'b': 1}
    assert path.read_text().index('"a"') < path.read_text().index('"b"')
    assert os.listdir(path.parent) == ['a.json']


def test_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path):
    path = tmp_path / 'a.json'
    write_json_atomic(str(path), {'old': True})
    with pytest.raises(TypeError):
        write_json_atomic(str(path), {'bad': object()})
    assert json.loads(path.read_text()) == {'old': True}
    assert os.listdir(tmp_path) == ['a.json']


def test_atomic_output_with_numpy_suffix(tmp_path):
    path = tmp_path / 'cache.npy'
    with atomic_output(str(path), suffix='.npy') as tmp:
        assert not os.path.exists(path)
        np.save(tmp, np.arange(3))
    np.testing.assert_array_equal(np.load(path), np.arange(3))
    assert os.listdir(tmp_path) == ['cache.npy']
