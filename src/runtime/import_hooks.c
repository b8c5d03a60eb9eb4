#include "import_hooks.h"

/* Each hook is bound to the tuple of the two functions it calls. */

static PyObject *load_unlocked(PyObject *functions, PyObject *spec)
{
    PyObject *revealed = PyObject_CallOneArg(PyTuple_GET_ITEM(functions, 0), spec);
    if (revealed != Py_None)
        return revealed;            /* the module, or NULL with the exception */
    Py_DECREF(revealed);
    return PyObject_CallOneArg(PyTuple_GET_ITEM(functions, 1), spec);
}

static PyObject *find_spec(PyObject *functions, PyObject *const *args, Py_ssize_t count)
{
    PyObject *spec = PyObject_Vectorcall(PyTuple_GET_ITEM(functions, 0), args, (size_t)count, NULL);
    if (spec != Py_None)
        return spec;
    Py_DECREF(spec);
    return PyObject_Vectorcall(PyTuple_GET_ITEM(functions, 1), args, (size_t)count, NULL);
}

static PyMethodDef load_unlocked_def = {"_load_unlocked", load_unlocked, METH_O,
                                        "Create and run a module from its spec (pyfreeze's hook)."};
static PyMethodDef find_spec_def = {"_find_spec", (PyCFunction)(void (*)(void))find_spec, METH_FASTCALL,
                                    "Find a module's spec (pyfreeze's hook)."};

static PyObject *bound(PyMethodDef *definition, PyObject *const *args, Py_ssize_t count, const char *usage)
{
    if (count != 2 || !PyCallable_Check(args[0]) || !PyCallable_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, usage);
        return NULL;
    }
    PyObject *functions = PyTuple_Pack(2, args[0], args[1]);
    PyObject *hook = functions != NULL ? PyCFunction_New(definition, functions) : NULL;
    Py_XDECREF(functions);
    return hook;
}

PyObject *pf_import_hooks_load_unlocked(PyObject *const *args, Py_ssize_t count)
{
    return bound(&load_unlocked_def, args, count, "load_unlocked_hook() takes two functions");
}

PyObject *pf_import_hooks_find_spec(PyObject *const *args, Py_ssize_t count)
{
    return bound(&find_spec_def, args, count, "find_spec_hook() takes two functions");
}
