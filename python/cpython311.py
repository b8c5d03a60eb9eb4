"""The CPython 3.11 internals the Python side of pyfreeze relies on.

The import hooks sit inside importlib and the warnings machinery, and the
dump and the restore reset state a few stdlib modules keep in private
globals.  Every private name they use is resolved here, once, with what it
is relied on for; the other modules of python/ go through this one
(tests/unit/test_python_boundary.py holds them to it).  A port to another
CPython starts here, and check() says what this one lacks.

The runtime loads this module first, as `_pyfreeze.cpython311`, compiled
under importlib's file name like the hooks that call it (tracebacks and
warnings skip its frames as they skip importlib's).  It runs when only the
modules of python3's start-up are loaded and imports nothing more: what an
image holds in sys.modules must be what python3 has.  So names on modules
that start-up does not load (tempfile, logging...) are reached through
Global, given the module; names on importlib and _warnings are resolved
now.  Every name is looked up with a default (None), so that this module
loads on any Python and check() can say what is missing.  Instance
attributes (a thread's _native_id, a process's _config...) are named here
too, but check() only sees FileFinder's: for the others it would have to
make the object.

Left where they are used, as public in all but name: accelerator modules
imported for what their public module re-exports, because that module may
not be loaded yet (importing it would change sys.modules): _thread (RLock,
allocate_lock, get_ident: threading's), _weakref.ref (weakref.ref), _io
(FileIO, BufferedReader, TextIOWrapper...: io's classes), _signal (signal,
getsignal, SIG_IGN, SIG_DFL, NSIG, default_int_handler: signal's) and posix
(os's functions).  Their private attributes (RLock._at_fork_reinit,
FileIO._blksize) are here.  _warnings is here entirely: what pyfreeze uses
of it is the warnings state before warnings is imported.
"""

import sys
import _warnings

_bootstrap = sys.modules.get("_frozen_importlib")

# --- what check() verifies ------------------------------------------------------

# (owner, name, shape) of every name below, in the order check() tries them.
# An owner is a dotted path from a module: 'tempfile', 'threading.Thread'.
_NEEDED = []
# Modules python3's start-up always loads: check() requires them and what
# their paths name.  Others are checked once the program or pyfreeze has
# loaded them.
_STARTUP_OWNERS = ("sys", "_warnings", "_thread", "_io",
                   "importlib._bootstrap", "importlib._bootstrap_external")
# importlib's two modules are in sys.modules under their frozen names
# whether or not importlib itself was imported.
_MODULE_NAMES = {"importlib._bootstrap": "_frozen_importlib",
                 "importlib._bootstrap_external": "_frozen_importlib_external"}
_ABSENT = object()

# Shapes: (test, what the message says the value is not).
_CALLABLE = (callable, "callable")
_CLASS = (lambda value: isinstance(value, type), "a class")
_FUNCTION = (lambda value: type(value) is type(_owner), "a Python function")
_LIST = (lambda value: isinstance(value, list), "a list")
_DICT = (lambda value: isinstance(value, dict), "a dict")
_STR = (lambda value: isinstance(value, str), "a str")
_NUMBER = (lambda value: isinstance(value, (int, float)), "a number")
_ANY = None


def _need(owner, name, shape=_CALLABLE):
    """OWNER.NAME now (None when it is missing), noted for check()."""
    _NEEDED.append((owner, name, shape))
    found = _owner(owner)
    return getattr(found, name, None) if found is not None else None


def _relies_on(owner, name, shape=_ANY):
    """Notes for check() the name the function decorated uses."""
    def note(function):
        _NEEDED.append((owner, name, shape))
        return function
    return note


def _owner(path):
    """The object PATH names, or None when its module is not loaded or
    lacks a step of the path (check() reports that step on its own)."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        found = sys.modules.get(_MODULE_NAMES.get(name, name))
        if found is not None:
            break
    else:
        return None
    for part in parts[end:]:
        found = getattr(found, part, None)
    return found


class _Hook:
    """An importlib function pyfreeze replaces with its own: importlib calls
    it through its module's globals, so the replacement sees every call."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name
        _need("importlib._bootstrap", name)

    def get(self):
        return getattr(_bootstrap, self.name, None)

    def set(self, function):
        setattr(_bootstrap, self.name, function)


