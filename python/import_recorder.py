# Records, while the dump imports, what each module's load did, so that an
# image can replay it when the program imports the module (lazy_modules.py).
#
# Per module: the modules it imported (loaded then or already loaded), what
# it read from outside the heap (its inputs, import_inputs.py), and the
# events of its load in one global order: start, end, warnings issued,
# warnings filters, meta path finders and path hooks added, atexit callbacks
# registered, copyreg reducers added, environment variables set or removed,
# sys.path entries inserted, modules it put into sys.modules itself.  A load
# that changed process-wide state an image cannot replay (sys hooks, signal
# handlers, builtins, the working directory...) makes the module "eager": it
# stays in sys.modules from the start.

import sys
import builtins
import gc
import posix
import _signal

_cpython = _pyfreeze.cpython311
_inputs = _pyfreeze.inputs
_DRIVER_FILE = "<pyfreeze>/dump.py"
# importlib's, and these hooks' own (the runtime compiles them under that
# name so that tracebacks and warnings skip them as they skip importlib)
_BOOTSTRAP_FILES = _cpython.BOOTSTRAP_FILES
_ALWAYS = ("always", None, Warning, None, 0)
_UNSET = object()


def _resolve(name, globals_, level):
    if not level:
        return name
    try:
        package = _cpython.calc_package(globals_ or {})
        return _cpython.resolve_name(name, package, level)
    except Exception:
        return None


def _resolve_from_package(name, package, level):
    if not level:
        return name
    try:
        return _cpython.resolve_name(name, package, level)
    except Exception:
        return None


def _filter_changes(old, new):
    """(added in front, added at the back), or None when NEW is not OLD
    with filters added around it."""
    count = len(old)
    for front in range(len(new) - count + 1):
        middle = new[front:front + count]
        if all(a is b for a, b in zip(middle, old)):
            return new[:front], new[front + count:]
    return None


_STREAM_SETTINGS = ("errors", "line_buffering", "write_through")


def _stdio_layers():
    for name in ("stdin", "stdout", "stderr"):
        text = sys.__dict__.get(f"__{name}__")
        buffer = getattr(text, "buffer", None)
        for layer, stream in (("text", text), ("buffer", buffer),
                              ("raw", getattr(buffer, "raw", None))):
            if stream is not None:
                yield name, layer, stream


def _stdio_state():
    """(name, layer) -> (the layer's attributes, its text settings)."""
    state = {}
    for name, layer, stream in _stdio_layers():
        attributes = dict(getattr(stream, "__dict__", {}))
        settings = tuple(getattr(stream, key, None) for key in _STREAM_SETTINGS) if layer == "text" else ()
        state[name, layer] = (attributes, settings)
    return state


def _set_stdio(payload, undo=False):
    """Makes (or with UNDO, takes back) one recorded change to a standard
    stream layer; lazy_modules.py has the same for the run."""
    name, layer, key, old, new = payload
    value = old if undo else new
    for stream_name, stream_layer, stream in _stdio_layers():
        if (stream_name, stream_layer) != (name, layer):
            continue
        if key is None:
            stream.reconfigure(**dict(zip(_STREAM_SETTINGS, value)))
        elif value is _UNSET:
            stream.__dict__.pop(key, None)
        else:
            setattr(stream, key, value)


def _insertions(old, new):
    """[(index in NEW, item)] of the items inserted into OLD to make NEW,
    or None when NEW is not OLD with items inserted."""
    inserted = []
    at = 0
    for index, item in enumerate(new):
        if at < len(old) and old[at] == item:
            at += 1
        else:
            inserted.append((index, item))
    return inserted if at == len(old) else None


# sys attributes whose values are inputs of an import that reads them; the
# objects of the second set are the run's own in an image (sys_objects.c),
# so a module that only keeps a reference to one (an argument default, a
# global) has read nothing.  The standard streams stay out: C code reads
# them from sys's namespace directly (they are the run's own too, and
# isatty() is noted in C).
_WATCHED_SYS = frozenset((
    "argv", "orig_argv", "executable", "flags", "warnoptions",
    "path", "prefix", "exec_prefix", "base_prefix", "base_exec_prefix", "platlibdir",
    "pycache_prefix", "dont_write_bytecode", *_cpython.PRIVATE_SYS_INPUTS,
))
_KEPT_SYS = frozenset(("argv", "orig_argv", "flags", "warnoptions", _cpython.SYS_XOPTIONS, "path"))


