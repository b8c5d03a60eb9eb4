"""Every way a python3 run ends makes the same exit decision in an image,
with python3's output: sys.exit() at any depth, SystemExit from -m, an
unhandled exception, KeyboardInterrupt (raised, and a real SIGINT), the
end of a script, a program read from stdin, the end of and exit() from
an interactive session (-i), and a standard stream that cannot be flushed
(a closed pipe)."""

import os
import re
import subprocess

import pytest

from conftest import STOCK, clean_env, freeze, run, terminal_session

EXITS = {
    "end": "print('done')",
    "sys-exit-0": "import sys; print('x'); sys.exit(0)",
    "sys-exit-3": "import sys; sys.exit(3)",
    "sys-exit-message": "raise SystemExit('bye')",
    "sys-exit-in-function": "import sys\ndef f():\n    sys.exit(4)\nf()",
    "exception": "raise ValueError('nope')",
    "keyboard-interrupt": "print('x'); raise KeyboardInterrupt",
    "sys-exit-from-thread-join": ("import sys, threading\n"
                                  "t = threading.Thread(target=print, args=('in thread',))\n"
                                  "t.start(); t.join(); sys.exit(6)"),
}

FAST_REPORT = "pyfreeze: warm start\npyfreeze: fast exit\n"


@pytest.mark.parametrize("name", sorted(EXITS))
def test_exit_is_fast_and_as_python3s(minimal_image, tmp_path, name):
    code = EXITS[name]
    stock = run([STOCK, "-c", code])
    report = tmp_path / "report"
    image = run([minimal_image, "-c", code], env=clean_env(PYFREEZE_DEBUG=str(report)))
    assert (image.returncode, image.stdout, image.stderr) == (stock.returncode, stock.stdout, stock.stderr)
    assert report.read_text() == FAST_REPORT


def reported_run(python, args, tmp_path, **kwargs):
    """(status, stdout, stderr) of a run, and what an image reported."""
    report = tmp_path / "report"
    report.unlink(missing_ok=True)
    result = run([python, *args], env=clean_env(PYFREEZE_DEBUG=str(report)), **kwargs)
    text = report.read_text() if report.exists() else ""
    return (result.returncode, result.stdout, result.stderr), text


# Programs read from stdin (`python3 -` and `python3 < file`), and -i
# sessions fed by a pipe: python3 runs the interactive loop on stdin, and
# leaves it at the end of input or through exit().
STDIN_EXITS = {
    "stdin-end": (["-"], b"print('from stdin')\n"),
    "stdin-no-dash": ([], b"print('from stdin')\n"),
    "stdin-sys-exit": (["-"], b"import sys\nprint('a')\nsys.exit(7)\n"),
    "stdin-exception": ([], b"print('a')\n1/0\n"),
    "interactive-end": (["-i", "-c", "x = 5"], b"print(x * 2)\n"),
    "interactive-exit": (["-i", "-c", "x = 5"], b"print(x)\nexit(8)\nprint('never')\n"),
    "interactive-sys-exit": (["-i", "-c", "import sys"], b"sys.exit('bye')\n"),
    "interactive-after-exception": (["-i", "-c", "raise ValueError(1)"], b"print('still here')\n"),
    "interactive-keyboard-interrupt": (["-i", "-c", "pass"], b"raise KeyboardInterrupt\nprint(2)\n"),
}


@pytest.mark.parametrize("name", sorted(STDIN_EXITS))
def test_stdin_and_interactive_exits_are_fast_and_as_python3s(minimal_image, tmp_path, name):
    args, data = STDIN_EXITS[name]
    stock, _ = reported_run(STOCK, args, tmp_path, input=data)
    image, report = reported_run(minimal_image, args, tmp_path, input=data)
    assert image == stock
    assert report == FAST_REPORT


def test_interactive_exit_on_a_terminal(minimal_image):
    keys = b"x = 3\nprint(x * 14)\nexit(9)\n"
    stock = terminal_session(STOCK, ["-q", "-i", "-c", "pass"], keys)
    image = terminal_session(minimal_image, ["-q", "-i", "-c", "pass"], keys)
    assert image == stock
    assert stock[0] == 9 and b"42" in stock[1]


