/* The replay of a reveal, in C (python/lazy_modules.py, _replay, has the
 * meaning of each event).  A reveal replays two events per module at the
 * least; in Python each pushes the frozen objects it names (the event, its
 * name, the entry) on the stack and so writes their pages, and runs
 * bytecode the run executes nowhere else.  Here the records are read
 * through borrowed references: the pages written are those python3's
 * import would write too (sys.modules, the module, its package). */
#ifndef PYFREEZE_REVEAL_REPLAY_H
#define PYFREEZE_REVEAL_REPLAY_H

#include "cpython311.h"

/* `_pyfreeze.replay(events, requested, entries, started, importer, table,
 * known, renewed, renew, apply)`: replays EVENTS (a list or tuple of keys
 * of TABLE, whose values are (kind, name, payload)) for the module
 * REQUESTED, with the claimed ENTRIES (name -> Entry), raising the audit
 * events python3's import raises (an extension module's loading among
 * them).  Modules whose code would be running are appended to the list
 * STARTED and taken off it at their end, so that the caller can undo what
 * an exception interrupted.  KNOWN gets a weak reference to each module
 * put in sys.modules; RENEW(entry) runs for a module named in RENEWED;
 * APPLY(kind, payload, importer, requested) runs for the events that are
 * neither a start nor an end.  None, or NULL with the exception the
 * replay raised. */
PyObject *pf_reveal_replay(PyObject *const *args, Py_ssize_t count);

/* At the dump: finds the Entry slots the replay reads (pf_slot_prepare).
 * -1 with an exception. */
int pf_reveal_replay_prepare(PyTypeObject *entry_type);

#endif
