"""Cold starts run real code exactly as python3 does, whatever made the image
step aside: PYFREEZE_COLD, -O, a virtual environment, a module file changed
since the freeze, a shared library that moved.  Each trigger is checked to
really start cold, and each run is compared with stock python3.11 run under
the same trigger (same option, its own venv, same environment)."""

import os

import pytest

from conftest import STOCK, clean_env, freeze, outcome, run, runs_warm

# Exercises the C parts the dynamic loader links in: libexpat through
# pyexpat's handler setters (they were 0 in cold starts), OpenSSL, SQLite,
# libmpdec, libffi (a callback through qsort), zlib.
PROGRAM = r"""
import ctypes, decimal, hashlib, json, pyexpat, plistlib, sqlite3, ssl, sys, zlib
import xml.dom.minidom, xml.etree.ElementTree as ET
print(xml.dom.minidom.parseString("<a b='1'><c>text</c></a>").documentElement.toxml())
print(ET.tostring(ET.fromstring("<r><i n='1'/><i n='2'/></r>")))
seen = []
parser = pyexpat.ParserCreate()
parser.StartElementHandler = lambda name, attributes: seen.append((name, attributes))
parser.EndElementHandler = lambda name: seen.append('/' + name)
parser.CharacterDataHandler = lambda data: seen.append(data)
parser.Parse("<x k='v'>hi<y/></x>", True)
print(seen)
print(plistlib.loads(plistlib.dumps({"a": [1, 2.5, "x"], "b": True})))
context = ssl.create_default_context()
print(context.verify_mode == ssl.CERT_REQUIRED, context.check_hostname, len(ssl.RAND_bytes(16)))
print(hashlib.sha256(b"abc").hexdigest()[:16], hashlib.md5(b"abc").hexdigest()[:8])
db = sqlite3.connect(":memory:")
db.execute("create table t (x)")
db.executemany("insert into t values (?)", [(i,) for i in range(100)])
print(db.execute("select sum(x), count(*) from t").fetchone(), sqlite3.sqlite_version_info >= (3,))
decimal.getcontext().prec = 40
print(decimal.Decimal(1) / decimal.Decimal(7), decimal.Decimal("1.1") + decimal.Decimal("2.2"))
libc = ctypes.CDLL(None)
values = (ctypes.c_int * 5)(5, 3, 4, 1, 2)
compare = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))(
    lambda a, b: a[0] - b[0])
libc.qsort(values, len(values), ctypes.sizeof(ctypes.c_int), compare)
print(list(values), libc.strlen(b"hello"))
print(json.dumps({"k": [1, 2, {"z": None}]}, sort_keys=True), zlib.crc32(zlib.compress(b"x" * 1000)))
print(sys.flags.optimize, __debug__)
"""