class Global:
    """A private global of a stdlib module start-up does not load, read or
    set on the module the caller has (pyfreeze never imports it for that).
    Used once check() passed: a missing one raises AttributeError."""

    __slots__ = ("name",)

    def __init__(self, owner, name, shape=_ANY):
        self.name = name
        _NEEDED.append((owner, name, shape))

    def get(self, module):
        return getattr(module, self.name)

    def set(self, module, value):
        setattr(module, self.name, value)


# --- the import system ------------------------------------------------------------

# _bootstrap._find_spec: asks sys.meta_path's finders for a spec, for every
# import; lazy_modules' hook finds what python3 cannot (hidden modules, pyfreeze)
FIND_SPEC = _Hook("_find_spec")
# _bootstrap._load_unlocked: creates and runs a module from its spec, called by
# _find_and_load_unlocked for an import; lazy_modules reveals there, the
# recorder watches loads there
LOAD_UNLOCKED = _Hook("_load_unlocked")
# _bootstrap._gcd_import: importlib.import_module's way in, which bypasses
# builtins.__import__; the recorder notes its uses there
GCD_IMPORT = _Hook("_gcd_import")
# _bootstrap._find_and_load_unlocked: runs one module's import; its code object
# on the calling frame tells an import from other calls of _load_unlocked
# (importlib._bootstrap._load, which wants a new module)
FIND_AND_LOAD_UNLOCKED_CODE = getattr(
    _need("importlib._bootstrap", "_find_and_load_unlocked", _FUNCTION), "__code__", None)
# _bootstrap._ImportLockContext: the global import lock, held while a meta
# path finder's find_spec is looked up, as _find_spec does
ImportLockContext = _need("importlib._bootstrap", "_ImportLockContext", _CLASS)
# _bootstrap._calc___package__ and _resolve_name: how __import__ turns a
# relative import into the absolute name
calc_package = _need("importlib._bootstrap", "_calc___package__")
resolve_name = _need("importlib._bootstrap", "_resolve_name")
# importlib.machinery's classes, taken from _bootstrap: importing
# importlib.machinery would load a module python3 does not have at start-up
ModuleSpec = _need("importlib._bootstrap", "ModuleSpec", _CLASS)
BuiltinImporter = _need("importlib._bootstrap", "BuiltinImporter", _CLASS)
FrozenImporter = _need("importlib._bootstrap", "FrozenImporter", _CLASS)
PathFinder = _need("importlib._bootstrap_external", "PathFinder", _CLASS)
FileFinder = _need("importlib._bootstrap_external", "FileFinder", _CLASS)
SourceFileLoader = _need("importlib._bootstrap_external", "SourceFileLoader", _CLASS)
# importlib.util.cache_from_source: where an import writes a source
# module's bytecode (sys.pycache_prefix counts)
cache_from_source = _need("importlib._bootstrap_external", "cache_from_source")
SourcelessFileLoader = _need("importlib._bootstrap_external", "SourcelessFileLoader", _CLASS)
ExtensionFileLoader = _need("importlib._bootstrap_external", "ExtensionFileLoader", _CLASS)
# PathFinder._path_importer_cache: sys.path_importer_cache's finder for a
# path entry, made (through sys.path_hooks) and cached when missing
path_importer_cache = _need("importlib._bootstrap_external.PathFinder", "_path_importer_cache")
# _bootstrap_external._path_join, _path_isfile, _path_stat: the path
# functions FileFinder searches with
path_join = _need("importlib._bootstrap_external", "_path_join", _FUNCTION)
path_isfile = _need("importlib._bootstrap_external", "_path_isfile")
path_stat = _need("importlib._bootstrap_external", "_path_stat")

# The file names of importlib's frozen code: python3 leaves these frames out
# of tracebacks and of the frames warnings blame, and the runtime compiles
# pyfreeze's import hooks (and this module) under the first
BOOTSTRAP_FILE = "<frozen importlib._bootstrap>"
BOOTSTRAP_FILES = (BOOTSTRAP_FILE, "<frozen importlib._bootstrap_external>")
# The start of the file name of every frozen importlib module's code
# (importlib.util, importlib.machinery as well)
FROZEN_IMPORTLIB_PREFIX = "<frozen importlib."


