# site's run at every start, and its memo.
#
# python3 runs site.main() at every start: it adds the site directories to
# sys.path and runs the "import" lines of their .pth files, code of the
# machine's (a distutils shim, namespace packages, a CA bundle patched).
# An image runs it again on the frozen heap (rerun) for the run's own
# environment: a millisecond and more of every start.
#
# Like an import, that run is a function of what it reads (DESIGN section
# 3a): sys.flags and sys.path as start-up left them, HOME and the other
# variables it looks at, the user ids, the directories and .pth files it
# looks at and lists, and whatever the .pth lines read; every directory of
# the search path it leaves is one too.  So the dump runs it once more, as
# the image runs it, and notes those reads with the recorder (rehearse).
# A warm start in which all of them read the same would do what the
# rehearsal did, and the rehearsal left its result in the frozen heap: the
# run takes it (start_site) and only sets sys.path as site left it.  Any
# difference, and site runs again as in python3.
#
# The rehearsal memoizes nothing when it printed, warned, wrote, ran a
# program, read the clock or randomness, or changed anything of the
# process beyond what site itself sets (sys.path, its own globals,
# builtins.help and the others, sys.__interactivehook__): re-running that
# would do it again.  It is tried in a child process first, so that one
# that memoizes nothing leaves nothing in the image.  The modules site
# imports by name (sitecustomize, usercustomize) and found missing are
# looked for again by the meta path finders other than PathFinder, whose
# answer the directories decide; and with the directories unchanged, the
# modules kept in sys.modules from the start are where the dump found
# them (lazy_modules.kept_found_by_listings).
#
# The rehearsal runs site on the freeze's heap, where the modules the .pth
# lines and sitecustomize import are imported already: it cannot see what
# those modules read at import.  So the freeze's interpreter starts without
# site and runs it first thing (run_first), noting what the .pth files'
# lines and sitecustomize read, the modules they import among them, and the
# modules they looked for and did not find.  Those reads are inputs of the
# memo too.  A warm start that does not take the memo (another HOME) runs
# site again only when they read the same and those modules are still
# missing, and then without the import lines of those .pth files: what they
# did is in the heap, and running them on it would do it twice (a finder
# inserted twice).  Otherwise it starts cold: python3 would run them
# otherwise (SETUPTOOLS_USE_DISTUTILS=stdlib and setuptools'
# distutils-precedence.pth: no distutils shim, no _distutils_hack).
#
# `_pyfreeze` (C helpers) is injected into this namespace by the runtime.

import sys
import posix

_cpython = _pyfreeze.cpython311
_OWNER = "<site>"
# What site.main() sets of builtins at every run (new objects each time)
_SITE_BUILTINS = frozenset(("quit", "exit", "copyright", "credits", "license", "help"))


class _SiteOs:
    """What site sees as `os` while it runs again: os itself, except that
    listing a site directory the dump listed, unchanged since (same
    identity and times), gives back the .pth names the dump found (all
    site keeps of a listing) instead of reading the directory again."""

    def __init__(self, os, listings):
        self._os = os
        self._listings = listings
        # The directories site listed, from the dump's listing or read
        # again: this module's frames are the import system's to the C
        # library's notes (import_inputs.c), so rehearse() notes them.
        self.served = []
        self.listed = []

    def __getattr__(self, name):
        return getattr(self._os, name)

    def listdir(self, path):
        known = self._listings.get(path) if type(path) is str else None
        if known is not None:
            try:
                status = self._os.stat(path)
            except OSError:
                status = None
            if status is not None and known[:4] == (status.st_dev, status.st_ino,
                                                     status.st_mtime_ns, status.st_ctime_ns):
                self.served.append(path)
                return list(known[4])
        self.listed.append(path)
        return self._os.listdir(path)


