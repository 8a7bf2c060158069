"""The package's import arrows run one way: tools -> apis -> the rest.

Imports are read with ``ast`` (nothing is imported), including the ones inside
functions, so a lazy import cannot hide an arrow that runs the wrong way.
"""
import ast
import os
import os.path as osp

import bleedorigin

PACKAGE_DIR = osp.dirname(bleedorigin.__file__)
# The top layer: streaming predictors and the pipeline; it may import every other subpackage.
TOP_LAYER = 'bleedorigin.apis'


def _module_name(path):
    rel = osp.relpath(path, osp.dirname(PACKAGE_DIR))[:-len('.py')].split(os.sep)
    if rel[-1] == '__init__':
        rel = rel[:-1]
    return '.'.join(rel)


def _imports(path):
    """Absolute names of every module ``path`` imports (relative ones resolved)."""
    module = _module_name(path)
    package = module if path.endswith('__init__.py') else module.rpartition('.')[0]
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) - node.level + 1]
                prefix = '.'.join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            names.append(prefix)
            names += [f'{prefix}.{alias.name}' for alias in node.names]
    return names


def _package_modules():
    for root, _, files in os.walk(PACKAGE_DIR):
        for name in sorted(files):
            if name.endswith('.py'):
                yield osp.join(root, name)


def _subpackage(name):
    return '.'.join(name.split('.')[:2])


def test_imports_parse_relative_and_absolute_forms():
    path = osp.join(PACKAGE_DIR, 'apis', 'stream_runner.py')
    names = _imports(path)
    assert 'bleedorigin.structures.FrameResult' in names
    assert 'bleedorigin.apis.bleedorigin_net' in names


def test_no_lower_layer_imports_apis_or_tools():
    wrong = []
    for path in _package_modules():
        module = _module_name(path)
        for name in _imports(path):
            if name == 'tools' or name.startswith('tools.'):
                wrong.append(f'{module} imports {name}')
            if _subpackage(module) != TOP_LAYER and (
                    name == TOP_LAYER or name.startswith(TOP_LAYER + '.')):
                wrong.append(f'{module} imports {name}')
    assert not wrong, '\n'.join(wrong)


# Entry points that by design import the layers above ``utils``: the registration of
# every registering package, and the tools' pre-Runner steps.
ENTRY_MODULES = ('bleedorigin.utils.setup_env', 'bleedorigin.utils.launch')


def _subpackage_graph():
    graph = {}
    for path in _package_modules():
        module = _module_name(path)
        if module in ENTRY_MODULES or module == 'bleedorigin':
            continue
        for name in _imports(path):
            if name.startswith('bleedorigin.') and _subpackage(name) != _subpackage(module):
                graph.setdefault(_subpackage(module), set()).add(_subpackage(name))
    return graph


def _find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 'open':
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 'done'
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_find_cycle_reports_a_circle():
    assert _find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert _find_cycle({'a': {'b'}, 'b': {'c'}}) is None


def test_subpackages_import_each_other_without_a_circle():
    cycle = _find_cycle(_subpackage_graph())
    assert cycle is None, ' -> '.join(cycle)


def test_structures_import_only_utils():
    wrong = []
    for path in _package_modules():
        module = _module_name(path)
        if _subpackage(module) != 'bleedorigin.structures':
            continue
        for name in _imports(path):
            if name.startswith('bleedorigin.') and _subpackage(name) not in (
                    'bleedorigin.structures', 'bleedorigin.utils'):
                wrong.append(f'{module} imports {name}')
    assert not wrong, '\n'.join(wrong)


def test_registry_locations_point_at_packages_that_register():
    import importlib

    import bleedorigin.registry as registry_module
    from bleedorigin.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    for name in dir(registry_module):
        registry = getattr(registry_module, name)
        if not isinstance(registry, registry_module.Registry) or registry.scope != 'bleedorigin':
            continue
        for location in registry._locations or []:
            importlib.import_module(location)
            assert registry.module_dict, f'{name} points at {location}, which registers nothing'
            owners = {cls.__module__ for cls in registry.module_dict.values()}
            assert any(owner.startswith(location) for owner in owners), (name, location, owners)
        if not registry._locations:
            assert not registry.module_dict, f'{name} has entries but no locations'
