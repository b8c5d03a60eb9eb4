# Start-up fix-ups for an image that runs from its frozen heap.  The C side
# has already re-adopted the main thread, re-run the pre-configuration and
# installed this run's PyConfig (sys.argv, sys.flags, sys.path...).  What is
# left is the state python3 builds while it initialises and that the heap
# froze with the values of the dump: environment, standard streams, signal
# dispositions, warnings options, site, and a few stdlib caches.
# `_pyfreeze` (C helpers) is injected into this namespace by the runtime.

import sys

_cpython = _pyfreeze.cpython311


def _reload_environ():
    # os.environ and os.environb wrap posix.environ's dict itself: refill it.
    import posix
    fresh = _pyfreeze.environ()
    posix.environ.clear()
    posix.environ.update(fresh)


def _fd_is_open(fd):
    import os
    try:
        os.close(os.dup(fd))
    except OSError:
        return False
    return True


def _make_stdio(io, fd, writing, name, encoding, errors, buffered, frozen):
    """This run's stream for FD, built as CPython's create_stdio() builds
    it.  Frozen modules may hold the frozen stream (`out=sys.stdout`), as
    they would hold python3's: the frozen text layer, and its buffer when
    the run is buffered too, are initialised again in place."""
    if not _fd_is_open(fd):
        return None
    buffering = 0 if (writing and not buffered) else -1
    raw = io.FileIO(fd, "wb" if writing else "rb", closefd=False)
    raw.name = name
    buffer = raw
    if buffering:
        kind = io.BufferedWriter if writing else io.BufferedReader
        buffer = getattr(frozen, "buffer", None)
        if type(buffer) is not kind:
            buffer = kind.__new__(kind)
        # io.open()'s choice of buffer size for a descriptor
        size = _cpython.block_size(raw)
        kind.__init__(buffer, raw, size if size > 1 else io.DEFAULT_BUFFER_SIZE)
    line_buffering = buffered and (raw.isatty() or fd == 2)
    stream = frozen if type(frozen) is io.TextIOWrapper else io.TextIOWrapper.__new__(io.TextIOWrapper)
    io.TextIOWrapper.__init__(stream, buffer, encoding, errors, "\n", line_buffering, not buffered)
    stream.mode = "w" if writing else "r"
    return stream


def _renew_main_module():
    # Frozen modules may hold __main__ (dill does `import __main__`), as
    # they would hold python3's: keep the module, and give it the fresh
    # namespace python3's start-up gives it, in the same order.
    # Both may end in reference cycles the collector must see.
    import builtins
    main = sys.modules["__main__"]
    namespace = main.__dict__
    _pyfreeze.thaw(main)
    _pyfreeze.thaw(namespace)
    namespace.clear()
    namespace.update(__name__="__main__", __doc__=None, __package__=None, __loader__=None,
                     __spec__=None, __annotations__={}, __builtins__=builtins)
    namespace["__loader__"] = _cpython.BuiltinImporter


def _rebuild_stdio(config, captured):
    import io
    encoding = config["stdio_encoding"]
    errors = config["stdio_errors"]
    buffered = config["buffered_stdio"]
    for fd, name, writing, errors in ((0, "stdin", False, errors), (1, "stdout", True, errors),
                                      (2, "stderr", True, "backslashreplace")):
        frozen = sys.__dict__[f"__{name}__"]
        stream = _make_stdio(io, fd, writing, f"<{name}>", encoding, errors, buffered, frozen)
        if stream is None and fd in captured:
            _pyfreeze.step_aside(f"descriptor {fd} is closed, and a frozen module holds sys.{name}")
        sys.__dict__[f"__{name}__"] = stream
        # A module in sys.modules from the start may have put a wrapper of
        # the stream in its place (colorama does): it wraps the frozen one.
        if sys.__dict__[name] is frozen or stream is None:
            sys.__dict__[name] = stream


