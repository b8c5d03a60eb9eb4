#include "hidden_subclasses.h"

#include "cpython311.h"
#include "entry_slots.h"
#include "module_zone.h"
#include "pointer_map.h"
#include "python_glue.h"

#include <stdlib.h>

/* Set at the dump's end and frozen with the heap, but latest_replayed,
 * which a run sets. */
static PyObject *owners;            /* id of a class -> Entry, module name or None */
static PyObject *hidden_entries;    /* lazy_modules._hidden */
static PyObject *pending_records;   /* the "types" records, until noted */
static PyMethodDef cpython_def;     /* type.__subclasses__ as CPython has it */
static struct pf_slot slot_name = {"name", NULL, 0};
/* The latest "types" event replayed in this run (events are numbered in
 * the order of the dump's imports). */
static long long latest_replayed = -1;

static PyMethodDef filtering_def;

/* --- finding the classes a load made ------------------------------------- */

/* Every class seen so far -> a weak reference to it (an address a class
 * that died left may be taken by a new one: the reference tells them
 * apart).  The map is in memory of its own and the references are the
 * ones the subclass dicts hold: this bookkeeping adds to the heap the
 * modules' objects are on only a tuple per checkpoint that saw new
 * classes. */
static struct pf_pointer_map known_classes;

static PyTypeObject *class_of(PyObject *reference)
{
    PyObject *class = PyWeakref_GET_OBJECT(reference);
    return class != Py_None && PyType_Check(class) ? (PyTypeObject *)class : NULL;
}

/* The classes one walk found new, in malloc'd memory. */
struct found {
    PyObject **references;
    size_t count, capacity;
};

static int keep_found(struct found *found, PyObject *reference)
{
    if (found->count == found->capacity) {
        size_t capacity = found->capacity ? 2 * found->capacity : 64;
        PyObject **grown = realloc(found->references, capacity * sizeof *grown);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        found->references = grown;
        found->capacity = capacity;
    }
    found->references[found->count++] = reference;
    return 0;
}

/* CLASS, seen: a weak reference to it in FOUND if it is new.  A class in
 * a subclass dict has a plain weak reference already: this is that one. */
static int note_class(PyTypeObject *class, struct found *found)
{
    PyObject *noted = pf_pointer_map_get(&known_classes, class);
    if (noted != NULL && class_of(noted) == class)
        return 0;
    PyObject *reference = PyWeakref_NewRef((PyObject *)class, NULL);
    if (reference == NULL)
        return -1;
    if (pf_pointer_map_put(&known_classes, class, reference) < 0 || keep_found(found, reference) < 0) {
        Py_DECREF(reference);
        return PyErr_Occurred() ? -1 : (PyErr_NoMemory(), -1);
    }
    Py_INCREF(reference);       /* one for the map, one for FOUND */
    Py_XDECREF(noted);
    return 0;
}

/* Walks the subclass dicts below BASE.  Nothing here runs Python code or
 * makes Python objects. */
static int walk(PyTypeObject *base, struct pf_pointer_map *visited, struct found *found)
{
    PyObject *subclasses = base->tp_subclasses;
    if (subclasses == NULL || !PyDict_CheckExact(subclasses))
        return 0;
    PyObject *key, *reference;
    Py_ssize_t position = 0;
    while (PyDict_Next(subclasses, &position, &key, &reference)) {
        PyTypeObject *class = class_of(reference);
        if (class == NULL || pf_pointer_map_get(visited, class) != NULL)
            continue;
        if (pf_pointer_map_put(visited, class, class) < 0) {
            PyErr_NoMemory();
            return -1;
        }
        if (note_class(class, found) < 0 || walk(class, visited, found) < 0)
            return -1;
    }
    return 0;
}

/* FOUND's references as a tuple (one block; not in the module zone, where
 * it would sit between the module objects the zone keeps together); FOUND
 * is emptied. */
