"""Frozen modules are memoized imports (DESIGN section 3a): what python3
creates before the first import is the very object they captured, and a
module is handed out only while what its import read is unchanged.  Each
case runs the same program through stock python3.11 and an image."""

import os
import subprocess

import pytest

from conftest import PYFREEZE, STOCK, assert_same_as_stock, clean_env, freeze, run, runs_warm, terminal_session

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
    image = image_of(tmp_path, "holds_main", "import __main__\nMAIN = __main__\n")
    code = "import sys, holds_main\nx = 1\nprint(holds_main.MAIN is sys.modules['__main__'], holds_main.MAIN.x)"
    _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=tmp_path)
    assert out == "True 1\n"


HOME_READER = '''\
import os
import subprocess
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "home_reader")
TOKEN_SET = bool(os.environ.get("HOME_READER_TOKEN"))
'''


@pytest.fixture(scope="module")
def home_image(tmp_path_factory):
    work = tmp_path_factory.mktemp("home")
    (work / "home_reader.py").write_text(HOME_READER)
    (work / "uses_home_reader.py").write_text("import home_reader\nCACHE = home_reader.CACHE\n")
    image = work / "img"
    freeze(image, "uses_home_reader", cwd=work,
           env=clean_env(HOME="/home/builder", HOME_READER_TOKEN="t0ken-9f2a"))
    return image, work


def report_of(image, args, env, cwd, tmp_path, **kwargs):
    report = tmp_path / "report"
    if report.exists():
        report.unlink()
    run([image, *args], env=dict(env, PYFREEZE_DEBUG=str(report)), cwd=cwd, **kwargs)
    return report.read_text()


def _decisions(report):
    """REPORT less site's: a run with another HOME runs site again."""
    return "".join(line for line in report.splitlines(keepends=True)
                   if not line.startswith("pyfreeze: site runs again: "))


def image_of(tmp_path, name, source):
    """An image, tmp_path/img, of a module NAME with SOURCE, frozen in tmp_path."""
    (tmp_path / f"{name}.py").write_text(source)
    image = tmp_path / "img"
    freeze(image, name, cwd=tmp_path)
    return image


@pytest.mark.parametrize("home,token", [("/home/builder", "t0ken-9f2a"), ("/home/other", "t0ken-9f2a"),
                                        ("/home/builder", None)])
def test_paths_from_home_follow_the_run(home_image, tmp_path, home, token):
    image, work = home_image
    env = clean_env(HOME=home, **({"HOME_READER_TOKEN": token} if token else {}))
    code = "import uses_home_reader, home_reader; print(uses_home_reader.CACHE, home_reader.TOKEN_SET)"
    assert_same_as_stock(image, ["-c", code], env=env, cwd=work)
    report = report_of(image, ["-c", code], env, work, tmp_path)
    assert _decisions(report).startswith("pyfreeze: warm start\n")
    same = home == "/home/builder" and token is not None
    differs = "environment variable HOME" if home != "/home/builder" else "environment variable HOME_READER_TOKEN"
    assert ("runs from source" not in report) == same, report
    if not same:
        assert f"pyfreeze: module home_reader runs from source: {differs} differs from the freeze" in report
        assert ("pyfreeze: module uses_home_reader runs from source: it used home_reader, and "
                f"{differs} differs from the freeze") in report


def test_inputs_are_listed_and_values_only_tested_stay_out(home_image):
    image, work = home_image
    assert b"t0ken-9f2a" not in image.read_bytes()
    info = run([PYFREEZE, "info", image]).stdout.decode()
    assert "read at import:    environment HOME HOME_READER_TOKEN\n" in info


def test_argument_read_at_import_runs_from_source(tmp_path):
    # argparse names a module-level parser after sys.argv[0]: python3 reads
    # the run's, so the module must run from source; a module that only
    # keeps sys.argv is handed out.
    (tmp_path / "parser_at_import.py").write_text(
        "import argparse, sys\nPARSER = argparse.ArgumentParser()\nARGS = sys.argv\n")
    (tmp_path / "keeps_argv.py").write_text("import sys\nARGS = sys.argv\ndef main(argv=sys.argv):\n    return argv\n")
    image = tmp_path / "img"
    freeze(image, "parser_at_import", "keeps_argv", cwd=tmp_path)
    code = "import parser_at_import, keeps_argv, sys; print(parser_at_import.PARSER.prog, keeps_argv.main())"
    assert_same_as_stock(image, ["-c", code, "x"], cwd=tmp_path)
    report = report_of(image, ["-c", code, "x"], clean_env(), tmp_path, tmp_path)
    assert "module parser_at_import runs from source: sys.argv[0] differs from the freeze" in report
    assert "keeps_argv" not in report


