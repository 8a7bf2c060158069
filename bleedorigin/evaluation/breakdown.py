"""Per-scenario and per-site breakdown of the benchmark: rows, markdown table, chart."""
from collections import OrderedDict
from typing import Dict, List, Optional

import numpy as np

from bleedorigin.constants import ONSET_TOLERANCES

from .bench_scoring import source_metrics, track_metrics
from .functional import onset_accuracy

# Main metric of each task in the breakdown (mid tolerance / threshold of the paper's tables).
BREAKDOWN_METRICS = (('onset', 'acc_4', 'onset ±≤4 (%)'), ('source', 'err_le_50',
                                                            'source ≤50px (%)'),
                     ('track', 'err_le_50', 'track ≤50px (%)'))


def group_indices(clips: list) -> Dict[str, List[int]]:
    """Clip indices per scenario and per site (a clip can have several scenarios)."""
    groups: Dict[str, List[int]] = OrderedDict()
    for key in ('scenarios', 'site'):
        for i, clip in enumerate(clips):
            values = clip.scenarios if key == 'scenarios' else [clip.site]
            for value in values or []:
                if value:
                    groups.setdefault(f'{"scenario" if key == "scenarios" else "site"}: {value}',
                                      []).append(i)
    return OrderedDict(sorted(groups.items()))


def breakdown_rows(clips: list, source_index: Dict[int, int], track_index: Dict[int, int],
                   onset_preds: Dict[str, list], source_preds: Dict[str, list],
                   track_sparse: Dict[str, dict]) -> Dict[str, Dict[str, float]]:
    """Main metric of each task and method on every scenario/site group."""
    rows: Dict[str, Dict[str, float]] = OrderedDict()
    for group, indices in group_indices(clips).items():
        row = {'clips': float(len(indices))}
        sub = [clips[i] for i in indices]
        for method, preds in onset_preds.items():
            if any(c.onset_frame is not None for c in sub):
                m = onset_accuracy([preds[i] for i in indices], [c.onset_frame for c in sub],
                                   [c.num_frames for c in sub], ONSET_TOLERANCES)
                row[f'onset|{method}'] = m['acc_4']
        src = [source_index[i] for i in indices if i in source_index]
        for method, preds in source_preds.items():
            if src:
                m = source_metrics(None, [preds[j] for j in src],
                                   [clips[i] for i in indices if i in source_index])
                row[f'source|{method}'] = m['source/err_le_50']
        trk = [track_index[i] for i in indices if i in track_index]
        for method, sparse in track_sparse.items():
            m = track_metrics(None, sparse, {}, trk)
            if 'track/err_le_50' in m:
                row[f'track|{method}'] = m['track/err_le_50']
        rows[group] = row
    return rows


def breakdown_table(rows: Dict[str, Dict[str, float]]) -> str:
    keys = []
    for row in rows.values():
        keys += [k for k in row if k != 'clips' and k not in keys]
    labels = {task: label for task, _, label in BREAKDOWN_METRICS}
    columns = [('clips', 'clips', None)] + [
        (k, f"{labels[k.split('|')[0]]} {k.split('|')[1]}", True) for k in keys]
    lines = ['**Per-scenario and per-site breakdown (main metric of each task)**', '',
             '| Group | ' + ' | '.join(c[1] for c in columns) + ' |',
             '|---|' + '---:|' * len(columns)]
    for group, row in rows.items():
        cells = []
        for key, _, _ in columns:
            value = row.get(key)
            cells.append('–' if value is None else
                         (f'{int(value)}' if key == 'clips' else f'{value:.1f}'))
        lines.append(f'| {group} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def breakdown_chart(rows: Dict[str, Dict[str, float]], path: str) -> Optional[str]:
    """Grouped bar chart: one panel per task, one bar per method and group."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if not rows:
        return None
    groups = list(rows)
    fig, axes = plt.subplots(len(BREAKDOWN_METRICS), 1,
                             figsize=(max(8, 0.6 * len(groups) + 2), 3.2 * len(BREAKDOWN_METRICS)),
                             squeeze=False)
    for ax, (task, _, label) in zip(axes[:, 0], BREAKDOWN_METRICS):
        keys = sorted({k for row in rows.values() for k in row if k.startswith(task + '|')})
        width = 0.8 / max(len(keys), 1)
        for j, key in enumerate(keys):
            values = [rows[g].get(key, np.nan) for g in groups]
            ax.bar(np.arange(len(groups)) + (j - (len(keys) - 1) / 2) * width, values, width,
                   label=key.split('|')[1])
        ax.set_ylabel(label)
        ax.set_ylim(0, 100)
        ax.set_xticks(np.arange(len(groups)))
        ax.set_xticklabels(groups, rotation=35, ha='right', fontsize=8)
        if keys:
            ax.legend(fontsize=7, loc='upper right')
        else:
            ax.text(0.5, 0.5, 'not evaluated', transform=ax.transAxes, ha='center')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