static PyObject *found_tuple(struct found *found)
{
    PyObject *tuple = PyTuple_New((Py_ssize_t)found->count);
    for (size_t i = 0; i < found->count; i++) {
        if (tuple != NULL)
            PyTuple_SET_ITEM(tuple, (Py_ssize_t)i, found->references[i]);
        else
            Py_DECREF(found->references[i]);
    }
    free(found->references);
    *found = (struct found){NULL, 0, 0};
    return tuple;
}

PyObject *pf_subclasses_new_types(void)
{
    struct pf_pointer_map visited = {NULL, 0, 0};
    struct found found = {NULL, 0, 0};
    int rc = walk(&PyBaseObject_Type, &visited, &found);
    pf_pointer_map_clear(&visited, NULL);
    PyObject *tuple = found_tuple(&found);
    if (rc < 0)
        Py_CLEAR(tuple);
    return tuple;
}

/* What note_types saw, in malloc'd memory until noted_types hands it on. */
struct noted {
    Py_ssize_t place;           /* the number of events recorded then */
    PyObject *uses;             /* the number of uses noted then */
    PyObject *owner;            /* the name of the module loading, or None */
    PyObject *references;       /* tuple of weak references, in the zone */
};
static struct noted *noted;
static size_t noted_count, noted_capacity;

static int keep_noted(Py_ssize_t place, PyObject *uses, PyObject *owner, PyObject *references)
{
    if (noted_count == noted_capacity) {
        size_t capacity = noted_capacity ? 2 * noted_capacity : 256;
        struct noted *grown = realloc(noted, capacity * sizeof *grown);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        noted = grown;
        noted_capacity = capacity;
    }
    noted[noted_count++] = (struct noted){place, Py_NewRef(uses), Py_NewRef(owner), Py_NewRef(references)};
    return 0;
}

