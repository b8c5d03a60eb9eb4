#include "sys_objects.h"

static const char *const list_names[] = {"argv", "orig_argv", "path", "warnoptions"};
#define LIST_COUNT (sizeof list_names / sizeof *list_names)

/* sys.NAME, borrowed, when it is of `type`; else NULL with an error that
 * calls it `what`. */
static PyObject *sys_attribute(const char *name, PyTypeObject *type, const char *what)
{
    PyObject *value = PySys_GetObject(name);
    if (value == NULL || !PyObject_TypeCheck(value, type)) {
        PyErr_Format(PyExc_RuntimeError, "%s sys.%s is not a %s", what, name, type->tp_name);
        return NULL;
    }
    return value;
}

int pf_sys_objects_keep(struct pf_sys_objects *kept)
{
    for (size_t i = 0; i < LIST_COUNT; i++) {
        PyObject *list = sys_attribute(list_names[i], &PyList_Type, "the frozen");
        if (list == NULL)
            return -1;
        kept->lists[i] = Py_NewRef(list);
    }
    PyObject *xoptions = sys_attribute("_xoptions", &PyDict_Type, "the frozen");
    if (xoptions == NULL)
        return -1;
    kept->xoptions = Py_NewRef(xoptions);
    return 0;
}

static int refill_list(PyObject *kept, const char *name)
{
    PyObject *fresh = sys_attribute(name, &PyList_Type, "this run's");
    if (fresh == NULL || fresh == kept)
        return fresh == NULL ? -1 : 0;
    if (PyList_SetSlice(kept, 0, PY_SSIZE_T_MAX, fresh) < 0)
        return -1;
    return PySys_SetObject(name, kept);
}

static int refill_dict(PyObject *kept, const char *name)
{
    PyObject *fresh = sys_attribute(name, &PyDict_Type, "this run's");
    if (fresh == NULL || fresh == kept)
        return fresh == NULL ? -1 : 0;
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
