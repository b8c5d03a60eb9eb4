"""`__subclasses__()` shows the classes python3 has: those of the modules the
run imported, in the order they came into sight, never those of frozen
modules the run has not imported, nor pyfreeze's own.

A class is linked into its bases' subclass lists when it is made, and the
dump makes the classes of every module it imports: before, a plugin base's
`__subclasses__()` named plugins the program never imported, and
`object.__subclasses__()` named pyfreeze's own classes."""

import shutil

import pytest

from conftest import assert_same_as_stock, freeze, runs_warm

MODULES = {
    "plugbase.py": ("class Plugin:\n    pass\n\n"
                    "def names():\n    return [cls.__name__ for cls in Plugin.__subclasses__()]\n"),
    "plug_a.py": "from plugbase import Plugin\n\nclass A(Plugin):\n    pass\n",
    "plug_b.py": "from plugbase import Plugin\n\nclass B(Plugin):\n    pass\n",
    "plug_errors.py": "class PlugError(ValueError):\n    pass\n",
    # makes a plugin, imports another module that makes one, makes another
    "plug_outer.py": ("from plugbase import Plugin\n\nclass Before(Plugin):\n    pass\n\n"
                      "import plug_a\n\nclass After(Plugin):\n    pass\n"),
}

# Every class reachable from object, depth first, after a collection (the
# garbage classes python3 has not collected yet are not the point).
WALK = ("import gc, sys\n"
        "def walk(cls, seen, out):\n"
        "    for sub in type.__subclasses__(cls):\n"
        "        if sub not in seen:\n"
        "            seen.add(sub); out.append(sub.__module__ + '.' + sub.__qualname__)\n"
        "            walk(sub, seen, out)\n"
        "def listing():\n"
        "    gc.collect(); out = []; walk(object, set(), out); return out\n")


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    directory = tmp_path_factory.mktemp("plugins")
    for name, text in MODULES.items():
        (directory / name).write_text(text)
    image = directory / "img"
    freeze(image, "plug_a", "plug_b", "plug_errors", "plug_outer", "json", "email.parser", cwd=directory)
    return image, directory


def same(program, code):
    image, directory = program
    assert runs_warm(image, ["-c", code], cwd=directory)
    return assert_same_as_stock(image, ["-c", code], cwd=directory)


def test_a_plugin_base_lists_only_the_plugins_imported(program):
    _, out, _ = same(program, "import plugbase; print(plugbase.names())\n"
                              "import plug_b; print(plugbase.names())")
    assert out == "[]\n['B']\n"


@pytest.mark.parametrize("imports, names", [
    ("plug_b, plug_a", "['Mine', 'B', 'A']"),
    # classes made around an import of a module the freeze had loaded before
    ("plug_outer", "['Mine', 'Before', 'A', 'After']"),
])
def test_classes_come_into_sight_in_python3s_order(program, imports, names):
    _, out, _ = same(program, "import plugbase\n"
                              "class Mine(plugbase.Plugin): pass\n"
                              f"import {imports}\n"
                              "print(plugbase.names())")
    assert out == names + "\n"


def test_a_builtin_base_lists_a_frozen_subclass_once_imported(program):
    same(program, "print([c.__name__ for c in ValueError.__subclasses__()])\n"
                  "import plug_errors\n"
                  "print([c.__name__ for c in ValueError.__subclasses__()])")


def test_every_class_as_python3_has_it_before_and_after_imports(program):
    _, out, _ = same(program, WALK + "before = listing()\n"
                                     "class Early(Exception): pass\n"
                                     "import json, plug_a, argparse, email.charset\n"
                                     "class Late(Exception): pass\n"
                                     "after = listing()\n"
                                     "print(len(before), len(after))\n"
                                     "print('\\n'.join(before + ['--'] + after))")
    assert "_pyfreeze_script." not in out and "importlib._bootstrap.Entry" not in out


def test_the_frozen_classes_of_a_module_loaded_from_source_stay_out_of_sight(program, tmp_path):
    image, directory = program
    for name in [*MODULES, "img"]:
        shutil.copy2(directory / name, tmp_path / name)
    # plug_b changed since the freeze: python3 loads the new file, and so
    # does the image
    (tmp_path / "plug_b.py").write_text(MODULES["plug_b.py"] + "\nclass C(Plugin):\n    pass\n")
    assert_same_as_stock(tmp_path / "img", ["-c", "import plugbase, plug_b, plug_a; print(plugbase.names())"],
                         cwd=tmp_path)
