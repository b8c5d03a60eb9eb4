#include "reveal_replay.h"

#include "entry_slots.h"
#include "hidden_subclasses.h"

enum replay_argument {
    EVENTS,
    REQUESTED,
    ENTRIES,
    STARTED,
    IMPORTER,
    TABLE,
    KNOWN,
    RENEWED,
    RENEW,
    APPLY,
    ARGUMENT_COUNT
};

/* The Entry slots the replay reads (python/lazy_modules.py), borrowed:
 * the claimed entries stay unchanged while their replay runs. */
static struct pf_slot slot_module = {"module", NULL, 0};
static struct pf_slot slot_parent = {"parent", NULL, 0};
static struct pf_slot slot_tail = {"tail", NULL, 0};
static struct pf_slot slot_sets_parent_attribute = {"sets_parent_attribute", NULL, 0};
static struct pf_slot slot_extension_origin = {"extension_origin", NULL, 0};

int pf_reveal_replay_prepare(PyTypeObject *entry_type)
{
    struct pf_slot *slots[] = {&slot_module, &slot_parent, &slot_tail, &slot_sets_parent_attribute,
                               &slot_extension_origin};
    for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
        if (pf_slot_prepare(slots[i], entry_type) < 0)
            return -1;
    }
    return 0;
}

/* sys.NAME as `sys.NAME` reads it in Python: borrowed, or NULL with
 * python3's AttributeError. */
static PyObject *sys_attribute(const char *name)
{
    PyObject *value = PySys_GetObject(name);
    if (value == NULL && !PyErr_Occurred())
        PyErr_Format(PyExc_AttributeError, "module 'sys' has no attribute '%s'", name);
    return value;
}

/* Borrowed TABLE[KEY] or ENTRIES[KEY], with Python's KeyError. */
static PyObject *item_of(PyObject *dict, PyObject *key)
{
    PyObject *value = PyDict_GetItemWithError(dict, key);
    if (value == NULL && !PyErr_Occurred())
        PyErr_SetObject(PyExc_KeyError, key);
    return value;
}

/* -1 with an exception, else whether NAME == REQUESTED. */
static int is_requested(PyObject *name, PyObject *requested)
{
    return PyObject_RichCompareBool(name, requested, Py_EQ);
}

/* sys.audit("import", name, None, sys.path, sys.meta_path,
 * sys.path_hooks), as an import statement raises it for a module not in
 * sys.modules (the plan puts the name where python3's statement would). */
static int audit_import(PyObject *name)
{
    PyObject *path = sys_attribute("path");
    PyObject *meta_path = path != NULL ? sys_attribute("meta_path") : NULL;
    PyObject *path_hooks = meta_path != NULL ? sys_attribute("path_hooks") : NULL;
    if (path_hooks == NULL)
        return -1;
    return PySys_Audit("import", "OOOOO", name, Py_None, path, meta_path, path_hooks);
}

/* The audit of an extension module's loading, as _imp.create_dynamic
 * raises it (sys.audit("import", name, origin, None, None, None)): python3
 * never loaded the file in this run. */
static int audit_extension(PyObject *name, PyObject *entry)
{
    PyObject *origin = pf_slot_get(entry, &slot_extension_origin);
    if (origin == NULL)
        return -1;
    return origin == Py_None ? 0 : PySys_Audit("import", "OOOOO", name, origin, Py_None, Py_None, Py_None);
}

static int replay_start(PyObject *const *args, PyObject *name, PyObject *entry)
{
    if (audit_extension(name, entry) < 0)
        return -1;
    PyObject *modules = sys_attribute("modules");
    /* Held: a sys.modules of the program's own kind runs code. */
    PyObject *module = modules != NULL ? Py_XNewRef(pf_slot_get(entry, &slot_module)) : NULL;
    if (module == NULL)
        return -1;
    int rc = PyObject_SetItem(modules, name, module);
    if (rc == 0) {
        PyObject *reference = PyWeakref_NewRef(module, NULL);
        rc = reference != NULL ? PyDict_SetItem(args[KNOWN], name, reference) : -1;
        Py_XDECREF(reference);
    }
    Py_DECREF(module);
    if (rc < 0 || PyList_Append(args[STARTED], name) < 0)
        return -1;
    int renewed = PyDict_Contains(args[RENEWED], name);
    if (renewed <= 0)
        return renewed;
    PyObject *result = PyObject_CallOneArg(args[RENEW], entry);
    Py_XDECREF(result);
    return result != NULL ? 0 : -1;
}

/* STARTED.remove(NAME) when NAME is in it. */
static int forget_started(PyObject *started, PyObject *name)
{
    int present = PySequence_Contains(started, name);
    if (present <= 0)
        return present;
    Py_ssize_t index = PySequence_Index(started, name);
    return index < 0 ? -1 : PySequence_DelItem(started, index);
}

/* _bind_in_parent: setattr(sys.modules.get(parent), tail, module), an
 * AttributeError ignored, as _find_and_load_unlocked binds a submodule. */
static int bind_in_parent(PyObject *modules, PyObject *entry, PyObject *module)
{
    PyObject *parent = pf_slot_get(entry, &slot_parent);
    if (parent == NULL)
        return -1;
    int has_parent = PyObject_IsTrue(parent);
    PyObject *parent_module = has_parent > 0 ? PyObject_CallMethod(modules, "get", "O", parent) : NULL;
    if (has_parent <= 0)
        return has_parent;
    if (parent_module == NULL)
        return -1;
    int rc = 0;
    if (parent_module != Py_None) {
        PyObject *tail = pf_slot_get(entry, &slot_tail);
        rc = tail != NULL ? PyObject_SetAttr(parent_module, tail, module) : -1;
        if (rc < 0 && PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            rc = 0;
        }
    }
    Py_DECREF(parent_module);
    return rc;
}

/* _load_unlocked moves a loaded module to the end of sys.modules, and
 * _find_and_load_unlocked binds it in its package. */
static int replay_end(PyObject *const *args, PyObject *name, PyObject *entry)
{
    if (forget_started(args[STARTED], name) < 0)
        return -1;
    /* Held: a sys.modules of the program's own kind may run code that
     * replaces it. */
    PyObject *modules = Py_XNewRef(sys_attribute("modules"));
    PyObject *frozen = modules != NULL ? pf_slot_get(entry, &slot_module) : NULL;
    PyObject *module = frozen != NULL ? PyObject_CallMethod(modules, "pop", "OO", name, frozen) : NULL;
    if (module == NULL) {
        Py_XDECREF(modules);
        return -1;
    }
    int rc = PyObject_SetItem(modules, name, module);
    PyObject *binds = rc == 0 ? pf_slot_get(entry, &slot_sets_parent_attribute) : NULL;
    int bound = binds != NULL ? PyObject_IsTrue(binds) : -1;
    if (bound > 0)
        rc = bind_in_parent(modules, entry, module);
    else if (bound < 0)
        rc = -1;
    Py_DECREF(module);
    Py_DECREF(modules);
    return rc;
}

static int replay_other(PyObject *const *args, PyObject *kind, PyObject *name, PyObject *payload)
{
    int requested = is_requested(name, args[REQUESTED]);
    if (requested < 0)
        return -1;
    PyObject *call[] = {kind, payload, args[IMPORTER], requested ? Py_True : Py_False};
    PyObject *result = PyObject_Vectorcall(args[APPLY], call, 4, NULL);
    Py_XDECREF(result);
    return result != NULL ? 0 : -1;
}

/* KEY: an event's key in TABLE, or the name of a module to audit. */
static int replay_one(PyObject *const *args, PyObject *key)
{
    if (PyUnicode_CheckExact(key))
        return audit_import(key);
    PyObject *record = item_of(args[TABLE], key);
    if (record == NULL)
        return -1;
    if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) != 3) {
        PyErr_SetString(PyExc_TypeError, "replay(): a recorded event is not a (kind, name, payload) tuple");
        return -1;
    }
    /* The table holds the record, and the record its items, for as long
     * as the replay runs: nothing of the program's removes recorded
     * events. */
    PyObject *kind = PyTuple_GET_ITEM(record, 0);
    PyObject *name = PyTuple_GET_ITEM(record, 1);
    PyObject *entry = item_of(args[ENTRIES], name);
    if (entry == NULL)
        return -1;
    if (PyUnicode_Check(kind) && PyUnicode_CompareWithASCIIString(kind, "start") == 0)
        return replay_start(args, name, entry);
    if (PyUnicode_Check(kind) && PyUnicode_CompareWithASCIIString(kind, "end") == 0)
        return replay_end(args, name, entry);
    /* a module its import statement looked for and did not find */
    if (PyUnicode_Check(kind) && PyUnicode_CompareWithASCIIString(kind, "audit") == 0)
        return audit_import(PyTuple_GET_ITEM(record, 2));
    /* the classes its import made come into sight */
    if (PyUnicode_Check(kind) && PyUnicode_CompareWithASCIIString(kind, "types") == 0)
        return pf_subclasses_reveal(PyTuple_GET_ITEM(record, 2));
    return replay_other(args, kind, name, PyTuple_GET_ITEM(record, 2));
}

PyObject *pf_reveal_replay(PyObject *const *args, Py_ssize_t count)
{
    if (count != ARGUMENT_COUNT || !(PyList_Check(args[EVENTS]) || PyTuple_Check(args[EVENTS])) ||
        !PyDict_Check(args[ENTRIES]) ||
        !PyList_Check(args[STARTED]) || !PyDict_Check(args[TABLE]) || !PyDict_Check(args[KNOWN]) ||
        !PyDict_Check(args[RENEWED])) {
        PyErr_SetString(PyExc_TypeError, "replay() takes a list or tuple of events, the requested name, "
                                         "the claimed entries, a list, a frame, three dicts and two functions");
        return NULL;
    }
    PyObject *events = args[EVENTS];
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(events); i++) {
        /* Borrowed: the sequence is the plan's, out of the program's
         * reach, like the table and the claimed entries. */
        if (replay_one(args, PySequence_Fast_ITEMS(events)[i]) < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}
