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

/* `_pyfreeze.events_have_kind(events, table, kind)`: whether one of
 * EVENTS is of KIND (a str). */
PyObject *pf_reveal_events_have_kind(PyObject *const *args, Py_ssize_t count);

#endif
