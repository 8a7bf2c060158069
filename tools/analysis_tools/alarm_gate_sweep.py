"""The alarm gate's trade-off: onset accuracy, misses, latency and false alarms per hour
for every gate K (``onset_confirm``: consecutive confident windows before an alarm).

Every clip is streamed once through the detector (``StreamDetector``, the deployment
path) and its per-frame window trace (``theta``, ``confidence``) is kept; each gate is
then decoded from the trace with the detector's own rule
(``bleedorigin.apis.onset_alarms.replay_alarms``: ``update_window_onset`` and
``WindowRun``). On positive clips this is exactly what a stream with that gate
announces; on long negative streams a dismissed alarm resets the window count but not the
clean-view memory (see ``replay_alarms``), which at K = 1 reproduced
``onset_alarm_eval.py`` alarm for alarm on the shipped detector (docs/detect.md).

The traces are cached in ``--out-dir/trace.json`` after every clip: an interrupted run
resumes where it stopped.

Example:
    python tools/analysis_tools/alarm_gate_sweep.py configs/bleedorigin/detect.py \\
        checkpoints/detect.pth --positive data/synthetic:test \\
        --positive data/instrument_onsets:test --negative data/negative_streams_long \\
        --out-dir work_dirs/alarm_gate
"""
import argparse
import os
import os.path as osp
import sys
import time

from mmengine.config import DictAction

from bleedorigin.evaluation.tables import format_figure as fmt


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Alarm gate K: accuracy against alarms/hour')
    parser.add_argument('config', help='detector config')
    parser.add_argument('checkpoint', help='detector checkpoint')
    parser.add_argument('--positive', action='append', default=[],
                        help='ROOT:SPLIT of clips scored as Table 3 (repeatable)')
    parser.add_argument('--negative', action='append', default=[],
                        help='bench root of long negative streams, all splits (repeatable)')
    parser.add_argument('--gates', type=int, nargs='+', default=[1, 2, 3, 4, 5, 6, 8])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--chunk', type=int, default=32, help='frames decoded at a time')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.onset_views="()" for eq. 2 '
                             'on the video alone (no flip view)')
    return parser.parse_args(argv)


def gate_figures(traces: dict, name: str, window: int, conf_thr: float, gate: int,
                 blind: int) -> dict:
    """Table 3 and latency (positive sets) or alarms per hour (negative streams)."""
    from bleedorigin.apis.onset_alarms import replay_alarms, replay_figures

    items = [v for k, v in traces.items() if k.split('|')[0] == name]
    return replay_figures(
        items, lambda v, rearm: replay_alarms(v['theta'], v['conf'], window, conf_thr, gate,
                                              rearm, blind), name.startswith('negative:'))


def main(argv=None):
    args = parse_args(argv)
    from bleedorigin.apis.onset_alarms import sweep_sets
    try:
        sets = sweep_sets(args.positive, args.negative)
    except ValueError as error:
        sys.exit(str(error))
    if min(args.gates) < 1:
        sys.exit(f'--gates must be >= 1, got {args.gates}')
    if not osp.isfile(args.config):
        sys.exit(f'{args.config}: config file not found')
    import torch

    from bleedorigin.apis import StreamDetector, build_stream_model
    from bleedorigin.apis.onset_alarms import collect_traces
    from bleedorigin.utils.io import write_json_atomic

    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    model = build_stream_model(args.config, args.checkpoint, 'detector',
                               cfg_options=args.cfg_options)
    window, conf_thr = model.window_size, model.conf_thr
    blind = (model.warmup_min_frames - 1) if model.warmup_windows else window - 1
    start = time.time()
    traces = collect_traces(StreamDetector(model), sets, args.chunk,
                            osp.join(args.out_dir, 'trace.json'), not args.no_progress,
                            dict(config=args.config, checkpoint=args.checkpoint,
                                 cfg_options=args.cfg_options))
    result = dict(config=args.config, cfg_options=args.cfg_options,
                  onset_views=list(model.onset_views), checkpoint=args.checkpoint,
                  conf_thr=conf_thr,
                  configured_gate=model.onset_confirm, seconds=time.time() - start, gates={})
    for gate in args.gates:
        result['gates'][gate] = {name: gate_figures(traces, name, window, conf_thr, gate, blind)
                                 for name, _, _ in sets}
    lines = []
    for name, _, _ in sets:
        lines += ['', f'**{name}** (configured gate: K = {model.onset_confirm}; flip views: '
                  f'{", ".join(model.onset_views) or "none"})', '']
        if name.startswith('negative:'):
            lines += ['| K | alarms | minutes | false alarms / hour |', '|---:|---:|---:|---:|']
            for gate in args.gates:
                r = result['gates'][gate][name]
                lines.append(f"| {gate} | {r['alarms']} | {r['minutes']:.1f} | "
                             f"{r['per_hour']:.1f} |")
        else:
            lines += ['| K | Acc±0 | Acc±1 | Acc±8 | Err_avg | miss % | false alarm % | '
                      'latency median | latency P90 |', '|---:' * 9 + '|']
            for gate in args.gates:
                r = result['gates'][gate][name]
                lines.append(
                    f"| {gate} | {fmt(r['acc_0'], 2)} | {fmt(r['acc_1'], 2)} | "
                    f"{fmt(r['acc_8'], 2)} | {fmt(r['err_avg'], 2)} | {fmt(r['miss_rate'], 2)} | "
                    f"{fmt(r['false_alarm_rate'], 2)} | {fmt(r['latency_median'])} | "
                    f"{fmt(r['latency_p90'])} |")
    print('\n'.join(lines))
    path = osp.join(args.out_dir, 'alarm_gate.json')
    write_json_atomic(path, result)
    plot(result, sets, args.gates, osp.join(args.out_dir, 'alarm_gate.png'))
    print(f'written to {path} and alarm_gate.png')
    return result


def plot(result, sets, gates, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 5.0))
    for name, _, _ in sets:
        if name.startswith('positive:'):
            ax.plot(gates, [result['gates'][g][name]['acc_8'] for g in gates], 'o-',
                    label=f"Acc±8 (%), {name.split(':', 1)[1]}")
    ax.set_xlabel('alarm gate K (consecutive confident windows)')
    ax.set_ylabel('Acc±8 (%)')
    twin = ax.twinx()
    negatives = [name for name, _, _ in sets if name.startswith('negative:')]
    for name, color in zip(negatives, ('tab:red', 'tab:purple', 'tab:brown', 'tab:gray')):
        twin.plot(gates, [result['gates'][g][name]['per_hour'] for g in gates], 's--',
                  color=color, label=f"false alarms / h, {name.split(':', 1)[1]}")
    twin.set_ylabel('false alarms per hour')
    handles = ax.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    fig.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=7, loc='lower center',
               ncol=2)
    ax.set_title('Alarm gate: onset accuracy against false alarms')
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == '__main__':
    main()
