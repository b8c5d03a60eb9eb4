"""Every test counts in CI.

With PYFREEZE_CI=1 in the environment (.ci/run sets it; tests/run passes it
on), a test that skips is reported as failed (as an error when it skipped
while being set up), unless its node id matches a
line of tests/ci-skips.txt: the short, documented list of tests that CI
cannot run.  A skip outside CI stays a skip (a developer without root, for
instance)."""

import fnmatch
import os
import pathlib

import pytest

ALLOWED = pathlib.Path(__file__).with_name("ci-skips.txt")


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
    if any(fnmatch.fnmatchcase(item.nodeid, pattern) for pattern in item.config.pyfreeze_allowed_skips):
        return
    report.outcome = "failed"
    report.longrepr = (f"{item.nodeid} skipped in CI ({skip_reason(report)}): CI must run every test; "
                       f"make it runnable there, or add it to {ALLOWED.name} with the reason")
