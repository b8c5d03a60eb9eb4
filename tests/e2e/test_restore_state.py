"""Process state a restored image must re-establish (DESIGN section 3).
Each test fails if its fix-up is taken out of the restore."""

import os
import re
import signal
import subprocess
import time

import pytest

from conftest import STOCK, assert_same_as_stock, clean_env, freeze, run, runs_warm, terminal_session


def test_gilstate_and_pthread_keys(cgi_image):
    # PyGILState_Ensure deadlocks unless the pthread keys are re-created and
    # the gilstate key re-associated with the frozen thread state.
    code = ("import ctypes\napi = ctypes.pythonapi\n"
            "print(api.PyGILState_Check())\n"
            "state = api.PyGILState_Ensure()\napi.PyGILState_Release(state)\nprint('ensured')\n")
    result = run([cgi_image, "-c", code], timeout=30)
    assert result.stdout == b"1\nensured\n", result.stderr


def test_threads_use_gilstate(busy_image):
    code = ("import threading\nout = []\n"
            "ts = [threading.Thread(target=lambda i=i: out.append(i)) for i in range(8)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]\n"
            "print(sorted(out), threading.main_thread() is threading.current_thread(),"
            " threading.main_thread().ident == threading.get_ident())")
    result = run([busy_image, "-c", code], timeout=30)
    assert result.stdout == b"[0, 1, 2, 3, 4, 5, 6, 7] True True\n", result.stderr


def test_python_signal_handler_runs(busy_image):
    # Handlers only run in the runtime's main thread: its identity must be
    # this process's thread, not the dump's.
    code = ("import os, signal\nseen = []\n"
            "signal.signal(signal.SIGUSR1, lambda *a: seen.append(1))\n"
            "os.kill(os.getpid(), signal.SIGUSR1)\nprint(seen)")
    assert_same_as_stock(busy_image, ["-c", code])


def test_handler_installed_at_import_is_reinstalled(tmp_path):
    (tmp_path / "handler_mod.py").write_text(
        "import signal\nhits = []\nsignal.signal(signal.SIGUSR2, lambda *a: hits.append('usr2'))\n")
    image = tmp_path / "img"
    freeze(image, "handler_mod", cwd=tmp_path)
    code = "import os, signal, handler_mod\nos.kill(os.getpid(), signal.SIGUSR2)\nprint(handler_mod.hits)"
    result = run([image, "-c", code], cwd="/")
    assert result.returncode == 0 and result.stdout == b"['usr2']\n", result.stderr


def test_non_daemon_threads_joined_at_exit(busy_image):
    code = ("import threading, time\n"
            "threading.Thread(target=lambda: (time.sleep(0.2), print('worker done'))).start()\n"
            "print('main done')")
    code_, out, _ = assert_same_as_stock(busy_image, ["-c", code], timeout=30)
    assert out == "main done\nworker done\n"


def test_exit_runs_atexit_and_flushes_files(busy_image, tmp_path):
    target = tmp_path / "unclosed.txt"
    code = ("import atexit, sys\natexit.register(print, 'atexit ran')\n"
            f"f = open({str(target)!r}, 'w')\nf.write('written at exit')\nsys.stdout.write('no newline')")
    code_, out, _ = assert_same_as_stock(busy_image, ["-c", code])
    assert out == "no newlineatexit ran\n"
    assert target.read_text() == "written at exit"


def test_flush_failure_at_exit(busy_image):
    with open("/dev/full", "wb") as full:
        code, _, err = assert_same_as_stock(busy_image, ["-c", "print('x')"], stdout=full)
    assert code == 120


def test_at_fork_callbacks_run_at_forks_only(tmp_path):
    # python3 runs os.register_at_fork() callbacks in a child of fork(), not
    # when it starts: an image must not run a frozen module's at its start.
    (tmp_path / "counts_forks.py").write_text(
        "import os, threading\nFORKS = []\nos.register_at_fork(after_in_child=lambda: FORKS.append('child'))\n")
    image = tmp_path / "img"
    freeze(image, "counts_forks", cwd=tmp_path)
    code = ("import os, threading, counts_forks as c\nprint(c.FORKS, threading.main_thread() is "
            "threading.current_thread(), threading.active_count(), flush=True)\npid = os.fork()\n"
            "if pid == 0:\n    print('child', c.FORKS, threading.main_thread() is threading.current_thread(), flush=True)\n"
            "    os._exit(0)\nos.waitpid(pid, 0)\nprint('parent', c.FORKS)\n")
    _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=tmp_path)
    assert out == "[] True 1\nchild ['child'] True\nparent []\n"
    assert runs_warm(image, ["-c", code], cwd=tmp_path)


