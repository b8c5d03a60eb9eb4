"""Frozen modules are memoized imports (DESIGN section 3a): what python3
creates before the first import is the very object they captured, and a
module is handed out only while what its import read is unchanged.  Each
case runs the same program through stock python3.11 and an image."""

import os

import pytest

from conftest import STOCK, assert_same_as_stock, clean_env, freeze, run, runs_warm

CAPTURE = '''\
import sys, os
ARGV = sys.argv; ORIG = sys.orig_argv; PATH = sys.path
WARN = sys.warnoptions; XOPTIONS = sys._xoptions; FLAGS = sys.flags
STDIN = sys.stdin; STDOUT = sys.stdout; STDERR = sys.stderr; ENVIRON = os.environ
def main(args=sys.argv, out=sys.stdout):
    print("main sees", args[1:], file=out)
'''

USE_CAPTURE = '''\
import sys, os, captures as c
print(c.ARGV is sys.argv, c.ORIG is sys.orig_argv, c.PATH is sys.path, c.WARN is sys.warnoptions,
      c.XOPTIONS is sys._xoptions, c.FLAGS is sys.flags)
print(c.STDIN is sys.stdin, c.STDOUT is sys.stdout, c.STDERR is sys.stderr, c.ENVIRON is os.environ)
c.main()
print(sys.stdout.line_buffering, sys.stdout.write_through, sys.stdout.encoding, sys.stdout.errors,
      type(sys.stdout.buffer).__name__, sys.stdout.buffer.name, sys.stderr.line_buffering)
print("unflushed at exit", end="", file=c.STDOUT)
'''


@pytest.fixture(scope="module")
def capture_image(tmp_path_factory):
    work = tmp_path_factory.mktemp("capture")
    (work / "captures.py").write_text(CAPTURE)
    (work / "use_capture.py").write_text(USE_CAPTURE)
    image = work / "img"
    freeze(image, "captures", cwd=work)
    return image, work


@pytest.mark.parametrize("options", [[], ["-u"], ["-X", "utf8=0", "-W", "ignore"]])
def test_objects_made_before_imports_are_the_frozen_ones(capture_image, options):
    image, work = capture_image
    args = [*options, str(work / "use_capture.py"), "one", "two"]
    _, out, _ = assert_same_as_stock(image, args, cwd=work)
    assert out.startswith("True True True True True True\nTrue True True True\nmain sees ['one', 'two']\n")
    assert runs_warm(image, args, cwd=work)


def test_captured_stream_follows_the_run_encoding(capture_image):
    image, work = capture_image
    args = [str(work / "use_capture.py")]
    assert_same_as_stock(image, args, cwd=work, env=clean_env(PYTHONIOENCODING="latin-1:replace"))


def test_main_module_object_is_kept(capture_image, tmp_path):
    # dill does `import __main__` at import: it must hold the run's.
    (tmp_path / "holds_main.py").write_text("import __main__\nMAIN = __main__\n")
    image = tmp_path / "img"
    freeze(image, "holds_main", cwd=tmp_path)
    code = "import sys, holds_main\nx = 1\nprint(holds_main.MAIN is sys.modules['__main__'], holds_main.MAIN.x)"
    _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=tmp_path)
    assert out == "True 1\n"
