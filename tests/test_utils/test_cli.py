"""run_cli: a tool's input errors end in one line and exit status 2."""
import pytest

from bleedorigin.utils import run_cli


def test_run_cli_returns_main_result():
    assert run_cli(lambda: 7) == 7


@pytest.mark.parametrize('error', [FileNotFoundError('x.mp4: no such file'),
                                   ValueError('x.mp4: no such file')])
def test_run_cli_turns_input_errors_into_one_line(error, capsys):
    def main():
        raise error

    with pytest.raises(SystemExit) as exit_info:
        run_cli(main)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == 'error: x.mp4: no such file\n'


def test_run_cli_lets_programming_errors_through():
    def main():
        raise KeyError('bug')

    with pytest.raises(KeyError):
        run_cli(main)
