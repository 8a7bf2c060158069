"""Steps shared by the command-line tools before a Runner is built."""
import os

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
    use and an interrupted generation resumes. Every rank of a torchrun launch
    may call this: ``ensure_synthetic`` holds a file lock, so one process
    renders while the others wait for it.
    """
    synthetic = cfg.get('synthetic_data', None)
    if not synthetic:
        return
    from bleedorigin.datasets.synthetic import ensure_synthetic

    ensure_synthetic(**synthetic)
