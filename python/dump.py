# The dump driver: runs in the freezing child after the interpreter is up.
# It imports what the image should hold and leaves the heap quiescent.
# `_pyfreeze` (C helpers) is injected into this namespace by the runtime.
# Failures come back as (kind, message); kind is one of the FAIL_ names.

import sys

# What python3 has in sys.modules once it is up, but for site's modules:
# the freeze's interpreter starts without site, and run() runs it first
# (site_memo.run_first), adding those.  Every module imported after this
# point and not by site is hidden in the image until the program imports it.
_STARTUP = frozenset(sys.modules)

import gc

_cpython = _pyfreeze.cpython311
# What the dump leaves for every start of the image (restore_state.py): the
# runtime takes this one, passes it to run() and keeps it with the heap.
restore_state = _pyfreeze.restore_state.RestoreState()

FAIL_IMPORT = 1
FAIL_NATIVE = 2
FAIL_STATE = 3
# This Python's internals are not the CPython 3.11 ones cpython311.py names
# (PF_FAIL_CPYTHON on the C side; 4 is the runtime's own, PF_FAIL_INTERNAL)
FAIL_CPYTHON = 5


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
        if not tb.tb_frame.f_code.co_filename.startswith(_cpython.FROZEN_IMPORTLIB_PREFIX):
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
        namespace = _cpython.module_namespace(module)
        if namespace is None:
            continue
        spec = namespace.get("__spec__")
        origin = getattr(spec, "origin", None) or namespace.get("__file__")
        if isinstance(origin, str) and origin.endswith(".so"):
            found[name] = origin
    return found


def _writable_ranges(path):
    """The writable mappings of shared object PATH in this process, with
    the anonymous one that follows its last (its .bss beyond the file)."""
    ranges = []
    with open("/proc/self/maps", "rb") as maps:
        lines = maps.read().decode("utf-8", "surrogateescape").splitlines()
    previous_end = None
    for line in lines:
        fields = line.split(None, 5)
        start, end = (int(part, 16) for part in fields[0].split("-"))
        mapped = fields[5] if len(fields) > 5 else ""
        writable = fields[1].startswith("rw")
        if writable and (mapped == path or (not mapped and start == previous_end)):
            ranges.append((start, end))
            previous_end = end if mapped == path else None
        else:
            previous_end = None
    return ranges


def _native_holders():
    """Modules whose objects a native extension module's library keeps in
    its own writable memory (name -> names held).  mypyc keeps each module
    its code imported in a C global and, once that is set, takes the module
    from sys.modules by name without importing it: in an image it must be
    there before such code runs, and never replaced by a load from source."""
    addresses = {id(module): name for name, module in list(sys.modules.items())
                 if module is not None}
    holders = {}
    scanned = {}
    # The standard library's own (_asyncio, _zoneinfo) take held modules
    # from their C state, never from sys.modules, and CPython's regression
    # suite passes with them revealed and loaded from source as any other.
    for name, origin in _native_modules().items():
        try:
            path = _realpath(origin)
            if path.startswith(_STDLIB_NATIVE):
                continue
            if path not in scanned:
                found = set()
                for start, end in _writable_ranges(path):
                    found |= _pyfreeze.words_found(start, end, addresses.keys())
                scanned[path] = {addresses[address] for address in found}
        except (OSError, ValueError):
            continue
        held = scanned[path] - {name}
        if held:
            holders[name] = held
    return holders


_STDLIB_NATIVE = (f"{sys.base_exec_prefix}/{sys.platlibdir}/"
                  f"python{sys.version_info.major}.{sys.version_info.minor}/lib-dynload/")


def _realpath(path):
    import os.path
    return os.path.realpath(path)


def _null_descriptor(described):
    """(fd, flags) of a descriptor ('file descriptor N (PATH)') open on
    /dev/null, or None: such a one has no state an image would lose, and
    is opened again under its number at restore."""
    posix = sys.modules["posix"]
    fd = int(described.split()[2])
    try:
        status, null = posix.fstat(fd), posix.stat("/dev/null")
        with open(f"/proc/self/fdinfo/{fd}") as info:
            flags = next(int(line.split()[1], 8) for line in info if line.startswith("flags:"))
    except (OSError, StopIteration, ValueError):
        return None
    if status.st_mode & 0o170000 != 0o020000 or status.st_rdev != null.st_rdev:
        return None
    kept = posix.O_ACCMODE | posix.O_APPEND | posix.O_NONBLOCK | posix.O_CLOEXEC
    return fd, flags & kept


