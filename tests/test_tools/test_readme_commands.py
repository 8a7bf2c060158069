"""Every command in README's (and the model zoo page's) fenced bash blocks parses as printed:
each ``tools/*.py`` script's own argparse accepts its arguments, the configs exist, and the
shell scripts take the arguments shown."""
import inspect
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest
from tool_loader import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOCS = ('README.md', 'docs/model_zoo.md')
PYTHONS = ('python', 'python3', '.venv/bin/python')
SHELL_ARGS = {'tools/setup.sh': {'train', 'test'}}


def fenced_commands(path):
    """(line number, argv) of every command in the ```bash blocks of ``path``."""
    with open(osp.join(REPO, path)) as f:
        text = f.read()
    commands = []
    for block in re.finditer(r'```bash\n(.*?)```', text, re.S):
        first_line = text[:block.start()].count('\n') + 2
        joined, start = '', None
        for offset, line in enumerate(block.group(1).splitlines()):
            start = first_line + offset if not joined else start
            if line.rstrip().endswith('\\'):
                joined += line.rstrip()[:-1] + ' '
                continue
            argv = shlex.split(joined + line, comments=True)
            joined = ''
            if argv:
                commands.append((start, argv))
    return commands


COMMANDS = [(f'{doc}:{line}', argv) for doc in DOCS for line, argv in fenced_commands(doc)]
_MODULES = {}


def _tool(script):
    if script not in _MODULES:
        _MODULES[script] = load_tool(script)
    return _MODULES[script]


def test_docs_have_commands():
    scripts = {argv[1] for _, argv in COMMANDS if len(argv) > 1}
    for expected in ('tools/demo.py', 'tools/train.py', 'tools/test.py',
                     'tools/gen_pseudo_labels.py', 'tools/reproduce.sh',
                     'tools/model_converters/publish_model.py'):
        assert expected in scripts


@pytest.mark.parametrize('where,argv', COMMANDS, ids=[w for w, _ in COMMANDS])
def test_command_parses_as_printed(where, argv, monkeypatch):
    program, script, args = argv[0], argv[1] if len(argv) > 1 else '', argv[2:]
    assert program in PYTHONS + ('bash', ), f'{where}: unexpected program {program}'
    assert osp.isfile(osp.join(REPO, script)), f'{where}: {script} does not exist'
    for arg in args:
        if arg.startswith('configs/'):
            assert osp.isfile(osp.join(REPO, arg)), f'{where}: {arg} does not exist'
    if script.endswith('.sh'):
        assert subprocess.run(['bash', '-n', osp.join(REPO, script)]).returncode == 0
        if script in SHELL_ARGS:
            assert set(args) <= SHELL_ARGS[script], f'{where}: {script} takes {SHELL_ARGS}'
        if script == 'tools/reproduce.sh':
            _tool('tools/model_converters/reproduce.py').parse_args(args)
        return
    module = _tool(script)
    parse = module.parse_args
    monkeypatch.setattr(sys, 'argv', [script, *args])
    try:
        parse(args) if inspect.signature(parse).parameters else parse()
    except SystemExit as err:  # argparse printed why
        pytest.fail(f'{where}: {shlex.join(argv)} is refused by its argparse ({err})')
