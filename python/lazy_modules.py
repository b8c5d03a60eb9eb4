# Frozen modules stay out of sys.modules until the program imports them.
#
# python3 starts with a few dozen modules; an image holds many more.  If they
# all sat in sys.modules, a module of the program's own could not shadow a
# frozen one (a `uuid.py` next to the script), `'threading' in sys.modules`
# would lie, and the import-time effects of the frozen modules (warnings
# shown, filters added, atexit callbacks) would never happen in the run.
#
# So the dump hides every module python3 would not have at start-up.  The
# import system still runs as in python3: finders search sys.path, the
# program's meta path finders and path hooks are honoured.  Only when a search
# ends in the very file the image froze (same origin, same loader) does the
# load hand over the frozen module, after checking that every module it
# imported while it ran would also resolve to the frozen one now.  The
# recorded load, with its effects, is then replayed in its original order:
# modules enter sys.modules, warnings are issued against this run's filters,
# filters and atexit callbacks are added.  Anything else loads from source.
#
# `_pyfreeze` (C helpers) is injected into this namespace by the runtime.

import sys
import posix
import _thread
import _weakref

_cpython = _pyfreeze.cpython311
_original_find_spec = _cpython.FIND_SPEC.get()
_original_load_unlocked = _cpython.LOAD_UNLOCKED.get()
_lock = _thread.RLock()
# importlib's, and these hooks' own (the runtime compiles them under that
# name so that tracebacks and warnings skip them as they skip importlib)
_BOOTSTRAP_FILES = _cpython.BOOTSTRAP_FILES

# name -> Entry of each module the image holds and the run has not imported
_hidden = {}
# Whether every change to _hidden since the dump took out the whole closure
# of a module being revealed: the plan the dump worked out (Entry.plan),
# less the modules no longer hidden, then holds (see _current_plan).
_only_reveals = True
# name -> weak reference to every module of the image no longer hidden: in
# sys.modules from the start, revealed, or loaded from source instead (the
# frozen object then no longer being in sys.modules, the hidden modules
# that used it cannot be revealed).  Weak, so that at exit modules die
# when python3's would.
_known = {}
# name -> the _Claim of the replay that is revealing it
_claims = {}
# frozen modules loaded from source instead: python3 never had them, so they
# must never die either (an extension module's m_free would clear the C
# state the module loaded from source shares with it)
_superseded = []
# the entries of the revealed modules (see _retire)
_retired = []
# the meta path at the dump (its finders found what they found then, and
# are not asked again), and the loaders of modules that come from files
_meta_path = []
_FILE_LOADERS = set()
# (seq, n) -> (kind, name, payload): the recorded loads and their effects,
# in the order they happened
_events = {}
# what the modules in sys.modules from the start read while they were
# imported (name -> inputs), and the changes they made to the environment
# and sys.path, which the run's own replace
_startup_inputs = {}
_startup_effects = []
# hidden modules whose import changed other modules' state (name -> the
# first such attribute): loading one from source would change it twice
_sticky = {}
# the top-level modules in sys.modules from the start that came from files
# (sitecustomize, modules .pth files import...), as _KeptFile
_kept_files = []
# the entries of sys.path while the freeze imported, and those of them that
# this run's sys.path has as they were (site's memo taken, its stamps the
# same): a module not found in one then is not found there now
_searched_at_freeze = frozenset()
_unchanged_directories = frozenset()
# id -> the Entry of the hidden module whose import made the class, the
# name of the module it belongs to (_made_for_another), or None for one
# python3 would never have (pyfreeze's own, the dump's): type.__subclasses__
# leaves the class out while the Entry is hidden, the name is not in
# sys.modules, or for good (hide_subclasses)
_type_owners = {}
# the recording's classes, until hide_subclasses
_classes_recorded = None
# name -> (the directory of its bytecode cache file, that directory's
# stamp at the dump) for each hidden module loaded from a source file, and
# sys.pycache_prefix then (_write_missing_bytecode)
_bytecode_caches = {}
_dump_pycache_prefix = None


class Entry:
    """A hidden module: its object, how python3 would find it, what it
    imported while it ran and the events of its load."""

    __slots__ = ("name", "module", "spec", "origin", "loader", "locations",
                 "uses", "used_at", "quiet_uses", "missing_at", "events",
                 "sets_parent_attribute", "inputs", "plan", "parent", "tail", "home",
                 "extension_origin")

    def __init__(self, name, module, spec, locations, uses, used_at, quiet_uses, missing_at,
                 events, sets_parent_attribute, inputs):
        self.name = name
        self.inputs = inputs
        self.module = module
        self.spec = spec
        self.origin, self.loader, _ = spec_key(spec)
        self.locations = locations
        self.uses = uses
        # where in its own events it first used each of USES, and those
        # it imported without an "import" audit event
        self.used_at = used_at
        self.quiet_uses = quiet_uses
        # the keys of the "audit" events of the modules it looked for and
        # did not find, (seq of the next event, number of the place)
        self.missing_at = missing_at
        self.events = events
        self.sets_parent_attribute = sets_parent_attribute
        # (closure names, events in load order, known modules used, closure
        # members with inputs, filter and warning events when one warns) as
        # _closure, _load_order, _used_known and _warning_records find them
        # while _hidden is the dump's (settle)
        self.plan = None
        self.parent, _, self.tail = name.rpartition(".")
        self.home = _search_home(self.origin, self.locations)
        # the file of an extension module, whose loading python3 audits
        # (_imp.create_dynamic)
        self.extension_origin = self.origin if self.loader is _cpython.ExtensionFileLoader else None


def _search_home(origin, locations):
    """The directory a path search finds a module in, from its origin (a
    package's is above its own directory), or None."""
    if not origin:
        return None
    home = origin.rpartition("/")[0]
    return home.rpartition("/")[0] if locations is not None else home


def spec_key(spec):
    """What makes two specs load the same thing.  A lazy-import framework
    (importlib.util.LazyLoader, Mercurial's demandimport) wraps the loader
    that python3 then runs: that one decides."""
    loader = spec.loader
    util = sys.modules.get("importlib.util")
    while util is not None and isinstance(loader, util.LazyLoader):
        loader = loader.loader
    if loader is not None and not isinstance(loader, type):
        loader = type(loader)
    locations = spec.submodule_search_locations
    if locations is not None:
        locations = list(locations)
    return spec.origin, loader, locations