def _carry_descriptors(recorder, recording):
    """The descriptors above 2 still open: those on /dev/null closed and
    kept for the restore in restore_state.null_descriptors; any other is
    refused, blamed on the module whose code opened it."""
    carried = []
    for described in recorder.open_descriptors():
        null = _null_descriptor(described)
        if null is None:
            who = recording.descriptor_owners.get(described)
            what = f"importing '{who}' left {described} open" if who else f"{described} is open"
            return FAIL_STATE, f"cannot freeze: {what}, and an image cannot carry it"
        carried.append(null)
    for fd, _ in carried:
        sys.modules["posix"].close(fd)
    restore_state.null_descriptors = sorted(carried)
    return None


def _import_all(modules, allow_native, optional=frozenset(), verbose=False):
    native_before = _native_modules()
    blame = {}
    for name in modules:
        try:
            __import__(name)
        except (Exception, SystemExit) as exc:
            if name not in optional:
                _print_traceback(exc)
                why = f"it called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else _describe(exc)
                return FAIL_IMPORT, f"importing module '{name}' failed: {why}"
            if verbose:
                print(f"pyfreeze: learned module '{name}' left out: {_describe(exc)}", file=sys.stderr)
            continue
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
        mapping = _pyfreeze.new_mapping()
        if mapping is not None:
            return FAIL_STATE, (f"cannot freeze: importing '{name}' made {mapping}, "
                                f"and an image cannot carry it")
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
    return len(_cpython.warning_filters())


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
        return _cpython.PathFinder.find_spec(name, self.directories, target)


def _pythonpath():
    import posix
    posixpath = sys.modules["posixpath"]
    value = posix.environ.get(b"PYTHONPATH")
    if not value:
        return []
    return [posixpath.abspath(entry) for entry in sys.modules["os"].fsdecode(value).split(":")]


def _entry_modules(entry):
    """The modules python3 imports for an entry form before the program's
    own code runs: runpy and the packages it imports for -m, the wrapper's
    module and re for a console-script entry point."""
    if entry is None:
        return []
    kind, _, value = entry.partition(":")
    if kind == "module":
        parts = value.split(".")
        return ["runpy"] + [".".join(parts[:i]) for i in range(1, len(parts))]
    if kind == "function":
        return ["re", value.partition(":")[0]]
    return []


def _entry_program(entry):
    """Checks that the entry form's program is there; returns (file to
    stamp or None, None) or (None, failure).  The file is the script, or
    the module file python3 -m runs (a package's __main__): the program's
    code is not frozen, but an image whose program changed starts cold."""
    if entry is None:
        return None, None
    kind, _, value = entry.partition(":")
    if kind == "script":
        import os
        try:
            with open(value, "rb"):
                pass
        except OSError as exc:
            return None, (FAIL_IMPORT, f"cannot read script {value}: {exc.strerror}")
        return value, None
    if kind == "module":
        import importlib.util
        name = value
        try:
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.submodule_search_locations is not None:
                __import__(name)
                name = value + ".__main__"
                spec = importlib.util.find_spec(name)
        except BaseException as exc:
            _print_traceback(exc)
            return None, (FAIL_IMPORT, f"finding module '{name}' failed: {_describe(exc)}")
        if spec is None:
            return None, (FAIL_IMPORT, f"no module named '{name}' (--module {value})")
        return (spec.origin if spec.has_location else None), None
    module, _, function = value.partition(":")
    target = sys.modules[module]
    for part in function.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            return None, (FAIL_IMPORT, f"--entry {value}: '{module}' has no attribute '{function}'")
    if not callable(target):
        return None, (FAIL_IMPORT, f"--entry {value}: '{module}:{function}' is not callable")
    return None, None


