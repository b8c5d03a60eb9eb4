"""Hooks for programs that are frozen into a pyfreeze image.

Every image carries this module.  A module that is frozen can register
callbacks around the snapshot:

    import pyfreeze

    @pyfreeze.before_dump
    def close_connections(): ...

    @pyfreeze.after_restore
    def reopen_connections(): ...

before_dump callbacks run in registration order in the freezing process,
after all modules are imported and before the heap is frozen; an exception
in one aborts the freeze.  after_restore callbacks run in registration
order every time an image starts from its frozen heap, after the process
state (environment, streams, signals, sys.path) has been re-established and
before the command line runs; an exception in one is printed as a
traceback and the image exits with status 1, as python3 does for an
exception at start-up.  Neither runs when an image steps aside to a cold
start: then modules are imported afresh and their import-time code runs.
"""

_before_dump = []
_after_restore = []
_restored = False


def frozen():
    """True when this process started from a frozen heap."""
    return _restored


def before_dump(function):
    """Register `function` to run just before the heap is frozen."""
    _before_dump.append(function)
    return function


def after_restore(function):
    """Register `function` to run each time the image starts warm."""
    _after_restore.append(function)
    return function