def _reinstall_signals(inherited_ignored):
    # Dispositions are kernel state and a new process starts with defaults,
    # except that SIG_IGN survives exec: `nohup` and `cmd &` must still win
    # over the handlers python3 would install, as they do for python3.
    import _signal
    ignore = _signal.SIG_IGN
    default = _signal.SIG_DFL
    for signum in range(1, _signal.NSIG):
        try:
            handler = _signal.getsignal(signum)
        except (OSError, ValueError):
            continue
        if handler is None:
            continue
        python_default = handler == default or handler is _signal.default_int_handler
        if signum in inherited_ignored and python_default:
            _signal.signal(signum, ignore)
        elif handler == ignore or callable(handler):
            _signal.signal(signum, handler)


def _apply_warnoptions(state):
    options = sys.warnoptions
    if not options:
        return
    lazy = state.lazy
    frozen = "warnings" in sys.modules or lazy.is_hidden("warnings")
    import warnings  # python3 imports it at start-up when there are options
    if not frozen:
        return  # it ran and applied sys.warnoptions itself
    # python3 applies -W options before any module adds filters: keep the
    # filters frozen modules added in front, as they would be.
    added = len(warnings.filters) - state.default_warning_filters
    kept = warnings.filters[:added] if added > 0 else []
    del warnings.filters[:len(kept)]
    _cpython.PROCESS_OPTIONS.get(warnings)(options)
    warnings.filters[0:0] = kept
    _cpython.filters_mutated()


def _reseed_stdlib(state):
    module = state.lazy.frozen_module
    # multiprocessing.spawn copies sys.executable when it is imported: it
    # would start the dump's interpreter (an empty path) instead of the image.
    spawn = module("multiprocessing.spawn")
    if spawn is not None:
        import os
        if spawn.get_executable() == os.fsencode(state.dump_executable):
            spawn.set_executable(sys.executable)
    import time
    time.tzset()
    tempfile = module("tempfile")
    if tempfile is not None:
        _cpython.TEMPFILE_NAMES.set(tempfile, None)
        if tempfile.tempdir is not None and tempfile.tempdir == state.dump_tempdir:
            tempfile.tempdir = None     # found from the dump's environment
    logging = module("logging")
    if logging is not None:
        _cpython.LOGGING_START_TIME.set(logging, time.time())
    # threading's after-fork callback keeps the main thread's native id
    # when its ident is unchanged (an image without ASLR).
    threading = module("threading")
    if threading is not None:
        _cpython.renew_native_id(_cpython.MAIN_THREAD.get(threading))
    _forget_machine_caches(module)
    mp_process = module("multiprocessing.process")
    if mp_process is not None:
        import os
        config = _cpython.process_config(mp_process.current_process())
        config["authkey"] = mp_process.AuthenticationString(os.urandom(32))


# Facts about the machine and the environment that stdlib modules cache on
# first use, by module: a frozen cache holds the builder's, and None makes
# the module work it out again.
_MACHINE_CACHES = (
    ("sysconfig", (_cpython.SYSCONFIG_CONFIG_VARS, _cpython.SYSCONFIG_USER_BASE)),
    ("platform", (_cpython.PLATFORM_UNAME_CACHE, _cpython.PLATFORM_OS_RELEASE_CACHE)),
    ("uuid", (_cpython.UUID_NODE, _cpython.UUID_LAST_TIMESTAMP)),
)


def _forget_machine_caches(module):
    for name, caches in _MACHINE_CACHES:
        owner = module(name)
        for cache in caches if owner is not None else ():
            cache.set(owner, None)
    platform = module("platform")
    if platform is not None:
        _cpython.PLATFORM_CACHE.get(platform).clear()
    zoneinfo = module("zoneinfo")
    if zoneinfo is not None:
        zoneinfo.reset_tzpath()


def _run_after_restore(state):
    pyfreeze = state.lazy.frozen_module("pyfreeze")
    if pyfreeze is None:
        return
    for callback in pyfreeze._after_restore:
        callback()


def _reopen_null_descriptors(descriptors):
    """The descriptors on /dev/null frozen modules hold, opened again under
    their numbers.  A number this run already has open (inherited) is one
    python3 would not have given the module: then the image steps aside."""
    posix = sys.modules["posix"]
    for fd, flags in descriptors:
        try:
            posix.fstat(fd)
        except OSError:
            pass
        else:
            _pyfreeze.step_aside(f"descriptor {fd}, which a frozen module keeps open on /dev/null, "
                                 f"is open in this run")
        opened = posix.open("/dev/null", flags)
        if opened != fd:
            posix.dup2(opened, fd, inheritable=not flags & posix.O_CLOEXEC)
            posix.close(opened)


def _adopt_threads_and_seeds(module):
    """What of the at-fork callbacks the C restore skipped (cpython311.c,
    pf_py_adopt_main_thread) this process needs, as a python3 that imported
    threading and random itself would have it: this thread is the main one,
    under its own ident, and random is seeded anew."""
    threading = module("threading")
    if threading is not None:
        _cpython.THREADING_AFTER_FORK.get(threading)()
    random = module("random")
    if random is not None:
        _cpython.RANDOM_INSTANCE.get(random).seed()


def restore(inherited_ignored, state):
    _adopt_threads_and_seeds(state.lazy.frozen_module)
    config = _pyfreeze.config()
    _pyfreeze.inputs.set_executable(sys.executable)
    _renew_main_module()
    _reload_environ()
    _rebuild_stdio(config, state.captured_streams)
    _reinstall_signals(inherited_ignored)
    # faulthandler's C state says what the freeze enabled, but the handlers
    # and the alternate stack were the dump process's: forget them, so that
    # -X faulthandler, or a module doing it again, enables it for real.
    faulthandler = state.lazy.frozen_module("faulthandler")
    if faulthandler is not None and faulthandler.is_enabled():
        faulthandler.disable()
    if config["faulthandler"]:
        import faulthandler
        faulthandler.enable()
    _apply_warnoptions(state)
    digits = sys.flags.int_max_str_digits
    if digits >= 0:
        sys.set_int_max_str_digits(digits)
    listings_unchanged = False
    lazy = state.lazy
    if config["site_import"]:
        memo_taken, listings_unchanged = _pyfreeze.site_memo.start_site(
            state.site_memo, state.site_listings, state.site_first_run)
        if memo_taken:
            lazy.note_unchanged_directories(sys.path)
    why = lazy.kept_module_moved(listings_unchanged)
    if why is not None:
        _pyfreeze.step_aside(why)
    # The inputs are those of the program's imports: sys.path as python3's
    # start-up leaves it, with its first entry, which comes next.
    path0 = _pyfreeze.sys_path0()
    if path0 is not None:
        sys.path.insert(0, path0)
    try:
        why = lazy.startup_difference()
    finally:
        if path0 is not None:
            del sys.path[0]
    if why is not None:
        _pyfreeze.step_aside(why)
    # pyfreeze info --check: every check of a warm start passed; the program's
    # after_restore callbacks are not run for a check.
    _pyfreeze.check_done()
    _reopen_null_descriptors(state.null_descriptors)
    lazy.apply_startup_effects()
    _reseed_stdlib(state)
    _run_after_restore(state)


def _std_streams():
    """The standard streams and their layers: flushed by the exit itself."""
    streams = set()
    for name in ("stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__"):
        stream = getattr(sys, name, None)
        while stream is not None and id(stream) not in streams:
            streams.add(id(stream))
            stream = getattr(stream, "buffer", None) or getattr(stream, "raw", None)
    return streams


def _resource_warnings_ignored():
    """Whether this run's filters ignore every ResourceWarning, as
    python3's defaults do: then a file closed by the teardown says nothing."""
    filters = _cpython.warning_filters()
    for action, message, category, module, lineno in filters:
        if not issubclass(ResourceWarning, category):
            continue
        return action == "ignore" and message is None and module is None and lineno == 0
    return False


