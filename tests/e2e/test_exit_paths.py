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

from conftest import STOCK, clean_env, run, terminal_session

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