NATIVE_MODULES = ["ssl", "sqlite3", "decimal", "ctypes", "hashlib", "json", "xml.dom.minidom",
                  "xml.etree.ElementTree", "plistlib", "zlib", "cold_probe"]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A minimal image and one holding the program's native modules (and
    a module of ours, cold_probe, whose file a test changes)."""
    directory = tmp_path_factory.mktemp("cold")
    (directory / "cold_probe.py").write_text("VALUE = 1\n")
    freeze(directory / "minimal", cwd=directory)
    freeze(directory / "native", *NATIVE_MODULES, cwd=directory)
    return directory


def make_venv(python, where):
    made = run([python, "-m", "venv", "--without-pip", where])
    assert made.returncode == 0, made.stderr
    return where / "bin" / "python"


def compare(image, stock, args, env=None, cwd=None):
    """The image and stock give the same status, stdout and stderr, and the
    image did start cold."""
    assert not runs_warm(image, args, env=env, cwd=cwd), "the trigger did not make the image start cold"
    frozen = outcome(image, args, env=env, cwd=cwd)
    assert frozen[0] == 0, frozen[2]
    assert frozen == outcome(stock, args, env=env, cwd=cwd)


@pytest.mark.parametrize("which", ["minimal", "native"])
def test_forced(images, which):
    compare(images / which, STOCK, ["-c", PROGRAM], env=clean_env(PYFREEZE_COLD="1"))


@pytest.mark.parametrize("which", ["minimal", "native"])
@pytest.mark.parametrize("option", ["-O", "-OO"])
def test_optimize(images, which, option):
    compare(images / which, STOCK, [option, "-c", PROGRAM])


@pytest.mark.parametrize("which", ["minimal", "native"])
def test_virtual_environment(images, which, tmp_path):
    image_python = make_venv(images / which, tmp_path / "image-venv")
    stock_python = make_venv(STOCK, tmp_path / "stock-venv")
    code = PROGRAM + "print(sys.prefix == sys.base_prefix)\n"
    compare(image_python, stock_python, ["-c", code])


@pytest.mark.parametrize("which", ["minimal", "native"])
def test_changed_module_file(images, which, tmp_path):
    # cold_probe is frozen in the native image only; the minimal image
    # stamps the stdlib files it imported, so change a copy of one of them
    # that the image is made to import: a module of ours again.
    probe = images / "cold_probe.py"
    image = images / which
    if which == "minimal":
        (tmp_path / "cold_probe.py").write_text("VALUE = 1\n")
        image = tmp_path / "img"
        freeze(image, "cold_probe", cwd=tmp_path)
        probe = tmp_path / "cold_probe.py"
    before = probe.stat()
    probe.write_text("VALUE = 2  # changed after the freeze\n")
    try:
        code = PROGRAM + "import cold_probe; print(cold_probe.VALUE)\n"
        compare(image, STOCK, ["-c", code], cwd=probe.parent)
    finally:
        probe.write_text("VALUE = 1\n")
        os.utime(probe, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert runs_warm(image, ["-c", "pass"], cwd=probe.parent)


def test_moved_library(images):
    # A preloaded library shifts every library loaded after it: the native
    # image cannot put its libraries back and steps aside.
    env = clean_env(LD_PRELOAD="/lib/x86_64-linux-gnu/libbz2.so.1.0")
    compare(images / "native", STOCK, ["-c", PROGRAM], env=env)


def test_forced_cold_start_is_inherited(images):
    # A PYFREEZE_COLD the user set stays in the environment, as python3
    # keeps it, so an image the program starts also runs cold.
    code = ("import os, subprocess, sys; print(os.environ.get('PYFREEZE_COLD'));"
            "subprocess.run([sys.executable, '-c', 'import os; print(os.environ.get(\"PYFREEZE_COLD\"))'])")
    env = clean_env(PYFREEZE_COLD="1", PYFREEZE_DEBUG="1")
    result = run([images / "minimal", "-c", code], env=env)
    assert result.stdout == b"1\n1\n", result.stderr
    assert result.stderr.count(b"pyfreeze: warm start") == 0


@pytest.mark.parametrize("value", [None, "", "0"])
def test_step_aside_leaves_the_environment_as_it_was(images, value):
    extra = {} if value is None else {"PYFREEZE_COLD": value}
    env = clean_env(A="1", **extra, Z="2")
    code = "import os; print(list(os.environ.items()))"
    assert outcome(images / "minimal", ["-O", "-c", code], env=env) == outcome(STOCK, ["-O", "-c", code], env=env)


def test_every_data_word_the_loader_wrote_survives(images):
    # The runtime's .data holds R_X86_64_64 slots filled by ld.so; a cold
    # start that lost them crashed on the first XML parse.
    relocations = run(["readelf", "-rW", images / "minimal"]).stdout
    assert b"R_X86_64_64" in relocations, "the runtime no longer has data relocations to test"
    env = clean_env(PYFREEZE_COLD="1")
    code = "import xml.dom.minidom as M; print(M.parseString('<a/>').documentElement.tagName)"
    assert run([images / "minimal", "-c", code], env=env).stdout == b"a\n"


@pytest.mark.parametrize("trigger", ["forced", "O", "venv", "stale"])
def test_locale_coercion_warning_once(images, trigger, tmp_path):
    # PYTHONCOERCECLOCALE=warn under the C locale: python3 prints its
    # coercion warning once.  Triggers found after the pre-initialization
    # (-O, a venv) had the warm process print it, then the cold one again.
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "PYTHONCOERCECLOCALE": "warn"}
    code = "import os, sys; print(os.environ['LC_CTYPE'], sys.getfilesystemencoding())"
    image, stock, args = images / "minimal", STOCK, ["-c", code]
    if trigger == "forced":
        env["PYFREEZE_COLD"] = "1"
    elif trigger == "O":
        args = ["-O", *args]
    elif trigger == "venv":
        image, stock = make_venv(image, tmp_path / "image-venv"), make_venv(STOCK, tmp_path / "stock-venv")
    else:
        (tmp_path / "cold_probe.py").write_text("VALUE = 1\n")
        image = tmp_path / "img"
        freeze(image, "cold_probe", cwd=tmp_path)
        (tmp_path / "cold_probe.py").write_text("VALUE = 2\n")
    result = outcome(image, args, env=env)
    assert result == outcome(stock, args, env=env)
    assert result[2].count("LC_CTYPE coerced to C.UTF-8") == 1
    assert not runs_warm(image, args, env=env)


def test_an_encodings_ahead_of_the_stdlib_starts_cold(images, tmp_path):
    # python3 imports encodings from the search path while it starts: one
    # in a PYTHONPATH directory is the one it uses, not the image's.
    (tmp_path / "encodings").symlink_to("/usr/lib/python3.11/encodings")
    env = clean_env(PYTHONPATH=str(tmp_path))
    code = "import encodings, sys; print(encodings.__file__, sys.path[1])"
    compare(images / "minimal", STOCK, ["-c", code], env=env)
    assert str(tmp_path / "encodings") in outcome(images / "minimal", ["-c", code], env=env)[1]
    # an entry that holds none changes nothing
    assert runs_warm(images / "minimal", ["-c", code], env=clean_env(PYTHONPATH=f"{tmp_path}/elsewhere"))


def test_another_platlibdir_starts_cold_and_warns_once(images):
    # /usr/lib64/python3.11 does not exist: python3 warns that it found no
    # prefix and fails to find encodings; the image must fail the same way,
    # with getpath's warnings printed once, not by the warm attempt and by
    # the cold start both.
    env = clean_env(PYTHONPLATLIBDIR="lib64")
    image, stock = outcome(images / "minimal", ["-c", "pass"], env=env), outcome(STOCK, ["-c", "pass"], env=env)
    assert image[0] == stock[0] != 0
    assert image[2].count("Could not find platform independent libraries") == 1
    def told(stderr):       # less what names the executable, which differs
        return [line for line in stderr.splitlines() if "executable" not in line and "program name" not in line]
    assert told(image[2]) == told(stock[2])
    assert not runs_warm(images / "minimal", ["-c", "pass"], env=env)


def test_a_module_of_the_start_up_found_elsewhere_starts_cold(images, tmp_path):
    # site imports sitecustomize while python3 starts: one in a PYTHONPATH
    # directory is the one that runs, not the image's (Debian's).
    (tmp_path / "sitecustomize.py").write_text("print('the run\\'s own sitecustomize')\n")
    env = clean_env(PYTHONPATH=str(tmp_path))
    code = "import sitecustomize; print(sitecustomize.__file__)"
    compare(images / "minimal", STOCK, ["-c", code], env=env)
    assert outcome(images / "minimal", ["-c", code], env=env)[1].startswith("the run's own sitecustomize\n")
    # a PYTHONPATH directory without one changes nothing
    (tmp_path / "sitecustomize.py").unlink()
    assert runs_warm(images / "minimal", ["-c", code], env=env)