# A module's namespace as ModuleType keeps it.  A module class of a
# library's own may make reading any attribute, __dict__ included, import
# things (apipkg's lazy modules in `py`, which pytest and tox import):
# python3's import system reads neither, and pyfreeze must not either.
_MODULE_DICT = type(sys).__dict__["__dict__"]


# A class's namespace as type keeps it: None for a static type an
# extension module has not readied yet (_socket.socket), where reading
# cls.__dict__ would ready it, and add it to object.__subclasses__()
# earlier than python3 does.
_TYPE_DICT = type.__dict__["__dict__"]


def class_namespace(cls):
    """The mapping proxy of class CLS's namespace, or None when it has none
    yet; nothing of CLS is readied."""
    return _TYPE_DICT.__get__(cls)


def module_spec(module):
    """The __spec__ a module in sys.modules has in its namespace, or None:
    read as module_namespace reads, so that a lazy module (apipkg's alias
    of py.test) does not import what it stands for."""
    namespace = module_namespace(module)
    return namespace.get("__spec__") if namespace is not None else None


def importlib_class(cls):
    """Whether CLS is one of importlib._bootstrap's own classes."""
    return vars(_bootstrap).get(cls.__name__) is cls


def module_namespace(module):
    """The namespace dict of what sys.modules holds, or None.  A module
    object's is read without running any code of its class; another
    object's __dict__ is asked for (a proxy that stands in for a module,
    as twisted's does, forwards it)."""
    if type(sys) in type(module).__mro__:
        namespace = _MODULE_DICT.__get__(module)
    else:
        try:
            namespace = getattr(module, "__dict__", None)
        except Exception:
            return None
    return namespace if type(namespace) is dict else None


# FileFinder's instance attributes (check() looks at a FileFinder made for
# "/"): _path_cache, the directory's listing it searches, taken when
# _path_mtime, the directory's mtime then, differs from the directory's; and
# _loaders, (suffix, loader) pairs in search order
FILE_FINDER_MTIME = "_path_mtime"


def file_finder_suffixes(finder):
    """The module suffixes FINDER tries, in its order."""
    return [suffix for suffix, _ in finder._loaders]


def file_finder_finds(finder, tail, suffixes):
    """Whether FileFinder FINDER would find a module or regular package
    TAIL, as its find_spec() decides from the same cached listing (a
    directory without __init__ is only a namespace portion, which a module
    found further on wins over; a file without a module suffix, like
    /usr/bin/gettext, is nothing)."""
    cache = finder._path_cache
    if tail in cache:
        package = path_join(finder.path, tail)
        if any(path_isfile(path_join(package, "__init__" + suffix)) for suffix in suffixes):
            return True
    for suffix in suffixes:
        if tail + suffix in cache:
            return True
    return False


def file_finder_listing(finder):
    """The cached listing FINDER searches (a set of names)."""
    return finder._path_cache


def file_finder_lists(finder, tail, suffixes):
    """Whether FileFinder FINDER's cached listing has anything named TAIL,
    with or without one of SUFFIXES: a module, a package or a namespace
    portion its find_spec() may find."""
    cache = finder._path_cache
    return tail in cache or any(tail + suffix in cache for suffix in suffixes)


def file_finder_listing_current(finder):
    """Whether FINDER's cached listing is the directory's now (FileFinder
    lists the directory again when its mtime moved)."""
    try:
        return path_stat(finder.path).st_mtime == finder._path_mtime
    except OSError:
        return False


# --- sys ------------------------------------------------------------------------------

