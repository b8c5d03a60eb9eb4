"""Shared fixtures: the built binaries, images built once per session, and
helpers that run an image and stock python3.11 the same way."""

import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PYFREEZE_BUILD", ROOT / "build")).resolve()
PYFREEZE = BUILD / "pyfreeze"
RUNTIME = BUILD / "pyfreeze-runtime"
STOCK = "/usr/bin/python3.11"

def clean_env(**extra):
    """The environment of every run: nothing from the developer's shell."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def run(argv, env=None, input=None, timeout=60, cwd=None, **kwargs):
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([str(a) for a in argv], env=env if env is not None else clean_env(),
                          input=input, timeout=timeout, cwd=cwd, **kwargs)


def freeze(output, *words, check=True, env=None, cwd=None):
    result = run([PYFREEZE, "-o", output, *words], env=env, cwd=cwd, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr.decode()
    return result


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("images")


@pytest.fixture(scope="session")
def minimal_image(image_dir):
    path = image_dir / "minimal"
    freeze(path)
    return path


@pytest.fixture(scope="session")
def cgi_image(image_dir):
    path = image_dir / "cgipython"
    freeze(path, "cgi", "-_ssl", "-_bz2", "-_lzma")
    return path


@pytest.fixture(scope="session")
def unblocked_cgi_image(image_dir):
    """cgi with its native extensions and nothing blocked."""
    path = image_dir / "cgi-unblocked"
    freeze(path, "cgi")
    return path


@pytest.fixture(scope="session")
def busy_image(image_dir):
    """Modules whose import-time state the restore must fix up."""
    path = image_dir / "busy"
    freeze(path, "argparse", "logging", "subprocess", "threading", "random", "tempfile",
           "warnings", "signal", "locale", "multiprocessing", "email.parser")
    return path


def normalise(data, *paths):
    """Output with the interpreter's path and object addresses (which
    differ between any two processes) taken out."""
    text = data.decode("utf-8", "replace")
    for path in paths:
        text = text.replace(str(path), "PYTHON")
    return re.sub(r"0x[0-9a-f]{6,16}", "0xADDRESS", text)


def outcome(argv0, args, **kwargs):
    result = run([argv0, *args], **kwargs)
    return (result.returncode, normalise(result.stdout or b"", argv0, STOCK),
            normalise(result.stderr or b"", argv0, STOCK))


def assert_same_as_stock(image, args, **kwargs):
    """The image and stock python3.11 give the same status, stdout, stderr."""
    stock = outcome(STOCK, args, **kwargs)
    frozen = outcome(image, args, **kwargs)
    assert frozen == stock
    return frozen


def runs_warm(image, args, **kwargs):
    """Whether the image ran `args` from its frozen heap (no cold start)."""
    env = dict(kwargs.pop("env", None) or clean_env(), PYFREEZE_DEBUG="1")
    result = run([image, *args], env=env, **kwargs)
    return b"pyfreeze: cold start" not in result.stderr


def terminal_session(python, args, keystrokes, timeout=20):
    """Runs `python args` on a pseudo-terminal, types `keystrokes`, and
    returns (exit status, everything the terminal showed)."""
    import pty
    import select
    import time
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(python), [str(python), *args], clean_env(TERM="dumb"))
    os.write(fd, keystrokes)
    shown = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown
