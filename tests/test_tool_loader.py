"""tool_loader.load_tool: a tools/ script by its path from the repository root."""
import os.path as osp
import sys

import pytest
from tool_loader import REPO, load_tool

SWEEP = 'tools/analysis_tools/alarm_gate_sweep.py'


def test_loads_a_real_tool_under_a_name_from_its_path():
    tool = load_tool(SWEEP)
    assert tool.__name__ == 'tools_analysis_tools_alarm_gate_sweep'
    assert tool.__file__ == osp.join(REPO, SWEEP)
    assert tool.__name__ not in sys.modules
    args = tool.parse_args(['detect.py', 'detect.pth', '--gates', '1', '3', '--out-dir', 'out'])
    assert (args.config, args.gates, args.out_dir) == ('detect.py', [1, 3], 'out')
    again = load_tool(SWEEP, name='sweep_again')
    assert again.__name__ == 'sweep_again' and again is not tool  # every call runs the script


def test_missing_script_names_its_path():
    with pytest.raises(FileNotFoundError, match='tools/no_such_tool.py'):
        load_tool('tools/no_such_tool.py')
