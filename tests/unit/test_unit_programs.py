"""Runs the C unit test programs (built by meson into build/tests/unit) so
that their results count in the same pytest summary as everything else."""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PYFREEZE_BUILD", ROOT / "build")).resolve()

PROGRAMS = {
    "test_brk_heap": [],
    "test_image_builder": [BUILD / "pyfreeze-runtime"],
    "test_proc_maps": [],
    "test_options": [],
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_unit_program(name):
    program = BUILD / "tests" / "unit" / name
    assert program.exists(), f"{program} is not built: run ninja -C {BUILD}"
    result = subprocess.run([str(program), *map(str, PROGRAMS[name])], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout
