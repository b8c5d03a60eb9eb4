"""Every test counts in CI.

With PYFREEZE_CI=1 in the environment (.ci/run sets it; tests/run passes it
on), a test that skips is reported as failed (as an error when it skipped
while being set up), unless its id (its file's path from this directory,
'::', its name: e2e/test_faults.py::test_full_disk) matches a line of
tests/ci-skips.txt: the short, documented list of tests that CI cannot run.
Ids are taken from here rather than from pytest's rootdir, which depends on
the directory pytest runs in.  A skip outside CI stays a skip (a developer without root, for
instance)."""

import fnmatch
import os
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ALLOWED = HERE / "ci-skips.txt"


def allowed_skips(path=ALLOWED):
    """The node-id patterns of tests/ci-skips.txt: one per line, fnmatch
    syntax; '#' starts a comment (the reason, which every entry needs)."""
    patterns = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        pattern, _, reason = line.partition("#")
        if pattern.strip():
            if not reason.strip():
                raise pytest.UsageError(f"{path}:{number}: an allowed skip needs its reason after '#'")
            patterns.append(pattern.strip())
    return patterns


def skip_reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def pytest_configure(config):
    config.pyfreeze_allowed_skips = allowed_skips() if os.environ.get("PYFREEZE_CI") == "1" else []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("PYFREEZE_CI") != "1" or not report.skipped or hasattr(report, "wasxfail"):
        return
    test_id = f"{pathlib.Path(str(item.fspath)).resolve().relative_to(HERE)}::{item.name}"
    if any(fnmatch.fnmatchcase(test_id, pattern) for pattern in item.config.pyfreeze_allowed_skips):
        return
    report.outcome = "failed"
    report.longrepr = (f"{test_id} skipped in CI ({skip_reason(report)}): CI must run every test; "
                       f"make it runnable there, or add it to {ALLOWED.name} with the reason")
