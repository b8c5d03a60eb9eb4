#include "reveal_plan.h"

/* The record of the event KEY in TABLE (borrowed), or NULL with an
 * exception: Python's KeyError, or a TypeError for a record that is not
 * a (kind, name, payload) tuple. */
static PyObject *record_of(PyObject *table, PyObject *key)
{
    PyObject *record = PyDict_GetItemWithError(table, key);
    if (record == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) != 3) {
        PyErr_SetString(PyExc_TypeError, "a recorded event is not a (kind, name, payload) tuple");
        return NULL;
    }
    return record;
}

/* Whether ARGS are a list or tuple of events and a dict of records. */
static int events_and_table(PyObject *const *args, Py_ssize_t count, Py_ssize_t wanted, const char *usage)
{
    if (count == wanted && (PyList_Check(args[0]) || PyTuple_Check(args[0])) && PyDict_Check(args[1]))
        return 1;
    PyErr_SetString(PyExc_TypeError, usage);
    return 0;
}

PyObject *pf_reveal_events_without(PyObject *const *args, Py_ssize_t count)
{
    static const char usage[] = "events_without() takes events, their records and a set";
    if (!events_and_table(args, count, 3, usage))
        return NULL;
    if (!PyAnySet_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, usage);
        return NULL;
    }
    PyObject *events = args[0];
    PyObject *kept = PyList_New(0);
    for (Py_ssize_t i = 0; kept != NULL && i < PySequence_Fast_GET_SIZE(events); i++) {
        /* an event's key, or the name of a module whose import is audited */
        PyObject *key = PySequence_Fast_ITEMS(events)[i];
        PyObject *record = PyUnicode_CheckExact(key) ? NULL : record_of(args[1], key);
        PyObject *name = record != NULL ? PyTuple_GET_ITEM(record, 1) : PyUnicode_CheckExact(key) ? key : NULL;
        int gone = name != NULL ? PySet_Contains(args[2], name) : -1;
        if (gone < 0 || (!gone && PyList_Append(kept, key) < 0))
            Py_CLEAR(kept);
    }
    return kept;
}

PyObject *pf_reveal_events_of_kinds(PyObject *const *args, Py_ssize_t count)
{
    if (!events_and_table(args, count, 3, "events_of_kinds() takes events, their records and a tuple of kinds"))
        return NULL;
    if (!PyTuple_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "events_of_kinds() takes events, their records and a tuple of kinds");
        return NULL;
    }
    PyObject *events = args[0];
    PyObject *records = PyList_New(0);
    for (Py_ssize_t i = 0; records != NULL && i < PySequence_Fast_GET_SIZE(events); i++) {
        PyObject *key = PySequence_Fast_ITEMS(events)[i];
        if (PyUnicode_CheckExact(key))
            continue;       /* an audit */
        PyObject *record = record_of(args[1], key);
        int wanted = record != NULL ? PySequence_Contains(args[2], PyTuple_GET_ITEM(record, 0)) : -1;
        if (wanted < 0 || (wanted && PyList_Append(records, record) < 0))
            Py_CLEAR(records);
    }
    return records;
}

PyObject *pf_reveal_plan_entries(PyObject *const *args, Py_ssize_t count)
{
    if (count != 2 || !(PyList_Check(args[0]) || PyTuple_Check(args[0])) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "plan_entries() takes a list or tuple of names and a dict");
        return NULL;
    }
    PyObject *names = args[0];
    PyObject *entries = PyDict_New();
    for (Py_ssize_t i = 0; entries != NULL && i < PySequence_Fast_GET_SIZE(names); i++) {
        PyObject *name = PySequence_Fast_ITEMS(names)[i];
        PyObject *entry = PyDict_GetItemWithError(args[1], name);
        if (entry == NULL) {
            Py_CLEAR(entries);
            if (!PyErr_Occurred())
                Py_RETURN_NONE;
        } else if (PyDict_SetItem(entries, name, entry) < 0) {
            Py_CLEAR(entries);
        }
    }
    return entries;
}

PyObject *pf_reveal_first_changed_known(PyObject *const *args, Py_ssize_t count)
{
    if (count != 2 || !(PyList_Check(args[0]) || PyTuple_Check(args[0])) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "first_changed_known() takes a list or tuple of names and a dict");
        return NULL;
    }
    PyObject *modules = PySys_GetObject("modules");
    if (modules == NULL || !PyDict_CheckExact(modules))
        Py_RETURN_NOTIMPLEMENTED;       /* a program's own kind: its get() may run code */
    PyObject *names = args[0];
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(names); i++) {
        PyObject *name = PySequence_Fast_ITEMS(names)[i];
        PyObject *present = PyDict_GetItemWithError(modules, name);
        PyObject *reference = present != NULL || !PyErr_Occurred() ? PyDict_GetItemWithError(args[1], name) : NULL;
        if (PyErr_Occurred())
            return NULL;
        PyObject *known = reference != NULL && PyWeakref_Check(reference) ? PyWeakref_GET_OBJECT(reference) : Py_None;
        if ((present != NULL ? present : Py_None) != known)
            return Py_NewRef(name);
    }
    Py_RETURN_NONE;
}
