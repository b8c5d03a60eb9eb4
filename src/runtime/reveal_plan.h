/* Questions a reveal's plan asks of the recorded events, in C (python/
 * lazy_modules.py, _current_plan and _plan).  A plan holds a few events
 * per module; a Python loop over them pushes each event and its record on
 * the stack and so writes the frozen pages they sit on, while here they
 * are read through borrowed references. */
#ifndef PYFREEZE_REVEAL_PLAN_H
#define PYFREEZE_REVEAL_PLAN_H

#include "cpython311.h"

/* `_pyfreeze.events_without(events, table, gone)`: a new list of the
 * keys of EVENTS (a list or tuple of keys of the dict TABLE, whose values
 * are (kind, name, payload)) whose module name is not in the set GONE, in
 * their order. */
PyObject *pf_reveal_events_without(PyObject *const *args, Py_ssize_t count);

/* `_pyfreeze.events_of_kinds(events, table, kinds)`: a new list of the
 * records of EVENTS whose kind is in the tuple KINDS, in their order. */
PyObject *pf_reveal_events_of_kinds(PyObject *const *args, Py_ssize_t count);

/* `_pyfreeze.plan_entries(names, hidden)`: a new dict of the entries
 * HIDDEN has for NAMES (a list or tuple), in their order; None when one
 * of them is not in HIDDEN. */
PyObject *pf_reveal_plan_entries(PyObject *const *args, Py_ssize_t count);

/* `_pyfreeze.first_changed_known(names, known)`: the first of NAMES
 * whose module in sys.modules is no longer the one KNOWN (name -> weak
 * reference) holds, None when there is none, NotImplemented when
 * sys.modules is not a dict (its get() is the program's). */
PyObject *pf_reveal_first_changed_known(PyObject *const *args, Py_ssize_t count);

#endif
