"""Frozen modules wait outside sys.modules until the program imports them;
importing one then does what importing it does in python3."""

import shutil

import pytest

from conftest import STOCK, assert_same_as_stock, clean_env, freeze, outcome, run, runs_warm

MODULES = {
    # adds a warnings filter and an atexit callback, and warns, at import
    "effects.py": (
        "import atexit, warnings\n"
        "warnings.filterwarnings('ignore', message='effects-filter')\n"
        "warnings.warn('effects imported', UserWarning, stacklevel=2)\n"
        "atexit.register(print, 'effects atexit')\n"
    ),
    # imports effects: its warning then blames this module's line
    "user_of_effects.py": "import sys\nimport effects\nVALUE = 42\n",
    # changes sys.path and the environment at import: replayed
    "path_and_environ.py": ("import os, sys\nsys.path.append('/path-marker')\n"
                            "sys.path.insert(0, '/front-marker')\nos.environ['PF_MARK'] = 'set'\n"),
    # sets a signal handler and the environment: stays in sys.modules, its
    # environment change made again on the run's environment
    "eager_signal.py": ("import os, signal\nsignal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
                        "os.environ['PF_EAGER'] = 'eager'\n"),
    # puts an alias into sys.modules, as typing does for typing.io
    "aliaser.py": "import sys, types\nsys.modules['aliaser_alias'] = types.ModuleType('aliaser_alias')\n",
    # imports through importlib (no audit event in python3) and looks for
    # a package that is not there (three events), then uses json, which
    # the freeze had loaded before
    "quiet_importer.py": ("import importlib\n"
                          "try:\n    from absent_package.sub import thing\nexcept ImportError:\n    pass\n"
                          "importlib.import_module('aliaser')\nimport json\n"),
}


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    directory = tmp_path_factory.mktemp("program")
    for name, text in MODULES.items():
        (directory / name).write_text(text)
    image = directory / "img"
    freeze(image, "json", "user_of_effects", "path_and_environ", "eager_signal", "aliaser", "threading",
           "quiet_importer", cwd=directory)
    return image, directory


def same(program, code, *options):
    image, directory = program
    return assert_same_as_stock(image, [*options, "-c", code], cwd=directory)


def test_start_up_modules_are_python3s(program):
    same(program, "import sys; print(sorted(m for m in sys.modules if m != 'eager_signal'))")


def test_sys_path_and_environment_changes_are_replayed(program):
    code = ("import os, sys\nshow = lambda: print([p for p in sys.path if 'marker' in p], "
            "os.environ.get('PF_MARK'), os.popen('echo $PF_MARK').read().strip())\n"
            "show()\nimport path_and_environ\nshow()")
    _, out, _ = same(program, code)
    assert out == "[] None \n['/front-marker', '/path-marker'] set set\n"
    assert runs_warm(program[0], ["-c", code], cwd=program[1])


def test_a_module_in_sys_modules_from_the_start_changes_the_runs_environment(program):
    image, directory = program
    code = "import os, eager_signal\nprint(os.environ.get('PF_EAGER'), os.popen('echo $PF_EAGER').read())"
    result = run([image, "-c", code], cwd=directory)
    assert result.stdout == b"eager eager\n\n", result.stderr


def test_import_time_warning_filter_and_atexit_replayed(program):
    code = ("import atexit, warnings; atexit.register(print, 'main first'); "
            "n = len(warnings.filters); import effects; "
            "print(warnings.filters[:len(warnings.filters) - n]); atexit.register(print, 'main last')")
    same(program, code)
    same(program, code, "-W", "default")
    same(program, code, "-W", "ignore::UserWarning")


def test_warning_as_error_gives_python3s_traceback(program):
    image, directory = program
    frozen = same(program, "import effects", "-W", "error::UserWarning")
    assert frozen[0] == 1 and "effects.py" in frozen[2]


def test_warning_blames_the_importing_module(program):
    same(program, "import user_of_effects; print(user_of_effects.VALUE)")
    same(program, "import effects; import user_of_effects; print(user_of_effects.VALUE)")


