"""The deploy pipeline of the README and the man page, run as written:
images of black, meson and pygmentize built and installed in place of the
tools, then checked and rebuilt after a (simulated) upgrade."""

import os
import re
import subprocess

import pytest

from conftest import BUILD, ROOT, run

TOOLS = ("black", "meson", "pygmentize")


def readme_block():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Deploy pipeline"):]
    return section[section.index("```sh\n") + 6:section.index("\n```", section.index("```sh\n"))] + "\n"


def man_block():
    text = (ROOT / "man" / "pyfreeze.1").read_text()
    section = text[text.index('.SS "Deploy pipeline"'):]
    block = section[section.index(".EX\n") + 4:section.index(".EE\n")]
    return block.replace("\\-", "-").replace("\\(aq", "'").replace("\\e", "\\")


def parts(block):
    """The definitions, the build and install, and the after-upgrade parts."""
    build = block.index("# Build and install:")
    upgrade = block.index("# After an upgrade")
    return block[:build], block[build:upgrade], block[upgrade:]


def test_man_page_has_the_readme_commands():
    assert man_block() == readme_block()


@pytest.mark.skipif(not all(os.path.exists(f"/usr/bin/{tool}") for tool in TOOLS),
                    reason="black, meson and pygmentize are needed")
def test_deploy_pipeline_as_written(tmp_path):
    definitions, build, upgrade = parts(readme_block())
    dest = tmp_path / "bin"
    dest.mkdir()
    env = {"PATH": f"{dest}:{BUILD}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "DEST": str(dest)}

    def sh(script):
        return subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True,
                              timeout=600)

    result = sh(definitions + build)
    assert result.returncode == 0, result.stderr.decode()
    for tool in TOOLS:
        # Installed in place of the tool: found first in PATH, and the same.
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], env=env, capture_output=True)
        assert found.stdout.decode().strip() == str(dest / tool)
        args = ["--version"] if tool != "pygmentize" else ["-V"]
        frozen = run([tool, *args], env=env)
        stock = run([f"/usr/bin/{tool}", *args], env=env)
        assert (frozen.returncode, frozen.stdout, frozen.stderr) == \
            (stock.returncode, stock.stdout, stock.stderr)
        assert run(["pyfreeze", "info", "--check", dest / tool], env=env).returncode == 0
    code = run(["black", "-q", "-c", "x  =  ( 1, )"], env=env)
    assert code.stdout == run(["/usr/bin/black", "-q", "-c", "x  =  ( 1, )"], env=env).stdout

    # An upgrade of pyfreeze: meson's image now comes from another runtime
    # build (its build-id differs); the others are current.
    image = dest / "meson"
    data = bytearray(image.read_bytes())
    note = data.find(b"\x04\0\0\0\x14\0\0\0\x03\0\0\0GNU\0", 0, 4096)
    data[note + 16] ^= 0xFF
    image.write_bytes(bytes(data))
    assert run(["pyfreeze", "info", "--check", image], env=env).returncode == 8
    before = {tool: (dest / tool).stat().st_ino for tool in TOOLS}
    result = sh(definitions + upgrade)
    assert result.returncode == 0, result.stderr.decode()
    assert re.search(rf"pyfreeze: {re.escape(str(image))} was made by another runtime build",
                     result.stderr.decode())
    after = {tool: (dest / tool).stat().st_ino for tool in TOOLS}
    assert after["meson"] != before["meson"]                    # rebuilt
    assert after["black"] == before["black"] and after["pygmentize"] == before["pygmentize"]
    assert run(["pyfreeze", "info", "--check", image], env=env).returncode == 0
