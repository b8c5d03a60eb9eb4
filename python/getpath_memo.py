# The path configuration as a memoized computation.
#
# python3 computes sys.prefix, sys.executable and the module search path
# at every start by running Modules/getpath.py (kept as code in getpath.o)
# over a namespace getpath.c fills: build constants, a few environment
# variables, the config read from the command line and environment, and
# C functions that look at the file system (isfile, realpath, readlines...).
# In an image it is about a seventh of a minimal warm start.
#
# getpath.py is a deterministic program of what it reads: the namespace's
# names, the config's keys, and what the file-system functions return
# (the hash secret, which orders sets, is the image's).  So the dump runs
# it once as the image would run it (a rehearsal: the image's own path as
# argv[0], the freeze's environment) and records every first read of a name
# or config key with its value and every file-system call with its result,
# and what it wrote into the config.  A warm start whose namespace gives
# the same values, and whose file-system calls, made again, give the same
# results, would compute the same config: it takes the recorded one.  Any
# difference, and getpath.py runs as in python3.  A rehearsal that warned
# or did anything unforeseen records nothing.
#
# record() runs in the dump, called by the runtime's hook on getpath's
# PyEval_EvalCode; a warm start checks the memo in C (src/runtime/
# getpath_memo.c), which leaves the frozen heap's pages as they are.
# A memo is (names, config reads, calls, outputs):
#   names         (name, value) of each name getpath.py read first from
#                 its namespace (_MISSING: not there, a builtin)
#   config reads  (key, "value", value) of each config key it read
#                 first; (key, "first", value) for argv[0] out of orig_argv
#   calls         (function, args, (True, result)) of each file-system call,
#                 or (function, args, (False, OSError subclass, errno))
#   outputs       {key: value} it left in the config

# getpath.c's functions that only compute on their arguments' text
_PURE = frozenset(("basename", "dirname", "hassuffix", "isabs", "joinpath"))
_MISSING = ("missing",)


def _snapshot(value):
    """VALUE as it is now, out of reach of later changes in place."""
    kind = type(value)
    if kind is list:
        return [_snapshot(item) for item in value]
    if kind is tuple:
        return tuple(_snapshot(item) for item in value)
    if kind is dict:
        return {key: _snapshot(item) for key, item in value.items()}
    return value


def _same(a, b):
    """Equal, and of the same types all the way down (1 is not True)."""
    if type(a) is not type(b):
        return False
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    return a == b


class _Recording:
    """What one rehearsal read and called, and whether it can be memoized."""

    def __init__(self):
        self.names = []         # (name, value or _MISSING) of namespace reads
        self.config_reads = []  # (key, "value" or "first", value or _MISSING)
        self.calls = []         # (function, args, outcome) of file-system calls
        self.broken = None      # why nothing may be memoized

    def spoil(self, why):
        if self.broken is None:
            self.broken = why


class _FirstArgument(list):
    """The command line (orig_argv) as getpath.py sees it: it looks at
    argv[0] only, and that is what the memo checks; any other use spoils
    the recording."""

    def __init__(self, argv, recording):
        super().__init__(argv)
        self._recording = recording

    def __getitem__(self, index):
        if index != 0:
            return self._unforeseen()
        first = list.__getitem__(self, 0) if list.__len__(self) else _MISSING
        self._recording.config_reads.append(("orig_argv", "first", first))
        return list.__getitem__(self, 0)

    def _unforeseen(self, *args, **kwargs):
        self._recording.spoil("getpath.py used the command line in an unforeseen way")
        raise RuntimeError("unforeseen use of the command line")

    __len__ = __iter__ = __contains__ = __eq__ = __ne__ = __bool__ = __add__ = __mul__ = \
        __reversed__ = index = count = copy = append = extend = insert = pop = remove = \
        __setitem__ = __delitem__ = __iadd__ = sort = reverse = clear = _unforeseen


class _RecordingConfig(dict):
    """The config dict getpath.py reads and updates.  Only `get`,
    `[]` and `[]=` are foreseen; anything else spoils the recording."""

    def __init__(self, contents, recording):
        super().__init__(contents)
        self._recording = recording
        self._touched = set()
        self._written = set()

    def _read(self, key, default):
        value = dict.get(self, key, _MISSING)
        if key in self._touched:
            return default if value is _MISSING else value
        self._touched.add(key)
        if key == "orig_argv" and type(value) is list:
            return _FirstArgument(value, self._recording)
        self._recording.config_reads.append((key, "value", _snapshot(value)))
        return default if value is _MISSING else value

    def __getitem__(self, key):
        value = self._read(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def get(self, key, default=None):
        return self._read(key, default)

    def __setitem__(self, key, value):
        self._touched.add(key)
        self._written.add(key)
        dict.__setitem__(self, key, value)

    def _unforeseen(self, *args, **kwargs):
        self._recording.spoil("getpath.py used its config in an unforeseen way")
        raise RuntimeError("unforeseen use of the config")

    __contains__ = __iter__ = __delitem__ = keys = items = values = pop = popitem = \
        setdefault = update = copy = clear = _unforeseen

    def outputs(self):
        """What the run left in the config: the keys it set, and those it
        read and changed in place."""
        read = {key: value for key, kind, value in self._recording.config_reads if kind == "value"}
        changed = {}
        for key in self._touched:
            value = dict.get(self, key, _MISSING)
            if key in self._written or (key in read and not _same(value, read[key])):
                changed[key] = _snapshot(value)
        return changed


def _recorded_call(name, function, recording):
    def call(*args):
        try:
            result = function(*args)
        except OSError as error:
            recording.calls.append((name, args, (False, type(error), error.errno)))
            raise
        except BaseException:
            recording.spoil(f"getpath.py's {name}() failed")
            raise
        recording.calls.append((name, args, (True, _snapshot(result))))
        return result
    return call


def _refuse_warning(*args):
    raise RuntimeError("getpath.py warned")


class _RecordingNamespace(dict):
    """getpath.py's globals: first reads of the names getpath.c set are
    inputs; its C functions are wrapped to record the file-system calls."""

    def __init__(self, namespace, recording, config):
        super().__init__(namespace)
        self._recording = recording
        self._touched = set()
        dict.__setitem__(self, "config", config)
        for name, value in namespace.items():
            if name == "warn":
                dict.__setitem__(self, name, _refuse_warning)
            elif type(value) is type(len) and name not in _PURE:
                dict.__setitem__(self, name, _recorded_call(name, value, recording))

    def __getitem__(self, name):
        if name not in self._touched:
            self._touched.add(name)
            if name == "warn":
                self._recording.spoil("getpath.py warned")
            elif name != "config" and not callable(dict.get(self, name)):
                self._recording.names.append((name, _snapshot(dict.get(self, name, _MISSING))))
        return dict.__getitem__(self, name)

    def __setitem__(self, name, value):
        self._touched.add(name)
        dict.__setitem__(self, name, value)


def record(code, namespace):
    """Runs getpath's CODE over NAMESPACE as getpath.c would, and returns
    the memo of that run: (names, config reads, calls, outputs), or None
    when it cannot be memoized.  The real config gets the results."""
    recording = _Recording()
    config = namespace["config"]
    recorded_config = _RecordingConfig(config, recording)
    globals_ = _RecordingNamespace(namespace, recording, recorded_config)
    try:
        exec(code, globals_)
    except Exception as error:
        recording.spoil(f"getpath.py raised {type(error).__name__}")
    if recording.broken is not None:
        return None
    outputs = recorded_config.outputs()
    config.update(outputs)
    return (tuple(recording.names), tuple(recording.config_reads), tuple(recording.calls), outputs)
