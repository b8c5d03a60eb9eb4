"""Images that are the program: --script FILE, --module MODULE and --entry
MODULE:FUNCTION take the program's arguments and behave, byte for byte,
as python3.11 FILE, python3.11 -m MODULE and the console script do."""

import os
import re
import shutil
import signal
import textwrap

import pytest

from conftest import PYFREEZE, STOCK, clean_env, freeze, run, terminal_session

PROGRAM = textwrap.dedent("""\
    import argparse
    import os
    import sys

    parser = argparse.ArgumentParser(description="a program")
    parser.add_argument("--status", type=int, default=0)
    parser.add_argument("--kill", action="store_true")
    parser.add_argument("words", nargs="*")
    args = parser.parse_args()
    print(parser.prog, sys.argv, sys.executable, sys.orig_argv, sys.path[0] == os.path.dirname(__file__))
    print("tty", sys.stdin.isatty(), sys.stdout.isatty())
    print("warnings", sys.warnoptions, "flags", sys.flags.dont_write_bytecode)
    print(" ".join(args.words), file=sys.stderr)
    if args.kill:
        os.kill(os.getpid(), 15)
    sys.exit(args.status)
    """)

SPAWNER = textwrap.dedent("""\
    import multiprocessing
    import subprocess
    import sys

    def square(x):
        return x * x

    if __name__ == "__main__":
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            print(pool.map(square, range(6)))
        child = subprocess.run([sys.executable, "-c", "import sys; print(sys.argv[1:])", *sys.argv[1:]],
                               capture_output=True, text=True)
        print(child.returncode, child.stdout, end="")
        print(sys.argv[1:])
    """)


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("program")
    (directory / "prog.py").write_text(PROGRAM)
    (directory / "spawner.py").write_text(SPAWNER)
    return directory


@pytest.fixture(scope="module")
def script_image(program_dir):
    path = program_dir / "prog-image"
    freeze(path, "--script", program_dir / "prog.py", "argparse")
    return path


def both(image, script_args, image_args=None, **kwargs):
    stock = run([STOCK, *script_args], **kwargs)
    frozen = run([image, *(image_args if image_args is not None else script_args[1:])], **kwargs)
    return ((frozen.returncode, frozen.stdout, frozen.stderr),
            (stock.returncode, stock.stdout, stock.stderr))


def debug_lines(tmp_path, image, args, env=None, **kwargs):
    log = tmp_path / "debug.log"
    if log.exists():
        log.unlink()
    result = run([image, *args], env=dict(env or clean_env(), PYFREEZE_DEBUG=str(log)), **kwargs)
    return result, log.read_text() if log.exists() else ""


@pytest.mark.parametrize("args", [
    [], ["a", "b"], ["--status", "3", "x"], ["--help"], ["--bogus"], ["-c", "print(1)"],
    ["-m", "json"], ["--", "-E"],
])
def test_script_form_is_python3_file(script_image, program_dir, args):
    frozen, stock = both(script_image, [program_dir / "prog.py", *args])
    assert frozen == stock


def test_script_form_runs_warm(script_image, program_dir, tmp_path):
    result, log = debug_lines(tmp_path, script_image, ["word"])
    assert result.returncode == 0
    assert "pyfreeze: warm start" in log and "cold start" not in log


def test_script_form_forced_cold_is_the_same(script_image, program_dir, tmp_path):
    frozen, stock = both(script_image, [program_dir / "prog.py", "--status", "4", "q"],
                         env=clean_env(PYFREEZE_COLD="1"))
    assert frozen == stock


def test_script_form_signal_and_python_variables(script_image, program_dir):
    frozen, stock = both(script_image, [program_dir / "prog.py", "--kill"])
    assert frozen == stock and frozen[0] == -signal.SIGTERM
    env = clean_env(PYTHONWARNINGS="ignore::DeprecationWarning", PYTHONDONTWRITEBYTECODE="1")
    frozen, stock = both(script_image, [program_dir / "prog.py", "w"], env=env)
    assert frozen == stock and b"DeprecationWarning" in frozen[1]


def test_script_form_on_a_terminal(script_image, program_dir):
    stock = terminal_session(STOCK, [str(program_dir / "prog.py"), "t"], b"")
    frozen = terminal_session(script_image, ["t"], b"")
    assert frozen == stock and b"tty True True" in frozen[1]


def test_changed_script_starts_cold(program_dir, tmp_path):
    script = tmp_path / "changing.py"
    script.write_text("import sys\nprint('one', sys.argv[1:])\n")
    image = tmp_path / "changing"
    freeze(image, "--script", script)
    result, log = debug_lines(tmp_path, image, ["a"])
    assert result.stdout == b"one ['a']\n" and "warm start" in log
    script.write_text("import sys\nprint('two!', sys.argv[1:])\n")
    result, log = debug_lines(tmp_path, image, ["a"])
    assert result.stdout == b"two! ['a']\n"
    assert f"cold start: {script} changed since the image was made" in log


