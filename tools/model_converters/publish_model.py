"""Publish a trained checkpoint into the model zoo (``checkpoints/``).

Example (after ``tools/train.py``)::

    python tools/model_converters/publish_model.py \
        work_dirs/detect/best_onset_acc_8_iter_1200.pth detect \
        --config configs/bleedorigin/detect.py --test \
        --command "python tools/train.py configs/bleedorigin/detect.py" \
        --training-time "21 min 43 s"

``--test`` runs ``tools/test.py`` on the published file itself (the command
users run to reproduce the zoo's figures) and records its metrics; or pass
the JSON of an earlier ``tools/test.py --out`` with ``--metrics``.

A stage of the detector chain is trained, validated and compared with the zoo on
its own decision (eq. 2 on the video alone, no refiner, the paper's clean-view memory:
``--test-options``), while users test it with ``configs/bleedorigin/detect.py`` (the
mirror view, the onset refiner and, since session 33, the strided clean-view memory:
``--decision-config``). Both tests run, and both commands are recorded with the figures
they print::

    python tools/model_converters/publish_model.py \
        work_dirs/detect_hardpos/best_detect_select_err_iter_800.pth detect \
        --config configs/bleedorigin/detect_hardpos.py --test \
        --test-options 'model.onset_views=()' model.onset_refiner=None \
        model.onset_refiner_checkpoint=None model.mdcfm.memory_stride=1 \
        --decision-config configs/bleedorigin/detect.py

Keeps only the weights (``state_dict``) and a small ``meta`` of plain values
(no optimizer, scheduler or message-hub state), so the file loads with
``weights_only=True`` and nothing else; writes ``checkpoints/NAME.pth``
atomically, copies mmengine's scalars log(s) to
``checkpoints/logs/NAME.scalars.json`` (every ``<timestamp>/vis_data/scalars.json``
of the checkpoint's work dir when ``--log`` is not given, resumed runs
concatenated in order), and records name, config, file, sha256, size,
command, training time and the test metrics in ``checkpoints/manifest.json``.
"""
import argparse
import datetime
import glob
import json
import os
import os.path as osp
import shlex
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import torch  # noqa: E402

from bleedorigin.utils.checkpoint import load_checkpoint_safely  # noqa: E402
from bleedorigin.utils.io import atomic_output  # noqa: E402
from bleedorigin.utils.model_zoo import (  # noqa: E402
    sha256sum,
    update_manifest,
    zoo_dir,
)

ZOO_SIZE_LIMIT = 20 * 1024 * 1024  # issue 12: all shipped files together under 20 MB


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Publish a checkpoint into checkpoints/')
    parser.add_argument('checkpoint', help='checkpoint written by tools/train.py')
    parser.add_argument('name', help='model name in the manifest, e.g. detect or track')
    parser.add_argument('--config', required=True, help='config the checkpoint was trained with')
    parser.add_argument('--log', nargs='+', help="mmengine scalars.json file(s) of the run "
                        "(default: every <timestamp>/vis_data/scalars.json beside the checkpoint)")
    parser.add_argument('--metrics', help='JSON written by tools/test.py --out')
    parser.add_argument('--test', action='store_true',
                        help='run tools/test.py on the published file and record its metrics '
                        '(and the whole JSON as logs/NAME.test.json) instead of --metrics')
    parser.add_argument('--test-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='--cfg-options of the test the metrics come from (recorded in '
                        'the test command), e.g. the decision a detector chain was trained '
                        'and validated with')
    parser.add_argument('--decision-config',
                        help='with --test: also test the published file with this config, '
                        'the decision users run (e.g. configs/bleedorigin/detect.py: the '
                        'mirror view and the onset refiner), and record it as "decision" '
                        '(its JSON: logs/NAME.test.json; the --config test then writes '
                        'logs/NAME.config.test.json)')
    parser.add_argument('--command', default='', help='the command that trained the model')
    parser.add_argument('--training-time', help='wall time of the training, e.g. "21 min 43 s" '
                        '(default: estimated from the logged iteration times)')
    parser.add_argument('--zoo', help='model zoo folder (default: <repo>/checkpoints)')
    return parser.parse_args(argv)


def weights_only(checkpoint: dict, path: str) -> dict:
    """The ``state_dict`` of an mmengine checkpoint as plain contiguous CPU tensors."""
    state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict) or not state_dict:
        raise ValueError(f'{path}: no state_dict to publish')
    out = {}
    for key, value in state_dict.items():
        if not torch.is_tensor(value):
            raise ValueError(f'{path}: state_dict[{key!r}] is a {type(value).__name__}, '
                             'not a tensor')
        out[key[7:] if key.startswith('module.') else key] = \
            value.detach().cpu().contiguous().clone()
    return out


