# The dump driver: runs in the freezing child after the interpreter is up.
# It imports what the image should hold and leaves the heap quiescent.
# `_pyfreeze` (C helpers) is injected into this namespace by the runtime.
# Failures come back as (kind, message); kind is one of the FAIL_ names.

import gc
import sys

FAIL_IMPORT = 1
FAIL_NATIVE = 2
FAIL_STATE = 3


def _describe(exc):
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _native_modules():
    """Extension modules loaded from shared objects, by name."""
    found = {}
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None) or getattr(module, "__file__", None)
        if isinstance(origin, str) and origin.endswith(".so"):
            found[name] = origin
    return found


def _import_all(modules):
    native_before = _native_modules()
    blame = {}
    for name in modules:
        try:
            __import__(name)
        except BaseException as exc:
            import traceback
            traceback.print_exc()
            if isinstance(exc, SystemExit):
                why = f"it called sys.exit({exc.code!r})"
            else:
                why = _describe(exc)
            return FAIL_IMPORT, f"importing module '{name}' failed: {why}"
        for loaded, origin in _native_modules().items():
            if loaded not in native_before and loaded not in blame:
                blame[loaded] = (name, origin)
    if blame:
        parts = [f"'{who}' loads native extension module '{ext}' ({origin})"
                 for ext, (who, origin) in blame.items()]
        blocks = " ".join(f"-{ext}" for ext in blame)
        return FAIL_NATIVE, "; ".join(parts) + f"; block with {blocks}"
    return None


def _warnings_default_count():
    module = sys.modules.get("warnings")
    if module is not None:
        return len(module.filters)
    import _warnings
    return len(_warnings.filters)


def run(modules, blocks, search_paths, restore_state):
    restore_state["default_warning_filters"] = _warnings_default_count()
    saved_path = list(sys.path)
    sys.path[0:0] = search_paths
    for name in blocks:
        sys.modules[name] = None
    try:
        failure = _import_all(modules)
        if failure:
            return failure
        import pyfreeze
        for callback in pyfreeze._before_dump:
            try:
                callback()
            except BaseException as exc:
                import traceback
                traceback.print_exc()
                return FAIL_IMPORT, f"before_dump callback {callback.__qualname__} failed: {_describe(exc)}"
        pyfreeze._restored = True
    finally:
        sys.path[:] = saved_path
    threads = sys.modules.get("threading")
    if threads is not None and threads.active_count() > 1:
        names = ", ".join(t.name for t in threads.enumerate() if t is not threads.main_thread())
        return FAIL_STATE, f"threads are running at the checkpoint: {names}"
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    gc.collect()
    gc.freeze()
    return None
