# The dump driver: runs in the freezing child after the interpreter is up.
# It imports what the image should hold and leaves the heap quiescent.
# `_pyfreeze` (C helpers) is injected into this namespace by the runtime.
# Failures come back as (kind, message); kind is one of the FAIL_ names.

import sys

# What python3 has in sys.modules once it is up: every module imported
# after this point is hidden in the image until the program imports it.
_STARTUP = frozenset(sys.modules)

import gc

FAIL_IMPORT = 1
FAIL_NATIVE = 2
FAIL_STATE = 3


def _describe(exc):
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _print_traceback(exc):
    """The traceback from the user's code on, without this driver's frame
    or the import system's (python3 leaves those out too); nothing when the
    user's code has no frame in it (the one-line error that follows says
    it all)."""
    import traceback
    kept = []
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith("<frozen importlib."):
            kept.append(tb)
        tb = tb.tb_next
    if not kept:
        return
    for earlier, later in zip(kept, kept[1:]):
        earlier.tb_next = later
    kept[-1].tb_next = None
    traceback.print_exception(type(exc), exc, kept[0])


def _native_modules():
    """Extension modules loaded from shared objects, by name."""
    found = {}
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None) or getattr(module, "__file__", None)
        if isinstance(origin, str) and origin.endswith(".so"):
            found[name] = origin
    return found


def _import_all(modules, allow_native):
    native_before = _native_modules()
    blame = {}
    for name in modules:
        try:
            __import__(name)
        except BaseException as exc:
            _print_traceback(exc)
            if isinstance(exc, SystemExit):
                why = f"it called sys.exit({exc.code!r})"
            else:
                why = _describe(exc)
            return FAIL_IMPORT, f"importing module '{name}' failed: {why}"
        for loaded, origin in _native_modules().items():
            if loaded not in native_before and loaded not in blame:
                blame[loaded] = (name, origin)
        threads = _extra_threads()
        if threads:
            return FAIL_STATE, f"cannot freeze: importing '{name}' started threads: {threads}"
    if blame and not allow_native:
        parts = [f"'{who}' loads native extension module '{ext}' ({origin})"
                 for ext, (who, origin) in blame.items()]
        blocks = " ".join(f"-{ext}" for ext in blame)
        return FAIL_NATIVE, "; ".join(parts) + f"; block with {blocks}"
    return None


def _extra_threads():
    """Names of the Python threads besides the main one, or ''."""
    threading = sys.modules.get("threading")
    if threading is None or threading.active_count() <= 1:
        return ""
    return ", ".join(t.name for t in threading.enumerate() if t is not threading.main_thread())


def _warnings_default_count():
    module = sys.modules.get("warnings")
    if module is not None:
        return len(module.filters)
    import _warnings
    return len(_warnings.filters)


def _run_before_dump(allow_native):
    import pyfreeze
    native_before = _native_modules()
    for callback in pyfreeze._before_dump:
        try:
            callback()
        except BaseException as exc:
            _print_traceback(exc)
            return FAIL_IMPORT, f"before_dump callback {callback.__qualname__} failed: {_describe(exc)}"
    loaded = {name: origin for name, origin in _native_modules().items() if name not in native_before}
    if loaded and not allow_native:
        names = ", ".join(f"'{name}' ({origin})" for name, origin in loaded.items())
        blocks = " ".join(f"-{name}" for name in loaded)
        return FAIL_NATIVE, f"before_dump callbacks load native extension modules {names}; block with {blocks}"
    pyfreeze._restored = True
    return None


def _flush_stdio():
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except Exception:
                pass


class _Namespace:
    """An embedded script's globals, seen as attributes."""

    def __init__(self, globals_):
        self.__dict__ = globals_


class _SearchPaths:
    """Finds top-level modules in the --path directories, after everything
    else: they are searched while freezing but are not python3's sys.path
    (the modules found there stay importable in the image)."""

    def __init__(self, directories):
        self.directories = directories

    def find_spec(self, name, path, target=None):
        if path is not None or not self.directories:
            return None
        return sys.modules["_frozen_importlib_external"].PathFinder.find_spec(name, self.directories, target)


def _pythonpath():
    import posix
    posixpath = sys.modules["posixpath"]
    value = posix.environ.get(b"PYTHONPATH")
    if not value:
        return []
    return [posixpath.abspath(entry) for entry in sys.modules["os"].fsdecode(value).split(":")]


def run(modules, blocks, first_path, search_paths, restore_state, allow_native, lazy, recorder,
        verbose):
    lazy = _Namespace(lazy)
    recorder = _Namespace(recorder)
    restore_state["default_warning_filters"] = _warnings_default_count()
    restore_state["dump_executable"] = sys.executable
    saved_path = list(sys.path)
    # sys.path as a python3 run of the image from here has it: its first
    # entry, then the builder's PYTHONPATH (of the PYTHON* variables, the
    # one that shapes what a run imports; the freeze's interpreter ignores
    # them all, as -E would), then the interpreter's own.
    sys.path[0:0] = ([first_path] if first_path is not None else []) + _pythonpath()
    searcher = _SearchPaths([path for path in search_paths if path != first_path])
    sys.meta_path.append(searcher)
    for name in blocks:
        sys.modules[name] = None
    recording = recorder.Recording()
    recording.start()
    try:
        # linecache (and tokenize) is what python3 loads to show a warning
        # or a traceback: frozen too, hidden like the rest until needed.
        failure = (_import_all(["linecache"] + list(modules), allow_native)
                   or _run_before_dump(allow_native))
        if failure:
            return failure
    finally:
        recording.finish()
        sys.meta_path.remove(searcher)
        sys.path[:] = saved_path
        _flush_stdio()
    threads = _extra_threads()
    if threads:
        return FAIL_STATE, f"cannot freeze: threads are running at the checkpoint: {threads}"
    gc.collect()
    restore_state["frozen_finalizers"] = _count_finalizers()
    restore_state["captured_streams"] = _captured_streams()
    restore_state["file_stamps"] = _file_stamps()
    restore_state["module_count"] = len(sys.modules)
    tempfile = sys.modules.get("tempfile")
    restore_state["dump_tempdir"] = tempfile.tempdir if tempfile is not None else None
    keep = recording.keep(_STARTUP | set(blocks))
    recording.settle(keep)
    lazy.hide(recording, keep)
    restore_state["lazy"] = lazy
    _forget_module_files(recording.inputs, restore_state["file_stamps"])
    restore_state["inputs_summary"] = _inputs_summary(recording.inputs)
    if verbose:
        for name, why in sorted(recording.eager.items()):
            print(f"pyfreeze: '{name}' stays in sys.modules from the start: {why}", file=sys.stderr)
        _report_inputs(recording.inputs)
        for name, changed in sorted(lazy._sticky.items()):
            print(f"pyfreeze: '{name}' changed {changed} at import: a run in which it would "
                  f"load from source starts cold", file=sys.stderr)
    del recording
    _learn_site_exec()
    restore_state["site_listings"] = _site_listings()
    _scrub_environment()
    gc.collect()
    gc.freeze()
    return None


def _file_stamps():
    """(path, mtime_ns, size) of every module the heap holds that was
    loaded from a file; frozen and built-in modules come from the binary."""
    import os
    stamps = {}
    for module in list(sys.modules.values()):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if not getattr(spec, "has_location", False) or not isinstance(origin, str):
            continue
        try:
            status = os.stat(origin)
        except OSError:
            continue
        stamps[origin] = (origin, status.st_mtime_ns, status.st_size)
    return sorted(stamps.values())


def _count_finalizers():
    """Objects about to be frozen whose finalizers python3 would run at
    exit; the standard streams are rebuilt at restore, so they do not
    count."""
    streams = set()
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        while stream is not None and id(stream) not in streams:
            streams.add(id(stream))
            stream = getattr(stream, "buffer", None) or getattr(stream, "raw", None)
    return sum(1 for obj in gc.get_objects()
               if hasattr(type(obj), "__del__") and id(obj) not in streams)


def _forget_module_files(inputs, stamps):
    """Module files are not inputs of one import: an image whose module
    files changed starts cold (their stamps say so)."""
    files = {path for path, _, _ in stamps}
    for read in inputs.values():
        for key in [key for key in read if key[0] in ("file", "list", "read", "create")
                    and key[1] in files]:
            del read[key]


def _inputs_summary(inputs):
    """The environment variables and files whose contents the imports
    read (they are in the image, which anyone who can run it can read)."""
    names = sorted({detail for read in inputs.values() for kind, detail in read
                    if kind == "env"})
    if any(kind == "environ" for read in inputs.values() for kind, _ in read):
        names.insert(0, "*")
    files = sorted({detail for read in inputs.values() for kind, detail in read
                    if kind == "read"})
    return "".join(f"env {name}\n" for name in names) + "".join(f"read {path}\n" for path in files)


def _report_inputs(inputs):
    summary = _inputs_summary(inputs).splitlines()
    names = [line[4:] for line in summary if line.startswith("env ")]
    files = [line[5:] for line in summary if line.startswith("read ")]
    if names:
        shown = ", ".join("the whole environment" if name == "*" else name for name in names)
        print(f"pyfreeze: the imports read environment variables: {shown}", file=sys.stderr)
    if files:
        print(f"pyfreeze: the imports read files: {', '.join(files)}", file=sys.stderr)
    for name, read in sorted(inputs.items()):
        if read:
            described = ", ".join(_pyfreeze.inputs.describe(kind, detail) for kind, detail in read)
            print(f"pyfreeze: '{name}' is handed out while these are as now: {described}",
                  file=sys.stderr)


def _learn_site_exec():
    """Compile, once for every run of the image, the "import" lines of the
    .pth files site runs at start-up (and the texts they pass to exec in
    turn): restore.py re-runs site with them compiled already."""
    import site
    directories = list(sys.path) + _site_directories(site)
    for directory in dict.fromkeys(directories):
        try:
            names = [name for name in sys.modules["os"].listdir(directory) if name.endswith(".pth")]
        except (OSError, TypeError):
            continue
        for name in names:
            try:
                with open(f"{directory}/{name}", encoding="locale") as file:
                    lines = [line for line in file if line.startswith(("import ", "import\t"))]
            except (OSError, ValueError):
                continue
            for line in lines:
                _learn_exec_text(line, 0)


def _site_directories(site):
    """The directories site looks into for .pth files, the user's too
    (whether a run enables it is the run's affair)."""
    directories = site.getsitepackages()
    try:
        directories.append(site.getusersitepackages())
    except Exception:      # no home directory to be found
        pass
    return directories


def _site_listings():
    """The .pth files of each directory site lists at start-up, with the
    directory's identity and times: restore.py's re-run of site lists a
    directory again only when these changed.  A directory changed in the
    last seconds is left out: within the clock's granularity, an entry
    added after the listing might not move its time."""
    import site, time
    posix = sys.modules["posix"]
    directories = _site_directories(site)
    listings = {}
    for directory in directories:
        try:
            status = posix.stat(directory)
            names = [name for name in posix.listdir(directory) if name.endswith(".pth")]
        except (OSError, TypeError, ValueError):
            continue
        if status.st_mtime_ns < time.time_ns() - 2_000_000_000 and \
                status.st_ctime_ns < time.time_ns() - 2_000_000_000:
            listings[directory] = (status.st_dev, status.st_ino, status.st_mtime_ns,
                                   status.st_ctime_ns, names)
    return listings


def _learn_exec_text(text, depth):
    _pyfreeze.learn_exec(text)
    try:
        code = compile(text, "<string>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return
    if depth < 2:
        for constant in code.co_consts:
            if type(constant) is str and ("\n" in constant or " " in constant):
                _learn_exec_text(constant, depth + 1)


def _scrub_environment():
    """The builder's environment leaves the heap: the image fills
    os.environ with the run's.  Values no module kept are wiped first."""
    import posix
    _pyfreeze.scrub_environ(posix.environ)


def _captured_streams():
    """The standard descriptors whose frozen stream (or its buffer) a
    frozen module holds: when the run has that descriptor closed, python3
    would have given the module None, and the image steps aside."""
    import gc
    captured = set()
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        stream = sys.__dict__.get(f"__{name}__")
        if stream is None:
            continue
        if _held_elsewhere(gc.get_referrers(stream), stream):
            captured.add(fd)
        buffer = getattr(stream, "buffer", None)
        if buffer is not None and _held_elsewhere(gc.get_referrers(buffer), stream):
            captured.add(fd)
        del buffer
    return captured


def _held_elsewhere(holders, stream):
    # (A loop, not a generator: its closure would hold the stream too.)
    for holder in holders:
        if holder is not sys.__dict__ and holder is not stream and type(holder).__name__ != "frame":
            return True
    return False
