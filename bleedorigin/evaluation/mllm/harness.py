"""MLLM baseline harness (paper Table 4, Fig. 8): export requests, score answers.

Calling a model is left to the user (nothing here touches the network):

1. ``export_requests(data_root, split, out_dir)`` writes the initial bleeding
   frame of every positive clip as PNG plus ``requests.jsonl`` with the prompt;
2. the user sends each image + prompt to an MLLM and stores the replies as a
   JSONL file, one object per line:
   ``{"model": "Qwen2.5-VL", "patient_id": "P09", "clip_id": "P09_C004", "answer": "..."}``;
3. ``score_answers(path, data_root, split)`` parses every answer
   (:func:`parse_answer`) and scores each model through the shared point
   metric; clips without an answer and unparseable answers are misses.

Flat result keys: ``source/<model>/err_le_<d>``, ``.../err_avg``,
``.../miss_rate`` and ``.../num_answers``, so the rows land in Table 4.
"""
import json
import os
import os.path as osp
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Tuple

from ..functional import score_source_predictions
from .answer_parser import parse_answer, to_absolute
from .prompt import BLEEDING_SOURCE_PROMPT, PromptTemplate


def onset_clips(data_root: str, split: str) -> list:
    """Positive clips of a split whose onset frame is annotated with a visible source."""
    from bleedorigin.datasets.bench import BenchIndex

    index = BenchIndex(data_root, split=split)
    return [c for c in index.clips
            if c.onset_frame is not None and c.annotations.get(c.onset_frame)]


def export_requests(data_root: str, split: str, out_dir: str,
                    template: PromptTemplate = BLEEDING_SOURCE_PROMPT) -> str:
    """Write onset frames and ``requests.jsonl`` for an MLLM run.

    Returns:
        str: Path of ``requests.jsonl``.
    """
    import cv2

    os.makedirs(osp.join(out_dir, 'images'), exist_ok=True)
    path = osp.join(out_dir, 'requests.jsonl')
    clips = onset_clips(data_root, split)
    with open(path, 'w') as f:
        for clip in clips:
            rgb = clip.load_frames([clip.onset_frame])[0]
            name = f'{clip.patient_id}__{clip.clip_id}__{clip.onset_frame:06d}.png'
            cv2.imwrite(osp.join(out_dir, 'images', name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            f.write(json.dumps({
                'patient_id': clip.patient_id, 'clip_id': clip.clip_id, 'frame': clip.onset_frame,
                'image': f'images/{name}', 'width': clip.width, 'height': clip.height,
                'prompt': template.render(clip.width, clip.height)}) + '\n')
    print(f'{len(clips)} MLLM requests written to {path}')
    return path


def read_answers(path: str) -> List[dict]:
    """Read an answers JSONL file; each line needs ``model``, ``clip_id`` and ``answer``."""
    answers = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{line_no}: not valid JSON ({err.msg})') from err
            if not isinstance(record, dict):
                raise ValueError(f'{path}:{line_no}: expected a JSON object')
            for field in ('model', 'clip_id'):
                if not isinstance(record.get(field), str) or not record[field]:
                    raise ValueError(f'{path}:{line_no}: field {field!r} missing or not a string')
            if 'answer' not in record:
                raise ValueError(f'{path}:{line_no}: field \'answer\' missing')
            answers.append(record)
    return answers


def score_answer_records(answers: List[dict], clips: list) -> Tuple[Dict[str, float], dict]:
    """Score parsed answers of every model against the clips' onset sources.

    Args:
        answers (list[dict]): Records from :func:`read_answers`.
        clips (list[ClipRecord]): The evaluated clips (positive, onset annotated).

    Returns:
        tuple: flat metrics (``source/<model>/...``) and, per model, a Counter of
        miss reasons (``no_answer`` for clips the file does not cover).
    """
    by_model: Dict[str, Dict[Tuple[str, str], dict]] = OrderedDict()
    clip_keys = {(c.patient_id, c.clip_id) for c in clips}
    by_clip_id = Counter(c.clip_id for c in clips)
    for record in answers:
        key = (record.get('patient_id'), record['clip_id'])
        if key not in clip_keys:
            matches = [c for c in clips if c.clip_id == record['clip_id']]
            if key[0] is None and by_clip_id[record['clip_id']] == 1:
                key = (matches[0].patient_id, record['clip_id'])
            else:
                continue  # an answer about a clip outside the evaluated split
        by_model.setdefault(record['model'], {})[key] = record
    metrics: Dict[str, float] = {}
    reasons: Dict[str, Counter] = {}
    for model, records in by_model.items():
        if '/' in model:
            raise ValueError(f'model name {model!r} must not contain "/"')
        preds, gts, sizes, why = [], [], [], Counter()
        for clip in clips:
            record = records.get((clip.patient_id, clip.clip_id))
            parsed = parse_answer(record['answer']) if record else None
            if parsed is None:
                why['no_answer'] += 1
                preds.append(None)
            elif parsed.is_miss:
                why[parsed.reason] += 1
                preds.append(None)
            else:
                if parsed.reason:
                    why[parsed.reason] += 1
                preds.append(to_absolute(parsed.point, clip.width, clip.height))
            gts.append([(s.x, s.y) for s in clip.annotations[clip.onset_frame]])
            sizes.append((clip.width, clip.height))
        scores = score_source_predictions(preds, gts, sizes)
        for name, value in scores.items():
            metrics[f'source/{model}/{name}'] = value
        metrics[f'source/{model}/num_answers'] = len(records)
        reasons[model] = why
    return metrics, reasons


def score_answers(path: str, data_root: str, split: str = 'test'
                  ) -> Tuple[Dict[str, float], dict]:
    """Score an answers JSONL file on the onset clips of ``split``."""
    return score_answer_records(read_answers(path), onset_clips(data_root, split))


def main(argv: Optional[List[str]] = None) -> None:
    import argparse

    from ..tables import POINT_COLUMNS, render_table

    parser = argparse.ArgumentParser(description='MLLM baseline harness (Table 4)')
    sub = parser.add_subparsers(dest='command', required=True)
    export = sub.add_parser('export', help='write onset frames and prompts')
    export.add_argument('--data', required=True)
    export.add_argument('--split', default='test')
    export.add_argument('--out', required=True)
    score = sub.add_parser('score', help='score an answers JSONL file')
    score.add_argument('answers')
    score.add_argument('--data', required=True)
    score.add_argument('--split', default='test')
    score.add_argument('--out', help='write flat metrics JSON here')
    args = parser.parse_args(argv)
    if args.command == 'export':
        export_requests(args.data, args.split, args.out)
        return
    metrics, reasons = score_answers(args.answers, args.data, args.split)
    rows = OrderedDict()
    for key, value in metrics.items():
        _, model, name = key.split('/')
        rows.setdefault(model, {})[name] = value
    print(render_table('Table 4 (MLLMs): initial bleeding source detection (%)', rows,
                       POINT_COLUMNS + [('miss_rate', 'miss % ↓', False)]))
    for model, why in reasons.items():
        print(f'{model}: misses/notes {dict(why)}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)


if __name__ == '__main__':
    main()