# sys._getframe: the hooks find the import statement and the code reading a
# value by walking the caller's frames (the function itself, so that calling
# it adds no frame)
getframe = _need("sys", "_getframe")
# posix._exit (os._exit): ends the process at once, without atexit callbacks
# or flushing, as a child of fork() must (site's trial rehearsal)
exit_at_once = _need("posix", "_exit")
# sys._xoptions: the -X options; the image renews the object (sys_objects.c)
SYS_XOPTIONS = "_xoptions"
# sys._base_executable, sys._stdlib_dir and sys._xoptions: set from the run's
# configuration, read by site, sysconfig and -X users: inputs of an import
# that reads them
PRIVATE_SYS_INPUTS = ("_base_executable", SYS_XOPTIONS, "_stdlib_dir")
for _name in PRIVATE_SYS_INPUTS:
    _need("sys", _name, _ANY)
del _name

# --- warnings ---------------------------------------------------------------------

# _warnings._filters_mutated: tells the C warnings code that the filters list
# changed (a registry of the warnings shown holds for one version of it)
filters_mutated = _need("_warnings", "_filters_mutated")
# _warnings.warn_explicit: warnings.warn_explicit, whether warnings is
# imported or not
warn_explicit = _need("_warnings", "warn_explicit")
_need("_warnings", "filters", _LIST)


def warning_filters():
    """The filters list: warnings.filters, which is _warnings.filters until
    warnings is imported (and the same list after, unless replaced)."""
    warnings = sys.modules.get("warnings")
    return warnings.filters if warnings is not None else _warnings.filters


@_relies_on("_warnings", "_defaultaction", _STR)
def default_action():
    """_warnings._defaultaction: the action when no filter matches, as the
    C code had it when _warnings was made."""
    return _warnings._defaultaction


# warnings._showwarnmsg: shows a warning that the filters let through (the
# recorder holds it back to replay); warnings._showwarnmsg_impl: its default
# body, which catch_warnings(record=True) replaces
SHOW_WARNING = Global("warnings", "_showwarnmsg", _CALLABLE)
SHOW_WARNING_IMPL = Global("warnings", "_showwarnmsg_impl", _CALLABLE)
# warnings._processoptions: applies -W options (sys.warnoptions) to the filters
PROCESS_OPTIONS = Global("warnings", "_processoptions", _CALLABLE)

# --- threads, files, weak references --------------------------------------------


@_relies_on("_thread.RLock", "_at_fork_reinit", _CALLABLE)
def reinit_after_fork(lock):
    """RLock._at_fork_reinit: frees a lock in a child of fork() whatever
    thread held it (threading's own after-fork code does the same)."""
    lock._at_fork_reinit()


@_relies_on("_io.FileIO", "_blksize", _ANY)
def block_size(raw):
    """FileIO._blksize: the descriptor's st_blksize, io.open()'s choice of
    buffer size when it is above 1."""
    return raw._blksize


# atexit._ncallbacks(): how many exit callbacks are registered (site's memo
# refuses a .pth line that registered one: a re-run registers it again)
ATEXIT_COUNT = Global("atexit", "_ncallbacks", _CALLABLE)
# threading._main_thread: the main Thread object (threading.main_thread()'s)
MAIN_THREAD = Global("threading", "_main_thread")
# threading._after_fork: threading's os.register_at_fork(after_in_child=)
# callback, which makes the calling thread the main one (its ident may have
# changed) and the others stopped; an image runs it at start, not the rest
THREADING_AFTER_FORK = Global("threading", "_after_fork", _FUNCTION)
# random._inst: the Random instance behind random's functions, seeded from
# os.urandom() when random is imported (its after-fork callback seeds it)
RANDOM_INSTANCE = Global("random", "_inst")
# Thread's instance attribute _native_id: the kernel's id of the thread (not
# checked, as the instance attributes below: check() would have to make one)
THREAD_NATIVE_ID = "_native_id"


@_relies_on("threading.Thread", "_set_native_id", _CALLABLE)
def renew_native_id(thread):
    """Thread._set_native_id: sets _native_id from the calling thread."""
    thread._set_native_id()


# weakref.finalize._registry: finalize object -> its _Info (with .atexit:
# whether it runs at exit), every one still pending
FINALIZE_REGISTRY = Global("weakref.finalize", "_registry", _DICT)