def find_logs(checkpoint: str):
    """Scalars logs of the checkpoint's work dir, oldest run first."""
    return sorted(glob.glob(osp.join(osp.dirname(osp.abspath(checkpoint)), '*', 'vis_data',
                                     'scalars.json')))


def read_scalars(paths):
    records = []
    for path in paths:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as err:
                        raise ValueError(f'{path}:{number}: not a JSON line ({err})') from err
    return records


def estimate_training_seconds(records) -> float:
    """Sum of the logged seconds per iteration times the iterations each record covers
    (a resumed run restarts the count: its first record is not counted)."""
    total, last_step = 0.0, 0
    for record in records:
        if 'time' not in record or 'step' not in record or 'lr' not in record:
            continue  # validation records have no learning rate
        step = int(record['step'])
        if step > last_step:
            total += float(record['time']) * (step - last_step)
        last_step = step
    return total


def format_seconds(seconds: float) -> str:
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours} h {minutes} min {sec} s' if hours else f'{minutes} min {sec} s'


def relative(path: str, base: str) -> str:
    path = osp.abspath(path)
    return osp.relpath(path, base) if path.startswith(base + os.sep) else path


def atomic_save(obj, path: str) -> None:
    with atomic_output(path) as tmp:
        torch.save(obj, tmp)