def test_module_that_changed_shared_state_steps_aside_when_its_input_differs(tmp_path):
    # As ansible's unsafe_proxy patches sys.intern: loaded from source next
    # to its frozen effects, it would patch twice and warn.
    (tmp_path / "patcher.py").write_text(
        "import os, sys, warnings\n"
        "if getattr(sys.intern, 'patched', False):\n"
        "    warnings.warn('skipped sys.intern patch', RuntimeWarning)\n"
        "else:\n"
        "    original = sys.intern\n"
        "    def intern(s):\n"
        "        return original(s)\n"
        "    intern.patched = True\n"
        "    sys.intern = intern\n"
        "MODE = os.environ.get('PATCHER_MODE', 'plain')\n")
    image = tmp_path / "img"
    result = freeze(image, "-v", "patcher", cwd=tmp_path)
    assert "'patcher' changed sys.intern at import" in result.stderr.decode()
    code = "import patcher; print(patcher.MODE)"
    for env in (clean_env(), clean_env(PATCHER_MODE="fancy")):
        assert_same_as_stock(image, ["-c", code], env=env, cwd=tmp_path)
    report = report_of(image, ["-c", code], clean_env(PATCHER_MODE="fancy"), tmp_path, tmp_path)
    assert report == ("pyfreeze: cold start: module patcher changed sys.intern at import, and it read "
                      "environment variable PATCHER_MODE, which differs from the freeze\n")
    report = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    assert report == "pyfreeze: warm start\npyfreeze: fast exit\n"


def test_module_that_prints_at_import_prints_in_the_run(tmp_path):
    image = image_of(tmp_path, "printer", "print('hello from import')\nVALUE = 1\n")
    code = "import printer; print(printer.VALUE)"
    _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=tmp_path)
    assert out == "hello from import\n1\n"
    report = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    assert "module printer runs from source: its import prints on standard output" in report


def test_closed_descriptor_of_a_captured_stream_steps_aside(capture_image, tmp_path):
    image, work = capture_image
    code = "import sys, captures; print(sys.stdin, captures.STDIN)"
    stock = run([STOCK, "-c", code], cwd=work, stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
    frozen = run([image, "-c", code], cwd=work, stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
    assert (frozen.returncode, frozen.stdout) == (stock.returncode, stock.stdout) == (0, b"None None\n")
    report = tmp_path / "report"
    run([image, "-c", code], cwd=work, stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0),
        env=clean_env(PYFREEZE_DEBUG=str(report)))
    assert report.read_text() == ("pyfreeze: cold start: descriptor 0 is closed, and a frozen module "
                                  "holds sys.stdin\n")


def test_script_freeze_matches_runs_of_that_script(tmp_path):
    # Imports that read sys.path (distribution metadata) or sys.argv[0]
    # (argparse's prog) are handed out to runs of the script named with
    # --for-script, and run from source for other command lines.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tool_lib.py").write_text(
        "import argparse, sys\nFIRST = sys.path[0]\nPARSER = argparse.ArgumentParser()\n")
    script = tmp_path / "bin" / "tool"
    script.write_text("import tool_lib\nprint(tool_lib.FIRST.endswith('bin'), tool_lib.PARSER.prog)\n")
    image = tmp_path / "img"
    freeze(image, "--for-script", script, "tool_lib", cwd=tmp_path)
    env = clean_env()
    _, out, _ = assert_same_as_stock(image, [script], env=env, cwd=tmp_path)
    assert out == "True tool\n"
    assert report_of(image, [script], env, tmp_path, tmp_path) == (
        "pyfreeze: warm start\npyfreeze: fast exit\n")
    code = "import sys; sys.path.insert(0, 'bin'); import tool_lib; print(tool_lib.FIRST, tool_lib.PARSER.prog)"
    assert_same_as_stock(image, ["-c", code], env=env, cwd=tmp_path)
    report = report_of(image, ["-c", code], env, tmp_path, tmp_path)
    assert "module tool_lib runs from source: sys." in report


def test_pythonpath_of_the_builder_is_on_the_freezes_sys_path(tmp_path):
    # python3 -m from the freeze's directory, with the builder's PYTHONPATH,
    # has the sys.path the freeze had: a module that read it is handed out.
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "path_reader.py").write_text("import sys\nPATH = list(sys.path)\n")
    (tmp_path / "runner.py").write_text("import sys, path_reader\nprint(path_reader.PATH == sys.path)\n")
    image = tmp_path / "img"
    env = clean_env(PYTHONPATH=str(tmp_path / "lib"))
    freeze(image, "path_reader", env=env, cwd=tmp_path)
    _, out, _ = assert_same_as_stock(image, ["-m", "runner"], env=env, cwd=tmp_path)
    assert out == "True\n"
    assert "runs from source" not in report_of(image, ["-m", "runner"], env, tmp_path, tmp_path)


def test_module_changed_by_another_runs_from_source_with_it(tmp_path):
    # counter_user bumps counted.COUNT at import and reads an environment
    # variable: when it must run from source, counted (which it changed)
    # must too, or the count is made twice.
    (tmp_path / "counted.py").write_text("COUNT = 0\n")
    image = image_of(tmp_path, "counter_user",
                     "import os, counted\ncounted.COUNT += 1\nMODE = os.environ.get('COUNTER_MODE')\n")
    code = "import counter_user, counted; print(counted.COUNT, counter_user.MODE)"
    for env in (clean_env(), clean_env(COUNTER_MODE="other")):
        _, out, _ = assert_same_as_stock(image, ["-c", code], env=env, cwd=tmp_path)
        assert out.startswith("1 ")
    report = report_of(image, ["-c", code], clean_env(COUNTER_MODE="other"), tmp_path, tmp_path)
    assert _decisions(report).startswith("pyfreeze: warm start\n")
    assert "module counted runs from source: it used counter_user" in report


def test_changes_to_the_standard_streams_are_made_when_imported(tmp_path):
    # As ansible's display does: wrap sys.stdout.buffer.write and
    # reconfigure the stream at import.
    image = image_of(tmp_path, "stream_patcher",
                     "import sys\n_write = sys.stdout.buffer.write\n"
                     "def write(data):\n    return _write(data.replace(b'x', b'y'))\n"
                     "sys.stdout.buffer.write = write\nsys.stdout.reconfigure(errors='replace')\n")
    before = "import sys; print('xx', sys.stdout.errors)"
    after = "import sys, stream_patcher; print('xx', sys.stdout.errors)"
    _, out, _ = assert_same_as_stock(image, ["-c", before], cwd=tmp_path)
    assert out.startswith("xx ") and out != "xx replace\n"
    _, out, _ = assert_same_as_stock(image, ["-c", after], cwd=tmp_path)
    assert out == "yy replace\n"
    assert "runs from source" not in report_of(image, ["-c", after], clean_env(), tmp_path, tmp_path)


def test_env_options_set_the_freezes_environment(tmp_path):
    (tmp_path / "env_reader.py").write_text(
        "import os\nFOO = os.environ.get('FOO')\nHAS_HOME = 'HOME' in os.environ\n")
    image = tmp_path / "img"
    freeze(image, "--clean-env", "--env", "FOO=bar", "--env", "PATH=/usr/bin:/bin", "--env", "GONE=1",
           "--env", "GONE", "env_reader", cwd=tmp_path)
    info = run([PYFREEZE, "info", "--json", image]).stdout.decode()
    assert '"read_environment": ["FOO", "HOME"]' in info
    code = "import env_reader; print(env_reader.FOO, env_reader.HAS_HOME)"
    same = {"PATH": "/usr/bin:/bin", "FOO": "bar"}
    _, out, _ = assert_same_as_stock(image, ["-c", code], env=same, cwd=tmp_path)
    assert out == "bar False\n"
    assert "runs from source" not in report_of(image, ["-c", code], same, tmp_path, tmp_path)
    assert "runs from source: environment variable" in report_of(
        image, ["-c", code], clean_env(FOO="bar"), tmp_path, tmp_path)