def run(modules, blocks, first_path, search_paths, restore_state, allow_native, lazy, recorder,
        verbose, entry=None, learned=(), learned_patterns=()):
    problem = _cpython.check()
    if problem is not None:
        return FAIL_CPYTHON, "cannot freeze: " + problem
    lazy = _Namespace(lazy)
    recorder = _Namespace(recorder)
    before_site = frozenset(sys.modules)
    import site     # noqa: F401  (-S: defines site, runs nothing)
    restore_state.site_first_run = _pyfreeze.site_memo.run_first(recorder.Recording())
    startup = _STARTUP | (frozenset(sys.modules) - before_site)
    restore_state.default_warning_filters = _warnings_default_count()
    restore_state.dump_executable = sys.executable
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
    lazy.note_freeze_search_path(sys.path)
    recording = recorder.Recording()
    recording.start()
    try:
        # linecache (and tokenize) is what python3 loads to show a warning
        # or a traceback: frozen too, hidden like the rest until needed.
        # The modules the learning run had loaded come first, in its order.
        # One that fails to import here (it needed what the program did
        # first, or failed in the program too) is left out: the program
        # imports it from its source, as python3 does.
        failure = _import_all(["linecache"] + list(learned) + _entry_modules(entry) + list(modules),
                              allow_native, set(learned) - set(modules), verbose)
        program = None
        if not failure:
            program, failure = _entry_program(entry)
        failure = failure or _run_before_dump(allow_native)
        if failure:
            return failure
    finally:
        recording.finish()
        sys.meta_path.remove(searcher)
        sys.path[:] = saved_path
        _flush_stdio()
    _compile_learned_patterns(learned_patterns, verbose)
    threads = _extra_threads()
    if threads:
        return FAIL_STATE, f"cannot freeze: threads are running at the checkpoint: {threads}"
    gc.collect()
    failure = _carry_descriptors(recorder, recording)
    if failure:
        return failure
    restore_state.frozen_finalizers = _count_finalizers()
    restore_state.captured_streams = _captured_streams()
    restore_state.file_stamps = _file_stamps(program)
    restore_state.module_count = len(sys.modules)
    tempfile = sys.modules.get("tempfile")
    restore_state.dump_tempdir = tempfile.tempdir if tempfile is not None else None
    keep = recording.keep(startup | set(blocks))
    recording.settle(keep)
    lazy.hide(recording, keep, _native_holders())
    restore_state.lazy = lazy
    _forget_module_files(recording.inputs, restore_state.file_stamps)
    restore_state.inputs_summary = _inputs_summary(recording.inputs)
    if verbose:
        for name, why in sorted(recording.eager.items()):
            print(f"pyfreeze: '{name}' stays in sys.modules from the start: {why}", file=sys.stderr)
        _report_inputs(recording.inputs)
        for name, why in sorted(lazy._sticky.items()):
            print(f"pyfreeze: '{name}' {why}: a run in which it would "
                  f"load from source starts cold", file=sys.stderr)
    del recording
    _learn_site_exec(restore_state.site_first_run[2])
    restore_state.site_listings = _site_listings()
    restore_state.site_memo, why = _pyfreeze.site_memo.rehearse(
        recorder.Recording(), restore_state.site_listings, _pythonpath() + _pyfreeze.module_search_paths(),
        lazy.kept_found_by_listings, restore_state.site_first_run)
    if verbose:
        print(f"pyfreeze: site's run at start-up is memoized ({len(restore_state.site_memo[0])} inputs"
              f"{', with the search for the start-up modules' if restore_state.site_memo[3] else ''})"
              if why is None else
              f"pyfreeze: site runs again at every start: {why}", file=sys.stderr)
        reads, missing, _ = restore_state.site_first_run
        described = ", ".join(_pyfreeze.inputs.describe(kind, detail) for kind, detail in reads)
        print(f"pyfreeze: site's .pth lines and sitecustomize read: {described or 'nothing'}"
              f"{'; did not find: ' + ', '.join(missing) if missing else ''}", file=sys.stderr)
    _forget_first_path(first_path)
    _fix_renewed_state(lazy.frozen_module)
    _scrub_environment()
    lazy.settle()
    gc.collect()
    lazy.hide_subclasses()
    gc.freeze()
    # Last: from here on the gc functions a program calls unfreeze first.
    # Installed once, in the image, rather than at every start.
    _pyfreeze.watch_gc(gc)
    return None


class _Warned(Exception):
    pass


class _WarningsStandIn:
    """What re's `import warnings` finds while learned patterns compile."""

    @staticmethod
    def warn(*args, **kwargs):
        raise _Warned


def _decode_pattern(text):
    """(pattern, flags) from the manifest's KIND:FLAGS:HEX."""
    kind, flags, hex_text = text.split(":")
    data = bytes.fromhex(hex_text)
    return (data.decode("utf-8", "surrogatepass") if kind == "s" else data), int(flags)


