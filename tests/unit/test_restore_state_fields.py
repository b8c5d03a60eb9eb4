"""RestoreState (python/restore_state.py), what the dump leaves for every
start of the image: a field of another name is refused, and the fields
the dump sets and the restore and the runtime read are all declared."""

import ast
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYTHON = ROOT / "python"


@pytest.fixture
def state_class():
    spec = importlib.util.spec_from_file_location("pyfreeze_python_restore_state",
                                                  PYTHON / "restore_state.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RestoreState


def test_unknown_field_is_refused(state_class):
    state = state_class()
    with pytest.raises(AttributeError):
        state.modules_count = 3         # module_count, misspelt
    with pytest.raises(AttributeError):
        state.modules_count             # noqa: B018
    assert not hasattr(state, "__dict__")


def test_every_field_starts_unset(state_class):
    state = state_class()
    assert {name: getattr(state, name) for name in state_class.__slots__} == \
        dict.fromkeys(state_class.__slots__)
    state.module_count = 3
    assert state.module_count == 3


def attributes_of(path, name):
    """The attributes PATH's code reads or sets on the variable NAME."""
    tree = ast.parse(path.read_text())
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name}


def test_fields_used_are_declared(state_class):
    declared = set(state_class.__slots__)
    set_by_dump = attributes_of(PYTHON / "dump.py", "restore_state")
    read_by_restore = attributes_of(PYTHON / "restore.py", "state")
    glue = (ROOT / "src" / "runtime" / "python_glue.c").read_text()
    read_by_runtime = set(re.findall(r'PyObject_GetAttrString\(restore_state, "(\w+)"\)', glue))
    assert read_by_runtime == {"module_count", "inputs_summary", "file_stamps"}
    assert read_by_restore <= declared and read_by_runtime <= declared
    assert set_by_dump == declared, "every field is set by the dump"
    assert "restore_state[" not in (PYTHON / "dump.py").read_text()
