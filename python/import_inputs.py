# What an import read from outside the heap, and whether it is still so.
#
# A frozen module stands for python3's import of it only while what that
# import read is unchanged (DESIGN section 3a).  The dump notes each read,
# with the value read, against the module being imported
# (import_recorder.py); the image compares the notes with this run before it
# hands the module out (lazy_modules.py) or, for modules that stay in
# sys.modules from the start, before the program runs (restore.py).
#
# An input is a key, (kind, detail), and its value: the value is computed
# by the same function at the freeze and in the run, so comparing them is
# comparing the two runs.  Kinds:
#   env NAME     an environment variable (its hash, or None when unset)
#   environ      the whole environment (a module that iterated over it)
#   cwd          the working directory
#   tty FD       whether a standard descriptor is a terminal
#   host         the machine's names (uname: host name, kernel...)
#   ids          the process's user and group ids
#   umask        the file mode creation mask
#   rlimit N     a resource limit (getrlimit's resource N): soft and hard
#   user UID|NAME  the password-database entry looked up
#   file PATH    what a file it looked at is: its type, followed or not,
#                where it links to, and a regular file's size and time (the
#                image itself counts as itself)
#   list PATH    a directory it listed: the names in it (hashed)
#   stamp PATH   a directory listed, or an entry of sys.path, by its
#                identity and times, or its stat error (site's memo,
#                site_memo.py: cheaper than listing it again, and kept only
#                for one unchanged for seconds, so that an entry added
#                since would have moved its time)
#   read PATH    a file it opened for reading: type, size and mtime; the
#                kernel's files (/proc, /sys) and devices other than
#                /dev/null and /dev/zero never match
#   create PATH  a file or directory its import created, renamed or
#                removed (a cache written once): as the import left it (a
#                directory's type, a file's type, size and mtime), which a
#                python3 run finding it so would leave alone
#   write PATH   a file that existed and its import changed (a log appended
#                to): python3 changes it again in every run, so it never
#                matches
#   dirfd PATH   a path relative to a directory descriptor: it cannot be
#                looked up again, so it never matches
#   output FD    something it printed on standard output or error: python3
#                prints it in every run, so it never matches
#   sys NAME     sys.NAME's value (sys.argv's contents, sys.executable...)
#   stdio        the standard streams' encodings and buffering
#   clock TIME   the time of day (time.time(), datetime.now()), kept by the
#                module (the recorder looks for it in its namespace and
#                forgets the read otherwise): another in every run, so it
#                never matches
#   random       random bytes drawn (os.urandom, a seed): the same
#   locale       the C library's locale, set (locale.setlocale): python3
#                sets it again in every run, so it never matches
#   child        another program run and waited for: the same
#   altstack     an alternate signal stack set up (faulthandler.enable()):
#                the same
#   missing NAME a module it looked for and did not find (`try: import
#                simplejson`): what a search of the meta path finds now
#                (lazy_modules.search_finds), None for nothing
# except where restore.py renews what the import kept (RENEWED below).  Not
# inputs: the monotonic clocks (CPython's locks read them at every
# acquisition), and the import system's search for what it found (the
# image checks that the same files would load, lazy_modules.py).
#
# `_pyfreeze` (C helpers) is injected into this namespace by the runtime.

import sys
import posix

_WRITTEN = ("written",)         # equal to nothing another run computes
# NAME -> what python3's search for module NAME would find now, or None
# (lazy_modules.search_finds, which knows the image's packages)
search_finds = None

# (module, kind) of the clock and randomness reads whose result restore.py
# renews in every run: logging's start time, random's seed, the main
# process's authentication key
RENEWED = frozenset((("logging", "clock"), ("random", "random"), ("multiprocessing.process", "random")))


# Environment values are kept as hashes (the image's hash secret is fixed,
# so the freeze and the run hash alike): a module that only looked at a
# token does not put it into the image.
def _environ_value(name):
    try:
        value = posix.environ.get(name.encode("utf-8", "surrogateescape"))
    except Exception:
        return None
    return None if value is None else hash(value)


