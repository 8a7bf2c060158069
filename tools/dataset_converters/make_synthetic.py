"""Render the built-in synthetic ESD benchmark (BleedOrigin-Bench layout).

Usage::

    python tools/dataset_converters/make_synthetic.py OUT --preset {tiny,default,large} \
        --seed S [--workers W] [--contact-sheet docs/synthetic_contact_sheet.png]

Generation resumes: finished clips in OUT are kept, leftovers of an
interrupted run are removed. ``--contact-sheet`` additionally saves a grid of
sample frames (clean, onset, onset+40, flushing, instrument) of the tree.
"""
import argparse
import json
import os.path as osp
import sys

from bleedorigin.datasets.synthetic import PRESETS, generate_benchmark
from bleedorigin.datasets.synthetic.contact_sheet import save_contact_sheet


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out', help='data root to write (created if missing)')
    parser.add_argument('--preset', default='default', choices=sorted(PRESETS))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--workers', type=int, default=None,
                        help='processes (default: number of CPUs)')
    parser.add_argument('--contact-sheet', default=None,
                        help='also save a PNG grid of sample frames here')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    summary = generate_benchmark(args.out, args.preset, args.seed, workers=args.workers,
                                 progress=not args.no_progress)
    if args.contact_sheet:
        path = save_contact_sheet(args.out, args.contact_sheet)
        print(f'contact sheet -> {path}')
    print(json.dumps(summary))
    return 0 if osp.isfile(osp.join(args.out, '.complete')) else 1


if __name__ == '__main__':
    sys.exit(main())
