import numpy as np
import pytest
from track_tree import make_track_tree

from bleedorigin.datasets.point_track_synth import PointTrackSynthDataset
from bleedorigin.datasets.pseudo_label_io import pseudo_label_path
from bleedorigin.datasets.track_dataset import BleedTrackDataset, track_collate


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    return make_track_tree(str(tmp_path_factory.mktemp('bench')), num_frames=40, onset=5,
                           stride=10)


def test_short_long_hybrid_sample_lists(tree):
    short = BleedTrackDataset(tree, 'train', mode='short', short_length=11, input_size=(48, 40))
    # annotated 5, 15, 25, 35: windows [5, 15], [15, 25], [25, 35]
    assert [(s, e) for _, s, e in short.samples] == [(5, 15), (15, 25), (25, 35)]
    long = BleedTrackDataset(tree, 'train', mode='long', short_length=11, long_max_frames=30,
                             input_size=(48, 40))
    assert [(s, e) for _, s, e in long.samples] == [(5, 34)]
    hybrid = BleedTrackDataset(tree, 'train', mode='hybrid', short_length=11,
                               input_size=(48, 40))
    assert len(hybrid) == 4
    item = short[0]
    assert item['inputs'].shape == (11, 3, 40, 48)
    ds = item['data_samples']
    assert ds['target_points'].shape == (11, 1, 2)
    assert ds['target_valid'][:, 0].tolist() == [True] + [False] * 9 + [True]
    # GT scaled to the input size (96x80 frames -> 48x40)
    clip = short.samples[0][0]
    at5, at15 = clip.sources_at(5)[0], clip.sources_at(15)[0]
    np.testing.assert_allclose(ds['query_points'][0], [at5.x * 0.5, at5.y * 0.5])
    np.testing.assert_allclose(ds['target_points'][-1, 0], [at15.x * 0.5, at15.y * 0.5])


def test_pseudo_labels_become_extra_queries(tree):
    from bleedorigin.datasets.bench import BenchIndex
    from bleedorigin.utils.io import write_json_atomic
    clip = BenchIndex(tree, 'train').clips[0]
    traj = [[30.0 + i, 30.0] for i in range(11)]
    import os
    os.makedirs(os.path.dirname(pseudo_label_path(clip.clip_dir, 5)), exist_ok=True)
    write_json_atomic(pseudo_label_path(clip.clip_dir, 5), dict(
        version=1, start_frame=5, end_frame=15,
        sources=[dict(group_id=0, points=[dict(confidence=0.9, trajectory=traj)] * 3)]))
    ds = BleedTrackDataset(tree, 'train', mode='short', short_length=11, input_size=(48, 40),
                           max_pseudo_points=2)[0]['data_samples']
    assert ds['is_pseudo'].tolist() == [False, True, True]
    assert ds['target_valid'][:, 1:].all()
    np.testing.assert_allclose(ds['target_points'][10, 1], [40 * 0.5, 30 * 0.5])
    off = BleedTrackDataset(tree, 'train', mode='short', short_length=11, input_size=(48, 40),
                            use_pseudo_labels=False)[0]['data_samples']
    assert off['is_pseudo'].tolist() == [False]
    os.remove(pseudo_label_path(clip.clip_dir, 5))


def test_test_mode_has_sparse_and_dense_gt(tree):
    ds = BleedTrackDataset(tree, 'test', mode='test', input_size=(48, 40))
    item = ds[0]
    sample = item['data_samples']
    assert item['inputs'].shape[0] == 35  # onset 5 to frame 39
    assert sample['gt_labelled'][:, 0].nonzero()[0].tolist() == [0, 10, 20, 30]
    assert sample['dense_gt']['defined'].all()
    batch = track_collate([item, item])
    assert len(batch['inputs']) == 2 and len(batch['data_samples']) == 2


def test_bad_mode_rejected(tree):
    with pytest.raises(ValueError, match='mode'):
        BleedTrackDataset(tree, 'train', mode='medium')


def test_point_track_synth_is_deterministic_and_consistent():
    ds = PointTrackSynthDataset(num_samples=3, num_frames=5, num_points=6, image_size=(64, 48),
                                num_objects=(1, 1), seed=3)
    a, b = ds.generate(1), ds.generate(1)
    np.testing.assert_array_equal(a['frames'], b['frames'])
    assert a['frames'].shape == (5, 48, 64, 3)
    assert a['tracks'].shape == (5, 6, 2) and a['visible'][0].all()
    assert not np.array_equal(ds.generate(2)['frames'], a['frames'])
    item = ds[0]
    assert item['inputs'].shape == (5, 3, 48, 64)
    assert item['data_samples']['target_valid'].all()


def test_point_track_synth_tracks_follow_the_texture():
    ds = PointTrackSynthDataset(num_samples=1, num_frames=4, num_points=20, image_size=(96, 80),
                                num_objects=(0, 0), seed=5)
    ds.generate(0)
    sample = ds.generate(0)
    frames, tracks, visible = sample['frames'].astype(float), sample['tracks'], sample['visible']
    diffs = []
    for k in range(tracks.shape[1]):
        for t in range(1, 4):
            if visible[t, k]:
                x0, y0 = (tracks[0, k] - 0.5).round().astype(int)
                x1, y1 = (tracks[t, k] - 0.5).round().astype(int)
                diffs.append(np.abs(frames[0, y0, x0] - frames[t, y1, x1]).mean())
    # colours at corresponding points agree far better than at random pixel pairs
    rng = np.random.default_rng(0)
    rand = [np.abs(frames[0, rng.integers(80), rng.integers(96)] -
                   frames[1, rng.integers(80), rng.integers(96)]).mean() for _ in range(200)]
    assert np.median(diffs) < 0.5 * np.median(rand)
