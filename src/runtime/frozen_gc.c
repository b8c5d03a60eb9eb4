#include "frozen_gc.h"

#include "cpython311.h"

#include <Python.h>

/* The gc functions replaced, each by a stand-in of the same name. */
enum watched_function {
    GC_COLLECT,
    GC_GET_OBJECTS,
    GC_GET_REFERRERS,
    GC_GET_FREEZE_COUNT,
    GC_FREEZE,
    GC_UNFREEZE,
    WATCHED_COUNT
};

static const char *const watched[WATCHED_COUNT] = {
    [GC_COLLECT] = "collect",
    [GC_GET_OBJECTS] = "get_objects",
    [GC_GET_REFERRERS] = "get_referrers",
    [GC_GET_FREEZE_COUNT] = "get_freeze_count",
    [GC_FREEZE] = "freeze",
    [GC_UNFREEZE] = "unfreeze",
};

static PyObject *originals[WATCHED_COUNT];
static PyMethodDef definitions[WATCHED_COUNT];
static int unfrozen;

static int unfreeze_once(void)
{
    if (unfrozen)
        return 0;
    unfrozen = 1;
    PyObject *result = PyObject_CallNoArgs(originals[GC_UNFREEZE]);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    return 0;
}

/* Vectorcall all the way: a tuple or dict made for the call would be one
 * more object in gc.get_objects(). */
static PyObject *call_original(enum watched_function index, PyObject *const *args, Py_ssize_t count,
                               PyObject *keywords)
{
    if (unfreeze_once() < 0)
        return NULL;
    return PyObject_Vectorcall(originals[index], args, (size_t)count, keywords);
}

#define TRAMPOLINE(index)                                                             \
    static PyObject *trampoline_##index(PyObject *self, PyObject *const *args,        \
                                        Py_ssize_t count, PyObject *keywords)         \
    {                                                                                 \
        (void)self;                                                                   \
        return call_original(index, args, count, keywords);                           \
    }
TRAMPOLINE(GC_COLLECT)
TRAMPOLINE(GC_GET_OBJECTS)
TRAMPOLINE(GC_GET_REFERRERS)
TRAMPOLINE(GC_GET_FREEZE_COUNT)
TRAMPOLINE(GC_FREEZE)
TRAMPOLINE(GC_UNFREEZE)

/* A METH_FASTCALL | METH_KEYWORDS function, as the C API documents it. */
typedef PyObject *(*fastcall_with_keywords)(PyObject *self, PyObject *const *args, Py_ssize_t count,
                                            PyObject *keywords);

static fastcall_with_keywords const trampolines[WATCHED_COUNT] = {
    [GC_COLLECT] = trampoline_GC_COLLECT,
    [GC_GET_OBJECTS] = trampoline_GC_GET_OBJECTS,
    [GC_GET_REFERRERS] = trampoline_GC_GET_REFERRERS,
    [GC_GET_FREEZE_COUNT] = trampoline_GC_GET_FREEZE_COUNT,
    [GC_FREEZE] = trampoline_GC_FREEZE,
    [GC_UNFREEZE] = trampoline_GC_UNFREEZE,
};

/* A built-in that passes for the original: same name, docstring,
 * __module__ and __self__ (the gc module). */
static PyObject *stand_in(PyObject *gc, enum watched_function index, PyObject *original)
{
    definitions[index].ml_name = watched[index];
    definitions[index].ml_meth = (PyCFunction)(void (*)(void))trampolines[index];
    definitions[index].ml_flags = METH_FASTCALL | METH_KEYWORDS;
    definitions[index].ml_doc = pf_py_builtin_doc(original);
    PyObject *module_name = PyModule_GetNameObject(gc);
    if (module_name == NULL)
        return NULL;
    PyObject *function = PyCFunction_NewEx(&definitions[index], gc, module_name);
    Py_DECREF(module_name);
    return function;
}