PyObject *pf_subclasses_note_types(PyObject *owner, PyObject *events, PyObject *uses)
{
    if (!(owner == Py_None || PyUnicode_CheckExact(owner)) || !PyList_CheckExact(events) ||
        !PyLong_CheckExact(uses)) {
        PyErr_SetString(PyExc_TypeError, "note_types() takes a module name or None, a list and an int");
        return NULL;
    }
    PyObject *found = pf_subclasses_new_types();
    if (found == NULL)
        return NULL;
    int rc = PyTuple_GET_SIZE(found) > 0 ? keep_noted(PyList_GET_SIZE(events), uses, owner, found) : 0;
    Py_DECREF(found);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

static void release(void *reference)
{
    Py_DECREF((PyObject *)reference);
}

PyObject *pf_subclasses_noted_types(void)
{
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list != NULL && i < noted_count; i++) {
        PyObject *item = Py_BuildValue("(nOOO)", noted[i].place, noted[i].uses, noted[i].owner,
                                       noted[i].references);
        if (item == NULL || PyList_Append(list, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
    }
    if (list == NULL)
        return NULL;
    for (size_t i = 0; i < noted_count; i++) {
        Py_DECREF(noted[i].uses);
        Py_DECREF(noted[i].owner);
        Py_DECREF(noted[i].references);
    }
    free(noted);
    noted = NULL;
    noted_count = noted_capacity = 0;
    return list;
}

void pf_subclasses_forget_types(void)
{
    pf_pointer_map_clear(&known_classes, release);
}

/* --- what __subclasses__() shows ----------------------------------------- */

/* Whether CLASS was made by one of pyfreeze's embedded scripts, such as
 * those the dump runs after hide_subclasses (the getpath memo's). */
static int pyfreeze_own(PyObject *class)
{
    if (!PyType_HasFeature((PyTypeObject *)class, Py_TPFLAGS_HEAPTYPE))
        return 0;
    PyObject *module = PyDict_GetItemString(((PyTypeObject *)class)->tp_dict, "__module__");
    return module != NULL && PyUnicode_Check(module) && PyUnicode_CompareWithASCIIString(module, PF_SCRIPT_MODULE) == 0;
}

/* 1 when CLASS is in sight: not a class of a module still hidden, nor one
 * of pyfreeze's own; 0 when not; -1 with an exception. */
static int in_sight(PyObject *class)
{
    PyObject *key = PyLong_FromVoidPtr(class);
    if (key == NULL)
        return -1;
    PyObject *owner = PyDict_GetItemWithError(owners, key);
    Py_DECREF(key);
    if (owner == NULL)
        return PyErr_Occurred() ? -1 : !pyfreeze_own(class);
    if (owner == Py_None)
        return 0;
    if (PyUnicode_CheckExact(owner)) {
        PyObject *module = PyDict_GetItemWithError(PyImport_GetModuleDict(), owner);
        return module != NULL ? 1 : PyErr_Occurred() ? -1 : 0;
    }
    PyObject *name = pf_slot_get(owner, &slot_name);
    if (name == NULL)
        return -1;
    PyObject *now = PyDict_GetItemWithError(hidden_entries, name);
    if (now == NULL && PyErr_Occurred())
        return -1;
    return now != owner;
}

static PyObject *filtering_subclasses(PyObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *all = cpython_def.ml_meth(self, NULL);
    if (all == NULL || !PyList_CheckExact(all))
        return all;
    PyObject *shown = PyList_New(0);
    for (Py_ssize_t i = 0; shown != NULL && i < PyList_GET_SIZE(all); i++) {
        PyObject *class = PyList_GET_ITEM(all, i);
        int sight = in_sight(class);
        if (sight < 0 || (sight == 1 && PyList_Append(shown, class) < 0))
            Py_CLEAR(shown);
    }
    Py_DECREF(all);
    return shown;
}

/* --- at the dump's end --------------------------------------------------- */

/* A record as lazy_modules makes it is (base, classes, True when a class
 * in sight from the start follows them, else False).  Once noted, it is
 * (the base's subclass dict, classes, True or that dict's version): a
 * reveal reads the dict, not the class and a table. */
static int note_record(PyObject *record)
{
    if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) != 3 || !PyType_Check(PyTuple_GET_ITEM(record, 0))) {
        PyErr_SetString(PyExc_TypeError, "a \"types\" record is not (base, classes, flag)");
        return -1;
    }
    PyObject *subclasses = ((PyTypeObject *)PyTuple_GET_ITEM(record, 0))->tp_subclasses;
    if (subclasses == NULL || !PyDict_CheckExact(subclasses)) {
        PyErr_SetString(PyExc_RuntimeError, "a base of a class has no subclass dict");
        return -1;
    }
    PyObject *noted = PyTuple_GET_ITEM(record, 2) == Py_True
                      ? Py_NewRef(Py_True)
                      : PyLong_FromUnsignedLongLong(pf_py_dict_version(subclasses));
    if (noted == NULL)
        return -1;
    /* lazy_modules made the tuple and holds the only reference */
    Py_SETREF(PyTuple_GET_ITEM(record, 0), Py_NewRef(subclasses));
    Py_SETREF(PyTuple_GET_ITEM(record, 2), noted);
    return 0;
}

int pf_subclasses_note_versions(void)
{
    if (pending_records == NULL)
        return 0;
    PyObject *records = pending_records;
    pending_records = NULL;
    int rc = 0;
    pf_module_zone_pack(1);
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(records); i++)
        rc = note_record(PyList_GET_ITEM(records, i));
    pf_module_zone_pack(0);
    Py_DECREF(records);
    return rc;
}

static int prepare_name_slot(PyObject *owner_map)
{
    PyObject *key, *owner;
    Py_ssize_t position = 0;
    while (PyDict_Next(owner_map, &position, &key, &owner)) {
        if (owner != Py_None && !PyUnicode_CheckExact(owner))
            return pf_slot_prepare(&slot_name, Py_TYPE(owner));
    }
    return 0;
}

/* type.__subclasses__ calls the filtering function: its descriptor stays
 * (same object, name and doc, so the same signature), with the function
 * it calls replaced.  A new descriptor in type's dict would change what
 * every class's method cache holds. */
