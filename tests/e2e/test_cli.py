"""The pyfreeze command line: help, version, errors and exit statuses, and
the guarantee that a failed freeze leaves no output behind."""

import os
import re
import stat

import pytest

from conftest import BUILD, PYFREEZE, RUNTIME, STOCK, assert_same_as_stock, clean_env, freeze, run, runs_warm


def test_help_lists_every_option():
    result = run([PYFREEZE, "--help"])
    assert result.returncode == 0
    text = result.stdout.decode()
    for option in ("--output", "--block", "--path", "--runtime", "--hash-seed", "--timeout",
                   "--no-native", "--verbose", "--help", "--version"):
        assert option in text
    assert result.stderr == b""


def test_version():
    result = run([PYFREEZE, "--version"])
    assert result.returncode == 0
    assert result.stdout.decode().startswith("pyfreeze ")
    assert "CPython 3.11" in result.stdout.decode()


def test_help_is_in_sync_with_man_page():
    text = (BUILD / "pyfreeze.1").read_text().replace("\\-", "-")
    help_text = run([PYFREEZE, "--help"]).stdout.decode()
    options = {word.rstrip(",") for word in help_text.split() if word.startswith("--") and len(word) > 2}
    assert len(options) >= 9
    for option in options:
        assert option in text, f"{option} missing from the man page"


