"""site's memoized run (man page, THE IMAGE): a warm start whose site would
read what the freeze's rehearsal of it read (flags, sys.path, HOME, the
site directories and their .pth files, what the .pth lines read) takes the
rehearsal's result; anything else and site runs again, as in python3.
Either way the run is python3's: sys.path, site's globals, what the .pth
lines do, sitecustomize and usercustomize."""

import os
import time

import pytest

from conftest import STOCK, PYFREEZE, clean_env, freeze, outcome, run

SHOW = ("import sys, site, builtins; print(sys.path, site.ENABLE_USER_SITE, site.USER_SITE, "
        "site.USER_BASE, site.PREFIXES, [type(getattr(builtins, name)).__name__ for name in "
        "('help', 'quit', 'exit', 'copyright', 'credits', 'license')], "
        "hasattr(sys, '__interactivehook__'), sorted(m for m in sys.modules if 'custom' in m))")
USER_SITE = ".local/lib/python3.11/site-packages"


def run_reporting(image, args, tmp_path, **env):
    """(status, stdout, stderr) of the image, and whether it took site's memo."""
    phases = tmp_path / "phases"
    if phases.exists():
        phases.unlink()
    result = outcome(image, args, env=clean_env(PYFREEZE_PHASES=str(phases), **env), cwd=tmp_path)
    lines = phases.read_text().splitlines() if phases.exists() else []
    return result, "+site-memo 1 0" in lines


def same_as_stock(image, tmp_path, args=("-c", SHOW), **env):
    """Whether the run took the memo; its outcome must be python3's."""
    result, memo = run_reporting(image, list(args), tmp_path, **env)
    assert result == outcome(STOCK, list(args), env=clean_env(**env), cwd=tmp_path)
    assert result[0] == 0, result
    return result, memo


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("site") / "sitepython"
    freeze(path)
    return path


def test_a_plain_run_takes_the_memo(image, tmp_path):
    result, memo = same_as_stock(image, tmp_path)
    assert memo
    assert "'/usr/lib/python3.11'" in result[1]


@pytest.mark.parametrize("options, env", [
    (["-s"], {}),
    (["-I"], {}),
    ([], {"PYTHONPATH": "/opt/elsewhere"}),
    ([], {"HOME": "/nonexistent/home"}),
])
def test_what_site_reads_decides(image, tmp_path, options, env):
    result, memo = same_as_stock(image, tmp_path, [*options, "-c", SHOW], **env)
    assert not memo


def test_another_user_base_runs_its_pth_files(image, tmp_path):
    base = tmp_path / "base"
    site_packages = base / "lib/python3.11/site-packages"
    site_packages.mkdir(parents=True)
    (site_packages / "extra.pth").write_text("import sys; sys.stdout.write('pth ran\\n')\n")
    result, memo = same_as_stock(image, tmp_path, PYTHONUSERBASE=str(base))
    assert not memo
    assert result[1].startswith("pth ran\n")


def home_with_user_site(tmp_path, age):
    """A HOME whose user site directory has one .pth file adding a
    directory to sys.path, made AGE seconds before the freeze."""
    home = tmp_path / "home"
    site_packages = home / USER_SITE
    (site_packages / "added").mkdir(parents=True)
    (site_packages / "adds.pth").write_text("added\n")
    time.sleep(age)
    return home, site_packages


@pytest.mark.parametrize("age", [0, 2.5], ids=["listed", "stamped"])
def test_a_user_site_directory_changed_runs_site(tmp_path, age):
    """The freeze lists the user site directory: a run sees the same
    directory, or site runs again.  A directory unchanged for seconds
    is known by its times (a stamp), a younger one by its listing."""
    home, site_packages = home_with_user_site(tmp_path, age)
    image = tmp_path / "homepython"
    freeze(image, env=clean_env(HOME=str(home)))
    result, memo = same_as_stock(image, tmp_path, HOME=str(home))
    assert memo
    assert str(site_packages / "added") in result[1]
    (site_packages / "more.pth").write_text("import sys; sys.stdout.write('more ran\\n')\n")
    result, memo = same_as_stock(image, tmp_path, HOME=str(home))
    assert not memo
    assert result[1].startswith("more ran\n")
    os.unlink(site_packages / "more.pth")
    (site_packages / "adds.pth").write_text("added\nimport sys; sys.stdout.write('adds ran\\n')\n")
    result, memo = same_as_stock(image, tmp_path, HOME=str(home))
    assert not memo
    assert result[1].startswith("adds ran\n")


