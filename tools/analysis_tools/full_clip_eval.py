"""Full-clip evaluation of BleedOrigin-Net (paper sections 6.2 and 6.3 analogue).

1. Deployment mode on every clip of the split: predicted onset -> located
   source -> tracking. Alert latency (frames from the true onset to the alert)
   median and 90th percentile, misses, early alerts, false alarms on negative
   clips, and, on clips with dense ground truth, the per-frame tracking error.
2. Refresh-policy comparison (Figure 13) on the longest clips with dense
   ground truth: evaluation mode (tracking starts from the true onset and
   point), one run per policy, frame-wise error aligned at the onset.

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
    from mmengine.utils import ProgressBar

    from bleedorigin.apis import frame_track_errors, stream_clip

    records, latencies, onset_errors, false_alarms, negatives = [], [], [], 0, 0
    pooled_errors = []
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
                record['track_errors'] = rounded(errors)
                record['track_err_avg'] = (float(np.nanmean(errors))
                                           if np.isfinite(errors).any() else None)
                pooled_errors.extend(errors[np.isfinite(errors)].tolist())
        records.append(record)
        bar.update()
    print()
    return records, latencies, onset_errors, false_alarms, negatives, pooled_errors


def compare_policies(net_factory, clips, policies):
    from mmengine.utils import ProgressBar

    from bleedorigin.apis import frame_track_errors, stream_clip

    results = {name: dict(curves=[], refreshes=[], fps=[]) for name in policies}
    onsets = []
    bar = ProgressBar(len(clips) * len(policies))
    for clip in clips:
        sources = clip.onset_sources()
        start_points = np.array([[s.x, s.y] for s in sources], np.float32)
        # column k of the dense ground truth is the source tracked from start point k
        dense = clip.dense_tracks([s.group_id for s in sources])
        onsets.append(clip.onset_frame)
        for name in policies:
            net = net_factory(name)
            net.set_ground_truth(clip.onset_frame, start_points)
            outputs = stream_clip(net, clip_source(clip), clip.num_frames,
                                  max_sources=len(start_points))
            errors = frame_track_errors(outputs['points'], dense['points'], dense['visible'],
                                        match='index')
            errors[:clip.onset_frame + 1] = np.nan  # the start frame is given, not predicted
            results[name]['curves'].append(errors)
            results[name]['refreshes'].append(outputs['summary']['refreshes'])
            results[name]['fps'].append(outputs['summary']['mean_fps'])
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
        (records, latencies, onset_errors, false_alarms, negatives,
         pooled) = evaluate_deployment(net, chosen)
        latency = latency_statistics(latencies)
        report['deployment'] = dict(
            refresh_policy=args.deploy_policy, alert_latency=latency,
            onset_error_mean_abs=(float(np.mean(np.abs(onset_errors)))
                                  if onset_errors else None),
            onset_error_bias=float(np.mean(onset_errors)) if onset_errors else None,
            negative_clips=negatives, false_alarms=false_alarms,
            track=point_accuracy(np.asarray(pooled)) if pooled else None, clips=records)
        for key in ('median', 'p90', 'mean', 'miss_rate'):
            metrics[f'pipeline/alert_latency_{key}'] = latency[key]
        if pooled:
            for key, value in report['deployment']['track'].items():
                metrics[f'track_dense/deployment/{key}'] = value

    dense_clips = [c for c in clips if c.has_dense_gt and c.onset_sources()]
    dense_clips.sort(key=lambda c: c.num_frames - c.onset_frame, reverse=True)
    long_clips = dense_clips[:args.long_clips]
    if long_clips:
        print(f'refresh policies {args.policies} on {len(long_clips)} long clips: '
              + ', '.join(f'{c.rel_dir} ({c.num_frames} frames)' for c in long_clips))

        def net_factory(policy):
            return BleedOriginNet(detector, tracker, mode='evaluation', refresh_policy=policy,
                                  evaluation_detector='off')

        results, onsets = compare_policies(net_factory, long_clips, args.policies)
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
