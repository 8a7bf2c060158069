"""Train every shipped model from scratch, test each, and compare with the zoo.

Run through ``bash tools/reproduce.sh [--dry-run] [--work-root DIR] [--stages ...]``.

Stages, in the documented order (docs/model_zoo.md):

0. ``onset_refiner`` (only if a shipped model uses its config):
   ``tools/train.py configs/bleedorigin/onset_refiner.py``, the detector's fine-resolution
   second look at eq. 2's onset (a model of its own);
1. ``detect``: ``tools/train.py configs/bleedorigin/detect.py``; then, only if a shipped
   model uses their config (or a stage that does starts from them), the detector's later
   stages, each fine-tuned from an earlier one: ``detect_negft`` (more negative streams),
   ``detect_hardneg_wide`` (windows mined by ``detect`` on negative streams), its second
   round ``detect_hardneg_wide_r2`` (the same windows) and ``detect_hardpos`` (the same
   windows plus the training onsets ``detect_hardneg_wide_r2`` misses, finds off the exact
   frame or is unsure of), then ``detect_hue`` (the same sets, the colour augmentation
   turning the pooled Red-Mask channel with the hue), ``detect_hue_stride`` (``detect_hue``
   trained with the default decision's strided clean-view memory: the shipped detector's
   last stage since session 38) and ``detect_hue_hardneg`` (the same sets plus the negative
   training clips of the positive roots, mined by ``detect_hue``).
   A stage with mined inputs first
   renders the config's synthetic roots (``make_synthetic.py``, resumable) and mines them
   (``mine_hard_windows.py``, resumable) with the named stage's checkpoint, into
   ``WORK_ROOT/mined/<stage>/``; the training reads them through ``--cfg-options``;
2. ``track_pretrain``: tracker pretraining on synthetic point tracks;
3. ``pseudo_labels``: ``tools/gen_pseudo_labels.py`` with the pretrained tracker;
4. ``track``: hybrid LoRA fine-tuning with the pseudo labels, from the pretrained tracker;
5. ``track_selftrain`` (only if a shipped model uses its config, or ``--selftrain``):
   the second fine-tuning stage, from ``track``.

``--from-zoo STAGE`` takes a stage's checkpoint from the zoo instead of training it (e.g.
``--from-zoo detect``: the detector chain's fine-tuning from the shipped stage 1);
``--from-dir STAGE=DIR`` takes it from another run's work dir (its ``find_checkpoint``).
``--seed S`` and ``--cpu-threads N`` go to every training stage (``randomness.seed``,
``cpu_threads``): the chain again from another seed or with two torch threads.
``--reuse-mined OTHER_ROOT`` starts each mining output from another run's file at the same
place (the mining tool keeps it only if mined with the same checkpoint, options, data root and
threshold): with ``--from-zoo detect`` the first round is mined by the shipped stage 1 for
every seed alike, and a second seed skips those 30 minutes.

Resumable: a training stage whose final checkpoint (``iter_<max_iters>.pth``)
exists is skipped, an interrupted one continues with ``tools/train.py
--resume``; the pseudo labels record completion in a marker file (and the tool
itself skips segments already written); a test whose metrics file is newer
than its checkpoint is not rerun. Then every trained model that the zoo ships
is evaluated with ``tools/test.py`` and its key metrics are printed beside the
manifest's (``tools/model_converters/zoo.py compare``). Wall times per stage go
to ``WORK_ROOT/reproduce_times.json``, rewritten atomically after every step; a
resumed run adds its times to the ones already there, so an interrupted run
loses none and the file of a resumed chain holds the whole chain's time.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import shutil
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from bleedorigin.utils.io import atomic_output, write_json_atomic  # noqa: E402
from bleedorigin.utils.model_zoo import (  # noqa: E402
    DEFAULT_DETECT,
    DEFAULT_TRACK,
    compare_table,
    find_checkpoint,
    get_checkpoint,
    load_manifest,
)

DATA_ROOT = 'data/synthetic'


class Stage(NamedTuple):
    name: str
    config: str
    init_from: Optional[str] = None   # stage whose checkpoint initialises this one
    pseudo: bool = False              # the pseudo-label stage (no training)
    optional: bool = False
    mine_negatives: Optional[str] = None  # stage whose checkpoint mines the hard windows
    mine_positives: Optional[str] = None  # stage whose checkpoint mines the hard positives
    # (root folder name, stage): these roots' hard windows are mined by that stage instead
    # of ``mine_negatives``
    mine_negatives_by_root: Tuple[Tuple[str, str], ...] = ()


def hue_variant(name: str) -> Stage:
    """A last detector stage trained like ``detect_hue``: its own config
    ``configs/bleedorigin/<name>.py``, from ``detect_hardpos``, with the same mined files."""
    return Stage(name, f'configs/bleedorigin/{name}.py', init_from='detect_hardpos',
                 optional=True, mine_negatives='detect', mine_positives='detect_hardneg_wide_r2')


STAGES = (
    Stage('onset_refiner', 'configs/bleedorigin/onset_refiner.py', optional=True),
    Stage('detect', 'configs/bleedorigin/detect.py'),
    Stage('detect_negft', 'configs/bleedorigin/detect_negft.py', init_from='detect',
          optional=True),
    Stage('detect_hardneg_wide', 'configs/bleedorigin/detect_hardneg_wide.py',
          init_from='detect', optional=True, mine_negatives='detect'),
    Stage('detect_hardneg_wide_r2', 'configs/bleedorigin/detect_hardneg_wide_r2.py',
          init_from='detect_hardneg_wide', optional=True, mine_negatives='detect'),
    Stage('detect_hardpos', 'configs/bleedorigin/detect_hardpos.py',
          init_from='detect_hardneg_wide_r2', optional=True, mine_negatives='detect',
          mine_positives='detect_hardneg_wide_r2'),
    hue_variant('detect_hue'),
    # the hue stage on anchored video (issue 11, twenty-fifth step): same data and mined files
    hue_variant('detect_hue_anchor'),
    # the hue stage with borderline clips of the default look, and with instrument negatives
    # too (issue 11, twenty-sixth step)
    hue_variant('detect_hue_borderline'),
    hue_variant('detect_hue_borderline_instruments'),
    # the hue stage trained with the decoding's strided memory (issue 11, thirty-fifth step)
    hue_variant('detect_hue_stride'),
    Stage('detect_hue_hardneg', 'configs/bleedorigin/detect_hue_hardneg.py',
          init_from='detect_hue', optional=True, mine_negatives='detect',
          mine_positives='detect_hardneg_wide_r2',
          mine_negatives_by_root=(('synthetic', 'detect_hue'),
                                  ('instrument_onsets', 'detect_hue'))),
    # the colour-robust chain (issue 11, twentieth step): the colour augmentation from the
    # first fine-tune on, so that the hard windows are mined by a colour-robust model
    Stage('detect_hue_s1', 'configs/bleedorigin/detect_hue_s1.py', init_from='detect',
          optional=True),
    Stage('detect_hc_hardneg_wide', 'configs/bleedorigin/detect_hc_hardneg_wide.py',
          init_from='detect_hue_s1', optional=True, mine_negatives='detect_hue_s1'),
    Stage('detect_hc_hardneg_wide_r2', 'configs/bleedorigin/detect_hc_hardneg_wide_r2.py',
          init_from='detect_hc_hardneg_wide', optional=True, mine_negatives='detect_hue_s1'),
    Stage('detect_hc_hardpos', 'configs/bleedorigin/detect_hc_hardpos.py',
          init_from='detect_hc_hardneg_wide_r2', optional=True, mine_negatives='detect_hue_s1',
          mine_positives='detect_hc_hardneg_wide_r2'),
    Stage('track_pretrain', 'configs/bleedorigin/track_pretrain.py'),
    Stage('pseudo_labels', 'configs/bleedorigin/track_pretrain.py', init_from='track_pretrain',
          pseudo=True),
    Stage('track', 'configs/bleedorigin/track.py', init_from='track_pretrain'),
    Stage('track_selftrain', 'configs/bleedorigin/track_selftrain.py', init_from='track',
          optional=True),
)
STAGE_NAMES = tuple(s.name for s in STAGES)
STAGE_BY_NAME = {s.name: s for s in STAGES}
MINE_TOOL = 'tools/analysis_tools/mine_hard_windows.py'
# The decision the shipped detector chain was trained, validated, mined and published with
# (sessions 1-10): eq. 2 on the video alone. Since session 11 the configs add the mirror view
# (onset_views); the chain keeps its own decision so that it reproduces the shipped weights
# and the manifest's metrics. Since session 12 the configs add the onset refiner, a model of
# its own (stage onset_refiner); the chain runs without it for the same reason. Since session
# 33 the configs decode with a strided clean-view memory (model.mdcfm.memory_stride=10); the
# chain validates and mines with the paper's memory, as every scored chain run did.
CHAIN_OPTIONS = ('model.onset_views=()', 'model.onset_refiner=None',
                 'model.onset_refiner_checkpoint=None', 'model.mdcfm.memory_stride=1')


def chain_options(stage: 'Stage') -> List[str]:
    """``--cfg-options`` items every command of a detector stage gets."""
    return list(CHAIN_OPTIONS) if 'detect' in osp.basename(stage.config) else []


def cfg_options_args(items: List[str]) -> List[str]:
    """``['--cfg-options', *items]``, or nothing without items."""
    return ['--cfg-options'] + items if items else []


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Reproduce the model zoo from scratch')
    parser.add_argument('--work-root', default='work_dirs/reproduce',
                        help='one work dir per stage below this folder')
    parser.add_argument('--stages', nargs='+', choices=STAGE_NAMES,
                        help='run only these stages (default: all, in order)')
    parser.add_argument('--selftrain', action='store_true',
                        help='also run track_selftrain (default: only if a shipped model '
                        'uses its config)')
    parser.add_argument('--dry-run', action='store_true',
                        help='print what would run (and what is skipped) without running it')
    parser.add_argument('--no-test', action='store_true', help='train only')
    parser.add_argument('--zoo', help='model zoo folder (default: <repo>/checkpoints)')
    parser.add_argument('--from-zoo', nargs='+', choices=STAGE_NAMES, default=[],
                        metavar='STAGE',
                        help='take these stages\' checkpoints from the zoo (the shipped model '
                        'trained with the stage\'s config, sha256-checked) instead of training '
                        'them, e.g. --from-zoo detect reproduces the detector chain from the '
                        'shipped stage 1 (detect_stage1.pth)')
    parser.add_argument('--from-dir', nargs='+', default=[], metavar='STAGE=DIR',
                        help='take these stages\' checkpoints from other runs\' work dirs '
                        '(the checkpoint each run ends with: best_*.pth, else the last one) '
                        'instead of training them, e.g. detect=work_dirs/detect_seed1')
    parser.add_argument('--seed', type=int,
                        help='randomness.seed of every training stage (default: each '
                        'config\'s own)')
    parser.add_argument('--cpu-threads', type=int,
                        help='torch threads of every training stage (default: each '
                        'config\'s cpu_threads)')
    parser.add_argument('--mine-jobs', type=int, default=1,
                        help='mining runs of a stage at a time (each one torch thread; 2 on '
                        'a 2-core machine halves the mining wall time); with more than one, '
                        'each run writes its output to WORK_ROOT/logs/')
    parser.add_argument('--reuse-mined', metavar='WORK_ROOT',
                        help='start each mining output this run lacks from the same file '
                        'of another run (its WORK_ROOT/mined/...): mine_hard_windows.py keeps '
                        'it only if its checkpoint, options, data root and threshold match '
                        'and mines the rest, e.g. the first round of --from-zoo detect, which '
                        'every seed mines with the shipped stage 1 alike')
    return parser.parse_args(argv)


def dir_checkpoints(items: List[str]) -> Dict[str, str]:
    """``{stage: checkpoint}`` from ``--from-dir STAGE=DIR`` items.

    Raises:
        ValueError: naming the item, for a malformed item or an unknown stage.
        FileNotFoundError: naming the folder, if it holds no checkpoint.
    """
    found = {}
    for item in items:
        stage, sep, work_dir = item.partition('=')
        if not sep or not work_dir:
            raise ValueError(f'--from-dir {item!r}: expected STAGE=DIR')
        if stage not in STAGE_BY_NAME:
            raise ValueError(f'--from-dir {item!r}: unknown stage {stage!r} (one of '
                             f'{", ".join(STAGE_NAMES)})')
        found[stage] = find_checkpoint(work_dir)
    return found


def train_options(args) -> List[str]:
    """``--cfg-options`` items of ``--seed`` and ``--cpu-threads`` for every training."""
    items = []
    if getattr(args, 'seed', None) is not None:
        items.append(f'randomness.seed={args.seed}')
    if getattr(args, 'cpu_threads', None) is not None:
        if args.cpu_threads < 1:
            raise ValueError(f'--cpu-threads {args.cpu_threads}: expected >= 1')
        items.append(f'cpu_threads={args.cpu_threads}')
    return items


def max_iters(config: str) -> int:
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    return int(cfg.train_cfg['max_iters'])


def with_dependencies(names) -> set:
    """``names`` and every stage they start from or mine with, recursively."""
    todo, out = list(names), set()
    while todo:
        name = todo.pop()
        if name in out or name not in STAGE_BY_NAME:
            continue
        out.add(name)
        stage = STAGE_BY_NAME[name]
        todo += [n for n in (stage.init_from, stage.mine_negatives, stage.mine_positives) if n]
        todo += [source for _, source in stage.mine_negatives_by_root]
    return out


def mining_plan(stage: Stage, work_root: str):
    """Render, mine and override steps of a stage with mined inputs.

    Returns:
        tuple: ``renders`` (``(root, preset, seed)`` of the config's synthetic roots),
        ``mines`` (``(mining stage, root, splits, positives, out)``) and ``overrides``
        (``--cfg-options`` items pointing the config's datasets at the mined files).
    """
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, stage.config))
    synthetic = cfg.get('synthetic_data') or []
    synthetic = [synthetic] if isinstance(synthetic, dict) else synthetic
    renders = [(d['data_root'], d.get('preset', 'default'), int(d.get('seed', 0)))
               for d in synthetic]
    mines: Dict[str, list] = {}
    overrides = []
    by_root = dict(stage.mine_negatives_by_root)
    for i, d in enumerate(cfg.train_dataloader.dataset.get('datasets', [])):
        root_name = osp.basename(d.data_root.rstrip('/'))
        for key, source, suffix, positives in (
                ('hard_windows', by_root.get(root_name, stage.mine_negatives), '', False),
                ('hard_positives', stage.mine_positives, '_positives', True)):
            if not d.get(key) or not source:
                continue
            out = osp.join(work_root, 'mined', source, f'{root_name}{suffix}.json')
            entry = mines.setdefault(out, [source, d.data_root, [], positives, out])
            if d.split not in entry[2]:
                entry[2].append(d.split)
            overrides.append(f'train_dataloader.dataset.datasets.{i}.{key}={out}')
    return renders, [tuple(m) for m in mines.values()], overrides


def zoo_checkpoints(args, models: Dict[str, dict]) -> Dict[str, str]:
    """Stage -> given checkpoint: shipped for ``--from-zoo`` (sha256-checked), another
    run's for ``--from-dir``.

    Raises:
        ValueError: if the zoo ships no model trained with that stage's config.
    """
    names = shipped_names(models) if models else {}
    out = {}
    for stage in getattr(args, 'from_zoo', None) or []:
        if stage not in names or STAGE_BY_NAME[stage].pseudo:
            raise ValueError(f'--from-zoo {stage}: the zoo ships no model trained with '
                             f'{STAGE_BY_NAME[stage].config} (shipped: '
                             f'{", ".join(sorted(models)) or "none"})')
        out[stage] = get_checkpoint(names[stage], args.zoo)
    out.update(dir_checkpoints(getattr(args, 'from_dir', None) or []))
    return out


def shipped_names(models: Dict[str, dict]) -> Dict[str, str]:
    """Stage name -> shipped model name, from the manifest's configs (defaults if empty)."""
    by_config = {s.config: s.name for s in STAGES if not s.pseudo}
    names = {}
    for name, entry in models.items():
        stage = by_config.get(osp.normpath(entry.get('config', '')))
        if stage:
            names[stage] = name
    return names or {'detect': DEFAULT_DETECT, 'track': DEFAULT_TRACK}


def plan(args, models: Dict[str, dict],
         from_zoo: Optional[Dict[str, str]] = None) -> List[dict]:
    """Steps to run, each ``dict(stage, action, cmd, skip)`` with ``skip`` a reason or None.

    ``cmd`` of a stage that needs another stage's checkpoint names it by a
    ``{checkpoint:STAGE}`` placeholder, filled when the step runs.
    """
    names = shipped_names(models)
    if from_zoo is None:
        from_zoo = zoo_checkpoints(args, models)
    # an optional stage runs when a shipped model uses its config (or, for the tracker's
    # self-training, with --selftrain)
    optional = with_dependencies(set(names) | ({'track_selftrain'} if args.selftrain
                                               else set()))
    wanted = args.stages or [s.name for s in STAGES if not s.optional or s.name in optional]
    mined_steps = set()
    py = sys.executable
    steps = []
    for stage in STAGES:
        if stage.name not in wanted:
            continue
        if stage.name in from_zoo:
            steps.append({'stage': stage.name, 'action': 'zoo', 'cmd': [],
                          'skip': f'given ({from_zoo[stage.name]})'})
            continue
        work_dir = osp.join(args.work_root, stage.name)
        if stage.pseudo:
            done = osp.join(args.work_root, 'pseudo_labels.done')
            started = osp.join(args.work_root, 'pseudo_labels.started')
            cmd = [py, 'tools/gen_pseudo_labels.py', DATA_ROOT, '--tracker-config',
                   stage.config, '--checkpoint', f'{{checkpoint:{stage.init_from}}}']
            if not osp.exists(started):
                cmd.append('--overwrite')  # from scratch: labels of another tracker are stale
            steps.append({'stage': stage.name, 'action': 'pseudo', 'cmd': cmd,
                          'skip': 'done' if osp.exists(done) else None, 'marker': done,
                          'started': started})
            continue
        final = osp.join(work_dir, f'iter_{max_iters(stage.config)}.pth')
        overrides = []
        if stage.mine_negatives or stage.mine_positives or stage.mine_negatives_by_root:
            renders, mines, overrides = mining_plan(stage, args.work_root)
            finished = osp.isfile(final)
            for root, preset, seed in renders:
                if (root, preset, seed) in mined_steps:
                    continue
                mined_steps.add((root, preset, seed))
                steps.append({'stage': stage.name, 'action': 'render',
                              'cmd': [py, 'tools/dataset_converters/make_synthetic.py', root,
                                      '--preset', preset, '--seed', str(seed)],
                              'skip': 'done' if finished or osp.isfile(
                                  osp.join(root, '.complete')) else None})
            for source, root, splits, positives, out in mines:
                if out in mined_steps:
                    continue
                mined_steps.add(out)
                cmd = [py, MINE_TOOL, STAGE_BY_NAME[source].config, f'{{checkpoint:{source}}}',
                       f'{root}:{",".join(splits)}', '--out', out]
                cmd += ['--positives'] if positives else []
                steps.append({'stage': stage.name, 'action': 'mine',
                              'cmd': cmd + cfg_options_args(chain_options(STAGE_BY_NAME[source])),
                              'skip': 'done' if finished else None})
        cmd = [py, 'tools/train.py', stage.config, '--work-dir', work_dir]
        resume = osp.isfile(osp.join(work_dir, 'last_checkpoint'))
        if resume:
            cmd.append('--resume')
        # the mined files every time; the initialisation on a fresh start only (a resumed
        # run restores its own weights and optimiser)
        options = chain_options(stage) + overrides + train_options(args) + (
            [f'load_from={{checkpoint:{stage.init_from}}}'] if stage.init_from and not resume
            else [])
        cmd += cfg_options_args(options)
        steps.append({'stage': stage.name, 'action': 'train', 'cmd': cmd, 'work_dir': work_dir,
                      'skip': f'done ({final} exists)' if osp.isfile(final) else None})
        if stage.name in names and not args.no_test:
            out = osp.join(work_dir, 'test_metrics.json')
            steps.append({'stage': stage.name, 'action': 'test', 'name': names[stage.name],
                          'out': out, 'work_dir': work_dir,
                          'cmd': [py, 'tools/test.py', stage.config,
                                  f'{{checkpoint:{stage.name}}}', '--work-dir',
                                  osp.join(work_dir, 'test'), '--out', out]
                          + cfg_options_args(chain_options(stage))})
    return steps


PLACEHOLDER = '{checkpoint:'


def placeholder(part: str):
    """``(start, end, stage)`` of the ``{checkpoint:STAGE}`` in a command part, or None."""
    if PLACEHOLDER not in part:
        return None
    start = part.index(PLACEHOLDER)
    end = part.index('}', start)
    return start, end, part[start + len(PLACEHOLDER):end]


def fill(cmd: List[str], work_root: str, dry_run: bool,
         zoo: Optional[Dict[str, str]] = None) -> List[str]:
    """Replace ``{checkpoint:STAGE}`` by the checkpoint that stage ended with (or, for a
    stage in ``zoo``, its shipped file)."""
    zoo = zoo or {}
    out = []
    for part in cmd:
        found = placeholder(part)
        if found:
            start, end, stage = found
            try:
                path = zoo.get(stage) or find_checkpoint(osp.join(work_root, stage))
            except FileNotFoundError:
                if not dry_run:
                    raise
                path = osp.join(work_root, stage, 'CHECKPOINT.pth')  # not trained yet
            part = part[:start] + path + part[end + 1:]
        out.append(part)
    return out


def unmet_dependencies(steps: List[dict], work_root: str,
                       zoo: Optional[Dict[str, str]] = None) -> List[str]:
    """Stages a step needs the checkpoint of that neither run in ``steps`` nor are trained.

    ``--stages`` runs just the stages it names; a stage started from or mined with another
    stage's checkpoint needs that stage trained already (or named too).
    """
    ran = {step['stage'] for step in steps if step['action'] == 'train'}
    needed = []
    for step in steps:
        if step.get('skip'):
            continue
        for found in filter(None, map(placeholder, step['cmd'])):
            stage = found[2]
            if stage in ran or stage in needed or stage in (zoo or {}):
                continue
            try:
                find_checkpoint(osp.join(work_root, stage))
            except FileNotFoundError:
                needed.append(stage)
    return needed


def fresh_metrics(step) -> bool:
    try:
        checkpoint = find_checkpoint(step['work_dir'])
    except FileNotFoundError:
        return False
    return osp.isfile(step['out']) and osp.getmtime(step['out']) >= osp.getmtime(checkpoint)


def load_times(path: str) -> Tuple[Dict[str, float], float]:
    """Per-step wall times and the total of earlier runs into one work root.

    Args:
        path (str): ``WORK_ROOT/reproduce_times.json``.

    Returns:
        tuple: ``(stages_s, total_s)``; empty and 0.0 when the file is missing.

    Raises:
        ValueError: The file exists but is not the ``{'stages_s': {...}, 'total_s': x}`` that
            this tool writes (the message names the file).
    """
    if not osp.isfile(path):
        return {}, 0.0
    try:
        with open(path) as f:
            data = json.load(f)
        stages = {str(k): float(v) for k, v in data['stages_s'].items()}
        return stages, float(data['total_s'])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f'{path}: not a reproduce_times.json written by this tool (expected '
                         f"'stages_s' and 'total_s'): {exc!r}; move it away to start the "
                         'times afresh') from exc


def reuse_mined(cmd: List[str], work_root: str, other_root: str) -> Optional[str]:
    """Copy another run's mining output to a mining command's ``--out`` if the output is
    missing and the other run has the file at the same place below its work root.

    Only a starting point: ``mine_hard_windows.py`` resumes from the file when it was mined
    with the same checkpoint, options, data root and threshold, and mines afresh otherwise.
    Returns the copied file, or None. The copy is atomic (``atomic_output``: a partial file
    never appears under the output's name).
    """
    out = cmd[cmd.index('--out') + 1]
    if osp.exists(out):
        return None
    source = osp.join(other_root, osp.relpath(out, work_root))
    if not osp.isfile(source):
        return None
    with atomic_output(out, make_dirs=True) as tmp:
        shutil.copyfile(source, tmp)
    return source


def step_groups(steps: List[dict], jobs: int) -> List[List[dict]]:
    """Steps in order, in groups run together: with ``jobs`` > 1, each stage's consecutive
    mining steps (they read different roots and write different files), else one step per
    group."""
    groups: List[List[dict]] = []
    for step in steps:
        last = groups[-1][-1] if groups else None
        if (jobs > 1 and last is not None and step['action'] == 'mine'
                and last['action'] == 'mine' and last['stage'] == step['stage']):
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


def side_by_side_logs(cmds: List[List[str]], log_dir: str) -> List[str]:
    """One log file per command, ``LOG_DIR/<stem of its --out>.log`` (of its first argument
    after the script without ``--out``); two outputs with one name (in different folders)
    get ``<stem>.log`` and ``<stem>_2.log``, so no two runs write one log."""
    logs: List[str] = []
    for cmd in cmds:
        # the --out file, else the first argument after the script (a render's root)
        out = cmd[cmd.index('--out') + 1] if '--out' in cmd else cmd[min(2, len(cmd) - 1)]
        stem = osp.splitext(osp.basename(out))[0]
        log, n = osp.join(log_dir, f'{stem}.log'), 1
        while log in logs:
            n += 1
            log = osp.join(log_dir, f'{stem}_{n}.log')
        logs.append(log)
    return logs


def run_side_by_side(cmds: List[List[str]], work_root: str, jobs: int) -> None:
    """Run ``cmds`` ``jobs`` at a time, each writing to its own log under ``WORK_ROOT/logs``
    (:func:`side_by_side_logs`), and wait for all of them.

    Raises:
        subprocess.CalledProcessError: the first failed command's, after every started
            command has finished (a mining run resumes from its output file).
    """
    from concurrent.futures import ThreadPoolExecutor

    log_dir = osp.join(work_root, 'logs')
    os.makedirs(log_dir, exist_ok=True)

    def run(cmd, log):
        print(f'[reproduce]   output: {log}', flush=True)
        with open(log, 'a') as f:
            return subprocess.run(cmd, cwd=REPO, check=False, stdout=f,
                                  stderr=subprocess.STDOUT)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        done = list(pool.map(run, cmds, side_by_side_logs(cmds, log_dir)))
    for result in done:
        if result.returncode:
            raise subprocess.CalledProcessError(result.returncode, result.args)


def main(argv=None) -> int:
    args = parse_args(argv)
    models = load_manifest(args.zoo)
    zoo = zoo_checkpoints(args, models)
    steps = plan(args, models, zoo)
    unmet = unmet_dependencies(steps, args.work_root, zoo)
    if unmet:
        msg = (f'{", ".join(unmet)} not trained under {args.work_root} and not in --stages: '
               f'add {" ".join(unmet)} to --stages (or train them first)')
        if not args.dry_run:
            raise ValueError(msg)
        print(f'[reproduce] note: {msg}', flush=True)
    if args.mine_jobs < 1:
        raise ValueError(f'--mine-jobs {args.mine_jobs}: expected >= 1')
    if args.reuse_mined and not osp.isdir(osp.join(args.reuse_mined, 'mined')):
        raise ValueError(f'--reuse-mined {args.reuse_mined}: no mined/ folder in it (expected '
                         'the --work-root of an earlier run with mining stages)')
    times_file = osp.join(args.work_root, 'reproduce_times.json')
    times, total_before = ({}, 0.0) if args.dry_run else load_times(times_file)
    results: Dict[str, str] = {}
    start_all = time.time()

    def save_times(now: float) -> float:
        """Write the per-step times and the total up to ``now``; return this run's seconds."""
        run_s = round(now - start_all, 1)
        write_json_atomic(times_file, {'stages_s': times,
                                       'total_s': round(total_before + run_s, 1)},
                          make_dirs=True)
        return run_s

    for group in step_groups(steps, args.mine_jobs):
        todo = []
        for step in group:
            label = f'{step["stage"]} ({step["action"]})'
            if step['action'] == 'test' and fresh_metrics(step):
                step['skip'] = f'done ({step["out"]} is newer than the checkpoint)'
            if step['action'] == 'test':
                results[step['name']] = step['out']
            if step.get('skip'):
                print(f'[reproduce] skip {label}: {step["skip"]}', flush=True)
                continue
            cmd = fill(step['cmd'], args.work_root, args.dry_run, zoo)
            print(f'[reproduce] {label}: {shlex.join(cmd)}', flush=True)
            if not args.dry_run:
                if step['action'] == 'mine' and args.reuse_mined:
                    source = reuse_mined(cmd, args.work_root, args.reuse_mined)
                    if source:
                        print(f'[reproduce]   starting from {source} (kept where it was mined '
                              'alike)', flush=True)
                todo.append((label, step, cmd))
        if not todo:
            continue
        label, step = todo[0][0], todo[0][1]
        if step['action'] == 'pseudo':
            os.makedirs(args.work_root, exist_ok=True)
            open(step['started'], 'w').close()
        start = time.time()
        if len(todo) == 1:
            subprocess.run(todo[0][2], cwd=REPO, check=True)
        else:
            run_side_by_side([cmd for _, _, cmd in todo], args.work_root, args.mine_jobs)
        end = time.time()
        elapsed = round(end - start, 1)
        # a stage's several render or mining steps add up (one label each; mining runs
        # side by side count their wall time once)
        times[label] = round(times.get(label, 0.0) + elapsed, 1)
        save_times(end)
        if step['action'] == 'pseudo':
            open(step['marker'], 'w').close()
        print(f'[reproduce] {label} finished in {elapsed / 60:.1f} min'
              + (f' ({len(todo)} runs, {args.mine_jobs} at a time)' if len(todo) > 1 else ''),
              flush=True)
    if args.dry_run:
        return 0
    total = save_times(time.time())
    print(f'[reproduce] wall time of this run: {total / 60:.1f} min (per stage, with earlier '
          f'runs into this work root: {times_file})')
    present = {name: path for name, path in results.items() if osp.isfile(path)}
    if present:
        metrics = {}
        for name, path in present.items():
            with open(path) as f:
                metrics[name] = json.load(f)
        print('\nzoo (checkpoints/manifest.json, docs/model_zoo.md) vs. this reproduction:\n')
        print(compare_table(metrics, models))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (OSError, ValueError, subprocess.CalledProcessError) as err:
        print(f'[reproduce] error: {err}', file=sys.stderr)
        sys.exit(2)
