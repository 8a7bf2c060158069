"""Steps shared by the command-line tools before a Runner is built."""
import argparse
import os
import os.path as osp
from typing import Any, Optional, Sequence, Set

import torch
from mmengine.config import Config, DictAction


def parse_with_launcher_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Add the flags every OpenMMLab tool shares, parse, and export ``LOCAL_RANK``."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs in xxx=yyy format')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def resolve_work_dir(cfg: Config, work_dir, config_path: str) -> None:
    """``--work-dir`` wins, then the config's own, then ``work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


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


def prepare_data(cfg: Config, parts: Optional[Sequence[str]] = None) -> None:
    """Generate the built-in synthetic benchmark when the config asks for it.

    A config that sets ``synthetic_data = dict(data_root=..., preset=...,
    seed=...)`` (or a list of such dicts) trains on the synthetic ESD benchmark; it is
    rendered on first use and an interrupted generation resumes. Every rank of a torchrun launch
    may call this: ``ensure_synthetic`` holds a file lock, so one process
    renders while the others wait for it.

    Args:
        cfg (Config): The config.
        parts (Sequence[str], optional): Render only the roots that these parts of the config
            read (a ``data_root`` anywhere under e.g. ``'test_dataloader'``): testing a
            fine-tuned detector needs the test split, not the hours of training streams its
            config also lists. None (training) renders every listed root.
    """
    synthetic = cfg.get('synthetic_data', None)
    if not synthetic:
        return
    from bleedorigin.datasets.synthetic import ensure_synthetic

    # one data root, or several (e.g. the benchmark and a root of hard negatives)
    specs = [synthetic] if isinstance(synthetic, dict) else list(synthetic)
    if parts is not None:
        read: Set[str] = set()
        for part in parts:
            _collect_data_roots(cfg.get(part, None), read)
        specs = [spec for spec in specs if osp.normpath(spec['data_root']) in read]
    for spec in specs:
        ensure_synthetic(**spec)


def _collect_data_roots(node: Any, out: Set[str]) -> None:
    """Add every ``data_root`` value under ``node`` (nested dicts and lists) to ``out``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'data_root' and isinstance(value, str):
                out.add(osp.normpath(value))
            else:
                _collect_data_roots(value, out)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _collect_data_roots(item, out)


def setup_cpu_distributed(cfg: Config) -> None:
    """Let ``--launcher pytorch`` run CPU processes (gloo) as well as GPUs.

    mmengine 0.10.7 calls ``torch.cuda.set_device`` before creating the process
    group and gives DDP ``device_ids=[LOCAL_RANK]``; both fail without CUDA.
    On a CPU-only machine we create the gloo process group ourselves (the
    Runner then skips its own ``init_dist``) and wrap the model with
    ``device_ids=None``, as DDP requires for CPU modules.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return
    import torch.distributed as dist

    if not dist.is_initialized():
        dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
        dist.init_process_group(backend=dist_cfg.get('backend', 'gloo'))
    wrapper = dict(cfg.get('model_wrapper_cfg', None) or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