@pytest.mark.parametrize("expression", [
    "random.random()",
    "tempfile.mktemp()",
    "bytes(multiprocessing.current_process().authkey).hex()",
])
def test_randomness_differs_between_runs(busy_image, expression):
    code = f"import random, tempfile, multiprocessing; print({expression})"
    first, second = (run([busy_image, "-c", code]).stdout for _ in range(2))
    assert first and first != second


def test_logging_relative_time_starts_at_run(tmp_path):
    image = tmp_path / "img"
    freeze(image, "logging")
    time.sleep(1.5)
    code = "import logging; print(logging.makeLogRecord({}).relativeCreated)"
    relative_ms = float(run([image, "-c", code]).stdout)
    assert 0 <= relative_ms < 1000


def test_environment_is_the_runs(busy_image):
    env = clean_env(PYFREEZE_TEST_VALUE="from the run", LANG="C.UTF-8")
    code = ("import os, posix; print(os.environ['PYFREEZE_TEST_VALUE'], "
            "os.environb[b'PYFREEZE_TEST_VALUE'], posix.environ[b'PYFREEZE_TEST_VALUE'], sorted(os.environ))")
    code_, out, _ = assert_same_as_stock(busy_image, ["-c", code], env=env)
    assert out.startswith("from the run b'from the run' b'from the run'")


def test_streams_on_a_terminal(busy_image):
    import pty
    code = "import sys; print(sys.stdin.isatty(), sys.stdout.isatty(), sys.stdout.line_buffering, sys.stdout.encoding)"
    outputs = []
    for python in (STOCK, busy_image):
        controller, terminal = pty.openpty()
        try:
            proc = subprocess.run([str(python), "-c", code], stdin=terminal, stdout=terminal,
                                  stderr=subprocess.DEVNULL, env=clean_env(), timeout=30)
            assert proc.returncode == 0
            outputs.append(os.read(controller, 4096))
        finally:
            os.close(controller)
            os.close(terminal)
    assert outputs[0] == outputs[1] == b"True True True utf-8\r\n"


def test_interactive_mode_under_a_terminal(busy_image):
    keys = b"print(x * 7, 'readline' in __import__('sys').modules)\nraise SystemExit(3)\n"
    outcomes = [terminal_session(python, ["-q", "-i", "-c", "x = 6"], keys) for python in (STOCK, busy_image)]
    assert [(status, b"42 True" in shown) for status, shown in outcomes] == [(3, True), (3, True)]


def test_pyfreeze_module_and_hooks(tmp_path):
    (tmp_path / "hooked.py").write_text(
        "import pyfreeze, os\nevents = []\n"
        "@pyfreeze.before_dump\ndef _dump():\n    events.append('before_dump')\n"
        "@pyfreeze.after_restore\ndef _restore():\n    events.append('after_restore ' + os.environ.get('HOOK_VALUE', '?'))\n")
    image = tmp_path / "img"
    freeze(image, "hooked", cwd=tmp_path)
    code = "import hooked, pyfreeze; print(pyfreeze.frozen(), hooked.events)"
    warm = run([image, "-c", code], env=clean_env(HOOK_VALUE="v1"), cwd="/")
    assert warm.stdout == b"True ['before_dump', 'after_restore v1']\n", warm.stderr


def test_after_restore_failure_is_reported(tmp_path):
    (tmp_path / "failing_hook.py").write_text(
        "import pyfreeze\n@pyfreeze.after_restore\ndef boom():\n    raise RuntimeError('hook failed')\n")
    image = tmp_path / "img"
    freeze(image, "failing_hook", cwd=tmp_path)
    result = run([image, "-c", "print('not reached')"])
    assert result.returncode == 1
    assert b"RuntimeError: hook failed" in result.stderr and result.stdout == b""


