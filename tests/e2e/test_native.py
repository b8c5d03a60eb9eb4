"""Images holding native extension modules (and the libraries they need):
each module works after restore, the image falls back to a cold start
when a library cannot be put back where it was, and children keep ASLR."""

import json
import os
import struct

import pytest

from conftest import (PYFREEZE, RUNTIME, STOCK, assert_same_as_stock, clean_env, freeze, run, runs_warm,
                      terminal_session)

PT_INTERP = 3

SSL_MODULE = "import ssl\nCONTEXT = ssl.create_default_context()\n"


@pytest.fixture(scope="module")
def native_image(tmp_path_factory):
    directory = tmp_path_factory.mktemp("native")
    (directory / "ssl_ready.py").write_text(SSL_MODULE)
    image = directory / "native"
    freeze(image, "asyncio", "json", "ssl", "hashlib", "sqlite3", "ctypes", "decimal", "lzma", "bz2",
           "zoneinfo", "email.parser", "http.client", "argparse", "logging", "subprocess", "typing",
           "dataclasses", "ssl_ready", cwd=directory)
    return image


CHECKS = {
    "json-speedups": ("import json\nprint(json.decoder.c_scanstring is not None, json.dumps({'a': [1, 2.5]}))",
                      "True {\"a\": [1, 2.5]}\n"),
    "hashlib-openssl": ("import hashlib\nh = hashlib.sha256(b'abc')\nprint(h.hexdigest()[:16], type(h).__module__)",
                        "ba7816bf8f01cfea _hashlib\n"),
    "sqlite3": ("import sqlite3\ndb = sqlite3.connect(':memory:')\ndb.execute('create table t (x)')\n"
                "db.execute('insert into t values (42)')\nprint(db.execute('select x * 2 from t').fetchone())",
                "(84,)\n"),
    "ctypes": ("import ctypes, os\nprint(ctypes.CDLL(None).getpid() == os.getpid())", "True\n"),
    "decimal": ("import decimal, sys\nprint(decimal.Decimal(1) / decimal.Decimal(7),"
                " decimal.Decimal is sys.modules['_decimal'].Decimal)", "0.1428571428571428571428571429 True\n"),
    "lzma-bz2": ("import lzma, bz2\nprint(lzma.decompress(lzma.compress(b'lz')), bz2.decompress(bz2.compress(b'bz')))",
                 "b'lz' b'bz'\n"),
    "zoneinfo": ("import zoneinfo, datetime, sys\nz = zoneinfo.ZoneInfo('Europe/Paris')\n"
                 "print(datetime.datetime(2024, 7, 1, tzinfo=z).utcoffset(),"
                 " zoneinfo.ZoneInfo is sys.modules['_zoneinfo'].ZoneInfo)", "2:00:00 True\n"),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_extension_module_works_after_restore(native_image, name):
    code, expected = CHECKS[name]
    assert runs_warm(native_image, ["-c", code])
    result = run([native_image, "-c", code])
    assert (result.returncode, result.stdout.decode(), result.stderr) == (0, expected, b"")
    stock = run([STOCK, "-c", code])
    assert stock.stdout.decode() == expected


def test_ssl_context_made_before_the_dump(native_image):
    code = ("import ssl, ssl_ready\nctx = ssl_ready.CONTEXT\n"
            "print(ctx.verify_mode == ssl.CERT_REQUIRED, ctx.check_hostname, len(ctx.get_ca_certs()) >= 0)\n"
            "a, b = __import__('socket').socketpair()\n"
            "server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)\nprint(ssl.OPENSSL_VERSION.split()[0])")
    result = run([native_image, "-c", code], cwd="/")
    assert result.stdout == b"True True True\nOpenSSL\n", result.stderr


def test_asyncio_coroutine_subprocess_and_tcp(native_image):
    code = """
import asyncio, sys
async def main():
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "print(6 * 7)",
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    async def echo(reader, writer):
        writer.write(await reader.read(5)); await writer.drain(); writer.close()
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"hello"); await writer.drain()
    data = await reader.read(5)
    writer.close(); server.close(); await server.wait_closed()
    return out, data
print(asyncio.run(main()))
"""
    result = run([native_image, "-c", code], timeout=60)
    assert result.stdout == b"(b'42\\n', b'hello')\n", result.stderr


def test_children_get_aslr_back(native_image):
    code = ("import subprocess\nprint(open('/proc/self/personality').read().strip(),"
            " subprocess.run(['cat', '/proc/self/personality'], capture_output=True, text=True).stdout.strip())")
    assert run([native_image, "-c", code]).stdout == b"00000000 00000000\n"


def phase_lines(image, tmp_path, args, prefix=(), **env):
    """The PYFREEZE_PHASES lines of one run of IMAGE (after PREFIX)."""
    phases = tmp_path / "phases"
    if phases.exists():
        phases.unlink()
    result = run([*prefix, image, *args], env=clean_env(PYFREEZE_PHASES=str(phases), **env))
    assert result.returncode == 0, result.stderr.decode()
    return phases.read_text().splitlines() if phases.exists() else []


def test_the_runtime_hides_its_loader_from_the_kernel():
    """The kernel starts the runtime at its stub; ld.so finds the PT_INTERP
    the stub counts back in, right after the visible program headers."""
    data = RUNTIME.read_bytes()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    entsize, count = struct.unpack_from("<HH", data, 0x36)
    types = [struct.unpack_from("<I", data, phoff + i * entsize)[0] for i in range(count + 1)]
    assert PT_INTERP not in types[:count] and types[count] == PT_INTERP
    assert run([RUNTIME, "-c", "import sys; print(sys.version_info[:2])"]).stdout == b"(3, 11)\n"


def test_an_image_with_libraries_re_executes_before_its_loader(native_image, tmp_path):
    """With randomisation on, the first execution stops at the stub (its
    "main" mark) and the second runs; already off, or for a cold start, it
    does not re-execute.  Either way the libraries land in place (warm)."""
    code = ["-c", "import json, hashlib"]
    assert [line.split()[0] for line in phase_lines(native_image, tmp_path, code)][:3] == \
        ["main", "main", "libraries"]
    assert [line.split()[0] for line in phase_lines(native_image, tmp_path, code, ["setarch", "-R"])][:2] == \
        ["main", "libraries"]
    assert phase_lines(native_image, tmp_path, code, PYFREEZE_COLD="1") == []
    assert runs_warm(native_image, code)


def test_a_console_script_image_run_from_path_sees_the_path_the_kernel_ran(tmp_path):
    """The stub re-executes through AT_EXECFN, so a console script image
    found on PATH gets that path as sys.argv[0], as from its shebang."""
    tool = tmp_path / "bin" / "jtool"
    tool.parent.mkdir()
    (tmp_path / "jtoolmain.py").write_text("import sys, json, hashlib\ndef main():\n    print(sys.argv[0])\n")
    freeze(tool, "--entry", "jtoolmain:main", "--path", tmp_path, cwd=tmp_path)
    result = run(["jtool"], env=clean_env(PATH=f"{tool.parent}:/usr/bin:/bin", PYFREEZE_DEBUG="1"))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == f"{tool}\n".encode()
    assert b"pyfreeze: cold start" not in result.stderr


def test_library_moved_means_cold_start(native_image):
    # A preloaded library shifts every later one: the image must notice and
    # start cold, with correct output.
    env = clean_env(LD_PRELOAD="/lib/x86_64-linux-gnu/libbz2.so.1.0", PYFREEZE_DEBUG="1")
    code = "import json, hashlib; print(json.dumps([1]), hashlib.sha256(b'').hexdigest()[:8])"
    result = run([native_image, "-c", code], env=env)
    assert result.stdout == b"[1] e3b0c442\n"
    assert b"pyfreeze: cold start: " in result.stderr and b"was loaded at 0x" in result.stderr


def test_info_lists_native_libraries(native_image):
    facts = json.loads(run([PYFREEZE, "info", "--json", native_image]).stdout)
    assert facts["aslr"] is False
    assert any("_ssl.cpython-311" in path for path in facts["native_libraries"])
    assert any("libcrypto.so" in path for path in facts["native_libraries"])


def test_mission_example(tmp_path):
    image = tmp_path / "cgipython"
    freeze(image, "cgi", "-_ssl")
    assert runs_warm(image, ["-c", "import cgi"])
    result = run([image, "-W", "ignore", "-c", "import sys, cgi, bz2; print('cgi' in sys.modules, "
                  "sys.modules['_ssl'], bz2.decompress(bz2.compress(b'ok')))"])
    assert result.stdout == b"True None b'ok'\n"


def test_no_native_keeps_aslr(tmp_path):
    result = freeze(tmp_path / "img", "--no-native", "cgi", check=False)
    assert result.returncode == 4
    assert "block with -_bz2 -_lzma" in result.stderr.decode()
    freeze(tmp_path / "img", "--no-native", "cgi", "-_bz2", "-_lzma")
    assert json.loads(run([PYFREEZE, "info", "--json", tmp_path / "img"]).stdout)["aslr"] is True


def test_parity_with_native_image(native_image):
    for args in (["-c", "import sys; print(sys.flags, sys.path, sys.executable == sys.argv[0] or 1)"],
                 ["-I", "-c", "import os; print(sorted(os.environ))"],
                 ["-c", "raise SystemExit('bye')"]):
        assert_same_as_stock(native_image, args)


def test_readline_in_interactive_mode(native_image):
    keys = b"print(6 * 7, readline.get_history_length())\nraise SystemExit(4)\n"
    outcomes = [terminal_session(python, ["-q", "-i", "-c", "import readline"], keys)
                for python in (STOCK, native_image)]
    assert [(status, b"42 -1" in shown) for status, shown in outcomes] == [(4, True), (4, True)]


def test_changed_library_means_cold_start(tmp_path):
    library = tmp_path / "libcopy.so"
    library.write_bytes(open("/lib/x86_64-linux-gnu/libbz2.so.1.0", "rb").read())
    (tmp_path / "uses_lib.py").write_text(
        f"import ctypes\nLIB = ctypes.CDLL({str(library)!r})\n")
    image = tmp_path / "img"
    freeze(image, "uses_lib", cwd=tmp_path)
    code = ["-c", "import uses_lib; print(uses_lib.LIB.BZ2_bzlibVersion is not None)"]
    assert runs_warm(image, code, cwd=tmp_path)
    os.utime(library, (1, 1))
    env = clean_env(PYFREEZE_DEBUG="1")
    result = run([image, *code], env=env, cwd=tmp_path)
    assert result.stdout == b"True\n"
    assert f"pyfreeze: cold start: shared library {library} changed since the image was made".encode() in result.stderr


@pytest.mark.parametrize("name", ["c-args", "stdin", "u", "I", "W-error", "X-utf8", "traceback", "exit-code",
                                  "environ", "locale", "streams", "executable", "m-json-tool"])
def test_command_line_forms_with_native_image(native_image, name):
    from test_command_line import CASES, STDIN
    args = CASES[name]
    assert_same_as_stock(native_image, args, input=STDIN.get(name, b""))
    assert runs_warm(native_image, args, input=STDIN.get(name, b""))


def test_inherited_ignore_with_native_image(native_image):
    import signal
    args = ["-c", "import signal; print(signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGHUP))"]

    def ignore():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    assert_same_as_stock(native_image, args, preexec_fn=ignore)


def test_readline_frozen_for_another_terminal_starts_cold(tmp_path):
    # readline reads TERM, INPUTRC and ~/.inputrc when imported; the dump
    # had none of them, so a run that has them must not use the frozen one.
    image = tmp_path / "img"
    freeze(image, "readline")
    home = tmp_path / "home"
    home.mkdir()
    assert runs_warm(image, ["-c", "import readline"], env=clean_env(HOME=str(home), TERM="dumb"))
    assert not runs_warm(image, ["-c", "pass"], env=clean_env(HOME=str(home), TERM="xterm"))
    assert not runs_warm(image, ["-c", "pass"], env=clean_env(HOME=str(home), INPUTRC="/dev/null"))
    (home / ".inputrc").write_text("set bell-style none\n")
    assert not runs_warm(image, ["-c", "pass"], env=clean_env(HOME=str(home)))


def test_terminal_settings_matter_only_with_readline(native_image, tmp_path):
    # What makes an image step aside for TERM and INPUTRC is a frozen library
    # defining rl_initialize (readline's), not any native library.
    env = clean_env(HOME=str(tmp_path), TERM="xterm", INPUTRC="/dev/null")
    assert runs_warm(native_image, ["-c", "import ssl, sqlite3"], env=env)


# Like mypyc's generated code: a module imported once is kept in a C global,
# and afterwards taken from sys.modules by name without importing it.
HOLDER_C = r'''
#include <Python.h>
static PyObject *held;      /* like mypyc's CPyModule_colorsys */
static PyObject *use(PyObject *self, PyObject *unused)
{
    PyObject *name = PyUnicode_FromString("colorsys");
    if (name == NULL)
        return NULL;
    if (held == NULL && (held = PyImport_Import(name)) == NULL) {
        Py_DECREF(name);
        return NULL;
    }
    PyObject *module = PyDict_GetItemWithError(PyImport_GetModuleDict(), name);
    if (module == NULL && !PyErr_Occurred())
        PyErr_SetObject(PyExc_KeyError, name);
    Py_DECREF(name);
    return module == NULL ? NULL : PyObject_GetAttrString(module, "__name__");
}
static PyMethodDef methods[] = {{"use", use, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "holder_ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit_holder_ext(void) { return PyModule_Create(&def); }
'''


# Like a mypyc-compiled module: an extension module whose loading runs the
# holder's code (and reads an input, so that another value would load it
# from source).
MEMBER_C = r'''
#include <Python.h>
#include <stdlib.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "holder_member", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_holder_member(void)
{
    PyObject *module = PyModule_Create(&def);
    PyObject *holder = module == NULL ? NULL : PyImport_ImportModule("holder_ext");
    const char *mode = getenv("HOLDER_MODE");
    if (holder == NULL || PyModule_AddObject(module, "holder", holder) < 0 ||
        PyModule_AddStringConstant(module, "MODE", mode != NULL ? mode : "plain") < 0) {
        Py_XDECREF(module);
        return NULL;
    }
    return module;
}
'''


def compile_extension(work, name, source):
    (work / f"{name}.c").write_text(source)
    includes = run(["python3.11-config", "--includes"]).stdout.decode().split()
    run(["cc", "-shared", "-fPIC", "-O1", *includes, "-o",
         str(work / f"{name}.cpython-311-x86_64-linux-gnu.so"), str(work / f"{name}.c")], check=True)


@pytest.fixture(scope="module")
def holder_image(tmp_path_factory):
    work = tmp_path_factory.mktemp("holder")
    compile_extension(work, "holder_ext", HOLDER_C)
    compile_extension(work, "holder_member", MEMBER_C)
    (work / "holder_user.py").write_text("import holder_ext\nholder_ext.use()\n")
    image = work / "img"
    result = freeze(image, "-v", "holder_user", "holder_member", cwd=work)
    return image, work, result.stderr.decode()


def test_module_held_by_native_code_is_there_when_that_code_runs(holder_image, tmp_path):
    image, work, verbose = holder_image
    # colorsys is hidden at start, as in python3, and there when the native code asks
    code = ("import sys\nprint('colorsys' in sys.modules)\nimport holder_user, holder_ext\n"
            "print(holder_ext.use(), 'colorsys' in sys.modules)")
    assert_same_as_stock(image, ["-c", code], cwd=work)
    assert runs_warm(image, ["-c", code], cwd=work)
    assert "'holder_ext' holds modules in its native code (colorsys)" in verbose
    assert "'colorsys' is held by native module holder_ext" in verbose


def test_native_holder_never_loads_from_source(holder_image, tmp_path):
    # Loading holder_member from source would run holder_ext's code against
    # C state still pointing at the frozen colorsys: the image starts cold.
    image, work, _ = holder_image
    code = "import holder_member\nprint(holder_member.MODE, holder_member.holder.use())"
    env = clean_env(HOLDER_MODE="fancy")
    assert_same_as_stock(image, ["-c", code], env=env, cwd=work)
    assert runs_warm(image, ["-c", code], cwd=work)
    report = tmp_path / "report"
    run([image, "-c", code], env=dict(env, PYFREEZE_DEBUG=str(report)), cwd=work)
    assert report.read_text().startswith(
        "pyfreeze: cold start: module holder_member uses native module holder_ext, which holds modules, "
        "and it read environment variable HOLDER_MODE, which differs from the freeze\n")


def test_main_thread_native_id_is_this_process(tmp_path):
    # Without ASLR the main thread keeps its ident, and threading's
    # after-fork callback kept the freeze's native id with it.
    image = tmp_path / "img"
    freeze(image, "threading", "json")
    code = "import os, threading; print(threading.main_thread().native_id == os.getpid())"
    assert runs_warm(image, ["-c", code])
    assert run([image, "-c", code]).stdout == b"True\n"


@pytest.mark.parametrize("form", [["--script", "SCRIPT"], ["--module", "prog"]])
def test_program_image_with_a_large_manifest_loads_its_libraries_in_place(tmp_path, form):
    # An image that is a program reads its manifest before it loads its
    # libraries at their recorded addresses; with the names of 1000 files
    # its imports read, a mapping of the manifest took those addresses and
    # every run started cold (pytz's zoneinfo in csvkit).
    data = tmp_path / "data"
    data.mkdir()
    for i in range(1000):
        (data / f"file-with-a-longish-name-{i:04}").write_text("x")
    (tmp_path / "reads_many.py").write_text(
        "import os\nfor name in sorted(os.listdir(os.path.join(os.path.dirname(__file__), 'data'))):\n"
        "    with open(os.path.join(os.path.dirname(__file__), 'data', name)) as f:\n        f.read()\n")
    (tmp_path / "prog.py").write_text("import bz2, reads_many\nprint(len(bz2.compress(b'x' * 100)))\n")
    words = [str(tmp_path / "prog.py") if word == "SCRIPT" else word for word in form]
    image = tmp_path / "img"
    result = run([PYFREEZE, "-o", image, *words, "bz2", "reads_many"], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    report = tmp_path / "report"
    frozen = run([image], env=clean_env(PYFREEZE_DEBUG=str(report)), cwd=tmp_path)
    stock = run([STOCK, "-c", "import bz2; print(len(bz2.compress(b'x' * 100)))"])
    assert frozen.stdout == stock.stdout and "pyfreeze: warm start" in report.read_text(), report.read_text()