static int install_filter(void)
{
    PyObject *method = PyDict_GetItemString(PyType_Type.tp_dict, "__subclasses__");
    if (method == NULL || !PyObject_TypeCheck(method, &PyMethodDescr_Type) ||
        ((PyMethodDescrObject *)method)->d_method->ml_flags != METH_NOARGS) {
        PyErr_SetString(PyExc_RuntimeError, "type.__subclasses__ is not CPython's method");
        return -1;
    }
    PyMethodDescrObject *descriptor = (PyMethodDescrObject *)method;
    cpython_def = *descriptor->d_method;
    filtering_def = cpython_def;
    filtering_def.ml_meth = filtering_subclasses;
    descriptor->d_method = &filtering_def;
    return 0;
}

PyObject *pf_subclasses_hide(PyObject *const *args, Py_ssize_t count)
{
    if (count != 3 || !PyDict_CheckExact(args[0]) || !PyDict_CheckExact(args[1]) || !PyList_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "hide_subclasses() takes two dicts and a list");
        return NULL;
    }
    if (owners != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "hide_subclasses() runs once");
        return NULL;
    }
    if (prepare_name_slot(args[0]) < 0 || install_filter() < 0)
        return NULL;
    pending_records = Py_NewRef(args[2]);
    owners = Py_NewRef(args[0]);
    hidden_entries = Py_NewRef(args[1]);
    latest_replayed = -1;
    Py_RETURN_NONE;
}

/* --- at a reveal --------------------------------------------------------- */

/* The classes to the end of their base's subclass dict, in their order. */
static int move_to_end(PyObject *subclasses, PyObject *classes)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(classes); i++) {
        PyObject *key = PyLong_FromVoidPtr(PyTuple_GET_ITEM(classes, i));
        PyObject *reference = key != NULL ? PyDict_GetItemWithError(subclasses, key) : NULL;
        int rc = key == NULL || (reference == NULL && PyErr_Occurred()) ? -1 : 0;
        if (rc == 0 && reference != NULL) {
            Py_INCREF(reference);
            rc = PyDict_DelItem(subclasses, key) < 0 || PyDict_SetItem(subclasses, key, reference) < 0 ? -1 : 0;
            Py_DECREF(reference);
        }
        Py_XDECREF(key);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* RECORD, noted: (subclass dict, classes, True or the dict's version at
 * the dump).  They stay where they are when nothing in sight can follow
 * them: the dict is as the dump left it (nothing made since) and no class
 * the dump made after them was revealed before. */
static int reveal_record(PyObject *record, long long number)
{
    if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) != 3 ||
        !PyDict_CheckExact(PyTuple_GET_ITEM(record, 0)) || !PyTuple_CheckExact(PyTuple_GET_ITEM(record, 1))) {
        PyErr_SetString(PyExc_TypeError, "a \"types\" record is not (dict, classes, version)");
        return -1;
    }
    PyObject *subclasses = PyTuple_GET_ITEM(record, 0);
    PyObject *noted = PyTuple_GET_ITEM(record, 2);
    int stays = noted != Py_True && latest_replayed <= number;
    if (stays) {
        unsigned long long version = PyLong_AsUnsignedLongLong(noted);
        if (version == (unsigned long long)-1 && PyErr_Occurred())
            return -1;
        stays = pf_py_dict_version(subclasses) == version;
    }
    return stays ? 0 : move_to_end(subclasses, PyTuple_GET_ITEM(record, 1));
}

int pf_subclasses_reveal(PyObject *payload)
{
    if (!PyTuple_CheckExact(payload) || PyTuple_GET_SIZE(payload) != 2 ||
        !PyLong_CheckExact(PyTuple_GET_ITEM(payload, 0)) || !PyTuple_CheckExact(PyTuple_GET_ITEM(payload, 1))) {
        PyErr_SetString(PyExc_TypeError, "a \"types\" event is not (number, records)");
        return -1;
    }
    long long number = PyLong_AsLongLong(PyTuple_GET_ITEM(payload, 0));
    if (number == -1 && PyErr_Occurred())
        return -1;
    PyObject *records = PyTuple_GET_ITEM(payload, 1);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(records); i++) {
        if (reveal_record(PyTuple_GET_ITEM(records, i), number) < 0)
            return -1;
    }
    if (number > latest_replayed)
        latest_replayed = number;
    return 0;
}
