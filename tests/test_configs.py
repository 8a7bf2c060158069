"""Every shipped config parses, inherits its bases and builds its model."""
import argparse
import glob
import os.path as osp

import pytest
from mmengine.config import Config, DictAction
from tool_loader import load_tool

import bleedorigin  # noqa: F401
from bleedorigin.registry import MODELS

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))


def load_config(name):
    """``configs/bleedorigin/<name>.py``."""
    return Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', f'{name}.py'))

CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'bleedorigin', '**', '*.py'),
                           recursive=True))


def test_configs_are_found():
    names = {osp.relpath(c, osp.join(REPO_ROOT, 'configs', 'bleedorigin')) for c in CONFIGS}
    assert {'detect.py', 'track.py', 'track_pretrain.py', 'track_selftrain.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.basename(p))
def test_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
    # paper constants come from the configs, not from literals in the code
    if cfg.model.type == 'BleedOriginDetector':
        assert cfg.model.onset_head.window_size == 60 and cfg.model.conf_thr == 0.5
        assert cfg.model.mdcfm.alpha == 0.5 and cfg.model.mdcfm.gamma == 0.5
    elif cfg.model.type == 'OnsetRefiner':
        # the detector's refiner: its radius is the Acc±8 tolerance
        assert cfg.model.radius == 8
    else:
        assert cfg.model.type == 'BleedTrackOn'


def test_negative_finetune_config_adds_streams_and_keeps_the_test_streams_unseen():
    base = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect.py'))
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_negft.py'))

    def sets(loader):
        return [(d.type, d.data_root, d.split) for d in loader.dataset.datasets]

    train, val = sets(cfg.train_dataloader), sets(cfg.val_dataloader)
    # every training set of the base stays; the new streams' train and val splits join
    assert sets(base.train_dataloader) == train[:len(base.train_dataloader.dataset.datasets)]
    long_root = cfg.negative_long_root
    assert ('BleedOnsetDataset', long_root, 'train') in train
    assert ('BleedOnsetDataset', long_root, 'val') in train
    # its test split validates (a held-out stream set), and never trains
    assert ('BleedOnsetDataset', long_root, 'test') in val
    assert ('BleedOnsetDataset', long_root, 'test') not in train
    # the seed-0 streams the alarms per hour are measured on appear nowhere
    roots = {d[1] for d in train + val}
    assert 'data/negative_streams_long' not in roots and 'data/negative_streams' not in roots
    # rendered on first use, with a seed of its own
    seeds = {d['data_root']: d['seed'] for d in cfg.synthetic_data}
    assert seeds[long_root] not in {d['seed'] for d in base.synthetic_data}
    assert cfg.load_from and cfg.train_cfg.max_iters < base.train_cfg.max_iters
    assert cfg.param_scheduler[-1]['end'] == cfg.train_cfg.max_iters


def test_hard_window_config_mines_only_negative_training_streams():
    negft = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_negft.py'))
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_hardneg.py'))
    train = cfg.train_dataloader.dataset.datasets
    # the same training sets as detect_negft.py, in the same order
    assert [(d.type, d.data_root, d.split) for d in train] == [
        (d.type, d.data_root, d.split) for d in negft.train_dataloader.dataset.datasets]
    mined = [d for d in train if d.get('hard_windows')]
    # the hard-negative streams only (one file per root), never a clip set with onsets
    assert {d.data_root for d in mined} == {cfg.hard_negative_root, cfg.negative_long_root}
    for d in mined:
        assert d.hard_windows == f'{cfg.hard_windows_dir}/{osp.basename(d.data_root)}.json'
        sampler = [s for s in d.pipeline if s['type'] == 'SampleOnsetSegment']
        assert sampler[0]['hard_fraction'] == cfg.hard_fraction > 0
    assert all('hard_fraction' not in s for d in train if not d.get('hard_windows')
               for s in d.get('pipeline', []))
    assert cfg.val_dataloader == negft.val_dataloader and cfg.load_from == negft.load_from


def test_wide_hard_window_config_adds_mining_streams_never_the_test_streams():
    hardneg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_hardneg.py'))
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin',
                                   'detect_hardneg_wide.py'))
    base_sets = hardneg.train_dataloader.dataset.datasets
    train = cfg.train_dataloader.dataset.datasets
    # detect_hardneg.py's sets first, unchanged; then every split of every mining root
    assert train[:len(base_sets)] == base_sets
    added = train[len(base_sets):]
    assert {(d.data_root, d.split) for d in added} == {
        (root, split) for root in cfg.mine_roots for split in ('train', 'val', 'test')}
    for d in added:
        assert d.type == 'BleedOnsetDataset' and d.samples_per_clip == cfg.mine_per_stream
        assert d.hard_windows == f'{cfg.hard_windows_dir}/{osp.basename(d.data_root)}.json'
        sampler = [s for s in d.pipeline if s['type'] == 'SampleOnsetSegment']
        assert sampler[0]['hard_fraction'] == cfg.hard_fraction
    # rendered on first use with seeds of their own; the seed-0 test streams stay unseen
    seeds = [d['seed'] for d in cfg.synthetic_data]
    assert len(seeds) == len(set(seeds)) and 0 in seeds  # seed 0: data/synthetic only
    assert {d['data_root'] for d in cfg.synthetic_data if d['seed'] == 0} == {cfg.data_root}
    roots = {d.data_root for d in train + cfg.val_dataloader.dataset.datasets}
    assert 'data/negative_streams_long' not in roots and 'data/negative_streams' not in roots
    assert cfg.val_dataloader == hardneg.val_dataloader and cfg.load_from == hardneg.load_from