# Weak reference callbacks of the stdlib's own bookkeeping, as (module,
# qualified name): running them at teardown only updates containers that
# are about to vanish.  The last two are C functions bound to a weak
# reference: _abc's registry clean-up, and _thread._local's, which drops a
# thread's dict of a local object (objects in it that have finalizers are
# checked on their own).  Compared by name: one missing only makes the
# teardown run.
QUIET_WEAKREF_CALLBACKS = frozenset((
    ("_weakrefset", "WeakSet.__init__.<locals>._remove"),
    ("weakref", "WeakValueDictionary.__init__.<locals>.remove"),
    ("weakref", "WeakKeyDictionary.__init__.<locals>.remove"),
    ("logging", "_removeHandlerRef"),
    (None, "ReferenceType._destroy"),
    (None, "ReferenceType._localdummy_destroyed"),
))

# --- stdlib state an image renews at every start --------------------------------

# random._inst: the Random behind random's functions (reseeded after fork)
RANDOM_INSTANCE = Global("random", "_inst")
# tempfile._name_sequence: the _RandomNameSequence tempfile makes on first use
# (None until then)
TEMPFILE_NAMES = Global("tempfile", "_name_sequence")
# _RandomNameSequence's instance attributes _rng and _rng_pid: the Random it
# made and the pid of the process it made it in (another pid makes another)
NAME_SEQUENCE_RANDOM = "_rng"
NAME_SEQUENCE_PID = "_rng_pid"
# logging._startTime: the time logging was imported, base of relativeCreated
LOGGING_START_TIME = Global("logging", "_startTime", _NUMBER)


def process_config(process):
    """BaseProcess's instance attribute _config: a process's settings, its
    authkey among them (the main process's drawn from os.urandom when
    multiprocessing.process is imported).  Not checked: check() would have
    to make a process object."""
    return process._config


# Caches of machine facts, filled on first use: sysconfig's configuration
# variables and user base, platform's uname, os-release and platform()
# results, uuid's node and last timestamp
SYSCONFIG_CONFIG_VARS = Global("sysconfig", "_CONFIG_VARS")
SYSCONFIG_USER_BASE = Global("sysconfig", "_USER_BASE")
PLATFORM_UNAME_CACHE = Global("platform", "_uname_cache")
PLATFORM_OS_RELEASE_CACHE = Global("platform", "_os_release_cache")
PLATFORM_CACHE = Global("platform", "_platform_cache", _DICT)
UUID_NODE = Global("uuid", "_node")
UUID_LAST_TIMESTAMP = Global("uuid", "_last_timestamp")

# Module globals the standard library fills on first use, from the same
# inputs each time (or renewed at restore), as (module, name): filling one
# during another module's import is no change of that module's
FIRST_USE_CACHES = frozenset((
    ("tempfile", "_name_sequence"), ("tempfile", "tempdir"), ("uuid", "_node"),
    ("uuid", "_last_timestamp"), ("platform", "_uname_cache"), ("platform", "_os_release_cache"),
    ("sysconfig", "_CONFIG_VARS"), ("sysconfig", "_USER_BASE"), ("_strptime", "_TimeRE_cache"),
    ("mimetypes", "inited"), ("mimetypes", "_db"), ("locale", "_setlocale"),
))
for _module, _name in sorted(FIRST_USE_CACHES):
    _NEEDED.append((_module, _name, _ANY))
del _module, _name

# re._cache: re's cache of compiled patterns, {(type(pattern), pattern, flags
# as an int): Pattern}, oldest first, at most re._MAXCACHE of them, which
# re.compile() and the other functions of re look in first; and
# re._compiler.compile(pattern, flags), what re._compile() calls on a miss.
# The dump fills the cache with the patterns a learning run compiled.
RE_CACHE = Global("re", "_cache", _DICT)
RE_MAXCACHE = Global("re", "_MAXCACHE", _NUMBER)
RE_COMPILE = Global("re._compiler", "compile", _CALLABLE)

# os._Environ: the class of os.environ and os.environb (the recorder watches
# their reads through a subclass)
ENVIRON_CLASS = Global("os", "_Environ", _CLASS)

# --- 3.11 bytecode ------------------------------------------------------------------

