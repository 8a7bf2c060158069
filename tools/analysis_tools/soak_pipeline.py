"""Soak test of the streaming pipeline: a long stream with injected faults.

Streams ``--frames`` frames (default 10,000) through
:class:`bleedorigin.apis.BleedOriginNet` built from the default configs, split
into ``--segments`` clips (the pipeline is reset between them, each clip has an
injected onset in its middle, so both the detection and the tracking phase run
in every clip). A seeded schedule injects faults into the frames:

- ``dropped``: the source yields ``None`` (a frame it could not decode);
- ``corrupt``: the frame's bytes are damaged, decoding them yields nothing;
- ``black``: the light source blanks the image;
- ``resized``: the capture card switches resolution for a frame;
- ``stall``: the source delivers nothing for ``--stall-seconds``.

It prints the frames processed, the faults injected and counted (by the
pipeline's :class:`FrameGuard` and a stall watch on the frame arrival times),
the resident memory (RSS) at the start, the end and its peak, the FPS, and
checks that the alert and track state is consistent after every clip (onset
and alert where injected, tracker steps equal to the usable frames after the
onset, finite points, no model error). Exit status 1 if a check fails.

Without ``--detect``/``--track`` the models keep random weights: the run
measures robustness, bounded memory and speed, not accuracy (the output says
so). A random detector would fire at a random window and then stop (evaluation
mode runs it until it fires or the onset comes), so its S_conf threshold is set
to 1.01 (``--detector-conf-thr``): it runs on every usable frame before the
injected onset, and the tracker on every usable frame after it.

Example:
    python tools/analysis_tools/soak_pipeline.py --frames 10000 --threads 1 \
        --out work_dirs/soak/soak_pipeline.json
"""
import argparse
import json
import os
import os.path as osp
import resource
import sys
import time
from collections import Counter

import numpy as np
import torch

FAULTS = ('dropped', 'corrupt', 'black', 'resized')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Soak the streaming pipeline with faults')
    parser.add_argument('--frames', type=int, default=10000, help='frames to stream in total')
    parser.add_argument('--segments', type=int, default=4,
                        help='clips the stream is split into (reset between them)')
    parser.add_argument('--size', type=int, nargs=2, default=(320, 240), metavar=('W', 'H'))
    parser.add_argument('--fault-rate', type=float, default=0.04,
                        help='fraction of frames with an injected frame fault')
    parser.add_argument('--stalls', type=int, default=3, help='source stalls injected')
    parser.add_argument('--stall-seconds', type=float, default=0.5)
    parser.add_argument('--stall-threshold', type=float, default=0.25,
                        help='a frame arriving later than this (s) counts as a stall')
    parser.add_argument('--detect', help='detector checkpoint (random weights if omitted)')
    parser.add_argument('--track', help='tracker checkpoint (random weights if omitted)')
    parser.add_argument('--detect-config', default='configs/bleedorigin/detect.py')
    parser.add_argument('--track-config', default='configs/bleedorigin/track.py')
    parser.add_argument('--detector-conf-thr', type=float,
                        help="S_conf threshold of the detector (default: the config's; with "
                        'random weights 1.01, so the untrained detector never fires and runs '
                        'on every frame up to the injected onset)')
    parser.add_argument('--refresh', default='fixed60')
    parser.add_argument('--max-rss-growth-mb', type=float, default=64.0,
                        help='RSS growth from the end of the first clip to the end of the run '
                        'above which memory counts as unbounded')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', default='work_dirs/soak/soak_pipeline.json')
    return parser.parse_args(argv)


def rss_mb() -> float:
    """Current resident set size of this process (MB)."""
    try:
        with open('/proc/self/status', encoding='ascii') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class FaultySource:
    """Synthetic endoscope frames with a seeded schedule of faults.

    A tissue-like texture (twice the frame size) is viewed through a window
    that drifts and shakes; from each clip's onset a red spot grows at the
    window's centre. The faults replace single frames; stalls delay the
    delivery of a frame.
    """

    def __init__(self, total: int, size, fault_rate: float, stalls: int, stall_seconds: float,
                 seed: int = 0) -> None:
        import cv2

        self.total = int(total)
        self.width, self.height = int(size[0]), int(size[1])
        rng = np.random.default_rng(seed)
        noise = rng.normal(0, 1, (self.height // 8 + 1, self.width // 8 + 1, 3))
        texture = cv2.resize(noise.astype(np.float32), (2 * self.width, 2 * self.height),
                             interpolation=cv2.INTER_CUBIC)
        base = np.array([165, 105, 95], np.float32)
        self.texture = np.clip(base + 18 * texture, 30, 255).astype(np.uint8)
        kinds = rng.choice(len(FAULTS), size=self.total)
        hit = rng.random(self.total) < fault_rate
        self.schedule = {int(t): FAULTS[int(kinds[t])] for t in np.flatnonzero(hit)}
        candidates = [t for t in range(self.total) if t not in self.schedule and t > 0]
        chosen = rng.choice(candidates, size=min(stalls, len(candidates)), replace=False)
        self.stalls = sorted(int(t) for t in chosen)
        self.stall_seconds = float(stall_seconds)
        self.injected = Counter()
        self._rng = np.random.default_rng(seed + 1)

    def clean_frame(self, t: int, onset_in_clip) -> np.ndarray:
        phase = 2 * np.pi * t / 400.0
        x = int((self.width / 2) * (1 + 0.8 * np.sin(phase))) + int(self._rng.integers(-2, 3))
        y = int((self.height / 2) * (1 + 0.8 * np.cos(phase * 0.7))) + int(
            self._rng.integers(-2, 3))
        x = min(max(x, 0), self.width)
        y = min(max(y, 0), self.height)
        frame = self.texture[y:y + self.height, x:x + self.width].copy()
        if onset_in_clip is not None and onset_in_clip >= 0:
            import cv2

            radius = int(min(3 + onset_in_clip // 4, min(self.width, self.height) // 6))
            cv2.circle(frame, (self.width // 2, self.height // 2), radius, (150, 12, 18), -1)
        return frame

    def frame(self, t: int, onset_in_clip):
        """Frame ``t`` of the stream, with its scheduled fault applied."""
        import cv2

        if t in self.stalls:
            self.injected['stall'] += 1
            time.sleep(self.stall_seconds)
        fault = self.schedule.get(t)
        if fault is not None:
            self.injected[fault] += 1
        if fault == 'dropped':
            return None, fault
        frame = self.clean_frame(t, onset_in_clip)
        if fault == 'corrupt':
            ok, data = cv2.imencode('.jpg', frame)
            data = bytearray(data.tobytes())
            data[:64] = bytes(64)  # damaged header: the decoder gives up
            decoded = cv2.imdecode(np.frombuffer(bytes(data), np.uint8), cv2.IMREAD_COLOR)
            return (None if decoded is None else cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)), fault
        if fault == 'black':
            return np.zeros_like(frame), fault
        if fault == 'resized':
            return cv2.resize(frame, (self.width * 3 // 4, self.height * 3 // 4)), fault
        return frame, None


def check_clip(net, clip_len: int, onset: int, faults: dict, problems: list,
               clip_index: int) -> dict:
    """Consistency of the pipeline's state after one clip; problems are appended."""
    summary = net.summary()
    usable = [t for t in range(clip_len) if faults.get(t) not in ('dropped', 'corrupt', 'black')]
    first_track = next((t for t in usable if t >= onset), None)
    expected = dict(
        frames=clip_len,
        processed_frames=len(usable),
        dropped_frames=sum(1 for f in faults.values() if f in ('dropped', 'corrupt')),
        black_frames=sum(1 for f in faults.values() if f == 'black'),
        resized_frames=sum(1 for f in faults.values() if f == 'resized'),
        model_errors=0,
        onset_frame=onset,
        alert_frame=first_track,
        tracker_frames=sum(1 for t in usable if first_track is not None and t > first_track),
    )
    for key, value in expected.items():
        if summary[key] != value:
            problems.append(f'clip {clip_index}: {key} {summary[key]} != expected {value}')
    # The detector runs on the usable frames before the onset, unless it fired
    # earlier (possible with random weights); it never runs after the onset.
    before = sum(1 for t in usable if t < onset)
    fired = summary['detected_onset_frame'] is not None
    if summary['detector_frames'] > before or (not fired and summary['detector_frames'] != before):
        problems.append(f'clip {clip_index}: detector_frames {summary["detector_frames"]} with '
                        f'{before} usable frames before the onset (fired: {fired})')
    points = np.asarray(net.points)
    if first_track is not None:
        if not net.tracking:
            problems.append(f'clip {clip_index}: not tracking after the onset')
        if points.shape != (1, 2) or not np.isfinite(points).all():
            problems.append(f'clip {clip_index}: tracked points {points.tolist()} not one '
                            'finite (x, y)')
        if net.visibility.shape != (1, ) or net.confidence.shape != (1, ):
            problems.append(f'clip {clip_index}: visibility/confidence shapes '
                            f'{net.visibility.shape}/{net.confidence.shape} != (1,)')
    if net.state != 'bleeding' and first_track is not None:
        problems.append(f'clip {clip_index}: state {net.state!r} after the onset')
    return summary


def main(argv=None):
    from mmengine.logging import MMLogger

    logger = MMLogger.get_current_instance()
    level = logger.level
    # The guard logs the first faults of each kind per clip; keep the output short.
    logger.setLevel('ERROR')
    try:
        return soak(parse_args(argv))
    finally:
        logger.setLevel(level)


def soak(args):
    torch.set_num_threads(args.threads)
    if args.frames < args.segments or args.segments < 1:
        raise ValueError(f'--frames {args.frames} must be >= --segments {args.segments} >= 1')
    from mmengine.config import Config

    from bleedorigin.apis import BleedOriginNet

    untrained = not (args.detect and args.track)
    detect_config = Config.fromfile(args.detect_config)
    conf_thr = args.detector_conf_thr
    if conf_thr is None and not args.detect:
        # A random detector fires at a random window and, in evaluation mode, stops
        # there; S_conf is a probability, so 1.01 keeps it running up to the onset.
        conf_thr = 1.01
    if conf_thr is not None:
        detect_config.model.conf_thr = conf_thr
    net = BleedOriginNet.from_config(
        detect_config, args.track_config, detect_checkpoint=args.detect,
        track_checkpoint=args.track, mode='evaluation', refresh_policy=args.refresh,
        evaluation_detector='until_onset', frame_size=tuple(args.size))
    source = FaultySource(args.frames, args.size, args.fault_rate, args.stalls,
                          args.stall_seconds, seed=args.seed)
    bounds = np.linspace(0, args.frames, args.segments + 1).astype(int)
    rss_start = rss_mb()
    rss_after_first = None
    problems, clips = [], []
    stalls_seen = 0
    counted = Counter()
    processed = 0
    started = time.perf_counter()
    for k in range(args.segments):
        first, last = int(bounds[k]), int(bounds[k + 1])
        clip_len = last - first
        onset = clip_len // 2
        net.reset()
        net.set_ground_truth(onset, [[args.size[0] / 2.0, args.size[1] / 2.0]])
        faults = {}
        wait_start = time.perf_counter()
        for i in range(clip_len):
            frame, fault = source.frame(first + i, i - onset)
            if time.perf_counter() - wait_start > args.stall_threshold:
                stalls_seen += 1
            if fault is not None:
                faults[i] = fault
            net.step(frame)
            wait_start = time.perf_counter()
        summary = check_clip(net, clip_len, onset, faults, problems, k)
        processed += summary['processed_frames']
        counted['dropped+corrupt'] += summary['dropped_frames']
        counted['black'] += summary['black_frames']
        counted['resized'] += summary['resized_frames']
        counted['model_errors'] += summary['model_errors']
        clips.append(dict(frames=clip_len, onset=onset, alert_frame=summary['alert_frame'],
                          detector_frames=summary['detector_frames'],
                          tracker_frames=summary['tracker_frames'],
                          refreshes=summary['refreshes'],
                          faults=dict(Counter(faults.values())),
                          rss_mb=round(rss_mb(), 1)))
        if rss_after_first is None:
            rss_after_first = rss_mb()
    wall = time.perf_counter() - started
    rss_end = rss_mb()
    injected = dict(source.injected)
    counted['stall'] = stalls_seen
    expected_counts = {
        'dropped+corrupt': injected.get('dropped', 0) + injected.get('corrupt', 0),
        'black': injected.get('black', 0),
        'resized': injected.get('resized', 0),
        'stall': injected.get('stall', 0),
    }
    for key, value in expected_counts.items():
        if counted[key] != value:
            problems.append(f'{key}: counted {counted[key]} != injected {value}')
    growth = rss_end - rss_after_first
    memory_bounded = growth <= args.max_rss_growth_mb
    if not memory_bounded:
        problems.append(f'RSS grew {growth:.1f} MB after the first clip (> '
                        f'{args.max_rss_growth_mb} MB)')
    report = dict(
        frames=args.frames, segments=args.segments, size=list(args.size),
        threads=args.threads, untrained=untrained, detector_conf_thr=conf_thr,
        processed_frames=processed,
        faults_injected=injected, faults_counted=dict(counted),
        rss_mb=dict(start=round(rss_start, 1), after_first_clip=round(rss_after_first, 1),
                    end=round(rss_end, 1), peak=round(peak_rss_mb(), 1),
                    growth_after_first_clip=round(growth, 1), bounded=memory_bounded),
        wall_s=round(wall, 1), fps=args.frames / wall,
        clips=clips, consistent=not problems, problems=problems,
        load_average=[round(v, 2) for v in os.getloadavg()], cpu_count=os.cpu_count())
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=1)
    weights = ('random weights (models built from the default configs, untrained: '
               'robustness, memory and speed only, not accuracy)' if untrained
               else f'weights {args.detect}, {args.track}')
    print(f'soak: {args.frames} frames at {args.size[0]}x{args.size[1]} in {args.segments} '
          f'clips, {args.threads} thread(s), {weights}')
    if conf_thr is not None:
        print(f'detector S_conf threshold {conf_thr} (the detector runs on every usable frame '
              'before the injected onset)')
    print(f'frames processed by the models: {processed} of {args.frames}')
    print('faults injected: ' + ', '.join(f'{k} {v}' for k, v in sorted(injected.items())))
    print('faults counted:  ' + ', '.join(f'{k} {v}' for k, v in sorted(counted.items())))
    print(f'RSS: start {rss_start:.1f} MB, after clip 1 {rss_after_first:.1f} MB, end '
          f'{rss_end:.1f} MB, peak {peak_rss_mb():.1f} MB (growth after clip 1 {growth:+.1f} '
          f'MB: {"bounded" if memory_bounded else "NOT bounded"})')
    print(f'speed: {report["fps"]:.1f} FPS end to end ({wall:.0f} s, load average '
          f'{report["load_average"][0]:.1f} on {os.cpu_count()} cores)')
    print('state after every clip: ' + ('consistent (onset, alert, detector/tracker frame '
                                        'counts, finite tracked point, no model error)'
                                        if not problems else 'INCONSISTENT'))
    for problem in problems:
        print(f'  {problem}')
    print(f'-> {args.out}')
    return report


if __name__ == '__main__':
    from bleedorigin.utils.cli import run_cli

    report = run_cli(main)
    sys.exit(0 if report['consistent'] else 1)