int pf_gc_unfreeze_on_first_look(PyObject *gc)
{
    unfrozen = 0;
    int rc = 0;
    for (enum watched_function i = 0; i < WATCHED_COUNT && rc == 0; i++) {
        if (originals[i] == NULL) {
            originals[i] = PyObject_GetAttrString(gc, watched[i]);
            if (originals[i] == NULL) {
                rc = -1;
                break;
            }
        }
        PyObject *function = stand_in(gc, i, originals[i]);
        if (function == NULL || PyObject_SetAttrString(gc, watched[i], function) < 0)
            rc = -1;
        Py_XDECREF(function);
    }
    return rc;
}

/* Whether NAME is in the namespace of TYPE or of a class on its MRO: 1,
 * 0, or -1 with an exception set. */
static int on_mro(PyTypeObject *type, PyObject *name)
{
    PyObject *mro = type->tp_mro;
    for (Py_ssize_t i = 0; mro != NULL && i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *namespace = ((PyTypeObject *)PyTuple_GET_ITEM(mro, i))->tp_dict;
        if (namespace == NULL)
            continue;
        if (PyDict_GetItemWithError(namespace, name) != NULL)
            return 1;
        if (PyErr_Occurred())
            return -1;
    }
    return 0;
}

/* hasattr(type(OBJECT), "__del__") or isinstance(OBJECT, weakref.ref):
 * 1, 0, or -1 with an exception set. */
static int may_need_finalizing(PyObject *object)
{
    if (PyWeakref_CheckRef(object))
        return 1;
    static PyObject *del_name;
    if (del_name == NULL && (del_name = PyUnicode_InternFromString("__del__")) == NULL)
        return -1;
    PyTypeObject *type = Py_TYPE(object);
    PyTypeObject *metatype = Py_TYPE((PyObject *)type);
    /* Unless its metaclass has a lookup of its own (__getattr__), a class
     * has the attribute when its MRO or its metaclass's MRO has it; asked
     * so, no AttributeError is made for each of the hundreds of objects
     * that have none.  (A metaclass descriptor that raises counts as
     * found: a full teardown, never a finalizer skipped.) */
    if (metatype->tp_getattro == PyType_Type.tp_getattro && type->tp_mro != NULL && metatype->tp_mro != NULL) {
        int has = on_mro(type, del_name);
        return has != 0 ? has : on_mro(metatype, del_name);
    }
    PyObject *found = PyObject_GetAttr((PyObject *)type, del_name);
    if (found != NULL) {
        Py_DECREF(found);
        return 1;
    }
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        return -1;
    PyErr_Clear();
    return 0;
}

PyObject *pf_gc_finalizable_in_sight(void)
{
    if (originals[GC_GET_OBJECTS] == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "gc is not watched");
        return NULL;
    }
    PyObject *all = PyObject_CallNoArgs(originals[GC_GET_OBJECTS]);
    PyObject *found = all != NULL && PyList_CheckExact(all) ? PyList_New(0) : NULL;
    for (Py_ssize_t i = 0; found != NULL && i < PyList_GET_SIZE(all); i++) {
        PyObject *object = PyList_GET_ITEM(all, i);
        int may = may_need_finalizing(object);
        if (may < 0 || (may == 1 && PyList_Append(found, object) < 0))
            Py_CLEAR(found);
    }
    Py_XDECREF(all);
    return found;
}

int pf_gc_freeze_all(void)
{
    if (originals[GC_FREEZE] == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "gc is not watched");
        return -1;
    }
    PyObject *result = PyObject_CallNoArgs(originals[GC_FREEZE]);
    Py_XDECREF(result);
    return result != NULL ? 0 : -1;
}

int pf_gc_unfrozen(void)
{
    return unfrozen;
}

void pf_gc_thaw(PyObject *object)
{
    /* Tracking again puts an object in the youngest generation. */
    if (PyObject_GC_IsTracked(object)) {
        PyObject_GC_UnTrack(object);
        PyObject_GC_Track(object);
    }
}