def rerun(listings, ran=frozenset()):
    """Runs site.main() as python3's start does, on the frozen heap: the
    _SiteOs it ran with (the directories it listed), or None.  The
    "import" lines of the .pth files in RAN, which the freeze's own site
    ran (run_first), are not run again: what they did is in the frozen
    heap, and they would do it again where they read what they read then
    (start_site makes sure); their other lines add their paths."""
    site = sys.modules.get("site")
    if site is None:
        import site  # noqa: F401  (runs site.main() itself)
        return None
    # site computed these from the dump's environment: forget them.
    site.ENABLE_USER_SITE = None
    site.USER_SITE = None
    site.USER_BASE = None
    site.PREFIXES = [sys.prefix, sys.exec_prefix]
    sys.__dict__.pop("__interactivehook__", None)
    # site's exec(line) finds this one first: the same exec, from the same
    # frame, with the lines compiled at the freeze (_pyfreeze.exec).
    shadowed = "exec" not in site.__dict__
    if shadowed:
        site.exec = _pyfreeze.exec
    os = site.__dict__.get("os")
    site_os = _SiteOs(os, listings) if os is not None and listings is not None else None
    if site_os is not None:
        site.os = site_os
    addpackage = site.__dict__.get("addpackage")

    def addpackage_once(sitedir, name, known_paths):
        if _pth_path(sitedir, name) not in ran:
            return addpackage(sitedir, name, known_paths)
        exec_now = site.__dict__.get("exec")
        site.exec = _skip
        try:
            return addpackage(sitedir, name, known_paths)
        finally:
            if exec_now is None:
                site.__dict__.pop("exec", None)
            else:
                site.exec = exec_now

    if ran and addpackage is not None:
        site.addpackage = addpackage_once
    try:
        site.main()
    finally:
        if shadowed:
            site.__dict__.pop("exec", None)
        if site_os is not None:
            site.os = os
        if ran and addpackage is not None:
            site.addpackage = addpackage
    return site_os


# --- the freeze's own run of site ------------------------------------------------

_PTH_OWNER = "<site's .pth lines>"


def run_first(recording):
    """Runs site.main() as python3's start runs it, for the freeze's own
    start.  (reads, missing, files): what the .pth files (their lines, and
    the modules those import, at import) and sitecustomize read, as
    RECORDING (an import_recorder.Recording) notes it; the top-level
    modules they tried to import and did not find, in order; the .pth
    files it ran."""
    import builtins
    site = sys.modules["site"]
    reads = {}
    missing = []
    files = []
    real_import = builtins.__import__

    def noting_import(name, globals=None, locals=None, fromlist=(), level=0):
        try:
            return real_import(name, globals, locals, fromlist, level)
        except ModuleNotFoundError as error:
            if level == 0 and error.name is not None and "." not in error.name:
                missing.append(error.name)
            raise

    def noted(function):
        def run(*args, **kwargs):
            result = []
            reads.update(recording.reads_of(_PTH_OWNER, lambda: result.append(function(*args, **kwargs))))
            return result[0]
        return run

    def addpackage(sitedir, name, known_paths):
        files.append(_pth_path(sitedir, name))
        return noted(saved["addpackage"])(sitedir, name, known_paths)

    had_warnings = "warnings" in sys.modules
    # The freeze's site is python3's under -s (sys.flags says otherwise:
    # the imports see a plain run's flags).
    site.ENABLE_USER_SITE = False
    saved = {name: site.__dict__[name] for name in ("addpackage", "execsitecustomize")}
    site.__dict__.update(addpackage=addpackage, execsitecustomize=noted(saved["execsitecustomize"]))
    builtins.__import__ = noting_import
    try:
        site.main()
    finally:
        builtins.__import__ = real_import
        site.__dict__.update(saved)
    # importlib leaves a module at the end of sys.modules once its code ran:
    # python3's site runs main() in its own import
    sys.modules["site"] = sys.modules.pop("site")
    _pyfreeze.site_ran()
    # sys.path as site leaves it is the rehearsal's to note (_note_search_path);
    # what a .pth line imports is found in its file, or the kept modules'
    # check says otherwise (lazy_modules.kept_module_moved)
    reads.pop(("sys", "path"), None)
    if not had_warnings and "warnings" in sys.modules:
        # warnings applies sys.warnoptions when imported; a warm start
        # applies the run's to the frozen module (restore._apply_warnoptions)
        reads.pop(("sys", "warnoptions"), None)
    # A module a .pth line did not find may be found by a later one, once
    # its directory is on sys.path (a module looked for by every site
    # directory's copy of a .pth file).  Of those found at no time: a
    # search of the final sys.path, which holds every path an attempt had,
    # finds nothing now when it found nothing at the freeze.
    return (reads, tuple(name for name in dict.fromkeys(missing) if name not in sys.modules),
            frozenset(files))