class _KeptFile:
    """A module in sys.modules from the start, loaded from a file: what
    _resolves_from needs to tell whether python3 would find that file."""

    __slots__ = ("name", "origin", "loader", "locations", "tail", "home")

    def __init__(self, name, spec):
        self.name = self.tail = name
        self.origin, self.loader, self.locations = spec_key(spec)
        self.home = _search_home(self.origin, self.locations)


def frozen_module(name):
    """The image's module NAME, whether the run imported it yet or not."""
    entry = _hidden.get(name)
    if entry is not None:
        return entry.module
    return sys.modules.get(name)


def is_hidden(name):
    return name in _hidden


# --- what python3 cannot find ---------------------------------------------------
# The image's modules stay importable when the search finds nothing (a
# program's module frozen from a directory not on this run's sys.path), and
# so does `pyfreeze`; a module the search does find wins, as in python3.

class PyfreezeLoader:
    """Loads the `pyfreeze` hooks module carried by the runtime."""

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        code = compile(_pyfreeze.pyfreeze_source(), module.__spec__.origin, "exec")
        exec(code, module.__dict__)


def _not_found(name, path, target=None):
    """The spec importlib's _find_spec did not find (it returned None): a
    frozen module's or the pyfreeze module's, or None.  (Called by the
    built-in hook _pyfreeze.find_spec_hook makes.)"""
    entry = _hidden.get(name)
    if entry is not None and _same_parent_path(name, path):
        return entry.spec
    if name == "pyfreeze" and path is None:
        return _cpython.ModuleSpec("pyfreeze", PyfreezeLoader, origin="<pyfreeze>/pyfreeze.py")
    return None


def _same_parent_path(name, path):
    """Whether PATH, the search path importlib gives for NAME, is that of
    the image's own package above it: not that of a package of the same
    name loaded from elsewhere instead (a directory shadowing it), whose
    submodules python3 looks for there only."""
    parent = name.rpartition(".")[0]
    if not parent:
        return path is None
    entry = _hidden.get(parent)
    package = entry.module if entry is not None else _known_module(parent)
    return path is not None and path is getattr(package, "__path__", None)


# --- revealing ---------------------------------------------------------------

def _reveal(spec):
    """The frozen module SPEC names, revealed, or None: importlib's
    _load_unlocked loads it then.  (Called by the built-in hook
    _pyfreeze.load_unlocked_hook makes, which leaves no frame: the frame
    below this one is importlib's caller.)"""
    # An import found the module missing; _load() (pydoc.importfile) wants
    # a new module whatever sys.modules holds.  No lock is held while
    # anything of the program's runs (finders, warnings, audit hooks): the
    # lock only guards the hand-over of entries from _hidden to a replay.
    importing = _cpython.getframe(1).f_code is _cpython.FIND_AND_LOAD_UNLOCKED_CODE
    started = _pyfreeze.clock()
    name = spec.name
    for _ in range(_ATTEMPTS):
        revealed = _wait_for_claim(name) if importing else None
        if revealed is not None:
            return revealed
        entry = _hidden.get(name)
        if entry is None:
            break
        entries, events, why = _plan(spec, entry)
        if events is None:
            _supersede(name, entry, why)
            break
        claim = _claim(entries)
        if claim is None:
            continue        # another thread revealed some of them meanwhile
        try:
            _replay(events, name, claim)
            _write_missing_bytecode(claim.entries)
        finally:
            _release(claim)
        _retire(claim.entries)
        _pyfreeze.revealed(_pyfreeze.clock() - started, len(claim.entries))
        return sys.modules[name]
    return None


# How often a reveal is planned again when another thread changed what it
# needed in between; then the module loads from source.
_ATTEMPTS = 8


def _wait_for_claim(name):
    """The module NAME once another thread's replay that holds it is over,
    or None."""
    claim = _claims.get(name)
    if claim is None or claim.owner == _thread.get_ident():
        return sys.modules.get(name) if claim is not None and name in sys.modules else None
    claim.done.acquire()
    claim.done.release()
    present = sys.modules.get(name)
    return present if present is not None and present is _known_module(name) else None


def _supersede(name, entry, why):
    # Loaded from its source this time: the frozen one is out of date, and
    # so is every hidden module that used it.
    global _only_reveals
    with _lock:
        if _hidden.get(name) is not entry:
            return
        _only_reveals = False
        del _hidden[name]
        _known[name] = _weakref.ref(entry.module)
        _superseded.append(entry.module)
        _never_in_sight(entry)
    _pyfreeze.debug(f"module {name} runs from source: {why}")


def _never_in_sight(entry):
    """The classes of ENTRY's frozen module: python3 only has those its
    load from source makes."""
    for key in entry.events:
        kind, _, payload = _events[key]
        if kind == "types":
            for _, classes, _ in payload[1]:
                for cls in classes:
                    _type_owners[id(cls)] = None


class _Claim:
    """Entries taken out of _hidden by one replay; other threads importing
    one of them wait until it is over."""

    __slots__ = ("owner", "done", "entries")

    def __init__(self, entries):
        self.owner = _thread.get_ident()
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.entries = entries


def _claim(entries):
    """Takes ENTRIES, the modules of a plan (those of its events), out of
    _hidden for one replay, or None when one of them left it meanwhile."""
    claim = _Claim(entries)
    with _lock:
        if not _pyfreeze.claim_entries(entries, _hidden, _claims, claim):
            return None
    return claim


def _release(claim):
    with _lock:
        _pyfreeze.release_claims(claim.entries, _claims, claim)
    claim.done.release()


def _write_missing_bytecode(entries):
    """python3's import of a module from its source file writes the
    bytecode cache file when that is missing or out of date (unless
    sys.dont_write_bytecode): where a directory of those files changed
    since the dump (a __pycache__ removed, a fresh copy of a program's
    files), the reveal runs the loader's get_code() as that import does,
    which reads, checks and writes them alike.  Otherwise the files are
    those the dump's imports left, as python3 would find them."""
    if sys.dont_write_bytecode:
        return
    moved = sys.pycache_prefix != _dump_pycache_prefix
    stamps = {}
    for name, entry in entries.items():
        cache = _bytecode_caches.get(name)
        if cache is None:
            continue
        directory, stamp = cache
        if not moved:
            now = stamps.get(directory, False)
            if now is False:
                now = stamps[directory] = _directory_stamp(directory)
            if now == stamp:
                continue
        try:
            entry.spec.loader.get_code(name)
        except Exception:
            pass        # python3's import would have raised it as it loaded; it did not


def _directory_stamp(directory):
    try:
        status = posix.stat(directory)
    except OSError:
        return None
    return status.st_dev, status.st_ino, status.st_mtime_ns