def test_a_pth_line_that_prints_is_not_memoized(tmp_path):
    home, site_packages = home_with_user_site(tmp_path, 0)
    (site_packages / "says.pth").write_text("import sys; sys.stdout.write('says hello\\n')\n")
    image = tmp_path / "saypython"
    made = run([PYFREEZE, "-v", "-o", image], env=clean_env(HOME=str(home)), timeout=300)
    assert made.returncode == 0, made.stderr.decode()
    assert b"pyfreeze: site runs again at every start: it prints on standard output\n" in made.stderr
    result, memo = same_as_stock(image, tmp_path, HOME=str(home))
    assert not memo
    assert result[1].startswith("says hello\n")


@pytest.mark.parametrize("age", [0, 2.5], ids=["listed", "stamped"])
def test_a_usercustomize_put_on_the_path_runs(tmp_path, age):
    """site imports usercustomize by name and found none at the freeze:
    one put since in a directory of sys.path (known to the memo by its
    listing, or by its times when older than two seconds) must run, as in
    python3."""
    directory = tmp_path / "path"
    directory.mkdir()
    time.sleep(age)
    image = tmp_path / "custompython"
    freeze(image, env=clean_env(PYTHONPATH=str(directory)))
    result, memo = same_as_stock(image, tmp_path, PYTHONPATH=str(directory))
    assert memo
    (directory / "usercustomize.py").write_text("print('usercustomize ran')\n")
    result, memo = same_as_stock(image, tmp_path, PYTHONPATH=str(directory))
    assert not memo
    assert result[1].startswith("usercustomize ran\n")


def test_a_pth_line_that_warns_is_not_memoized(tmp_path):
    """A warning python3 ignores by default is an error under -W error:
    whether the run shows it is the run's affair."""
    home, site_packages = home_with_user_site(tmp_path, 0)
    (site_packages / "warns.pth").write_text(
        "import warnings; warnings.warn('from a pth file', DeprecationWarning)\n")
    image = tmp_path / "warnpython"
    made = run([PYFREEZE, "-v", "-o", image], env=clean_env(HOME=str(home)), timeout=300)
    assert made.returncode == 0, made.stderr.decode()
    assert b"pyfreeze: site runs again at every start: it issues a warning " \
           b"(DeprecationWarning: from a pth file)\n" in made.stderr
    for options in ([], ["-W", "error"]):
        result, memo = same_as_stock(image, tmp_path, [*options, "-c", SHOW], HOME=str(home))
        assert not memo
    assert "Error processing line 1" in result[2]


def test_a_module_a_pth_line_imports_is_imported_in_every_run(tmp_path):
    """A module a .pth line imports that the freeze had not imported is
    python3's to import in every run: the freeze's rehearsal of site must
    not leave it in the image (it runs in a child process first), and
    site runs again."""
    home, site_packages = home_with_user_site(tmp_path, 0)
    (site_packages / "startup_mod.py").write_text("print('startup_mod runs')\nWHERE = 'the user site'\n")
    (site_packages / "imports.pth").write_text("import startup_mod\n")
    ahead = tmp_path / "ahead"
    ahead.mkdir()
    env = {"HOME": str(home), "PYTHONPATH": str(ahead)}
    image = tmp_path / "aheadpython"
    made = run([PYFREEZE, "-v", "-o", image], env=clean_env(**env), timeout=300)
    assert made.returncode == 0, made.stderr.decode()
    assert b"pyfreeze: site runs again at every start: it changed sys.modules (startup_mod)\n" in made.stderr
    show = ["-c", "import startup_mod; print(startup_mod.WHERE)"]
    result, memo = same_as_stock(image, tmp_path, show, **env)
    assert result[1] == "startup_mod runs\nthe user site\n"
    # one put ahead of it since is the one python3 imports
    (ahead / "startup_mod.py").write_text("WHERE = 'ahead'\n")
    result, memo = same_as_stock(image, tmp_path, show, **env)
    assert not memo
    assert result[1] == "ahead\n"