# the image's own path in this process (the freeze's is where the image is
# written), as given and resolved: looking at it is looking at the program
# that runs.  At the freeze it does not exist yet, and the C library shows
# the imports a regular file there (import_inputs.c); a run finds the
# image itself there, a regular file, unless it was installed as a link.
# Resolved when a file input of the same name is first compared: resolving
# takes a system call per component of the path, at every start, and most
# starts compare none.
_executable = None
_executables = frozenset()
_executable_tails = None
_executable_future = False


def set_executable(path, future=False):
    global _executable, _executables, _executable_tails, _executable_future
    posixpath = sys.modules["posixpath"]
    _executable = posixpath.abspath(path) if not path.startswith("/") else path, path
    _executables = None
    _executable_tails = None
    _executable_future = future


def _may_name_executable(path):
    """Whether PATH can be one of _executable_names(): they all end in one
    of these last components (found without a system call)."""
    global _executable_tails
    if _executable_tails is None:
        normpath = sys.modules["posixpath"].normpath
        absolute, given = _executable
        _executable_tails = frozenset(name.rpartition("/")[2]
                                      for name in (given, normpath(given), normpath(absolute)))
    return path.rpartition("/")[2] in _executable_tails


def _executable_names():
    global _executables
    if _executables is None:
        posixpath = sys.modules["posixpath"]
        absolute, path = _executable
        directory, name = posixpath.split(posixpath.normpath(absolute))
        _executables = frozenset((path, posixpath.normpath(path),
                                  posixpath.join(posixpath.realpath(directory), name)))
    return _executables


def _status(call, path):
    try:
        return call(path)
    except OSError as error:
        return ("error", error.errno)
    except ValueError:
        return ("invalid",)


def _file_value(path):
    if _may_name_executable(path) and path in _executable_names():
        if _executable_future:
            return ("the executable",)
        link = _status(posix.lstat, path)
        if type(link) is not tuple and type_of(link) == 0o100000:
            return ("the executable",)
    followed = _status(posix.stat, path)
    link = _status(posix.lstat, path)
    target = _status(posix.readlink, path) if type(link) is not tuple and (link.st_mode & 0o170000) == 0o120000 else None
    value = tuple(type_of(status) for status in (followed, link)) + (target,)
    # a regular file's size and time: what an import that looked at it may
    # have kept (a cache checked against its source's time)
    if type(followed) is not tuple and type_of(followed) == 0o100000:
        value += (followed.st_size, followed.st_mtime_ns)
    return value


def type_of(status):
    return status if type(status) is tuple else status.st_mode & 0o170000


# What a file read says when reading it again may say something else: the
# kernel's files (/proc, /sys) and devices, pipes and sockets, but for the
# two devices that always read the same
_UNREPEATABLE = ("read differently each time",)
_REPEATABLE_DEVICES = ("/dev/null", "/dev/zero")
_STREAM_TYPES = (0o020000, 0o060000, 0o010000, 0o140000)     # char, block, fifo, socket


def _contents_value(path):
    if path.startswith(("/proc/", "/sys/")):
        return _UNREPEATABLE
    status = _status(posix.stat, path)
    if type(status) is tuple:
        return status
    if type_of(status) in _STREAM_TYPES and path not in _REPEATABLE_DEVICES:
        return _UNREPEATABLE
    if type_of(status) == 0o040000:
        return (0o040000,)
    return (type_of(status), status.st_size, status.st_mtime_ns)


def _listing_value(path):
    names = _status(posix.listdir, path)
    return names if type(names) is tuple else hash(tuple(sorted(names)))


def _stamp_value(path):
    status = _status(posix.stat, path)
    if type(status) is tuple:
        return status
    return (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_ctime_ns)


