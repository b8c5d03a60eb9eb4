"""Every way a python3 run ends makes the same exit decision in an image,
with python3's output: sys.exit() at any depth, SystemExit from -m, an
unhandled exception, the end of a script, and a standard stream that
cannot be flushed (a closed pipe)."""

import os
import re
import subprocess

import pytest

from conftest import STOCK, clean_env, run

EXITS = {
    "end": "print('done')",
    "sys-exit-0": "import sys; print('x'); sys.exit(0)",
    "sys-exit-3": "import sys; sys.exit(3)",
    "sys-exit-message": "raise SystemExit('bye')",
    "sys-exit-in-function": "import sys\ndef f():\n    sys.exit(4)\nf()",
    "exception": "raise ValueError('nope')",
}


@pytest.mark.parametrize("name", sorted(EXITS))
def test_exit_is_fast_and_as_python3s(minimal_image, tmp_path, name):
    code = EXITS[name]
    stock = run([STOCK, "-c", code])
    report = tmp_path / "report"
    image = run([minimal_image, "-c", code], env=clean_env(PYFREEZE_DEBUG=str(report)))
    assert (image.returncode, image.stdout, image.stderr) == (stock.returncode, stock.stdout, stock.stderr)
    assert report.read_text() == "pyfreeze: warm start\npyfreeze: fast exit\n"


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
