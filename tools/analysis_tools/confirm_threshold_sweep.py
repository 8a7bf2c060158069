"""The refiner's confirmation against its candidate threshold: onset accuracy, misses,
false-alarm clips and false alarms per hour at every ``onset_candidate_thr``, for one or
more checkpoints, with eq. 2 raising the alarm (``configs/bleedorigin/detect_eq2_alarm.py``)
beside them (issue 11, twenty-eighth step: how the default threshold was chosen).

Every clip is streamed once through each checkpoint (``StreamDetector``) and its window
trace kept (``bleedorigin.apis.onset_alarms.collect_traces``); every threshold is then
replayed from the trace with the detector's own ``RefineCascade``
(``replay_confirmed_alarms``), asking the refiner about each window once (its answers are
cached beside the trace). On a clip this is exactly what ``tools/test.py`` and the stream
report; on long negative streams a dismissed alarm keeps the undismissed stream's memory
(the approximation of ``alarm_gate_sweep.py``).

The summary counts errors as the choice was made: missed onsets + onsets outside ±8 +
negative clips with an alarm + alarms on the negative streams, summed over the sets and
checkpoints; more exact onsets break a tie. Choose on validation and held-out renders,
never on the test split.

Traces and answers are cached in ``--out-dir/NAME/``: an interrupted run resumes.

Example:
    python tools/analysis_tools/confirm_threshold_sweep.py configs/bleedorigin/detect.py \\
        ship=checkpoints/detect.pth --positive data/synthetic:val \\
        --positive data/instrument_onsets:val --negative data/negative_streams_val_s11 \\
        --out-dir work_dirs/confirm_sweep
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
import time

from mmengine.config import DictAction

from bleedorigin.evaluation.tables import format_figure as fmt

EQ2 = 'eq. 2 alarm'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="The refiner's confirmation: accuracy and alarms per candidate threshold")
    parser.add_argument('config', help='detector config (with an onset refiner)')
    parser.add_argument('checkpoints', nargs='+',
                        help='detector checkpoints, each CKPT or NAME=CKPT')
    parser.add_argument('--positive', action='append', default=[],
                        help='ROOT:SPLIT of clips scored as Table 3 (repeatable)')
    parser.add_argument('--negative', action='append', default=[],
                        help='bench root of long negative streams, all splits (repeatable)')
    parser.add_argument('--thresholds', type=float, nargs='+',
                        default=[0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--chunk', type=int, default=32, help='frames decoded at a time')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys of every checkpoint')
    return parser.parse_args(argv)


def named_checkpoints(specs):
    """``[(name, path)]`` from ``CKPT`` or ``NAME=CKPT`` (a bare path is named by its
    file); names must be distinct (each gets its own cache folder)."""
    out = []
    for spec in specs:
        name, sep, path = spec.partition('=')
        if not sep:
            name, path = osp.splitext(osp.basename(spec))[0], spec
        if not re.fullmatch(r'[\w.-]+', name or ''):
            sys.exit(f'{spec!r}: a checkpoint name must be letters, digits, ".", "_" or "-"')
        if not osp.isfile(path):
            sys.exit(f'{path}: checkpoint file not found')
        out.append((name, path))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        sys.exit(f'checkpoint names must differ, got {names}')
    return out


class RefinerAnswers:
    """The refiner's answer per window centre of each clip, asked once and cached in
    ``path`` (with the signature of the detector that gave them)."""

    def __init__(self, model, path, signature):
        from bleedorigin.apis.onset_alarms import SIGNATURE_KEY

        self.model, self.path = model, path
        self.signature = json.loads(json.dumps(signature))
        self.answers = {}
        if osp.isfile(path):
            with open(path) as f:
                cached = json.load(f)
            if cached.get(SIGNATURE_KEY) == self.signature:
                self.answers = cached['answers']
        self.asked = 0

    def ask_for(self, key, clip):
        """``ask(centre)`` for ``clip`` (its frames read only when a window is not cached)."""
        cache = self.answers.setdefault(key, {})
        reader = self.model.clip_refine_reader(clip)  # decodes only when called

        def ask(centre):
            if str(centre) not in cache:
                cache[str(centre)] = self.model.refine_window(int(centre), reader)
                self.asked += 1
            return cache[str(centre)]
        return ask

    def save(self):
        from bleedorigin.apis.onset_alarms import SIGNATURE_KEY
        from bleedorigin.utils.io import write_json_atomic

        write_json_atomic(self.path, {SIGNATURE_KEY: self.signature, 'answers': self.answers},
                          indent=None)


def eq2_alarms(model, trace, ask, rearm, blind):
    """Eq. 2 raises the alarm (gate 1 at ``conf_thr``); on a clip the refiner then moves the
    onset it settles on (``refine_search``'s windows in order, the first that names a frame)."""
    from bleedorigin.apis.onset_alarms import replay_alarms
    from bleedorigin.models.utils.onset_refine import refine_ready

    out = replay_alarms(trace['theta'], trace['conf'], model.window_size, model.conf_thr, 1,
                        rearm, blind)
    if not rearm and out['onsets']:
        last = len(trace['conf']) - 1
        onset = min(out['onsets'][0], last)
        if refine_ready(onset, model.onset_refiner.radius, last):
            onset = model.refine_search(onset, None, last, ask=ask)[0]
        out['onsets'] = [onset]
    return out


def rule_figures(model, items, rule, negative, blind):
    """Table 3 and latency (positive sets) or alarms per hour (negative streams) of one rule
    (``EQ2`` or a candidate threshold) over ``items`` (``[(trace, ask)]``)."""
    from bleedorigin.apis.onset_alarms import replay_confirmed_alarms, replay_figures

    asks = {id(trace): ask for trace, ask in items}

    def alarms(trace, rearm):
        ask = asks[id(trace)]
        if rule == EQ2:
            return eq2_alarms(model, trace, ask, rearm, blind)
        return replay_confirmed_alarms(trace['theta'], trace['conf'], model.window_size,
                                       float(rule), model.make_refine_cascade, ask, rearm,
                                       blind)

    return replay_figures([trace for trace, _ in items], alarms, negative)


def sweep_checkpoint(args, name, checkpoint, sets, rules, progress):
    """Trace, ask and replay one checkpoint: ``{rule: {set: figures}}``."""
    from tqdm import tqdm

    from bleedorigin.apis import StreamDetector, build_stream_model
    from bleedorigin.apis.onset_alarms import clip_sets, collect_traces

    model = build_stream_model(args.config, checkpoint, 'detector',
                               cfg_options=args.cfg_options)
    if getattr(model, 'onset_refiner', None) is None:
        sys.exit(f'{args.config}: the detector has no onset refiner (model.onset_refiner); '
                 'the confirmation needs one')
    if getattr(model, 'colour_anchor', None):
        sys.exit(f'{args.config}: a colour-anchored detector is not supported here (the '
                 "refiner's frames would need the anchor's turn)")
    out_dir = osp.join(args.out_dir, name)
    os.makedirs(out_dir, exist_ok=True)
    signature = dict(config=args.config, checkpoint=checkpoint, cfg_options=args.cfg_options)
    traces = collect_traces(StreamDetector(model), sets, args.chunk,
                            osp.join(out_dir, 'trace.json'), progress, signature)
    answers = RefinerAnswers(model, osp.join(out_dir, 'answers.json'), signature)
    blind = (model.warmup_min_frames - 1) if model.warmup_windows else model.window_size - 1
    clips = dict(clip_sets(sets))
    asks = {key: answers.ask_for(key, clips[key]) for key in traces}
    figures = {}
    for rule in tqdm(rules, desc=f'replaying {name}', unit='rule', disable=not progress):
        figures[rule] = {}
        for set_name, _, _ in sets:
            items = [(v, asks[k]) for k, v in traces.items() if k.split('|')[0] == set_name]
            figures[rule][set_name] = rule_figures(model, items, rule,
                                                   set_name.startswith('negative:'), blind)
        answers.save()
    return dict(checkpoint=checkpoint, window=model.window_size, conf_thr=model.conf_thr,
                configured_candidate_thr=model.onset_candidate_thr,
                refiner_windows_asked=answers.asked, rules=figures)


def rule_label(rule):
    return EQ2 if rule == EQ2 else f'confirmed, candidates > {rule:g}'


def summary(result, rules):
    """Per rule: errors per checkpoint, total errors and total exact onsets."""
    rows = []
    for rule in rules:
        per = {}
        exact = 0
        for name, r in result['checkpoints'].items():
            sets = r['rules'][rule].values()
            per[name] = sum(s['errors'] for s in sets)
            exact += sum(s.get('exact', 0) for s in sets)
        rows.append(dict(rule=rule, errors=per, total=sum(per.values()), exact=exact))
    return rows


def main(argv=None):
    args = parse_args(argv)
    from bleedorigin.apis.onset_alarms import sweep_sets
    try:
        sets = sweep_sets(args.positive, args.negative)
    except ValueError as error:
        sys.exit(str(error))
    bad = [t for t in args.thresholds if not 0.0 <= t < 1.0]
    if bad:
        sys.exit(f'--thresholds must lie in [0, 1), got {bad}')
    if not osp.isfile(args.config):
        sys.exit(f'{args.config}: config file not found')
    checkpoints = named_checkpoints(args.checkpoints)
    import torch

    from bleedorigin.utils.io import write_json_atomic

    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    rules = [EQ2] + sorted(set(args.thresholds))
    start = time.time()
    result = dict(config=args.config, cfg_options=args.cfg_options, sets=[s[0] for s in sets],
                  checkpoints={})
    for name, checkpoint in checkpoints:
        result['checkpoints'][name] = sweep_checkpoint(args, name, checkpoint, sets, rules,
                                                       not args.no_progress)
    result['seconds'] = time.time() - start
    result['summary'] = summary(result, rules)
    names = list(result['checkpoints'])
    configured = {r['configured_candidate_thr'] for r in result['checkpoints'].values()}
    lines = ['', '**Errors** (missed onsets + onsets outside ±8 + alarmed negative clips + '
             'stream alarms, over every set; configured candidate threshold: '
             f'{", ".join(f"{c:g}" for c in sorted(configured))})', '',
             '| rule | ' + ' | '.join(names) + ' | total | exact onsets |',
             '|---' + '|---:' * (len(names) + 2) + '|']
    for row in result['summary']:
        lines.append(f"| {rule_label(row['rule'])} | "
                     + ' | '.join(str(row['errors'][n]) for n in names)
                     + f" | **{row['total']}** | {row['exact']} |")
    for name in names:
        for set_name, _, _ in sets:
            lines += ['', f'**{name}, {set_name}**', '']
            if set_name.startswith('negative:'):
                lines += ['| rule | alarms | minutes | false alarms / hour |',
                          '|---|---:|---:|---:|']
                for rule in rules:
                    r = result['checkpoints'][name]['rules'][rule][set_name]
                    lines.append(f"| {rule_label(rule)} | {r['alarms']} | {r['minutes']:.1f} | "
                                 f"{r['per_hour']:.1f} |")
            else:
                lines += ['| rule | Acc±0 | Acc±1 | Acc±8 | miss | outside ±8 | alarmed '
                          'negatives | latency median | latency P90 |', '|---' + '|---:' * 8
                          + '|']
                for rule in rules:
                    r = result['checkpoints'][name]['rules'][rule][set_name]
                    lines.append(
                        f"| {rule_label(rule)} | {fmt(r['acc_0'], 2)} | {fmt(r['acc_1'], 2)} | "
                        f"{fmt(r['acc_8'], 2)} | {r['missed']} | {r['outside_8']} | "
                        f"{r['alarmed_negatives']} | {fmt(r['latency_median'])} | "
                        f"{fmt(r['latency_p90'])} |")
    print('\n'.join(lines))
    path = osp.join(args.out_dir, 'confirm_sweep.json')
    write_json_atomic(path, result)
    plot(result, rules, osp.join(args.out_dir, 'confirm_sweep.png'))
    print(f'written to {path} and confirm_sweep.png')
    return result


def plot(result, rules, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    thresholds = [r for r in rules if r != EQ2]
    rows = {row['rule']: row for row in result['summary']}
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    for name in result['checkpoints']:
        line, = ax.plot(thresholds, [rows[t]['errors'][name] for t in thresholds], 'o-',
                        label=name)
        ax.axhline(rows[EQ2]['errors'][name], color=line.get_color(), ls=':', lw=1,
                   label=f'{name}: eq. 2 raises the alarm')
    if len(result['checkpoints']) > 1:
        line, = ax.plot(thresholds, [rows[t]['total'] for t in thresholds], 's-', color='k',
                        label='total')
        ax.axhline(rows[EQ2]['total'], color='k', ls=':', lw=1,
                   label='total: eq. 2 raises the alarm')
    ax.set_xlabel('candidate threshold (S_conf above which a window proposes its onset)')
    ax.set_ylabel('errors (missed + outside ±8 + false alarms)')
    ax.set_title("The refiner's confirmation against its candidate threshold")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == '__main__':
    main()
