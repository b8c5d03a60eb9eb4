#include "sys_objects.h"

static const char *const list_names[] = {"argv", "orig_argv", "path", "warnoptions"};
#define LIST_COUNT (sizeof list_names / sizeof *list_names)

int pf_sys_objects_keep(struct pf_sys_objects *kept)
{
    for (size_t i = 0; i < LIST_COUNT; i++) {
        PyObject *list = PySys_GetObject(list_names[i]);
        if (list == NULL || !PyList_Check(list)) {
            PyErr_Format(PyExc_RuntimeError, "the frozen sys.%s is not a list", list_names[i]);
            return -1;
        }
        kept->lists[i] = Py_NewRef(list);
    }
    PyObject *xoptions = PySys_GetObject("_xoptions");
    if (xoptions == NULL || !PyDict_Check(xoptions)) {
        PyErr_SetString(PyExc_RuntimeError, "the frozen sys._xoptions is not a dict");
        return -1;
    }
    kept->xoptions = Py_NewRef(xoptions);
    return 0;
}

static int refill_list(PyObject *kept, const char *name)
{
    PyObject *fresh = PySys_GetObject(name);
    if (fresh == NULL || !PyList_Check(fresh)) {
        PyErr_Format(PyExc_RuntimeError, "sys.%s is not a list", name);
        return -1;
    }
    if (fresh == kept)
        return 0;
    if (PyList_SetSlice(kept, 0, PY_SSIZE_T_MAX, fresh) < 0)
        return -1;
    return PySys_SetObject(name, kept);
}

static int refill_dict(PyObject *kept, const char *name)
{
    PyObject *fresh = PySys_GetObject(name);
    if (fresh == NULL || !PyDict_Check(fresh)) {
        PyErr_Format(PyExc_RuntimeError, "sys.%s is not a dict", name);
        return -1;
    }
    if (fresh == kept)
        return 0;
    Py_INCREF(fresh);
    PyDict_Clear(kept);
    int rc = PyDict_Update(kept, fresh);
    Py_DECREF(fresh);
    return rc < 0 ? -1 : PySys_SetObject(name, kept);
}

int pf_sys_objects_reuse(struct pf_sys_objects *kept)
{
    int rc = 0;
    for (size_t i = 0; i < LIST_COUNT; i++) {
        if (rc == 0 && refill_list(kept->lists[i], list_names[i]) < 0)
            rc = -1;
        Py_CLEAR(kept->lists[i]);
    }
    if (rc == 0 && refill_dict(kept->xoptions, "_xoptions") < 0)
        rc = -1;
    Py_CLEAR(kept->xoptions);
    return rc;
}
