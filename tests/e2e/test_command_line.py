"""Every python3 command-line form gives what /usr/bin/python3.11 gives,
from the frozen heap (not by stepping aside to a cold start)."""

import os
import re
import subprocess
import time

import pytest

from conftest import STOCK, assert_same_as_stock, clean_env, freeze, run, runs_warm

SCRIPT = """\
import sys
print("argv", sys.argv)
print("orig_argv", sys.orig_argv[1:])
print("name", __name__, __file__)
print("path0", sys.path[0])
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""

FLAGS = "import sys; print(sys.flags); print(sys.argv, sys.orig_argv[1:])"
PATHS = "import sys; print(sys.path); print(sys.executable == sys.orig_argv[0] or sys.executable)"


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("scripts") / "script.py"
    path.write_text(SCRIPT)
    return path


CASES = {
    "c": ["-c", FLAGS],
    "c-args": ["-c", FLAGS, "a", "-b", "--c"],
    "m-json-tool": ["-m", "json.tool", "--sort-keys"],
    "m-missing": ["-m", "no_such_module_here"],
    "stdin": [],
    "stdin-dash": ["-", "x"],
    "u": ["-u", "-c", "import sys; print(sys.stdout.write_through, sys.stderr.write_through, sys.stdout.line_buffering)"],
    "E": ["-E", "-c", PATHS],
    "I": ["-I", "-c", PATHS + "; print(hasattr(sys, '__interactivehook__'))"],
    "s": ["-s", "-c", PATHS],
    "B": ["-B", "-c", FLAGS],
    "q": ["-q", "-c", FLAGS],
    "b": ["-b", "-c", "import warnings; print(warnings.filters[:2]); print(str(b'x'))"],
    "bb": ["-bb", "-c", "str(b'x')"],
    "X-utf8": ["-X", "utf8", "-c", "import sys; print(sys.flags.utf8_mode, sys._xoptions, sys.stdout.encoding)"],
    "X-faulthandler": ["-X", "faulthandler", "-c", "import faulthandler; print(faulthandler.is_enabled())"],
    "X-int-digits": ["-X", "int_max_str_digits=5000", "-c", "import sys; print(sys.get_int_max_str_digits(), sys.flags.int_max_str_digits)"],
    "X-pycache": ["-X", "pycache_prefix=/tmp/pfx", "-c", "import sys; print(sys.pycache_prefix)"],
    "X-warn-enc": ["-X", "warn_default_encoding", "-c", "import sys; print(sys.flags.warn_default_encoding)"],
    "W-error": ["-W", "error", "-c", "import warnings, sys; print(warnings.filters[:3], sys.warnoptions)"],
    "W-joined": ["-Wd", "-Wignore::UserWarning", "-c", "import warnings; print(warnings.filters[:4])"],
    "W-warn": ["-W", "always", "-c", "import warnings; warnings.warn('careful')"],
    "W-invalid": ["-W", "bogus::Nope", "-c", "pass"],
    "dashdash": ["--", "-c"],
    "traceback": ["-c", "def f():\n    raise ValueError('boom')\nf()"],
    "exit-str": ["-c", "import sys; sys.exit('goodbye')"],
    "exit-code": ["-c", "raise SystemExit(7)"],
    "syntax-error": ["-c", "1 +"],
    "version": ["--version"],
    "VV": ["-VV"],
    "help": ["-h"],
    "bad-option": ["-z"],
    "missing-script": ["/nonexistent/script.py"],
    "x-skip-line": ["-x", "-c", "print('x')"],
    "P": ["-P", "-c", PATHS],
    "check-hash-pycs": ["--check-hash-based-pycs", "default", "-c", "print(1)"],
    "environ": ["-c", "import os; print(sorted(os.environ.items()))"],
    "locale": ["-c", "import locale, sys; print(locale.setlocale(locale.LC_CTYPE), locale.getpreferredencoding(), sys.getfilesystemencoding())"],
    "streams": ["-c", "import sys; print(sys.stdin, sys.stdout, sys.stderr, sys.stdout.line_buffering, sys.stderr.line_buffering)"],
    "executable": ["-c", "import sys; print(sys.executable, sys._base_executable, sys.prefix, sys.base_prefix)"],
    "builtins": ["-c", "import builtins; print(builtins.exit, builtins.quit, builtins.copyright.__class__, builtins.help)"],
}

STDIN = {"stdin": b"import sys\nprint('from stdin', __name__, sys.argv)\n",
         "stdin-dash": b"import sys\nprint('dash', sys.argv)\n",
         "m-json-tool": b'{"b": 1, "a": [1, 2]}'}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_stock(cgi_image, name):
    args = CASES[name]
    assert_same_as_stock(cgi_image, args, input=STDIN.get(name, b""))
    assert runs_warm(cgi_image, args, input=STDIN.get(name, b""))


@pytest.mark.parametrize("status", ["0", "3"])
def test_script(cgi_image, script, status):
    code, out, err = assert_same_as_stock(cgi_image, [script, status, "b"])
    assert code == int(status)
    assert "argv" in out


def test_script_relative_path(cgi_image, script):
    assert_same_as_stock(cgi_image, [script.name, "1"], cwd=script.parent)


@pytest.mark.parametrize("variable,value", [
    ("PYTHONPATH", "/tmp/pyfreeze-extra:/opt/x"),
    ("PYTHONSAFEPATH", "1"),
    ("PYTHONWARNINGS", "error::DeprecationWarning"),
    ("PYTHONIOENCODING", "latin-1:replace"),
    ("PYTHONUNBUFFERED", "1"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
    ("PYTHONNOUSERSITE", "1"),
    ("PYTHONUTF8", "1"),
    ("PYTHONINTMAXSTRDIGITS", "1000"),
])
def test_environment_variables(cgi_image, variable, value):
    args = ["-c", "import sys, warnings; print(sys.flags, sys.path, sys.stdout.encoding, "
                  "sys.stdout.errors, warnings.filters[:2], sys.get_int_max_str_digits())"]
    env = clean_env(**{variable: value})
    assert_same_as_stock(cgi_image, args, env=env)
    assert runs_warm(cgi_image, args, env=env)


def test_environment_ignored_with_E(cgi_image):
    args = ["-E", "-c", "import sys; print(sys.flags, sys.path)"]
    env = clean_env(PYTHONPATH="/tmp/elsewhere", PYTHONUNBUFFERED="1")
    assert_same_as_stock(cgi_image, args, env=env)


def test_c_locale_coercion(cgi_image):
    args = ["-c", "import os, sys, locale; print(os.environ.get('LC_CTYPE'), "
                  "locale.setlocale(locale.LC_CTYPE), sys.flags.utf8_mode, sys.stdout.encoding)"]
    for env in (clean_env(LANG="C"), clean_env(LC_ALL="C"), clean_env(LANG="C", PYTHONCOERCECLOCALE="0")):
        assert_same_as_stock(cgi_image, args, env=env)
        assert runs_warm(cgi_image, args, env=env)


def test_image_on_path_runs_like_python(cgi_image):
    env = clean_env(PATH=f"{cgi_image.parent}:/usr/bin:/bin")
    result = run([cgi_image.name, "-c", "import sys; print(sys.executable)"], env=env,
                 executable=cgi_image)
    assert result.stdout.decode().strip() == str(cgi_image)


def test_sys_executable_is_the_image(cgi_image):
    result = run([cgi_image, "-c", "import sys, subprocess; print(sys.executable); "
                  "print(subprocess.run([sys.executable, '-c', 'import pyfreeze; print(pyfreeze.frozen())'],"
                  " capture_output=True, text=True).stdout.strip())"])
    assert result.stdout.decode().split() == [str(cgi_image), "True"]


def test_frozen_modules_wait_in_the_image_until_imported(unblocked_cgi_image):
    # python3's start-up modules only, as stock has them; importing a frozen
    # module then brings in exactly what importing it brings into python3.
    image = unblocked_cgi_image
    code = ("import sys; before = sorted(sys.modules); import cgi; "
            "print(before, sorted(sys.modules), cgi.__spec__.origin, type(cgi.__loader__).__name__)")
    assert_same_as_stock(image, ["-c", code])
    code = "import sys, email.parser, json; print(sorted(sys.modules))"
    assert_same_as_stock(image, ["-c", code])
    assert runs_warm(image, ["-c", "import cgi"])


def test_frozen_module_warns_on_import_as_python3_does(cgi_image):
    # cgi's DeprecationWarning names the importing line, in __main__ or not.
    assert_same_as_stock(cgi_image, ["-c", "import cgi"])
    assert_same_as_stock(cgi_image, ["-c", "import warnings; import cgi"])
    assert_same_as_stock(cgi_image, ["-W", "error::DeprecationWarning", "-c", "import cgi"])
    assert_same_as_stock(cgi_image, ["-W", "ignore", "-c", "import cgi; print(cgi.escape)"])


def test_script_directory_module_shadows_a_frozen_one(cgi_image, tmp_path):
    # A uuid.py next to the script wins over the frozen uuid, as in python3.
    (tmp_path / "uuid.py").write_text("raise RuntimeError('the script directory wins')\n")
    (tmp_path / "main.py").write_text("import uuid\nprint('ok')\n")
    result = assert_same_as_stock(cgi_image, [tmp_path / "main.py"], cwd=tmp_path)
    assert "the script directory wins" in result[2]
    assert_same_as_stock(cgi_image, ["-I", tmp_path / "main.py"], cwd=tmp_path)


def test_script_directory_shadows_a_module_a_frozen_one_uses(unblocked_cgi_image, tmp_path):
    # email._parseaddr imports calendar: with the script's calendar.py,
    # python3's email.utils binds that one, so the frozen one cannot serve.
    (tmp_path / "calendar.py").write_text("print('the script directory calendar')\ntimegm = None\n")
    (tmp_path / "main.py").write_text("import email.utils\nprint(email.utils._parseaddr.calendar.__file__)\n")
    result = assert_same_as_stock(unblocked_cgi_image, [tmp_path / "main.py"], cwd=tmp_path)
    assert "the script directory calendar" in result[1]


@pytest.mark.parametrize("package", [False, True], ids=["namespace portion", "package"])
def test_script_directory_with_a_directory_named_as_a_used_module(unblocked_cgi_image, tmp_path, package):
    # A calendar/ directory next to the script: without __init__.py a
    # namespace portion, which python3 passes over for the standard
    # library's calendar.py (the frozen one serves); with one, the package
    # python3 takes instead.
    (tmp_path / "calendar").mkdir()
    if package:
        (tmp_path / "calendar" / "__init__.py").write_text("print('the script directory package')\ntimegm = None\n")
    (tmp_path / "main.py").write_text("import email.utils, email._parseaddr as parseaddr\n"
                                      "print(parseaddr.calendar.__spec__.origin)\n")
    result = assert_same_as_stock(unblocked_cgi_image, [tmp_path / "main.py"], cwd=tmp_path)
    assert result[0] == 0 and result[1].endswith("/calendar/__init__.py\n" if package else "/calendar.py\n")
    debug = run([unblocked_cgi_image, tmp_path / "main.py"], cwd=tmp_path,
                env=clean_env(PYFREEZE_DEBUG="1")).stderr
    assert (b"module calendar runs from source" in debug or b"calendar would now come from elsewhere" in debug) == package


def test_a_removed_module_is_imported_afresh(cgi_image):
    code = ("import sys, json; first = json; del sys.modules['json']; import json; "
            "print(json is first, json.dumps([1]))")
    assert_same_as_stock(cgi_image, ["-c", code])


def test_user_site_of_builder_absent(cgi_image, tmp_path):
    # The run's HOME decides the user site, never the builder's.
    home = tmp_path / "home"
    site = home / ".local/lib/python3.11/site-packages"
    site.mkdir(parents=True)
    args = ["-c", "import sys, site; print(site.ENABLE_USER_SITE, site.USER_SITE, sys.path)"]
    assert_same_as_stock(cgi_image, args, env=clean_env(HOME=str(home)))


PTH_LINES = (
    "import sys; print('pth', sys._getframe(1).f_locals['sitedir'].endswith('site-packages'))\n"
    "import sys; exec('x = 1\\nprint(\"nested\", __name__, x)')\n"
    "extra\n"
    "import os; raise ValueError('boom')\n"
    "not reached\n")


def test_pth_files_run_as_python3_runs_them(tmp_path):
    # The image re-runs site with the .pth texts of the freeze compiled and
    # the listings of unchanged site directories kept: the same output,
    # sys.path and error report as python3, before and after the directory
    # and the files change.
    home = tmp_path / "home"
    site = home / ".local/lib/python3.11/site-packages"
    (site / "extra").mkdir(parents=True)
    (site / "a.pth").write_text(PTH_LINES)
    time.sleep(2.1)     # older than the freeze's margin: its listing is kept
    image = tmp_path / "image"
    env = clean_env(HOME=str(home))
    freeze(image, env=env)
    args = ["-c", "import sys; print(sys.path[-2:])"]
    assert runs_warm(image, args, env=env)
    assert_same_as_stock(image, args, env=env)
    (site / "b.pth").write_text("import sys; print('b too')\n")
    assert_same_as_stock(image, args, env=env)
    (site / "a.pth").write_text(PTH_LINES.replace("boom", "bang").replace("nested", "inner"))
    assert_same_as_stock(image, args, env=env)


def test_write_to_closed_pipe(cgi_image):
    # SIGPIPE is ignored as in python3: the write raises BrokenPipeError.
    code = ("import sys, os\nr, w = os.pipe()\nos.close(r)\n"
            "try:\n    os.write(w, b'x')\nexcept BrokenPipeError:\n    print('broken pipe')\n")
    code_, out, _ = assert_same_as_stock(cgi_image, ["-c", code])
    assert out == "broken pipe\n"


def test_kernel_signal_dispositions(cgi_image):
    # The kernel's view (ignored and caught masks) matches python3's.
    args = ["-c", "print([l for l in open('/proc/self/status') if l.startswith(('SigIgn', 'SigCgt'))])"]
    assert_same_as_stock(cgi_image, args)
    ignore_int = {"preexec_fn": lambda: __import__("signal").signal(2, __import__("signal").SIG_IGN)}
    assert_same_as_stock(cgi_image, args, **ignore_int)


def test_inherited_sigint_ignore_wins(cgi_image):
    import signal
    args = ["-c", "import os, signal; print(signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGHUP));"
                  " os.kill(os.getpid(), signal.SIGINT); print('survived')"]

    def ignore():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    code, out, _ = assert_same_as_stock(cgi_image, args, preexec_fn=ignore)
    assert out.endswith("survived\n")


def test_sigint_raises_keyboard_interrupt(cgi_image):
    args = ["-c", "import os, signal; os.kill(os.getpid(), signal.SIGINT); print('not reached')"]
    code, out, err = assert_same_as_stock(cgi_image, args)
    assert code == -2 and "KeyboardInterrupt" in err


@pytest.mark.parametrize("fd", [0, 1, 2])
def test_stdio_closed(cgi_image, fd):
    # The descriptor is really closed in the child (it used to be /dev/null):
    # python3 then has None for that stream.
    args = ["-c", "import sys, os; streams = (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, "
            "sys.__stderr__); os.write(3, repr([s is None for s in streams]).encode())"]
    results = []
    for python in (STOCK, cgi_image):
        reader, writer = os.pipe()

        def close_fd():
            os.dup2(writer, 3)   # the report goes there; preexec_fn runs before close_fds would
            os.close(fd)
        result = run([python, *args], preexec_fn=close_fd, close_fds=False, stdin=subprocess.DEVNULL)
        os.close(writer)
        with os.fdopen(reader, "rb") as pipe:
            results.append((result.returncode, pipe.read(), result.stderr if fd != 2 else b""))
    expected = [i == fd for i in range(3)] * 2
    assert results[0] == (0, repr(expected).encode(), b"")
    assert results[1] == results[0]


def test_image_in_a_virtual_environment_starts_cold(cgi_image, tmp_path):
    # Frozen modules derived install paths from the image's sys.prefix; in
    # a venv, site moves sys.prefix, so the image steps aside.
    venv = tmp_path / "venv"
    made = run([cgi_image, "-m", "venv", "--without-pip", venv])
    assert made.returncode == 0, made.stderr
    code = "import sys, sysconfig; print(sys.prefix, sysconfig.get_paths()['purelib'])"
    result = run([venv / "bin" / "python", "-c", code])
    assert result.stdout.decode() == f"{venv} {venv}/lib/python3.11/site-packages\n", result.stderr
    assert not runs_warm(venv / "bin" / "python", ["-c", "pass"])


def test_path_configuration_is_computed_for_each_run(cgi_image, tmp_path):
    # The image runs getpath's code as the dump unmarshalled it; what it
    # computes must still follow this run's environment and location.
    code = ("import sys; print(sys.prefix, sys.exec_prefix, sys.base_prefix, sys.platlibdir, "
            "sys._stdlib_dir, sys.path[1:])")
    for env in (clean_env(), clean_env(PYTHONPATH=f"{tmp_path}:/opt/x"), clean_env(PYTHONNOUSERSITE="1")):
        assert_same_as_stock(cgi_image, ["-c", code], env=env)
        assert runs_warm(cgi_image, ["-c", code], env=env)
    # a copy elsewhere looks for its landmarks from there, as a copy of
    # python3 there does: none found, then a prefix of its own
    image_copy, stock_copy = tmp_path / "bin" / "image", tmp_path / "bin" / "python3"
    image_copy.parent.mkdir()
    for copy, original in ((image_copy, cgi_image), (stock_copy, STOCK)):
        copy.write_bytes(original.read_bytes() if hasattr(original, "read_bytes") else open(original, "rb").read())
        copy.chmod(0o755)

    def told(path):         # less what names the executable or an address, which differ
        result = run([path, "-c", code])
        lines = [re.sub(r"0x[0-9a-f]+", "0x", line) for line in result.stderr.decode().splitlines()
                 if "executable" not in line and "program name" not in line]
        return result.returncode, result.stdout, lines

    assert told(image_copy) == told(stock_copy)
    assert runs_warm(image_copy, ["-c", code])
    (tmp_path / "lib" / "python3.11").mkdir(parents=True)
    (tmp_path / "lib" / "python3.11" / "os.py").write_text("")
    moved = told(image_copy)
    assert moved == told(stock_copy) and moved[0] != 0
    assert any(str(tmp_path / "lib" / "python3.11") in line for line in moved[2])