def _generator_closes_quietly(obj, generator_type):
    """A plain generator whose close() at teardown runs none of its code:
    finished, or with no exception handler (no try, with or finally; a
    generator expression has none) and not delegating (yield from)."""
    if type(obj) is not generator_type:
        return False
    frame = obj.gi_frame
    return frame is None or (not obj.gi_code.co_exceptiontable and obj.gi_yieldfrom is None)


class _Files:
    """Which file objects the teardown would close without a trace: the io
    module's own classes down to the descriptor, closed or reading only.
    Closing one at teardown or the process's exit closing its descriptor
    cannot be told apart (a ResourceWarning aside: see above).  A file
    open for writing may hold buffered bytes the teardown would write."""

    def __init__(self):
        import _io
        self.memory = (_io.BytesIO, _io.StringIO)
        self.raw = _io.FileIO
        self.reader = _io.BufferedReader
        self.text = _io.TextIOWrapper
        self.buffered = (_io.BufferedReader, _io.BufferedWriter, _io.BufferedRandom)
        self.quiet = None
        self.generator = type((lambda: (yield))())

    def closes_quietly(self, obj):
        kind = type(obj)
        if kind in self.memory:
            return True         # closing frees a buffer, nothing more
        if kind not in (self.raw, self.text) and kind not in self.buffered:
            return False
        if self.quiet is None:
            self.quiet = _resource_warnings_ignored()
        if not self.quiet:
            return False
        try:
            layers = [obj]
            while type(layers[-1]) is not self.raw:
                inner = layers[-1].buffer if type(layers[-1]) is self.text else layers[-1].raw
                if type(inner) not in (self.raw, *self.buffered) or len(layers) > 2:
                    return False
                layers.append(inner)
            if obj.closed:
                return True
            return all(type(layer) in (self.raw, self.reader, self.text) for layer in layers) \
                and not obj.writable()
        except (AttributeError, ValueError, OSError):     # detached, or otherwise odd
            return False


def _object_needs_teardown(obj, streams, ref_type, files):
    if hasattr(type(obj), "__del__"):
        return (id(obj) not in streams and not files.closes_quietly(obj)
                and not _generator_closes_quietly(obj, files.generator))
    if isinstance(obj, ref_type) and obj.__callback__ is not None and obj() is not None:
        callback = obj.__callback__
        key = (getattr(callback, "__module__", None), getattr(callback, "__qualname__", None))
        return key not in _cpython.QUIET_WEAKREF_CALLBACKS
    return False


def before_teardown(state):
    """Once python3's teardown is decided: the modules python3 never had
    let go of the run's __main__ (see lazy_modules.release_main)."""
    state.lazy.release_main(sys.modules.get("__main__"))


def teardown_reason(state):
    """Why python3's teardown must run at exit, or None when skipping it
    cannot be noticed: no object made since the restore has a finalizer
    (__del__, a file open for writing, a suspended generator) or a weak
    reference callback, other than files that close without a trace and
    the stdlib's own bookkeeping callbacks, and warnings that teardown
    could emit are off."""
    if state.frozen_finalizers:
        return "the frozen heap holds objects with finalizers"
    if sys.warnoptions:
        return "-W options could show warnings raised during teardown"
    import _weakref
    streams = _std_streams()
    files = _Files()
    for obj in _pyfreeze.finalizable_in_sight():
        if _object_needs_teardown(obj, streams, _weakref.ref, files):
            return f"a {type(obj).__qualname__} object needs finalizing"
    finalize = getattr(state.lazy.frozen_module("weakref"), "finalize", None)
    if finalize is not None and any(not info.atexit
                                    for info in _cpython.FINALIZE_REGISTRY.get(finalize).values()):
        return "weakref.finalize callbacks are pending"
    return None
