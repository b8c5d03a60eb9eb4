# Records, while the dump imports, what each module's load did, so that an
# image can replay it when the program imports the module (lazy_modules.py).
#
# Per module: the modules it imported (loaded then or already loaded), and
# the events of its load in one global order: start, end, warnings issued,
# warnings filters, meta path finders and path hooks added, atexit callbacks
# registered, copyreg reducers added, modules it put into sys.modules
# itself.  A load that changed process-wide state an image cannot replay
# (sys.path, sys hooks, signal handlers, builtins, the environment...)
# makes the module "eager": it stays in sys.modules from the start, as every
# frozen module used to.

import sys
import builtins
import gc
import posix
import _signal
import _warnings

_bootstrap = sys.modules["_frozen_importlib"]
_DRIVER_FILE = "<pyfreeze>/dump.py"
# importlib's, and these hooks' own (the runtime compiles them under that
# name so that tracebacks and warnings skip them as they skip importlib)
_BOOTSTRAP_FILES = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
_ALWAYS = ("always", None, Warning, None, 0)


def _resolve(name, globals_, level):
    if not level:
        return name
    try:
        package = _bootstrap._calc___package__(globals_ or {})
        return _bootstrap._resolve_name(name, package, level)
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


class Recording:
    def __init__(self):
        self.events = []          # seq -> (kind, name, payload)
        self.events_of = {}       # name -> [seq]
        self.uses = {}            # name -> [module names it imported]
        self.first_use = {}       # name -> seq of the first event after its first use
        self.specs = {}           # name -> spec it was loaded from
        self.eager = {}           # name -> why it must stay in sys.modules
        self.extras = {}          # name put in sys.modules by another module's code -> owner
        self._stack = []          # names being loaded, innermost last
        self._importers = []      # the frame importing each of them
        self._active = False

    # --- hooks ---------------------------------------------------------------

    def start(self):
        self._warnings = None
        self._real_import = builtins.__import__
        self._real_gcd_import = _bootstrap._gcd_import
        self._real_load = _bootstrap._load_unlocked
        builtins.__import__ = self._on_import
        _bootstrap._gcd_import = self._on_gcd_import
        _bootstrap._load_unlocked = self._on_load
        self._active = True
        self._snapshot()
        # Imported under the recording, so that what they use is known.
        import atexit
        import warnings
        self._atexit = atexit
        self._real_register = atexit.register
        self._real_showwarnmsg = warnings._showwarnmsg
        self._real_showwarnmsg_impl = warnings._showwarnmsg_impl
        self._real_showwarning = warnings.showwarning
        self._filter_list = warnings.filters
        warnings.filters.insert(0, _ALWAYS)
        _warnings._filters_mutated()
        warnings._showwarnmsg = self._on_warning
        atexit.register = self._on_atexit
        self._warnings = warnings
        self._snapshot()

    def finish(self):
        self._checkpoint()
        self._active = False
        _bootstrap._load_unlocked = self._real_load
        _bootstrap._gcd_import = self._real_gcd_import
        builtins.__import__ = self._real_import
        self._atexit.register = self._real_register
        self._warnings._showwarnmsg = self._real_showwarnmsg
        filters = self._warnings.filters
        for index, item in enumerate(filters):
            if item is _ALWAYS:
                del filters[index]
                break
        _warnings._filters_mutated()
        # The snapshots hold the standard streams, a copy of builtins with
        # these hooks in it, and of the builder's environment: nothing of
        # that may stay in the frozen heap.
        self._state = self._modules = self._filters = self._dispatch = None
        self._meta_path = self._path_hooks = None

    def _owner(self):
        return self._stack[-1] if self._stack else None

    def _on_load(self, spec):
        if not self._active:
            return self._real_load(spec)
        name = spec.name
        self._checkpoint()
        self._use(self._owner(), name)
        self.specs[name] = spec
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
                self._add("end", name, None)
            elif name not in self._stack:
                self.events_of.pop(name, None)

    def _on_import(self, name, globals=None, locals=None, fromlist=(), level=0):
        module = self._real_import(name, globals, locals, fromlist, level)
        owner = self._owner()
        if self._active and owner is not None:
            absolute = _resolve(name, globals, level)
            if absolute:
                self._use(owner, absolute)
                for item in fromlist or ():
                    if isinstance(item, str) and f"{absolute}.{item}" in sys.modules:
                        self._use(owner, f"{absolute}.{item}")
        return module

    def _on_gcd_import(self, name, package=None, level=0):
        module = self._real_gcd_import(name, package, level)
        owner = self._owner()
        if self._active and owner is not None:
            self._use(owner, module.__name__ if level else name)
        return module

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
                or warnings._showwarnmsg_impl is not self._real_showwarnmsg_impl
                or warnings.showwarning is not self._real_showwarning):
            # Not in a module's load, or its code shows warnings its own way
            # (catch_warnings(record=True)...): as python3 would.
            return self._real_showwarnmsg(message)
        frame = sys._getframe(1)
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

    # --- bookkeeping ---------------------------------------------------------

    def _add(self, kind, name, payload):
        seq = len(self.events)
        self.events.append((kind, name, payload))
        self.events_of.setdefault(name, []).append(seq)

    def _use(self, owner, name):
        if owner is None or name == owner:
            return
        used = self.uses.setdefault(owner, [])
        if name not in used:
            used.append(name)
        self.first_use.setdefault(name, len(self.events))

    def _importer_frame(self):
        frame = sys._getframe(2)
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
            "sys.path": list(sys.path),
            "sys hooks": (sys.excepthook, sys.displayhook, sys.breakpointhook,
                          sys.unraisablehook, sys.gettrace(), sys.getprofile()),
            "interpreter settings": (sys.getrecursionlimit(), sys.getswitchinterval(),
                                     sys.dont_write_bytecode, gc.isenabled(),
                                     gc.get_threshold(), len(gc.callbacks)),
            "standard streams": (sys.stdin, sys.stdout, sys.stderr),
            "the environment": dict(posix.environ),
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
        self._state = self._process_state()

    def _checkpoint(self):
        """Give what changed since the last checkpoint to the module whose
        code was running meanwhile."""
        owner = self._owner()
        if owner is not None:
            self._extras(owner)
            self._filters_added(owner)
            self._list_added(owner, "meta_path", self._meta_path, sys.meta_path, "sys.meta_path")
            self._list_added(owner, "path_hooks", self._path_hooks, sys.path_hooks,
                             "sys.path_hooks")
            self._reducers_added(owner)
            state = self._process_state()
            for what, value in state.items():
                if value != self._state[what]:
                    self.eager.setdefault(owner, f"its import changed {what}")
        self._snapshot()

    def _extras(self, owner):
        for name in set(sys.modules) - self._modules:
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
        _warnings._filters_mutated()