def test_hard_positive_config_repeats_only_training_positives():
    wide = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin',
                                    'detect_hardneg_wide.py'))
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_hardpos.py'))
    base_sets = wide.train_dataloader.dataset.datasets
    train = cfg.train_dataloader.dataset.datasets
    # the same sets as detect_hardneg_wide.py; only the two positive roots' onset
    # training sets read a mined hard-positive file
    assert len(train) == len(base_sets)
    with_positives = [i for i, d in enumerate(train) if d.get('hard_positives')]
    assert [(train[i].data_root, train[i].split) for i in with_positives] == [
        (cfg.data_root, 'train'), (cfg.instrument_onsets_root, 'train')]
    for i, (d, b) in enumerate(zip(train, base_sets)):
        if i in with_positives:
            assert d.type == 'BleedOnsetDataset'
            assert d.hard_positives == (f'{cfg.hard_positives_dir}/'
                                        f'{osp.basename(d.data_root)}_positives.json')
            assert d.hard_positive_repeats == cfg.hard_positive_repeats > 0
            d = {k: v for k, v in d.items() if not k.startswith('hard_positive')}
        assert d == b
    assert cfg.val_dataloader == wide.val_dataloader
    # the chain: round 2 repeats round 1 from its work dir, this stage starts from round 2
    r2 = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin',
                                  'detect_hardneg_wide_r2.py'))
    assert r2.train_dataloader == wide.train_dataloader and r2.train_cfg == wide.train_cfg
    assert r2.load_from == 'work_dirs/detect_hardneg_wide'
    assert cfg.load_from == 'work_dirs/detect_hardneg_wide_r2'


