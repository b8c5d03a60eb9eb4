#define _GNU_SOURCE
#include "learn.h"

#include "../common/io.h"
#include "cpython311.h"

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

/* Patterns longer than this are left to the program to compile: the
 * report, the manifest and the dump's start grow with their text. */
#define PATTERN_MAX_BYTES (64 * 1024)

static int report_line(const char *text, size_t length)
{
    return pf_write_all(report_fd, text, length) < 0 || pf_write_all(report_fd, "\n", 1) < 0 ? -1 : 0;
}

static int report_module_names(void)
{
    PyObject *modules = PyImport_GetModuleDict();
    PyObject *names = modules != NULL ? PyDict_Keys(modules) : NULL;
    if (names == NULL)
        return -1;
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(names); i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        Py_ssize_t length;
        const char *text = PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &length) : NULL;
        if (text == NULL) {
            PyErr_Clear();
            continue;
        }
        rc = report_line(text, (size_t)length);
    }
    Py_DECREF(names);
    return rc;
}

/* The bytes of a str or bytes pattern (a new reference), with its kind
 * letter; NULL for any other key. */
static PyObject *pattern_bytes(PyObject *key, char *kind, unsigned long *flags)
{
    if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != 3 || !PyLong_CheckExact(PyTuple_GET_ITEM(key, 2)))
        return NULL;
    PyObject *pattern = PyTuple_GET_ITEM(key, 1);
    *flags = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(key, 2));
    if (*flags == (unsigned long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *bytes = NULL;
    if (PyTuple_GET_ITEM(key, 0) == (PyObject *)&PyUnicode_Type && PyUnicode_CheckExact(pattern)) {
        *kind = 's';
        bytes = PyUnicode_AsEncodedString(pattern, "utf-8", "surrogatepass");
    } else if (PyTuple_GET_ITEM(key, 0) == (PyObject *)&PyBytes_Type && PyBytes_CheckExact(pattern)) {
        *kind = 'b';
        bytes = Py_NewRef(pattern);
    }
    if (bytes == NULL)
        PyErr_Clear();
    return bytes;
}

/* One "re KIND:FLAGS:HEX" line (pf_manifest_valid_pattern's form). */
static int report_pattern(PyObject *key)
{
    char kind;
    unsigned long flags;
    PyObject *bytes = pattern_bytes(key, &kind, &flags);
    if (bytes == NULL || PyBytes_GET_SIZE(bytes) > PATTERN_MAX_BYTES) {
        Py_XDECREF(bytes);
        return 0;
    }
    static const char digits[] = "0123456789abcdef";
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(bytes);
    size_t size = (size_t)PyBytes_GET_SIZE(bytes);
    char *line = malloc(32 + 2 * size);
    int rc = -1;
    if (line != NULL) {
        int used = snprintf(line, 32, "re %c:%lu:", kind, flags);
        for (size_t i = 0; i < size; i++) {
            line[used++] = digits[data[i] >> 4];
            line[used++] = digits[data[i] & 15];
        }
        rc = report_line(line, (size_t)used);
        free(line);
    }
    Py_DECREF(bytes);
    return rc;
}

/* The patterns re compiled and still caches: the dump compiles them again
 * into the image's cache (dump.py, _compile_learned_patterns). */
static int report_patterns(void)
{
    PyObject *keys = pf_py_compiled_pattern_keys();
    if (keys == NULL) {
        PyErr_Clear();
        return 0;
    }
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(keys); i++)
        rc = report_pattern(PyList_GET_ITEM(keys, i));
    Py_DECREF(keys);
    return rc;
}

/* Registered with atexit first, so it runs after the program's own
 * callbacks, while sys.modules and re's cache are still whole.  The
 * report is a line per module, in load order, then a line per compiled
 * pattern. */
static PyObject *report_learned(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    int rc = report_module_names();
    if (rc == 0)
        report_patterns();
    close(report_fd);
    report_fd = -1;
    if (rc < 0 && PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef report_method = {"_pyfreeze_learned", report_learned, METH_NOARGS, NULL};

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