def test_before_dump_failure_aborts_freeze(tmp_path):
    (tmp_path / "bad_hook.py").write_text(
        "import pyfreeze\n@pyfreeze.before_dump\ndef nope():\n    raise ValueError('not now')\n")
    result = freeze(tmp_path / "img", "bad_hook", check=False, cwd=tmp_path)
    assert result.returncode == 3
    assert "before_dump callback nope failed: ValueError: not now" in result.stderr.decode()
    assert not (tmp_path / "img").exists()


COLD_CASES = {
    "S": (["-S", "-c", "import sys; print('site' in sys.modules, sys.path)"], {}),
    "O": (["-O", "-c", "print(__debug__)"], {}),
    "OO": (["-OO", "-c", "import sys; print(sys.flags.optimize)"], {}),
    "importtime": (["-X", "importtime", "-c", "print(1)"], {}),
    "dev": (["-X", "dev", "-c", "import sys; print(sys.flags.dev_mode)"], {}),
    "frozen_modules": (["-X", "frozen_modules=off", "-c", "print(2)"], {}),
    "tracemalloc": (["-X", "tracemalloc", "-c", "import tracemalloc; print(tracemalloc.is_tracing())"], {}),
    "no_debug_ranges": (["-X", "no_debug_ranges", "-c", "print(3)"], {}),
    "hashseed": (["-c", "print(hash('abc'))"], {"PYTHONHASHSEED": "77"}),
    "malloc": (["-c", "print(4)"], {"PYTHONMALLOC": "malloc"}),
    "verbose": (["-v", "-c", "print(5)"], {}),
}


@pytest.mark.parametrize("name", sorted(COLD_CASES))
def test_cold_start_when_the_heap_cannot_honour_the_run(cgi_image, name):
    args, extra = COLD_CASES[name]
    env = clean_env(**extra)
    assert not runs_warm(cgi_image, args, env=env)
    stock, image = run([STOCK, *args], env=env), run([cgi_image, *args], env=env)
    assert (image.returncode, image.stdout) == (stock.returncode, stock.stdout)
    if name not in ("verbose", "importtime"):   # those report imports on stderr
        assert image.stderr == stock.stderr


def test_cold_start_reason_under_debug(cgi_image):
    result = run([cgi_image, "-S", "-c", "pass"], env=clean_env(PYFREEZE_DEBUG="1"))
    assert result.stderr == b"pyfreeze: cold start: -S: the frozen heap has imported site\n"


def test_forced_cold_start_matches_stock(cgi_image):
    env = clean_env(PYFREEZE_COLD="1")
    args = ["-c", "import sys, os, pyfreeze; print(sys.flags, sys.path, sorted(os.environ), 'cgi' in sys.modules)"]
    cold = run([cgi_image, *args], env=env)
    assert cold.returncode == 0, cold.stderr
    code = "import sys, os; print(sys.flags, sys.path, sorted(os.environ), False)"
    stock = run([STOCK, "-c", code], env=env)   # python3 keeps PYFREEZE_COLD too
    assert cold.stdout == stock.stdout
    frozen = run([cgi_image, "-c", "import pyfreeze; print(pyfreeze.frozen())"], env=env)
    assert frozen.stdout == b"False\n"


def test_cold_start_keeps_blocks(cgi_image):
    result = run([cgi_image, "-S", "-c", "import _ssl"])
    assert result.returncode == 1 and b"import of _ssl halted" in result.stderr


def test_matching_hash_seed_stays_warm(tmp_path):
    image = tmp_path / "img"
    freeze(image, "--hash-seed", "4242")
    env = clean_env(PYTHONHASHSEED="4242")
    assert runs_warm(image, ["-c", "pass"], env=env)
    assert run([image, "-c", "print(hash('x'))"], env=env).stdout == run(
        [STOCK, "-c", "print(hash('x'))"], env=env).stdout


def test_sigint_exit_status_matches(busy_image):
    code = "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(5)"
    result = run([busy_image, "-c", code])
    assert result.returncode == -signal.SIGINT


