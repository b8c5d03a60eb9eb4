"""Reproducible images: the same runtime, module files and options, with
--hash-seed N and the same freeze environment (--clean-env --env ...), give
byte-identical images whatever the umask, moment, or ambient environment of
pyfreeze, and for images that are a script or console script whatever the
working directory (for the others it is sys.path[0], an input)."""

import os
import subprocess
import time

import pytest

from conftest import PYFREEZE, run


def freeze_in(cwd, umask, ambient, output, words):
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **ambient}
    result = subprocess.run([str(PYFREEZE), "-o", str(output), "--hash-seed", "1234", "--clean-env",
                             "--env", "LANG=C.UTF-8", "--env", "SOURCE_DATE_EPOCH=1700000000", *words],
                            cwd=cwd, env=env, capture_output=True, timeout=300,
                            preexec_fn=lambda: os.umask(umask))
    assert result.returncode == 0, result.stderr.decode()
    return output.read_bytes()


@pytest.mark.parametrize("words, other_cwd", [
    (["--entry", "black:patched_main"], True),
    (["--script", "SCRIPT", "random", "tempfile", "logging", "threading", "multiprocessing"], True),
    (["cgi", "json", "-_ssl"], False),
    (["random", "tempfile", "logging", "threading", "multiprocessing", "email.parser"], False),
    (["--module", "json.tool"], False),
    # the learning run compiles its patterns in an order of its hash seed's
    (["--script", "SCRIPT", "--learn", "y"], True),
])
def test_two_freezes_give_the_same_bytes(tmp_path, words, other_cwd):
    if "black:patched_main" in words and not os.path.exists("/usr/bin/black"):
        pytest.skip("black is not installed")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (tmp_path / "first").mkdir()
    (tmp_path / "second-place").mkdir()
    script = tmp_path / "script.py"
    script.write_text("import re, sys\nfor p in {'a+', 'b|c', 'd*e', '[fg]h', 'i{2}', 'j?k'}:\n"
                      "    re.compile(p)\nprint(sys.argv[1:])\n")
    words = [str(script) if word == "SCRIPT" else word for word in words]
    output = out_dir / "image"
    # For --entry the image's directory is sys.path[0], and what is in it
    # an input (importlib.metadata lists it): the same files both times.
    output.write_bytes(b"an older image")
    first = freeze_in(tmp_path / "first", 0o022, {"HOME": "/root"}, output, words)
    time.sleep(1.1)
    second = freeze_in(tmp_path / ("second-place" if other_cwd else "first"), 0o077,
                       {"HOME": "/tmp", "USER": "nobody", "EXTRA": "x" * 100, "TZ": "Asia/Tokyo"},
                       output, words)
    assert len(first) == len(second)
    differing = [i for i in range(len(first)) if first[i] != second[i]]
    assert differing == [], f"{len(differing)} bytes differ, first at file offset {differing[0]:#x}"
    # And the image still runs, warm.
    log = tmp_path / "debug"
    args = (["--version"] if "--entry" in words else ["--help"] if "--module" in words
            else ["x"] if "--script" in words else ["-c", "pass"])
    result = run([output, *args], env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYFREEZE_DEBUG": str(log)})
    assert result.returncode == 0, result.stderr
    assert "warm start" in log.read_text()
