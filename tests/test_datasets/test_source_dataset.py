import numpy as np
import pytest
import torch
from detect_tree import make_detect_tree

from bleedorigin.datasets import BleedSourceDataset

CODEC = dict(type='MSRAHeatmap', input_size=(48, 40), heatmap_size=(48, 40), sigma=2.0)
TRAIN_PIPELINE = [
    dict(type='LoadSourceFrames', with_pseudo=True),
    dict(type='SequenceRandomFlip', prob=0.5),
    dict(type='SourceRandomAffine'),
    dict(type='SequenceColorJitter'),
    dict(type='GenerateSourceHeatmap', encoder=CODEC),
    dict(type='PackSourceInputs'),
]


def test_source_dataset_targets_follow_the_point(tmp_path):
    root = make_detect_tree(tmp_path / 'bench')
    dataset = BleedSourceDataset(root, 'train', input_size=(48, 40), reference_offset=5,
                                 pseudo_offset=4, cache_dir=str(tmp_path / 'cache'),
                                 pipeline=TRAIN_PIPELINE)
    assert len(dataset) == 3  # the positive train clips
    for index in range(len(dataset)):
        item = dataset[index]
        inputs, sample = item['inputs'], item['data_samples']
        assert inputs.shape == (2, 6, 40, 48) and inputs.dtype == torch.float32
        real, pseudo = sample.frame_samples
        assert pseudo.metainfo['is_pseudo_label'] and not real.metainfo['is_pseudo_label']
        x, y = real.gt_instances.transformed_keypoints.reshape(2)
        heatmap = real.gt_fields.heatmaps[0]
        peak = np.unravel_index(int(heatmap.argmax()), heatmap.shape)
        assert abs(peak[1] - x) <= 1 and abs(peak[0] - y) <= 1
        assert sample.metainfo['scale_factor'] == pytest.approx((0.5, 0.5))


def test_source_dataset_test_mode_and_pseudo_label(tmp_path):
    root = make_detect_tree(tmp_path / 'bench')
    dataset = BleedSourceDataset(
        root, 'val', input_size=(48, 40), reference_offset=5, pseudo_offset=4,
        cache_dir=str(tmp_path / 'cache'), test_mode=True,
        pipeline=[dict(type='LoadSourceFrames', with_pseudo=False),
                  dict(type='PackSourceInputs')])
    item = dataset[0]
    assert item['inputs'].shape == (1, 6, 40, 48)
    assert item['data_samples'].metainfo['gt_point'] == [58.0, 45.0]
    # every onset source reaches the metric (PointMetric scores the nearest)
    assert item['data_samples'].metainfo['gt_sources'] == [[58.0, 45.0]]
    cache = np.load(dataset.data_list[0]['cache_path'])
    # the spot does not move in the rendered clip: the flow pseudo-label stays close
    assert np.abs(cache['pseudo_point'] - np.array([58.0, 45.0])).max() < 6


@pytest.mark.parametrize('align', [False, True])
def test_dataset_path_and_streaming_locate_give_the_same_source(tmp_path, align):
    """tools/test.py (dataset + predict) and tools/benchmark.py (StreamDetector.locate on the
    decoded onset frame and reference) run one resize, one alignment and one decode: the
    same point, to float precision, on every positive clip."""
    from tiny_models import SOURCE_SIZE, tiny_detector

    from bleedorigin.apis import StreamDetector
    from bleedorigin.datasets.bench import BenchIndex

    root = make_detect_tree(tmp_path / 'bench')
    torch.manual_seed(0)
    model = tiny_detector(align_reference=align).eval()
    with torch.no_grad():  # an initialised head predicts a flat heatmap: give it peaks
        for param in model.source_head.parameters():
            param.normal_(0.0, 0.5)
    offset = model.reference_offset
    dataset = BleedSourceDataset(
        root, 'train', input_size=SOURCE_SIZE, reference_offset=offset, pseudo_offset=4,
        cache_dir=str(tmp_path / 'cache'), test_mode=True, align_reference=align,
        pipeline=[dict(type='LoadSourceFrames', with_pseudo=False),
                  dict(type='PackSourceInputs')])
    clips = {f'{c.patient_id}/{c.clip_id}': c for c in BenchIndex(root, 'train').clips}
    stream = StreamDetector(model)
    assert len(dataset) == 3
    refined = []
    for index in range(len(dataset)):
        item = dataset[index]
        sample = item['data_samples']
        sample.set_metainfo(dict(task='source'))
        data = model.data_preprocessor(dict(inputs=[item['inputs']], data_samples=[sample]))
        offline = model(**data, mode='predict')[0]
        clip = clips[sample.metainfo['clip_id']]
        t = clip.onset_frame
        frame, reference = clip.load_frames([t, max(t - offset, 0)])
        x, y, score = stream.locate_source(frame, reference=reference)
        np.testing.assert_allclose([x, y], offline.pred_point, atol=1e-4)
        assert score == pytest.approx(offline.score, abs=1e-5)
        # in input pixels: on an interior peak the codec refines by a quarter pixel (a
        # plain argmax of the heatmap, the old streaming decode, does not)
        refined.append(not float(x * SOURCE_SIZE[0] / clip.width).is_integer()
                       or not float(y * SOURCE_SIZE[1] / clip.height).is_integer())
    assert any(refined)
