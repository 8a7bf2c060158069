"""MLLM baseline harness: prompt, answer parser and scoring on hand-written answers."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from bleedorigin.evaluation.mllm import (
    BLEEDING_SOURCE_PROMPT,
    parse_answer,
    read_answers,
    score_answers,
    score_source_predictions,
)


def _write_bench(root, sources):
    """Test split with one 6-frame 200x100 clip per entry of ``sources`` (onset 2)."""
    from bleedorigin.datasets.bench_writer import (
        atomic_clip_dir,
        write_clip_json,
        write_labelme,
        write_splits,
    )

    write_splits(str(root), {'train': ['P0'], 'val': ['P9'], 'test': ['P1']})
    for patient in ('P0', 'P9'):
        sources_ = {f'{patient}_C0': (10.0, 10.0)}
        _clips(root, patient, sources_, write_clip_json, write_labelme, atomic_clip_dir)
    _clips(root, 'P1', sources, write_clip_json, write_labelme, atomic_clip_dir)
    return str(root)


def _clips(root, patient, sources, write_clip_json, write_labelme, atomic_clip_dir):
    for clip_id, source in sources.items():
        with atomic_clip_dir(str(root), patient, clip_id) as clip_dir:
            os.makedirs(osp.join(clip_dir, 'frames'))
            for t in range(6):
                cv2.imwrite(osp.join(clip_dir, 'frames', f'{t:06d}.png'),
                            np.full((100, 200, 3), 120, np.uint8))
            write_labelme(osp.join(clip_dir, 'annotations', '000002.json'), [(0, *source)],
                          200, 100, '../frames/000002.png')
            write_clip_json(clip_dir, {
                'clip_id': clip_id, 'patient_id': patient, 'fps': 30, 'num_frames': 6, 'width': 200,
                'height': 100, 'video': 'frames', 'onset_frame': 2, 'site': 'cardia',
                'scenarios': ['clear_view'], 'annotation_stride': 2, 'source': 'test'})


def test_prompt_has_four_parts_and_frame_size():
    text = BLEEDING_SOURCE_PROMPT.render(1240, 1080)
    for title in ('Task instruction', 'Visual guidance', 'Output requirements',
                  'Output format and restrictions'):
        assert f'[{title}]' in text
    assert '1240x1080' in text and 'IMAGE_SIZE' in text and 'SOURCE' in text
    with pytest.raises(ValueError, match='positive'):
        BLEEDING_SOURCE_PROMPT.render(0, 10)


@pytest.mark.parametrize('answer, point, reason', [
    ('IMAGE_SIZE: 1024x768\nSOURCE: (0.4123, 0.5567)', (0.4123, 0.5567), None),
    ('Looking at the image (received as 1024 × 768 pixels), I think:\nSOURCE: (0.25, 0.5)\n'
     'This is where the jet of blood starts.', (0.25, 0.5), None),
    ('{"image_size": "800x600", "x_norm": 0.25, "y_norm": 0.75}', (0.25, 0.75), None),
    ('The bleeding source is at about 40%, 60% of the image.', (0.4, 0.6), None),
    ('IMAGE_SIZE: 1000x500\nSOURCE: (250, 125)', (0.25, 0.25), 'pixels_rescaled'),
    ('IMAGE_SIZE: 1000x500\nSOURCE: (2500, 125)', None, 'out_of_range'),
    ("I'm sorry, but I can't help with identifying features in medical images.", None,
     'refusal'),
    ('IMAGE_SIZE: 1000x500\nSOURCE: NONE', None, 'no_source'),
    ('IMAGE_SIZE: 1000x500\nSOURCE: (0.4.2, 0.5)', None, 'malformed_number'),
    ('IMAGE_SIZE: 1000x500\nSOURCE: (NaN, 0.5)', None, 'malformed_number'),
    ('It could be (0.1, 0.2) or (0.6, 0.7).', None, 'ambiguous'),
    ('The image shows an endoscopic view with some blood.', None, 'no_coordinates'),
    ('   ', None, 'empty'),
    (None, None, 'empty'),
])
def test_parse_answer(answer, point, reason):
    parsed = parse_answer(answer)
    assert parsed.reason == reason
    if point is None:
        assert parsed.is_miss
    else:
        assert parsed.point == pytest.approx(point)


def test_image_size_is_not_read_as_a_point():
    parsed = parse_answer('IMAGE_SIZE: 1024, 768\nSOURCE: (0.3, 0.2)')
    assert parsed.image_size == (1024.0, 768.0) and parsed.point == pytest.approx((0.3, 0.2))


def test_score_source_predictions_counts_misses():
    preds = [(3.0, 4.0), None, (0.0, 60.0)]
    gts = [[(0.0, 0.0)], [(5.0, 5.0)], [(0.0, 0.0), (0.0, 40.0)]]  # nearest source counts
    m = score_source_predictions(preds, gts, [(30, 40)] * 3)
    assert m['err_le_10'] == pytest.approx(100 / 3)
    assert m['err_le_25'] == pytest.approx(200 / 3)
    assert m['err_le_100'] == pytest.approx(200 / 3)  # the miss (error 50 = diagonal) never hits
    assert m['err_avg'] == pytest.approx((5 + 50 + 20) / 3)
    assert m['miss_rate'] == pytest.approx(100 / 3)
    with pytest.raises(ValueError, match='differ in length'):
        score_source_predictions(preds, gts[:2], [(30, 40)] * 3)


def test_score_answers_jsonl(tmp_path):
    root = _write_bench(tmp_path / 'bench', {'P1_C1': (100.0, 50.0), 'P1_C2': (20.0, 80.0)})
    answers = [
        {'model': 'Qwen2.5-VL', 'patient_id': 'P1', 'clip_id': 'P1_C1',
             'answer': 'IMAGE_SIZE: 400x200\nSOURCE: (0.5, 0.5)'},  # exact
        {'model': 'Qwen2.5-VL', 'clip_id': 'P1_C2',  # no patient id, clip id is unique
             'answer': 'IMAGE_SIZE: 400x200\nSOURCE: (0.1, 0.7)'},  # (20, 70): 10 px
        {'model': 'ChatGPT-4o', 'clip_id': 'P1_C1', 'answer': 'Sorry, I cannot do that.'},
        {'model': 'ChatGPT-4o', 'clip_id': 'P0_C0', 'answer': 'SOURCE: (0.1, 0.1)'},  # not in test
    ]
    path = tmp_path / 'answers.jsonl'
    path.write_text('\n'.join(json.dumps(a) for a in answers) + '\n')
    metrics, reasons = score_answers(str(path), root, 'test')
    assert metrics['source/Qwen2.5-VL/err_le_10'] == pytest.approx(100.0)
    assert metrics['source/Qwen2.5-VL/err_avg'] == pytest.approx(5.0)
    assert metrics['source/ChatGPT-4o/miss_rate'] == pytest.approx(100.0)
    assert metrics['source/ChatGPT-4o/err_le_100'] == 0.0
    assert reasons['ChatGPT-4o'] == {'refusal': 1, 'no_answer': 1}


def test_read_answers_rejects_bad_lines(tmp_path):
    path = tmp_path / 'bad.jsonl'
    path.write_text('{"model": "m", "clip_id": "c", "answer": "x"}\nnot json\n')
    with pytest.raises(ValueError, match=r'bad.jsonl:2: not valid JSON'):
        read_answers(str(path))
    path.write_text('{"model": "m", "answer": "x"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1: field 'clip_id' missing"):
        read_answers(str(path))
