"""Full-clip evaluation of BleedOrigin-Net (paper sections 6.2 and 6.3 analogue).

1. Deployment mode on every clip of the split: predicted onset -> located
   source -> tracking. Alert latency (frames from the true onset to the alert)
   median and 90th percentile, misses, early alerts, false alarms on negative
   clips, and, on clips with dense ground truth, the per-frame tracking error:
   every frame with a visible source from the true onset (a frame without a
   prediction is a miss, the package's one rule) and, apart, the frames from the
   alert on (``track_after_alert``).
2. Refresh-policy comparison (Figure 13) on the longest clips with dense
   ground truth: evaluation mode (tracking starts from the true onset and
   point), one ``StreamTracker`` per policy run by ``run_trackers_on_clip``
   (``bleedorigin.apis.track_refresh_policies``), frame-wise error aligned at
   the onset.

Writes ``full_clip_eval.json``, ``refresh_policies.png`` (mean error vs frames
after onset per policy) and ``deployment_<clip>.png`` per long clip, and prints
the tables.

Example:
    python tools/analysis_tools/full_clip_eval.py --data-root data/synthetic --split test \
        --detect work_dirs/detect/best.pth --track work_dirs/track/best.pth \
        --out-dir work_dirs/pipe/full_clip_eval
"""
import argparse
import json
import os
import os.path as osp
import time

import numpy as np
import torch

POLICIES = ('none', 'fixed30', 'fixed60', 'fixed90', 'adaptive')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Full-clip evaluation of the pipeline')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--split', default='test')
    parser.add_argument('--detect', help='detector checkpoint')
    parser.add_argument('--track', help='tracker checkpoint')
    parser.add_argument('--detect-config', default='configs/bleedorigin/detect.py')
    parser.add_argument('--track-config', default='configs/bleedorigin/track.py')
    parser.add_argument('--out-dir', default='work_dirs/pipe/full_clip_eval')
    parser.add_argument('--policies', nargs='+', default=list(POLICIES),
                        help='refresh policies to compare (none, fixed<N>, adaptive)')
    parser.add_argument('--deploy-policy', default='fixed60',
                        help='refresh policy of the deployment-mode runs')
    parser.add_argument('--long-clips', type=int, default=3,
                        help='number of longest dense-GT clips for the policy comparison')
    parser.add_argument('--max-clips', type=int,
                        help='deployment runs on at most this many clips of the split')
    parser.add_argument('--skip-deployment', action='store_true')
    parser.add_argument('--threads', type=int)
    return parser.parse_args(argv)


def clip_source(clip):
    from bleedorigin.apis import VideoSource

    if clip.video == 'frames':
        return VideoSource(osp.join(clip.clip_dir, 'frames'))
    return VideoSource(osp.join(clip.clip_dir, clip.video))


def rounded(values, digits=2):
    return [None if not np.isfinite(v) else round(float(v), digits) for v in values]