def _note_bytecode_caches():
    """At the dump's end: where each hidden module's bytecode is cached."""
    global _dump_pycache_prefix
    _dump_pycache_prefix = sys.pycache_prefix
    for name, entry in _hidden.items():
        if entry.loader is not _cpython.SourceFileLoader or not entry.origin:
            continue
        try:
            directory = _cpython.cache_from_source(entry.origin).rpartition("/")[0]
        except (NotImplementedError, ValueError):
            continue
        _bytecode_caches[name] = (directory, _directory_stamp(directory))


def _retire(entries):
    """Keeps the entries of revealed modules, less the module and its
    spec (which must die when python3's would): freeing an entry would
    free the plan, inputs and names only it holds, writing to each one's
    frozen page for nothing."""
    _pyfreeze.retire_entries(entries)
    _retired.append(entries)


def _plan(spec, entry):
    """(entries, events, None): the hidden modules to reveal for SPEC and
    their events, in load order; or (None, None, why) when some module it
    used would now be another one."""
    if spec_key(spec) != (entry.origin, entry.loader, entry.locations):
        return None, None, f"python3 would load it from {spec.origin or spec.loader!r}"
    entries, events, known, with_inputs, warns = _current_plan(spec.name, entry)
    differing = _pyfreeze.inputs.first_difference
    seen = {}
    for name in with_inputs:
        why = differing(entries[name].inputs, seen)
        if why is not None:
            return None, None, why if name == spec.name else f"it used {name}, and {why}"
    meta_path = _MetaPath()
    why = NotImplemented
    if meta_path.searches_path and not meta_path.new:
        why = _pyfreeze.first_unresolved(entries, spec.name, _hidden, _FILE_LOADERS, _directory)
    if why is NotImplemented:
        why = _first_unresolved(entries, spec.name, meta_path)
    if why is not None:
        return None, None, why
    changed = _pyfreeze.first_changed_known(known, _known)
    if changed is NotImplemented:
        changed = next((name for name in known if sys.modules.get(name) is not _known_module(name)), None)
    if changed is not None:
        return None, None, f"it used {changed}, which is another module now"
    if warns and _some_warning_raises(warns, spec.name):
        # python3's traceback comes from the source
        return None, None, "a warning it issues is an error under this run's filters"
    return entries, events, None


def _current_plan(name, entry):
    """(entries, events, known modules used, names of the entries with
    inputs, the filter and warning events if a warning is among them: see
    _warning_records) to reveal NAME now: the
    dump's plan while nothing but the reveals of whole closures changed
    _hidden since, less the modules those revealed (they are known now:
    checked as such); worked out anew otherwise.  The events are read in C
    (reveal_plan.c): a loop here would write to the page of each."""
    planned = entry.plan
    if planned is not None and _only_reveals:
        names, events, known, with_inputs, warns = planned
        entries = _pyfreeze.plan_entries(names, _hidden)
        if entries is not None:
            return entries, events, known, with_inputs, warns
        hidden = _hidden
        entries = {}
        gone = []
        for member in names:
            used = hidden.get(member)
            if used is None:
                gone.append(member)
            else:
                entries[member] = used
        if name in entries:
            gone = set(gone)
            events = _pyfreeze.events_without(events, _events, gone)
            return (entries, events, known + tuple(gone),
                    [member for member in with_inputs if member not in gone],
                    warns and _warning_records(events))
    entries = _closure(name)
    events = _load_order(name, entries, {})
    return (entries, events, tuple(dict.fromkeys(_used_known(entries))),
            [member for member, used in entries.items() if used.inputs],
            _warning_records(events))


def _warning_records(events):
    """The records of the filter and warning events among EVENTS, in
    order, when one of them is a warning; else ().  A reveal reads these
    few rather than walk all its events (_some_warning_raises)."""
    records = tuple(_pyfreeze.events_of_kinds(events, _events, ("filter", "warning")))
    return records if any(kind == "warning" for kind, _, _ in records) else ()


def _closure(name):
    """NAME and the hidden modules it needs (what it used while it ran and
    the packages above each, recursively), with their entries."""
    found = {}
    pending = [name]
    while pending:
        current = pending.pop()
        entry = _hidden.get(current)
        if current in found or entry is None:
            continue
        found[entry.name] = entry       # the dump's packed copy of the name
        pending.extend(entry.uses)
        parent = current.rpartition(".")[0]
        if parent:
            pending.append(parent)
    return found


def _load_order(name, entries, timelines):
    """The events of ENTRIES, NAME's closure, in the order python3 makes
    them importing NAME: each module's own events and, at its first use
    of a module of ENTRIES not loaded yet, that module's (its package's
    first), after the name of the module when an import statement audits
    it.  Not the dump's order where the dump had loaded a module before
    its user here did (linecache imports re, json then uses it).
    TIMELINES caches _timeline."""
    order = []
    started = set()
    rest = sorted((member for member in entries if member != name),
                  key=lambda member: entries[member].events[:1])
    stack = [iter([(name, False)] + [(member, False) for member in rest])]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        used, audited = item
        if type(used) is not str:
            order.append(item)      # an event's key, (seq, number)
        elif used in entries and used not in started:
            if audited:
                order.append(used)
            parent = entries[used].parent
            if parent in entries and parent not in started:
                # imported through the same function: audited alike
                stack.append(iter(((parent, audited), (used, False))))
                continue
            started.add(used)
            timeline = timelines.get(used)
            if timeline is None:
                timeline = timelines[used] = _timeline(entries[used])
            stack.append(iter(timeline))
    return tuple(order)


def _timeline(entry):
    """ENTRY's events and the names it used, in the order of its load: a
    use comes before the event recorded next after it.  A module it only
    holds has no place: it loads after the rest, if nothing imports it."""
    if entry.events and entry.events[0][1] < 0:
        # loaded before the recording (hide): it imported its uses
        start, end = entry.events
        return [start, *((used, True) for used in entry.uses), end]
    # the classes made before the next event, between the uses there
    # ("types" events: after the uses they followed)
    marks = [((seq, 0, number - _TYPES_PLACE + 0.5) if number < _TYPES_END else (seq, 1, number),
              (seq, number)) for seq, number in entry.events]
    quiet = entry.quiet_uses
    marks += [((at[0], 0, at[1]), (used, used not in quiet))
              for used, at in zip(entry.uses, entry.used_at) if at != -1]
    marks += [((seq, 0, place), (seq, place)) for seq, place in entry.missing_at]
    marks.sort(key=lambda mark: mark[0])
    return [item for _, item in marks]


def _known_module(name):
    ref = _known.get(name)
    return ref() if ref is not None else None


