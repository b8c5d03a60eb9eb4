"""An image's directory is an input like any other when a frozen module
listed it.  An --entry image's directory is its sys.path[0], so an import
that lists sys.path (importlib.metadata, as bandit and many packages do)
records that directory's listing; an interpreter image run as ./IMAGE with a
script beside it lists it the same way.  At the freeze the image is not
written yet, so its own name is missing from that listing: counting it in
would be wrong (a module that counted the entries would be handed out with
one entry fewer than python3 sees), so such a module runs from source, or
the image starts cold when it also changed shared state, and says why.
Freezing again over the existing image makes the listing the run's.
Found by the real-programs probe (bandit)."""

from conftest import PYFREEZE, clean_env, freeze, run

MODULE = '''\
import importlib.metadata
import warnings
VERSION = importlib.metadata.version("pip")
def _format(message, category, filename, lineno, line=None):
    return f"{category.__name__}: {message}\\n"
warnings.formatwarning = _format          # shared state changed at import, as bandit does
def main():
    print("pip", VERSION)
    return 0
'''


def debug_run(image, cwd, *args):
    return run([image, *args], env=clean_env(PYFREEZE_DEBUG="1"), cwd=cwd)


def pyfreeze_lines(result):
    return [line for line in result.stderr.decode().splitlines() if line.startswith("pyfreeze:")]


def test_an_entry_image_whose_module_listed_its_directory(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "vmod.py").write_text(MODULE)     # beside the image, its sys.path[0]
    image = tmp_path / "bin" / "vtool"
    freeze(image, "--entry", "vmod:main", cwd=tmp_path)
    stock = run(["/usr/bin/python3.11", "-c",
                 "import sys; sys.path[0] = sys.argv[1]; import vmod; sys.exit(vmod.main())", tmp_path / "bin"])
    first = debug_run(image, tmp_path)
    assert (first.returncode, first.stdout) == (0, stock.stdout)
    assert f"read directory {tmp_path / 'bin'}, which differs from the freeze" in first.stderr.decode()
    # Frozen over the existing image, the freeze lists what the runs list.
    freeze(image, "--entry", "vmod:main", cwd=tmp_path)
    again = debug_run(image, tmp_path)
    assert (again.returncode, again.stdout) == (0, stock.stdout)
    assert "pyfreeze: warm start" in pyfreeze_lines(again)
    assert not [line for line in pyfreeze_lines(again) if "from source" in line or "cold start" in line]


def test_a_module_that_counted_the_image_directory_sees_the_image(tmp_path):
    """The image's own name is not assumed into the freeze's listing."""
    (tmp_path / "lister.py").write_text("import os\nN = len(os.listdir('.'))\n")
    freeze(tmp_path / "img", "lister", cwd=tmp_path)
    code = "import lister; print(lister.N)"
    stock = run(["/usr/bin/python3.11", "-c", code], cwd=tmp_path)
    image = debug_run(tmp_path / "img", tmp_path, "-c", code)
    assert image.stdout == stock.stdout


def test_check_agrees_with_the_run(tmp_path):
    """`pyfreeze info --check` makes every check a warm start makes, those
    of the modules whose inputs decide at start-up included: it answers 7,
    with the run's reason, when the run starts cold, and 0 once it would not."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "vmod.py").write_text(MODULE)
    image = tmp_path / "bin" / "vtool"
    freeze(image, "--entry", "vmod:main", cwd=tmp_path)
    cold = "pyfreeze: warm start" not in pyfreeze_lines(debug_run(image, tmp_path))
    check = run([PYFREEZE, "info", "--check", image], cwd=tmp_path)
    assert cold and check.returncode == 7, check.stderr.decode()
    assert f"read directory {tmp_path / 'bin'}" in check.stderr.decode()
    freeze(image, "--entry", "vmod:main", cwd=tmp_path)
    assert "pyfreeze: warm start" in pyfreeze_lines(debug_run(image, tmp_path))
    assert run([PYFREEZE, "info", "--check", image], cwd=tmp_path).returncode == 0