def atomic_write_lines(records, path: str) -> None:
    with atomic_output(path) as tmp, open(tmp, 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def our_metrics(path: str) -> dict:
    """``<task>/<metric>`` entries (our model, not the baselines) of a tools/test.py JSON."""
    with open(path) as f:
        metrics = json.load(f)
    if not isinstance(metrics, dict):
        raise ValueError(f'{path}: expected a JSON object of metrics')
    return {k: v for k, v in sorted(metrics.items())
            if k.count('/') == 1 and (v is None or isinstance(v, (int, float)))}


def command_line(config: str, checkpoint: str, options=()) -> str:
    """The ``tools/test.py`` command as README prints it (options shell-quoted)."""
    parts = ['python', 'tools/test.py', config, checkpoint]
    if options:
        parts += ['--cfg-options'] + list(options)
    return ' '.join(shlex.quote(p) for p in parts)


def run_test(config: str, checkpoint: str, out: str, options, work_dir: str) -> None:
    """``tools/test.py`` on ``checkpoint``; its metrics JSON goes to ``out``."""
    cmd = [sys.executable, osp.join(REPO, 'tools', 'test.py'), osp.abspath(config),
           checkpoint, '--work-dir', work_dir, '--out', out]
    if options:
        cmd += ['--cfg-options'] + list(options)
    print(f'testing the published file: {" ".join(cmd)}', flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def decision_entry(config: str, checkpoint: str, metrics_file: str, base: str) -> dict:
    """The manifest's ``decision`` of a model: the config users test it with (when it is
    not the training config's decision), its metrics, their JSON and the command."""
    return {'config': config, 'metrics': our_metrics(metrics_file),
            'log': relative(metrics_file, base),
            'test_command': command_line(config, checkpoint)}


def publish(args) -> dict:
    """Publish ``args.checkpoint`` as ``args.name``; returns the manifest entry."""
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'{args.checkpoint}: checkpoint file not found')
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'{args.config}: config file not found')
    zoo = zoo_dir(args.zoo)
    base = osp.dirname(zoo)
    os.makedirs(osp.join(zoo, 'logs'), exist_ok=True)
    loaded = load_checkpoint_safely(args.checkpoint, map_location='cpu')
    state_dict = weights_only(loaded, args.checkpoint)
    source_meta = loaded.get('meta', {}) if isinstance(loaded, dict) else {}
    source_meta = source_meta if isinstance(source_meta, dict) else {}
    parameters = int(sum(v.numel() for v in state_dict.values()))
    meta = {'name': args.name, 'config': relative(args.config, REPO),
            'source_checkpoint': osp.basename(args.checkpoint),
            'iter': int(source_meta.get('iter', 0) or 0),
            'epoch': int(source_meta.get('epoch', 0) or 0),
            'parameters': parameters, 'torch': str(torch.__version__),
            'published': datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec='seconds')}
    target = osp.join(zoo, f'{args.name}.pth')
    atomic_save({'state_dict': state_dict, 'meta': meta}, target)
    # the published file must load with weights_only=True and hold exactly these weights
    check = load_checkpoint_safely(target, map_location='cpu')
    assert set(check['state_dict']) == set(state_dict), target

    logs = args.log or find_logs(args.checkpoint)
    records = read_scalars(logs) if logs else []
    log_path = None
    if records:
        log_path = osp.join(zoo, 'logs', f'{args.name}.scalars.json')
        atomic_write_lines(records, log_path)
    if args.training_time:
        training_time = args.training_time
    elif records:
        training_time = f'~{format_seconds(estimate_training_seconds(records))} (logged ' \
                        'iteration times)'
    else:
        training_time = 'unknown'
    if args.decision_config and not args.test:
        raise ValueError('--decision-config needs --test (the decision is measured on the '
                         'published file)')
    if args.decision_config and not osp.isfile(args.decision_config):
        raise FileNotFoundError(f'{args.decision_config}: decision config file not found')
    test_command = command_line(meta['config'], relative(target, base), args.test_options)
    metrics_file = args.metrics
    decision = None
    if args.test:
        suffix = 'config.test' if args.decision_config else 'test'
        metrics_file = osp.join(zoo, 'logs', f'{args.name}.{suffix}.json')
        run_test(args.config, target, metrics_file, args.test_options,
                 osp.join(REPO, 'work_dirs', 'zoo_test', args.name))
    if args.decision_config:
        decision_file = osp.join(zoo, 'logs', f'{args.name}.test.json')
        run_test(args.decision_config, target, decision_file, [],
                 osp.join(REPO, 'work_dirs', 'zoo_test', f'{args.name}_decision'))
        decision = decision_entry(relative(args.decision_config, REPO),
                                  relative(target, base), decision_file, base)
    entry = {'config': meta['config'], 'file': relative(target, base),
             'sha256': sha256sum(target), 'size': osp.getsize(target),
             'log': relative(log_path, base) if log_path else None,
             'command': args.command, 'training_time': training_time,
             'metrics': our_metrics(metrics_file) if metrics_file else {},
             'test_command': test_command,
             'parameters': parameters, 'iter': meta['iter'],
             'source_checkpoint': meta['source_checkpoint'], 'published': meta['published']}
    if decision is not None:
        entry['decision'] = decision
    manifest = update_manifest(args.name, entry, args.zoo)
    total = sum(osp.getsize(p) for p in glob.glob(osp.join(zoo, '**', '*'), recursive=True)
                if osp.isfile(p))
    print(f'published {args.name}: {target} ({entry["size"] / 1e6:.2f} MB, {parameters:,} '
          f'parameters, sha256 {entry["sha256"]}), log {log_path or "none"}, manifest '
          f'{manifest}; zoo total {total / 1e6:.2f} MB')
    if total > ZOO_SIZE_LIMIT:
        print(f'warning: {zoo} holds {total / 1e6:.1f} MB, over the 20 MB the repository '
              'allows for shipped files', file=sys.stderr)
    return entry


def main(argv=None) -> dict:
    return publish(parse_args(argv))


if __name__ == '__main__':
    from bleedorigin.utils.cli import run_cli

    run_cli(main)