def _used_known(entries):
    for name, entry in entries.items():
        for used in entry.uses:
            if used not in _hidden and used in _known:
                yield used
        parent = name.rpartition(".")[0]
        if parent and parent not in _hidden and parent in _known:
            yield parent


def search_finds(name):
    """What python3's import of NAME, a module an import looked for at the
    freeze and did not find, would find now: None for nothing, else
    where.  The meta path is searched as importlib searches it, with the
    path of NAME's package in the image; the finders the freeze had found
    nothing then (memoized, as in _spec_from_new_finder), and PathFinder
    is asked only when a current directory listing has the name."""
    modules = sys.modules
    if name in modules:
        return None if modules[name] is None else "a module in sys.modules"
    parent = name.rpartition(".")[0]
    path = None
    if parent:
        package = frozen_module(parent)
        if package is None:
            return f"a search in package {parent}, gone from sys.modules"
        path = getattr(package, "__path__", None)
        if path is None:
            return None
    for finder in sys.meta_path:
        if finder is _cpython.PathFinder:
            if _path_search_finds(name, path):
                return "a file on the search path"
            continue
        if any(finder is frozen for frozen in _meta_path):
            continue
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        with _cpython.ImportLockContext():
            spec = find_spec(name, path)
        if spec is not None:
            return spec.origin or repr(spec.loader)
    return None


def note_freeze_search_path(path):
    global _searched_at_freeze
    _searched_at_freeze = frozenset(item for item in path if type(item) is str)


def note_unchanged_directories(path):
    global _unchanged_directories
    _unchanged_directories = _searched_at_freeze.intersection(path)


def _path_search_finds(name, path):
    """Whether PathFinder.find_spec(NAME, PATH) finds something: no
    when each directory of the path is one unchanged since the freeze
    searched it, or a current listing of it has nothing of that name (a
    system call, as FileFinder's)."""
    tail = name.rpartition(".")[2]
    unchanged = _unchanged_directories
    for item in sys.path if path is None else path:
        if type(item) is not str:
            if isinstance(item, bytes):
                return _cpython.PathFinder.find_spec(name, path) is not None
            continue
        if item in unchanged:
            continue
        finder = _cpython.path_importer_cache(item)
        if finder is None:
            continue
        if (type(finder) is not _cpython.FileFinder or not _cpython.file_finder_listing_current(finder)
                or _cpython.file_finder_lists(finder, tail, _cpython.file_finder_suffixes(finder))):
            return _cpython.PathFinder.find_spec(name, path) is not None
    return False


_pyfreeze.inputs.search_finds = search_finds


def _first_unresolved(entries, requested, meta_path):
    """Why python3 would not load one of ENTRIES (but REQUESTED, which its
    search just found) from the frozen file now, or None when it would.
    _pyfreeze.first_unresolved (reveal_resolution.c) decides the common
    case without writing to the entries' pages; this is the whole check."""
    modules = sys.modules
    directories = {}
    paths = {}
    for name, entry in entries.items():
        if name == requested:
            continue
        if name in modules:
            return f"{name} is in sys.modules already"
        parent = entry.parent
        path = None
        if parent:
            # a program's finder, asked below, may change a package's path
            path = paths.get(parent, paths) if not meta_path.new else paths
            if path is paths:
                path = paths[parent] = getattr(frozen_module(parent), "__path__", None)
            if path is None:
                return f"{parent} is not a package now"
        why = _resolves_from(name, entry, path, meta_path, directories)
        if why is not None:
            return why
    return None


def _resolves_from(name, entry, path, meta_path, directories):
    """Would python3's search of PATH (sys.path when None) for NAME load
    the frozen file now?  None when it would, else why not."""
    spec = _spec_from_new_finder(name, path, entry.loader, meta_path) if meta_path.new else None
    if spec is not None:
        if spec_key(spec) == (entry.origin, entry.loader, entry.locations):
            return None
        return f"{name} would come from {spec.origin or spec.loader!r}"
    if entry.loader not in _FILE_LOADERS:
        return None
    if not meta_path.searches_path:
        return f"{name} would not be searched for on sys.path"
    decided = _found_first_in_frozen_directory(entry, path, directories)
    if decided is True:
        return None
    if decided is None:
        spec = _cpython.PathFinder.find_spec(name, path)
        if spec is not None and spec_key(spec) == (entry.origin, entry.loader, entry.locations):
            return None
    return f"{name} would now come from elsewhere"


class _MetaPath:
    """What one reveal's checks ask of sys.meta_path, found once: whether
    a finder the freeze did not have is on it, and whether PathFinder is
    (compared by identity: a program's finder may define __eq__)."""

    __slots__ = ("new", "searches_path")

    def __init__(self):
        frozen = {id(finder) for finder in _meta_path}
        path_finder = _cpython.PathFinder
        self.new = any(id(finder) not in frozen for finder in sys.meta_path)
        self.searches_path = any(finder is path_finder for finder in sys.meta_path)


def _spec_from_new_finder(name, path, loader, meta_path):
    """The spec a meta path finder the program added would give for NAME
    before the finder that found it at the freeze is asked, or None.
    Finders present at the freeze found what they found then (memoized),
    and are not called again: python3 would not call them now."""
    standard = (_cpython.BuiltinImporter, _cpython.FrozenImporter)
    stop = loader if loader in standard else _cpython.PathFinder
    for finder in sys.meta_path:
        if finder is stop:
            break
        if any(finder is frozen for frozen in _meta_path):
            continue
        with _cpython.ImportLockContext():     # as _find_spec() asks them
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec(name, path) if find_spec is not None else None
        if spec is not None:
            return spec
    return None


def _directory(item):
    """What the C check of _first_unresolved needs of path entry ITEM's
    finder: None for none, False when it cannot tell (not a FileFinder,
    or one whose listing is out of date), else (directory, listing,
    suffixes)."""
    finder = _cpython.path_importer_cache(item)
    if finder is None:
        return None
    if type(finder) is not _cpython.FileFinder or not _cpython.file_finder_listing_current(finder):
        return False
    return (finder.path, _cpython.file_finder_listing(finder),
            tuple(_cpython.file_finder_suffixes(finder)))