def _pth_path(sitedir, name):
    # as site.addpackage() names the file
    return sys.modules["os"].path.join(sitedir, name)


def _skip(*args, **kwargs):
    """exec() for the lines of the .pth files the freeze's own site ran:
    their effects are in the frozen heap already."""


def _found_now(names):
    """The first of NAMES (top-level modules) that a search of the meta
    path would find now, or None.  One in sys.modules was imported again
    by what did run (sitecustomize by site itself): python3's skipped line
    would have found it so."""
    return next((name for name in names if name not in sys.modules and _finders_find(name)), None)


def _finders_find(name, skipped=None):
    """Whether a meta path finder, SKIPPED aside, finds top-level NAME now,
    asked as importlib's _find_spec() asks them."""
    for finder in sys.meta_path:
        if finder is skipped:
            continue
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        with _cpython.ImportLockContext():
            if find_spec(name, None) is not None:
                return True
    return False


# --- the memo, made by the dump --------------------------------------------------

def _same_items(before, after):
    """Whether two snapshots hold the same objects (by identity: a
    program's object may define __eq__)."""
    if type(before) is dict:
        return before.keys() == after.keys() and all(after[key] is value for key, value in before.items())
    return len(before) == len(after) and all(a is b for a, b in zip(before, after))


def _process_state():
    """What a re-run of site must leave as it is for the run to take the
    rehearsal's result: name -> snapshot."""
    import builtins
    import _signal
    state = {
        "sys.modules": dict(sys.modules),
        "sys.meta_path": list(sys.meta_path),
        "sys.path_hooks": list(sys.path_hooks),
        "builtins": {key: value for key, value in builtins.__dict__.items() if key not in _SITE_BUILTINS},
        "the sys hooks": [sys.stdin, sys.stdout, sys.stderr, sys.displayhook, sys.excepthook,
                          sys.breakpointhook, sys.unraisablehook, sys.gettrace(), sys.getprofile()],
        "the signal handlers": [_signal.getsignal(signum) for signum in _signal.valid_signals()
                                if signum < _signal.NSIG],
    }
    atexit = sys.modules.get("atexit")
    state["atexit"] = [_cpython.ATEXIT_COUNT.get(atexit)()] if atexit is not None else []
    warnings = sys.modules.get("warnings")
    state["warnings filters"] = list(warnings.filters) if warnings is not None else []
    copyreg = sys.modules.get("copyreg")
    state["copyreg"] = dict(copyreg.dispatch_table) if copyreg is not None else {}
    return state


def _changed(before, after, environ, cwd):
    for what, snapshot in before.items():
        if not _same_items(snapshot, after[what]):
            if type(snapshot) is dict:
                keys = [key for key in snapshot.keys() | after[what].keys()
                        if snapshot.get(key, _same_items) is not after[what].get(key, _same_items)]
                return f"{what} ({', '.join(sorted(map(str, keys))[:3])})"
            return what
    if dict(posix.environ) != environ:
        return "the environment"
    if posix.getcwd() != cwd:
        return "the working directory"
    return None


