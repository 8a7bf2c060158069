"""tools/reproduce.sh: stage order, skipping finished stages and resuming, without training."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

from tool_loader import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _lines(text):
    return [line for line in text.splitlines() if line.startswith('[reproduce]')]


# the --cfg-options every command of the detector chain gets (reproduce.CHAIN_OPTIONS)
CHAIN = ("--cfg-options 'model.onset_views=()' model.onset_refiner=None "
         'model.onset_refiner_checkpoint=None model.mdcfm.memory_stride=1')


def _zoo(path, **configs):
    """A model zoo folder whose manifest ships ``name=config`` (a config path, or an entry)."""
    path.mkdir(exist_ok=True)
    models = {name: c if isinstance(c, dict) else {'config': c} for name, c in configs.items()}
    (path / 'manifest.json').write_text(json.dumps({'models': models}))
    return path


def _dry_run_shipping(tmp_path, capsys, detect_config):
    """Dry run with a zoo shipping ``detect_config`` and the tracker:
    (tool module, work root, zoo folder, printed step lines)."""
    reproduce = load_tool('tools/model_converters/reproduce.py')
    root = tmp_path / 'runs'
    zoo = _zoo(tmp_path / 'zoo', detect=detect_config, track='configs/bleedorigin/track.py')
    assert reproduce.main(['--dry-run', '--work-root', str(root), '--zoo', str(zoo)]) == 0
    return reproduce, root, zoo, _lines(capsys.readouterr().out)


def test_dry_run_prints_the_stages_in_order(tmp_path):
    root = tmp_path / 'runs'
    env = dict(os.environ, PY=sys.executable, BLEEDORIGIN_CHECKPOINTS=str(tmp_path / 'zoo'),
               PYTHONPATH=REPO)
    proc = subprocess.run(['bash', osp.join(REPO, 'tools', 'reproduce.sh'), '--dry-run',
                           '--work-root', str(root)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = _lines(proc.stdout)
    assert [line.split(':')[0] for line in lines] == [
        '[reproduce] detect (train)', '[reproduce] detect (test)',
        '[reproduce] track_pretrain (train)', '[reproduce] pseudo_labels (pseudo)',
        '[reproduce] track (train)', '[reproduce] track (test)']
    assert f'tools/train.py configs/bleedorigin/detect.py --work-dir {root}/detect' in lines[0]
    assert '--resume' not in proc.stdout  # nothing to resume yet
    assert (f'tools/gen_pseudo_labels.py data/synthetic --tracker-config '
            f'configs/bleedorigin/track_pretrain.py --checkpoint {root}/track_pretrain/'
            'CHECKPOINT.pth --overwrite') in lines[3]
    assert f'--cfg-options load_from={root}/track_pretrain/CHECKPOINT.pth' in lines[4]
    assert (f'tools/test.py configs/bleedorigin/track.py {root}/track/CHECKPOINT.pth '
            f'--work-dir {root}/track/test --out {root}/track/test_metrics.json') in lines[5]
    assert not root.exists()  # a dry run writes nothing


def test_finished_stages_are_skipped_and_interrupted_ones_resumed(tmp_path, capsys):
    reproduce = load_tool('tools/model_converters/reproduce.py')
    root = tmp_path / 'runs'
    detect_final = f'iter_{reproduce.max_iters("configs/bleedorigin/detect.py")}.pth'
    for name in (detect_final, 'best_onset_acc_8_iter_900.pth'):  # detect finished
        (root / 'detect').mkdir(parents=True, exist_ok=True)
        (root / 'detect' / name).write_bytes(b'x')
    pre = root / 'track_pretrain'  # pretraining interrupted at iteration 150
    pre.mkdir()
    (pre / 'iter_150.pth').write_bytes(b'x')
    (pre / 'last_checkpoint').write_text(str(pre / 'iter_150.pth'))
    (root / 'pseudo_labels.started').write_text('')  # pseudo labels interrupted too
    zoo = _zoo(tmp_path / 'zoo', detect='configs/bleedorigin/detect.py',
               track2='configs/bleedorigin/track_selftrain.py')
    assert reproduce.main(['--dry-run', '--work-root', str(root), '--zoo', str(zoo)]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines[0] == (f'[reproduce] skip detect (train): done ({root}/detect/{detect_final} '
                        'exists)')
    assert 'detect (test)' in lines[1]
    assert f'{root}/detect/best_onset_acc_8_iter_900.pth' in lines[1]  # best on validation
    assert lines[2].endswith(f'--work-dir {pre} --resume')
    assert f'--checkpoint {pre}/iter_150.pth' in lines[3] and '--overwrite' not in lines[3]
    # the shipped models decide what is tested: here detect and the self-training stage
    stages = [line.split(':')[0].replace('[reproduce] ', '') for line in lines]
    assert stages == ['skip detect (train)', 'detect (test)', 'track_pretrain (train)',
                      'pseudo_labels (pseudo)', 'track (train)', 'track_selftrain (train)',
                      'track_selftrain (test)']
    # a finished pseudo-label stage is skipped; --stages restricts the run
    (root / 'pseudo_labels.done').write_text('')
    reproduce.main(['--dry-run', '--work-root', str(root), '--zoo', str(zoo), '--stages',
                    'pseudo_labels', 'track'])
    lines = _lines(capsys.readouterr().out)
    assert lines[0] == '[reproduce] skip pseudo_labels (pseudo): done'
    assert lines[1].startswith('[reproduce] track (train)') and len(lines) == 2


def test_a_shipped_second_stage_detector_is_fine_tuned_from_the_first(tmp_path, capsys):
    reproduce, root, zoo, lines = _dry_run_shipping(tmp_path, capsys,
                                                    'configs/bleedorigin/detect_negft.py')
    stages = [line.split(':')[0].replace('[reproduce] ', '') for line in lines]
    # stage 1 trains (not tested: not shipped), stage 2 starts from its checkpoint and is tested
    assert stages[:3] == ['detect (train)', 'detect_negft (train)', 'detect_negft (test)']
    # every command of the chain keeps the decision the shipped chain was built with
    assert (f'configs/bleedorigin/detect_negft.py --work-dir {root}/detect_negft '
            f"{CHAIN} load_from={root}/detect/CHECKPOINT.pth"
            ) in lines[1]
    assert lines[2].endswith(CHAIN)  # its test
    # a manifest shipping the first stage leaves the second one out
    _zoo(zoo, detect='configs/bleedorigin/detect.py')
    reproduce.main(['--dry-run', '--work-root', str(root), '--zoo', str(zoo)])
    assert not any('detect_negft' in line for line in _lines(capsys.readouterr().out))


def test_full_run_chains_checkpoints_and_compares_with_the_zoo(tmp_path, monkeypatch, capsys):
    """The real (not dry) path with the commands faked: each stage gets the checkpoint the
    previous one ended with, the markers and timings are written, the table compares."""
    reproduce = load_tool('tools/model_converters/reproduce.py')
    root = tmp_path / 'runs'
    zoo = _zoo(tmp_path / 'zoo',
               detect={'config': 'configs/bleedorigin/detect.py', 'metrics': {'onset/acc_8': 78.3}},
               track={'config': 'configs/bleedorigin/track.py',
                      'metrics': {'track/err_le_100': 90.0}})
    calls = []

    def fake_run(cmd, cwd, check):
        calls.append(cmd)
        tool = osp.basename(cmd[1])
        if tool == 'train.py':
            work_dir = cmd[cmd.index('--work-dir') + 1]
            os.makedirs(work_dir, exist_ok=True)
            final = osp.join(work_dir, f'iter_{reproduce.max_iters(cmd[2])}.pth')
            open(final, 'w').close()
            with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                f.write(final)
        elif tool == 'test.py':
            metric = {'detect.py': 'onset/acc_8', 'track.py': 'track/err_le_100'}
            with open(cmd[cmd.index('--out') + 1], 'w') as f:
                json.dump({metric[osp.basename(cmd[2])]: 80.0}, f)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(reproduce.subprocess, 'run', fake_run)
    assert reproduce.main(['--work-root', str(root), '--zoo', str(zoo)]) == 0
    tools = [osp.basename(c[1]) for c in calls]
    assert tools == ['train.py', 'test.py', 'train.py', 'gen_pseudo_labels.py', 'train.py',
                     'test.py']
    assert calls[1][3] == str(root / 'detect' / f'iter_{reproduce.max_iters(calls[0][2])}.pth')
    pretrained = str(root / 'track_pretrain' / f'iter_{reproduce.max_iters(calls[2][2])}.pth')
    assert calls[3][calls[3].index('--checkpoint') + 1] == pretrained
    assert calls[4][-1] == f'load_from={pretrained}'
    assert (root / 'pseudo_labels.done').is_file()
    assert set(json.loads((root / 'reproduce_times.json').read_text())['stages_s']) == {
        'detect (train)', 'detect (test)', 'track_pretrain (train)', 'pseudo_labels (pseudo)',
        'track (train)', 'track (test)'}
    out = capsys.readouterr().out
    assert '| detect | Acc±8 % | 78.30 | 80.00 | +1.70 |' in out
    assert '| track | track Err≤100 % | 90.00 | 80.00 | -10.00 |' in out
    # a second run finds everything done and runs nothing
    calls.clear()
    reproduce.main(['--work-root', str(root), '--zoo', str(zoo)])
    assert calls == []


def test_a_shipped_hard_positive_detector_mines_with_the_stages_it_builds_on(tmp_path, capsys):
    _, root, _, lines = _dry_run_shipping(tmp_path, capsys,
                                          'configs/bleedorigin/detect_hardpos.py')
    steps = [line.split(':')[0].replace('[reproduce] ', '') for line in lines]
    detect_steps = [s for s in steps if s.startswith(('detect', 'skip detect'))]
    # detect, then the stages it starts from (renders, mines with detect, two rounds), then
    # the shipped stage (mines positives with round 2, trains, tests)
    order = [s.replace('skip ', '') for s in detect_steps]
    assert order[0] == 'detect (train)' and order[-2:] == ['detect_hardpos (train)',
                                                           'detect_hardpos (test)']
    assert order.index('detect_hardneg_wide (train)') < order.index(
        'detect_hardneg_wide_r2 (train)') < order.index('detect_hardpos (mine)')
    assert 'detect_negft (train)' not in order and 'detect (test)' not in order
    mines = [line for line in lines if '(mine)' in line]
    negatives = [m for m in mines if '--positives' not in m]
    positives = [m for m in mines if '--positives' in m]
    # negatives: every mined stream root of detect_hardneg_wide.py, once, with detect
    assert len(negatives) == 6 and all(
        f'configs/bleedorigin/detect.py {root}/detect/CHECKPOINT.pth' in m for m in negatives)
    assert any('data/negative_streams_mine_s5:train,val,test' in m for m in negatives)
    # positives: the two positive roots' training splits, with round 2
    assert len(positives) == 2
    for m, name in zip(positives, ('synthetic', 'instrument_onsets')):
        assert (f'configs/bleedorigin/detect_hardneg_wide_r2.py '
                f'{root}/detect_hardneg_wide_r2/CHECKPOINT.pth data/{name}:train '
                f'--out {root}/mined/detect_hardneg_wide_r2/{name}_positives.json') in m
    # mined as the shipped chain was: eq. 2 on the video alone
    assert all(m.endswith(CHAIN) for m in mines)
    train = next(line for line in lines if line.startswith('[reproduce] detect_hardpos (train)'))
    assert (f'train_dataloader.dataset.datasets.0.hard_positives='
            f'{root}/mined/detect_hardneg_wide_r2/synthetic_positives.json') in train
    assert (f'train_dataloader.dataset.datasets.2.hard_windows='
            f'{root}/mined/detect/negative_streams_train.json') in train
    assert train.endswith(f'load_from={root}/detect_hardneg_wide_r2/CHECKPOINT.pth')
    # round 2 reads the files round 1 read, from round 1's checkpoint
    r2 = next(line for line in lines
              if line.startswith('[reproduce] detect_hardneg_wide_r2 (train)'))
    assert f'{root}/mined/detect/negative_streams_mine_s8.json' in r2
    assert r2.endswith(f'load_from={root}/detect_hardneg_wide/CHECKPOINT.pth')
    # nothing is mined into the configs' default folders
    assert 'work_dirs/hard_windows' not in '\n'.join(lines)


def test_a_shipped_onset_refiner_is_trained_first_without_the_chain_options(tmp_path, capsys):
    reproduce = load_tool('tools/model_converters/reproduce.py')
    root = tmp_path / 'runs'
    zoo = _zoo(tmp_path / 'zoo', onset_refiner='configs/bleedorigin/onset_refiner.py',
               detect='configs/bleedorigin/detect.py')
    assert reproduce.main(['--dry-run', '--work-root', str(root), '--zoo', str(zoo)]) == 0
    lines = _lines(capsys.readouterr().out)
    stages = [line.split(':')[0].replace('[reproduce] ', '') for line in lines]
    assert stages[:4] == ['onset_refiner (train)', 'onset_refiner (test)', 'detect (train)',
                          'detect (test)']
    assert (f'tools/train.py configs/bleedorigin/onset_refiner.py --work-dir '
            f'{root}/onset_refiner') in lines[0]
    assert '--cfg-options' not in lines[0] and '--cfg-options' not in lines[1]
    # the detector chain is reproduced without the refiner (its shipped decision)
    assert 'model.onset_refiner=None' in lines[2]


def test_a_shipped_hue_detector_trains_after_the_hard_positive_stage(tmp_path, capsys):
    _, root, _, lines = _dry_run_shipping(tmp_path, capsys, 'configs/bleedorigin/detect_hue.py')
    steps = [line.split(':')[0].replace('[reproduce] ', '').replace('skip ', '')
             for line in lines]
    order = [s for s in steps if s.startswith('detect')]
    assert order[0] == 'detect (train)' and order[-2:] == ['detect_hue (train)',
                                                           'detect_hue (test)']
    assert order.index('detect_hardpos (train)') < order.index('detect_hue (train)')
    train = next(line for line in lines if line.startswith('[reproduce] detect_hue (train)'))
    assert train.endswith(f'load_from={root}/detect_hardpos/CHECKPOINT.pth')
    # the same mined files as detect_hardpos (its negatives by detect, positives by round 2)
    hardpos = next(line for line in lines
                   if line.startswith('[reproduce] detect_hardpos (train)'))
    mined = [item for item in train.split() if '/mined/' in item]
    assert mined and mined == [item for item in hardpos.split() if '/mined/' in item]


def test_a_shipped_hue_hardneg_detector_mines_the_positive_roots_with_the_hue_stage(
        tmp_path, capsys):
    _, root, _, lines = _dry_run_shipping(tmp_path, capsys,
                                          'configs/bleedorigin/detect_hue_hardneg.py')
    steps = [line.split(':')[0].replace('[reproduce] ', '').replace('skip ', '')
             for line in lines]
    assert steps.index('detect_hue (train)') < steps.index('detect_hue_hardneg (mine)') < \
        steps.index('detect_hue_hardneg (train)')
    mines = [line for line in lines if line.startswith('[reproduce] detect_hue_hardneg (mine)')]
    # the two positive roots' training negatives, with the hue stage's checkpoint (not
    # positives); the streams' windows are the files detect already mined for earlier stages
    assert len(mines) == 2
    for name, mine in zip(('synthetic', 'instrument_onsets'), mines):
        assert f'configs/bleedorigin/detect_hue.py {root}/detect_hue/CHECKPOINT.pth' in mine
        assert f'data/{name}:train --out {root}/mined/detect_hue/{name}.json' in mine
        assert '--positives' not in mine and 'model.onset_views=()' in mine
    train = next(line for line in lines
                 if line.startswith('[reproduce] detect_hue_hardneg (train)'))
    assert train.endswith(f'load_from={root}/detect_hue/CHECKPOINT.pth')
    hue = next(line for line in lines if line.startswith('[reproduce] detect_hue (train)'))
    mined = [item for item in train.split() if '/mined/' in item]
    new = [item for item in mined if item not in hue.split()]
    assert sorted(new) == [
        f'train_dataloader.dataset.datasets.0.hard_windows={root}/mined/detect_hue/'
        'synthetic.json',
        f'train_dataloader.dataset.datasets.3.hard_windows={root}/mined/detect_hue/'
        'instrument_onsets.json']
    assert len(mined) == len([item for item in hue.split() if '/mined/' in item]) + 2


def test_the_colour_robust_chain_is_mined_by_its_own_first_stage(tmp_path, capsys):
    reproduce = load_tool('tools/model_converters/reproduce.py')
    root = tmp_path / 'runs'
    stages = ['detect_hue_s1', 'detect_hc_hardneg_wide', 'detect_hc_hardneg_wide_r2',
              'detect_hc_hardpos']
    (tmp_path / 'stage1').mkdir()  # a trained stage 1 (--from-dir takes its last file)
    (tmp_path / 'stage1' / 'iter_10.pth').write_bytes(b'')
    assert reproduce.main(['--dry-run', '--work-root', str(root), '--stages', *stages,
                           '--from-dir', f'detect={tmp_path}/stage1', '--seed', '2']) == 0
    lines = [line for line in _lines(capsys.readouterr().out) if '(render)' not in line]
    steps = [line.split(':')[0].replace('[reproduce] ', '') for line in lines]
    order = [s for s in steps if not s.startswith('skip')]
    assert order == ['detect_hue_s1 (train)'] + ['detect_hc_hardneg_wide (mine)'] * 6 + [
        'detect_hc_hardneg_wide (train)', 'detect_hc_hardneg_wide_r2 (train)',
        'detect_hc_hardpos (mine)', 'detect_hc_hardpos (mine)', 'detect_hc_hardpos (train)']
    first = lines[steps.index('detect_hue_s1 (train)')]
    assert first.endswith(f'load_from={tmp_path}/stage1/iter_10.pth')
    assert 'randomness.seed=2' in first
    # the streams are mined by the colour-robust first stage, not by stage 1
    mines = [line for line in lines if line.startswith('[reproduce] detect_hc_hardneg_wide (mine)')]
    for mine in mines:
        assert f'configs/bleedorigin/detect_hue_s1.py {root}/detect_hue_s1/CHECKPOINT.pth' in mine
        assert f'--out {root}/mined/detect_hue_s1/negative_streams_' in mine
    wide, r2, hardpos = (next(line for line in lines if line.startswith(f'[reproduce] {s} (train)'))
                         for s in stages[1:])
    mined = [item for item in wide.split() if '/mined/' in item]
    assert len(mined) == 15 and all('/mined/detect_hue_s1/' in item for item in mined)
    assert mined == [item for item in r2.split() if '/mined/' in item]
    assert r2.endswith(f'load_from={root}/detect_hc_hardneg_wide/CHECKPOINT.pth')
    # the last stage: the same negative windows, positives mined by round 2
    assert [i for i in hardpos.split() if '/mined/detect_hue_s1/' in i] == mined
    assert sorted(i for i in hardpos.split() if 'hard_positives=' in i) == [
        f'train_dataloader.dataset.datasets.0.hard_positives={root}/mined/'
        'detect_hc_hardneg_wide_r2/synthetic_positives.json',
        f'train_dataloader.dataset.datasets.3.hard_positives={root}/mined/'
        'detect_hc_hardneg_wide_r2/instrument_onsets_positives.json']
    assert hardpos.endswith(f'load_from={root}/detect_hc_hardneg_wide_r2/CHECKPOINT.pth')


def test_stages_whose_starting_checkpoints_are_missing_are_refused_before_anything_runs(
        tmp_path, capsys, monkeypatch):
    reproduce = load_tool('tools/model_converters/reproduce.py')
    root = tmp_path / 'runs'
    zoo = _zoo(tmp_path / 'zoo', detect='configs/bleedorigin/detect_hardpos.py')
    ran = []
    monkeypatch.setattr(reproduce.subprocess, 'run', lambda *a, **k: ran.append(a))
    args = ['--work-root', str(root), '--zoo', str(zoo), '--stages', 'detect_hardpos', '--no-test']
    # detect_hardpos mines positives with round 2 and starts from it; its negatives were
    # mined by detect: neither is trained nor named
    try:
        reproduce.main(args)
    except ValueError as err:
        assert str(err).startswith(f'detect_hardneg_wide_r2, detect not trained under {root}')
        assert 'add detect_hardneg_wide_r2 detect to --stages' in str(err)
    else:
        raise AssertionError('a stage without its starting checkpoint was run')
    assert ran == []  # refused before the first step
    # a dry run says so and goes on
    assert reproduce.main(['--dry-run'] + args) == 0
    assert '[reproduce] note: detect_hardneg_wide_r2, detect not trained' in capsys.readouterr().out
    # trained already (or named in --stages): nothing is missing
    for stage in ('detect', 'detect_hardneg_wide_r2'):
        (root / stage).mkdir(parents=True)
        (root / stage / 'best_onset_select_err_iter_400.pth').write_bytes(b'')
    steps = reproduce.plan(reproduce.parse_args(args), {})
    assert reproduce.unmet_dependencies(steps, str(root)) == []
    steps = reproduce.plan(reproduce.parse_args(
        ['--work-root', str(tmp_path / 'other'), '--stages', 'detect', 'detect_hardneg_wide',
         'detect_hardneg_wide_r2', 'detect_hardpos']), {})
    assert reproduce.unmet_dependencies(steps, str(tmp_path / 'other')) == []


def test_from_zoo_starts_the_chain_from_the_shipped_stage_instead_of_training_it(
        tmp_path, capsys):
    import hashlib
    reproduce = load_tool('tools/model_converters/reproduce.py')
    root = tmp_path / 'runs'
    zoo = tmp_path / 'zoo'
    zoo.mkdir()
    (zoo / 'stage1.pth').write_bytes(b'weights')
    sha = hashlib.sha256(b'weights').hexdigest()
    _zoo(zoo, detect='configs/bleedorigin/detect_hardpos.py',
         detect_stage1={'config': 'configs/bleedorigin/detect.py', 'file': 'zoo/stage1.pth',
                        'sha256': sha})
    stage1 = str(zoo / 'stage1.pth')
    args = ['--dry-run', '--work-root', str(root), '--zoo', str(zoo), '--from-zoo', 'detect',
            '--stages', 'detect_hardneg_wide', 'detect_hardneg_wide_r2', 'detect_hardpos']
    assert reproduce.main(args) == 0
    out = capsys.readouterr().out
    assert 'not trained' not in out  # detect's checkpoint is the zoo's
    lines = _lines(out)
    assert not any(line.startswith('[reproduce] detect (train)') for line in lines)
    negatives = [line for line in lines if '(mine)' in line and '--positives' not in line]
    assert len(negatives) == 6 and all(
        f'configs/bleedorigin/detect.py {stage1} data/' in m for m in negatives)
    first = next(line for line in lines
                 if line.startswith('[reproduce] detect_hardneg_wide (train)'))
    assert first.endswith(f'load_from={stage1}')
    # with every stage (no --stages): detect is taken, not trained, and not tested
    assert reproduce.main(args[:7]) == 0
    lines = _lines(capsys.readouterr().out)
    assert f'[reproduce] skip detect (zoo): given ({stage1})' in lines
    assert not any(line.startswith(('[reproduce] detect (train)', '[reproduce] detect (test)'))
                   for line in lines)
    # a stage the zoo ships no model of, and a file that is not the zoo's
    try:
        reproduce.main(args[:5] + ['--from-zoo', 'track_pretrain'])
    except ValueError as err:
        assert str(err).startswith('--from-zoo track_pretrain: the zoo ships no model trained '
                                   'with configs/bleedorigin/track_pretrain.py')
    else:
        raise AssertionError('--from-zoo of an unshipped stage was accepted')
    (zoo / 'stage1.pth').write_bytes(b'other weights')
    try:
        reproduce.main(args)
    except Exception as err:  # noqa: BLE001
        assert 'sha256 mismatch' in str(err)
    else:
        raise AssertionError('a replaced zoo file was used')


def test_from_dir_seed_and_threads_run_the_chain_again_from_another_run(tmp_path, capsys):
    import pytest
    reproduce = load_tool('tools/model_converters/reproduce.py')
    root = tmp_path / 'runs'
    zoo = _zoo(tmp_path / 'zoo', detect='configs/bleedorigin/detect_hardpos.py')
    run = tmp_path / 'stage1_seed1'
    run.mkdir()
    for name in ('iter_2000.pth', 'best_detect_select_err_iter_2400.pth'):
        (run / name).write_bytes(b'w')
    best = str(run / 'best_detect_select_err_iter_2400.pth')
    args = ['--dry-run', '--work-root', str(root), '--zoo', str(zoo),
            '--stages', 'detect_hardneg_wide', 'detect_hardneg_wide_r2', 'detect_hardpos']
    assert reproduce.main(args + ['--from-dir', f'detect={run}', '--seed', '1',
                                  '--cpu-threads', '2']) == 0
    out = capsys.readouterr().out
    assert 'not trained' not in out  # detect's checkpoint is the other run's best
    lines = _lines(out)
    negatives = [line for line in lines if '(mine)' in line and '--positives' not in line]
    assert len(negatives) == 6 and all(f'detect.py {best} data/' in m for m in negatives)
    trains = [line for line in lines if '(train)' in line]
    assert [line.split(':')[0] for line in trains] == [
        '[reproduce] detect_hardneg_wide (train)', '[reproduce] detect_hardneg_wide_r2 (train)',
        '[reproduce] detect_hardpos (train)']
    # every training gets the seed and the threads; mining and testing do not
    assert all(' randomness.seed=1 cpu_threads=2 ' in line for line in trains)
    assert trains[0].endswith(f'load_from={best}')
    assert not any('randomness.seed' in line for line in lines if '(train)' not in line)
    # without the options the commands are the configs' own
    assert reproduce.main(args + ['--from-dir', f'detect={run}']) == 0
    assert 'randomness.seed' not in capsys.readouterr().out
    # bad items are named
    with pytest.raises(ValueError, match=r"--from-dir 'detect': expected STAGE=DIR"):
        reproduce.main(args + ['--from-dir', 'detect'])
    with pytest.raises(ValueError, match=r"--from-dir 'detekt=.*': unknown stage 'detekt'"):
        reproduce.main(args + ['--from-dir', f'detekt={run}'])
    with pytest.raises(FileNotFoundError, match=str(tmp_path / 'empty')):
        (tmp_path / 'empty').mkdir()
        reproduce.main(args + ['--from-dir', f'detect={tmp_path / "empty"}'])
    with pytest.raises(ValueError, match='--cpu-threads 0: expected >= 1'):
        reproduce.main(args + ['--from-dir', f'detect={run}', '--cpu-threads', '0'])


def _hardpos_zoo_and_stage1(tmp_path):
    """(tool module, work root, a zoo shipping detect_hardpos.py, a finished stage-1 run)."""
    reproduce = load_tool('tools/model_converters/reproduce.py')
    zoo = _zoo(tmp_path / 'zoo', detect='configs/bleedorigin/detect_hardpos.py')
    run = tmp_path / 'stage1'
    run.mkdir()
    (run / 'best_detect_select_err_iter_2400.pth').write_bytes(b'w')
    return reproduce, tmp_path / 'runs', zoo, run


def test_the_times_of_a_stages_several_mining_steps_add_up(tmp_path, monkeypatch, capsys):
    reproduce, root, zoo, run = _hardpos_zoo_and_stage1(tmp_path)
    calls = []

    def fake_run(cmd, cwd, check):
        calls.append(osp.basename(cmd[1]))
        if osp.basename(cmd[1]) == 'train.py':
            work_dir = cmd[cmd.index('--work-dir') + 1]
            os.makedirs(work_dir, exist_ok=True)
            open(osp.join(work_dir, f'iter_{reproduce.max_iters(cmd[2])}.pth'), 'w').close()
        return subprocess.CompletedProcess(cmd, 0)

    clock = iter(range(0, 10_000, 10))  # every step takes 10 s (two clock reads a step)
    monkeypatch.setattr(reproduce.time, 'time', lambda: float(next(clock)))
    monkeypatch.setattr(reproduce.subprocess, 'run', fake_run)
    assert reproduce.main(['--work-root', str(root), '--zoo', str(zoo), '--no-test',
                           '--from-dir', f'detect={run}', '--stages',
                           'detect_hardneg_wide']) == 0
    times = json.loads((root / 'reproduce_times.json').read_text())['stages_s']
    mined = calls.count('mine_hard_windows.py')
    assert mined == 6  # one per stream root of the config
    assert times['detect_hardneg_wide (mine)'] == 10.0 * mined
    assert times['detect_hardneg_wide (train)'] == 10.0
    assert all(line.endswith('finished in 0.2 min') for line in _lines(capsys.readouterr().out)
               if 'finished in' in line)


def test_an_interrupted_run_keeps_its_times_and_the_resumed_run_adds_to_them(
        tmp_path, monkeypatch):
    import pytest

    reproduce, root, zoo, run = _hardpos_zoo_and_stage1(tmp_path)
    state = {'fail_train': True}

    def fake_run(cmd, cwd, check):
        if osp.basename(cmd[1]) == 'train.py':
            if state['fail_train']:
                raise subprocess.CalledProcessError(1, cmd)  # killed in the training
            work_dir = cmd[cmd.index('--work-dir') + 1]
            os.makedirs(work_dir, exist_ok=True)
            open(osp.join(work_dir, f'iter_{reproduce.max_iters(cmd[2])}.pth'), 'w').close()
        return subprocess.CompletedProcess(cmd, 0)

    clock = iter(range(0, 10_000, 10))
    monkeypatch.setattr(reproduce.time, 'time', lambda: float(next(clock)))
    monkeypatch.setattr(reproduce.subprocess, 'run', fake_run)
    argv = ['--work-root', str(root), '--zoo', str(zoo), '--no-test', '--from-dir',
            f'detect={run}', '--stages', 'detect_hardneg_wide']
    with pytest.raises(subprocess.CalledProcessError):
        reproduce.main(argv)
    path = root / 'reproduce_times.json'
    first = json.loads(path.read_text())
    assert 'detect_hardneg_wide (train)' not in first['stages_s']
    mined = first['stages_s']['detect_hardneg_wide (mine)']
    assert mined > 0 and first['total_s'] >= mined
    assert not [p for p in os.listdir(root) if p.startswith('.reproduce_times')]
    # resumed: the mining is invoked again (the mine tool keeps the files it finished) and
    # the training's time is added to the first run's figures
    state['fail_train'] = False
    assert reproduce.main(argv) == 0
    second = json.loads(path.read_text())
    assert second['stages_s']['detect_hardneg_wide (train)'] == 10.0
    assert second['stages_s']['detect_hardneg_wide (mine)'] >= mined
    assert second['total_s'] > first['total_s']
    # a file this tool did not write is named, not overwritten
    path.write_text('[1, 2]')
    with pytest.raises(ValueError, match='reproduce_times.json: not a reproduce_times.json'):
        reproduce.main(argv)
    assert path.read_text() == '[1, 2]'


def test_mine_jobs_runs_a_stages_mining_side_by_side_with_one_log_each(
        tmp_path, monkeypatch, capsys):
    """--mine-jobs 2: the six mining runs of a stage go two at a time (each to its own log),
    their wall time counts once, the training waits for all of them; a failed run is reported
    after the others finished."""
    import threading
    import time as real_time

    import pytest

    reproduce, root, zoo, run = _hardpos_zoo_and_stage1(tmp_path)
    lock = threading.Lock()
    state = {'running': 0, 'most': 0, 'order': [], 'fail': None}

    def fake_run(cmd, cwd, check, **kw):
        tool = osp.basename(cmd[1])
        with lock:
            state['order'].append(tool)
            state['running'] += 1
            state['most'] = max(state['most'], state['running'])
        if tool == 'mine_hard_windows.py':
            assert kw['stdout'].name.startswith(argv[1] + '/logs/')
            kw['stdout'].write('mined\n')
            real_time.sleep(0.05)
        if tool == 'train.py':
            work_dir = cmd[cmd.index('--work-dir') + 1]
            os.makedirs(work_dir, exist_ok=True)
            open(osp.join(work_dir, f'iter_{reproduce.max_iters(cmd[2])}.pth'), 'w').close()
        with lock:
            state['running'] -= 1
        out = cmd[cmd.index('--out') + 1] if '--out' in cmd else ''
        failed = state['fail'] is not None and out.endswith(state['fail'])
        return subprocess.CompletedProcess(cmd, 3 if failed else 0)

    monkeypatch.setattr(reproduce.subprocess, 'run', fake_run)
    argv = ['--work-root', str(root), '--zoo', str(zoo), '--no-test', '--from-dir',
            f'detect={run}', '--stages', 'detect_hardneg_wide', '--mine-jobs', '2']
    assert reproduce.main(argv) == 0
    assert state['order'].count('mine_hard_windows.py') == 6
    assert state['order'][-1] == 'train.py'  # after every mining run
    assert state['most'] == 2
    logs = sorted(p.name for p in (root / 'logs').iterdir())
    assert len(logs) == 6 and 'negative_streams_train.log' in logs
    assert (root / 'logs' / 'negative_streams_train.log').read_text() == 'mined\n'
    out = capsys.readouterr().out
    assert '(6 runs, 2 at a time)' in out
    # (render steps too where the roots are not rendered, as in a clean clone)
    assert {'detect_hardneg_wide (mine)', 'detect_hardneg_wide (train)'} <= set(
        json.loads((root / 'reproduce_times.json').read_text())['stages_s'])

    # one failed mining run: the others still run, then the error; no training
    state.update(order=[], fail='negative_streams_mine_s5.json')
    argv[1] = str(tmp_path / 'runs2')
    with pytest.raises(subprocess.CalledProcessError) as failed:
        reproduce.main(argv)
    assert failed.value.returncode == 3
    assert [t for t in state['order'] if t != 'make_synthetic.py'] == [
        'mine_hard_windows.py'] * 6
    with pytest.raises(ValueError, match='--mine-jobs 0: expected >= 1'):
        reproduce.main(argv[:-2] + ['--mine-jobs', '0'])


def test_side_by_side_logs_never_share_a_file():
    """Two mining outputs with one file name in different folders get two logs."""
    reproduce = load_tool('tools/model_converters/reproduce.py')
    cmds = [['py', 'mine.py', '--out', 'a/streams.json'],
            ['py', 'mine.py', '--out', 'b/streams.json'],
            ['py', 'mine.py', '--out', 'b/other.json'],
            ['py', 'render.py', 'data/root']]
    assert reproduce.side_by_side_logs(cmds, 'logs') == [
        osp.join('logs', 'streams.log'), osp.join('logs', 'streams_2.log'),
        osp.join('logs', 'other.log'), osp.join('logs', 'root.log')]


def test_reuse_mined_starts_each_missing_mining_output_from_another_runs_file(
        tmp_path, monkeypatch, capsys):
    """--reuse-mined: a mining run starts from the other run's file at the same place (the
    mining tool decides whether it was mined alike); an output this run has is kept, a file
    the other run lacks is mined from nothing, and a folder without mined/ is refused."""
    import pytest

    reproduce, root, zoo, run = _hardpos_zoo_and_stage1(tmp_path)
    found = {}

    def fake_run(cmd, cwd, check, **kw):
        if osp.basename(cmd[1]) == 'mine_hard_windows.py':
            out = cmd[cmd.index('--out') + 1]
            found[osp.basename(out)] = open(out).read() if osp.exists(out) else None
            if not osp.exists(out):
                os.makedirs(osp.dirname(out), exist_ok=True)
                with open(out, 'w') as f:
                    f.write('mined here')
        if osp.basename(cmd[1]) == 'train.py':
            work_dir = cmd[cmd.index('--work-dir') + 1]
            os.makedirs(work_dir, exist_ok=True)
            open(osp.join(work_dir, f'iter_{reproduce.max_iters(cmd[2])}.pth'), 'w').close()
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(reproduce.subprocess, 'run', fake_run)
    argv = ['--work-root', str(root), '--zoo', str(zoo), '--no-test', '--from-dir',
            f'detect={run}', '--stages', 'detect_hardneg_wide']
    assert reproduce.main(argv) == 0
    first = dict(found)
    assert len(first) == 6 and set(first.values()) == {None}
    mined = sorted((root / 'mined').rglob('*.json'))
    (mined[0]).write_text('from the first run')
    (mined[1]).unlink()  # the other run lacks this one

    again = tmp_path / 'runs2'
    kept = again / mined[2].relative_to(root)
    kept.parent.mkdir(parents=True)
    kept.write_text('this run had it')
    found.clear()
    assert reproduce.main(['--work-root', str(again)] + argv[2:]
                          + ['--reuse-mined', str(root)]) == 0
    assert found[mined[0].name] == 'from the first run'
    assert found[mined[1].name] is None
    assert found[mined[2].name] == 'this run had it'
    assert all(found[p.name] == 'mined here' for p in mined[3:])
    # every output under its own name, no temporary file of the copies left beside them
    assert sorted(p.relative_to(again) for p in (again / 'mined').rglob('*')
                  if p.is_file()) == [p.relative_to(root) for p in mined]
    assert f'starting from {mined[0]}' in capsys.readouterr().out

    with pytest.raises(ValueError, match='--reuse-mined .*: no mined/ folder in it'):
        reproduce.main(['--work-root', str(tmp_path / 'runs3')] + argv[2:]
                       + ['--reuse-mined', str(tmp_path / 'zoo')])


def test_the_setup_train_job_retrains_the_shipped_detector_s_last_stage(tmp_path, capsys):
    """``bash tools/setup.sh train`` names its stages by hand and tests the last one: that is
    the shipped detector's config, and the real manifest's dry run trains exactly them."""
    from bleedorigin.utils.model_zoo import load_manifest

    with open(osp.join(REPO, 'tools', 'setup.sh')) as f:
        setup = f.read()
    stages = re.search(r'stages=\(([\w ]+)\)', setup).group(1).split()
    assert '--stages "${stages[@]}"' in setup
    assert 'zoo.py find "$work_root/${stages[-1]}"' in setup
    shipped = load_manifest(osp.join(REPO, 'checkpoints'))['detect']['config']
    assert shipped == f'configs/bleedorigin/{stages[-1]}.py'
    _, _, _, lines = _dry_run_shipping(tmp_path, capsys, shipped)
    order = [line.split(':')[0].replace('[reproduce] ', '') for line in lines]
    chain = [s.replace(' (train)', '') for s in order
             if s.startswith('detect') and s.endswith('(train)')]
    assert chain == stages
