"""The memoized path configuration (man page, THE IMAGE): an image run by
the path it was written to, with everything getpath.py reads unchanged,
takes the configuration the freeze computed; any change to what it reads
and it computes it again, as python3 does.  Either way the run sees the
same sys.prefix, sys.executable and sys.path that getpath.py gives: a cold
start of the same command (PYFREEZE_COLD=1) is python3's computation.  An
image run as ./NAME from its directory, or as NAME found on PATH, is the
same executable to getpath.py, and takes the memo too."""

import os
import shutil

import pytest

from conftest import clean_env, freeze, run

SHOW = ("import sys; print(sys.executable, sys.prefix, sys.exec_prefix, sys.base_prefix, "
        "sys.platlibdir, sys._stdlib_dir, sys.path[1:], sys.flags.isolated, sys.flags.no_site)")


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    directory = tmp_path_factory.mktemp("memo")
    path = directory / "memopython"
    freeze(path)
    return path


def run_reporting(argv, tmp_path, cwd, **env):
    """The run's output, and whether it took the memo (PYFREEZE_PHASES)."""
    phases = tmp_path / "phases"
    if phases.exists():
        phases.unlink()
    result = run(argv, env=clean_env(PYFREEZE_PHASES=str(phases), **env), cwd=cwd)
    lines = phases.read_text().splitlines() if phases.exists() else []
    return result, "+path-memo 1 0" in lines


def both_ways(image, tmp_path, *options, **env):
    """The image by its path (the memo's argv[0]) and as ./NAME from its
    directory, each the same as a cold start of the same command; both
    take the memo or neither does."""
    by_path, memo = run_reporting([image, *options, "-c", SHOW], tmp_path, tmp_path, **env)
    cold, _ = run_reporting([image, *options, "-c", SHOW], tmp_path, tmp_path, PYFREEZE_COLD="1", **env)
    relative, relative_memo = run_reporting(["./" + image.name, *options, "-c", SHOW], tmp_path,
                                            image.parent, **env)
    relative_cold, _ = run_reporting(["./" + image.name, *options, "-c", SHOW], tmp_path,
                                     image.parent, PYFREEZE_COLD="1", **env)
    assert relative_memo == memo
    assert by_path.returncode == relative.returncode == 0, by_path.stderr.decode()
    assert (by_path.stdout, by_path.stderr) == (cold.stdout, cold.stderr)
    assert (relative.stdout, relative.stderr) == (relative_cold.stdout, relative_cold.stderr)
    return by_path, memo


def test_the_images_own_path_takes_the_memo(image, tmp_path):
    result, memo = both_ways(image, tmp_path)
    assert memo
    assert result.stdout.split()[0] == str(image).encode()


@pytest.mark.parametrize("options, env, memo", [
    ([], {"PYTHONPATH": "/opt/elsewhere"}, False),
    (["-I"], {}, False),
    (["-E"], {"PYTHONPATH": "/opt/elsewhere"}, False),
    ([], {"PYTHONPLATLIBDIR": "lib"}, False),
    ([], {"PYTHONHOME": "/usr"}, False),
    # what getpath.py does not read: the memo holds
    (["-S"], {}, True),
    (["-u", "-B"], {"PYTHONDONTWRITEBYTECODE": "1"}, True),
])
def test_what_getpath_reads_decides(image, tmp_path, options, env, memo):
    result, took = both_ways(image, tmp_path, *options, **env)
    assert took == memo
    if "PYTHONPATH" in env and not options:
        assert b"/opt/elsewhere" in result.stdout


def test_a_file_getpath_finds_computes_it(image, tmp_path):
    """A ._pth file beside the image replaces sys.path and implies -I, as
    for python3: the memo, made without one, must not hold."""
    pth = image.parent / (image.name + "._pth")
    pth.write_text("/usr/lib/python3.11\n/usr/lib/python3.11/lib-dynload\n")
    try:
        by_path, memo = run_reporting([image, "-c", SHOW], tmp_path, tmp_path)
        relative, _ = run_reporting(["./" + image.name, "-c", SHOW], tmp_path, image.parent)
    finally:
        pth.unlink()
    assert not memo
    assert (by_path.returncode, by_path.stdout, by_path.stderr) == \
        (relative.returncode, relative.stdout, relative.stderr)
    # sys.path is the file's, isolated and without site (a cold start)
    assert by_path.stdout.endswith(b"['/usr/lib/python3.11/lib-dynload'] 1 1\n"), by_path.stdout


@pytest.mark.parametrize("how", ["link", "copy"])
def test_the_image_by_another_path_computes_it(image, tmp_path, how):
    other = tmp_path / how
    if how == "link":
        os.symlink(image, other)
    else:
        shutil.copy(image, other)
    result, memo = run_reporting([other, "-c", SHOW], tmp_path, tmp_path)
    assert not memo
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.split()[0] == str(other).encode()


def test_the_image_found_on_path_takes_the_memo(image, tmp_path):
    """A bare NAME: getpath.py finds the image on PATH, the same executable."""
    path = f"{tmp_path}:{image.parent}:/usr/bin:/bin"
    result, memo = run_reporting([image.name, "-c", SHOW], tmp_path, tmp_path, PATH=path)
    cold, _ = run_reporting([image.name, "-c", SHOW], tmp_path, tmp_path, PATH=path, PYFREEZE_COLD="1")
    assert memo
    assert result.returncode == 0, result.stderr.decode()
    assert (result.stdout, result.stderr) == (cold.stdout, cold.stderr)
    assert result.stdout.split()[0] == str(image).encode()


def test_a_path_to_the_image_through_another_directory_computes_it(image, tmp_path):
    """../DIR/NAME: abspath() keeps the .., so python3's sys.executable is
    another string than the memo's."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    argv0 = os.path.join("..", os.path.relpath(image, tmp_path))
    result, memo = run_reporting([argv0, "-c", SHOW], tmp_path, elsewhere)
    cold, _ = run_reporting([argv0, "-c", SHOW], tmp_path, elsewhere, PYFREEZE_COLD="1")
    assert not memo
    assert result.returncode == 0, result.stderr.decode()
    assert (result.stdout, result.stderr) == (cold.stdout, cold.stderr)
    assert b"/../" in result.stdout.split()[0]