def test_relative_script_is_made_absolute(program_dir, tmp_path):
    image = tmp_path / "relative"
    freeze(image, "--script", "prog.py", cwd=program_dir)
    result = run([image, "z"], cwd=tmp_path)
    expected = run([STOCK, program_dir / "prog.py", "z"], cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == \
        (expected.returncode, expected.stdout, expected.stderr)


def test_sys_executable_children_run_python3(program_dir, tmp_path):
    """multiprocessing spawn and subprocess of sys.executable get a python3."""
    image = tmp_path / "spawner"
    freeze(image, "--script", program_dir / "spawner.py", "multiprocessing", "subprocess")
    frozen, stock = both(image, [program_dir / "spawner.py", "-c", "x"], timeout=120)
    assert frozen == stock
    assert frozen[1] == b"[0, 1, 4, 9, 16, 25]\n0 ['-c', 'x']\n['-c', 'x']\n"
    result, log = debug_lines(tmp_path, image, ["q"])
    assert "warm start" in log


@pytest.mark.parametrize("args", [["--indent", "2"], ["--sort-keys"], ["--bogus"]])
def test_module_form_is_python3_m(tmp_path, args):
    image = tmp_path / "jsontool"
    freeze(image, "--module", "json.tool")
    data = b'{"b": [1, 2], "a": null}'
    frozen, stock = both(image, ["-m", "json.tool", *args], image_args=args, input=data)
    assert frozen == stock
    result, log = debug_lines(tmp_path, image, args, input=data)
    assert "warm start" in log


@pytest.fixture(scope="module")
def black_dir(tmp_path_factory):
    if not os.path.exists("/usr/bin/black"):
        pytest.skip("black is not installed")
    directory = tmp_path_factory.mktemp("black")
    # Named as the console script is, so that names derived from
    # sys.argv[0] are the same.
    freeze(directory / "black", "--entry", "black:patched_main")
    (directory / "tree").mkdir()
    (directory / "tree" / "good.py").write_text("x = 1\n")
    (directory / "tree" / "bad.py").write_text("x = ( 1, )\nif   x :\n  pass\n")
    return directory


@pytest.mark.parametrize("args", [
    ["--version"], ["--check", "tree"], ["--diff", "tree/bad.py"], ["--check", "tree/good.py"],
    ["--help"], ["--no-such-option"], ["-c", "x  =  1"], ["-", "--check"],
])
def test_entry_form_is_the_console_script(black_dir, args):
    env = clean_env()
    frozen = run([black_dir / "black", *args], env=env, cwd=black_dir, input=b"y = 2\n")
    stock = run(["/usr/bin/black", *args], env=env, cwd=black_dir, input=b"y = 2\n")
    def clean(data):   # --diff shows the time of the run
        return re.sub(rb"\t\d{4}-\d\d-\d\d [\d:.]+ \+0000", b"\tTIME", data)
    assert (frozen.returncode, clean(frozen.stdout), frozen.stderr) == \
        (stock.returncode, clean(stock.stdout), stock.stderr)


def test_entry_form_argv_and_warm_start(black_dir, tmp_path):
    result, log = debug_lines(tmp_path, black_dir / "black", ["--version"])
    assert result.returncode == 0 and "warm start" in log
    # sys.argv[0] is the path the image was run by, as a console script's
    # is its own path; a copy elsewhere runs as that name.
    other = tmp_path / "blacker"
    shutil.copy(black_dir / "black", other)
    result = run([other, "--version"])
    assert result.stdout.startswith(b"blacker, ")
    cold = run([other, "--version"], env=clean_env(PYFREEZE_COLD="1"))
    assert cold.stdout == result.stdout


def test_entry_form_of_a_program_module(tmp_path):
    (tmp_path / "tool.py").write_text(textwrap.dedent("""\
        import sys
        def main():
            print("main", sys.argv, sys.orig_argv[1:], sys.path[0], sys.executable)
            return len(sys.argv)
        """))
    image = tmp_path / "bin" / "tool"
    image.parent.mkdir()
    freeze(image, "--entry", "tool:main", "--path", tmp_path, cwd=tmp_path)
    result = run([image, "x", "-y"], cwd=tmp_path, env=clean_env(PYTHONPATH=str(tmp_path)))
    path = str(image)
    assert result.returncode == 3, result.stderr
    assert result.stdout.decode() == \
        f"main {[path, 'x', '-y']} {[path, 'x', '-y']} {image.parent} {STOCK}\n"


@pytest.mark.parametrize("words, status, message", [
    (["--script", "a.py", "--module", "b"], 2, "--script, --module and --entry exclude each other"),
    (["--script", "a.py", "--for-script", "a.py"], 2, "--for-script does not go with"),
    (["--entry", "black"], 2, "--entry needs MODULE:FUNCTION, not 'black'"),
    (["--entry", "black:"], 2, "--entry needs MODULE:FUNCTION"),
    (["--module", "not/a/module"], 2, "--module needs a module name, not 'not/a/module'"),
    (["--script", ""], 2, "--script needs a file name"),
    (["--script", "/nonexistent/x.py"], 3, "cannot read script /nonexistent/x.py: No such file or directory"),
    (["--entry", "json:no_such_function"], 3, "--entry json:no_such_function: 'json' has no attribute"),
    (["--module", "no_such_module_here"], 3, "no module named 'no_such_module_here'"),
])
def test_entry_form_errors(tmp_path, words, status, message):
    result = run([PYFREEZE, "-o", tmp_path / "out", *words])
    assert result.returncode == status, result.stderr
    assert message in result.stderr.decode().splitlines()[-1 if status != 2 else 0]
    assert not (tmp_path / "out").exists()
