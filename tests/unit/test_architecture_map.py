"""ARCHITECTURE.md is the map newcomers follow through a freeze and a run:
it must name every source file, and every file it names must exist, so the
map cannot silently fall behind the tree."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
MAP = ROOT / "ARCHITECTURE.md"


def named_paths():
    """Paths the map names, with `dir/name.{h,c}` expanded."""
    names = set()
    for match in re.finditer(r"`?((?:src|python|tests)/[\w./{},-]+)", MAP.read_text()):
        text = match.group(1).rstrip(".,")
        brace = re.fullmatch(r"(.*)\{([^}]*)\}(.*)", text)
        if brace:
            names.update(brace.group(1) + part + brace.group(3) for part in brace.group(2).split(","))
        else:
            names.add(text)
    return names


def test_every_named_path_exists():
    missing = sorted(name for name in named_paths() if not (ROOT / name).exists())
    assert not missing, f"ARCHITECTURE.md names files that do not exist: {missing}"


def test_every_source_file_is_on_the_map():
    sources = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "src").rglob("*.c"))]
    sources += [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "python").glob("*.py"))]
    named = named_paths()
    absent = [source for source in sources if source not in named]
    assert not absent, f"ARCHITECTURE.md does not say where these fit: {absent}"