# opcode._inline_cache_entries: how many cache entries follow each instruction
_NEEDED.append(("opcode", "_inline_cache_entries", _LIST))
# The instructions the model below knows, by name
_OPNAMES = ("STORE_NAME", "STORE_GLOBAL", "STORE_FAST", "STORE_DEREF", "STORE_ATTR",
            "LOAD_CONST", "LOAD_NAME", "LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE", "PUSH_NULL",
            "PRECALL", "KW_NAMES", "NOP", "EXTENDED_ARG", "CACHE", "BUILD_TUPLE",
            "BUILD_CONST_KEY_MAP", "BUILD_MAP", "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD",
            "CALL", "BUILD_LIST", "BUILD_SET", "BUILD_STRING", "BUILD_SLICE", "MAKE_FUNCTION",
            "BINARY_OP", "BINARY_SUBSCR")


class Bytecode:
    """What the code after the instruction a frame runs does with that
    instruction's result, read from 3.11's bytecode (instructions of two
    bytes, each followed by its inline cache entries).  Made from the opcode
    module, which the caller imports (start-up does not)."""

    def __init__(self, opcode):
        op = {name: opcode.opmap.get(name) for name in _OPNAMES}
        self._op = op
        self._caches = getattr(opcode, "_inline_cache_entries", None)
        self._stores = frozenset(op[name] for name in ("STORE_NAME", "STORE_GLOBAL", "STORE_FAST",
                                                       "STORE_DEREF", "STORE_ATTR"))
        self._push_one = frozenset(op[name] for name in ("LOAD_CONST", "LOAD_NAME", "LOAD_FAST",
                                                         "LOAD_DEREF", "LOAD_CLOSURE", "PUSH_NULL"))
        self._no_effect = frozenset(op[name] for name in ("PRECALL", "KW_NAMES", "NOP",
                                                          "EXTENDED_ARG", "CACHE"))
        # instructions that fold what they pop into one value that keeps it
        # as it is: a tuple or dict of defaults
        self._collectors = frozenset(op[name] for name in ("BUILD_TUPLE", "BUILD_CONST_KEY_MAP",
                                                           "BUILD_MAP"))

    def _stack_use(self, op, arg):
        """(popped, pushed) of the instructions an argument default or a
        global is built with in 3.11, or None for any other."""
        OP = self._op
        if op in self._push_one:
            return 0, 1
        if op in self._no_effect:
            return 0, 0
        if op == OP["LOAD_GLOBAL"]:
            return 0, 1 + (arg & 1)
        if op == OP["LOAD_ATTR"]:
            return 1, 1
        if op == OP["LOAD_METHOD"]:
            return 1, 2
        if op == OP["CALL"]:
            return arg + 2, 1
        if op in (OP["BUILD_TUPLE"], OP["BUILD_LIST"], OP["BUILD_SET"], OP["BUILD_STRING"]):
            return arg, 1
        if op == OP["BUILD_SLICE"]:
            return arg, 1
        if op == OP["BUILD_CONST_KEY_MAP"]:
            return arg + 1, 1
        if op == OP["BUILD_MAP"]:
            return 2 * arg, 1
        if op == OP["MAKE_FUNCTION"]:
            return 1 + bin(arg & 0x0F).count("1"), 1
        if op in (OP["BINARY_OP"], OP["BINARY_SUBSCR"]):
            return 2, 1
        return None

    def only_kept(self, frame):
        """Whether the value the instruction FRAME runs reads is only kept:
        stored under a name, or made (with other defaults computed
        meanwhile) a function's default.  Anything else that uses it (a
        subscript, an attribute, a call with it) reads it.  Followed on a
        model of the value stack; an instruction the model does not know
        counts as a read.  (A value kept and then read through the name it
        was kept under, while the module is still being imported, is not
        seen.)"""
        OP = self._op
        code = frame.f_code.co_code
        at = frame.f_lasti
        if at < 0 or at + 1 >= len(code):
            return False
        at += 2 + 2 * self._caches[code[at]]
        stack = [True]                  # True: holds the value read
        extended = 0
        while at + 1 < len(code) and len(stack) < 64:
            op, arg = code[at], code[at + 1] | extended
            extended = (arg << 8) if op == OP["EXTENDED_ARG"] else 0
            if op in self._stores:
                # STORE_ATTR stores the value under the object it sets it on
                value = stack[-2:-1] if op == OP["STORE_ATTR"] else stack[-1:]
                return bool(value and value[0])
            use = self._stack_use(op, arg)
            if use is None:
                return False
            popped, pushed = use
            # More than the model holds: what was below the value goes too.
            taken = stack[max(0, len(stack) - popped):] if popped else []
            del stack[max(0, len(stack) - popped):]
            if any(taken):
                if op == OP["MAKE_FUNCTION"]:
                    return True
                if op not in self._collectors:
                    return False
            stack.extend([any(taken)] + [False] * (pushed - 1) if pushed else [])
            at += 2 + 2 * self._caches[op]
        return False

    def attribute_read(self, frame):
        """The attribute name when the instruction after the one FRAME runs
        reads an attribute of its result (sys.flags.optimize), else None."""
        code = frame.f_code.co_code
        at = frame.f_lasti
        if at < 0 or at + 1 >= len(code):
            return None
        at += 2 + 2 * self._caches[code[at]]
        if at + 1 < len(code) and code[at] == self._op["LOAD_ATTR"]:
            return frame.f_code.co_names[code[at + 1]]
        return None

    def constant_index(self, frame):
        """N when the instructions after the one FRAME runs index its result
        with the constant N (sys.argv[0]), else None."""
        code = frame.f_code.co_code
        at = frame.f_lasti
        if at < 0 or at + 1 >= len(code):
            return None
        at += 2 + 2 * self._caches[code[at]]
        if (at + 3 < len(code) and code[at] == self._op["LOAD_CONST"]
                and code[at + 2] == self._op["BINARY_SUBSCR"]):
            index = frame.f_code.co_consts[code[at + 1]]
            if type(index) is int:
                return index
        return None