def evaluate_deployment(net, clips):
    """Deployment mode on every clip. Tracking errors follow the package's rule: every
    frame with a visible ground-truth source is scored, a frame without a prediction
    (before the alert, or a clip that never alerted) is a miss counted as the frame
    diagonal; ``pooled_after_alert`` keeps the frames from the alert on (the figure
    conditional on an alert, the only one reported before the rule)."""
    from mmengine.utils import ProgressBar

    from bleedorigin.apis import frame_track_errors, stream_clip
    from bleedorigin.evaluation.functional.point_accuracy import frame_diagonal

    records, latencies, onset_errors, false_alarms, negatives = [], [], [], 0, 0
    pooled = dict(errors=[], diagonals=[])
    pooled_after_alert = dict(errors=[], diagonals=[])
    bar = ProgressBar(len(clips))
    for clip in clips:
        outputs = stream_clip(net, clip_source(clip), clip.num_frames)
        summary = outputs['summary']
        record = dict(clip=clip.rel_dir, num_frames=clip.num_frames, onset_gt=clip.onset_frame,
                      detected_onset=summary['detected_onset_frame'],
                      alert_frame=summary['alert_frame'], fps=summary['mean_fps'],
                      dropped=summary['dropped_frames'], model_errors=summary['model_errors'])
        if clip.onset_frame is None:
            negatives += 1
            false_alarms += int(summary['alert_frame'] is not None)
        else:
            alert = summary['alert_frame']
            latencies.append(None if alert is None else alert - clip.onset_frame)
            record['alert_latency'] = latencies[-1]
            if summary['detected_onset_frame'] is not None:
                onset_errors.append(summary['detected_onset_frame'] - clip.onset_frame)
                record['onset_error'] = onset_errors[-1]
            if clip.has_dense_gt:
                dense = clip.dense_tracks()
                errors = frame_track_errors(outputs['points'], dense['points'],
                                            dense['visible'], match='nearest')
                diagonal = frame_diagonal(clip.width, clip.height)
                scored = ~np.isnan(errors)
                after = scored & (np.arange(len(errors)) >= (len(errors) if alert is None
                                                             else alert))
                record['track_errors'] = rounded(errors)  # None: not scored or a miss
                record['track_misses'] = int(np.sum(np.isinf(errors)))
                for frames, into, key in ((scored, pooled, 'track_err_avg'),
                                          (after, pooled_after_alert,
                                           'track_err_avg_after_alert')):
                    values = np.where(np.isinf(errors[frames]), diagonal, errors[frames])
                    record[key] = float(np.mean(values)) if len(values) else None
                    into['errors'].extend(errors[frames].tolist())
                    into['diagonals'].extend([diagonal] * int(frames.sum()))
        records.append(record)
        bar.update()
    print()
    return records, latencies, onset_errors, false_alarms, negatives, pooled, pooled_after_alert


