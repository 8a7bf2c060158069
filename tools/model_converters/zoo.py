"""Model zoo helpers for the shell scripts and for users.

Usage::

    python tools/model_converters/zoo.py list               # shipped models
    python tools/model_converters/zoo.py verify             # sha256 + weights_only load of each
    python tools/model_converters/zoo.py find WORK_DIR      # checkpoint a training run ended with
    python tools/model_converters/zoo.py compare detect=work_dirs/reproduce/detect.json ...
    python tools/model_converters/zoo.py table              # docs/model_zoo.md rows

``compare`` prints, for each shipped name, the key metrics of
docs/model_zoo.md (Tables 3, 4 and 7) from the manifest beside the ones in a
``tools/test.py --out`` JSON (``tools/reproduce.sh`` calls it at the end).
"""
import argparse
import json
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from bleedorigin.utils.model_zoo import (  # noqa: E402
    ModelZooError,
    compare_table,
    find_checkpoint,
    load_manifest,
    load_zoo_checkpoint,
    manifest_path,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Model zoo helpers')
    parser.add_argument('--zoo', help='model zoo folder (default: <repo>/checkpoints)')
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('list', help='list the shipped models')
    sub.add_parser('verify', help='check every shipped file (sha256, weights_only load)')
    find = sub.add_parser('find', help='print the checkpoint a training run ended with')
    find.add_argument('work_dir')
    sub.add_parser('table', help='print the docs/model_zoo.md table rows of the manifest')
    compare = sub.add_parser('compare', help='zoo metrics beside reproduced ones')
    compare.add_argument('results', nargs='+', metavar='NAME=METRICS_JSON')
    return parser.parse_args(argv)


# docs/model_zoo.md columns after config, checkpoint and training time, per table
DOC_COLUMNS = {
    'detection': ('onset/acc_0', 'onset/acc_8', 'onset/false_alarm_rate', 'source/err_le_10'),
    'tracking': ('track/err_le_10', 'track/err_le_100', 'track/err_avg',
                 'track_dense/delta_avg'),
}


def _cell(value) -> str:
    return f'{value:.1f}' if isinstance(value, (int, float)) else 'TBD'


def doc_row(name: str, entry: dict) -> str:
    """One docs/model_zoo.md table row of a manifest entry.

    An entry with a ``decision`` (the config users test it with, e.g. a detector chain
    stage tested with ``configs/bleedorigin/detect.py``'s mirror view and refiner) shows
    that decision's figures, its own config's in brackets, and both test commands."""
    config, file = entry['config'], entry['file']
    table = 'tracking' if 'track' in osp.basename(config) else 'detection'
    metrics = entry.get('metrics', {})
    decision = entry.get('decision')
    cells = [f'[{osp.basename(config)}](../{config})', f'[{osp.basename(file)}](../{file})',
             entry.get('training_time') or 'TBD']
    for key in DOC_COLUMNS[table]:
        if decision:
            cells.append(f'{_cell(decision["metrics"].get(key))} ({_cell(metrics.get(key))})')
        else:
            cells.append(_cell(metrics.get(key)))
    cells.append(f'[scalars](../{entry["log"]})' if entry.get('log') else '–')
    test = entry.get('test_command') or f'python tools/test.py {config} {file}'
    if decision:
        cells.append(f'`{decision["test_command"]}` (in brackets: `{test}`)')
    else:
        cells.append(f'`{test}`')
    return f'{table}: | ' + ' | '.join(cells) + ' |'


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.command == 'find':
        print(find_checkpoint(args.work_dir))
        return 0
    models = load_manifest(args.zoo)
    if args.command == 'list':
        if not models:
            print(f'{manifest_path(args.zoo)}: no shipped checkpoints yet')
        for name, entry in models.items():
            print(f'{name}: {entry["file"]} ({entry.get("size", 0) / 1e6:.2f} MB) config '
                  f'{entry.get("config")} sha256 {entry.get("sha256")}')
        return 0
    if args.command == 'table':
        for name, entry in models.items():
            print(doc_row(name, entry))
        return 0
    if args.command == 'verify':
        failed = 0
        for name in models:
            try:
                checkpoint = load_zoo_checkpoint(name, args.zoo)
                print(f'ok {name}: {len(checkpoint["state_dict"])} tensors, sha256 matches, '
                      'loads with weights_only=True')
            except (ModelZooError, ValueError, KeyError) as err:
                failed += 1
                print(f'FAILED {name}: {err}')
        print(f'{len(models) - failed}/{len(models)} shipped checkpoints verified')
        return 1 if failed else 0
    results = {}
    for item in args.results:
        name, sep, path = item.partition('=')
        if not sep:
            raise ValueError(f'{item}: expected NAME=METRICS_JSON')
        with open(path) as f:
            results[name] = json.load(f)
    print(compare_table(results, models))
    return 0


if __name__ == '__main__':
    from bleedorigin.utils.cli import run_cli

    sys.exit(run_cli(main))
