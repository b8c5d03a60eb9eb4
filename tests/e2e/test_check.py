"""Pipeline checks: `pyfreeze info` shows the entry form, and `pyfreeze
info --check IMAGE` says whether the image would start warm here (0), would
start cold and why (7), or was made by another runtime build (8)."""

import json
import os

import pytest

from conftest import PYFREEZE, clean_env, freeze, run


def check(image, env=None):
    result = run([PYFREEZE, "info", "--check", image], env=env)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    directory = tmp_path_factory.mktemp("check")
    (directory / "helper.py").write_text("VALUE = 41\n")
    (directory / "tool.py").write_text("import sys, helper\nprint(helper.VALUE + 1, sys.argv[1:])\n")
    return directory


@pytest.mark.parametrize("form, text, value", [
    (["--script", "tool.py"], "script {dir}/tool.py (IMAGE ARGS runs as python3 {dir}/tool.py ARGS)",
     "script:{dir}/tool.py"),
    (["--module", "json.tool"], "module json.tool (IMAGE ARGS runs as python3 -m json.tool ARGS)",
     "module:json.tool"),
    (["--entry", "json:dumps"], "entry point json:dumps (IMAGE ARGS runs as its console script)",
     "function:json:dumps"),
    ([], "none (the image is python3)", None),
])
def test_info_shows_entry_form(program, tmp_path, form, text, value):
    image = tmp_path / "img"
    freeze(image, *form, cwd=program)
    shown = run([PYFREEZE, "info", image]).stdout.decode()
    assert f"entry form:        {text.format(dir=program)}\n" in shown
    facts = json.loads(run([PYFREEZE, "info", "--json", image]).stdout)
    assert facts["entry"] == (value.format(dir=program) if value else None)


def test_check_fresh_image_is_warm(program, tmp_path):
    image = tmp_path / "tool"
    freeze(image, "--script", program / "tool.py", "helper", cwd=program)
    assert check(image) == (0, "", "")
    # The check ran nothing of the program.
    assert run([image, "x"]).stdout == b"42 ['x']\n"


def test_check_names_a_changed_module_or_script(program, tmp_path):
    script = tmp_path / "tool.py"
    script.write_text((program / "tool.py").read_text())
    module = tmp_path / "helper.py"
    module.write_text("VALUE = 41\n")
    image = tmp_path / "tool"
    freeze(image, "--script", script, "helper", cwd=tmp_path)
    assert check(image)[0] == 0
    os.utime(module, (1, 1))
    assert check(image) == (7, "", f"pyfreeze: {image} would start cold: {module} changed since the "
                                   f"image was made\n")
    freeze(image, "--script", script, "helper", cwd=tmp_path)
    assert check(image)[0] == 0
    script.write_text(script.read_text() + "# edited\n")
    assert check(image) == (7, "", f"pyfreeze: {image} would start cold: {script} changed since the "
                                   f"image was made\n")


def test_check_names_a_changed_or_moved_library(tmp_path):
    library = tmp_path / "libcopy.so"
    library.write_bytes(open("/lib/x86_64-linux-gnu/libbz2.so.1.0", "rb").read())
    (tmp_path / "uses_lib.py").write_text(f"import ctypes\nLIB = ctypes.CDLL({str(library)!r})\n")
    image = tmp_path / "img"
    freeze(image, "uses_lib", cwd=tmp_path)
    assert check(image)[0] == 0
    # A preloaded library moves the image's (pyfreeze passes its environment
    # on; a sanitizer build of pyfreeze must accept the preload itself).
    status, _, message = check(image, env=clean_env(LD_PRELOAD="/lib/x86_64-linux-gnu/libbz2.so.1.0",
                                                    ASAN_OPTIONS="verify_asan_link_order=0"))
    assert status == 7 and message.startswith(f"pyfreeze: {image} would start cold: ")
    assert "was loaded at 0x" in message
    os.utime(library, (1, 1))
    assert check(image) == (7, "", f"pyfreeze: {image} would start cold: shared library {library} "
                                   f"changed since the image was made\n")


def test_check_reports_the_environment_it_runs_in(tmp_path):
    image = tmp_path / "img"
    freeze(image)
    assert check(image, env=clean_env(PYFREEZE_COLD="1", PYFREEZE_DEBUG="1"))[0] == 0
    status, _, message = check(image, env=clean_env(PYTHONHASHSEED="12345678"))
    assert status == 7 and message.endswith("PYTHONHASHSEED differs from the image's hash seed\n")


def test_check_another_runtime_build(tmp_path):
    image = tmp_path / "img"
    freeze(image)
    data = bytearray(image.read_bytes())
    note = data.find(b"\x04\0\0\0\x14\0\0\0\x03\0\0\0GNU\0", 0, 4096)
    assert note > 0
    data[note + 16] ^= 0xFF
    other = tmp_path / "other-build"
    other.write_bytes(bytes(data))
    other.chmod(0o755)
    status, _, message = check(other)
    assert status == 8
    assert message.startswith(f"pyfreeze: {other} was made by another runtime build (")


def test_check_usage(tmp_path):
    result = run([PYFREEZE, "info", "--check", "--json", "x"])
    assert result.returncode == 2
    assert result.stderr.decode().startswith("pyfreeze: info: --json and --check exclude each other\n")
    (tmp_path / "not-image").write_bytes(b"\x7fELF")
    assert run([PYFREEZE, "info", "--check", tmp_path / "not-image"]).returncode == 5