def compare_policies(tracker, clips, policies):
    from mmengine.utils import ProgressBar

    from bleedorigin.apis import track_refresh_policies

    results = {name: dict(curves=[], refreshes=[], fps=[]) for name in policies}
    onsets = []
    bar = ProgressBar(len(clips))
    for clip in clips:
        onsets.append(clip.onset_frame)
        for name, out in track_refresh_policies(tracker, clip, policies).items():
            results[name]['curves'].append(out['errors'])
            results[name]['refreshes'].append(out['refreshes'])
            results[name]['fps'].append(out['fps'])
        bar.update()
    print()
    return results, onsets


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    from bleedorigin.apis import (
        BleedOriginNet,
        align_on_onset,
        build_stream_detector,
        build_stream_tracker,
        latency_statistics,
    )
    from bleedorigin.datasets.bench import BenchIndex
    from bleedorigin.evaluation import render_table
    from bleedorigin.evaluation.functional.point_accuracy import point_accuracy
    from bleedorigin.evaluation.tables import POINT_COLUMNS
    from bleedorigin.visualization import plot_error_curves

    os.makedirs(args.out_dir, exist_ok=True)
    index = BenchIndex(args.data_root, split=args.split)
    clips = list(index.clips)
    if not clips:
        raise ValueError(f'{args.data_root}: split {args.split!r} has no readable clip')
    detector = build_stream_detector(args.detect_config, args.detect)
    tracker = build_stream_tracker(args.track_config, args.track)
    untrained = not (args.detect and args.track)
    report = dict(data_root=args.data_root, split=args.split, detect=args.detect,
                  track=args.track, untrained=untrained, clips=len(clips))
    metrics = {}
    started = time.time()

    if not args.skip_deployment:
        chosen = clips[:args.max_clips] if args.max_clips else clips
        net = BleedOriginNet(detector, tracker, mode='deployment',
                             refresh_policy=args.deploy_policy)
        print(f'deployment mode on {len(chosen)} clips of {args.split}')
        (records, latencies, onset_errors, false_alarms, negatives, pooled,
         pooled_after_alert) = evaluate_deployment(net, chosen)
        tracks = {}
        for name, values in (('deployment', pooled),
                             ('deployment_after_alert', pooled_after_alert)):
            if values['errors']:
                tracks[name] = point_accuracy(np.asarray(values['errors']),
                                              miss_error=np.asarray(values['diagonals']))
                tracks[name]['miss_rate'] = float(100.0 * np.mean(np.isinf(values['errors'])))
                tracks[name]['frames'] = len(values['errors'])
        latency = latency_statistics(latencies)
        report['deployment'] = dict(
            refresh_policy=args.deploy_policy, alert_latency=latency,
            onset_error_mean_abs=(float(np.mean(np.abs(onset_errors)))
                                  if onset_errors else None),
            onset_error_bias=float(np.mean(onset_errors)) if onset_errors else None,
            negative_clips=negatives, false_alarms=false_alarms,
            track=tracks.get('deployment'),
            track_after_alert=tracks.get('deployment_after_alert'), clips=records)
        for key in ('median', 'p90', 'mean', 'miss_rate'):
            metrics[f'pipeline/alert_latency_{key}'] = latency[key]
        for name, track in tracks.items():
            for key, value in track.items():
                metrics[f'track_dense/{name}/{key}'] = value

    dense_clips = [c for c in clips if c.has_dense_gt and c.onset_sources()]
    dense_clips.sort(key=lambda c: c.num_frames - c.onset_frame, reverse=True)
    long_clips = dense_clips[:args.long_clips]
    if long_clips:
        print(f'refresh policies {args.policies} on {len(long_clips)} long clips: '
              + ', '.join(f'{c.rel_dir} ({c.num_frames} frames)' for c in long_clips))

        results, onsets = compare_policies(tracker, long_clips, args.policies)
        curves, rows = {}, {}
        report['policies'] = {}
        for name, result in results.items():
            pooled = np.concatenate([c[np.isfinite(c)] for c in result['curves']])
            accuracy = point_accuracy(pooled) if len(pooled) else {}
            rows[name] = accuracy
            curves[name] = align_on_onset(result['curves'], onsets)
            report['policies'][name] = dict(
                accuracy=accuracy, refreshes=result['refreshes'], fps=result['fps'],
                per_clip_err_avg=[float(np.nanmean(c)) if np.isfinite(c).any() else None
                                  for c in result['curves']],
                mean_curve=rounded(curves[name]))
            for key, value in accuracy.items():
                metrics[f'track_dense/refresh_{name}/{key}'] = value
        report['long_clips'] = [c.rel_dir for c in long_clips]
        plot_error_curves(
            curves, osp.join(args.out_dir, 'refresh_policies.png'),
            title='Tracking error vs frames after onset per memory-refresh policy'
            + (' (untrained models)' if untrained else ''))
        print(render_table('Refresh-policy comparison on long clips (evaluation mode, dense GT)',
                           rows, POINT_COLUMNS))
    else:
        print('no clip with dense ground truth and an onset: policy comparison skipped')

    if 'deployment' in report:
        for record in report['deployment']['clips']:
            if record['clip'] in report.get('long_clips', []) and 'track_errors' in record:
                markers = {'true onset': record['onset_gt']}
                if record['alert_frame'] is not None:
                    markers['alert'] = record['alert_frame']
                name = record['clip'].replace('/', '_')
                plot_error_curves({'deployment': record['track_errors']},
                                  osp.join(args.out_dir, f'deployment_{name}.png'),
                                  title=f'{record["clip"]}: deployment-mode tracking error',
                                  xlabel='frame', markers=markers)
    report['metrics'] = metrics
    report['seconds'] = round(time.time() - started, 1)
    out_json = osp.join(args.out_dir, 'full_clip_eval.json')
    with open(out_json + '.part', 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=1)
    os.replace(out_json + '.part', out_json)
    dep = report.get('deployment', {})
    lat = dep.get('alert_latency', {})
    print(f'summary: {len(clips)} clips, alert latency median {lat.get("median")} / P90 '
          f'{lat.get("p90")} frames, misses {lat.get("misses")}, false alarms '
          f'{dep.get("false_alarms")}/{dep.get("negative_clips")}, '
          f'{report["seconds"]} s -> {out_json}')
    return report


if __name__ == '__main__':
    from bleedorigin.utils.cli import run_cli

    run_cli(main)
