"""check_dataset.py on hostile trees: a report and an exit code, never a traceback (issue 14)."""
import json
import os.path as osp
import time

import pytest
from robust_helpers import clip_json, deeply_nested, heap_limit, make_tree, rewrite_meta
from tool_loader import load_tool

TOOL = 'tools/dataset_converters/check_dataset.py'


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / 'bench')


def run_json(tool, root, capsys, *extra):
    code = tool.main([root, '--json', *extra])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_absurd_num_frames_cli_in_bounded_memory_and_time(tree, capsys):
    """The issue's reproduction (it used to reach 23.6 GB), under a 2 GB heap cap."""
    rewrite_meta(tree, num_frames=10 ** 12)
    tool = load_tool(TOOL)
    start = time.perf_counter()
    with heap_limit():
        code, summary = run_json(tool, tree, capsys)
    assert time.perf_counter() - start < 30
    assert code == 1
    assert summary['clips'] == 2
    assert summary['broken'] == [{'clip': 'clips/P01/C1', 'reason':
                                  'clips/P01/C1/clip.json: num_frames 1000000000000 exceeds '
                                  'the limit 10000000 (refused unread, not allocated)'}]


def test_deeply_nested_clip_json_reported_with_json_output(tree, capsys):
    with open(clip_json(tree), 'w') as f:
        f.write(deeply_nested())
    code, summary = run_json(load_tool(TOOL), tree, capsys)
    assert code == 1
    assert summary['broken'] == [{'clip': 'clips/P01/C1', 'reason':
                                  'clips/P01/C1/clip.json: JSON malformed (nested too deeply '
                                  'to parse)'}]


def test_deeply_nested_splits_json_exit_2_with_json_output(tree, capsys):
    with open(osp.join(tree, 'splits.json'), 'w') as f:
        f.write(deeply_nested())
    code, summary = run_json(load_tool(TOOL), tree, capsys)
    assert code == 2
    assert summary['error'] == 'splits.json: JSON malformed (nested too deeply to parse)'


def test_patient_without_clips_exits_1(tree, capsys):
    with open(osp.join(tree, 'splits.json'), 'w') as f:
        json.dump({'train': ['P01', 'P09'], 'val': [], 'test': ['P02']}, f)
    tool = load_tool(TOOL)
    code, summary = run_json(tool, tree, capsys)
    assert code == 1
    assert summary['broken'] == [] and summary['patients_without_clips'] == ['P09']
    # --split test looks at P02 only: P09 (train) is not its business
    code, summary = run_json(tool, tree, capsys, '--split', 'test')
    assert code == 0 and summary['patients_without_clips'] == []
    assert tool.main([tree]) == 1
    assert 'patients in splits.json without clips: P09' in capsys.readouterr().out


def test_clean_tree_exits_0(tree, capsys):
    code, summary = run_json(load_tool(TOOL), tree, capsys)
    assert code == 0 and summary['clips'] == 3
    assert summary['pseudo_labels'] == {'clips': 0, 'files': 0, 'valid': 0, 'invalid': [],
                                        'temporary_files': 0}
