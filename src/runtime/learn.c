#define _GNU_SOURCE
#include "learn.h"

#include "../common/io.h"

#include <Python.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int report_fd = -1;

int pf_learn_requested(void)
{
    return pf_env_descriptor(PF_LEARN_ENV) >= 0;
}

/* Registered with atexit first, so it runs after the program's own
 * callbacks, while sys.modules is still whole. */
static PyObject *report_modules(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *modules = PyImport_GetModuleDict();
    PyObject *names = modules != NULL ? PyDict_Keys(modules) : NULL;
    if (names == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        Py_ssize_t length;
        const char *text = PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &length) : NULL;
        if (text == NULL) {
            PyErr_Clear();
            continue;
        }
        if (pf_write_all(report_fd, text, (size_t)length) < 0 || pf_write_all(report_fd, "\n", 1) < 0)
            break;
    }
    Py_DECREF(names);
    close(report_fd);
    report_fd = -1;
    Py_RETURN_NONE;
}

static PyMethodDef report_method = {"_pyfreeze_learned", report_modules, METH_NOARGS, NULL};

static int register_report(void)
{
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *function = atexit != NULL ? PyCFunction_New(&report_method, NULL) : NULL;
    PyObject *result = function != NULL ? PyObject_CallMethod(atexit, "register", "O", function) : NULL;
    Py_XDECREF(atexit);
    Py_XDECREF(function);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    return 0;
}

int pf_learn_main(int argc, char **argv)
{
    /* The descriptor and the variable are pyfreeze's, not the program's:
     * its children get neither. */
    int fd = pf_env_descriptor(PF_LEARN_ENV);
    if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || unsetenv(PF_LEARN_ENV) < 0) {
        fputs("pyfreeze: learning run: no descriptor to report to\n", stderr);
        return 1;
    }
    report_fd = fd;
    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
    if (register_report() < 0) {
        PyErr_Print();
        return 1;
    }
    return Py_RunMain();
}
