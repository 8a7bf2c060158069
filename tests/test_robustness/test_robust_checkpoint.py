"""Broken checkpoints: one line naming the file and the reason, everywhere (issue 14).

Every way a checkpoint can be wrong is tried on every entry that loads one:
the loader itself, ``BleedOriginNet``'s ``load_weights`` (the demo path),
``tools/test.py``, ``tools/train.py --resume FILE``, ``load_from`` through
:class:`BleedOriginRunner` and ``tools/gen_pseudo_labels.py``. Malicious
pickles are refused with nothing executed (a sentinel file is never created).
"""
import os
import os.path as osp
import pickle
import runpy
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from robust_helpers import REPO
from tiny_runner import LinearRegressor, build_runner

from bleedorigin.apis.model_builder import load_weights
from bleedorigin.utils.checkpoint import (
    CheckpointError,
    CheckpointNotFoundError,
    UnsafeCheckpointError,
    load_checkpoint_safely,
)


class _System:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.system, (f'touch {self.sentinel}', ))


class _Eval:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (eval, (f"open({self.sentinel!r}, 'w').close()", ))


class _Popen:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (subprocess.Popen, (['touch', self.sentinel], ))


def _good(path):
    torch.save({'state_dict': nn.Linear(3, 2).state_dict(), 'meta': {}}, path)


def make_fault(kind, folder):
    """Write a broken checkpoint of ``kind`` into ``folder``; returns its path."""
    path = osp.join(folder, f'{kind}.pth')
    sentinel = osp.join(folder, 'PWNED')
    if kind == 'text':
        with open(path, 'w') as f:
            f.write('epoch 3 of my training notes\n')
    elif kind == 'binary':
        with open(path, 'wb') as f:
            f.write(bytes(range(7, 250)) * 4)
    elif kind == 'empty':
        open(path, 'wb').close()
    elif kind == 'truncated':
        _good(path)
        with open(path, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
    elif kind == 'directory':
        os.makedirs(path)
    elif kind == 'missing':
        pass
    elif kind == 'fifo':  # opening it would wait for a writer forever
        os.mkfifo(path)
    elif kind == 'pickle-system':
        torch.save({'state_dict': {}, 'payload': _System(sentinel)}, path)
    elif kind == 'pickle-eval':
        torch.save({'state_dict': {}, 'payload': _Eval(sentinel)}, path)
    elif kind == 'pickle-popen':
        torch.save({'state_dict': {}, 'payload': _Popen(sentinel)}, path)
    elif kind == 'legacy-pickle':  # the pre-zip format: a bare pickle stream
        with open(path, 'wb') as f:
            pickle.dump({'payload': _System(sentinel)}, f, protocol=2)
    else:
        raise ValueError(kind)
    return path


# kind -> (error class, reason after '<path>: ')
FAULTS = {
    'text': (CheckpointError, "not a torch checkpoint: neither a zip archive nor a pickle "
                              "(starts with b'epoch 3 of my tr')"),
    'binary': (CheckpointError, 'not a torch checkpoint: neither a zip archive nor a pickle '
                                "(starts with b'\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10"
                                "\\x11\\x12\\x13\\x14\\x15\\x16')"),
    'empty': (CheckpointError, 'empty file (0 bytes); was the write interrupted?'),
    'truncated': (CheckpointError, 'truncated or corrupt: not a complete torch zip archive '
                                   '(PytorchStreamReader failed reading zip archive: failed '
                                   'finding central directory); was the write interrupted?'),
    'directory': (CheckpointError, 'is a directory, not a checkpoint file'),
    'missing': (CheckpointNotFoundError, 'checkpoint file not found'),
    'fifo': (CheckpointError, 'is not a regular file'),
    'pickle-system': (UnsafeCheckpointError, 'refused to unpickle a global that is not '
                                             'allow-listed (posix.system)'),
    'pickle-eval': (UnsafeCheckpointError, 'refused to unpickle a global that is not '
                                           'allow-listed (eval)'),
    'pickle-popen': (UnsafeCheckpointError, 'refused to unpickle a global that is not '
                                            'allow-listed ('),
    'legacy-pickle': (UnsafeCheckpointError, 'refused to unpickle a global that is not '
                                             'allow-listed (posix.system)'),
}


def assert_one_line(message, path, reason):
    assert '\n' not in message
    assert message.startswith(f'{path}: {reason}'), message


@pytest.mark.parametrize('kind', sorted(FAULTS))
def test_loader_names_file_and_reason(tmp_path, kind):
    path = make_fault(kind, str(tmp_path))
    error, reason = FAULTS[kind]
    with pytest.raises(error) as info:
        load_checkpoint_safely(path)
    assert type(info.value) is error
    assert_one_line(str(info.value), path, reason)
    assert not (tmp_path / 'PWNED').exists()  # no code of the file ran
    if kind.startswith(('pickle', 'legacy')):
        assert isinstance(info.value, pickle.UnpicklingError)  # as before
    if kind == 'missing':
        assert isinstance(info.value, FileNotFoundError)


@pytest.mark.parametrize('kind', sorted(FAULTS))
def test_pipeline_load_weights_one_line(tmp_path, kind):
    """``BleedOriginNet.from_config`` -> ``load_weights``: what the demo prints."""
    path = make_fault(kind, str(tmp_path))
    error, reason = FAULTS[kind]
    with pytest.raises(error) as info:
        load_weights(nn.Linear(3, 2), path, 'configs/x.py')
    assert_one_line(str(info.value), path, reason)
    assert isinstance(info.value, (OSError, ValueError))  # what tools/demo.py reports in one line
    assert not (tmp_path / 'PWNED').exists()


def test_wrong_weights_are_named(tmp_path):
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': {'backbone.conv.weight': torch.zeros(3)}}, other)
    with pytest.raises(CheckpointError) as info:
        load_weights(nn.Linear(3, 2), str(other), 'configs/x.py')
    assert_one_line(str(info.value), other, 'state_dict does not fit the model of configs/x.py: '
                    "none of its 2 weights is in the checkpoint (which has e.g. "
                    "['backbone.conv.weight']); weights of another model?")
    shaped = tmp_path / 'shaped.pth'
    torch.save({'state_dict': nn.Linear(4, 2).state_dict()}, shaped)
    with pytest.raises(CheckpointError) as info:
        load_weights(nn.Linear(3, 2), str(shaped), 'configs/x.py')
    assert_one_line(str(info.value), shaped, 'state_dict does not fit the model of '
                    'configs/x.py: 1 weights have another shape, e.g. weight (2, 4) != (2, 3)')
    partial = tmp_path / 'partial.pth'
    torch.save({'weight': torch.zeros(2, 3)}, partial)  # a plain state_dict, bias missing
    with pytest.raises(CheckpointError, match=r"1 missing keys, e.g. \['bias'\]"):
        load_weights(nn.Linear(3, 2), str(partial), 'configs/x.py')
    not_dict = tmp_path / 'list.pth'
    torch.save([torch.zeros(1)], not_dict)
    with pytest.raises(CheckpointError) as info:
        load_weights(nn.Linear(3, 2), str(not_dict), 'configs/x.py')
    assert_one_line(str(info.value), not_dict, 'holds a list, not a checkpoint dict')


def run_tool(script, argv, capsys):
    """Run a tool as ``__main__`` in this process; (exit code, stderr lines)."""
    old, threads = sys.argv, torch.get_num_threads()
    sys.argv = [script, *argv]
    try:
        runpy.run_path(script, run_name='__main__')
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.argv = old
        torch.set_num_threads(threads)  # gen_pseudo_labels sets 2: keep the suite's 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return code, err


@pytest.mark.parametrize('kind', ['text', 'truncated', 'pickle-system', 'missing', 'directory'])
def test_tools_test_py_one_line(tmp_path, kind, capsys):
    path = make_fault(kind, str(tmp_path))
    code, err = run_tool(osp.join(REPO, 'tools', 'test.py'),
                         [osp.join(REPO, 'configs', 'bleedorigin', 'detect.py'), path,
                          '--work-dir', str(tmp_path / 'work')], capsys)
    assert code == 2
    assert len(err) == 1
    assert_one_line(err[0], f'error: {path}', FAULTS[kind][1])
    assert not (tmp_path / 'PWNED').exists()


@pytest.mark.parametrize('kind', ['truncated', 'pickle-eval', 'weights-only'])
def test_tools_train_py_resume_file_one_line(tmp_path, kind, capsys):
    if kind == 'weights-only':
        path = str(tmp_path / 'weights.pth')
        torch.save({'state_dict': nn.Linear(3, 2).state_dict()}, path)
        reason = ('cannot resume from it: meta, message_hub missing (weights only? use '
                  'load_from to fine-tune from it)')
    else:
        path, reason = make_fault(kind, str(tmp_path)), FAULTS[kind][1]
    code, err = run_tool(osp.join(REPO, 'tools', 'train.py'),
                         [osp.join(REPO, 'configs', 'bleedorigin', 'detect.py'), '--resume',
                          path, '--work-dir', str(tmp_path / 'work')], capsys)
    assert code == 2
    assert len(err) == 1
    assert_one_line(err[0], f'error: {path}', reason)


def test_tools_train_py_load_from_work_dir(tmp_path, capsys):
    """``load_from=WORK_DIR`` starts from the checkpoint that run ended with (its best);
    a work dir without one is named in one line."""
    config = osp.join(REPO, 'configs', 'bleedorigin', 'detect_negft.py')
    empty = tmp_path / 'empty_run'
    empty.mkdir()
    code, err = run_tool(osp.join(REPO, 'tools', 'train.py'),
                         [config, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                          f'load_from={empty}'], capsys)
    assert code == 2 and len(err) == 1
    assert_one_line(err[0], f'error: {empty}', 'load_from names a work dir without a checkpoint')
    # the best checkpoint of the run is the one loaded (here a truncated file: its path is
    # named, so it was the one picked over iter_400.pth)
    run = tmp_path / 'run'
    run.mkdir()
    torch.save({'state_dict': {}}, str(run / 'iter_400.pth'))
    best = make_fault('truncated', str(run))
    os.replace(best, str(run / 'best_onset_select_err_iter_400.pth'))
    code, err = run_tool(osp.join(REPO, 'tools', 'train.py'),
                         [config, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                          f'load_from={run}'], capsys)
    assert code == 2 and len(err) == 1
    assert_one_line(err[0], f'error: {run}/best_onset_select_err_iter_400.pth',
                    FAULTS['truncated'][1])


def test_gen_pseudo_labels_checkpoint_one_line(tmp_path, capsys):
    path = make_fault('truncated', str(tmp_path))
    code, err = run_tool(osp.join(REPO, 'tools', 'gen_pseudo_labels.py'),
                         [str(tmp_path), '--tracker-config',
                          osp.join(REPO, 'configs', 'bleedorigin', 'track_pretrain.py'),
                          '--checkpoint', path], capsys)
    assert code == 2 and len(err) == 1
    assert_one_line(err[0], f'error: {path}', FAULTS['truncated'][1])
    detector = tmp_path / 'detector.pth'  # weights of another model
    torch.save({'state_dict': {'onset_head.fc.weight': torch.zeros(2, 2)}}, detector)
    code, err = run_tool(osp.join(REPO, 'tools', 'gen_pseudo_labels.py'),
                         [str(tmp_path), '--tracker-config',
                          osp.join(REPO, 'configs', 'bleedorigin', 'track_pretrain.py'),
                          '--checkpoint', str(detector)], capsys)
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f'error: {detector}: state_dict does not fit the model of ')


