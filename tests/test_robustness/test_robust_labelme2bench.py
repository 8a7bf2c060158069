"""labelme2bench.py on malformed LabelMe and CSV input: one named error (issue 14)."""
import pytest
from robust_helpers import deeply_nested
from tool_loader import load_tool


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/dataset_converters/labelme2bench.py')


@pytest.mark.parametrize('content,reason', [
    (deeply_nested(), 'JSON malformed (nested too deeply to parse)'),
    (b'\xff\xd8\xff\xe0 a jpeg, not json', 'JSON malformed (not UTF-8: invalid start byte at '
                                           'byte 0)'),
    ('{"shapes": [', 'JSON malformed (Expecting value: line 1 column 13 (char 12))'),
    ('{"shapes": 3}', 'shapes missing or not a list'),
    ('[]', 'top level is not an object (got list)'),
], ids=['deeply-nested', 'binary', 'truncated', 'shapes-not-list', 'list'])
def test_malformed_labelme_file_is_one_named_error(tool, tmp_path, content, reason):
    folder = tmp_path / 'labelme' / 'case01'
    folder.mkdir(parents=True)
    path = folder / 'frame_000010.json'
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    video = tool.VideoInfo(path='case01.mp4', stem='case01', num_frames=100, fps=25.0,
                           width=32, height=24)
    with pytest.raises(tool.ConversionError) as info:
        tool.read_video_annotations(str(tmp_path / 'labelme'), video)
    assert str(info.value) == f'{path}: {reason}'


@pytest.mark.parametrize('content,reason', [
    (b'video,onset_frame\n\xff\xfe,12\n', 'not UTF-8 text (invalid start byte at byte 18)'),
    (b'video,onset_frame\ncase01.mp4,1\x002\n', "onset_frame '1\\x002' is not an integer"),
    (b'name,frame\ncase01.mp4,3\n', "header must contain 'video' (got ['name', 'frame'])"),
    (b'video,onset_frame\n', 'no rows'),
], ids=['not-utf8', 'nul-byte', 'bad-header', 'no-rows'])
def test_malformed_csv_is_one_named_error(tool, tmp_path, capsys, content, reason):
    csv_path = tmp_path / 'onsets.csv'
    csv_path.write_bytes(content)
    code = tool.main([str(csv_path), str(tmp_path / 'out'), '--video-dir', str(tmp_path),
                      '--labelme-dir', str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f'error: {csv_path}') and err[0].endswith(reason), err[0]