def _found_first_in_frozen_directory(entry, path, directories):
    """A shortcut through PathFinder's search, for the common case: True
    when no directory searched before the module's own holds anything of
    that name and no directory involved changed since its listing was
    cached; False when one does; None when this cannot tell."""
    home = entry.home
    if home is None:
        return None
    tail = entry.tail
    for item in sys.path if path is None else path:
        if not isinstance(item, str):
            continue
        known = directories.get(item)
        if known is None:
            finder = _cpython.path_importer_cache(item)
            if finder is None:
                continue
            if type(finder) is not _cpython.FileFinder or not _cpython.file_finder_listing_current(finder):
                return None
            known = directories[item] = (finder, _cpython.file_finder_suffixes(finder))
        finder, suffixes = known
        if finder.path == home:
            return True
        if _cpython.file_finder_finds(finder, tail, suffixes):
            return False
    return False


def _replay(events, requested, claim):
    importer = _importer_frame()
    entries = claim.entries
    started = []
    try:
        # For each event, in order (src/runtime/reveal_replay.c):
        # - a start: sys.audit("import", ...) but for the module the
        #   program asked for (importlib raised that one), and the audit of
        #   an extension module's loading, the module into
        #   sys.modules, known, and appended to STARTED; _renew_values for
        #   one in _RENEWED;
        # - an end: the module off STARTED, moved to the end of
        #   sys.modules as _load_unlocked leaves it, and bound in its
        #   package as _find_and_load_unlocked binds it;
        # - any other: _apply.
        _pyfreeze.replay(events, requested, entries, started, importer, _events, _known,
                         _RENEWED, _renew_values, _apply)
    except BaseException:
        # As in python3: the modules whose code was running leave
        # sys.modules, the ones not reached yet stay hidden.
        global _only_reveals
        for name in started:
            sys.modules.pop(name, None)
        with _lock:
            _only_reveals = False
            for name, entry in entries.items():
                if name not in sys.modules and name not in started:
                    _hidden[name] = entry
                    _known.pop(name, None)
        raise


def _importer_frame():
    """The frame of the import statement that asked for the module."""
    frame = _cpython.getframe(1)
    while frame is not None and frame.f_code.co_filename in _BOOTSTRAP_FILES:
        frame = frame.f_back
    return frame


def _apply(kind, payload, importer, requested):
    if kind == "extra":
        name, module = payload
        sys.modules.setdefault(name, module)
    elif kind == "warning":
        _warn(payload, importer, requested)
    elif kind == "filter":
        _add_filter(_cpython.warning_filters(), *payload)
        _cpython.filters_mutated()
    elif kind in ("meta_path", "path_hooks"):
        position, item = payload
        target = sys.meta_path if kind == "meta_path" else sys.path_hooks
        if position == 0:
            target.insert(0, item)
        else:
            target.append(item)
    elif kind == "atexit":
        function, args, kwargs = payload
        import atexit
        atexit.register(function, *args, **kwargs)
    elif kind == "copyreg":
        key, value = payload
        frozen_module("copyreg").dispatch_table[key] = value
    else:
        _apply_startup_effect(kind, payload)


def _apply_startup_effect(kind, payload):
    if kind == "environ":
        key, value = payload
        environb = frozen_module("os").environb
        if value is None:
            environb.pop(key, None)
        else:
            environb[key] = value
    elif kind == "sys_path":
        index, item = payload
        sys.path.insert(index, item)
    elif kind == "stdio":
        _set_stdio(payload)


def _set_stdio(payload):
    """One change an import made to a layer of a standard stream (an
    attribute set, a reconfigure() call), made on this run's stream."""
    name, layer, key, _, value = payload
    stream = sys.__dict__.get(f"__{name}__")
    if layer != "text":
        stream = getattr(stream, "buffer", None)
        if layer == "raw":
            stream = getattr(stream, "raw", None)
    if stream is None:
        return
    if key is None:
        stream.reconfigure(**dict(zip(("errors", "line_buffering", "write_through"), value)))
    elif type(value) is object:     # the recorder's mark of an attribute removed
        stream.__dict__.pop(key, None)
    else:
        setattr(stream, key, value)


def startup_difference():
    """Why this run cannot use the frozen heap, or None: a module in
    sys.modules from the start read an input this run has another value
    of, or a hidden module that changed other modules' state at import
    would have to load from source (it, or a module it used, read such an
    input)."""
    differing = _pyfreeze.inputs.first_difference
    seen = {}
    for name, inputs in _startup_inputs.items():
        why = differing(inputs, seen)
        if why is not None:
            return f"module {name} stays in sys.modules, and {why}"
    root_of = {}
    pending = []
    for name in _sticky:
        if name not in root_of:
            root_of[name] = name
            pending.append(name)
        while pending:      # one walk over what every sticky module needs
            current = pending.pop()
            entry = _hidden.get(current)
            if entry is None:
                continue
            why = differing(entry.inputs, seen)
            if why is not None:
                root = root_of[current]
                reader = "it" if current == root else current
                return (f"module {root} {_sticky[root]}, and {reader} read "
                        f"{why.replace(' differs from the freeze', '')}, which differs from the freeze")
            parent = current.rpartition(".")[0]
            for used in (*entry.uses, parent) if parent else entry.uses:
                if used not in root_of:
                    root_of[used] = root_of[current]
                    pending.append(used)
    return None


def kept_module_moved(listings_unchanged=False):
    """Why python3 would have imported one of the modules in sys.modules
    from the start from another file in this run (a sitecustomize on
    PYTHONPATH, a module of that name ahead on sys.path), or None.  Asked
    once site has run, before sys.path[0] is there: python3 imported them
    before it was.  LISTINGS_UNCHANGED: site's memo holds, and with it
    every directory on sys.path is as at the freeze, where
    kept_found_by_listings() said yes; then only a new meta path finder
    could tell otherwise."""
    meta_path = _MetaPath()
    if listings_unchanged and not meta_path.new:
        return None
    directories = {}
    for kept in _kept_files:
        why = _resolves_from(kept.name, kept, None, meta_path, directories)
        if why is not None:
            return f"module {kept.name} is in sys.modules from the start, and {why}"
    return None


def kept_found_by_listings():
    """Whether the search of sys.path as it is now finds every module in
    sys.modules from the start that was loaded from a file in its own
    file through the path finders' cached listings alone: each listing is
    its directory's now, and none searched before the module's own holds
    an entry of its name (not even a directory, whose __init__ could come
    without the listing changing).  For site's memo (site_memo.py)."""
    meta_path = _MetaPath()
    if meta_path.new or not meta_path.searches_path:
        return False
    for kept in _kept_files:
        if kept.loader not in _FILE_LOADERS:
            continue
        for item in sys.path:
            if not isinstance(item, str):
                return False
            finder = _cpython.path_importer_cache(item)
            if finder is None:
                continue
            if type(finder) is not _cpython.FileFinder or not _cpython.file_finder_listing_current(finder):
                return False
            if finder.path == kept.home:
                break
            if _cpython.file_finder_lists(finder, kept.tail, _cpython.file_finder_suffixes(finder)):
                return False
        else:
            return False
    return True


