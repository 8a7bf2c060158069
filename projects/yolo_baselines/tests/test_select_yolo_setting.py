"""projects/yolo_baselines/tools/select_yolo_setting.py on hand-written metrics."""
import json

import pytest

from projects.yolo_baselines.tools import select_yolo_setting as tool


def cell(prefix, acc_0, acc_8, fa, miss=0.0):
    return {f'{prefix}_acc_0': acc_0, f'{prefix}_acc_1': acc_0, f'{prefix}_acc_8': acc_8,
            f'{prefix}_miss_rate': miss, f'{prefix}_false_alarm_rate': fa}


def metrics(cells):
    out = {'onset/acc_0': 99.0}  # our row: ignored
    for key, values in cells.items():
        out.update(cell(key, *values))
    return out


# validation: K = 3 at 0.25 and K = 1 at 0.1 tie on Acc±8; K = 3 has fewer false alarms
VAL = metrics({'yolo_onset/YOLOv11-n/c0.25': (80.0, 90.0, 25.0),
               'yolo_onset/YOLOv11-n/c0.1': (70.0, 95.0, 25.0),
               'yolo_gate/YOLOv11-n@k3/c0.25': (85.0, 95.0, 12.5)})
# test: the oracle is K = 1 at 0.1 (97.5), the validation choice scores 92.5
TEST = metrics({'yolo_onset/YOLOv11-n/c0.25': (81.0, 91.0, 12.5),
                'yolo_onset/YOLOv11-n/c0.1': (75.0, 97.5, 25.0),
                'yolo_gate/YOLOv11-n@k3/c0.25': (90.0, 92.5, 0.0)})


def test_setting_is_chosen_on_selection_split_and_reported_on_the_other():
    result = tool.select(VAL, TEST, 'acc_8')['YOLOv11-n']
    assert result['setting'] == (3, 0.25)
    assert result['report']['acc_8'] == 92.5 and result['select']['acc_8'] == 95.0
    assert result['oracle_setting'] == (1, 0.1) and result['oracle']['acc_8'] == 97.5
    # another criterion, another choice: Acc±0 picks K = 3 too, a minimised one K = 3
    assert tool.select(VAL, TEST, 'acc_0')['YOLOv11-n']['setting'] == (3, 0.25)
    assert tool.select(VAL, TEST, 'false_alarm_rate')['YOLOv11-n']['setting'] == (3, 0.25)


def test_cli_prints_rows_and_writes_json(tmp_path, capsys):
    val, test, out = tmp_path / 'val.json', tmp_path / 'test.json', tmp_path / 'sel.json'
    val.write_text(json.dumps(VAL))
    test.write_text(json.dumps(TEST))
    tool.main([str(val), str(test), '--out', str(out)])
    printed = capsys.readouterr().out
    assert '| YOLOv11-n | 0.25, K = 3 | report | 90.00 | 90.00 | 92.50 | 0.00 | 0.00 |' in printed
    assert '| YOLOv11-n (oracle) | 0.1, K = 1 | report |' in printed
    assert json.loads(out.read_text())['YOLOv11-n']['setting'] == [3, 0.25]


def test_bad_inputs_are_named(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('[1, 2]')
    good = tmp_path / 'good.json'
    good.write_text(json.dumps(VAL))
    with pytest.raises(SystemExit, match='bad.json: expected a JSON object'):
        tool.main([str(bad), str(good)])
    with pytest.raises(SystemExit, match='missing.json: cannot read'):
        tool.main([str(tmp_path / 'missing.json'), str(good)])
    with pytest.raises(SystemExit, match="no YOLO onset metric with 'acc_99'"):
        tool.main([str(good), str(good), '--criterion', 'acc_99'])
    partial = tmp_path / 'partial.json'
    partial.write_text(json.dumps(metrics({'yolo_onset/YOLOv11-n/c0.1': (1.0, 2.0, 3.0)})))
    with pytest.raises(SystemExit, match='K=3, threshold 0.25 chosen on the selection split '
                                         'is missing'):
        tool.main([str(good), str(partial)])
