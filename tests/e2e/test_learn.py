"""--learn ARG...: a learning run of the program finds the modules to freeze."""

import os
import textwrap

import pytest

from conftest import PYFREEZE, STOCK, clean_env, run


PROGRAM = textwrap.dedent("""\
    import os
    import sys

    def main():
        with open(os.environ["LEARN_MARK"], "a") as mark:
            mark.write(repr(sys.argv[1:]) + "\\n")
        import lazily_used                  # only when the program runs
        os.environ["PROGRAM_STARTED"] = "1"
        try:
            import needs_the_program        # fails unless the program ran first
        except ImportError:
            pass
        print(lazily_used.VALUE, sys.argv[1:])
        if sys.argv[1:] == ["die"]:
            os._exit(3)
        return 0

    if __name__ == "__main__":
        sys.exit(main())
    """)


@pytest.fixture
def program(tmp_path):
    (tmp_path / "prog.py").write_text(PROGRAM)
    (tmp_path / "lazily_used.py").write_text("import json.decoder\nVALUE = 42\n")
    (tmp_path / "needs_the_program.py").write_text(
        "import os\nif 'PROGRAM_STARTED' not in os.environ:\n    raise ImportError('run me from the program')\n")
    return tmp_path


def learn(program, output, *args, words=()):
    env = clean_env(LEARN_MARK=str(program / "mark"))
    return run([PYFREEZE, "-v", "-o", output, *words, "--script", program / "prog.py", "--learn", *args],
               env=env, cwd=program, timeout=300)


def learned(result):
    for line in result.stderr.decode().splitlines():
        if line.startswith("pyfreeze: learned "):
            return line.split(":", 2)[2].split()
    return None


def test_learning_run_runs_the_program_with_its_arguments(program, tmp_path):
    image = tmp_path / "image"
    result = learn(program, image, "-o", "--help", "x y")
    assert result.returncode == 0, result.stderr.decode()
    # It really ran, once, with every word after --learn.
    assert (program / "mark").read_text() == "['-o', '--help', 'x y']\n"
    names = learned(result)
    assert names.index("lazily_used") < names.index("needs_the_program")   # load order
    assert "lazily_used" in names and "json.decoder" in names and "__main__" not in names
    # The program's output went to pyfreeze's standard error.
    assert b"42 ['-o', '--help', 'x y']" in result.stderr and result.stdout == b""
    # needs_the_program imported in the run, but not on its own: left out.
    assert "needs_the_program" in names
    assert "learned module 'needs_the_program' left out: ImportError: run me from the program" in \
        result.stderr.decode()
    env = clean_env(LEARN_MARK=str(tmp_path / "run-mark"), PYFREEZE_DEBUG=str(tmp_path / "debug"))
    frozen = run([image, "a", "b"], env=env, cwd=program)
    stock = run([STOCK, program / "prog.py", "a", "b"], env=clean_env(LEARN_MARK=str(tmp_path / "m2")),
                cwd=program)
    assert (frozen.returncode, frozen.stdout, frozen.stderr) == (stock.returncode, stock.stdout, stock.stderr)
    debug = (tmp_path / "debug").read_text()
    assert "warm start" in debug and "lazily_used runs from source" not in debug


def test_program_that_skips_atexit_teaches_nothing(program, tmp_path):
    result = learn(program, tmp_path / "image", "die")
    assert result.returncode == 3
    assert result.stderr.decode().splitlines()[-1] == (
        "pyfreeze: the learning run reported no modules: the program ended without running its "
        "atexit callbacks (os._exit, exec or a signal)")
    assert not (tmp_path / "image").exists()


def test_learned_native_modules_are_refused_with_their_names(program, tmp_path):
    result = learn(program, tmp_path / "image", words=["--no-native"])
    assert result.returncode == 4
    assert "block with -_json" in result.stderr.decode().splitlines()[-1]