def test_terminal_asked_at_import_is_an_input(tmp_path):
    image = image_of(tmp_path, "tty_probe",
                     "import sys, socket\nCOLOUR = sys.stdout.isatty()\n"
                     "HOST = socket.gethostname()\n")
    code = "import tty_probe, socket; print(tty_probe.COLOUR, tty_probe.HOST == socket.gethostname())"
    _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=tmp_path)
    assert out == "False True\n"
    assert "runs from source" not in report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); " + code
    stock = terminal_session(STOCK, ["-c", code], b"")
    frozen = terminal_session(image, ["-c", code], b"")
    assert frozen == stock and stock[1].endswith(b"True True\r\n")


def test_multiprocessing_working_directory_renewed_at_import(tmp_path):
    # multiprocessing.process keeps os.path.abspath(os.getcwd()) at import:
    # the reveal computes it again where python3 would import the module,
    # so a run elsewhere than the freeze still gets the frozen modules.
    freeze_dir, run_dir, later_dir = (tmp_path / name for name in ("freeze", "run", "later"))
    for directory in (freeze_dir, run_dir, later_dir):
        directory.mkdir()
    image = tmp_path / "img"
    freeze(image, "multiprocessing", "concurrent.futures.process", cwd=freeze_dir)
    programs = [
        "import multiprocessing.process as p; print(p.ORIGINAL_DIR)",
        f"import os; os.chdir({str(later_dir)!r})\nimport concurrent.futures.process, multiprocessing.process as p\n"
        "print(p.ORIGINAL_DIR, os.getcwd())",
    ]
    for code in programs:
        assert_same_as_stock(image, ["-c", code], cwd=run_dir)
        report = report_of(image, ["-c", code], clean_env(), run_dir, tmp_path)
        assert report == "pyfreeze: warm start\npyfreeze: fast exit\n"


def test_a_module_that_looks_at_the_executable_sees_the_image(tmp_path):
    # At the freeze the image does not exist yet; in a run, looking at
    # sys.executable is looking at the program that runs.
    image = image_of(tmp_path, "looks_at_itself",
                     "import os, sys\nSEEN = (os.path.exists(sys.executable), os.path.isfile(sys.executable),\n"
                     "        os.access(sys.executable, os.X_OK), os.path.islink(sys.executable),\n"
                     "        os.path.realpath(sys.executable) == os.path.abspath(sys.executable))\n")
    code = "import looks_at_itself as m; print(m.SEEN)"
    report = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    assert "warm start" in report and "runs from source" not in report, report
    assert run([image, "-c", code], cwd=tmp_path).stdout == b"(True, True, True, False, True)\n"
    # by another path (a link to its directory) sys.executable is another
    (tmp_path / "linked").symlink_to(tmp_path)
    assert run([tmp_path / "linked" / "img", "-c", code], cwd=tmp_path).stdout == \
        b"(True, True, True, False, False)\n"
    # installed as a link at that path: python3 would see the link
    image.rename(tmp_path / "img.real")
    image.symlink_to(tmp_path / "img.real")
    report = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    assert "module looks_at_itself runs from source" in report, report
    assert run([image, "-c", code], cwd=tmp_path).stdout == b"(True, True, True, True, False)\n"


def test_a_file_looked_at_is_compared_with_its_size_and_time(tmp_path):
    # a module that keeps a file's time (a cache checked against its
    # source) runs from source once the file changed
    (tmp_path / "data.txt").write_text("one")
    image = image_of(tmp_path, "keeps_time",
                     "import os\nSTAMP = os.stat(os.path.join(os.path.dirname(__file__), 'data.txt')).st_mtime_ns\n")
    code = "import keeps_time, os; print(keeps_time.STAMP == os.stat('data.txt').st_mtime_ns)"
    assert "runs from source" not in report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    os.utime(tmp_path / "data.txt", ns=(1, 1))
    report = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    assert "module keeps_time runs from source: file" in report, report
    assert run([image, "-c", code], cwd=tmp_path).stdout == b"True\n"