@pytest.mark.parametrize("words,message", [
    (["cgi"], "pyfreeze: no output file given (-o OUTPUT)\n"),
    (["-o"], "pyfreeze: option -o needs a value\n"),
    (["-o", "x", "--bogus"], "pyfreeze: unknown option '--bogus'\n"),
    (["-o", "x", "-1abc"], "pyfreeze: unknown option '-1abc'\n"),
    (["-o", "x", "not/a/module"], "pyfreeze: invalid module name 'not/a/module'\n"),
    (["-o", "x", "cgi", "-cgi"], "pyfreeze: module 'cgi' is both imported and blocked\n"),
    (["-o", "x", "--hash-seed", "-3"], "pyfreeze: --hash-seed needs a number from 0 to 4294967295, not '-3'\n"),
    (["-o", "x", "--verbose=yes"], "pyfreeze: option --verbose=yes takes no value\n"),
    (["-o", "x", "--env", "=v"], "pyfreeze: --env needs NAME=VALUE or NAME, not '=v'\n"),
    (["-o", "x", "--env"], "pyfreeze: option --env needs a value\n"),
])
def test_usage_errors(tmp_path, words, message):
    result = run([PYFREEZE, *words], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.decode() == message + "Try 'pyfreeze --help' for more information.\n"
    assert not (tmp_path / "x").exists()


def test_missing_module_fails_in_one_line_and_no_output(tmp_path):
    out = tmp_path / "img"
    result = freeze(out, "no_such_module_xyz", check=False)
    assert result.returncode == 3
    assert result.stderr.decode() == (
        "pyfreeze: importing module 'no_such_module_xyz' failed: "
        "ModuleNotFoundError: No module named 'no_such_module_xyz'\n")
    assert os.listdir(tmp_path) == []


def test_missing_submodule_shows_traceback(tmp_path):
    (tmp_path / "pkg_a").mkdir()
    (tmp_path / "pkg_a" / "__init__.py").write_text("import pkg_a.missing_part\n")
    err = freeze(tmp_path / "img", "pkg_a", check=False, cwd=tmp_path).stderr.decode()
    assert err.startswith("Traceback (most recent call last):")
    assert err.endswith("pyfreeze: importing module 'pkg_a' failed: "
                        "ModuleNotFoundError: No module named 'pkg_a.missing_part'\n")


def test_module_raising_is_named(tmp_path):
    (tmp_path / "bad_mod.py").write_text("raise RuntimeError('nope at import')\n")
    result = freeze(tmp_path / "img", "bad_mod", check=False, cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.decode().rstrip().splitlines()[-1] == (
        "pyfreeze: importing module 'bad_mod' failed: RuntimeError: nope at import")
    assert sorted(os.listdir(tmp_path)) == ["__pycache__", "bad_mod.py"]


def test_module_calling_sys_exit(tmp_path):
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(4)\n")
    result = freeze(tmp_path / "img", "exits", check=False, cwd=tmp_path)
    assert result.returncode == 3
    assert "importing module 'exits' failed: it called sys.exit(4)" in result.stderr.decode()


def test_module_calling_os_exit(tmp_path):
    (tmp_path / "hard_exit.py").write_text("import os\nos._exit(9)\n")
    result = freeze(tmp_path / "img", "hard_exit", check=False, cwd=tmp_path)
    assert result.returncode == 3
    assert "exited with status 9" in result.stderr.decode()
    assert sorted(os.listdir(tmp_path)) == ["__pycache__", "hard_exit.py"]


def test_native_extension_refused_with_suggestion(tmp_path):
    result = freeze(tmp_path / "img", "--no-native", "json", check=False)
    err = result.stderr.decode()
    assert result.returncode == 4
    assert err.startswith("pyfreeze: 'json' loads native extension module '_json' (")
    assert err.rstrip().endswith("block with -_json")
    assert os.listdir(tmp_path) == []


def test_thread_at_checkpoint_refused(tmp_path):
    (tmp_path / "spawner.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(30,), name='sleeper', daemon=True).start()\n")
    result = freeze(tmp_path / "img", "spawner", check=False, cwd=tmp_path)
    assert result.returncode == 4
    assert result.stderr.decode() == "pyfreeze: cannot freeze: importing 'spawner' started threads: sleeper\n"


def test_thread_started_by_before_dump_refused(tmp_path):
    (tmp_path / "late_thread.py").write_text(
        "import pyfreeze, threading, time\n@pyfreeze.before_dump\ndef start():\n"
        "    threading.Thread(target=time.sleep, args=(30,), name='late', daemon=True).start()\n")
    result = freeze(tmp_path / "img", "late_thread", check=False, cwd=tmp_path)
    assert result.returncode == 4
    assert result.stderr.decode() == "pyfreeze: cannot freeze: threads are running at the checkpoint: late\n"


def test_open_file_at_checkpoint_refused(tmp_path):
    (tmp_path / "holder.py").write_text("handle = open(__file__)\n")
    result = freeze(tmp_path / "img", "holder", check=False, cwd=tmp_path)
    assert result.returncode == 4
    assert result.stderr.decode() == (f"pyfreeze: cannot freeze: importing 'holder' left file descriptor 3 "
                                      f"({tmp_path / 'holder.py'}) open, and an image cannot carry it\n")


def test_open_file_refusal_names_the_importing_module(tmp_path):
    """A descriptor left open by a module imported on the way is blamed on
    that module, not on the one named on the command line."""
    (tmp_path / "keeps_file.py").write_text("handle = open(__file__)\n")
    (tmp_path / "tool.py").write_text("import json\nimport keeps_file\n")
    result = freeze(tmp_path / "img", "tool", check=False, cwd=tmp_path)
    assert result.returncode == 4
    assert (f"importing 'keeps_file' left file descriptor 3 ({tmp_path / 'keeps_file.py'}) open"
            in result.stderr.decode())
    assert not (tmp_path / "img").exists()


KEEPS_DEVNULL = "import os\ndevnull = open(os.devnull, 'w')\n"     # as IPython.utils.io does
DEVNULL_FACTS = ("import os, keeps_devnull as k; fd = k.devnull.fileno(); "
                 "print(fd, k.devnull.write('x'), os.get_inheritable(fd), os.readlink(f'/proc/self/fd/{fd}'), "
                 "oct(os.get_blocking(fd)), k.devnull.mode)")


def test_devnull_held_by_a_module_is_carried(tmp_path):
    """A descriptor on /dev/null has no state to lose: the image opens it
    again under its number, with its flags (IPython can be frozen)."""
    (tmp_path / "keeps_devnull.py").write_text(KEEPS_DEVNULL)
    freeze(tmp_path / "img", "keeps_devnull", cwd=tmp_path)
    args = ["-c", DEVNULL_FACTS]
    assert_same_as_stock(tmp_path / "img", args, cwd=tmp_path)
    assert runs_warm(tmp_path / "img", args, cwd=tmp_path)


def test_devnull_number_taken_in_the_run_steps_aside(tmp_path):
    """With the descriptor's number inherited, python3 would give the module
    another one: the image starts cold, and says why."""
    (tmp_path / "keeps_devnull.py").write_text(KEEPS_DEVNULL)
    (tmp_path / "inherited").write_text("mine\n")
    freeze(tmp_path / "img", "keeps_devnull", cwd=tmp_path)

    def with_fd_3(argv0, **extra):
        code = DEVNULL_FACTS + "; print(os.read(3, 5))"
        return run(["bash", "-c", 'exec "$0" -c "$1" 3<inherited', argv0, code], cwd=tmp_path, **extra)
    stock = with_fd_3(STOCK)
    image = with_fd_3(tmp_path / "img", env=clean_env(PYFREEZE_DEBUG="1"))
    assert image.stdout == stock.stdout and b"4 " in stock.stdout
    assert b"descriptor 3, which a frozen module keeps open on /dev/null, is open in this run" in image.stderr


def test_file_closed_by_before_dump_is_no_refusal(tmp_path):
    (tmp_path / "closer.py").write_text(
        "import pyfreeze\nhandle = open(__file__)\n"
        "@pyfreeze.before_dump\ndef close():\n    handle.close()\n")
    freeze(tmp_path / "img", "closer", cwd=tmp_path)
    result = run([tmp_path / "img", "-c", "import closer; print(closer.handle.closed)"], cwd=tmp_path)
    assert result.stdout == b"True\n"


def test_shared_mapping_refused_naming_the_module(tmp_path):
    # multiprocessing's locks and semaphores live in /dev/shm mappings:
    # ansible.executor.process.worker makes one at import
    (tmp_path / "plain.py").write_text("VALUE = 1\n")
    (tmp_path / "sharer.py").write_text("import mmap\nSHARED = mmap.mmap(-1, 8192, flags=mmap.MAP_SHARED)\n")
    (tmp_path / "locker.py").write_text("import multiprocessing\nLOCK = multiprocessing.Lock()\n")
    result = freeze(tmp_path / "img", "plain", "sharer", check=False, cwd=tmp_path)
    assert result.returncode == 4
    assert re.fullmatch(r"pyfreeze: cannot freeze: importing 'sharer' made memory mapping [0-9a-f]+-[0-9a-f]+ "
                        r"rw-s /dev/zero \(deleted\) \(8 KiB\), and an image cannot carry it\n",
                        result.stderr.decode())
    result = freeze(tmp_path / "img", "plain", "locker", check=False, cwd=tmp_path)
    assert result.returncode == 4
    assert re.search(r"importing 'locker' made memory mapping \S+ rw-s /dev/shm/sem\.", result.stderr.decode())
    assert not (tmp_path / "img").exists()


@pytest.mark.parametrize("make_output,message", [
    (lambda d: d, "is a directory"),
    (lambda d: d / "missing" / "img", "No such file or directory"),
])
def test_bad_output(tmp_path, make_output, message):
    result = freeze(make_output(tmp_path), check=False)
    assert result.returncode == 5
    assert message in result.stderr.decode()


def test_output_is_runtime_refused(tmp_path):
    result = run([PYFREEZE, "--runtime", RUNTIME, "-o", RUNTIME])
    assert result.returncode == 5
    assert "is the runtime itself" in result.stderr.decode()


def test_missing_runtime(tmp_path):
    result = run([PYFREEZE, "--runtime", tmp_path / "nope", "-o", tmp_path / "img"])
    assert result.returncode == 5
    assert result.stderr.decode().startswith(f"pyfreeze: runtime {tmp_path / 'nope'}: No such file")


def test_foreign_runtime(tmp_path):
    result = run([PYFREEZE, "--runtime", "/bin/true", "-o", tmp_path / "img"])
    assert result.returncode == 5
    assert "is not a pyfreeze runtime" in result.stderr.decode()
    assert os.listdir(tmp_path) == []


def test_image_as_runtime_refused(tmp_path, minimal_image):
    result = run([PYFREEZE, "--runtime", minimal_image, "-o", tmp_path / "img"])
    assert result.returncode == 5
    assert "is an image, not a runtime" in result.stderr.decode()


def test_output_replaced_atomically_and_executable(tmp_path):
    out = tmp_path / "img"
    out.write_text("old contents")
    os.chmod(out, 0o600)
    freeze(out)
    mode = stat.S_IMODE(os.stat(out).st_mode)
    assert mode == 0o755 & ~current_umask()
    assert run([out, "-c", "print(6 * 7)"]).stdout == b"42\n"
    assert sorted(os.listdir(tmp_path)) == ["img"]


def test_failed_freeze_keeps_existing_output(tmp_path):
    out = tmp_path / "img"
    out.write_text("old contents")
    result = freeze(out, "no_such_module_xyz", check=False)
    assert result.returncode == 3
    assert out.read_text() == "old contents"
    assert sorted(os.listdir(tmp_path)) == ["img"]


def test_verbose_progress(tmp_path):
    result = run([PYFREEZE, "-v", "-o", tmp_path / "img"])
    err = result.stderr.decode()
    assert result.returncode == 0
    assert "pyfreeze: checkpoint reached" in err and f"pyfreeze: wrote {tmp_path / 'img'}" in err


def test_blocked_module_raises_import_error(tmp_path):
    out = tmp_path / "img"
    freeze(out, "cgi", "-_ssl", "-_bz2", "-_lzma", "--block", "csv")
    result = run([out, "-c", "import sys\nfor m in ('_ssl', 'csv', 'cgi'):\n"
                  "    try:\n        __import__(m); print(m, 'ok')\n"
                  "    except ImportError as e:\n        print(m, 'blocked', 'halted' in str(e))"])
    assert result.stdout.decode().split("\n")[:3] == ["_ssl blocked True", "csv blocked True", "cgi ok"]


def test_module_names_that_are_not_identifiers(tmp_path):
    # mypyc's shared module is named like 65cd21382c5717f91ee0__mypyc, and
    # sysconfig imports _sysconfigdata__x86_64-linux-gnu
    (tmp_path / "65cd2_mod.py").write_text("VALUE = 'digits'\n")
    (tmp_path / "data_x86-linux.py").write_text("VALUE = 'hyphen'\n")
    out = tmp_path / "img"
    freeze(out, "65cd2_mod", "data_x86-linux", "_sysconfigdata__x86_64-linux-gnu", cwd=tmp_path)
    result = run([out, "-c", "import importlib\nfor name in ('65cd2_mod', 'data_x86-linux'):\n"
                  "    print(importlib.import_module(name).VALUE)"], cwd=tmp_path)
    assert result.stdout == b"digits\nhyphen\n"
    for bad in ("a..b", ".a", "a.", "a.-b", "a b", "a/b"):
        assert run([PYFREEZE, "-o", out, bad]).stderr.decode().startswith(
            f"pyfreeze: invalid module name '{bad}'")


def test_path_option_and_cwd(tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "far_mod.py").write_text("VALUE = 'far'\n")
    (tmp_path / "near_mod.py").write_text("VALUE = 'near'\n")
    out = tmp_path / "img"
    freeze(out, "near_mod", "far_mod", "--path", extra, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run([out, "-c", "import near_mod, far_mod; print(near_mod.VALUE, far_mod.VALUE)"], cwd=elsewhere)
    assert result.stdout == b"near far\n"


def test_hash_seed_fixed_and_random(tmp_path):
    code = ["-c", "print(hash('pyfreeze'))"]
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    freeze(a, "--hash-seed", "1234")
    freeze(b, "--hash-seed", "1234")
    freeze(c)
    seeded = run(["/usr/bin/python3.11", *code], env={"PYTHONHASHSEED": "1234"}).stdout
    assert run([a, *code]).stdout == run([b, *code]).stdout == seeded
    assert run([a, *code]).stdout == run([a, *code]).stdout
    assert run([c, *code]).stdout != seeded


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_native_extension_loaded_by_before_dump_refused(tmp_path):
    (tmp_path / "late_native.py").write_text(
        "import pyfreeze\n@pyfreeze.before_dump\ndef load():\n    import _json\n")
    result = freeze(tmp_path / "img", "--no-native", "late_native", check=False, cwd=tmp_path)
    assert result.returncode == 4
    assert "before_dump callbacks load native extension modules '_json'" in result.stderr.decode()
    assert not (tmp_path / "img").exists()


def test_hidden_shared_library_refused(tmp_path):
    # A library loaded behind Python's back (its module dropped from
    # sys.modules) is still caught at the checkpoint.
    (tmp_path / "sneaky.py").write_text(
        "import sys, ctypes\nctypes.CDLL('libbz2.so.1.0')\n"
        "for name in [n for n in sys.modules if 'ctypes' in n]:\n    del sys.modules[name]\n")
    result = freeze(tmp_path / "img", "--no-native", "sneaky", "-_bz2", check=False, cwd=tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 4
    assert err.startswith("pyfreeze: cannot freeze: shared library /") and "was loaded while importing" in err
    assert not (tmp_path / "img").exists()


def test_import_traceback_starts_at_user_code(tmp_path):
    (tmp_path / "raiser.py").write_text("def f():\n    raise KeyError('k')\nf()\n")
    err = freeze(tmp_path / "img", "raiser", check=False, cwd=tmp_path).stderr.decode()
    assert err.startswith("Traceback (most recent call last):\n  File \"" + str(tmp_path / "raiser.py"))
    assert "<pyfreeze>" not in err


def test_output_of_failing_module_is_not_lost(tmp_path):
    (tmp_path / "chatty.py").write_text("print('chatty says hi')\nraise SystemExit(2)\n")
    result = freeze(tmp_path / "img", "chatty", check=False, cwd=tmp_path)
    assert b"chatty says hi" in result.stderr


def test_info_refuses_an_image_whose_heap_ends_before_it_starts(tmp_path, minimal_image):
    # The live info record is the first copy of the magic in the file (the
    # pristine copy in the extra segment comes after it); heap_start and
    # heap_end sit 32 and 40 bytes into it (src/common/image_info.h).
    data = bytearray(minimal_image.read_bytes())
    record = data.index(b"pyfreeze-info\0\0\0")
    start, end = int.from_bytes(data[record + 32:record + 40], "little"), int.from_bytes(data[record + 40:record + 48], "little")
    assert 0 < start < end
    data[record + 32:record + 40] = end.to_bytes(8, "little")
    data[record + 40:record + 48] = start.to_bytes(8, "little")
    damaged = tmp_path / "damaged"
    damaged.write_bytes(bytes(data))
    result = run([PYFREEZE, "info", damaged])
    assert result.returncode == 5
    assert result.stderr.decode() == f"pyfreeze: {damaged} is damaged: its frozen heap ends before it starts\n"
