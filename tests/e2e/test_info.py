"""`pyfreeze info`: what an image holds, in text and JSON, and clear errors
for anything that is not a complete image."""

import json
import os
import shutil

import pytest

from conftest import PYFREEZE, RUNTIME, STOCK, clean_env, freeze, run, runs_warm


@pytest.fixture(scope="module")
def described(tmp_path_factory):
    directory = tmp_path_factory.mktemp("info")
    (directory / "own_mod.py").write_text(
        "import os\nVALUE = 1\nMODE = os.environ.get('OWN_MOD_MODE')\n"
        "with open(os.path.join(os.path.dirname(__file__), 'own.cfg')) as f:\n    CONFIG = f.read()\n")
    (directory / "own.cfg").write_text("setting = 1\n")
    image = directory / "img"
    freeze(image, "own_mod", "email.parser", "-_ssl", "--hash-seed", "777", "--path", "/tmp", cwd=directory)
    return directory, image


def test_info_json(described):
    directory, image = described
    result = run([PYFREEZE, "info", "--json", image])
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["image"] == str(image)
    assert facts["python"] == run([STOCK, "-c", "import platform; print(platform.python_version())"]).stdout.decode().strip()
    assert facts["modules"] == ["own_mod", "email.parser"]
    assert facts["blocked"] == ["_ssl"]
    assert facts["paths"] == ["/tmp"]
    assert facts["hash_seed"] == 777
    assert facts["runtime_is_current"] is True
    assert facts["native_libraries"] == [] and facts["aslr"] is True
    assert facts["image_size"] == os.path.getsize(image)
    assert 0 < facts["heap_size"] < facts["image_size"]
    assert facts["frozen_module_count"] > 50
    assert facts["module_files"] > 10 and facts["changed_module_files"] == 0
    assert "OWN_MOD_MODE" in facts["read_environment"]
    assert facts["read_files"] == [str(directory / "own.cfg")]


def test_info_text(described):
    _, image = described
    result = run([PYFREEZE, "info", image])
    text = result.stdout.decode()
    assert result.returncode == 0
    assert "modules:           own_mod email.parser\n" in text
    assert "blocked:           _ssl\n" in text
    assert "hash seed:         777\n" in text
    assert "(this pyfreeze's runtime)" in text
    assert f"                   files {image.parent / 'own.cfg'}\n" in text


def test_changed_module_file_detected_and_cold(described, tmp_path):
    directory, image = described
    copy = tmp_path / "img"
    shutil.copy(image, copy)
    (directory / "own_mod.py").write_text("VALUE = 22  # edited after the freeze\n")
    try:
        facts = json.loads(run([PYFREEZE, "info", "--json", copy]).stdout)
        assert facts["changed_module_files"] == 1
        assert facts["first_changed_file"] == str(directory / "own_mod.py")
        code = ["-c", "import own_mod; print(own_mod.VALUE)"]
        assert not runs_warm(copy, code, cwd=directory)
        assert run([copy, *code], cwd=directory).stdout == b"22\n"
    finally:
        (directory / "own_mod.py").write_text(
        "import os\nVALUE = 1\nMODE = os.environ.get('OWN_MOD_MODE')\n"
        "with open(os.path.join(os.path.dirname(__file__), 'own.cfg')) as f:\n    CONFIG = f.read()\n")
    (directory / "own.cfg").write_text("setting = 1\n")


@pytest.mark.parametrize("target,message", [
    (lambda d, i: RUNTIME, "is a pyfreeze runtime, not an image"),
    (lambda d, i: "/bin/true", "is not a pyfreeze runtime or image"),
    (lambda d, i: d / "missing", "No such file or directory"),
])
def test_info_on_non_images(described, target, message):
    directory, image = described
    result = run([PYFREEZE, "info", target(directory, image)])
    assert result.returncode == 5
    assert message in result.stderr.decode()
    assert result.stdout == b""


@pytest.mark.parametrize("keep", [64, 4096, 1 << 20, -4096])
def test_info_on_truncated_image(described, tmp_path, keep):
    _, image = described
    data = image.read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[:keep] if keep > 0 else data[:len(data) + keep])
    result = run([PYFREEZE, "info", cut])
    assert result.returncode == 5
    assert result.stderr.decode().startswith(f"pyfreeze: {cut} ")


def test_info_usage_errors():
    assert run([PYFREEZE, "info"]).returncode == 2
    result = run([PYFREEZE, "info", "--bogus", "x"])
    assert result.returncode == 2
    assert result.stderr.decode() == ("pyfreeze: info: unknown option '--bogus'\n"
                                      "Try 'pyfreeze --help' for more information.\n")
    assert run([PYFREEZE, "info", "--help"]).stdout.startswith(b"Usage: pyfreeze info")


def test_info_on_image_of_another_runtime_build(described, tmp_path):
    _, image = described
    data = bytearray(image.read_bytes())
    # The build-id note: namesz 4, descsz 20, type 3 (NT_GNU_BUILD_ID), "GNU".
    note = data.find(b"\x04\0\0\0\x14\0\0\0\x03\0\0\0GNU\0", 0, 4096)
    assert note > 0
    data[note + 16] ^= 0xFF               # first byte of the build-id
    other = tmp_path / "other-build"
    other.write_bytes(bytes(data))
    facts = json.loads(run([PYFREEZE, "info", "--json", other]).stdout)
    assert facts["runtime_is_current"] is False
    assert "(another build)" in run([PYFREEZE, "info", other]).stdout.decode()


def test_a_module_named_info_can_be_frozen_first(tmp_path):
    """`pyfreeze info -o OUT` names an output, which the info command never
    takes: it freezes a module called info, as `pyfreeze -o OUT info` does."""
    (tmp_path / "info.py").write_text("WHAT = 'the module'\n")
    out = tmp_path / "img"
    result = run([PYFREEZE, "info", "-o", out], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    facts = json.loads(run([PYFREEZE, "info", "--json", out]).stdout)
    assert facts["modules"] == ["info"]
    ran = run([out, "-c", "import info; print(info.WHAT)"], cwd=tmp_path,
              env=clean_env(PYFREEZE_DEBUG="1"))
    assert ran.stdout == b"the module\n"
    assert b"pyfreeze: warm start" in ran.stderr


@pytest.mark.parametrize("damage, message", [
    (b"format=1\n", "manifest format 1 is not this pyfreeze's (2)"),
    (b"format=2\ncolour=blue\n", "unknown key 'colour'"),
    (b"pyfreeze=0.1.0\n", "not a pyfreeze manifest"),
])
def test_info_on_a_foreign_or_damaged_manifest(described, tmp_path, damage, message):
    """The manifest is read by one reader, which refuses what it does not
    know in one line naming the image and the fault."""
    directory, image = described
    data = bytearray(image.read_bytes())
    start = data.index(b"format=2\npyfreeze=")
    end = data.index(b"\n", data.index(b"hash_seed=", start)) + 1
    # Same length, so the record's size still covers it: pad with a line
    # the reader would otherwise accept.
    replacement = damage + b"x" * (end - start - len(damage) - 1) + b"\n"
    assert len(replacement) == end - start
    data[start:end] = replacement
    broken = tmp_path / "broken"
    broken.write_bytes(bytes(data))
    result = run([PYFREEZE, "info", broken])
    assert result.returncode == 5
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pyfreeze: {broken} is damaged or foreign: "), lines
    assert message in lines[0]
