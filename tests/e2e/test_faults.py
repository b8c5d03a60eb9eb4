"""Faults while freezing: signals, timeouts, crashes, full disks, file size
limits, ptrace denied, and the security properties of images."""

import concurrent.futures
import os
import resource
import shutil
import signal
import subprocess
import time

import pytest

from conftest import PYFREEZE, STOCK, assert_same_as_stock, clean_env, freeze, run


def processes_with_ancestor(pid):
    """Live (non-zombie) processes whose parent chain includes `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


@pytest.fixture
def slow_module(tmp_path):
    (tmp_path / "slow_mod.py").write_text("import time\ntime.sleep(60)\n")
    return tmp_path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_signal_mid_freeze_leaves_nothing(slow_module, signum):
    out = slow_module / "img"
    proc = subprocess.Popen([str(PYFREEZE), "-o", str(out), "slow_mod"], cwd=slow_module,
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while not processes_with_ancestor(proc.pid) and time.time() < deadline:
        time.sleep(0.05)
    runtime_pids = processes_with_ancestor(proc.pid)
    assert runtime_pids, "the runtime never started"
    time.sleep(0.3)
    proc.send_signal(signum)
    proc.communicate(timeout=20)
    assert proc.returncode == -signum
    time.sleep(0.2)
    for pid in runtime_pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    assert sorted(p.name for p in slow_module.iterdir()) == ["__pycache__", "slow_mod.py"]


def test_timeout(slow_module):
    started = time.time()
    result = run([PYFREEZE, "--timeout", "1", "-o", slow_module / "img", "slow_mod"], cwd=slow_module)
    assert time.time() - started < 15
    assert result.returncode == 3
    assert result.stderr.decode() == ("pyfreeze: the runtime did not reach the checkpoint within 1 s "
                                      "(a module hangs while importing?)\n")
    assert not (slow_module / "img").exists()


def test_module_crashing_with_a_signal(tmp_path):
    (tmp_path / "crasher.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    result = freeze(tmp_path / "img", "crasher", check=False, cwd=tmp_path)
    assert result.returncode == 3
    assert "was killed by signal 11 (Segmentation fault) before the checkpoint" in result.stderr.decode()
    assert not (tmp_path / "img").exists()


@pytest.mark.parametrize("code,message", [
    ("import subprocess\nchild = subprocess.Popen(['sleep', '30'])\n",
     r"cannot freeze: child process \d+ \(sleep\) is still running"),
    ("import subprocess, time\nchild = subprocess.Popen(['true'])\ntime.sleep(0.5)\n",
     r"cannot freeze: child process \d+ exited but was not waited for"),
    ("import signal\nsignal.setitimer(signal.ITIMER_REAL, 100)\n",
     r"cannot freeze: interval timer ITIMER_REAL \(signal.setitimer or alarm\) is armed"),
    ("import socket\nlistener = socket.socket()\n",
     r"cannot freeze: file descriptor 3 is open \(socket:\[\d+\]\)"),
])
def test_state_refused_at_checkpoint(tmp_path, code, message):
    import re
    (tmp_path / "stateful.py").write_text(code)
    result = freeze(tmp_path / "img", "stateful", check=False, cwd=tmp_path)
    assert result.returncode == 4
    assert re.fullmatch("pyfreeze: " + message + "\n", result.stderr.decode()), result.stderr
    assert not (tmp_path / "img").exists()
    time.sleep(0.2)
    assert not any("sleep" in open(f"/proc/{p}/comm").read() for p in processes_with_ancestor(os.getpid())
                   if os.path.exists(f"/proc/{p}/comm"))


def test_file_size_limit(tmp_path):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
    result = run([PYFREEZE, "-o", tmp_path / "img"], preexec_fn=limit)
    assert result.returncode == 5
    assert result.stderr.decode() == f"pyfreeze: writing output {tmp_path / 'img'}: File too large\n"
    assert list(tmp_path.iterdir()) == []


def test_full_disk(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)])
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        result = run([PYFREEZE, "-o", small / "img"])
        assert result.returncode == 5
        assert result.stderr.decode() == f"pyfreeze: writing output {small / 'img'}: No space left on device\n"
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_ptrace_denied_when_traced():
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    result = run([strace, "-f", "-o", "/dev/null", PYFREEZE, "-o", "/tmp/pyfreeze-never-written"])
    assert result.returncode == 6
    assert result.stderr.decode().startswith("pyfreeze: cannot trace the runtime (is pyfreeze itself being "
                                              "traced, or ptrace forbidden here?): Operation not permitted")
    assert not os.path.exists("/tmp/pyfreeze-never-written")


def test_builder_environment_is_an_input_not_a_leak(tmp_path):
    # The freeze runs with the builder's environment; a module that read
    # it runs from source when the run's differs, as python3 would run it,
    # and the variables nobody read are not in the image.
    (tmp_path / "env_probe.py").write_text("import os, sys\nSEEN = sorted(os.environ)\nPATH = sys.path\n")
    image = tmp_path / "img"
    env = clean_env(BUILDER_SECRET="s3cret-4d0b", PYTHONPATH="/builder/path")
    freeze(image, "env_probe", env=env, cwd=tmp_path)
    assert b"s3cret-4d0b" not in image.read_bytes()
    code = ("import env_probe, os; print(sorted(env_probe.SEEN)); "
            "print('/builder/path' in env_probe.PATH, 'BUILDER_SECRET' in os.environ)")
    _, out, _ = assert_same_as_stock(image, ["-c", code], cwd=tmp_path)
    assert out.splitlines() == ["['HOME', 'LANG', 'PATH']", "False False"]
    report = tmp_path / "report"
    run([image, "-c", code], cwd=tmp_path, env=clean_env(PYFREEZE_DEBUG=str(report)))
    assert "pyfreeze: module env_probe runs from source: the whole environment differs" in report.read_text()
    # The same environment: handed out from the heap.
    report.unlink()
    same_env = dict(env, PYFREEZE_DEBUG=str(report))
    freeze(image, "env_probe", env=same_env, cwd=tmp_path)
    result = run([image, "-c", code], cwd=tmp_path, env=same_env)
    assert result.stdout == run([STOCK, "-c", code], cwd=tmp_path, env=same_env).stdout
    assert report.read_text() == "pyfreeze: warm start\npyfreeze: fast exit\n"


def test_image_never_group_or_world_writable(tmp_path):
    def open_umask():
        os.umask(0)
    run([PYFREEZE, "-o", tmp_path / "img"], preexec_fn=open_umask).check_returncode()
    assert oct(os.stat(tmp_path / "img").st_mode & 0o777) == oct(0o755)


def test_hundred_concurrent_runs(cgi_image):
    def one(n):
        result = run([cgi_image, "-c", f"import cgi, sys; print(sum(range({n})), 'cgi' in sys.modules)"])
        return result.returncode, result.stdout
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(one, range(100)))
    assert results == [(0, f"{sum(range(n))} True\n".encode()) for n in range(100)]


def test_unwritable_output_directory(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only tmpfs needs root")
    frozen_dir = tmp_path / "ro"
    frozen_dir.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(frozen_dir)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        result = run([PYFREEZE, "-o", frozen_dir / "img"])
        assert result.returncode == 5
        assert result.stderr.decode() == (f"pyfreeze: output {frozen_dir / 'img'}: directory {frozen_dir}: "
                                          "Read-only file system\n")
    finally:
        subprocess.run(["umount", str(frozen_dir)], check=True)


def test_two_images_of_the_same_modules_hash_differently(tmp_path):
    code = ["-c", "print(hash('abc'))"]
    freeze(tmp_path / "one", "json")
    freeze(tmp_path / "two", "json")
    assert run([tmp_path / "one", *code]).stdout != run([tmp_path / "two", *code]).stdout
