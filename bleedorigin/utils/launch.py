"""Steps shared by the command-line tools before a Runner is built."""
import os
import time

import torch
from mmengine.config import Config


def set_cpu_threads(cfg: Config) -> None:
    """Split the machine's cores between the processes of a distributed run.

    ``cfg.cpu_threads`` (optional) fixes the number of torch threads per
    process; by default each of ``WORLD_SIZE`` processes gets an equal share.
    """
    threads = cfg.get('cpu_threads', None)
    if threads is None:
        world_size = int(os.environ.get('WORLD_SIZE', '1'))
        threads = max(1, (os.cpu_count() or 1) // max(world_size, 1))
    torch.set_num_threads(int(threads))


def prepare_data(cfg: Config) -> None:
    """Generate the built-in synthetic benchmark when the config asks for it.

    A config that sets ``synthetic_data = dict(data_root=..., preset=...,
    seed=...)`` trains on the synthetic ESD benchmark; it is rendered on first
    use (an interrupted generation resumes), once, by rank 0.
    """
    synthetic = cfg.get('synthetic_data', None)
    if not synthetic:
        return
    from bleedorigin.datasets.synthetic import ensure_synthetic

    # torchrun starts every rank before the process group exists: local rank 0
    # renders, the others wait for its completion marker.
    if int(os.environ.get('LOCAL_RANK', '0')) != 0:
        wait_for_file(_ready_marker(cfg), timeout=3600)
        return
    ensure_synthetic(**synthetic)
    marker = _ready_marker(cfg)
    os.makedirs(os.path.dirname(marker), exist_ok=True)
    with open(marker, 'w') as f:
        f.write('ready\n')


def _ready_marker(cfg: Config) -> str:
    return os.path.join(cfg.work_dir, '.synthetic_data_ready')


def wait_for_file(path: str, timeout: float, poll: float = 2.0) -> None:
    """Block until ``path`` exists; raise ``TimeoutError`` naming it otherwise."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f'{path}: not written by local rank 0 within {timeout:.0f} s')
        time.sleep(poll)
