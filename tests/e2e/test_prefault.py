"""Copying ahead the pages a warm start writes (man page, THE IMAGE): the
freeze's training run, which never runs the program, the table the image
carries, and a start-up that stays in one thread, as python3's."""

import json
import os
import subprocess

import pytest

from conftest import PYFREEZE, STOCK, clean_env, freeze, run

PAGE = 4096


@pytest.fixture(scope="module")
def script_image(tmp_path_factory):
    directory = tmp_path_factory.mktemp("prefault")
    script = directory / "marks.py"
    marker = directory / "ran"
    script.write_text(f"import sys\nopen({str(marker)!r}, 'a').write('ran\\n')\nprint(sys.argv[1:])\n")
    image = directory / "marks"
    freeze(image, "--script", script, "json")
    return image, marker


def test_the_training_run_does_not_run_the_program(script_image):
    image, marker = script_image
    assert not marker.exists()
    facts = json.loads(run([PYFREEZE, "info", "--json", image]).stdout)
    assert facts["prefault_pages"] > 100
    result = run([image, "a"])
    assert result.stdout == b"['a']\n" and marker.read_text() == "ran\n"
    marker.unlink()


def training_report(image, **env):
    read, write = os.pipe()
    try:
        result = subprocess.run([str(image), "b"], env=clean_env(PYFREEZE_TRAIN=str(write), **env),
                                pass_fds=(write,), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write)
    with os.fdopen(read) as pipe:
        return result, pipe.read()


def test_a_training_run_reports_written_pages_and_stops(script_image):
    image, marker = script_image
    result, report = training_report(image)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert not marker.exists()
    runs = [tuple(int(word, base) for word, base in zip(line.split(), (16, 10))) for line in report.splitlines()]
    assert len(runs) > 10 and all(pages > 0 for _, pages in runs)
    assert runs == sorted(runs)


def test_a_training_run_that_would_start_cold_stops_too(script_image):
    image, marker = script_image
    result, report = training_report(image, PYFREEZE_COLD="1")
    assert (result.returncode, result.stdout, report) == (8, b"", "")
    assert not marker.exists()


def test_site_runs_user_code_in_one_thread(minimal_image, tmp_path):
    # a .pth file in the user's site directory is the run's own code:
    # python3 runs it with one thread, and so must the image.
    site = tmp_path / ".local" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "probe.pth").write_text(
        "import sys; print('threads', open('/proc/self/status').read().split('Threads:')[1].split()[0])\n")
    env = clean_env(HOME=str(tmp_path), PYFREEZE_DEBUG="1")
    image = run([minimal_image, "-c", "pass"], env=env)
    stock = run([STOCK, "-c", "pass"], env=env)
    assert image.stdout == stock.stdout == b"threads 1\n"
    assert b"pyfreeze: warm start" in image.stderr, image.stderr