def _compile_learned_patterns(patterns, verbose):
    """Puts the regular expressions the learning run compiled into re's
    cache, compiled, as if the program had compiled them already: compiling
    is a function of the cache's key alone (the pattern, its type and the
    flags), so re.compile() hands out what python3 would have made.  Left
    to the program: what compiling would warn about (python3 shows that
    warning at the first compile, under the run's filters), re.DEBUG (it
    prints) and re.TEMPLATE patterns (deprecated: they warn), and what does
    not fit in the cache besides the imports' own patterns."""
    re = sys.modules.get("re")
    compiler = sys.modules.get("re._compiler")
    if not patterns or re is None or compiler is None:
        return
    try:
        cache = _cpython.RE_CACHE.get(re)
        room = _cpython.RE_MAXCACHE.get(re) - len(cache)
        compile_pattern = _cpython.RE_COMPILE.get(compiler)
        never = re.DEBUG | re.TEMPLATE
    except (AttributeError, TypeError):
        return
    added = warned = 0
    warnings = sys.modules.get("warnings")
    sys.modules["warnings"] = _WarningsStandIn
    try:
        for text in patterns:
            pattern, flags = _decode_pattern(text)
            key = (type(pattern), pattern, flags)
            if flags & never or key in cache:
                continue
            if added >= room:
                break
            try:
                cache[key] = compile_pattern(pattern, flags)
                added += 1
            except _Warned:
                warned += 1
            except Exception:
                pass
    finally:
        if warnings is None:
            del sys.modules["warnings"]
        else:
            sys.modules["warnings"] = warnings
    if verbose:
        print(f"pyfreeze: {added} learned regular expressions compiled into the image"
              + (f", {warned} left to the program (compiling them warns)" if warned else ""),
              file=sys.stderr)


def _file_stamps(program=None):
    """(path, mtime_ns, size) of every module the heap holds that was
    loaded from a file, and of the entry form's program file; frozen and
    built-in modules come from the binary."""
    import os
    stamps = {}
    if program is not None:
        status = os.stat(program)
        stamps[program] = (program, status.st_mtime_ns, status.st_size)
    for module in list(sys.modules.values()):
        spec = _cpython.module_spec(module)
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


def _forget_first_path(first_path):
    """The import system's cache of sys.path[0] (the working directory, the
    script's or the image's directory) lists that directory and notes its
    modification time, which writing the image there changes: python3
    starts without it, and so does the image (reproducible images)."""
    finder = sys.path_importer_cache.pop(first_path, None) if first_path is not None else None
    mtime = _cpython.FILE_FINDER_MTIME
    if finder is not None and isinstance(getattr(finder, mtime, None), float):
        _pyfreeze.wipe(finder.__dict__.get(mtime))
    del finder
    # The slot the entry leaves behind is placed by the path's hash: the
    # same dict, rebuilt, has none.
    entries = list(sys.path_importer_cache.items())
    sys.path_importer_cache.clear()
    sys.path_importer_cache.update(entries)
    del entries


def _fix_renewed_state(module):
    """State python3 draws afresh in every process, and an image renews at
    every start (the after-fork callbacks, restore.py), is given fixed values
    here, its old values wiped: the image holds nothing of the freeze's
    moment, pid or random bytes, so that the same inputs give the same image.
    A time is SOURCE_DATE_EPOCH when the freeze's environment sets it."""
    import posix
    try:
        epoch = float(int(posix.environ.get(b"SOURCE_DATE_EPOCH", b"0")))
    except ValueError:
        epoch = 0.0
    random = module("random")
    if random is not None:
        _cpython.RANDOM_INSTANCE.get(random).seed(0)    # reseeded after fork, hence at restore
    tempfile = module("tempfile")
    if tempfile is not None and _cpython.TEMPFILE_NAMES.get(tempfile) is not None:
        sequence = _cpython.TEMPFILE_NAMES.get(tempfile).__dict__
        if _cpython.NAME_SEQUENCE_RANDOM in sequence:
            sequence[_cpython.NAME_SEQUENCE_RANDOM].seed(0)
        _pyfreeze.wipe(sequence.pop(_cpython.NAME_SEQUENCE_PID, None))
        _cpython.TEMPFILE_NAMES.set(tempfile, None)     # as restore.py sets it
    threading = module("threading")
    if threading is not None:
        main = _cpython.MAIN_THREAD.get(threading)
        _pyfreeze.wipe(main.__dict__.get(_cpython.THREAD_NATIVE_ID))    # renewed by restore.py
    logging = module("logging")
    if logging is not None:
        _pyfreeze.wipe(_cpython.LOGGING_START_TIME.get(logging), epoch)    # renewed by restore.py
    process = module("multiprocessing.process")
    if process is not None:
        config = _cpython.process_config(process.current_process())
        _pyfreeze.wipe(config.get("authkey"))   # renewed by restore.py


def _learn_site_exec(ran):
    """Compile, once for every run of the image, the "import" lines of the
    .pth files site runs at start-up (and the texts they pass to exec in
    turn): restore.py re-runs site with them compiled already.  Not those
    of the files in RAN, which the freeze's own site ran: a re-run of site
    skips their import lines (site_memo.rerun)."""
    import site
    directories = list(sys.path) + _site_directories(site)
    for directory in dict.fromkeys(directories):
        try:
            names = [name for name in sys.modules["os"].listdir(directory) if name.endswith(".pth")]
        except (OSError, TypeError):
            continue
        for name in names:
            if sys.modules["os"].path.join(directory, name) in ran:
                continue
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
