"""What the dump leaves for every start of the image.

dump.py fills one RestoreState (module-level `restore_state` there); the
runtime keeps it with the frozen heap and hands it to restore.py at every
warm start and teardown, and reads three fields itself when it writes the
image (python_glue.c: module_count, inputs_summary, file_stamps).  The
fields are slots: a misspelt name raises AttributeError instead of making
a field nobody reads.  The dump sets every field; each starts as None, so
that one it did not set is no plausible value (the runtime's readers fail
the freeze on it).
"""


class RestoreState:
    __slots__ = ("lazy", "default_warning_filters", "dump_executable", "frozen_finalizers",
                 "captured_streams", "file_stamps", "module_count", "dump_tempdir",
                 "inputs_summary", "site_listings", "site_memo", "site_first_run", "null_descriptors")

    def __init__(self):
        # lazy_modules.py's namespace, seen as attributes (dump._Namespace):
        # the hidden modules, their reveal, the checks at start.
        self.lazy = None
        # int: how many warnings filters there were before the dump imported
        # anything; those added since are the frozen modules', which the
        # restore keeps in front of the run's -W options.
        self.default_warning_filters = None
        # str: sys.executable of the freeze, which multiprocessing.spawn
        # copied at import and the restore replaces with the image's.
        self.dump_executable = None
        # int: frozen objects whose finalizers python3 would run at exit;
        # when there are some, the image's teardown runs in full.
        self.frozen_finalizers = None
        # set of int: the standard descriptors whose frozen stream (or its
        # buffer) a frozen module holds; a run with one of them closed
        # starts cold.
        self.captured_streams = None
        # list of (path, mtime_ns, size), sorted: the module files (and the
        # entry form's program) the heap was made from; the runtime writes
        # them into the image, which starts cold when one changed.
        self.file_stamps = None
        # int: len(sys.modules) at the dump, for `pyfreeze --info`.
        self.module_count = None
        # str or None: tempfile.tempdir at the dump, found from the freeze's
        # environment; the restore forgets it to find the run's.
        self.dump_tempdir = None
        # str: "env NAME\n" and "read PATH\n" lines, the environment
        # variables ('*' for all of it) and files the imports read, which
        # the runtime writes into the image for `pyfreeze --info`.
        self.inputs_summary = None
        # dict: site directory -> (st_dev, st_ino, st_mtime_ns, st_ctime_ns,
        # its .pth names) as the dump listed it; site's re-run at restore
        # lists a directory again only when these changed.
        self.site_listings = None
        # (inputs, sys.path, absent, kept covered) or None: site's run at
        # a warm start, memoized (site_memo.py): what it read, {(kind,
        # detail): value}, the directories of sys.path among them; sys.path
        # as it left it; the modules it found missing; whether the memo
        # holding stands for the check of the modules kept in sys.modules.
        self.site_memo = None
        # (reads, missing, files): what site's .pth lines and sitecustomize
        # read at the freeze's start, the modules they imported at import
        # among them ({(kind, detail): value}); the top-level modules they
        # looked for and did not find; the .pth files site ran (frozenset of
        # paths) (site_memo.run_first).  A warm start without the memo runs
        # site again, without those files' import lines, only when the
        # reads hold; the missing modules must still be missing.
        self.site_first_run = None
        # list of (fd, flags), by fd: descriptors open on /dev/null that
        # frozen modules hold (IPython.utils.io keeps os.devnull open); the
        # dump closes them and the restore opens them again under the same
        # numbers with the same flags (open(2)'s, from /proc/self/fdinfo).
        self.null_descriptors = None