def test_learn_needs_an_entry_form(tmp_path):
    result = run([PYFREEZE, "-o", tmp_path / "x", "json", "--learn", "a"])
    assert result.returncode == 2
    assert result.stderr.decode().startswith(
        "pyfreeze: --learn needs the program: --script, --module or --entry\n")


@pytest.mark.skipif(not os.path.exists("/usr/bin/meson"), reason="meson is not installed")
def test_meson_learned_from_version(tmp_path):
    image = tmp_path / "meson"
    result = run([PYFREEZE, "-o", image, "--script", "/usr/bin/meson", "--learn", "--version"], timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    env = clean_env(PYFREEZE_DEBUG=str(tmp_path / "debug"))
    frozen = run([image, "--version"], env=env)
    stock = run(["/usr/bin/meson", "--version"])
    assert (frozen.returncode, frozen.stdout, frozen.stderr) == (stock.returncode, stock.stdout, stock.stderr)
    assert "warm start" in (tmp_path / "debug").read_text()


PATTERNS_PROGRAM = textwrap.dedent("""\
    import re
    import sys

    NAMED = r"\\d+(?P<tail>[a-z]*)"
    NESTED = "[[x]"                        # compiling it warns: a possible nested set
    WORD = rb"\\w+"

    def main():
        if sys.argv[1:] == ["peek"]:
            print("cached:", (str, NAMED, 0) in re._cache, (str, NESTED, 0) in re._cache,
                  (bytes, WORD, re.ASCII) in re._cache, (str, "\\udc80\\u00e9+", re.I) in re._cache)
        print(re.compile(NAMED).match("12ab").group("tail"), re.compile(NESTED).pattern)
        print(re.compile(WORD, re.ASCII).findall(b"xy z"), re.compile("\\udc80\\u00e9+", re.I).match("\\udc80\\u00c9"))
        re.compile("a|bc", re.DEBUG)

    main()
    """)


def test_learned_patterns_are_compiled_in_the_image(tmp_path):
    """What the learning run compiled is in the image's re cache, compiled;
    what compiling warns about is not, so the program still sees the warning
    as python3 shows it, under the run's own filters."""
    (tmp_path / "prog.py").write_text(PATTERNS_PROGRAM)
    image = tmp_path / "image"
    result = run([PYFREEZE, "-v", "-o", image, "--script", tmp_path / "prog.py", "--learn"], cwd=tmp_path,
                 timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    log = result.stderr.decode()
    assert "learned regular expressions compiled into the image, 1 left to the program (compiling them warns)" \
        in log, log
    peek = run([image, "peek"], cwd=tmp_path)
    assert peek.stdout.decode().splitlines()[0] == "cached: True False True True", peek.stderr
    stock_peek = run([STOCK, tmp_path / "prog.py", "peek"], cwd=tmp_path)
    assert stock_peek.stdout.decode().splitlines()[0] == "cached: False False False False"
    assert peek.stdout.splitlines()[1:] == stock_peek.stdout.splitlines()[1:]
    # (PYTHONWARNINGS, exit status, what standard error holds)
    for warnings, status, shown in (("", 0, b"prog.py:12: FutureWarning: Possible nested set at position 1"),
                                    ("error::FutureWarning", 1, b"FutureWarning: Possible nested set"),
                                    ("ignore", 0, b"")):
        env = clean_env(PYTHONWARNINGS=warnings, PYFREEZE_DEBUG=str(tmp_path / "debug"))
        frozen = run([image], env=env, cwd=tmp_path)
        env.pop("PYFREEZE_DEBUG")
        stock = run([STOCK, tmp_path / "prog.py"], env=env, cwd=tmp_path)
        assert (frozen.returncode, frozen.stdout, frozen.stderr) == (stock.returncode, stock.stdout, stock.stderr)
        assert stock.returncode == status and shown in stock.stderr, stock.stderr
        assert "warm start" in (tmp_path / "debug").read_text()
    # re.DEBUG patterns are never cached: the program compiles and prints them.
    assert b"BRANCH" in frozen.stdout
