"""ClipRecord.sparse_tracks / dense_tracks / onset_sources on clip files written by hand:
the one place that turns annotations and dense_gt.json into arrays."""
import numpy as np
import pytest
from test_bench import write_clip, write_splits

from bleedorigin.datasets.bench import BenchIndex, SourcePoint


def _source(x, y, group):
    return {'label': 'bleeding_source', 'points': [[x, y]], 'group_id': group,
            'shape_type': 'point'}


@pytest.fixture
def clips(tmp_path):
    root = str(tmp_path / 'bench')
    write_splits(root, {'test': ['P01']})
    # two sources; the file lists group 2 before group 0 on purpose
    write_clip(root, 'P01', 'C001', num_frames=6, onset=1, annotations={
        1: [_source(9.0, 3.0, 2), _source(4.0, 6.0, 0)],
        3: [_source(10.0, 4.0, 2)],   # group 0 labelled invisible here
        4: []},                       # both invisible
        dense={'sources': [
            {'group_id': 2, 'points': [None, [9, 3], [9.5, 3], [10, 4], [10, 5], None],
             'visible': [False, True, True, True, False, False]},
            {'group_id': 0, 'points': [None, [4, 6], [4, 7], None, None, None],
             'visible': [False, True, True, False, False, False]}],
            'bleeding': [False, True, True, True, True, True]})
    # no annotation on the onset frame: the onset source comes from dense_gt.json
    write_clip(root, 'P01', 'C002', num_frames=4, onset=2, annotations={3: []},
               dense={'sources': [{'group_id': 5,
                                   'points': [None, None, [7.5, 2.5], [8, 3]],
                                   'visible': [False, False, False, True]}]})
    write_clip(root, 'P01', 'C003', num_frames=4, onset=None)
    return BenchIndex(root, 'test').clips


def test_sparse_tracks_columns_follow_the_requested_groups(clips):
    sparse = clips[0].sparse_tracks([0, 2], start=1, stop=5)
    assert sparse['points'].shape == (4, 2, 2) and sparse['points'].dtype == np.float64
    assert sparse['group_ids'].tolist() == [0, 2]
    assert sparse['labelled'].tolist() == [[True, True], [False, False], [True, True],
                                           [True, True]]
    assert sparse['visible'].tolist() == [[True, True], [False, False], [False, True],
                                          [False, False]]
    np.testing.assert_array_equal(sparse['points'][0], [[4.0, 6.0], [9.0, 3.0]])
    np.testing.assert_array_equal(sparse['points'][2, 1], [10.0, 4.0])
    assert np.isnan(sparse['points'][2, 0]).all() and np.isnan(sparse['points'][1]).all()
    # a group the clip never annotates is a column that is labelled but never visible
    other = clips[0].sparse_tracks([7], start=0)
    assert other['points'].shape == (6, 1, 2) and not other['visible'].any()
    assert other['labelled'][:, 0].tolist() == [False, True, False, True, True, False]


def test_dense_tracks_file_order_and_requested_order(clips):
    dense = clips[0].dense_tracks()
    assert dense['group_ids'].tolist() == [2, 0]  # file order by default
    assert dense['points'].shape == (6, 2, 2)
    assert dense['defined'][:, 0].tolist() == [False, True, True, True, True, False]
    assert dense['visible'][:, 0].tolist() == [False, True, True, True, False, False]
    window = clips[0].dense_tracks([0, 2, 9], start=2, stop=4)
    assert window['group_ids'].tolist() == [0, 2, 9]
    np.testing.assert_array_equal(window['points'][0, :2], [[4.0, 7.0], [9.5, 3.0]])
    assert window['defined'].tolist() == [[True, True, False], [False, True, False]]
    assert window['visible'].tolist() == [[True, True, False], [False, True, False]]
    assert np.isnan(window['points'][1, 0]).all() and np.isnan(window['points'][:, 2]).all()
    assert clips[2].dense_tracks() is None


def test_track_ranges_are_checked(clips):
    with pytest.raises(IndexError, match='frame range'):
        clips[0].sparse_tracks([0], start=2, stop=7)
    with pytest.raises(IndexError, match='frame range'):
        clips[0].dense_tracks(start=4, stop=3)


def test_onset_sources_annotation_then_dense_fallback(clips):
    assert clips[0].onset_sources() == [SourcePoint(0, 4.0, 6.0), SourcePoint(2, 9.0, 3.0)]
    # C002 has no annotation on its onset frame: dense_gt.json defines the source there
    # (invisible or not: where bleeding starts is known)
    assert clips[1].onset_sources() == [SourcePoint(5, 7.5, 2.5)]
    assert clips[2].onset_sources() == []


def test_dense_gt_is_turned_into_arrays_only_by_the_reader():
    import glob
    import os.path as osp

    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    offenders = []
    for folder in ('bleedorigin', 'tools', 'projects'):
        for path in glob.glob(osp.join(repo, folder, '**', '*.py'), recursive=True):
            if path.endswith(osp.join('datasets', 'bench.py')):
                continue
            with open(path, encoding='utf-8') as f:
                if 'load_dense_gt(' in f.read():
                    offenders.append(osp.relpath(path, repo))
    assert not offenders, f'use ClipRecord.dense_tracks() instead of load_dense_gt(): {offenders}'
