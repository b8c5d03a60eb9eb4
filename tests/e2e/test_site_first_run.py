"""The .pth files of the system's site directories and sitecustomize, which
python3's site runs at every start (man page, THE IMAGE): an image whose
run of them would read what they read at the freeze runs as they left it;
one whose .pth lines would do otherwise (an environment variable they test,
a module they import reading another value, a module they did not find
being there now) starts cold.  Either way the run is python3's.

The freeze only sees the system's site directories (it ignores the user's
and PYTHON* variables), so these tests put a .pth file and its modules
into one, /usr/local/lib/python3.11/dist-packages, for the module's
duration: as root, and inert unless PF_PTH_TEST is set."""

import os
import shutil

import pytest

from conftest import STOCK, clean_env, freeze, outcome, runs_warm

SITE_DIRECTORY = "/usr/local/lib/python3.11/dist-packages"
PTH = "pf-first-run-test.pth"
FILES = {
    # imports its module only when PF_PTH_SHIM says so, as setuptools'
    # distutils-precedence.pth reads SETUPTOOLS_USE_DISTUTILS; and looks
    # for a module it does not find at the freeze
    PTH: ("import os; os.environ.get('PF_PTH_TEST') and os.environ.get('PF_PTH_SHIM', 'on') == 'on' "
          "and __import__('pf_pth_shim').install()\n"
          "import os, sys; exec(\"if os.environ.get('PF_PTH_TEST'):\\n try:\\n  import pf_pth_later\\n"
          " except ImportError:\\n  pass\")\n"),
    # reads a variable at import and puts a finder on the meta path
    "pf_pth_shim.py": ("import os, sys\nCOLOUR = os.environ.get('PF_PTH_COLOUR', 'plain')\n"
                       "class Finder:\n    def find_spec(self, *args):\n        return None\n"
                       "def install():\n    sys.meta_path.insert(0, Finder())\n"),
}
SHOW = ("import sys; shim = sys.modules.get('pf_pth_shim'); "
        "print([type(f).__name__ for f in sys.meta_path], shim and shim.COLOUR, "
        "'pf_pth_later' in sys.modules)")


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root: writes into a system site directory")
    made = not os.path.isdir(SITE_DIRECTORY)
    os.makedirs(SITE_DIRECTORY, exist_ok=True)
    written = []
    try:
        for name, text in FILES.items():
            path = os.path.join(SITE_DIRECTORY, name)
            assert not os.path.exists(path), f"{path} exists already"
            with open(path, "w") as file:
                file.write(text)
            written.append(path)
        image = tmp_path_factory.mktemp("first-run") / "pthpython"
        freeze(image, env=clean_env(PF_PTH_TEST="1"))
        yield image
    finally:
        for path in written:
            os.unlink(path)
        shutil.rmtree(os.path.join(SITE_DIRECTORY, "__pycache__"), ignore_errors=True)
        if made:
            shutil.rmtree(SITE_DIRECTORY, ignore_errors=True)


def same_as_stock(image, tmp_path, args=("-c", SHOW), **env):
    env = clean_env(PF_PTH_TEST="1", **env)
    result = outcome(image, list(args), env=env, cwd=tmp_path)
    assert result == outcome(STOCK, list(args), env=env, cwd=tmp_path)
    assert result[0] == 0, result
    return result, runs_warm(image, list(args), env=env, cwd=tmp_path)


def test_a_run_like_the_freeze_is_warm(image, tmp_path):
    result, warm = same_as_stock(image, tmp_path)
    # the line's finder once (the machine's own .pth files may add others)
    assert result[1].count("'Finder'") == 1 and result[1].endswith(" plain False\n"), result
    assert warm


def test_a_pth_line_that_would_not_import_its_module_starts_cold(image, tmp_path):
    result, warm = same_as_stock(image, tmp_path, PF_PTH_SHIM="off")
    assert "'Finder'" not in result[1] and result[1].endswith(" None False\n"), result
    assert not warm


def test_a_module_a_pth_line_imports_reading_another_value_starts_cold(image, tmp_path):
    result, warm = same_as_stock(image, tmp_path, PF_PTH_COLOUR="red")
    assert " red False" in result[1], result
    assert not warm


def test_another_home_runs_site_again_warm(image, tmp_path):
    # HOME is site's input (the user's site directory), not the .pth lines':
    # site runs again, and the line's finder is there once, as in python3
    result, warm = same_as_stock(image, tmp_path, HOME=str(tmp_path))
    assert result[1].count("'Finder'") == 1 and result[1].endswith(" plain False\n"), result
    assert warm


def test_a_module_a_pth_line_did_not_find_is_there_now(image, tmp_path):
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "pf_pth_later.py").write_text("print('later imported')\n")
    result, warm = same_as_stock(image, tmp_path, PYTHONPATH=str(tmp_path / "later"))
    assert result[1].startswith("later imported\n") and result[1].endswith(" True\n"), result
    assert not warm
