"""Generate tracking pseudo labels (paper 4.2.1, eq. 6-7) next to the annotations.

Stage 1 matches OpenCV features (SIFT by default; confidence 1 - (d1/d2)^2 from
the ratio test) within r px of the annotated source between I_t and I_{t+30},
keeping confidence > S; stage 2 tracks each kept point forward with the
pretrained tracker; stage 3 Kalman/RTS-smooths each trajectory with the matched
end point as the final measurement. Output: clips/<P>/<C>/pseudo_labels/<t>.json
(format in bleedorigin/datasets/pseudo_label_io.py). Resumable: segments already written
are skipped.

Example:
    python tools/gen_pseudo_labels.py data/synthetic \
        --tracker-config configs/bleedorigin/track_pretrain.py \
        --checkpoint work_dirs/track_pretrain/iter_900.pth
"""
import argparse
import sys
import time

import torch
from mmengine.config import Config
from mmengine.utils import ProgressBar

from bleedorigin.datasets.bench import BenchFormatError, BenchIndex
from bleedorigin.pseudo_labels import PseudoLabelParams, clip_segments, generate_clip
from bleedorigin.registry import MODELS
from bleedorigin.utils import register_all_modules
from bleedorigin.utils.checkpoint import CheckpointError, load_state_dict_checked


def parse_args():
    defaults = PseudoLabelParams()
    parser = argparse.ArgumentParser(description='Generate tracking pseudo labels (eq. 6-7)')
    parser.add_argument('data_root', help='BleedOrigin-Bench root')
    parser.add_argument('--tracker-config', required=True, help='config of the tracker')
    parser.add_argument('--checkpoint', required=True, help='pretrained tracker checkpoint')
    parser.add_argument('--splits', nargs='+', default=['train'],
                        help='splits to label (default: train)')
    parser.add_argument('--radius', type=float, default=defaults.radius, help='r of eq. 6 (px)')
    parser.add_argument('--min-confidence', type=float, default=defaults.min_confidence,
                        help='S of eq. 6')
    parser.add_argument('--span', type=int, default=defaults.span,
                        help='frames between annotated I_t and I_{t+span}')
    parser.add_argument('--end-radius', type=float, default=defaults.end_radius,
                        help='max distance of a match end point to the source annotated at '
                        't+span (px; <= 0 disables)')
    parser.add_argument('--matcher', choices=['sift', 'orb', 'akaze'], default=defaults.matcher)
    parser.add_argument('--max-points', type=int, default=defaults.max_points)
    parser.add_argument('--overwrite', action='store_true', help='regenerate existing files')
    parser.add_argument('--refine', action='store_true',
                        help='track with the coarse-to-fine refiner (more precise, ~10x slower)')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    return parser.parse_args()


def build_tracker(config: str, checkpoint: str):
    cfg = Config.fromfile(config)
    tracker = MODELS.build(cfg.model)
    # parameters a newer tracker adds keep their initial values (listed in the log)
    optional = ('mdg', 'motion_prior_log_sigma')
    fit = load_state_dict_checked(tracker, checkpoint, origin=config, allow_missing=optional,
                                  allow_unexpected=False)
    if fit['missing']:
        print(f'{checkpoint}: not in the checkpoint, kept at init: {fit["missing"]}')
    return tracker.eval()


def main():
    args = parse_args()
    register_all_modules()
    torch.set_num_threads(args.threads)
    params = PseudoLabelParams(radius=args.radius, min_confidence=args.min_confidence,
                               span=args.span,
                               end_radius=args.end_radius if args.end_radius > 0 else None,
                               matcher=args.matcher, max_points=args.max_points,
                               refine=args.refine)
    tracker = build_tracker(args.tracker_config, args.checkpoint)
    clips = [c for split in args.splits for c in BenchIndex(args.data_root, split=split).clips
             if clip_segments(c, params.span)]
    totals = dict(segments=0, skipped=0, corrupt=0, points=0)
    start = time.time()
    bar = ProgressBar(len(clips))
    for clip in clips:
        stats = generate_clip(tracker, clip, params, overwrite=args.overwrite)
        for key in totals:
            totals[key] += stats[key]
        bar.update()
    per_frame = totals['points'] / max(totals['segments'], 1)
    print(f'\npseudo labels: {len(clips)} clips, {totals["segments"]} segments written, '
          f'{totals["skipped"]} already present and valid, {totals["corrupt"]} invalid files '
          f'regenerated, {totals["points"]} points '
          f'({per_frame:.1f} per annotated frame; paper ~36), {time.time() - start:.0f} s')


if __name__ == '__main__':
    try:
        main()
    except (CheckpointError, BenchFormatError) as err:  # one line naming the file
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
