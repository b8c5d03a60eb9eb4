/* The common case of a reveal's resolution check, in C (python/
 * lazy_modules.py, _first_unresolved and _found_first_in_frozen_directory
 * have its meaning): would python3's path search load each module of the
 * plan from the file the image froze?  In Python the check reads several
 * attributes of every module's entry and so writes the frozen pages they
 * sit on; here they are read through borrowed references. */
#ifndef PYFREEZE_REVEAL_RESOLUTION_H
#define PYFREEZE_REVEAL_RESOLUTION_H

#include "cpython311.h"

/* `_pyfreeze.first_unresolved(entries, requested, hidden, file_loaders,
 * directory)`, for a meta path with no finder the freeze did not have and
 * with PathFinder on it.  ENTRIES (name -> Entry) are the modules of a
 * plan, REQUESTED the one whose search just found it, HIDDEN the dict of
 * the hidden entries, FILE_LOADERS the set of the loaders of modules that
 * come from files.  DIRECTORY(path_entry) tells what a path entry's finder
 * searches: None for no finder, False when this cannot tell, else
 * (directory, listing, suffixes) from a FileFinder whose listing is
 * current.  Returns None when every module would resolve to its frozen
 * file, a str saying why one would not, or NotImplemented when a module
 * needs the full check (a package without its __path__ in its dict, a
 * module of no known home, a directory of its name ahead of its own). */
PyObject *pf_reveal_first_unresolved(PyObject *const *args, Py_ssize_t count);

/* At the dump: finds the Entry slots the check reads (pf_slot_prepare).
 * -1 with an exception. */
int pf_reveal_resolution_prepare(PyTypeObject *entry_type);

#endif
