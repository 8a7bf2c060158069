"""tools/analysis_tools/onset_alarm_eval.py on the tiny synthetic preset."""
import json

import pytest
from tiny_models import ALWAYS_FIRING, default_detector_on_tiny_data
from tool_loader import load_tool

TOOL = 'tools/analysis_tools/onset_alarm_eval.py'


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return default_detector_on_tiny_data(tmp_path_factory.mktemp('alarms'), ALWAYS_FIRING)


def test_cfg_options_reach_the_streamed_detector(tiny, tmp_path):
    """A detector whose every window is confident alarms on each negative stream and
    alerts on each positive clip; the same checkpoint with eq. 2's threshold set above 1
    through --cfg-options never alarms, and the JSON records the override."""
    root, ckpt, config = tiny
    base = [config, ckpt, '--negative-root', root, '--negative-preset', 'none',
            '--positive-root', root, '--split', 'train']
    firing = load_tool(TOOL).main(base)
    assert firing['negative']['alarms'] >= firing['negative']['streams'] >= 1
    assert firing['positive']['misses'] == 0 and firing['cfg_options'] == {}
    out = str(tmp_path / 'quiet.json')
    quiet = load_tool(TOOL).main(base + ['--out', out, '--cfg-options', 'model.conf_thr=1.5'])
    assert quiet['negative']['alarms'] == 0 and quiet['negative']['false_alarms_per_hour'] == 0
    assert quiet['positive']['alerts'] == 0
    assert quiet['positive']['misses'] == quiet['positive']['clips'] >= 1
    with open(out) as f:
        assert json.load(f)['cfg_options'] == {'model.conf_thr': 1.5}
