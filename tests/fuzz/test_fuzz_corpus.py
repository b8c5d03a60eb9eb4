"""Replays the fuzz corpus (tests/fuzz/corpus) through the fuzz targets built
as plain programs (build/tests/fuzz/fuzz_*_replay), so every input a fuzz
run kept stays a regression test and counts in the same pytest summary as
everything else.  The fuzzing itself, bounded in time, is tests/fuzz/run."""

import json
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PYFREEZE_BUILD", ROOT / "build")).resolve()
CORPUS = ROOT / "tests" / "fuzz" / "corpus"


@pytest.mark.parametrize("target", ["maps", "image", "build", "manifest"])
def test_corpus_replays_cleanly(target):
    program = BUILD / "tests" / "fuzz" / f"fuzz_{target}_replay"
    assert program.exists(), f"{program} is not built: run ninja -C {BUILD}"
    result = subprocess.run([str(program), str(CORPUS / target)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    ran = re.search(r"replayed (\d+) inputs", result.stdout)
    assert ran is not None, result.stdout
    seeds = [p for p in (CORPUS / target).iterdir() if p.is_file() and not p.name.startswith(("crash-", "."))]
    assert int(ran.group(1)) == len(seeds) > 0


def test_image_seeds_match_the_reader():
    """The image seeds carry struct pf_image_info as src/common/image_info.h
    lays it out; when that changes they stop getting past the version check
    and the fuzzer stops reaching the reads after it.  Regenerate them with
    tests/fuzz/make-seeds (and --from-image on a fresh image)."""
    seed = CORPUS / "image" / "image-basic"
    result = subprocess.run([str(BUILD / "pyfreeze"), "info", "--json", str(seed)], capture_output=True,
                            text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    assert result.returncode == 0, (
        f"pyfreeze info rejects {seed}: {result.stderr.strip()}; rerun tests/fuzz/make-seeds")
    facts = json.loads(result.stdout)
    assert facts["modules"] == ["own_mod", "email.parser"]
    assert facts["hash_seed"] == 777
    assert facts["module_files"] == 3


def test_seeds_are_small():
    for path in CORPUS.rglob("*"):
        if path.is_file():
            assert path.stat().st_size < 64 * 1024, path