def apply_startup_effects():
    """The environment and sys.path changes of the modules in sys.modules
    from the start, made again on this run's."""
    for kind, name, payload in _startup_effects:
        _apply_startup_effect(kind, payload)


def _warning_site(payload, importer, requested):
    """(filename, lineno, module, registry) a warning is issued against.
    A warning that blamed the importing line blames the program's import
    statement for the module it asked for, and for a module that pyfreeze
    itself imported at the freeze (no importing line of a frozen module to
    blame); otherwise the frozen module's line that imported it."""
    message, relative, filename, lineno, module, registry = payload
    if relative and (requested or filename is None):
        if importer is None:
            return "sys", 1, "sys", sys.__dict__.setdefault("__warningregistry__", {})
        globals_ = importer.f_globals
        return (importer.f_code.co_filename, importer.f_lineno,
                globals_.get("__name__", "<string>"),
                globals_.setdefault("__warningregistry__", {}))
    return filename, lineno, module, registry


def _warn(payload, importer, requested):
    filename, lineno, module, registry = _warning_site(payload, importer, requested)
    message = payload[0]
    _cpython.warn_explicit(message, type(message), filename, lineno, module, registry)


def _some_warning_raises(records, requested):
    """Would this run's filters turn a replayed warning into an exception?
    RECORDS: a plan's filter and warning events (_warning_records)."""
    filters = list(_cpython.warning_filters())
    importer = _importer_frame()
    for kind, name, payload in records:
        if kind == "filter":
            _add_filter(filters, *payload)
        elif kind == "warning":
            site = _warning_site(payload, importer, name == requested)
            if _action(filters, payload[0], site[2], site[1]) == "error":
                return True
    return False


def _action(filters, message, module, lineno):
    # As _warnings.c's get_filter() does.
    text = str(message)
    category = type(message)
    for action, text_re, kind, module_re, line in filters:
        if (_matches(text_re, text) and issubclass(category, kind)
                and _matches(module_re, module) and (line == 0 or line == lineno)):
            return action
    return _cpython.default_action()


def _matches(pattern, value):
    if pattern is None:
        return True
    if type(pattern) is str:        # the built-in default filters
        return pattern == value
    return bool(pattern.match(value))


def _add_filter(filters, position, item):
    # As warnings._add_filter does.
    if position == 0:
        try:
            filters.remove(item)
        except ValueError:
            pass
        filters.insert(0, item)
    elif item not in filters:
        filters.append(item)


def release_main(main):
    """The teardown frees __main__ when sys.modules lets go of it, while
    the modules are alive, unless something else holds it: then its
    globals become None before their objects die (a __del__ finds os is
    None), and a cycle through them is never collected.  A hidden module
    that imported __main__ at the freeze (rlcompleter), an alias a hidden
    module would add (multiprocessing's __mp_main__) or a frozen module
    superseded by a load from source holds it, where python3 has no such
    module: at the teardown they drop it."""
    if main is None:
        return
    for module in [entry.module for entry in _hidden.values()] + _superseded:
        namespace = _cpython.module_namespace(module)
        if namespace is not None:
            for key in [key for key, value in namespace.items() if value is main]:
                del namespace[key]
    # the aliases hidden modules would put into sys.modules when revealed
    # (multiprocessing's __mp_main__)
    for _, _, payload in _events.values():
        if type(payload) is list:
            payload[:] = [None if item is main else item for item in payload]


# --- installing --------------------------------------------------------------

def install():
    """Route the import system's searches and loads through this module.
    Not on a Python whose internals are not the ones named in cpython311:
    the hooks would break every import, and dump.run says what is missing."""
    if _cpython.check() is not None:
        return
    _cpython.FIND_SPEC.set(_pyfreeze.find_spec_hook(_original_find_spec, _not_found))
    _cpython.LOAD_UNLOCKED.set(_pyfreeze.load_unlocked_hook(_reveal, _original_load_unlocked))
    # A child forked while another thread revealed modules must not inherit
    # the lock held or wait for its replay (CPython takes the same care of
    # the import lock).
    import posix
    posix.register_at_fork(after_in_child=_after_fork_in_child)


def _after_fork_in_child():
    # Only the forking thread lives on: no other thread's lock or replay.
    _cpython.reinit_after_fork(_lock)
    _claims.clear()


def _note_shared_changes(shared):
    """A hidden module whose import changed a module in sys.modules from the
    start (sys, os...) is sticky: loading it from source would change that
    module again.  One that changed hidden modules only makes them depend
    on it, as if they had used it: a run that loads it from source loads
    them from source too, and revealing them reveals it."""
    for name, changes in shared.items():
        if name not in _hidden:
            continue
        for where, (_, _, _, changed) in sorted(changes.items()):
            target = _hidden.get(changed)
            if target is None:
                _sticky.setdefault(name, f"changed {where} at import")
            elif changed != name and name not in target.uses:
                # python3 would load it after TARGET: it changed TARGET
                target.uses = list(target.uses) + [name]
                target.used_at = list(target.used_at) + [_after_end(target)]


def _renew_original_dir(module):
    # multiprocessing.process: ORIGINAL_DIR = os.path.abspath(os.getcwd()),
    # None when the working directory is gone
    try:
        cwd = posix.getcwd()
    except OSError:
        return None
    return sys.modules["posixpath"].abspath(cwd)


# Values a standard-library module derives from an input when it is
# imported and that nothing else reads while imports run: the dump drops
# that input from the module (when the frozen value is what this function
# computes there), and the reveal computes the value again, at the moment
# python3 would run the module.  name -> (input kind, attribute, function)
_RENEWED = {"multiprocessing.process": ("cwd", "ORIGINAL_DIR", _renew_original_dir)}


def _note_renewed_values():
    for name, (kind, attribute, compute) in _RENEWED.items():
        entry = _hidden.get(name)
        if entry is None or getattr(entry.module, attribute, None) != compute(entry.module):
            continue
        entry.inputs = {key: value for key, value in entry.inputs.items() if key[0] != kind}


def _renew_values(entry):
    _, attribute, compute = _RENEWED[entry.name]
    setattr(entry.module, attribute, compute(entry.module))


def _note_native_holders(holders):
    """A module a native library holds in C (see dump._native_holders)
    is revealed with the library's module, and neither it, nor that
    module, nor an extension module using that module may load from
    source: the library's code would go on using the frozen objects
    (mypyc's by name, from sys.modules; _asyncio its asyncio).  A run in
    which one would starts cold."""
    for holder, held in holders.items():
        entry = _hidden.get(holder)
        if entry is None:
            continue
        added = [name for name in sorted(held) if name in _hidden and name not in entry.uses]
        entry.uses = list(entry.uses) + added
        end = entry.events[-1][0] if entry.events else 0
        entry.used_at = list(entry.used_at) + [(end, 0)] * len(added)
        why = f"holds modules in its native code ({', '.join(sorted(held)[:3])}"
        _sticky.setdefault(holder, why + (", ...)" if len(held) > 3 else ")"))
        for name in held:
            if name in _hidden:
                _sticky.setdefault(name, f"is held by native module {holder}")
        for name, user in _hidden.items():
            # mypyc's compiled modules run the holder's code when they load
            if holder in user.uses and name != holder and (user.origin or "").endswith(".so"):
                _sticky.setdefault(name, f"uses native module {holder}, which holds modules")


def _after_end(entry):
    """The place (_timeline) just after the last event of ENTRY's load."""
    return (entry.events[-1][0] + 1 if entry.events else 0), 0


def _detach(parent_module, child, module):
    """Takes the attribute CHILD, which is MODULE, off PARENT_MODULE.  A
    package that replaced itself in sys.modules with a proxy (twisted's
    deprecation _ModuleProxy) may forward reads and writes but not
    deletions: the attribute then goes from the namespace the proxy
    forwards to, which a reveal sets it in again through the proxy."""
    try:
        delattr(parent_module, child)
        return
    except (AttributeError, TypeError):
        pass
    namespace = _cpython.module_namespace(parent_module)
    if namespace is not None and namespace.get(child) is module:
        del namespace[child]
        return
    raise RuntimeError(f"cannot hide module {module.__name__!r}: its parent, a "
                       f"{type(parent_module).__name__}, lets {child!r} be neither deleted nor reached")


def hide(recording, keep, native_holders=None):
    """Take every recorded module not in KEEP out of sys.modules."""
    hidden = {}
    for name in list(sys.modules):
        module = sys.modules[name]
        if name in keep or module is None:
            continue
        spec = recording.specs.get(name) or _cpython.module_spec(module)
        if spec is not None:
            locations = recording.locations.get(name, spec.submodule_search_locations)
            hidden[name] = (module, spec, None if locations is None else list(locations))
    # Modules pyfreeze itself loaded before the recording started come just
    # before the first module that used them, and import what they hold
    # of each other (opcode, _opcode's function).
    for seq, event in enumerate(recording.events):
        _events[seq, 0] = event
    for owner, missing in recording.missing_at.items():
        for key, name in missing:
            _events[key] = ("audit", owner, name)
    unrecorded = {name for name in hidden if not recording.events_of.get(name)}
    types_events = _note_types_events()
    for number, name in enumerate(hidden):
        module, spec, locations = hidden[name]
        events = [(seq, 0) for seq in recording.events_of.get(name, ())]
        if events:
            events = sorted(events + [key for key in types_events.get(name, ()) if key > events[0]])
        uses = recording.uses.get(name, ())
        used_at = recording.used_at.get(name, ())
        if not events:
            first = recording.first_use.get(name, -1)
            events = [(first, -2 * len(hidden) + 2 * number + k) for k in (0, 1)]
            _events[events[0]] = ("start", name, None)
            _events[events[1]] = ("end", name, None)
            uses = [held for held in recording.held_by(name) if held in unrecorded]
            used_at = [(first, 0)] * len(uses)
        _hidden[name] = Entry(name, module, spec, locations, uses, used_at,
                              frozenset(recording.quiet_uses.get(name, ())),
                              tuple(key for key, _ in recording.missing_at.get(name, ())),
                              events, False, recording.inputs.get(name, {}))
    _startup_inputs.update((name, inputs) for name, inputs in recording.inputs.items()
                           if name in keep)
    _note_shared_changes(recording.shared)
    _note_native_holders(native_holders or {})
    _note_renewed_values()
    _startup_effects[:] = recording.startup_effects
    for name, entry in _hidden.items():
        del sys.modules[name]
        parent, _, child = name.rpartition(".")
        parent_module = frozen_module(parent) if parent else None
        if parent_module is not None and getattr(parent_module, child, None) is entry.module:
            _detach(parent_module, child, entry.module)
            entry.sets_parent_attribute = True
    _known.update((name, _weakref.ref(module)) for name, module in sys.modules.items()
                  if module is not None)
    _FILE_LOADERS.update((_cpython.SourceFileLoader, _cpython.SourcelessFileLoader,
                          _cpython.ExtensionFileLoader))
    _meta_path[:] = sys.meta_path
    # python3's own start-up imports, not modules kept because their
    # import had effects that cannot wait (eager), which python3 imports
    # later, with sys.path[0]
    eager = set(recording.eager)
    eager.update(extra for extra, owner in recording.extras.items() if owner in eager)
    for name, module in sys.modules.items():
        spec = _cpython.module_spec(module)
        if ("." not in name and name not in eager and spec is not None and spec.origin
                and spec_key(spec)[1] in _FILE_LOADERS):
            _kept_files.append(_KeptFile(name, spec))


def _copy(text):
    """A new string equal to TEXT."""
    return text if not text else (text + ".")[:-1]


def _repack():
    copies = {}
    def fresh(text):
        return copies.setdefault(text, _copy(text)) if type(text) is str else text
    moved = {}
    events = {}
    for key in sorted(_events):
        kind, name, payload = _events[key]
        moved[key] = (key[0], key[1])
        events[moved[key]] = (kind, fresh(name), payload)
    hidden = {}
    for name, entry in _hidden.items():
        copy = Entry.__new__(Entry)
        for slot in Entry.__slots__:
            setattr(copy, slot, getattr(entry, slot))
        for slot in ("name", "parent", "tail", "home", "origin"):
            setattr(copy, slot, fresh(getattr(entry, slot)))
        copy.events = [moved[key] for key in entry.events]
        copy.missing_at = tuple(moved[key] for key in entry.missing_at)
        hidden[copy.name] = copy
    _events.clear()
    _events.update(events)
    _hidden.clear()
    _hidden.update(hidden)


def settle():
    """At the end of the dump, when the recorded inputs are final: each
    hidden module's plan for revealing it (Entry.plan), for _hidden as it
    is now."""
    global _only_reveals
    _repack()
    _note_bytecode_caches()
    _pyfreeze.prepare_reveal(Entry)
    timelines = {}
    for entry in _hidden.values():
        entries = _closure(entry.name)
        events = _load_order(entry.name, entries, timelines)
        entry.plan = (tuple(entries), events, tuple(dict.fromkeys(_used_known(entries))),
                      tuple(name for name, used in entries.items() if used.inputs),
                      _warning_records(events))
    _only_reveals = True