def rehearse(recording, listings, search_path, kept_found, first_run):
    """(memo, None), or (None, why not): runs site as a warm start of the
    image runs it, from SEARCH_PATH (sys.path as the image's start-up
    leaves it for site), noting what it reads with RECORDING (an
    import_recorder.Recording).  KEPT_FOUND() says whether, on sys.path
    as site leaves it, the searches of the modules kept in sys.modules
    end in their files from the cached listings alone
    (lazy_modules.kept_found_by_listings).  FIRST_RUN is what run_first
    found: its reads are inputs of the memo, and its missing modules must
    still be missing.

    A trial in a child process comes first: a rehearsal that cannot be
    memoized may have imported a module, or changed other state, that
    would then be in the image from the start, while python3's site
    makes it in every run (and the image's site again, from source).
    Only a rehearsal the trial found memoizable runs here, where what it
    does to the heap is what every warm start's site would redo."""
    first_reads, first_missing, first_files = first_run
    why = _pyfreeze.inputs.never_the_same(first_reads)
    if why is not None:
        return None, why.replace("its import", "the .pth lines")
    why = _trial(recording, listings, search_path, kept_found, first_files)
    if why is not None:
        return None, why
    memo, why = _rehearse(recording, listings, search_path, kept_found, first_files)
    if memo is None:
        return None, why
    inputs, path, absent, kept_covered = memo
    for key, value in first_reads.items():
        kind, detail = key
        if kind == "list" and ("stamp", detail) in inputs:
            continue    # the stamp stands for the listing (_note_search_path)
        if inputs.setdefault(key, value) != value:
            return None, f"{_pyfreeze.inputs.describe(kind, detail)} read differently by the .pth lines"
    return (inputs, path, tuple(dict.fromkeys(absent + first_missing)), kept_covered), None


