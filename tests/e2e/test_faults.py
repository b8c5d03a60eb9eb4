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


def descendants(pid):
    """Live (non-zombie) processes below `pid`, at any depth."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


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
    while len(descendants(proc.pid)) < 2 and time.time() < deadline:   # the keeper and the runtime
        time.sleep(0.05)
    runtime_pids = descendants(proc.pid)
    assert len(runtime_pids) >= 2, "the runtime never started"
    time.sleep(0.3)
    proc.send_signal(signum)
    proc.communicate(timeout=20)
    assert proc.returncode == -signum
    deadline = time.time() + 10
    while any(alive(pid) for pid in runtime_pids) and time.time() < deadline:
        time.sleep(0.05)
    assert [pid for pid in runtime_pids if alive(pid)] == []
    assert sorted(p.name for p in slow_module.iterdir()) == ["__pycache__", "slow_mod.py"]


def test_timeout(slow_module):
    started = time.time()
    result = run([PYFREEZE, "--timeout", "1", "-o", slow_module / "img", "slow_mod"], cwd=slow_module)
    assert time.time() - started < 15
    assert result.returncode == 3
    assert result.stderr.decode() == ("pyfreeze: the runtime did not reach the checkpoint within 1 s "
                                      "(a module hangs while importing?)\n")
    assert not (slow_module / "img").exists()


# The module armed a 100 us timer; at 10 us the old tracer missed
# its deadline in about half the runs here.
ITIMER_MODULE = ("import signal, time\n"
                 "signal.signal(signal.SIGALRM, lambda *args: None)\n"
                 "signal.setitimer(signal.ITIMER_REAL, 0.00001, 0.00001)\n"
                 "while True:\n    time.sleep(1)\n")


@pytest.mark.parametrize("attempt", range(8))
def test_timeout_holds_under_a_signal_storm_in_the_child(tmp_path, attempt):
    # Every 10 us the child stops for SIGALRM and the tracer passes it on:
    # the deadline must still end the freeze, every time.
    (tmp_path / "storm_mod.py").write_text(ITIMER_MODULE)
    started = time.monotonic()
    result = run([PYFREEZE, "--timeout", "1", "-o", tmp_path / "img", "storm_mod"], cwd=tmp_path, timeout=30)
    assert time.monotonic() - started < 10
    assert result.returncode == 3, result.stderr
    assert result.stderr.decode() == ("pyfreeze: the runtime did not reach the checkpoint within 1 s "
                                      "(a module hangs while importing?)\n")
    assert not (tmp_path / "img").exists()


def test_timeout_holds_under_a_signal_storm_at_pyfreeze(slow_module):
    # Signals pyfreeze itself ignores or that change nothing, sent as fast as
    # possible, must neither end the freeze early nor keep it from its deadline.
    proc = subprocess.Popen([str(PYFREEZE), "--timeout", "2", "-o", str(slow_module / "img"), "slow_mod"],
                            cwd=slow_module, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = time.monotonic()
    sent = 0
    while proc.poll() is None and time.monotonic() - started < 20:
        for signum in (signal.SIGCHLD, signal.SIGWINCH, signal.SIGURG, signal.SIGCONT):
            try:
                os.kill(proc.pid, signum)
                sent += 1
            except ProcessLookupError:
                break
    _, stderr = proc.communicate(timeout=20)
    assert 1.5 < time.monotonic() - started < 10, sent
    assert proc.returncode == 3, stderr
    assert stderr.decode().startswith("pyfreeze: the runtime did not reach the checkpoint within 2 s")


def test_signals_a_module_sends_itself_arrive(tmp_path):
    # Thousands of signal-delivery stops, a SIGSTOP and a SIGTSTP: each is
    # passed on (or, for the stops, not allowed to stop the freeze).
    (tmp_path / "self_signals.py").write_text(
        "import os, signal\n"
        "COUNT = 0\n"
        "def count(*args):\n    global COUNT\n    COUNT += 1\n"
        "signal.signal(signal.SIGUSR1, count)\n"
        "for _ in range(3000):\n    os.kill(os.getpid(), signal.SIGUSR1)\n"
        "os.kill(os.getpid(), signal.SIGSTOP)\n"
        "os.kill(os.getpid(), signal.SIGTSTP)\n"
        "signal.signal(signal.SIGUSR1, signal.SIG_DFL)\n")
    image = tmp_path / "img"
    freeze(image, "self_signals", cwd=tmp_path)
    result = run([image, "-c", "import self_signals; print(self_signals.COUNT)"], cwd=tmp_path)
    assert result.stdout == b"3000\n", result.stderr


SPAWNER = """
import os, subprocess, sys, time
pids = [subprocess.Popen(['sleep', '1000']).pid,
        subprocess.Popen(['sleep', '1001'], start_new_session=True).pid]
