"""Pick each YOLO baseline's threshold and alarm gate on one split, report them on another.

Tables 5 and 5b print YOLO's onset at every confidence threshold and gate K; the best
cell of the *test* table is an oracle (the setting is chosen on the clips it is scored
on). This tool makes the fair comparison: per model, the setting with the best
``--criterion`` on the selection split (validation), ties broken by fewer false-alarm
clips, then by higher Acc±0, then by the smaller K and the higher threshold; its row on
the report split (test) is printed beside the oracle's.

Example (from the repository root)::

    python projects/yolo_baselines/tools/test_yolo.py checkpoints/yolo11n.pth \\
        checkpoints/yolo12n.pth --split val --out work_dirs/yolo_val.json
    python projects/yolo_baselines/tools/select_yolo_setting.py work_dirs/yolo_val.json \\
        work_dirs/benchmark/results.json --criterion acc_8

Both files hold flat metrics (``test_yolo.py --out``, ``tools/benchmark.py``'s
``results.json``): ``yolo_onset/<method>/c<thr>_<metric>`` (K = 1) and
``yolo_gate/<method>@k<K>/c<thr>_<metric>``.
"""
import argparse
import json
import re
from typing import Dict, Tuple

KEY = re.compile(r'^yolo_(onset|gate)/([^/@]+)(?:@k(\d+))?/c([0-9.eE+-]+)_(\w+)$')
COLUMNS = ('acc_0', 'acc_1', 'acc_8', 'miss_rate', 'false_alarm_rate')


def read_metrics(path: str) -> Dict[str, float]:
    try:
        with open(path) as f:
            metrics = json.load(f)
    except (OSError, ValueError) as err:
        raise SystemExit(f'{path}: cannot read metrics JSON ({err})') from None
    if not isinstance(metrics, dict):
        raise SystemExit(f'{path}: expected a JSON object of flat metrics')
    return metrics


def settings(metrics: Dict[str, float]) -> Dict[str, Dict[Tuple[int, float], Dict[str, float]]]:
    """method -> (K, threshold) -> {metric: value} from flat Table 5 / 5b keys."""
    out: Dict[str, Dict[Tuple[int, float], Dict[str, float]]] = {}
    for key, value in metrics.items():
        match = KEY.match(key)
        if match:
            _, method, run, threshold, name = match.groups()
            cell = out.setdefault(method, {}).setdefault((int(run or 1), float(threshold)), {})
            cell[name] = value
    return out


def rank(cell: Dict[str, float], criterion: str, setting: Tuple[int, float]) -> tuple:
    lower_is_better = criterion in ('miss_rate', 'false_alarm_rate', 'err_avg')
    value = cell.get(criterion, float('nan'))
    value = -value if lower_is_better else value
    return (value, -cell.get('false_alarm_rate', 100.0), cell.get('acc_0', 0.0),
            -setting[0], setting[1])


def select(select_metrics: Dict[str, float], report_metrics: Dict[str, float],
           criterion: str = 'acc_8') -> Dict[str, dict]:
    """Per method: the setting chosen on ``select_metrics``, its cells on both splits,
    and the report split's own best setting (the oracle)."""
    chosen, report = settings(select_metrics), settings(report_metrics)
    result = {}
    for method, cells in sorted(chosen.items()):
        valid = {s: c for s, c in cells.items() if criterion in c}
        if not valid or method not in report:
            continue
        best = max(valid, key=lambda s: rank(valid[s], criterion, s))
        if best not in report[method]:
            raise SystemExit(f'{method}: setting K={best[0]}, threshold {best[1]:g} chosen on '
                             'the selection split is missing from the report split')
        oracle_cells = {s: c for s, c in report[method].items() if criterion in c}
        oracle = max(oracle_cells, key=lambda s: rank(oracle_cells[s], criterion, s))
        result[method] = dict(setting=best, select=valid[best], report=report[method][best],
                              oracle_setting=oracle, oracle=oracle_cells[oracle])
    return result


def render(result: Dict[str, dict], criterion: str) -> str:
    def cells(row):
        return ' | '.join('n/a' if row.get(c) is None else f'{row[c]:.2f}' for c in COLUMNS)

    lines = [f'Selected on the selection split by {criterion} (ties: fewer false alarms, '
             'higher Acc±0, smaller K, higher threshold)', '',
             '| method | setting | split | Acc±0 | Acc±1 | Acc±8 | miss % | false alarm % |',
             '|---|---|---|---:|---:|---:|---:|---:|']
    for method, r in result.items():
        (k, thr), (ok, othr) = r['setting'], r['oracle_setting']
        lines.append(f'| {method} | {thr:g}, K = {k} | selection | {cells(r["select"])} |')
        lines.append(f'| {method} | {thr:g}, K = {k} | report | {cells(r["report"])} |')
        lines.append(f'| {method} (oracle) | {othr:g}, K = {ok} | report | '
                     f'{cells(r["oracle"])} |')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('select', help='flat metrics of the selection split (validation)')
    parser.add_argument('report', help='flat metrics of the report split (test)')
    parser.add_argument('--criterion', default='acc_8',
                        help='metric the setting maximises (acc_0, acc_1, acc_8; '
                             'miss_rate / false_alarm_rate are minimised)')
    parser.add_argument('--out', help='write the selection as JSON')
    args = parser.parse_args(argv)
    result = select(read_metrics(args.select), read_metrics(args.report), args.criterion)
    if not result:
        raise SystemExit(f'{args.select}: no YOLO onset metric with {args.criterion!r} '
                         '(expected yolo_onset/... or yolo_gate/... keys)')
    print(render(result, args.criterion))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump({m: dict(r, setting=list(r['setting']),
                               oracle_setting=list(r['oracle_setting']))
                       for m, r in result.items()}, f, indent=1)
    return result


if __name__ == '__main__':
    main()
