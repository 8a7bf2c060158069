"""Markdown tables in the paper's shape from flat metric dictionaries.

Metric keys follow one convention everywhere (``tools/test.py``,
``tools/benchmark.py``, the YOLO project):

- ``<task>/<metric>``: our model, e.g. ``onset/acc_0``;
- ``<task>/<method>/<metric>``: a baseline or a prior evaluated in the same
  run, e.g. ``onset/prior_median/acc_0`` or ``track/lucas_kanade/err_le_10``.

Tasks map to paper tables: ``onset`` (Table 3), ``source`` (Table 4),
``track`` (Table 7, sparse annotations) and ``track_dense`` (every frame).
"""
import math
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

Column = Tuple[str, str, Optional[bool]]  # (metric key, header, higher is better; None: never bold)

POINT_COLUMNS: List[Column] = [
    ('err_le_10', '≤10px', True),
    ('err_le_25', '≤25px', True),
    ('err_le_50', '≤50px', True),
    ('err_le_75', '≤75px', True),
    ('err_le_100', '≤100px', True),
    ('err_avg', 'Err_avg (px) ↓', False),
]

DENSE_COLUMNS: List[Column] = POINT_COLUMNS + [('delta_avg', 'δ_avg (TAP-Vid)', True)]

TASK_TABLES: Dict[str, Tuple[str, List[Column]]] = OrderedDict(
    onset=('Table 3: initial bleeding frame detection (frame-level accuracy, %)', [
        ('acc_0', '±≤0', True),
        ('acc_1', '±≤1', True),
        ('acc_2', '±≤2', True),
        ('acc_4', '±≤4', True),
        ('acc_8', '±≤8', True),
        ('err_avg', 'Err_avg^ibf (frames) ↓', False),
        ('bias', 'bias (frames)', None),
        ('miss_rate', 'miss % ↓', False),
        ('false_alarm_rate', 'false alarm % ↓', False),
    ]),
    source=('Table 4: initial bleeding source detection (pixel-level accuracy, %)', POINT_COLUMNS),
    track=('Table 7: bleeding source tracking, sparse annotations (%)', POINT_COLUMNS),
    track_dense=('Table 7 (dense): bleeding source tracking on every frame (%)', DENSE_COLUMNS),
)

OUR_METHOD = 'BleedOrigin (ours)'


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def format_figure(value, digits: int = 1) -> str:
    """A figure of a printed table with ``digits`` decimals, or ``n/a`` when there is none
    (None or NaN: e.g. no positive clip, so no accuracy and no latency)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 'n/a'
    return f'{value:.{digits}f}'


def _format_value(value) -> str:
    if value is None:
        return '–'
    if isinstance(value, float) and math.isnan(value):
        return 'n/a'  # e.g. a false-alarm rate without negative clips
    if isinstance(value, float):
        return f'{value:.2f}'
    return str(value)


def render_table(title: str, rows: Mapping[str, Mapping[str, float]],
                 columns: Sequence[Column]) -> str:
    """Render one Markdown table, best value of each column in bold.

    Args:
        title (str): Caption printed above the table.
        rows (Mapping[str, Mapping[str, float]]): Method name -> metric -> value.
        columns (Sequence[tuple]): ``(key, header, higher_is_better)``; a
            ``None`` direction (e.g. signed bias) is never bolded.

    Returns:
        str: The caption, a blank line and the table.
    """
    lines = [f'**{title}**', '', '| Method | ' + ' | '.join(c[1] for c in columns) + ' |',
             '|---|' + '---:|' * len(columns)]
    best = {}
    for key, _, higher in columns:
        values = [r[key] for r in rows.values() if _is_number(r.get(key))]
        if values and higher is not None:
            best[key] = max(values) if higher else min(values)
    for method, metrics in rows.items():
        cells = []
        for key, _, _ in columns:
            text = _format_value(metrics.get(key))
            if key in best and metrics.get(key) == best[key]:
                text = f'**{text}**'
            cells.append(text)
        lines.append(f'| {method} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def group_metric_rows(metrics: Mapping[str, float]) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Group flat ``task/[method/]metric`` keys into task -> method -> metrics."""
    grouped: Dict[str, Dict[str, Dict[str, float]]] = OrderedDict()
    for key, value in metrics.items():
        parts = key.split('/')
        if len(parts) == 2:
            task, method, name = parts[0], OUR_METHOD, parts[1]
        elif len(parts) == 3:
            task, method, name = parts
        else:
            continue
        grouped.setdefault(task, OrderedDict()).setdefault(method, {})[name] = value
    for rows in grouped.values():  # our model first, then baselines as they came
        if OUR_METHOD in rows:
            rows.move_to_end(OUR_METHOD, last=False)
    return grouped


BREAKDOWN_PREFIX = 'track_by_scenario'


def render_breakdown(metrics: Mapping[str, float], prefix: str = BREAKDOWN_PREFIX,
                     columns: Sequence[str] = ('err_le_10', 'err_le_100', 'err_avg')) -> str:
    """Per-scenario table from ``<prefix>/<scenario>/<method>/<metric>`` keys.

    One row per scenario, one column group per method (ours first).
    """
    cells: Dict[str, Dict[str, Dict[str, float]]] = OrderedDict()
    methods: List[str] = []
    for key, value in metrics.items():
        parts = key.split('/')
        if len(parts) != 4 or parts[0] != prefix:
            continue
        _, scenario, method, name = parts
        if method not in methods:
            methods.append(method)
        cells.setdefault(scenario, OrderedDict()).setdefault(method, {})[name] = value
    if not cells:
        return ''
    if 'ours' in methods:
        methods.remove('ours')
        methods.insert(0, 'ours')
    short = {'err_le_10': '≤10', 'err_le_100': '≤100', 'err_avg': 'avg'}
    header = ' | '.join(f'{m} {short.get(c, c)}' for m in methods for c in columns)
    lines = ['**Table 7 by scenario (sparse; Err≤d %, Err_avg px)**', '',
             f'| scenario | clips | {header} |',
             '|---|---:|' + '---:|' * (len(methods) * len(columns))]
    for scenario, by_method in cells.items():
        clips = next(iter(by_method.values())).get('num_clips')
        row = [_format_value(by_method.get(m, {}).get(c)) for m in methods for c in columns]
        if _is_number(clips) and float(clips).is_integer():
            clips = int(clips)  # a count, also when a metrics file stored it as a float
        lines.append(f'| {scenario} | {_format_value(clips)} | ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n'


def render_metric_tables(metrics: Mapping[str, float]) -> str:
    """All paper-shaped tables that the given flat metrics fill, as Markdown."""
    grouped = group_metric_rows(metrics)
    blocks = []
    for task, (title, columns) in TASK_TABLES.items():
        if task in grouped:
            blocks.append(render_table(title, grouped[task], columns))
    breakdown = render_breakdown(metrics)
    if breakdown:
        blocks.append(breakdown)
    return '\n'.join(blocks)