# --- classes out of sight ------------------------------------------------------

def hide_subclasses():
    """At the dump's very end, its classes final: keep the classes hidden
    modules made out of __subclasses__() until they are revealed (their
    "types" events then put them where python3 would have them in their
    bases' lists), and pyfreeze's own and the dump's for good."""
    global _classes_recorded
    _classes_recorded.extend(_pyfreeze.new_types())     # the dump's, since
    _pyfreeze.forget_types()
    made = {}
    belong_elsewhere = {}       # module name -> classes (_made_for_another)
    for key, (kind, name, payload) in _events.items():
        if kind != "types":
            continue
        classes = [cls for cls in (reference() for reference in payload) if cls is not None]
        entry = _hidden.get(name)
        if entry is None and name in sys.modules:       # kept: in sight from the start
            classes = []
        elif entry is not None:
            kept = []
            for cls in classes:
                other = _made_for_another(cls, entry)
                if other is None:
                    kept.append(cls)
                else:
                    belong_elsewhere.setdefault(other, []).append(cls)
            classes = kept
        made[key] = classes
    for module, classes in belong_elsewhere.items():
        _to_first_types_event(module, classes, made)
    for key, classes in made.items():
        entry = _hidden.get(_events[key][1])
        for cls in classes:
            _type_owners[id(cls)] = entry
    dump_made = {id(reference()) for reference in _classes_recorded}
    _classes_recorded = None
    for cls in _every_class():
        if id(cls) in dump_made or _is_own(cls):
            _type_owners[id(cls)] = None
    orders = {}
    records = {key: _reveal_records(classes, orders, _hidden.get(_events[key][1]))
               for key, classes in made.items()}
    # A reveal reads the records of its modules' events: made one after
    # the other, they share a few pages rather than one page each.
    every = []
    _pyfreeze.pack_objects(True)
    try:
        for key in sorted(records):
            kind, name, _ = _events[key]
            packed = []
            for base, members, followed in records[key]:
                packed.append((base, tuple(members), followed))
            every.extend(packed)
            _events[key] = (kind, name, (key[0], tuple(packed)))
    finally:
        _pyfreeze.pack_objects(False)
    # The records are finished at the dump's very end, with the versions of
    # their bases' subclass dicts then (src/runtime/hidden_subclasses.c).
    _pyfreeze.hide_subclasses(_type_owners, _hidden, every)


# The second item of the keys of "types" events: _TYPES_PLACE plus the
# number of uses noted before (import_recorder's _place), so below
# _TYPES_END, apart from the keys hide() makes for modules loaded before
# the recording.
_TYPES_PLACE = -1_000_000_000
_TYPES_END = _TYPES_PLACE // 2


def _note_types_events():
    """The classes the recording saw each load make (src/runtime/
    hidden_subclasses.c holds them until now): "types" events, placed just
    before the event recorded next.  The keys of each module's, by name;
    the classes made while no module loaded go to _classes_recorded."""
    global _classes_recorded
    _classes_recorded = []
    keys = {}
    for place, uses, owner, references in _pyfreeze.noted_types():
        if owner is None:
            _classes_recorded.extend(references)
            continue
        key = (place, _TYPES_PLACE + uses)
        if key in _events:          # two checkpoints with nothing between
            _events[key] = ("types", owner, _events[key][2] + references)
            continue
        _events[key] = ("types", owner, references)
        keys.setdefault(owner, []).append(key)
    return keys


def _every_class():
    """Every class reachable from object through the subclass lists."""
    found, pending = {}, [object]
    while pending:
        for cls in type.__subclasses__(pending.pop()):
            if id(cls) not in found:
                found[id(cls)] = cls
                pending.append(cls)
    return list(found.values())


def _made_for_another(cls, entry):
    """The module CLS belongs to when that is not ENTRY's, whose load made
    it, nor one in sys.modules from the start, and neither uses ENTRY's
    nor is used by it: state CPython makes on first use, whoever asks (the
    classes of ast, made by the first compile()).  Else None."""
    module = cls.__dict__.get("__module__")
    if type(module) is not str or module == entry.name or module in sys.modules:
        return None
    other = _hidden.get(module)
    if module in entry.plan[0] or (other is not None and entry.name in other.plan[0]):
        return None
    return module


def _to_first_types_event(module, classes, made):
    """CLASSES come into sight with MODULE: at its first "types" event,
    ahead of its own classes, when it is hidden and has one; else while
    sys.modules has it (without a place of their own in their bases'
    lists)."""
    entry = _hidden.get(module)
    for key in entry.events if entry is not None else ():
        if key in made:
            made[key][:0] = classes
            return
    for cls in classes:
        _type_owners[id(cls)] = module


def _is_own(cls):
    """Whether CLS is one of pyfreeze's classes: made by its embedded
    scripts, or by its modules compiled under importlib's name."""
    module = cls.__dict__.get("__module__")
    if module == _pyfreeze.script_module:
        return True
    return module == "importlib._bootstrap" and not _cpython.importlib_class(cls)


def _reveal_records(classes, orders, entry):
    """(base, CLASSES in that base's list, whether a class in sight from
    the start follows them there) for each base of CLASSES, ENTRY's, but
    for bases ENTRY's module made: no class of the run's can be made on
    those before ENTRY is revealed, and a frozen one that follows comes
    from a module revealed after it."""
    by_base = {}
    for cls in classes if entry is not None else ():
        for base in cls.__bases__:
            if _type_owners.get(id(base)) is entry:
                continue
            base_order = _base_order(base, orders)
            if id(cls) in base_order[1]:
                by_base.setdefault(id(base), []).append(cls)
    records = []
    for base_id, members in by_base.items():
        base, position, last_in_sight = orders[base_id]
        members.sort(key=lambda cls: position[id(cls)])
        records.append((base, members, last_in_sight > position[id(members[0])]))
    return records


def _base_order(base, orders):
    """(BASE, id -> place in its subclass list, place of the last class
    in sight from the start)."""
    found = orders.get(id(base))
    if found is None:
        listed = type.__subclasses__(base)
        last = max((place for place, cls in enumerate(listed) if id(cls) not in _type_owners),
                   default=-1)
        found = orders[id(base)] = (base, {id(cls): place for place, cls in enumerate(listed)}, last)
    return found