EXIT_CASES = {
    "del-method": "class A:\n    def __del__(self):\n        print('A finalized')\na = A()\nprint('end of main')",
    "del-in-cycle": "class A:\n    def __del__(self):\n        print('cycle finalized')\na = A(); a.me = a\ndel a",
    "generator-finally": ("def gen():\n    try:\n        yield 1\n    finally:\n        print('generator closed')\n"
                          "g = gen(); next(g)"),
    "weakref-finalize": ("import weakref\nclass A: pass\na = A()\n"
                         "weakref.finalize(a, print, 'finalize ran').atexit = False"),
    "weakref-callback": ("import weakref\nclass A: pass\na = A()\n"
                         "r = weakref.ref(a, lambda ref: print('callback ran'))"),
    "atexit-raises": "import atexit\natexit.register(lambda: 1 / 0)\nprint('registered')",
    "atexit-order": "import atexit\natexit.register(print, 'first registered')\natexit.register(print, 'second registered')",
    "unclosed-file-warning": "f = open('/etc/hostname')",
    "stdout-replaced": "import io, sys\nsys.stdout = io.StringIO()\nprint('hidden')",
    "stdout-closed": "import sys\nsys.stdout.close()",
}


@pytest.mark.parametrize("name", sorted(EXIT_CASES))
def test_exit_behaviour_matches_stock(cgi_image, name):
    assert_same_as_stock(cgi_image, ["-c", EXIT_CASES[name]])
    assert_same_as_stock(cgi_image, ["-W", "default", "-c", EXIT_CASES[name]])


def test_named_temporary_file_removed_at_exit(busy_image, tmp_path):
    code = (f"import tempfile\nf = tempfile.NamedTemporaryFile(dir={str(tmp_path)!r})\n"
            "f.write(b'x')\nprint('made')")
    assert run([busy_image, "-c", code]).stdout == b"made\n"
    assert list(tmp_path.iterdir()) == []


def test_plain_run_skips_teardown(cgi_image):
    result = run([cgi_image, "-c", "import email.parser; print('ok')"], env=clean_env(PYFREEZE_DEBUG="1"))
    assert result.stdout == b"ok\n"
    assert result.stderr == b"pyfreeze: warm start\npyfreeze: fast exit\n"


def test_debug_report_to_a_file(cgi_image, tmp_path):
    # Decisions go to the named file; stderr stays python3's.
    report = tmp_path / "report"
    for args in (["-c", "import sys; print('x', file=sys.stderr)"], ["-O", "-c", "pass"]):
        result = run([cgi_image, *args], env=clean_env(PYFREEZE_DEBUG=str(report)))
        assert result.returncode == 0
        assert result.stderr == (b"x\n" if args[0] == "-c" else b"")
    assert report.read_text() == ("pyfreeze: warm start\npyfreeze: fast exit\n"
                                  "pyfreeze: cold start: -O: frozen modules were compiled without optimisation\n")


def test_finalizer_forces_teardown(cgi_image):
    code = "class Closer:\n    def __del__(self):\n        print('closed')\nkeep = Closer()"
    result = run([cgi_image, "-c", code], env=clean_env(PYFREEZE_DEBUG="1"))
    assert result.stdout == b"closed\n"
    assert result.stderr == (b"pyfreeze: warm start\n"
                             b"pyfreeze: full teardown at exit: a Closer object needs finalizing\n")


def test_main_module_is_fresh_and_collectable(cgi_image):
    code = ("import gc, sys\nclass Node:\n    def __del__(self):\n        print('node freed')\n"
            "n = Node(); n.self = n; del n\nprint(gc.collect() > 0)\n"
            "print(list(sys.modules['__main__'].__dict__)[:7])")
    code_, out, _ = assert_same_as_stock(cgi_image, ["-c", code])
    assert out.startswith("node freed\nTrue\n")


def test_minimal_image_skips_teardown(minimal_image):
    # The isinstance() check fills _abc's caches, whose weak references
    # carry a clean-up callback; its answer depends on what site imported.
    code = "import abc, sys; print(isinstance(sys.stdout, abc.ABC))"
    result = run([minimal_image, "-c", code], env=clean_env(PYFREEZE_DEBUG="1"))
    assert result.stdout == run([STOCK, "-c", code]).stdout
    assert result.stderr == b"pyfreeze: warm start\npyfreeze: fast exit\n"


def test_multiprocessing_spawn_uses_the_image(busy_image, tmp_path):
    script = tmp_path / "spawner.py"
    script.write_text(
        "import multiprocessing as mp, sys\n"
        "def square(x):\n    return x * x\n"
        "if __name__ == '__main__':\n"
        "    from multiprocessing import spawn\n"
        "    print(spawn.get_executable() == sys.executable.encode())\n"
        "    with mp.get_context('spawn').Pool(2) as pool:\n"
        "        print(pool.map(square, range(5)))\n")
    result = run([busy_image, script], timeout=60)
    assert result.stdout == b"True\n[0, 1, 4, 9, 16]\n", result.stderr


