"""The CPython boundary (src/runtime/cpython311.h): no C file under src/
other than src/runtime/cpython311.c names what CPython keeps private, so a
port to another CPython changes that one file.  The --wrap functions are
the listed exception: they must stay where the allow-list says, and
cpython311.h's header comment must name each wrapped function."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
BOUNDARY = SRC / "runtime" / "cpython311.c"
BOUNDARY_HEADER = SRC / "runtime" / "cpython311.h"

# Fields of CPython's private structs that cpython311.c reads or writes
# (the names are too common to forbid as plain identifiers, so a member
# access of one is what counts).
PRIVATE_FIELDS = {
    "m_ml",                                            # PyCFunctionObject
    "ma_version_tag",                                  # PyDictObject
    "interp", "thread_id", "native_thread_id", "cframe", "root_cframe",  # PyThreadState
    "current_frame", "f_code",                         # _PyCFrame, _PyInterpreterFrame
    "nexitfuncs", "exitfuncs", "gilstate", "autoTSSkey", "autoInterpreterState",  # _PyRuntime
    "core_initialized", "main_thread", "interpreters",
    "szidx", "nextoffset", "maxnextoffset", "arenaindex",  # obmalloc's pool header
}

# __wrap_X / __real_X functions whose X is itself private, by file: the
# boundary's part that --wrap keeps outside cpython311.c.
ALLOWED_WRAPS = {
    ("src/runtime/fast_exit.c", "__wrap__PyEval_Fini"),
    ("src/runtime/fast_exit.c", "__real__PyEval_Fini"),
}

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
LITERAL = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
INTERNAL_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](?:internal/|pycore_)[^\n]*', re.M)
IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*")
MEMBER = re.compile(r"(?:->|\.)\s*([A-Za-z_]\w*)")
WRAP = re.compile(r"^__(?:wrap|real)_(\w+)$")


def is_private(name):
    return name.startswith(("_Py", "_PY")) or name.startswith("Py_BUILD_CORE")


def private_uses(text):
    """What TEXT (C source) names of CPython's private side, comments aside,
    as (kind, name) pairs; a __wrap_/__real_ function counts as 'wrap'."""
    code = COMMENT.sub(" ", text)
    found = {("include", match.group(0).strip()) for match in INTERNAL_INCLUDE.finditer(code)}
    code = LITERAL.sub('""', code)
    for name in IDENTIFIER.findall(code):
        wrapped = WRAP.match(name)
        if wrapped is not None:
            if is_private(wrapped.group(1)):
                found.add(("wrap", name))
        elif is_private(name):
            found.add(("symbol", name))
    found |= {("field", name) for name in MEMBER.findall(code) if name in PRIVATE_FIELDS}
    return found


def c_files():
    return sorted(path for path in SRC.rglob("*") if path.suffix in (".c", ".h") and path != BOUNDARY)


def test_the_scan_sees_each_kind_of_private_use():
    sample = ('#define Py_BUILD_CORE 1\n#include <internal/pycore_runtime.h>\n'
              'int n = _PyRuntime.nexitfuncs; /* _PyComment */ const char *s = "_PyString";\n'
              'void *ml = ((PyCFunctionObject *)f)->m_ml; int __wrap__PyEval_Fini(void);\n'
              'int m_ml = 0; // _PyLineComment\n')
    assert private_uses(sample) == {
        ("include", "#include <internal/pycore_runtime.h>"), ("symbol", "Py_BUILD_CORE"),
        ("symbol", "_PyRuntime"), ("field", "nexitfuncs"), ("field", "m_ml"),
        ("wrap", "__wrap__PyEval_Fini"),
    }


def test_the_boundary_file_is_where_the_private_uses_are():
    # Otherwise the scan below would prove nothing.
    kinds = {kind for kind, _ in private_uses(BOUNDARY.read_text())}
    assert {"include", "symbol", "field"} <= kinds


def test_no_private_cpython_outside_the_boundary():
    leaks = []
    for path in c_files():
        relative = str(path.relative_to(ROOT))
        for kind, name in sorted(private_uses(path.read_text())):
            if kind == "wrap" and (relative, name) in ALLOWED_WRAPS:
                continue
            leaks.append(f"{relative}: {kind} {name}")
    assert leaks == [], "private CPython outside src/runtime/cpython311.c:\n" + "\n".join(leaks)


def header_comment():
    text = BOUNDARY_HEADER.read_text()
    assert text.startswith("/*")
    return text[:text.index("*/")]


def test_every_wrap_is_listed_in_the_boundary_header():
    wrapped = set(re.findall(r"-Wl,--wrap=(\w+)", (ROOT / "meson.build").read_text()))
    assert wrapped, "meson.build links the runtime with no --wrap any more: update this test"
    defined = {WRAP.match(name).group(1) for path in c_files() + [BOUNDARY]
               for name in IDENTIFIER.findall(COMMENT.sub(" ", path.read_text())) if WRAP.match(name)}
    assert defined == wrapped, "the __wrap_/__real_ functions and meson.build's --wrap options differ"
    comment = header_comment()
    for name in sorted(wrapped):
        assert re.search(rf"^ \*\s+{re.escape(name)}\s", comment, re.M), \
            f"cpython311.h's header comment does not list --wrap={name} with the call site it relies on"
