"""The .pth files of the system's site directories and sitecustomize, which
python3's site runs at every start (man page, THE IMAGE): an image whose
run of them would read what they read at the freeze runs as they left it;
one whose .pth lines would do otherwise (an environment variable they test,
a module they import reading another value, a module they did not find
being there now) starts cold.  Either way the run is python3's.

The freeze only sees the system's site directories (it ignores the user's
and PYTHON* variables).  So every command here runs in a mount namespace
of its own in which /usr/local/lib/python3.11/dist-packages is a copy of
it with a .pth file and its module added: the machine's directory, which
other images have recorded, is left as it is."""

import os
import shutil
import subprocess

import pytest

from conftest import PYFREEZE, STOCK, clean_env, normalise, run

SITE_DIRECTORY = "/usr/local/lib/python3.11/dist-packages"
FILES = {
    # imports its module only when PF_PTH_SHIM says so, as setuptools'
    # distutils-precedence.pth reads SETUPTOOLS_USE_DISTUTILS; and looks
    # for a module it does not find at the freeze
    "pf-first-run-test.pth": (
        "import os; os.environ.get('PF_PTH_SHIM', 'on') == 'on' and __import__('pf_pth_shim').install()\n"
        "import os, sys; exec(\"try:\\n import pf_pth_later\\nexcept ImportError:\\n pass\")\n"),
    # reads a variable at import and puts a finder on the meta path
    "pf_pth_shim.py": ("import os, sys\nCOLOUR = os.environ.get('PF_PTH_COLOUR', 'plain')\n"
                       "class Finder:\n    def find_spec(self, *args):\n        return None\n"
                       "def install():\n    sys.meta_path.insert(0, Finder())\n"),
}
SHOW = ("import sys; shim = sys.modules.get('pf_pth_shim'); "
        "print([type(f).__name__ for f in sys.meta_path], shim and shim.COLOUR, "
        "'pf_pth_later' in sys.modules)")


def in_namespace(directory, argv):
    """ARGV run where DIRECTORY is the site directory."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh", str(directory), SITE_DIRECTORY,
            *map(str, argv)]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(image, the site directory it was frozen with)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or not os.path.isdir(SITE_DIRECTORY):
        pytest.skip(f"needs root, unshare and {SITE_DIRECTORY}")
    root = tmp_path_factory.mktemp("first-run")
    directory = root / "dist-packages"
    shutil.copytree(SITE_DIRECTORY, directory)
    for name, text in FILES.items():
        (directory / name).write_text(text)
    if subprocess.run(in_namespace(directory, ["true"])).returncode != 0:
        pytest.skip("cannot bind-mount in a mount namespace here")
    image = root / "pthpython"
    made = run(in_namespace(directory, [PYFREEZE, "-o", image]), timeout=300)
    assert made.returncode == 0, made.stderr.decode()
    return image, directory


def outcome(site, python, args, env, cwd):
    image, directory = site
    result = run(in_namespace(directory, [python, *args]), env=env, cwd=cwd)
    return (result.returncode, normalise(result.stdout, image, STOCK),
            normalise(result.stderr, image, STOCK))


def same_as_stock(site, tmp_path, args=("-c", SHOW), **env):
    """(the image's outcome, python3's), and whether the image ran warm."""
    env = clean_env(**env)
    result = outcome(site, site[0], list(args), env, tmp_path)
    assert result == outcome(site, STOCK, list(args), env, tmp_path)
    assert result[0] == 0, result
    debug = run(in_namespace(site[1], [site[0], *args]), env=dict(env, PYFREEZE_DEBUG="1"), cwd=tmp_path)
    return result, b"pyfreeze: cold start" not in debug.stderr


def test_a_run_like_the_freeze_is_warm(site, tmp_path):
    result, warm = same_as_stock(site, tmp_path)
    # the line's finder once (the machine's own .pth files may add others)
    assert result[1].count("'Finder'") == 1 and result[1].endswith(" plain False\n"), result
    assert warm


def test_a_pth_line_that_would_not_import_its_module_starts_cold(site, tmp_path):
    result, warm = same_as_stock(site, tmp_path, PF_PTH_SHIM="off")
    assert "'Finder'" not in result[1] and result[1].endswith(" None False\n"), result
    assert not warm


def test_a_module_a_pth_line_imports_reading_another_value_starts_cold(site, tmp_path):
    result, warm = same_as_stock(site, tmp_path, PF_PTH_COLOUR="red")
    assert " red False" in result[1], result
    assert not warm


def test_another_home_runs_site_again_warm(site, tmp_path):
    # HOME is site's input (the user's site directory), not the .pth lines':
    # site runs again, and the line's finder is there once, as in python3
    result, warm = same_as_stock(site, tmp_path, HOME=str(tmp_path))
    assert result[1].count("'Finder'") == 1 and result[1].endswith(" plain False\n"), result
    assert warm


def test_a_module_a_pth_line_did_not_find_is_there_now(site, tmp_path):
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "pf_pth_later.py").write_text("print('later imported')\n")
    result, warm = same_as_stock(site, tmp_path, PYTHONPATH=str(tmp_path / "later"))
    assert result[1].startswith("later imported\n") and result[1].endswith(" True\n"), result
    assert not warm
