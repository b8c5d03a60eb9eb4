/* pyfreeze's hooks in importlib, as functions that leave no frame.
 *
 * lazy_modules.py replaces importlib._bootstrap's _find_spec and
 * _load_unlocked.  A replacement written in Python puts a frame of its
 * own between importlib's: when a module imported through
 * importlib.import_module() raised, or a finder did, the traceback showed
 * one frame more than python3's (C trims importlib's frames only for an
 * import statement).  These hooks are built-in functions that ask
 * pyfreeze's Python code first and then call importlib's own function
 * themselves: the stack then holds importlib's frames only. */
#ifndef PYFREEZE_IMPORT_HOOKS_H
#define PYFREEZE_IMPORT_HOOKS_H

#include <Python.h>

/* `_pyfreeze.load_unlocked_hook(reveal, original)`: a built-in
 * _load_unlocked(spec) that returns REVEAL(spec) unless that is None,
 * and ORIGINAL(spec) then. */
PyObject *pf_import_hooks_load_unlocked(PyObject *const *args, Py_ssize_t count);

/* `_pyfreeze.find_spec_hook(original, fallback)`: a built-in
 * _find_spec(name, path, target=None) that returns ORIGINAL's spec, and
 * FALLBACK's (called with the same arguments) when that is None. */
PyObject *pf_import_hooks_find_spec(PyObject *const *args, Py_ssize_t count);

#endif
