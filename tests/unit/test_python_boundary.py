"""python/cpython311.py is the one place the embedded Python names CPython
3.11's internals (issue 13): the other files of python/ name none, and its
check() tells a Python that has them from one that does not.  The
embedded modules are plain Python: they are loaded here from python/ into
the interpreter running the tests, /usr/bin/python3.11 (tests/run)."""

import ast
import importlib.util
import pathlib
import re
import sys
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYTHON = ROOT / "python"
BOUNDARY = "cpython311.py"

# Private modules the embedded files may import, for public names their
# public module re-exports (that module may not be imported yet there, and
# importing it would change what sys.modules holds).  Their private
# attributes still go through the boundary.
ALLOWED_MODULES = {
    "_thread": "RLock, allocate_lock, get_ident: threading's own, before threading is imported",
    "_weakref": "ref: weakref.ref, before weakref is imported",
    "_io": "FileIO, BufferedReader, TextIOWrapper...: the classes io exports",
    "_signal": "signal, getsignal, SIG_IGN, SIG_DFL, NSIG, default_int_handler: signal's",
}
# Names of objects that are CPython's whatever their attribute is called:
# a private attribute on one is CPython's even when python/ happens to
# define a name like it (lazy_modules has its own _find_spec).
CPYTHON_OBJECTS = set(sys.stdlib_module_names) | {"_bootstrap", "_bootstrap_external", "external",
                                                  "bootstrap"}
PRIVATE = re.compile(r"^_[A-Za-z0-9]\w*$")


def private(name):
    return bool(PRIVATE.match(name)) and not (name.startswith("__") and name.endswith("__"))


def load(name):
    """python/NAME.py as a fresh module."""
    spec = importlib.util.spec_from_file_location(f"pyfreeze_python_{name}", PYTHON / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def boundary():
    return load("cpython311")


# --- no private CPython name outside the boundary ------------------------------------

def defined_names(trees):
    """The private names python/ defines itself: functions, classes,
    globals, parameters, attributes set on self, __slots__ entries."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id == "self"):
                names.add(node.attr)
            elif (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__"
                                                        for t in node.targets)):
                names.update(c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant))
    return {name for name in names if isinstance(name, str) and private(name)}


def violations(tree, own):
    """(line, what) of each use in TREE of a name private to CPython.  OWN:
    the private names python/ defines."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {alias.name}") for alias in node.names
                      if private(alias.name.split(".")[0]) and alias.name not in ALLOWED_MODULES]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if private(module.split(".")[0]) and module not in ALLOWED_MODULES or \
                    any(private(alias.name) for alias in node.names):
                found.append((node.lineno, f"from {module} import ..."))
        elif isinstance(node, ast.Attribute) and private(node.attr):
            base = node.value
            if node.attr not in own or (isinstance(base, ast.Name) and base.id in CPYTHON_OBJECTS):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Constant) and type(node.value) is str and private(node.value):
            if node.value not in own:
                found.append((node.lineno, repr(node.value)))
        elif isinstance(node, ast.Compare):
            if any(isinstance(part, ast.Attribute) and part.attr in ("co_name", "co_qualname")
                   for part in [node.left, *node.comparators]):
                found.append((node.lineno, f"{ast.unparse(node)} (a CPython function by name)"))
    return found


def sources():
    return {path.name: ast.parse(path.read_text(), str(path)) for path in sorted(PYTHON.glob("*.py"))}


def test_no_private_cpython_name_outside_the_boundary():
    trees = sources()
    assert BOUNDARY in trees and len(trees) > 2
    own = defined_names(tree for name, tree in trees.items() if name != BOUNDARY)
    problems = [f"python/{name}:{line}: {what}" for name, tree in trees.items() if name != BOUNDARY
                for line, what in violations(tree, own)]
    assert not problems, "name these in python/cpython311.py:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", [
    "import sys\n_bootstrap = sys.modules['_frozen_importlib']\n",
    "_bootstrap._find_spec = hook\n",
    "external._path_join(a, b)\n",
    "_bootstrap._bootstrap_external.PathFinder._path_importer_cache(item)\n",
    "importlib._bootstrap._load(spec)\n",
    "frame = sys._getframe(1)\n",
    "import _warnings\n",
    "from _warnings import filters\n",
    "import _frozen_importlib\n",
    "warnings._showwarnmsg = hook\n",
    "tempfile._name_sequence = None\n",
    "process.current_process()._config\n",
    "getattr(finder, '_path_mtime', None)\n",
    "sequence.pop('_rng_pid', None)\n",
    "frame.f_code.co_name == '_find_and_load_unlocked'\n",
    "thing._a_private_name_added_in_312()\n",
    "_thread._at_fork_reinit\n",
])
def test_the_rule_catches(code):
    own = defined_names(sources().values())
    assert violations(ast.parse(code), own), code


@pytest.mark.parametrize("code", [
    "import _thread, _weakref, _io, _signal\n",
    "self._stack.append(name)\n",
    "pyfreeze._before_dump\n",
    "lazy._sticky.items()\n",
    "_cpython.getframe(1).f_code is _cpython.FIND_AND_LOAD_UNLOCKED_CODE\n",
    "sys.__dict__.get('__stdout__')\n",
    "warnings.filters\n",
])
def test_the_rule_lets_through(code):
    own = defined_names(sources().values())
    assert not violations(ast.parse(code), own), code


# --- check() ------------------------------------------------------------------------

def test_check_passes_on_debians_python(boundary):
    # Modules start-up does not load are checked once loaded: load them.
    import logging, multiprocessing.process, opcode, platform, random  # noqa: F401,E401
    import sysconfig, tempfile, threading, uuid, warnings, weakref      # noqa: F401,E401
    import _strptime, locale, mimetypes, os                              # noqa: F401,E401
    assert sys.version_info[:2] == (3, 11)
    assert boundary.check() is None


def test_check_names_another_version(boundary, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(sys, "version_info", (3, 12, 1, "final", 0))
        message = boundary.check()
    assert message == "this Python is 3.12.1; pyfreeze's runtime supports CPython 3.11"


def test_check_names_a_missing_importlib_function(boundary, monkeypatch):
    # Nothing imports while it is missing: check() only looks.
    with monkeypatch.context() as patch:
        patch.delattr(sys.modules["_frozen_importlib"], "_find_and_load_unlocked")
        message = boundary.check()
    assert message == "CPython boundary: importlib._bootstrap has no _find_and_load_unlocked"


@pytest.mark.parametrize("owner, name, message", [
    ("_frozen_importlib_external", "_path_stat",
     "CPython boundary: importlib._bootstrap_external has no _path_stat"),
    ("_warnings", "_filters_mutated", "CPython boundary: _warnings has no _filters_mutated"),
    ("sys", "_getframe", "CPython boundary: sys has no _getframe"),
])
def test_check_names_the_first_missing(boundary, monkeypatch, owner, name, message):
    with monkeypatch.context() as patch:
        patch.delattr(sys.modules[owner], name)
        found = boundary.check()
    assert found == message


def test_check_names_a_missing_class_it_needs_an_attribute_of(boundary, monkeypatch):
    with monkeypatch.context() as patch:
        patch.delattr(sys.modules["_io"], "FileIO")
        message = boundary.check()
    assert message == "CPython boundary: _io.FileIO is missing"


def test_check_names_a_name_of_another_shape(boundary, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(sys.modules["_warnings"], "_defaultaction", 1)
        message = boundary.check()
    assert message == "CPython boundary: _warnings._defaultaction is not a str"


def test_check_looks_at_stdlib_modules_once_loaded(boundary, monkeypatch):
    import tempfile
    with monkeypatch.context() as patch:
        patch.delattr(tempfile, "_name_sequence")
        loaded = boundary.check()
        patch.delitem(sys.modules, "tempfile")
        not_loaded = boundary.check()
    assert loaded == "CPython boundary: tempfile has no _name_sequence"
    assert not_loaded is None


def test_check_names_a_missing_opcode(boundary, monkeypatch):
    import opcode
    with monkeypatch.context() as patch:
        patch.delitem(opcode.opmap, "PRECALL")
        message = boundary.check()
    assert message == "CPython boundary: opcode has no PRECALL"


def test_check_names_file_finder_attributes(boundary, monkeypatch):
    finder_class = sys.modules["_frozen_importlib_external"].FileFinder
    original = finder_class.__init__

    def without_mtime(self, *args):
        original(self, *args)
        del self._path_mtime
    with monkeypatch.context() as patch:
        patch.setattr(finder_class, "__init__", without_mtime)
        message = boundary.check()
    assert message == "CPython boundary: importlib._bootstrap_external.FileFinder has no _path_mtime"


def test_the_boundary_loads_when_names_are_missing(monkeypatch):
    with monkeypatch.context() as patch:
        patch.delattr(sys.modules["_frozen_importlib"], "_ImportLockContext")
        patch.delattr(sys.modules["_frozen_importlib_external"], "PathFinder")
        boundary = load("cpython311")
        message = boundary.check()
    assert boundary.ImportLockContext is None and boundary.PathFinder is None
    assert message == "CPython boundary: importlib._bootstrap has no _ImportLockContext"


def test_import_frames_are_told_by_code_object(boundary, monkeypatch, tmp_path):
    """The reveal tells an import from importlib._bootstrap._load by the
    code of the frame calling _load_unlocked, as it told it by name."""
    bootstrap = sys.modules["_frozen_importlib"]
    original = bootstrap._load_unlocked
    seen = []

    def spy(spec):
        frame = boundary.getframe(1)
        seen.append((frame.f_code is boundary.FIND_AND_LOAD_UNLOCKED_CODE,
                     frame.f_code.co_name == "_find_and_load_unlocked"))
        return original(spec)
    (tmp_path / "pyfreeze_boundary_probe.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "pyfreeze_boundary_probe", raising=False)
    with monkeypatch.context() as patch:
        patch.setattr(bootstrap, "_load_unlocked", spy)
        importlib.import_module("pyfreeze_boundary_probe")
        bootstrap._load(importlib.util.spec_from_file_location(
            "pyfreeze_boundary_probe", tmp_path / "pyfreeze_boundary_probe.py"))
    assert seen == [(True, True), (False, False)]


def test_dump_run_refuses_on_a_message():
    """dump.run checks first, before it changes anything, and fails with
    FAIL_CPYTHON (5; PF_FAIL_CPYTHON in C)."""
    message = "CPython boundary: importlib._bootstrap has no _find_and_load_unlocked"
    helpers = types.SimpleNamespace(cpython311=types.SimpleNamespace(check=lambda: message),
                                    restore_state=load("restore_state"))
    namespace = {"__name__": "dump", "_pyfreeze": helpers}
    exec(compile((PYTHON / "dump.py").read_text(), "<pyfreeze>/dump.py", "exec"), namespace)
    path = list(sys.path)
    state = namespace["restore_state"]
    result = namespace["run"](["json"], [], None, [], state, False, {}, {}, False)
    assert namespace["FAIL_CPYTHON"] == 5
    assert result == (5, "cannot freeze: " + message)
    assert sys.path == path and state.default_warning_filters is None
