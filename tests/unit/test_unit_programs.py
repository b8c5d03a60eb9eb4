"""Runs the C unit test programs (built by meson into build/tests/unit) so
that their results count in the same pytest summary as everything else."""

import json
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PYFREEZE_BUILD", ROOT / "build")).resolve()

PROGRAMS = {
    "test_brk_heap": [],
    "test_image_builder": [BUILD / "pyfreeze-runtime"],
    "test_loader_writes": [],
    "test_malloc_family": [],
    "test_proc_maps": [],
    "test_options": [],
    "test_manifest": [],
}
# Programs a -Dsanitize=true build leaves out (they bring their own malloc).
NOT_SANITIZED = {"test_malloc_family"}


def sanitized_build():
    try:
        options = json.loads((BUILD / "meson-info" / "intro-buildoptions.json").read_text())
    except OSError:
        return False
    return any(option["name"] == "sanitize" and option["value"] is True for option in options)


if sanitized_build():
    PROGRAMS = {name: args for name, args in PROGRAMS.items() if name not in NOT_SANITIZED}


def summary_is_clean(name, stdout):
    """The program's own last line says it ran checks and none failed:
    "NAME: N checks, 0 failed" exactly (not "10 failed", not 0 checks)."""
    lines = stdout.strip().splitlines()
    match = re.fullmatch(rf"{name}: (\d+) checks, (\d+) failed", lines[-1] if lines else "")
    return match is not None and int(match.group(1)) > 0 and match.group(2) == "0"


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_unit_program(name):
    program = BUILD / "tests" / "unit" / name
    assert program.exists(), f"{program} is not built: run ninja -C {BUILD}"
    result = subprocess.run([str(program), *map(str, PROGRAMS[name])], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary_is_clean(name, result.stdout), result.stdout


def test_every_unit_program_is_run():
    sources = {p.stem for p in (ROOT / "tests" / "unit").glob("test_*.c")}
    assert sources - (NOT_SANITIZED if sanitized_build() else set()) == set(PROGRAMS)


@pytest.mark.parametrize("stdout,clean", [
    ("test_x: 12 checks, 0 failed\n", True),
    ("test_x: 12 checks, 10 failed\n", False),
    ("test_x: 0 checks, 0 failed\n", False),
    ("test_x: 12 checks, 0 failed\ntrailing\n", False),
    ("", False),
])
def test_the_summary_check_itself(stdout, clean):
    assert summary_is_clean("test_x", stdout) == clean