def _trial(recording, listings, search_path, kept_found, ran):
    """Why a rehearsal in a child process could not be memoized, or None."""
    try:
        read, write = posix.pipe()
    except OSError as error:
        return f"its trial could not start: {error}"
    try:
        pid = posix.fork()
    except OSError as error:
        posix.close(read)
        posix.close(write)
        return f"its trial could not start: {error}"
    if pid == 0:
        why = "the trial failed"
        try:
            posix.close(read)
            # What it prints (and what the freeze had not flushed yet) is
            # the trial's: noted as output, shown nowhere.
            null = posix.open("/dev/null", posix.O_WRONLY)
            posix.dup2(null, 1)
            posix.dup2(null, 2)
            why = _rehearse(recording, listings, search_path, kept_found, ran)[1] or ""
        finally:
            try:
                message = why.encode("utf-8", "replace")
                while message:
                    message = message[posix.write(write, message):]
            finally:
                _cpython.exit_at_once(0)
    posix.close(write)
    chunks = []
    try:
        while True:
            chunk = posix.read(read, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        posix.close(read)
        posix.waitpid(pid, 0)
    text = b"".join(chunks).decode("utf-8", "replace")
    return text or None


def _rehearse(recording, listings, search_path, kept_found, ran):
    site = sys.modules.get("site")
    if site is None:
        return None, "site is not loaded"
    saved_path = list(sys.path)
    environ = dict(posix.environ)
    cwd = posix.getcwd()
    before = _process_state()
    warnings = sys.modules.get("warnings")
    if warnings is None:
        return None, "the warnings machinery is not loaded"
    site_oses = []
    sys.path[:] = search_path
    try:
        # Any warning counts, shown or not: the run's -W options decide
        # whether python3 shows it, or raises it in the .pth line.
        with warnings.catch_warnings(record=True) as issued:
            warnings.simplefilter("always")
            inputs = recording.reads_of(_OWNER, lambda: site_oses.append(rerun(listings or {}, ran)))
        kept_covered = kept_found()
    except BaseException as error:      # noqa: B902 (a .pth line may raise SystemExit)
        return None, f"it failed: {type(error).__name__}: {error}"
    finally:
        path = tuple(sys.path)
        sys.path[:] = saved_path
    if issued:
        return None, f"it issues a warning ({issued[0].category.__name__}: {issued[0].message})"
    changed = _changed(before, _process_state(), environ, cwd)
    if changed is not None:
        return None, f"it changed {changed}"
    why = _pyfreeze.inputs.never_the_same(inputs)
    if why is not None:
        return None, why.replace("its import", "it")
    site_os = site_oses[0]
    if site_os is None:
        return None, "site has no os to list directories with"
    current = _pyfreeze.inputs.current
    for directory in site_os.served:
        inputs[("stamp", directory)] = current("stamp", directory)
    for directory in site_os.listed:
        inputs[("list", directory)] = current("list", directory)
    # Every directory of the search path as it is (or a file, or nothing):
    # a run in which none changed searches it as the freeze did.
    why = _note_search_path(inputs, path)
    if why is not None:
        return None, why
    names = ("sitecustomize", "usercustomize") if site.ENABLE_USER_SITE else ("sitecustomize",)
    absent = tuple(name for name in names if name not in sys.modules)
    return (inputs, path, absent, kept_covered), None


def _note_search_path(inputs, path):
    """Adds to INPUTS each entry of PATH not there yet: by its stamp, or,
    for a directory changed in the last two seconds (within the clock's
    granularity, an entry added after the stamp might not move its
    times), by its listing.  Why the memo cannot be made, or None."""
    import time
    current = _pyfreeze.inputs.current
    recent = time.time_ns() - 2_000_000_000
    for entry in path:
        if type(entry) is not str:
            return "sys.path holds something other than a string"
        if ("stamp", entry) in inputs or ("list", entry) in inputs:
            continue
        try:
            status = posix.stat(entry)
        except OSError:
            inputs[("stamp", entry)] = current("stamp", entry)
            continue
        if status.st_mtime_ns < recent and status.st_ctime_ns < recent:
            inputs[("stamp", entry)] = current("stamp", entry)
        elif (status.st_mode & 0o170000) == 0o040000:
            inputs[("list", entry)] = current("list", entry)
        else:
            return f"{entry} on sys.path changed in the last two seconds"
    return None


# --- a warm start ----------------------------------------------------------------

def _found(name):
    """Whether an import of top-level NAME may find a module now (True
    when it cannot tell: site runs again, and python3's import decides).
    Asked once the memo's inputs hold: every directory of the search path
    is as when the freeze's search found nothing of that name, so
    PathFinder finds nothing; the other finders are asked."""
    return _finders_find(name, _cpython.PathFinder)


def _difference(memo):
    """Why this run's site would not do what the rehearsal did, or None."""
    inputs, _, absent, _ = memo
    why = _pyfreeze.inputs.first_difference(inputs)
    if why is not None:
        return why.replace("its import", "it").replace(" differs from the freeze", " differs")
    for name in absent:
        if _found(name):
            return f"module {name} is there now"
    return None


def start_site(memo, listings, first_run):
    """site's part of a warm start: the rehearsal's result when MEMO
    holds, else site run again, when the .pth lines and sitecustomize
    would do what they did at the freeze (FIRST_RUN, see run_first), else
    a cold start.  (whether the memo was taken, and with it every entry
    of sys.path is as at the freeze; whether it stands for the check that
    the modules kept in sys.modules are found in their files
    (lazy_modules.kept_module_moved's LISTINGS_UNCHANGED))."""
    if memo is not None:
        why = _difference(memo)
        if why is None:
            sys.path[:] = memo[1]
            _pyfreeze.site_memo_taken()
            return True, memo[3]
        _pyfreeze.debug(f"site runs again: {why}")
    reads, missing, files = first_run
    why = _pyfreeze.inputs.first_difference(reads)
    if why is not None:
        _pyfreeze.step_aside(f"site's .pth lines would not run as at the freeze: "
                             f"{why.replace('its import', 'their run')}")
    rerun(listings, files)
    found = _found_now(missing)
    if found is not None:
        _pyfreeze.step_aside(f"module {found}, which site's .pth lines imported and did not find at "
                             f"the freeze, is there now")
    return False, False