reader, writer = os.pipe()
if os.fork() == 0:                      # a daemon: double fork, new session
    if os.fork() == 0:
        os.setsid()
        os.write(writer, b'%d\\n' % os.getpid())
        os.execvp('sleep', ['sleep', '1002'])
    os._exit(0)
os.wait()
pids.append(int(os.read(reader, 64)))
os.close(reader); os.close(writer)
with open('pids.txt', 'w') as f:
    f.write(' '.join(map(str, pids + [os.getpid()])))
time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_nothing_the_freeze_started_survives_pyfreeze(tmp_path, signum):
    (tmp_path / "spawner.py").write_text(SPAWNER)
    proc = subprocess.Popen([str(PYFREEZE), "-o", str(tmp_path / "img"), "spawner"], cwd=tmp_path,
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not (tmp_path / "pids.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    started = [int(p) for p in (tmp_path / "pids.txt").read_text().split()]
    assert len(started) == 4 and all(alive(p) for p in started)
    proc.send_signal(signum)
    proc.communicate(timeout=20)
    assert proc.returncode == -signum
    deadline = time.monotonic() + 10
    while any(alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in started if alive(p)] == []
    assert not (tmp_path / "img").exists()


def test_nothing_the_freeze_started_survives_a_timeout(tmp_path):
    (tmp_path / "spawner.py").write_text(SPAWNER)
    result = run([PYFREEZE, "--timeout", "3", "-o", tmp_path / "img", "spawner"], cwd=tmp_path, timeout=60)
    assert result.returncode == 3, result.stderr
    started = [int(p) for p in (tmp_path / "pids.txt").read_text().split()]
    deadline = time.monotonic() + 10
    while any(alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in started if alive(p)] == []


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
     r"cannot freeze: importing 'stateful' left file descriptor 3 \(socket:\[\d+\]\) open, "
     r"and an image cannot carry it"),
])
def test_state_refused_at_checkpoint(tmp_path, code, message):
    import re
    (tmp_path / "stateful.py").write_text(code)
    result = freeze(tmp_path / "img", "stateful", check=False, cwd=tmp_path)
    assert result.returncode == 4
    assert re.fullmatch("pyfreeze: " + message + "\n", result.stderr.decode()), result.stderr
    assert not (tmp_path / "img").exists()
    time.sleep(0.2)
    assert not any("sleep" in open(f"/proc/{p}/comm").read() for p in descendants(os.getpid())
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


@pytest.mark.parametrize("start,end", [(0x20000000, 0x20000000), (0x20001000, 0x20000000)])
def test_runtime_reporting_an_empty_or_inverted_heap(tmp_path, start, end):
    # A runtime whose record says heap_end <= heap_start (here a module
    # forges it and stops as the checkpoint does): the heap's size would
    # underflow; pyfreeze must refuse it, not read or write 2^64 bytes.
    # The offsets are those of struct pf_image_info (src/common/image_info.h):
    # state at 20, heap_start and heap_end at 32 and 40.
    (tmp_path / "forger.py").write_text(
        "import ctypes, os, signal, struct\n"
        "info = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, 'pf_info'))\n"
        f"ctypes.memmove(info + 32, struct.pack('<QQ', {start}, {end}), 16)\n"
        "ctypes.memmove(info + 20, struct.pack('<I', 1), 4)   # PF_STATE_CHECKPOINT\n"
        "os.kill(os.getpid(), signal.SIGSTOP)\n")
    result = freeze(tmp_path / "img", "forger", check=False, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.decode() == (f"pyfreeze: the runtime reported an empty or inverted heap "
                                      f"{start:#x}-{end:#x}\n")
    assert not (tmp_path / "img").exists()