def _assert_colour_turned(cfg, base):
    """Every training set of ``cfg`` is ``base``'s with detect_hue.py's colour augmentation:
    rounded jitters, the onset sets' hue range ``cfg.hue_jitter`` and their Red-Mask colour
    cached; nothing else changes."""
    train, base_sets = cfg.train_dataloader.dataset.datasets, base.train_dataloader.dataset.datasets
    assert len(train) == len(base_sets) and cfg.hue_jitter > 6
    same = lambda t: {k: v for k, v in t.items() if k not in ('hue', 'rounding')}  # noqa: E731
    for d, b in zip(train, base_sets):
        jitter = [t for t in d.pipeline if t['type'] == 'SequenceColorJitter']
        assert len(jitter) == 1 and jitter[0]['rounding'] is True
        assert [same(t) for t in d.pipeline] == [same(t) for t in b.pipeline]
        onset = d.type == 'BleedOnsetDataset'
        assert jitter[0].get('hue') == (cfg.hue_jitter if onset else None)
        assert d.get('red_colour') is (True if onset else None)
        assert {k: v for k, v in d.items() if k not in ('red_colour', 'pipeline')} == {
            k: v for k, v in b.items() if k != 'pipeline'}
    # evaluation never reads the colour channels
    assert cfg.val_dataloader == base.val_dataloader
    assert cfg.test_dataloader == base.test_dataloader
    assert cfg.train_cfg == base.train_cfg
    # the stage ends with its last iteration (tools/train.py, find_checkpoint: no best_*.pth)
    assert cfg.default_hooks.checkpoint.save_best is None
    assert cfg.default_hooks.checkpoint.save_last is True


