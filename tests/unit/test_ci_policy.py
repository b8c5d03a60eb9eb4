"""The CI policy of tests/conftest.py: under PYFREEZE_CI=1 a skip fails,
unless tests/ci-skips.txt lists the test with a reason."""

import pathlib
import shutil
import subprocess

TESTS = pathlib.Path(__file__).resolve().parents[1]


def run_pytest(directory, ci, allowed=""):
    shutil.copy(TESTS / "conftest.py", directory / "conftest.py")
    (directory / "ci-skips.txt").write_text(allowed)
    (directory / "test_sample.py").write_text(
        "import pytest\n"
        "def test_passes():\n    pass\n"
        "def test_skips():\n    pytest.skip('needs something')\n"
        "@pytest.mark.skipif(True, reason='never here')\ndef test_marked():\n    pass\n"
        "@pytest.mark.xfail(reason='known')\ndef test_expected_failure():\n    assert False\n")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **({"PYFREEZE_CI": "1"} if ci else {})}
    # From / : the ids must not depend on the directory pytest runs in.
    result = subprocess.run(["/usr/bin/python3.11", "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory)],
                            capture_output=True, text=True, env=env, timeout=120, cwd="/")
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[-1] if lines else ""


def test_skips_stay_skips_outside_ci(tmp_path):
    assert run_pytest(tmp_path, ci=False).startswith("1 passed, 2 skipped, 1 xfailed")


def test_skips_fail_in_ci(tmp_path):
    # The skipif skips while the test is set up: an error rather than a failure.
    assert run_pytest(tmp_path, ci=True).startswith("1 failed, 1 passed, 1 xfailed, 1 error")


def test_listed_skips_are_allowed_in_ci(tmp_path):
    allowed = "test_sample.py::test_skips  # cannot be done here\ntest_sample.py::test_mark*  # nor this\n"
    assert run_pytest(tmp_path, ci=True, allowed=allowed).startswith("1 passed, 2 skipped, 1 xfailed")


def test_an_entry_without_a_reason_is_refused(tmp_path):
    last = run_pytest(tmp_path, ci=True, allowed="test_sample.py::test_skips\n")
    assert last.endswith("ci-skips.txt:1: an allowed skip needs its reason after '#'")


def test_the_real_list_is_short_and_explained():
    text = (TESTS / "ci-skips.txt").read_text()
    entries = [line for line in text.splitlines() if line.split("#", 1)[0].strip()]
    assert len(entries) <= 5
    assert all("#" in line and line.split("#", 1)[1].strip() for line in entries)