def test_aliases_appear_with_their_module(program):
    same(program, "import sys; print('aliaser_alias' in sys.modules); import aliaser; "
                  "print('aliaser_alias' in sys.modules)")


def test_a_replaced_dependency_forces_a_load_from_source(program):
    # json uses re: with another re in sys.modules, python3's json would
    # bind that one, so the frozen json cannot be used.
    code = ("import sys, types; fake = types.ModuleType('re'); fake.compile = lambda *a, **k: 'fake'; "
            "sys.modules['re'] = fake; import json.decoder; print(json.decoder.NUMBER_RE)")
    same(program, code)


def debug_lines(program, code):
    image, directory = program
    report = directory / "debug-report"
    if report.exists():
        report.unlink()
    run([image, "-c", code], env=clean_env(PYFREEZE_DEBUG=str(report)), cwd=directory)
    return report.read_text()


def test_a_dependency_replaced_after_its_own_reveal_forces_a_load_from_source(program):
    # re is revealed first; json's reveal, planned at the dump with re in
    # it, must then see that sys.modules holds another re.
    code = ("import re, sys, types; fake = types.ModuleType('re'); fake.__dict__.update(re.__dict__); "
            "sys.modules['re'] = fake; import json.decoder; print(json.decoder.re is fake)")
    _, out, _ = same(program, code)
    assert out == "True\n"
    assert "module json runs from source: it used re, which is another module now" in \
        debug_lines(program, code)


def test_a_reveal_after_another_uses_the_modules_it_revealed(program):
    code = ("import re, sys\nimport json.decoder\n"
            "print(json.decoder.re is re, sorted(m for m in sys.modules if m.startswith(('re', 'json'))))")
    _, out, _ = same(program, code)
    assert out.startswith("True ")
    report = debug_lines(program, code)
    assert "warm start" in report and "runs from source" not in report, report


def test_a_reveal_after_a_load_from_source_works_its_plan_out_again(program):
    # threading loads from source (a replaced _weakrefset); json, revealed
    # next, is planned anew and still comes from the image.
    code = ("import sys, types, _weakrefset\nsys.modules['_weakrefset'] = types.ModuleType('x')\n"
            "try:\n    import threading\nexcept Exception as e:\n    print(type(e).__name__)\n"
            "sys.modules['_weakrefset'] = _weakrefset\nimport json\nprint(json.dumps([1]))\n")
    same(program, code)
    report = debug_lines(program, code)
    assert "module threading runs from source" in report and "module json runs" not in report, report


def test_blocking_a_module_in_sys_modules_is_honoured(program):
    same(program, "import sys; sys.modules['json'] = None\ntry:\n import json\n"
                  "except ImportError as e: print('blocked', e)")


def test_threading_first_imported_from_a_thread(program):
    code = ("import _thread, sys\nlock = _thread.allocate_lock(); lock.acquire()\n"
            "print('threading' in sys.modules)\n"
            "def f():\n import threading\n lock.release()\n"
            "_thread.start_new_thread(f, ())\nlock.acquire()\nprint('threading' in sys.modules)\n")
    same(program, code)


def test_find_spec_and_module_attributes_as_python3(program):
    code = ("import importlib.util, sys; spec = importlib.util.find_spec('json'); "
            "print(spec.origin, type(spec.loader).__name__, 'json' in sys.modules); "
            "import json; print(json.__spec__.origin, json.__file__, json.decoder.__name__)")
    same(program, code)


def test_pyfreeze_module_waits_too(program):
    image, directory = program
    result = run([image, "-c", "import sys; print('pyfreeze' in sys.modules); import pyfreeze; "
                  "print(pyfreeze.frozen(), 'pyfreeze' in sys.modules)"], cwd=directory)
    assert result.stdout == b"False\nTrue True\n", result.stderr


def test_a_program_module_named_pyfreeze_wins(program, tmp_path):
    (tmp_path / "pyfreeze.py").write_text("MINE = True\n")
    image, _ = program
    result = run([image, "-c", "import pyfreeze; print(pyfreeze.MINE)"], cwd=tmp_path)
    assert result.stdout == b"True\n", result.stderr


def test_frozen_program_modules_import_from_anywhere(program):
    # Not on this run's sys.path: the frozen copy is what there is.
    image, _ = program
    result = run([image, "-c", "import user_of_effects; print(user_of_effects.VALUE)"], cwd="/")
    assert result.stdout == b"42\neffects atexit\n"
    assert runs_warm(image, ["-c", "import user_of_effects"], cwd="/")
    stock = outcome(STOCK, ["-c", "import user_of_effects"], cwd="/")
    assert stock[0] == 1 and "ModuleNotFoundError" in stock[2]


def test_threads_importing_at_once_share_one_reveal(program):
    # Eight threads import overlapping frozen modules together: each module
    # ends up once in sys.modules, its effects replayed once.
    code = ("import sys, threading\n"
            "seen = []\n"
            "def work(i):\n"
            "    import json.decoder, user_of_effects, json\n"
            "    seen.append((json.decoder, user_of_effects.effects, json.scanner))\n"
            "threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
            "[t.start() for t in threads]; [t.join() for t in threads]\n"
            "import json.decoder, effects, json.scanner\n"
            "print(all(s == (json.decoder, effects, json.scanner) for s in seen), len(seen))\n")
    same(program, code)


def test_verbose_freeze_names_modules_that_stay_imported(tmp_path):
    (tmp_path / "eager_signal.py").write_text(MODULES["eager_signal.py"])
    result = freeze(tmp_path / "img", "-v", "eager_signal", "json", cwd=tmp_path)
    lines = [l for l in result.stderr.decode().splitlines() if "stays in sys.modules" in l]
    assert lines == ["pyfreeze: 'eager_signal' stays in sys.modules from the start: "
                     "its import changed signal handlers"]


def test_debuggers_see_the_import_hooks_as_importlib(program, tmp_path):
    # bdb and pdb skip frames by module name ('importlib*'): the image's
    # import hooks must fall under it, as importlib's own frames do.
    (tmp_path / "traced_module.py").write_text("VALUE = 1\n")
    code = ("import sys\nnames = set()\n"
            "def tracer(frame, event, arg):\n"
            "    names.add(frame.f_globals.get('__name__'))\n"
            "sys.settrace(tracer)\nimport traced_module\nsys.settrace(None)\n"
            "print(sorted(n for n in names if not n.startswith('importlib')))\n")
    image, _ = program
    assert_same_as_stock(image, ["-c", code], cwd=tmp_path)


def test_a_module_loaded_from_source_is_the_one_its_users_get(program):
    # effects loads from source (its atexit is replaced meanwhile); then
    # user_of_effects, which imports effects, must bind that one, as in
    # python3, and so cannot be the frozen copy.
    code = ("import sys, types, atexit\n"
            "fake = types.ModuleType('atexit'); fake.register = lambda f, *a: print('fake register')\n"
            "sys.modules['atexit'] = fake\nimport effects\nsys.modules['atexit'] = atexit\n"
            "import user_of_effects\nprint(user_of_effects.effects is sys.modules['effects'])\n")
    same(program, code)


def test_cold_start_has_python3s_modules_and_pyfreeze(program):
    image, directory = program
    env = dict(clean_env(), PYFREEZE_COLD="1")
    code = "import sys; print(sorted(sys.modules))"
    assert outcome(image, ["-c", code], env=env, cwd=directory) == \
        outcome(STOCK, ["-c", code], env=env, cwd=directory)
    result = run([image, "-c", "import pyfreeze; print(pyfreeze.frozen())"], env=env, cwd=directory)
    assert result.stdout == b"False\n", result.stderr


def test_loading_a_revealed_module_again_makes_a_new_one(program):
    # pydoc.importfile() and the load_module() shim call importlib's _load()
    # for a module that is already in sys.modules: a new module each time.
    code = ("import importlib, importlib.util, json.decoder\n"
            "again = importlib._bootstrap._load(importlib.util.find_spec('json.decoder'))\n"
            "print(again is json.decoder, again.__name__)\n")
    same(program, code)


def test_showwarning_importing_from_another_thread_does_not_deadlock(program):
    # A replayed warning calls the program's showwarning, which imports in
    # another thread and waits for it: no lock of the reveal may be held
    # then, or that import waits forever (issue 12).
    code = ("import threading, warnings\n"
            "def show(message, *args, **kwargs):\n"
            "    t = threading.Thread(target=__import__, args=('aliaser',))\n"
            "    t.start(); t.join(10)\n"
            "    print('shown', message, 'joined', not t.is_alive())\n"
            "warnings.showwarning = show\n"
            "import effects\n")
    _, out, _ = same(program, code)
    assert out == "shown effects imported joined True\neffects atexit\n"


def test_finders_are_asked_under_the_import_lock_as_python3_asks_them(program):
    # python3 holds the global import lock while it asks a meta path finder:
    # an import another thread starts then waits for it.
    code = ("import sys, threading\n"
            "class Finder:\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name == 'json.decoder':\n"
            "            t = threading.Thread(target=__import__, args=('aliaser',))\n"
            "            t.start(); t.join(1)\n"
            "            print('joined while asked', not t.is_alive())\n"
            "        return None\n"
            "sys.meta_path.insert(0, Finder())\n"
            "import json\nprint(json.dumps([1]))\n")
    _, out, _ = same(program, code)
    assert out == "joined while asked False\n[1]\n"


@pytest.mark.parametrize("imports", ["import json\nimport user_of_effects", "import quiet_importer",
                                     "import importlib\nimportlib.import_module('json.decoder')"])
def test_audit_hooks_see_each_import_of_a_reveal_in_order(program, imports):
    # python3 raises the "import" audit event for each module an import
    # statement looks for (not importlib.import_module), found or not, and
    # one more for each extension module's file (_json here); a reveal
    # raises the same events in python3's order, with its arguments, and
    # fills sys.modules in its order.  The freeze had loaded re (for
    # linecache) before json used it, and json before quiet_importer.
    code = ("import sys\n"
            "seen = []\n"
            "before = set(sys.modules)\n"
            "sys.addaudithook(lambda event, args: event == 'import' and seen.append("
            "(args[0], args[1], args[2] is sys.path, args[3] is sys.meta_path, args[4] is sys.path_hooks)))\n"
            f"{imports}\n"
            "print(*seen, sep='\\n')\n"
            "print([name for name in sys.modules if name not in before])\n")
    _, out, _ = same(program, code)
    assert "('json.decoder', None, True, True, True)" in out
    assert "('_json', '/usr/lib/python3.11/lib-dynload/_json." in out
    assert runs_warm(program[0], ["-c", code], cwd=program[1])


def test_an_audit_hook_that_raises_stops_the_reveal_as_it_stops_an_import(program):
    code = ("import sys\n"
            "def hook(event, args):\n"
            "    if event == 'import' and args[0] == 'json.scanner':\n"
            "        raise RuntimeError('no scanner')\n"
            "sys.addaudithook(hook)\n"
            "try:\n"
            "    import json\n"
            "except RuntimeError as error:\n"
            "    print('stopped:', error)\n"
            "print(sorted(m for m in sys.modules if m.startswith('json')))\n")
    _, out, _ = same(program, code)
    assert out.startswith("stopped: no scanner\n")


def test_a_revealed_submodule_is_bound_in_its_package_and_dies_when_dropped(program):
    # The reveal keeps what it planned with, not the module: a module the
    # program drops dies as python3's does.
    code = ("import sys, weakref\n"
            "import json.decoder\n"
            "print(json.decoder is sys.modules['json.decoder'], json.scanner.__name__)\n"
            "gone = weakref.ref(sys.modules.pop('json.decoder'))\n"
            "del json.decoder\n"
            "print(gone() is None)\n")
    _, out, _ = same(program, code)
    assert out == "True json.scanner\nTrue\n"


def test_the_revealed_modules_objects_share_a_few_pages(cgi_image):
    """Module objects the freeze made, and their specs, sit together
    (module_zone.c): a reveal's references to them write a few pages, not
    one each."""
    code = ("import sys\nbefore = set(sys.modules)\nimport cgi\n"
            "made = [m for n, m in sys.modules.items() if n not in before and getattr(m, '__file__', '') "
            "and m.__file__.endswith('.py')]\n"
            "print(len(made) >= 30, len({id(m) // 4096 for m in made}) <= 3,"
            " len({id(m.__spec__) // 4096 for m in made}) <= 3)")
    result = run([cgi_image, "-W", "ignore", "-c", code])
    assert result.stdout == b"True True True\n", result.stderr.decode()


# pyfreeze's hooks in importlib (_find_spec, _load_unlocked) leave no frame
# of their own: importlib.import_module() shows importlib's frames in a
# traceback, and showed one more (pyfreeze's _load_unlocked) when the
# module raised, warm and cold alike.
TRACEBACK_CODES = [
    "import importlib, sys\nsys.path.insert(0, '.')\nimportlib.import_module('raises')",
    "import sys\n"
    "class Finder:\n"
    "    def find_spec(self, name, path, target=None):\n"
    "        if name == 'boom':\n"
    "            raise ValueError('finder')\n"
    "sys.meta_path.insert(0, Finder())\n"
    "import importlib\nimportlib.import_module('boom')",
]


@pytest.mark.parametrize("code", TRACEBACK_CODES, ids=["module raises", "finder raises"])
def test_tracebacks_through_importlib_are_python3s(tmp_path, code):
    (tmp_path / "raises.py").write_text("1/0\n")
    image = tmp_path / "img"
    freeze(image, "json", cwd=tmp_path)
    status, _, err = assert_same_as_stock(image, ["-c", code], cwd=tmp_path)
    assert status == 1 and "<frozen importlib._bootstrap>" in err
    cold = clean_env(PYFREEZE_COLD="1")
    assert outcome(image, ["-c", code], cwd=tmp_path, env=cold) == outcome(STOCK, ["-c", code], cwd=tmp_path)


@pytest.mark.parametrize("code", ["import json.decoder", "from json import decoder",
                                  "import email.parser"])
def test_a_package_shadowing_a_frozen_one_has_only_its_own_submodules(tmp_path, code):
    # a json (email) package in the working directory, without the frozen
    # package's submodules: python3 finds neither json.decoder nor
    # email.parser there; the image loaded the frozen one's file instead
    image = tmp_path / "img"
    freeze(image, "json", "email.parser", cwd=tmp_path)
    run_dir = tmp_path / "run"
    for package in ("json", "email"):
        (run_dir / package).mkdir(parents=True)
        (run_dir / package / "__init__.py").write_text(f"print('shadow {package}')\n")
    status, _, _ = assert_same_as_stock(image, ["-c", code], cwd=run_dir)
    assert status == 1


def test_a_revealed_module_writes_its_missing_bytecode_as_python3_does(tmp_path):
    # the freeze's import wrote __pycache__; a run in a fresh copy of the
    # program's files (or after a clean-up) has none, and python3's import
    # writes it again
    (tmp_path / "helper.py").write_text("VALUE = 'helper'\n")
    (tmp_path / "prog.py").write_text("import helper\nprint(helper.VALUE)\n")
    image = tmp_path / "img"
    freeze(image, "--script", str(tmp_path / "prog.py"), "--learn", cwd=tmp_path)
    cache = tmp_path / "__pycache__" / "helper.cpython-311.pyc"
    shutil.rmtree(tmp_path / "__pycache__")
    assert run([STOCK, str(tmp_path / "prog.py")], env=clean_env()).returncode == 0
    stock_bytes = cache.read_bytes()
    shutil.rmtree(tmp_path / "__pycache__")
    assert runs_warm(image, [], cwd=tmp_path)
    assert cache.read_bytes() == stock_bytes
    shutil.rmtree(tmp_path / "__pycache__")
    run([image], env=clean_env(PYTHONDONTWRITEBYTECODE="1"))
    assert not (tmp_path / "__pycache__").exists()