def test_hue_config_turns_the_red_mask_of_every_onset_training_set():
    # the colour of each cell's Red-Mask max is cached and turned with the frame; the source
    # branch keeps its hue range; every jitter rounds (as the shipped run did)
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_hue.py'))
    _assert_colour_turned(
        cfg, Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_hardpos.py')))
    assert cfg.load_from == 'work_dirs/detect_hardpos'


def test_colour_robust_chain_turns_the_colours_from_the_first_fine_tune_on():
    s1, negft = load_config('detect_hue_s1'), load_config('detect_negft')
    _assert_colour_turned(s1, negft)
    assert s1.load_from == negft.load_from == 'checkpoints/detect_stage1.pth'
    wide = load_config('detect_hc_hardneg_wide')
    _assert_colour_turned(wide, load_config('detect_hardneg_wide'))
    assert wide.hue_jitter == s1.hue_jitter and wide.load_from == 'work_dirs/detect_hue_s1'
    r2 = load_config('detect_hc_hardneg_wide_r2')
    assert r2.train_dataloader == wide.train_dataloader and r2.train_cfg == wide.train_cfg
    assert r2.load_from == 'work_dirs/detect_hc_hardneg_wide'
    # the last stage is the hue stage's recipe from round 2 of this chain
    hardpos, hue = load_config('detect_hc_hardpos'), load_config('detect_hue')
    assert hardpos.train_dataloader == hue.train_dataloader
    assert hardpos.hue_jitter == s1.hue_jitter
    assert hardpos.load_from == 'work_dirs/detect_hc_hardneg_wide_r2'


def test_borderline_config_is_the_hue_stage_plus_the_borderline_render():
    hue, cfg = load_config('detect_hue'), load_config('detect_hue_borderline')
    base_sets, train = hue.train_dataloader.dataset.datasets, cfg.train_dataloader.dataset.datasets
    assert list(train[:-1]) == list(base_sets) and len(train) == len(base_sets) + 1
    extra = train[-1]
    default = base_sets[0]
    assert (default.data_root, default.split) == (cfg.data_root, 'train')
    # the default onsets as the hue stage trains them (turned Red-Mask, rounding jitter),
    # on the borderline render, without the default root's mined positives
    assert extra.data_root == cfg.borderline_root == 'data/borderline_clips'
    assert extra.split == 'train' and extra.samples_per_clip == cfg.borderline_per_clip >= 1
    assert extra.red_colour and extra.pipeline == default.pipeline
    assert 'hard_positives' not in extra and 'hard_windows' not in extra
    assert cfg.synthetic_data[-1] == dict(data_root='data/borderline_clips',
                                          preset='borderline_clips', seed=12)
    assert cfg.synthetic_data[:-1] == hue.synthetic_data
    # held-out splits never train; everything else is the hue stage's
    assert cfg.val_dataloader == hue.val_dataloader and cfg.model == hue.model
    assert cfg.train_cfg == hue.train_cfg and cfg.load_from == hue.load_from


def test_borderline_instruments_config_adds_the_instrument_negatives_render():
    base = load_config('detect_hue_borderline')
    cfg = load_config('detect_hue_borderline_instruments')
    base_sets, train = base.train_dataloader.dataset.datasets, cfg.train_dataloader.dataset.datasets
    assert list(train[:-1]) == list(base_sets)
    extra, borderline = train[-1], base_sets[-1]
    assert extra.data_root == cfg.instrument_negatives_root == 'data/instrument_negatives'
    assert extra.samples_per_clip == cfg.instrument_negatives_per_clip >= 1
    assert {k: v for k, v in extra.items() if k not in ('data_root', 'samples_per_clip')} == {
        k: v for k, v in borderline.items() if k not in ('data_root', 'samples_per_clip')}
    assert cfg.synthetic_data == base.synthetic_data + [
        dict(data_root='data/instrument_negatives', preset='instrument_negatives', seed=13)]
    assert cfg.model == base.model and cfg.train_cfg == base.train_cfg
    assert cfg.load_from == base.load_from


def test_every_detector_config_decides_on_the_video_and_its_mirror():
    # the shipped detector's decision (eq. 2 on the mean window of the video and its
    # horizontal mirror) is the default's, and every stage inherits it; the command line
    # returns to the video alone
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        if cfg.model.type == 'BleedOriginDetector':
            assert tuple(cfg.model.onset_views) == ('horizontal',), path
            assert cfg.model.onset_view_reduce == 'mean', path
            assert cfg.model.onset_view_theta == 'confident', path
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect.py'))
    cfg.merge_from_dict({'model.onset_views': ()})
    assert MODELS.build(cfg.model).onset_views == ()


def test_every_detector_config_refines_with_the_shipped_refiner():
    # the refiner's own config trains it with the detector's radius, crop and frame size
    refiner = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'onset_refiner.py'))
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        if cfg.model.type == 'BleedOriginDetector':
            assert cfg.model.onset_refiner.radius == refiner.model.radius, path
            assert cfg.model.onset_refiner.crop == refiner.model.crop, path
            assert tuple(cfg.model.onset_refine_size) == tuple(
                refiner.train_dataloader.dataset.datasets[0].input_size), path
            assert cfg.model.onset_refiner_checkpoint == 'onset_refiner', path
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect.py'))
    cfg.merge_from_dict({'model.onset_refiner': None, 'model.onset_refiner_checkpoint': None})
    assert MODELS.build(cfg.model).onset_refiner is None
    with pytest.raises(ValueError, match='onset_refiner_checkpoint .* without an onset_refiner'):
        cfg.merge_from_dict({'model.onset_refiner_checkpoint': 'onset_refiner'})
        MODELS.build(cfg.model)


def test_hue_hardneg_config_mines_the_negatives_of_the_positive_roots():
    hue = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_hue.py'))
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin',
                                   'detect_hue_hardneg.py'))
    base_sets = hue.train_dataloader.dataset.datasets
    train = cfg.train_dataloader.dataset.datasets
    assert len(train) == len(base_sets) and cfg.hard_window_repeats > 0
    mined = [i for i, d in enumerate(train) if d.get('hard_window_repeats')]
    # only the two positive roots' onset training sets, which had no mined windows before
    assert [(train[i].data_root, train[i].split) for i in mined] == [
        (cfg.data_root, 'train'), (cfg.instrument_onsets_root, 'train')]
    for i, (d, b) in enumerate(zip(train, base_sets)):
        if i not in mined:
            assert d == b
            continue
        assert not b.get('hard_windows')
        assert d.hard_windows == (f'{cfg.hue_hard_windows_dir}/'
                                  f'{osp.basename(d.data_root)}.json')
        assert d.hard_window_repeats == cfg.hard_window_repeats
        # segments end on the mined frames as often as on the streams' mined frames
        sample = [t for t in d.pipeline if t['type'] == 'SampleOnsetSegment']
        assert len(sample) == 1 and sample[0]['hard_fraction'] == cfg.hard_fraction > 0
        same = lambda t: {k: v for k, v in t.items() if k != 'hard_fraction'}  # noqa: E731
        assert [same(t) for t in d.pipeline] == [same(t) for t in b.pipeline]
        assert {k: v for k, v in d.items()
                if k not in ('pipeline', 'hard_windows', 'hard_window_repeats')} == {
            k: v for k, v in b.items() if k != 'pipeline'}
    assert cfg.val_dataloader == hue.val_dataloader
    assert cfg.train_cfg == hue.train_cfg
    assert cfg.load_from == 'work_dirs/detect_hue'


def test_every_detector_config_turns_its_onset_datasets_as_its_model():
    """The colour anchor of the model (the stream's turn) and of every onset dataset (the
    cache's turn) are one setting in every config; only the three anchored configs set one,
    and otherwise each is its base."""
    anchored = []
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        if cfg.model.type != 'BleedOriginDetector':
            continue
        anchor = cfg.model.get('colour_anchor')
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            for d in cfg[loader].dataset.datasets:
                if d.type == 'BleedOnsetDataset':
                    assert d.get('colour_anchor') == anchor, (path, loader, d.data_root)
        if anchor is not None:
            anchored.append(osp.basename(path))
    assert anchored == ['detect_colour_anchor.py', 'detect_colour_anchor_ft.py',
                        'detect_hue_anchor.py']
    for name, base_name in (('detect_colour_anchor.py', 'detect.py'),
                            ('detect_colour_anchor_ft.py', 'detect_short_ft.py'),
                            ('detect_hue_anchor.py', 'detect_hue.py')):
        cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', name))
        base = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', base_name))
        assert cfg.model.colour_anchor == dict(reference=4.5, dead_zone=0.0, max_turn=40.0)
        assert {k: v for k, v in cfg.model.items() if k != 'colour_anchor'} == dict(base.model)
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            strip = [{k: v for k, v in d.items() if k != 'colour_anchor'}
                     for d in cfg[loader].dataset.datasets]
            assert strip == list(base[loader].dataset.datasets)
        assert cfg.train_cfg == base.train_cfg and cfg.load_from == base.load_from


def test_short_finetune_is_the_negative_finetune_for_400_iterations_from_the_shipped_file():
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_short_ft.py'))
    base = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect_negft.py'))
    assert cfg.load_from == 'checkpoints/detect.pth'
    assert cfg.train_cfg.max_iters == 400 and cfg.param_scheduler[-1].end == 400
    assert cfg.default_hooks.checkpoint.save_best is None
    assert cfg.train_dataloader == base.train_dataloader and cfg.model == base.model


def test_state_veto_config_is_the_default_with_the_constant_veto():
    from bleedorigin.constants import MEMORY_STATE_VETO

    default, veto = load_config('detect'), load_config('detect_state_veto')
    # the paper's decision by default: eq. 1's memory alone
    assert default.model.get('memory_state_veto') is None
    assert veto.model.memory_state_veto == MEMORY_STATE_VETO
    # the same network and weights: only the decision differs
    strip = dict(veto.model)
    strip.pop('memory_state_veto')
    assert strip == dict(default.model)
    assert veto.load_from == default.load_from