@pytest.mark.parametrize("source, value", [
    ("import time\nSTARTED = time.time()\n", "m.STARTED"),                  # kept: the run's time
    ("import datetime\nclass Stamp:\n    when = datetime.datetime.now()\n", "m.Stamp.when"),
    ("import os\nTOKEN = os.urandom(8).hex()\n", "m.TOKEN"),                # a secret of the run's
    ("import random\nRNG = random.Random()\n", "m.RNG.random()"),           # seeded from os.urandom
    ("import time\nNAME = 'log-%d' % (time.time() // 1e12)\n", None),       # read, nothing kept
    ("import tempfile\nwith tempfile.TemporaryFile() as f:\n    f.write(b'x')\n", None),
])
def test_time_and_randomness_kept_at_import_are_the_runs(tmp_path, source, value):
    # python3 reads another time and draws other bytes in every run: a
    # module that kept them is imported from source, one that did not is
    # handed out (tempfile's names are drawn from a generator the restore
    # forgets).
    image = image_of(tmp_path, "reads_at_import", source)
    code = "import reads_at_import as m; print(sorted(k for k in vars(m) if not k.startswith('__')))"
    report = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    assert ("module reads_at_import runs from source" in report) == (value is not None), report
    assert_same_as_stock(image, ["-c", code], cwd=tmp_path)
    if value is not None:
        shown = f"import reads_at_import as m; print({value})"
        assert len({run([image, "-c", shown], cwd=tmp_path).stdout for _ in range(2)}) == 2


def test_a_module_that_sets_the_locale_sets_it_in_every_run(tmp_path):
    # csvkit's csvstat calls locale.setlocale(locale.LC_ALL, '') at import:
    # python3 does so in every run, from that run's environment (an
    # unsupported one fails the import); the image carries no C locale.
    image = image_of(tmp_path, "sets_locale",
                     "import locale\nlocale.setlocale(locale.LC_ALL, '')\nPOINT = locale.localeconv()['decimal_point']\n")
    code = "import locale, sets_locale as m; print(m.POINT, locale.setlocale(locale.LC_TIME))"
    for lang in ("C.UTF-8", "C", "xx_YY.UTF-8"):
        assert_same_as_stock(image, ["-c", code], cwd=tmp_path, env=clean_env(LANG=lang))
    report = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    assert "module sets_locale runs from source: its import sets the C library's locale" in report, report
    # asking for the locale is no change
    (tmp_path / "asks_locale.py").write_text("import locale\nNOW = locale.setlocale(locale.LC_NUMERIC)\n")
    freeze(image, "asks_locale", cwd=tmp_path)
    assert "runs from source" not in report_of(image, ["-c", "import asks_locale"], clean_env(), tmp_path, tmp_path)


def test_umask_and_resource_limits_are_inputs(tmp_path):
    # mercurial keeps the umask at import (it sets it and sets it back), and
    # a module may keep a resource limit: both are the run's, set by
    # whoever started it.
    import resource
    image = image_of(tmp_path, "keeps_process_limits",
                     "import os, resource\nUMASK = os.umask(0)\nos.umask(UMASK)\n"
                     "NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)\n")
    code = "import keeps_process_limits as m; print(oct(m.UMASK), m.NOFILE)"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # (umask, open files limit, what the report says)
    for mask, files, said in ((None, None, None),
                              (0o077, None, "the file mode creation mask differs from the freeze"),
                              (None, min(256, soft - 1), "resource limit 7 differs from the freeze")):
        def limits(mask=mask, files=files):
            if mask is not None:
                os.umask(mask)
            if files is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (files, hard))
        assert_same_as_stock(image, ["-c", code], cwd=tmp_path, preexec_fn=limits)
        text = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path, preexec_fn=limits)
        if said is None:
            assert "runs from source" not in text, text
        else:
            assert f"module keeps_process_limits runs from source: {said}" in text, text


def test_a_module_that_ran_another_program_runs_it_again(tmp_path):
    # meson runs dpkg-architecture at import, whose answer follows the
    # environment (DEB_HOST_MULTIARCH) and the system: python3 runs it in
    # every run, and so must the image.
    image = image_of(tmp_path, "asks_a_program",
                     "import subprocess\nANSWER = subprocess.run(['sh', '-c', 'echo ${ANSWER:-none}'],"
                     " capture_output=True, text=True).stdout.strip()\n")
    code = "import asks_a_program as m; print(m.ANSWER)"
    for env in (clean_env(), clean_env(ANSWER="42")):
        _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=tmp_path, env=env)
        assert out == ("42\n" if "ANSWER" in env else "none\n")
    report = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    assert "module asks_a_program runs from source: its import ran another program" in report, report


