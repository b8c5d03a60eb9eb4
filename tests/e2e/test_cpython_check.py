"""The freeze-time check of the CPython boundary (pf_py_check_boundary in
src/runtime/cpython311.c): a runtime whose linked CPython is not the 3.11
its boundary was written for fails the freeze with exit status 9."""

import os
import re

from conftest import PYFREEZE, RUNTIME, run


def runtime_python_version():
    # Run on its own, the runtime is a plain python3.11.
    result = run([RUNTIME, "-c", "import platform; print(platform.python_version())"])
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().strip()


def test_a_runtime_reporting_another_cpython_is_refused(tmp_path):
    # The same runtime, with the version string its libpython reports
    # (Py_GetVersion() formats PY_VERSION, one NUL-terminated string in
    # the file) made another CPython's: a libpython of another version
    # behind the 3.11 headers the runtime was compiled with.
    version = runtime_python_version()
    assert version.startswith("3.11.")
    other = "3.99." + version[len("3.11."):]
    data = RUNTIME.read_bytes()
    places = [m.start() for m in re.finditer(re.escape(b"\0" + version.encode() + b"\0"), data)]
    assert len(places) == 1, f"{version} appears {len(places)} times as a string in the runtime"
    patched = tmp_path / "pyfreeze-runtime"
    patched.write_bytes(data[:places[0] + 1] + other.encode() + data[places[0] + 1 + len(version):])
    os.chmod(patched, 0o755)
    out = tmp_path / "out" / "img"
    out.parent.mkdir()

    result = run([PYFREEZE, "--runtime", patched, "-o", out], timeout=300)
    assert result.returncode == 9, result.stderr.decode()
    assert result.stderr.decode() == (
        f"pyfreeze: cannot freeze: the runtime's CPython is {other}, and pyfreeze's boundary with its "
        "internals (src/runtime/cpython311.c) is written for 3.11\n")
    assert os.listdir(out.parent) == []