def test_sigint_exit_is_fast_and_as_python3s(minimal_image, tmp_path):
    # A real SIGINT while the program sleeps: python3 prints the traceback,
    # and then kills itself with SIGINT so that its parent sees the signal.
    code = "import os, signal, time\nprint('up', flush=True)\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(30)"
    stock, _ = reported_run(STOCK, ["-c", code], tmp_path)
    image, report = reported_run(minimal_image, ["-c", code], tmp_path)
    assert stock[0] == -2
    assert image[:2] == stock[:2]
    assert image[2].splitlines()[-1] == stock[2].splitlines()[-1] == b"KeyboardInterrupt"
    assert report == FAST_REPORT


def test_systemexit_from_a_module_run_with_m(minimal_image, tmp_path):
    (tmp_path / "leaver.py").write_text("import sys\nprint('leaving')\nsys.exit(5)\n")
    stock = run([STOCK, "-m", "leaver"], cwd=tmp_path)
    report = tmp_path / "report"
    image = run([minimal_image, "-m", "leaver"], cwd=tmp_path, env=clean_env(PYFREEZE_DEBUG=str(report)))
    assert (image.returncode, image.stdout) == (stock.returncode, stock.stdout) == (5, b"leaving\n")
    assert report.read_text().endswith("pyfreeze: fast exit\n")


BROKEN_PIPE = {
    "buffered-at-exit": "print('x' * 100)",
    "sys-exit": "import sys; print('x' * 100); sys.exit(3)",
    # the teardown runs (a finalizer), and flushes once, as python3 does
    "with-teardown": "class A:\n    def __del__(self): print('del')\na = A()\nprint('y' * 100)",
    "written-during-run": "print('z' * 100000)",
}


def closed_pipe_run(python, code):
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([str(python), "-c", code], stdout=write_end, stderr=subprocess.PIPE,
                                env=clean_env(), timeout=60)
    finally:
        os.close(write_end)
    return result.returncode, re.sub(r"0x[0-9a-f]+", "0xADDRESS", result.stderr.decode())


@pytest.mark.parametrize("name", sorted(BROKEN_PIPE))
def test_closed_pipe_reported_once_as_python3_does(minimal_image, name):
    stock = closed_pipe_run(STOCK, BROKEN_PIPE[name])
    assert closed_pipe_run(minimal_image, BROKEN_PIPE[name]) == stock
    assert stock[1].count("BrokenPipeError") == 1


# What python3's teardown finalizes among the objects a run made.  Each
# program's status, output and written files are python3's; the exit is
# fast where finalizing cannot be noticed, and the full teardown where it
# can (the report names the object).
TEARDOWN = "pyfreeze: full teardown at exit: "
FINALIZERS = {
    # files python3 would close without a trace
    "file-read-open": ("f = open({data!r})\nprint(f.readline().strip())", "fast"),
    "file-binary-read-open": ("f = open({data!r}, 'rb')\nprint(f.read(3))", "fast"),
    "file-raw-read-open": ("f = open({data!r}, 'rb', buffering=0)\nprint(f.read(3))", "fast"),
    "file-closed": ("f = open({out!r}, 'w')\nf.write('done')\nf.close()\nprint('ok')", "fast"),
    "file-memory": ("import io\nb = io.BytesIO(b'x'); s = io.StringIO('y')\nprint(s.read())", "fast"),
    "generator-expression": ("g = (x * 2 for x in range(10))\nprint(next(g))", "fast"),
    "generator-finished": ("def gen():\n    try:\n        yield 1\n    finally:\n        print('fin')\n"
                           "g = gen()\nprint(list(g))", "fast"),
    "thread-local": ("import threading\nlocal = threading.local()\nlocal.x = 1\nprint(local.x)", "fast"),
    "logging-handler": ("import logging\nlogging.basicConfig()\nlogging.warning('careful')", "fast"),
    # finalizers python3 runs, with output or effects
    "file-write-unflushed": ("f = open({out!r}, 'w')\nf.write('pending')\nprint('left open')",
                             "object needs finalizing"),
    "generator-finally": ("def gen():\n    try:\n        yield 1\n    finally:\n        print('fin')\n"
                          "g = gen()\nprint(next(g))", "generator object needs finalizing"),
    "del-in-globals": ("class A:\n    def __del__(self):\n        print('del', self.n)\n"
                       "a = A(); a.n = 1\nb = A(); b.n = 2\nprint('end')", "A object needs finalizing"),
    # found on the MRO under a metaclass (the exit looks there without
    # asking the class), or through a metaclass's own lookup
    "del-under-abc": ("import abc\nclass Base(abc.ABC):\n    def __del__(self):\n        print('del')\n"
                      "class A(Base): pass\na = A()\nprint('end')", "A object needs finalizing"),
    "del-from-metaclass-getattr": ("class M(type):\n    def __getattr__(cls, name):\n"
                                   "        if name == '__del__':\n            return lambda self: None\n"
                                   "        raise AttributeError(name)\n"
                                   "class A(metaclass=M): pass\na = A()\nprint('end')",
                                   "A object needs finalizing"),
    "weakref-callback": ("import weakref\nclass T: pass\nt = T()\n"
                         "r = weakref.ref(t, lambda ref: print('callback'))\nprint('end')",
                         "ReferenceType object needs finalizing"),
    # weakref.finalize runs its callbacks at atexit, unless told not to
    "weakref-finalize": ("import weakref\nclass T: pass\nt = T()\n"
                         "weakref.finalize(t, print, 'finalized')\nprint('end')", "fast"),
    "weakref-finalize-not-atexit": ("import weakref\nclass T: pass\nt = T()\n"
                                    "weakref.finalize(t, print, 'finalized').atexit = False\n"
                                    "print('end')", "object needs finalizing"),
    "resource-warning-filter": ("import warnings\nwarnings.simplefilter('always')\n"
                                "f = open({data!r})\nprint('end')",
                                "object needs finalizing"),
}