def _bytecode():
    # Imported now, before the recording starts: no module's import uses it.
    import opcode
    return _cpython.Bytecode(opcode)


# What the code reading a watched sys attribute does with the value
_BYTECODE = _bytecode()


def _defined_in(cls, name):
    """Whether class CLS says it belongs to module NAME."""
    namespace = _cpython.class_namespace(cls)
    return namespace is not None and namespace.get("__module__") == name


def _namespace_of(watched):
    """A copy of the namespace of a module or class."""
    namespace = _cpython.module_namespace(watched)
    return dict(namespace if namespace is not None else object.__getattribute__(watched, "__dict__"))


# Caches filled on first use, from the same inputs each time (or renewed at
# restore): filling one again does not change state.  The standard
# library's, and Cython's flag of whether tracebacks show C lines.
_CACHES_FILLED = _cpython.FIRST_USE_CACHES | {("cython_runtime", "cline_in_traceback")}


def _bookkeeping(module_name, key, value):
    """Changes to another module's namespace that are not the importing
    module's doing: the import system binding a submodule in its package,
    the registry of warnings shown, and caches filled on first use."""
    if key == "__warningregistry__" or (module_name, key) in _CACHES_FILLED:
        return True
    return isinstance(value, type(sys)) and getattr(value, "__name__", None) == f"{module_name}.{key}"


def _has_own_module(value):
    # Classes and functions name their module; an instance's __module__ is
    # its class's, and reading attributes of arbitrary objects could run
    # their code.
    return isinstance(value, type) or type(value).__name__ in ("function", "builtin_function_or_method")


def open_descriptors():
    """'file descriptor N (PATH)' for each descriptor above 2 open here."""
    found = []
    for entry in posix.listdir("/proc/self/fd"):
        if int(entry) <= 2:
            continue
        try:
            target = posix.readlink(f"/proc/self/fd/{entry}")
        except OSError:
            continue        # the listing's own descriptor, closed since
        found.append(f"file descriptor {entry} ({target})")
    return found


def held_modules(name):
    """The modules in sys.modules that the namespace of module NAME holds,
    or whose classes and functions it holds, in its order."""
    namespace = _cpython.module_namespace(sys.modules.get(name))
    if namespace is None:
        return []
    found = []
    for value in list(namespace.values()):
        if type(value) is type(sys):
            held = getattr(value, "__name__", None)
        else:
            held = getattr(value, "__module__", None) if _has_own_module(value) else None
        if type(held) is str and held != name and held in sys.modules and held not in found:
            found.append(held)
    return found