def test_default_detector_confirms_with_the_refiner_and_eq2_alarm_config_does_not():
    default, eq2 = load_config('detect'), load_config('detect_eq2_alarm')
    assert default.model.onset_refine_confirm is True
    assert eq2.model.onset_refine_confirm is False
    # the same networks and weights: only the decision differs
    strip = dict(eq2.model)
    strip.pop('onset_refine_confirm')
    base = dict(default.model)
    base.pop('onset_refine_confirm')
    assert strip == base and eq2.load_from == default.load_from
    model = MODELS.build(default.model)
    # eq. 2's threshold proposes; the shipped refiner (and its search) confirms
    assert model.onset_refine_confirm and model.onset_candidate_thr == model.conf_thr == 0.5
    assert model.onset_refine_search == (1, 2, 3)
    assert not MODELS.build(eq2.model).onset_refine_confirm
    # the alarm-gate config decides with its gate; the chain's decision (no refiner) with eq. 2
    assert not MODELS.build(load_config('detect_alarm_gate').model).onset_refine_confirm
    default.merge_from_dict({'model.onset_refiner': None,
                             'model.onset_refiner_checkpoint': None})
    assert not MODELS.build(default.model).onset_refine_confirm


def test_the_default_decodes_with_a_strided_memory_and_trains_with_the_papers():
    default = load_config('detect')
    paper, alias = load_config('detect_paper_memory'), load_config('detect_memory_stride')
    assert default.model.mdcfm.memory_stride == 10
    assert default.model.mdcfm.train_memory_stride == 1  # trains with the paper's CFMS
    mdcfm = MODELS.build(default.model).mdcfm
    assert mdcfm.new_memory().stride == 1 and mdcfm.eval().new_memory().stride == 10
    # the paper's memory: the same model otherwise, stride 1 in both modes
    assert paper.model.mdcfm.memory_stride == 1 and paper.model.mdcfm.train_memory_stride is None
    strip = {k: dict(v) if k == 'mdcfm' else v for k, v in dict(paper.model).items()}
    for k in ('memory_stride', 'train_memory_stride'):
        strip['mdcfm'][k] = default.model.mdcfm[k]
    assert strip == dict(default.model)
    paper_mdcfm = MODELS.build(paper.model).mdcfm
    assert paper_mdcfm.new_memory().stride == 1 and paper_mdcfm.eval().new_memory().stride == 1
    # the earlier name of the strided config is the default itself
    assert dict(alias.model) == dict(default.model)
    # the detector chain validates and mines with the paper's memory, as its scored runs did
    reproduce = load_tool('tools/model_converters/reproduce.py')
    chained = load_config('detect_hue')
    # parsed as tools/train.py parses them (mmengine's DictAction on --cfg-options)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    chained.merge_from_dict(
        parser.parse_args(['--cfg-options', *reproduce.CHAIN_OPTIONS]).cfg_options)
    chain_mdcfm = MODELS.build(chained.model).mdcfm
    assert chain_mdcfm.eval().new_memory().stride == 1


def test_the_strided_hue_stage_trains_with_the_decodings_memory():
    """detect_hue_stride.py: detect_hue.py with the decoding's stride in training too, a
    stage of the chain from the same checkpoint and mined files as detect_hue."""
    hue, strided = load_config('detect_hue'), load_config('detect_hue_stride')
    assert strided.model.mdcfm.train_memory_stride == hue.model.mdcfm.memory_stride == 10
    mdcfm = MODELS.build(strided.model).mdcfm
    assert mdcfm.train().new_memory().stride == 10 and mdcfm.eval().new_memory().stride == 10
    # nothing else differs from the hue stage
    strip = {k: dict(v, train_memory_stride=1) if k == 'mdcfm' else v
             for k, v in dict(strided.model).items()}
    assert strip == dict(hue.model)
    assert strided.train_dataloader == hue.train_dataloader
    assert strided.load_from == hue.load_from == 'work_dirs/detect_hardpos'
    reproduce = load_tool('tools/model_converters/reproduce.py')
    stages = {s.name: s for s in reproduce.STAGES}
    a, b = stages['detect_hue'], stages['detect_hue_stride']
    assert b.config == 'configs/bleedorigin/detect_hue_stride.py'
    assert (b.init_from, b.mine_negatives, b.mine_positives) == (
        a.init_from, a.mine_negatives, a.mine_positives)