# --- the check --------------------------------------------------------------------

def check():
    """None when this Python has every name above, in the shape pyfreeze
    relies on; else a one-line message naming the first thing missing.
    Names on modules python3's start-up does not load are checked when the
    module is loaded: importing it here would change what an image holds."""
    version = sys.version_info
    if (version[0], version[1]) != (3, 11):
        return (f"this Python is {version[0]}.{version[1]}.{version[2]}; "
                f"pyfreeze's runtime supports CPython 3.11")
    return _first_missing() or _file_finder_problem() or _code_file_problem() or _opcode_problem()


def _first_missing():
    for owner_path, name, shape in _NEEDED:
        owner = _owner(owner_path)
        if owner is None:
            if any(owner_path == module or owner_path.startswith(module + ".")
                   for module in _STARTUP_OWNERS):
                return f"CPython boundary: {owner_path} is missing"
            continue
        value = getattr(owner, name, _ABSENT)
        if value is _ABSENT:
            return f"CPython boundary: {owner_path} has no {name}"
        if shape is not None and not shape[0](value):
            return f"CPython boundary: {owner_path}.{name} is not {shape[1]}"
    return None


def _file_finder_problem():
    """FileFinder's instance attributes, on one made for "/" (which reads
    nothing)."""
    try:
        finder = _owner("importlib._bootstrap_external.FileFinder")("/")
    except Exception as exc:
        return f"CPython boundary: importlib._bootstrap_external.FileFinder('/') raised {exc!r}"
    for name in ("_loaders", "_path_cache", FILE_FINDER_MTIME):
        if name not in finder.__dict__:
            return f"CPython boundary: importlib._bootstrap_external.FileFinder has no {name}"
    return None


def _code_file_problem():
    """The frames of importlib's code carry the file names above."""
    for owner, name, file in (("importlib._bootstrap", "_find_and_load_unlocked", BOOTSTRAP_FILES[0]),
                              ("importlib._bootstrap_external", "_path_join", BOOTSTRAP_FILES[1])):
        actual = getattr(_owner(owner), name).__code__.co_filename
        if actual != file:
            return f"CPython boundary: {owner}'s code is named {actual}, not {file}"
    return None


def _opcode_problem():
    opcode = sys.modules.get("opcode")
    if opcode is None:
        return None
    for name in _OPNAMES:
        if name not in opcode.opmap:
            return f"CPython boundary: opcode has no {name}"
    return None