def _teardown_run(python, code, tmp_path, args=()):
    data = tmp_path / "data.txt"
    data.write_text("first line\nsecond\n")
    out = tmp_path / "out.txt"
    out.unlink(missing_ok=True)
    result, report = reported_run(python, [*args, "-c", code.format(data=str(data), out=str(out))],
                                  tmp_path)
    written = out.read_bytes() if out.exists() else None
    return (result, written), report


@pytest.mark.parametrize("name", sorted(FINALIZERS))
def test_teardown_finalizes_what_python3_does(minimal_image, tmp_path, name):
    code, expected = FINALIZERS[name]
    stock, _ = _teardown_run(STOCK, code, tmp_path)
    image, report = _teardown_run(minimal_image, code, tmp_path)
    assert image == stock
    exit_line = report.splitlines()[-1]
    if expected == "fast":
        assert report == FAST_REPORT
    else:
        assert exit_line.startswith(TEARDOWN) and exit_line.endswith(expected)


@pytest.mark.parametrize("name", ["file-read-open", "generator-expression"])
def test_resource_warnings_shown_by_w_take_the_teardown(minimal_image, tmp_path, name):
    code, _ = FINALIZERS[name]
    stock, _ = _teardown_run(STOCK, code, tmp_path, ["-W", "always"])
    image, report = _teardown_run(minimal_image, code, tmp_path, ["-W", "always"])
    assert image == stock
    assert report.splitlines()[-1].startswith(TEARDOWN)


# A frozen module that imported __main__ (rlcompleter does), or an alias
# multiprocessing adds (__mp_main__), holds the run's __main__ while it
# stays hidden, and cgitb's Hook holds sys.stdout: python3 has no such
# module, and its teardown frees __main__ while other modules are alive
# and closes sys.stdout (flushing what finalizers printed).
MAIN_AT_TEARDOWN = {
    "del-uses-a-global": "import os\nclass C:\n    def __del__(self):\n        os.write(1, b'del ran\\n')\nc = C()",
    "cycle-in-a-module": "import sys\nsys.path.insert(0, {here!r})\nimport cyclic",
    # gc.collect() decides the teardown before any finalizer is looked for
    "cycle-after-gc-collect": ("import gc\nclass C:\n    def __del__(self):\n        print('cycle collected')\n"
                               "c = C()\nc.me = c\ngc.collect()"),
}


@pytest.mark.parametrize("name", sorted(MAIN_AT_TEARDOWN))
def test_main_freed_at_teardown_as_python3_frees_it(tmp_path, name):
    (tmp_path / "cyclic.py").write_text("class C:\n    def __del__(self):\n        print('cycle collected')\n"
                                        "l = [C()]\nl.append(l)\n")
    image = tmp_path / "img"
    freeze(image, "rlcompleter", "multiprocessing", "cgitb", "json", cwd=tmp_path)
    code = MAIN_AT_TEARDOWN[name].format(here=str(tmp_path))
    stock, _ = reported_run(STOCK, ["-I", "-c", code], tmp_path)
    result, report = reported_run(image, ["-I", "-c", code], tmp_path)
    assert result == stock
    assert stock[1] in (b"del ran\n", b"cycle collected\n")
    assert report.splitlines()[-1].startswith(TEARDOWN)