def test_stdlib_caches_follow_the_run(tmp_path):
    # Caches a frozen module filled at import hold the builder's machine and
    # environment; the run must see its own, as python3 would.
    (tmp_path / "caches.py").write_text(
        "import platform, sysconfig, tempfile, zoneinfo\n"
        "tempfile.gettempdir(); sysconfig.get_config_vars(); platform.uname()\n")
    image = tmp_path / "img"
    freeze(image, "caches", cwd=tmp_path)
    (tmp_path / "tmp").mkdir()
    env = clean_env(TMPDIR=str(tmp_path / "tmp"), HOME=str(tmp_path / "home"), PYTHONTZPATH="/tz")
    code = ("import caches, platform, sysconfig, tempfile, zoneinfo; print(tempfile.gettempdir(), "
            "sysconfig.get_config_var('userbase'), sysconfig.get_paths('posix_user')['purelib'], "
            "zoneinfo.TZPATH, platform.uname() == platform.uname())")
    assert_same_as_stock(image, ["-c", code], env=env, cwd=tmp_path)
    assert runs_warm(image, ["-c", "import caches"], env=env, cwd=tmp_path)


def test_collector_sees_frozen_objects_when_asked(cgi_image):
    # trace finds a method's class through gc.get_referrers(); frozen
    # objects must be in the collector's view as python3's are.
    # (no tuple or dict made for a call to them shows up among the objects)
    code = "import gc; gc.collect(); print(len(gc.get_objects()) - len(gc.get_objects(generation=None)))"
    assert_same_as_stock(cgi_image, ["-c", code])
    code = ("import gc, json; before = gc.get_freeze_count(); "
            "print(before, len([f for f in gc.get_referrers(json.JSONEncoder.encode.__code__) "
            "if callable(f)]), gc.get_freeze_count(), gc.collect.__self__.__name__)")
    assert_same_as_stock(cgi_image, ["-c", code])
    # trace's own steps from a code object to its class
    code = ("import gc, json\n"
            "funcs = [f for f in gc.get_referrers(json.JSONEncoder.encode.__code__) if callable(f)]\n"
            "dicts = [d for d in gc.get_referrers(funcs[0]) if isinstance(d, dict)]\n"
            "print([c.__name__ for c in gc.get_referrers(dicts[0]) if hasattr(c, '__bases__')])\n")
    result = assert_same_as_stock(cgi_image, ["-c", code])
    assert result[1] == "['JSONEncoder']\n"


def test_image_runs_on_obmalloc_itself(cgi_image):
    # The freeze wipes freed blocks through allocator wrappers; the image
    # must not keep them (CPython prints pymalloc's statistics only when
    # the object allocator is its own).
    code = "import sys; sys._debugmallocstats()"
    for python in (STOCK, cgi_image):
        assert b"Small block threshold = 512, in 32 size classes." in run([python, "-c", code]).stderr


@pytest.mark.parametrize("enabled_by", ["module", "option"])
def test_faulthandler_handles_a_crash_as_in_python3(tmp_path, enabled_by):
    # Its handlers and alternate stack are the process's: a module that
    # enabled it at import, or -X faulthandler, must get them in the run.
    (tmp_path / "enables_faulthandler.py").write_text("import faulthandler\nfaulthandler.enable()\n")
    image = tmp_path / "img"
    freeze(image, "enables_faulthandler", cwd=tmp_path)
    code = "import faulthandler; faulthandler._sigsegv()"
    args = (["-c", "import enables_faulthandler; " + code] if enabled_by == "module"
            else ["-X", "faulthandler", "-c", code])
    stock = run([STOCK, *args], cwd=tmp_path)
    frozen = run([image, *args], cwd=tmp_path)
    assert frozen.returncode == stock.returncode == -signal.SIGSEGV
    assert b"Fatal Python error: Segmentation fault" in stock.stderr
    assert re.sub(rb"0x[0-9a-f]+", b"0x", frozen.stderr) == re.sub(rb"0x[0-9a-f]+", b"0x", stock.stderr)