def plain(value):
    """A copy of VALUE that later changes to VALUE do not reach."""
    if isinstance(value, (list, tuple)):
        return tuple(plain(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((repr(key), plain(item)) for key, item in value.items()))
    if isinstance(value, (str, bytes, int, float, bool, type(None))):
        return value
    return repr(value)


def _stream_value(stream):
    return (type(stream).__name__, getattr(stream, "encoding", None), getattr(stream, "errors", None),
            getattr(stream, "line_buffering", None), getattr(stream, "write_through", None))


def item(sequence, index):
    """SEQUENCE[INDEX], or None when there is no such item."""
    try:
        return plain(sequence[index])
    except (IndexError, TypeError):
        return None


def _cwd():
    try:
        return posix.getcwd()
    except OSError as error:
        return ("error", error.errno)


# How close to a time read a kept number must be to count as that time, in
# seconds, and the units a number may count it in (s, ms, us, ns).
_TIME_SLACK = 10.0
_TIME_SCALES = (1, 1e3, 1e6, 1e9)


def _is_time(value, times):
    if type(value) in (int, float):
        return any(abs(value - when * scale) <= _TIME_SLACK * scale for when in times for scale in _TIME_SCALES)
    stamp = getattr(type(value), "timestamp", None)     # datetime.datetime
    if callable(stamp) and type(value).__module__ == "datetime":
        try:
            return _is_time(stamp(value), times)
        except (TypeError, ValueError, OverflowError, OSError):
            return False
    ordinal = getattr(type(value), "toordinal", None)   # datetime.date
    if callable(ordinal) and type(value).__module__ == "datetime":
        date = type(value).fromtimestamp
        try:
            return any(value == date(when) for when in times)
        except (TypeError, ValueError, OverflowError, OSError):
            return False
    if type(value).__name__ == "struct_time" and type(value).__module__ == "time":
        return any(tuple(value[:5]) in (tuple(_time_fields(when, local))[:5] for local in (True, False))
                   for when in times)
    return False


def _time_fields(when, local):
    time = sys.modules["time"]
    return time.localtime(when) if local else time.gmtime(when)


def keeps_time(namespace, times):
    """Whether NAMESPACE (a module's dict) holds one of TIMES (seconds since
    the epoch) as a number in seconds, ms, us or ns, a datetime, a date or a
    struct_time: directly, in a container it holds, or among the attributes
    of a class or object it holds (one level down, read from __dict__, so
    that nothing runs)."""
    seen = set()
    pending = [(value, 1) for value in list(namespace.values())]
    while pending:
        value, depth = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if _is_time(value, times):
            return True
        if depth == 0:
            continue
        if type(value) in (list, tuple, set, frozenset):
            pending.extend((item, depth - 1) for item in list(value)[:10000])
        elif type(value) is dict:
            pending.extend((item, depth - 1) for item in list(value.values())[:10000])
        else:
            # the generic lookup: a proxy's own __getattr__ (a lazy module
            # that would import) does not run, nor a module class's own
            # __dict__ (apipkg's imports everything)
            try:
                attributes = (_pyfreeze.cpython311.module_namespace(value)
                              if isinstance(value, type(sys))
                              else object.__getattribute__(value, "__dict__"))
            except Exception:
                continue
            if type(attributes) is dict or type(attributes).__name__ == "mappingproxy":
                pending.extend((item, depth - 1) for item in list(attributes.values())[:10000])
    return False


def current(kind, detail):
    """The value of input (KIND, DETAIL) in this process now."""
    if kind == "env":
        return _environ_value(detail)
    if kind == "environ":
        return hash(tuple(sorted(posix.environ.items())))
    if kind == "cwd":
        return _cwd()
    if kind == "tty":
        try:
            return posix.isatty(int(detail))
        except (ValueError, OSError):
            return None
    if kind == "host":
        return tuple(posix.uname())
    if kind == "ids":
        return (posix.getuid(), posix.geteuid(), posix.getgid(), posix.getegid())
    if kind == "umask":
        mask = posix.umask(0o022)
        posix.umask(mask)
        return mask
    if kind == "rlimit":
        return _pyfreeze.rlimit(int(detail))
    if kind == "user":
        return _pyfreeze.passwd(detail)
    if kind == "file":
        return _file_value(detail)
    if kind == "list":
        return _listing_value(detail)
    if kind == "stamp":
        return _stamp_value(detail)
    if kind in ("read", "create"):
        return _contents_value(detail)
    if kind in ("write", "output", "dirfd", "clock", "random", "locale", "child", "altstack"):
        return _WRITTEN
    if kind == "sys":
        if detail.startswith("flags."):
            return getattr(sys.__dict__.get("flags"), detail[6:], None)
        if detail.startswith("argv["):
            return item(sys.__dict__.get("argv"), int(detail[5:-1]))
        return plain(sys.__dict__.get(detail, _WRITTEN))
    if kind == "stdio":
        return tuple(_stream_value(sys.__dict__.get(name)) for name in ("stdin", "stdout", "stderr"))
    if kind == "missing":
        return search_finds(detail)
    return _WRITTEN


def describe(kind, detail):
    """How `pyfreeze -v` and PYFREEZE_DEBUG name an input."""
    names = {
        "env": f"environment variable {detail}", "environ": "the whole environment",
        "cwd": "the working directory", "tty": f"whether descriptor {detail} is a terminal",
        "host": "the host name", "ids": "the user and group ids",
        "user": f"the password entry of {detail}", "file": f"file {detail}",
        "read": f"file {detail}", "list": f"directory {detail}", "stamp": f"directory {detail}",
        "create": f"file {detail} (as the freeze's import left it)",
        "write": f"writing {detail}", "sys": f"sys.{detail}", "stdio": "the standard streams",
        "output": "output on standard " + ("output" if detail == "1" else "error"),
        "dirfd": f"{detail} (relative to a directory descriptor)",
        "clock": "the clock", "random": "random bytes", "umask": "the file mode creation mask",
        "rlimit": f"resource limit {detail}", "child": "another program's outcome",
        "altstack": "an alternate signal stack set up", "locale": "the C library's locale (set)",
        "missing": f"the absence of module {detail}",
    }
    return names.get(kind, f"{kind} {detail}")


def _never_the_same(kind, detail, value):
    """Why input (KIND, DETAIL) read as VALUE cannot be the same in another
    run, or None."""
    if kind == "write":
        return f"its import writes {detail}"
    if kind == "output":
        return f"its import prints on standard {'output' if detail == '1' else 'error'}"
    if kind == "dirfd":
        return f"its import looked at {describe(kind, detail)}"
    if kind in ("clock", "random"):
        return f"its import read {describe(kind, detail)}, which differs in every run"
    if kind == "locale":
        return "its import sets the C library's locale, which an image does not carry"
    if kind == "child":
        return "its import ran another program, which python3 runs again"
    if kind == "altstack":
        return "its import set up fatal-signal handling (faulthandler), which an image does not carry"
    if value == _UNREPEATABLE:
        return f"its import read {detail}, which may read differently in every run"
    return None


def never_the_same(inputs):
    """Why one of INPUTS ({(kind, detail): value}) cannot read the same in
    another run, whatever that run is, or None."""
    for (kind, detail), value in inputs.items():
        why = _never_the_same(kind, detail, value)
        if why is not None:
            return why
    return None


def first_difference(inputs, seen=None):
    """The first input of INPUTS ({(kind, detail): value}) whose value in
    this run differs, described, or None when all are unchanged.  SEEN, a
    dict kept across calls, holds this run's values already looked up
    (many modules read the same variable or file).  The runtime's check
    (inputs_check.c) answers first when it can: all the same."""
    if _pyfreeze.inputs_hold(inputs, _may_name_executable) is True:
        return None
    for key, value in inputs.items():
        kind, detail = key
        why = _never_the_same(kind, detail, value)
        if why is not None:
            return why
        if seen is None:
            now = current(kind, detail)
        else:
            now = seen[key] if key in seen else seen.setdefault(key, current(kind, detail))
        if now != value:
            return f"{describe(kind, detail)} differs from the freeze"
    return None