# --------------------------------------------------- load_from through BleedOriginRunner
@pytest.mark.parametrize('kind', ['truncated', 'pickle-popen', 'text'])
def test_runner_load_from_fault_is_one_line(tmp_path, kind):
    path = make_fault(kind, str(tmp_path))
    runner = build_runner(tmp_path / 'work', 1, load_from=path, name=f'load_{kind}')
    with pytest.raises(CheckpointError) as info:
        runner.train()
    assert_one_line(str(info.value), path, FAULTS[kind][1])
    assert not (tmp_path / 'PWNED').exists()


def test_runner_load_from_wrong_model_is_one_line(tmp_path):
    other = tmp_path / 'wide.pth'
    torch.save({'state_dict': LinearRegressor(width=5).state_dict()}, other)
    runner = build_runner(tmp_path / 'work', 1, load_from=str(other), name='wide')
    with pytest.raises(CheckpointError) as info:
        runner.train()
    assert_one_line(str(info.value), other, 'state_dict does not fit the model: 1 weights have '
                    'another shape, e.g. linear.weight (1, 5) != (1, 2)')


def test_demo_checkpoint_fault_is_one_line(tmp_path, capsys):
    """``tools/demo.py --detect BAD``: exit 2 and one line, through BleedOriginNet.from_config."""
    import cv2
    import numpy as np

    folder = tmp_path / 'frames'
    folder.mkdir()
    for t in range(3):
        cv2.imwrite(str(folder / f'{t:06d}.png'), np.full((48, 64, 3), 120, np.uint8))
    path = make_fault('pickle-system', str(tmp_path))
    code, err = run_tool(osp.join(REPO, 'tools', 'demo.py'),
                         [str(folder), '--detect', path, '--json', str(tmp_path / 'out.json'),
                          '--no-progress', '--threads', '1'], capsys)
    assert code == 2 and len(err) == 1
    assert_one_line(err[0], f'error: {path}', FAULTS['pickle-system'][1])
    assert not (tmp_path / 'PWNED').exists()