class Recording:
    def __init__(self):
        self.events = []          # seq -> (kind, name, payload)
        self.events_of = {}       # name -> [seq]
        self.uses = {}            # name -> [module names it imported]
        # name -> [where each of its uses happened, as in uses: (seq of the
        # next event, number of the use), or -1 for a module it only
        # holds]: where python3 would load a used module when it loads
        # NAME alone
        self.used_at = {}
        # name -> {modules it imported without the "import" audit event
        # python3's import statement raises (importlib.import_module)}
        self.quiet_uses = {}
        # name -> [(where, module)] for each module its import statements
        # looked for and did not find, audited as they were (the search
        # itself is an input: "missing")
        self.missing_at = {}
        self.first_use = {}       # name -> seq of the first event after its first use
        self.specs = {}           # name -> spec it was loaded from
        self.locations = {}       # name -> its submodule search locations then
        self.eager = {}           # name -> why it must stay in sys.modules
        self.extras = {}          # name put in sys.modules by another module's code -> owner
        self.inputs = {}          # name -> {(kind, detail): value read}
        # name -> {"module.attribute" of others it changed: (namespace owner,
        # key, value before, module changed)}
        self.shared = {}
        # "file descriptor N (PATH)" -> the module whose code opened it (the
        # dump refuses one still open at the checkpoint, naming that module)
        self.descriptor_owners = {}
        # whether it notes the classes each load made (_pyfreeze.note_types)
        self.noting_types = False
        self._stack = []          # names being loaded, innermost last
        self._importers = []      # the frame importing each of them
        # whether each import call under way audits (import statements,
        # __import__) or not (importlib's _gcd_import), innermost last
        self._audited_calls = []
        self._places = 0          # places taken by uses and failed imports
        self._uses_before = []    # _places when each import under way began
        self._active = False

    # --- hooks ---------------------------------------------------------------

    def start(self):
        self.noting_types = True
        _pyfreeze.new_types()           # the classes there are already
        self._warnings = None
        self._namespaces = []         # modules and their classes, watched
        self._namespace_names = []    # the module each belongs to
        self._namespace_copies = []   # their namespaces when last seen
        self._namespace_versions = []
        self._watched_modules = set()
        self._watch_reads()
        self._real_import = builtins.__import__
        self._real_gcd_import = _cpython.GCD_IMPORT.get()
        self._real_load = _cpython.LOAD_UNLOCKED.get()
        builtins.__import__ = self._on_import
        _cpython.GCD_IMPORT.set(self._on_gcd_import)
        _cpython.LOAD_UNLOCKED.set(self._on_load)
        self._active = True
        self._snapshot()
        # Imported under the recording, so that what they use is known.
        import atexit
        import warnings
        self._atexit = atexit
        self._real_register = atexit.register
        self._real_showwarnmsg = _cpython.SHOW_WARNING.get(warnings)
        self._real_showwarnmsg_impl = _cpython.SHOW_WARNING_IMPL.get(warnings)
        self._real_showwarning = warnings.showwarning
        self._filter_list = warnings.filters
        warnings.filters.insert(0, _ALWAYS)
        _cpython.filters_mutated()
        _cpython.SHOW_WARNING.set(warnings, self._on_warning)
        atexit.register = self._on_atexit
        self._warnings = warnings
        self._namespaces_changed(None)      # these hooks are no module's doing
        self._snapshot()

    def finish(self):
        self._checkpoint()
        self._active = False
        self._unwatch_reads()
        self._forget_clock_reads_not_kept()
        _cpython.LOAD_UNLOCKED.set(self._real_load)
        _cpython.GCD_IMPORT.set(self._real_gcd_import)
        builtins.__import__ = self._real_import
        self._atexit.register = self._real_register
        _cpython.SHOW_WARNING.set(self._warnings, self._real_showwarnmsg)
        filters = self._warnings.filters
        for index, item in enumerate(filters):
            if item is _ALWAYS:
                del filters[index]
                break
        _cpython.filters_mutated()
        # The snapshots hold the standard streams, a copy of builtins with
        # these hooks in it, and of the builder's environment: nothing of
        # that may stay in the frozen heap.
        self._state = self._modules = self._filters = self._dispatch = None
        self._meta_path = self._path_hooks = self._environ = self._sys_path = None
        self._stdio = None
        self._namespaces = self._namespace_copies = self._namespace_versions = None

    def reads_of(self, owner, function):
        """What FUNCTION() reads from outside the heap, noted as the inputs
        of an import of OWNER would be: {(kind, detail): value}.  Only its
        reads: what it changes is the caller's to judge.  Its exception
        goes up."""
        self._stack.append(owner)
        self._active = True
        self._watch_reads()
        try:
            function()
        finally:
            try:
                self._drain_notes(owner)
            finally:
                self._active = False
                self._unwatch_reads()
                self._stack.pop()
        return self.inputs.pop(owner, {})

    def _owner(self):
        return self._stack[-1] if self._stack else None

    def _forget_clock_reads_not_kept(self):
        """A module that read the time of day is another module in every
        run only if it kept the time: logging a message, or naming a file
        after today, at import keeps nothing (a file made or a message shown
        is an input of its own)."""
        for owner, inputs in self.inputs.items():
            reads = [key for key in inputs if key[0] == "clock"]
            if not reads:
                continue
            for key in reads:
                del inputs[key]
            namespace = _cpython.module_namespace(sys.modules.get(owner))
            times = [float(detail) for _, detail in reads]
            if namespace is None or _inputs.keeps_time(namespace, times):
                inputs[("clock", "")] = _inputs.current("clock", "")

    def _on_load(self, spec):
        if not self._active:
            return self._real_load(spec)
        name = spec.name
        # the classes made before the import statement that loads it
        self._checkpoint(self._uses_before[-1] if self._uses_before else None)
        audited = self._audited_calls[-1] if self._audited_calls else False
        self._use(self._owner(), name, "audited" if audited else "quiet")
        self.specs[name] = spec
        # A module may edit its spec while it runs (six sets
        # submodule_search_locations to []): what a finder returns for it
        # is what it was when the load began.
        locations = spec.submodule_search_locations
        self.locations[name] = None if locations is None else list(locations)
        if name not in self._stack:         # a reload inside its own load keeps both
            self.events_of.pop(name, None)  # an earlier load, failed or dropped
        self._add("start", name, None)
        self._stack.append(name)
        self._importers.append(self._importer_frame())
        ok = False
        try:
            module = self._real_load(spec)
            ok = True
            return module
        finally:
            self._checkpoint()
            self._stack.pop()
            self._importers.pop()
            if ok:
                if isinstance(spec.loader, _cpython.ExtensionFileLoader):
                    self._uses_held(name)
                self._undone_changes(name)
                self._add("end", name, None)
            elif name not in self._stack:
                self.events_of.pop(name, None)

    def _on_import(self, name, globals=None, locals=None, fromlist=(), level=0):
        owner = self._owner()
        absolute = _resolve(name, globals, level) if self._active and owner is not None else None
        module = self._noted_import(self._real_import, (name, globals, locals, fromlist, level),
                                    owner, absolute, "audited")
        if self._active and owner is not None and absolute:
            for item in fromlist or ():
                if isinstance(item, str) and f"{absolute}.{item}" in sys.modules:
                    self._use(owner, f"{absolute}.{item}")
            self._fromlist_missing(module, absolute, fromlist)
        return module

    def _fromlist_missing(self, module, absolute, fromlist):
        """`from package import name`, with no such attribute: importlib's
        _handle_fromlist looked for submodule package.name, and said
        nothing when it was not found."""
        namespace = _cpython.module_namespace(module) if fromlist else None
        if (namespace is None or "__path__" not in namespace
                or "__getattr__" in namespace):   # it may have answered
            return
        for item in fromlist:
            submodule = f"{absolute}.{item}"
            if (isinstance(item, str) and item != "*" and item not in namespace
                    and sys.modules.get(submodule) is None):
                self._missing(submodule, submodule, self._place(), True)

    def _on_gcd_import(self, name, package=None, level=0):
        owner = self._owner()
        absolute = None
        if self._active and owner is not None:
            absolute = _resolve_from_package(name, package, level)
        return self._noted_import(self._real_gcd_import, (name, package, level), owner, absolute, "quiet")

    def _noted_import(self, call, args, owner, absolute, how):
        """CALL(*ARGS), OWNER's import of ABSOLUTE (None: not noted) HOW
        ("audited", "quiet"): a use, noted before the packages above it
        that the import loads, or a module not found."""
        before = self._places
        if absolute is not None and absolute in sys.modules:
            # no load, so no checkpoint: the classes made before this
            # import and those made after it are told apart here
            self._classes_made(owner, before)
        first = absolute is not None and self._use(owner, absolute, how)
        self._audited_calls.append(how == "audited")
        at = self._place(absolute.count(".") + 1 if absolute else 1)
        self._uses_before.append(before)
        try:
            return call(*args)
        except ModuleNotFoundError as error:
            if first:
                self._unuse(owner, absolute)
            self._missing(error.name, absolute, at, how == "audited")
            raise
        finally:
            self._audited_calls.pop()
            self._uses_before.pop()

    def _missing(self, name, imported, at, audited):
        """The module being imported looked for NAME and did not find it
        (`try: import simplejson`): it stands for python3's import only
        while a search finds nothing.  When AUDITED, python3's statement
        importing IMPORTED audited it and each package above it down to
        NAME (AT: where)."""
        owner = self._owner()
        if not self._active or owner is None or type(name) is not str:
            return
        if name not in sys.modules:
            # else halted by None in sys.modules, not a search: put there by
            # code that does so again (defusedxml, for a pure ElementTree),
            # or an image's block, which stays
            self._read(("missing", name), None)
        if not audited or imported is None or not (imported + ".").startswith(name + "."):
            return
        chain = self.missing_at.setdefault(owner, [])
        seq, place = at
        while True:
            chain.append(((seq, place), imported))
            if imported == name:
                break
            imported = imported.rpartition(".")[0]
            place += 1

    def _on_atexit(self, function, *args, **kwargs):
        owner = self._owner()
        if not self._active or owner is None:
            return self._real_register(function, *args, **kwargs)
        self._add("atexit", owner, (function, args, kwargs))
        return function

    def _on_warning(self, message):
        owner = self._owner()
        warnings = self._warnings
        if (not self._active or owner is None
                or _cpython.SHOW_WARNING_IMPL.get(warnings) is not self._real_showwarnmsg_impl
                or warnings.showwarning is not self._real_showwarning):
            # Not in a module's load, or its code shows warnings its own way
            # (catch_warnings(record=True)...): as python3 would.
            return self._real_showwarnmsg(message)
        frame = _cpython.getframe(1)
        while frame is not None and not (frame.f_code.co_filename == message.filename
                                         and frame.f_lineno == message.lineno):
            frame = frame.f_back
        globals_ = frame.f_globals if frame is not None else sys.__dict__
        relative = frame is not None and frame is self._importers[-1]
        filename = message.filename
        if relative and frame.f_code.co_filename == _DRIVER_FILE:
            filename = None                 # the program's import statement
        module = globals_.get("__name__", "<string>")
        registry = globals_.setdefault("__warningregistry__", {})
        self._add("warning", owner, (message.message, relative, filename, message.lineno,
                                     module, registry))

    # --- what imports read ----------------------------------------------------

    def _watch_reads(self):
        """Reads of os.environ and of sys go through recording classes
        while the dump imports (swapped back afterwards: a module that kept
        a bound method of them keeps a harmless one); C library calls are
        noted by the runtime (import_inputs.c)."""
        import os
        recording = self

        class RecordingEnviron(_cpython.ENVIRON_CLASS.get(os)):
            def __getitem__(self, key):
                recording._read_environ(self, key)
                return super().__getitem__(key)

            def __iter__(self):
                recording._read_environ(self, None)
                return super().__iter__()

            def __len__(self):
                recording._read_environ(self, None)
                return super().__len__()

        self._environs = [os.environ, os.environb]
        for environ in self._environs:
            environ.__class__ = RecordingEnviron
        _inputs.set_executable(sys.executable, future=True)
        _pyfreeze.inputs_future_executable(sys.executable or None)
        self._watch_sys()
        _pyfreeze.inputs_record(True)

    def _watch_sys(self):
        """The watched sys attributes leave sys's namespace while the dump
        imports, and a module __getattr__ hands them out, noting the read.
        (sys keeps its type: importlib makes every module as type(sys).)"""
        namespace = sys.__dict__
        self._sys_order = list(namespace)
        self._sys_values = {name: namespace.pop(name) for name in _WATCHED_SYS if name in namespace}
        values = self._sys_values
        recording = self
        getframe = _cpython.getframe

        def __getattr__(name):
            try:
                value = values[name]
            except KeyError:
                raise AttributeError(f"module 'sys' has no attribute '{name}'") from None
            if recording._active:
                frame = getframe(1)
                if frame.f_code.co_filename in _BOOTSTRAP_FILES:
                    return value
                flag = _BYTECODE.attribute_read(frame) if name == "flags" else None
                index = _BYTECODE.constant_index(frame) if name == "argv" else None
                if flag is not None:
                    recording._read(("sys", f"flags.{flag}"), getattr(value, flag, None))
                elif index is not None:
                    recording._read(("sys", f"argv[{index}]"), _inputs.item(value, index))
                elif not (name in _KEPT_SYS and _BYTECODE.only_kept(frame)):
                    recording._read(("sys", name), _inputs.plain(value))
            return value

        namespace["__getattr__"] = __getattr__

    def _unwatch_sys(self):
        namespace = sys.__dict__
        current = dict(namespace)
        del current["__getattr__"]
        current.update(self._sys_values)
        namespace.clear()
        for name in self._sys_order:
            if name in current:
                namespace[name] = current.pop(name)
        namespace.update(current)
        self._sys_values = self._sys_order = None

    def _unwatch_reads(self):
        import os
        _pyfreeze.inputs_record(False)
        _pyfreeze.inputs_future_executable(None)
        self._unwatch_sys()
        for environ in self._environs:
            environ.__class__ = _cpython.ENVIRON_CLASS.get(os)
        self._environs = ()

    def _read_environ(self, environ, key):
        if not self._active:
            return
        frame = _cpython.getframe(2)
        if frame.f_code.co_filename in _BOOTSTRAP_FILES:
            return
        if key is None:
            self._read(("environ", None))
        else:
            if isinstance(key, bytes):
                key = key.decode("utf-8", "surrogateescape")
            if isinstance(key, str):
                self._read(("env", key))

    def _read(self, key, value=_UNSET, owner=None):
        owner = owner or self._owner()
        if owner is None:
            return
        inputs = self.inputs.setdefault(owner, {})
        if key not in inputs:
            inputs[key] = _inputs.current(*key) if value is _UNSET else value

    def _drain_notes(self, owner):
        # Output still buffered is the module's that printed it.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        for kind, detail in _pyfreeze.inputs_drain():
            if owner is not None and (owner, kind) not in _inputs.RENEWED:
                self._read((kind, None if kind in ("cwd", "host", "ids") else detail), owner=owner)

    # --- bookkeeping ---------------------------------------------------------

    def _add(self, kind, name, payload):
        seq = len(self.events)
        self.events.append((kind, name, payload))
        self.events_of.setdefault(name, []).append(seq)

    def _use(self, owner, name, how="audited"):
        """OWNER used NAME: imported it HOW ("audited" by an import
        statement, "quiet" through importlib), or only "held" it.  Whether
        this is its first use of NAME."""
        if owner is None or name == owner:
            return False
        self.first_use.setdefault(name, len(self.events))
        used = self.uses.setdefault(owner, [])
        if name in used:
            return False
        used.append(name)
        self.used_at.setdefault(owner, []).append(-1 if how == "held" else self._place())
        if how == "quiet":
            self.quiet_uses.setdefault(owner, set()).add(name)
        return True

    def held_by(self, name):
        return held_modules(name)

    def _place(self, count=1):
        """Where a use happens: (seq of the next event, a count telling
        apart the uses between two events), with COUNT-1 places after it
        kept for the packages above a module not found."""
        self._places += count
        return len(self.events), self._places - count + 1

    def _unuse(self, owner, name):
        """Takes back a use of NAME noted before its import failed."""
        used = self.uses[owner]
        index = used.index(name)
        del used[index]
        del self.used_at[owner][index]
        self.quiet_uses.get(owner, set()).discard(name)

    def _uses_held(self, name):
        """Modules the namespace of extension module NAME holds, or whose
        classes and functions it holds: imports made from C (a
        mypyc-compiled module imports through the C API) never pass the
        import hooks above.  Not a Python module's: what it imports passes
        them, and what it holds says little (_collections_abc's classes
        say they are collections.abc's)."""
        for held in held_modules(name):
            self._use(name, held, "held")

    def _importer_frame(self):
        frame = _cpython.getframe(2)
        while frame is not None and frame.f_code.co_filename in _BOOTSTRAP_FILES:
            frame = frame.f_back
        return frame

    # --- what changed between two moments of one module's load ---------------

    def _process_state(self):
        handlers = []
        for signum in range(1, _signal.NSIG):
            try:
                handlers.append(_signal.getsignal(signum))
            except (OSError, ValueError):
                handlers.append(None)
        return {
            "sys hooks": (sys.excepthook, sys.displayhook, sys.breakpointhook,
                          sys.unraisablehook, sys.gettrace(), sys.getprofile()),
            "interpreter settings": (sys.getrecursionlimit(), sys.getswitchinterval(),
                                     sys.dont_write_bytecode, gc.isenabled(),
                                     gc.get_threshold(), len(gc.callbacks)),
            "standard streams": (sys.stdin, sys.stdout, sys.stderr),
            "signal handlers": handlers,
            "builtins": dict(builtins.__dict__),
            "the working directory": posix.getcwd(),
        }

    def _snapshot(self):
        self._modules = set(sys.modules)
        if self._warnings is not None and self._warnings.filters is self._filter_list:
            self._filters = list(self._filter_list)
        self._meta_path = list(sys.meta_path)
        self._path_hooks = list(sys.path_hooks)
        copyreg = sys.modules.get("copyreg")
        self._dispatch = dict(copyreg.dispatch_table) if copyreg is not None else None
        self._environ = dict(posix.environ)
        self._stdio = _stdio_state()
        self._sys_path = list(sys.path)
        self._state = self._process_state()

    def _checkpoint(self, uses=None):
        """Give what changed since the last checkpoint to the module whose
        code was running meanwhile (the classes it made, as made after
        USES uses; default: all so far)."""
        owner = self._owner()
        self._classes_made(owner, uses)
        if owner is not None:
            self._extras(owner)
            self._filters_added(owner)
            self._list_added(owner, "meta_path", self._meta_path, sys.meta_path, "sys.meta_path")
            self._list_added(owner, "path_hooks", self._path_hooks, sys.path_hooks,
                             "sys.path_hooks")
            self._reducers_added(owner)
            self._environ_changed(owner)
            self._path_inserted(owner)
            self._stdio_changed(owner)
            state = self._process_state()
            for what, value in state.items():
                if value != self._state[what]:
                    self.eager.setdefault(owner, f"its import changed {what}")
            for described in open_descriptors():
                self.descriptor_owners.setdefault(described, owner)
        self._namespaces_changed(owner)
        self._drain_notes(owner)
        self._snapshot()

    def _classes_made(self, owner, uses=None):
        """The classes made since the last checkpoint, noted as OWNER's,
        before the event recorded next and after the uses so far (_place):
        python3 has them once it has imported OWNER, and __subclasses__()
        shows them from then on.
        lazy_modules.hide makes them "types" events; until then they are
        kept out of the heap the modules' objects are on."""
        if self.noting_types:
            _pyfreeze.note_types(owner, self.events, self._places if uses is None else uses)

    # --- what a load changed in other modules' namespaces --------------------

    def _watch_namespaces(self):
        """Watch the namespaces of the modules loaded so far, and of the
        classes they define."""
        for name, module in list(sys.modules.items()):
            if name in self._watched_modules:
                continue
            namespace = _cpython.module_namespace(module)
            if namespace is None:
                continue        # not a module, or one without a dict
            self._watched_modules.add(name)
            objects = [module] + [value for value in list(namespace.values())
                                  if isinstance(value, type) and _defined_in(value, name)]
            for watched in objects:
                self._namespaces.append(watched)
                self._namespace_names.append(name)
                self._namespace_copies.append(_namespace_of(watched))
        _pyfreeze.namespace_changes(self._namespaces, self._namespace_versions)

    def _namespaces_changed(self, owner):
        """Give the changes made since the last checkpoint to other modules'
        and their classes' attributes to OWNER: a frozen module whose import
        did that cannot simply be loaded from source in a run (the changes
        would be made twice)."""
        for index in _pyfreeze.namespace_changes(self._namespaces, self._namespace_versions):
            watched = self._namespaces[index]
            name = self._namespace_names[index]
            before = self._namespace_copies[index]
            after = _namespace_of(watched)
            self._namespace_copies[index] = after
            if owner is None or name == owner:
                continue
            for key in before.keys() | after.keys():
                value = after.get(key, _UNSET)
                if value is before.get(key, _UNSET) or _bookkeeping(name, key, value):
                    continue
                where = name if watched is sys.modules.get(name) else f"{name}.{watched.__qualname__}"
                # the value before the owner's first change, to tell a net
                # change from one undone before its load ended
                changes = self.shared.setdefault(owner, {})
                changes.setdefault(f"{where}.{key}", (watched, key, before.get(key, _UNSET), name))
        self._watch_namespaces()

    def _undone_changes(self, name):
        """Drop the changes NAME's load made to other namespaces and undid
        again (catch_warnings() puts warnings' state back)."""
        changes = self.shared.get(name, {})
        for where, (watched, key, original, _) in list(changes.items()):
            if _namespace_of(watched).get(key, _UNSET) is original:
                del changes[where]
        if not changes:
            self.shared.pop(name, None)

    def _stdio_changed(self, owner):
        """Attributes set on the standard streams' layers (ansible wraps
        sys.stdout.buffer.write) and reconfigure() calls: the streams are
        python3's start-up objects, rebuilt in every run, so these are
        replayed like the other effects."""
        before, after = self._stdio, _stdio_state()
        for (name, layer), (attributes, settings) in after.items():
            old_attributes, old_settings = before.get((name, layer), ({}, settings))
            for key in old_attributes.keys() | attributes.keys():
                old, new = old_attributes.get(key, _UNSET), attributes.get(key, _UNSET)
                if old is not new:
                    self._add("stdio", owner, (name, layer, key, old, new))
            if settings != old_settings:
                self._add("stdio", owner, (name, layer, None, old_settings, settings))

    def _environ_changed(self, owner):
        before, after = self._environ, posix.environ
        for key in before.keys() | after.keys():
            if before.get(key) != after.get(key):
                self._add("environ", owner, (key, after.get(key)))

    def _path_inserted(self, owner):
        inserted = _insertions(self._sys_path, sys.path)
        if inserted is None:
            self.eager.setdefault(owner, "its import removed or reordered sys.path entries")
            return
        for index, item in inserted:
            self._add("sys_path", owner, (index, item))

    def _extras(self, owner):
        # in sys.modules' order, which a replay makes again
        for name in [name for name in sys.modules if name not in self._modules]:
            if name not in self.specs and name not in self.extras:
                self.extras[name] = owner
                self._add("extra", owner, [name, None])

    def _filters_added(self, owner):
        if self._warnings is None:
            return
        filters = self._warnings.filters
        if filters is not self._filter_list:
            return              # catch_warnings() put a copy in place for a while
        self._list_added(owner, "filter", self._filters, filters, "the warnings filters")

    def _list_added(self, owner, kind, before, after, what):
        changes = _filter_changes(before, after)
        if changes is None:
            self.eager.setdefault(owner, f"its import changed {what}")
            return
        front, back = changes
        for item in reversed(front):
            self._add(kind, owner, (0, item))
        for item in back:
            self._add(kind, owner, (1, item))

    def _reducers_added(self, owner):
        copyreg = sys.modules.get("copyreg")
        if copyreg is None:
            return
        table = copyreg.dispatch_table
        before = self._dispatch or {}
        if any(key not in table for key in before):
            self.eager.setdefault(owner, "its import removed copyreg reducers")
        for key, value in table.items():
            if before.get(key) is not value:
                self._add("copyreg", owner, (key, value))

    # --- at the end ----------------------------------------------------------

    def keep(self, startup):
        """Names that stay in sys.modules: python3's start-up modules, the
        eager ones and the modules they put there themselves."""
        keep = set(startup) | set(self.eager)
        keep.update(extra for extra, owner in self.extras.items() if owner in self.eager)
        return keep

    def settle(self, keep):
        """Leave the effects of kept modules in place (their atexit
        callbacks registered now, in order) and take those of hidden ones
        out of the process, to be replayed when they are revealed."""
        filters = self._warnings.filters
        copyreg = sys.modules.get("copyreg")
        self.startup_effects = []
        for seq, (kind, name, payload) in enumerate(self.events):
            if kind == "extra":
                payload[1] = sys.modules.get(payload[0])
                if name not in keep and payload[1] is not None:
                    del sys.modules[payload[0]]
                continue
            if name in keep:
                if kind == "atexit":
                    function, args, kwargs = payload
                    self._real_register(function, *args, **kwargs)
                elif kind in ("environ", "sys_path", "stdio"):
                    # The run's own environment, sys.path and streams replace
                    # the dump's: restore.py makes these changes again.
                    self.startup_effects.append((kind, name, payload))
                continue
            if kind == "stdio":
                _set_stdio(payload, undo=True)      # replayed when revealed
                continue
            if kind in ("filter", "meta_path", "path_hooks"):
                target = {"filter": filters, "meta_path": sys.meta_path,
                          "path_hooks": sys.path_hooks}[kind]
                for index, item in enumerate(target):
                    if item is payload[1]:
                        del target[index]
                        break
            elif kind == "copyreg" and copyreg is not None:
                key, value = payload
                if copyreg.dispatch_table.get(key) is value:
                    del copyreg.dispatch_table[key]
        _cpython.filters_mutated()