@pytest.mark.parametrize("path, mode", [("/proc/self/stat", "r"), ("/dev/urandom", "rb")])
def test_a_file_that_reads_differently_never_matches(tmp_path, path, mode):
    # /proc/self/stat names this process, /dev/urandom gives other bytes:
    # what an import kept of them is the run's in python3.
    image = image_of(tmp_path, "reads_kernel", f"with open({path!r}, {mode!r}) as f:\n    KEPT = f.read(16)\n")
    code = "import reads_kernel as m; print(m.KEPT)"
    report = report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
    assert f"module reads_kernel runs from source: its import read {path}" in report, report
    assert len({run([image, "-c", code], cwd=tmp_path).stdout for _ in range(2)}) == 2


OPTIONAL = '''\
try:
    import fastjson_accel
except ImportError:
    fastjson_accel = None
try:
    from . import _speedups
except ImportError:
    _speedups = None
def which():
    return ("fast" if fastjson_accel else "slow", "sped up" if _speedups else "plain")
'''


@pytest.fixture()
def optional_image(tmp_path):
    package = tmp_path / "optional"
    package.mkdir()
    (package / "__init__.py").write_text(OPTIONAL)
    freeze(tmp_path / "img", "optional", cwd=tmp_path)
    (tmp_path / "extra").mkdir()
    return tmp_path / "img", tmp_path


@pytest.mark.parametrize("where", ["none", "pythonpath", "working directory", "package"])
def test_a_module_not_found_at_the_freeze_is_an_input(optional_image, where):
    # `try: import simplejson except ImportError`: the frozen module took
    # the fallback; once the search finds the module, python3 takes it.
    image, work = optional_image
    env = clean_env()
    if where == "pythonpath":
        (work / "extra" / "fastjson_accel.py").write_text("")
        env["PYTHONPATH"] = str(work / "extra")
    elif where == "working directory":
        (work / "fastjson_accel.py").write_text("")
    elif where == "package":
        (work / "optional" / "_speedups.py").write_text("")
    code = "import optional; print(*optional.which())"
    _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=work, env=env)
    assert out == {"none": "slow plain\n", "pythonpath": "fast plain\n",
                   "working directory": "fast plain\n", "package": "slow sped up\n"}[where]
    report = report_of(image, ["-c", code], env, work, work)
    assert ("module optional runs from source" in report) == (where != "none")
    if where != "none":
        assert "the absence of module" in report


def test_a_module_not_found_is_searched_for_by_the_programs_finders(optional_image):
    # A meta path finder of the program's that finds it is honoured.
    image, work = optional_image
    (work / "extra" / "accel_source.py").write_text("KIND = 'from the finder'\n")
    code = ("import sys, importlib.util\n"
            "class Finder:\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name == 'fastjson_accel':\n"
            "            return importlib.util.spec_from_file_location(name, 'extra/accel_source.py')\n"
            "sys.meta_path.insert(0, Finder())\n"
            "import optional\n"
            "print(*optional.which(), optional.fastjson_accel.KIND)\n")
    _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=work)
    assert out == "fast plain from the finder\n"


def test_a_module_halted_by_none_in_sys_modules_is_no_input(tmp_path):
    # defusedxml imports a pure ElementTree with sys.modules['_elementtree']
    # = None: the module it did not get is there, and the frozen module is
    # still python3's (its code blocks it again).
    image = image_of(tmp_path, "blocker", (
        "import sys\n"
        "sys.modules['csv'] = None\n"
        "try:\n    import csv\n    HAVE_CSV = True\nexcept ImportError:\n    HAVE_CSV = False\n"
        "del sys.modules['csv']\n"))
    code = "import blocker, sys; print(blocker.HAVE_CSV, 'csv' in sys.modules)"
    _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=tmp_path)
    assert out == "False False\n"
    assert "runs from source" not in report_of(image, ["-c", code], clean_env(), tmp_path, tmp_path)
