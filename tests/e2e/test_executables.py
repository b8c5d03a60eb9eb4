"""How the two programs are linked: the runtime at fixed addresses (the
frozen heap and data of an image are laid out for them), pyfreeze as a
position-independent executable like the rest of the system."""

import struct

from conftest import PYFREEZE, RUNTIME

ET_EXEC, ET_DYN = 2, 3


def elf_type(path):
    with open(path, "rb") as file:
        header = file.read(18)
    assert header[:4] == b"\x7fELF", path
    return struct.unpack_from("<H", header, 16)[0]


def test_the_runtime_is_not_position_independent():
    assert elf_type(RUNTIME) == ET_EXEC


def test_pyfreeze_is_position_independent():
    assert elf_type(PYFREEZE) == ET_DYN
