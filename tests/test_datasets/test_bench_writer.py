import json
import os
import os.path as osp

import pytest

from bleedorigin.datasets.bench_writer import (
    atomic_clip_dir,
    clean_partial_clips,
    write_clip_json,
    write_dense_gt,
    write_json_atomic,
    write_labelme,
    write_splits,
)


def _meta(**overrides):
    meta = {'clip_id': 'P01_C000', 'patient_id': 'P01', 'fps': 30, 'num_frames': 150, 'width': 780,
                'height': 670, 'video': 'frames', 'onset_frame': 120, 'site': 'gastric_antrum',
                'scenarios': ['clear_view'], 'annotation_stride': 30, 'source': 'synthetic'}
    meta.update(overrides)
    return meta


def test_write_json_atomic_leaves_no_temp(tmp_path):
    path = tmp_path / 'a.json'
    write_json_atomic(str(path), {'k': [1, 2]})
    assert json.loads(path.read_text()) == {'k': [1, 2]}
    assert os.listdir(tmp_path) == ['a.json']


def test_write_splits_round_trip_and_rejects_duplicates(tmp_path):
    write_splits(str(tmp_path), {'train': ['P01', 'P02'], 'val': ['P03'], 'test': ['P04']})
    data = json.loads((tmp_path / 'splits.json').read_text())
    assert data == {'train': ['P01', 'P02'], 'val': ['P03'], 'test': ['P04']}
    with pytest.raises(ValueError, match='P01 is in both train and test'):
        write_splits(str(tmp_path), {'train': ['P01'], 'test': ['P01']})
    with pytest.raises(ValueError, match='patient_id'):
        write_splits(str(tmp_path), {'train': ['P 1']})


def test_write_clip_json_round_trip_and_validation(tmp_path):
    write_clip_json(str(tmp_path), _meta(extra_key=3))
    data = json.loads((tmp_path / 'clip.json').read_text())
    assert data == _meta(extra_key=3)
    with pytest.raises(ValueError, match='missing field.*site'):
        meta = _meta()
        del meta['site']
        write_clip_json(str(tmp_path), meta)
    with pytest.raises(ValueError, match='onset_frame 150'):
        write_clip_json(str(tmp_path), _meta(onset_frame=150))
    write_clip_json(str(tmp_path), _meta(onset_frame=None))
    assert json.loads((tmp_path / 'clip.json').read_text())['onset_frame'] is None


def test_write_labelme_round_trip(tmp_path):
    path = tmp_path / 'annotations' / '000120.json'
    write_labelme(str(path), [(0, 412.5, 288.0), (1, 10.0, 20.25)], 780, 670,
                  '../frames/000120.jpg')
    doc = json.loads(path.read_text())
    assert set(doc) >= {'version', 'flags', 'shapes', 'imagePath', 'imageData', 'imageHeight',
                        'imageWidth'}
    assert doc['imageWidth'] == 780 and doc['imageHeight'] == 670 and doc['imageData'] is None
    assert [s['label'] for s in doc['shapes']] == ['bleeding_source'] * 2
    assert [s['shape_type'] for s in doc['shapes']] == ['point'] * 2
    assert doc['shapes'][0]['points'] == [[412.5, 288.0]]
    assert [s['group_id'] for s in doc['shapes']] == [0, 1]
    # invisible frame: a file without shapes
    write_labelme(str(path), [], 780, 670, '../frames/000120.jpg')
    assert json.loads(path.read_text())['shapes'] == []
    with pytest.raises(ValueError, match='outside'):
        write_labelme(str(path), [(0, 800.0, 10.0)], 780, 670, 'x.jpg')


def test_write_dense_gt_round_trip_and_length_check(tmp_path):
    dense = {'sources': [{'group_id': 0, 'points': [None, (1.0, 2.0)], 'visible': [False, True]}],
                 'bleeding': [False, True]}
    write_dense_gt(str(tmp_path), dense)
    data = json.loads((tmp_path / 'dense_gt.json').read_text())
    assert data == {'sources': [{'group_id': 0, 'points': [None, [1.0, 2.0]],
                                 'visible': [False, True]}],
                    'bleeding': [False, True]}
    dense['bleeding'] = [False]
    with pytest.raises(ValueError, match='sources\\[0\\].points has 2 entries'):
        write_dense_gt(str(tmp_path), dense)


def test_atomic_clip_dir_publishes_only_on_success(tmp_path):
    root = str(tmp_path)
    with atomic_clip_dir(root, 'P01', 'C000') as tmp_dir:
        assert not osp.exists(osp.join(root, 'clips', 'P01', 'C000'))
        write_clip_json(tmp_dir, _meta(clip_id='C000'))
    assert osp.isfile(osp.join(root, 'clips', 'P01', 'C000', 'clip.json'))

    with pytest.raises(RuntimeError):
        with atomic_clip_dir(root, 'P01', 'C001') as tmp_dir:
            write_clip_json(tmp_dir, _meta(clip_id='C001'))
            raise RuntimeError('interrupted')
    assert not osp.exists(osp.join(root, 'clips', 'P01', 'C001'))
    assert os.listdir(osp.join(root, '.partial')) == []

    with pytest.raises(FileExistsError):
        with atomic_clip_dir(root, 'P01', 'C000'):
            pass


def test_clean_partial_clips(tmp_path):
    os.makedirs(tmp_path / '.partial' / 'P01__C000.abc')
    assert clean_partial_clips(str(tmp_path)) == 1
    assert not osp.exists(tmp_path / '.partial')
    assert clean_partial_clips(str(tmp_path)) == 0