def test_runner_is_registered():
    from bleedorigin.engine import BleedOriginRunner
    from bleedorigin.registry import RUNNERS

    assert RUNNERS.get('BleedOriginRunner') is BleedOriginRunner


def test_weights_of_a_part_with_its_own_file_may_be_absent(tmp_path):
    """A detector's onset refiner loads its own checkpoint at build (``weights_elsewhere``):
    a detector checkpoint without its weights loads, any other missing weight is refused."""
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 2)
            self.b = nn.Linear(2, 1)
            self.weights_elsewhere = ('b.', )

    model = Model()
    kept = model.b.weight.detach().clone()
    only_a = tmp_path / 'only_a.pth'
    torch.save({'state_dict': {f'a.{k}': torch.ones_like(v)
                               for k, v in model.a.state_dict().items()}}, only_a)
    load_weights(model, str(only_a), 'configs/x.py')
    assert torch.equal(model.a.weight, torch.ones(2, 3)) and torch.equal(model.b.weight, kept)
    only_b = tmp_path / 'only_b.pth'
    torch.save({'state_dict': {f'b.{k}': v for k, v in model.b.state_dict().items()}}, only_b)
    with pytest.raises(CheckpointError, match=r"2 missing keys, e.g. \['a.weight', 'a.bias'\]"):
        load_weights(model, str(only_b), 'configs/x.py')


def test_runner_keeps_the_weights_of_a_part_with_its_own_file(tmp_path):
    """``tools/test.py`` (no missing weight allowed) on a detector checkpoint without the
    refiner's weights: they come from the refiner's own file, any other gap is refused."""
    class WithPart(LinearRegressor):
        def __init__(self):
            super().__init__()
            self.part = nn.Linear(2, 2)
            self.weights_elsewhere = ('part.', )

    model = WithPart()
    kept = model.part.weight.detach().clone()
    ckpt = tmp_path / 'no_part.pth'
    torch.save({'state_dict': {'linear.weight': torch.ones(1, 2), 'linear.bias': torch.ones(1)}},
               ckpt)
    runner = build_runner(tmp_path / 'work', 1, model=model, name='part')
    runner.allow_missing_weights = False
    runner.load_checkpoint(str(ckpt))
    assert torch.equal(model.linear.weight, torch.ones(1, 2))
    assert torch.equal(model.part.weight, kept)
    torch.save({'state_dict': {'linear.weight': torch.ones(1, 2)}}, ckpt)
    with pytest.raises(CheckpointError, match=r"1 missing keys, e.g. \['linear.bias'\]"):
        runner.load_checkpoint(str(ckpt))
