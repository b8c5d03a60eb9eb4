#include <Python.h>

#include "fast_exit.h"

#include "cpython311.h"
#include "debug_report.h"
#include "frozen_gc.h"
#include "phases.h"
#include "python_glue.h"

#include <stdio.h>
#include <stdlib.h>

static int armed;

void pf_fast_exit_arm(void)
{
    armed = 1;
}

/* The runtime is linked with --wrap=Py_FinalizeEx: Py_RunMain's call
 * comes here, and the real one is still reachable. */
int __real_Py_FinalizeEx(void);
int __wrap_Py_FinalizeEx(void);

/* OBJECT.NAME() as CPython's shutdown calls it: its method names are
 * interned, so interning NAME finds the very string object it uses. */
static PyObject *call_method(PyObject *object, const char *name)
{
    PyObject *interned = PyUnicode_InternFromString(name);
    if (interned == NULL)
        return NULL;
    PyObject *result = PyObject_CallMethodNoArgs(object, interned);
    Py_DECREF(interned);
    return result;
}

static int stream_is_closed(PyObject *stream)
{
    PyObject *closed = PyObject_GetAttrString(stream, "closed");
    if (closed == NULL) {
        PyErr_Clear();
        return 0;
    }
    int result = PyObject_IsTrue(closed);
    Py_DECREF(closed);
    if (result < 0)
        PyErr_Clear();
    return result > 0;
}

/* As CPython's flush_std_files(): a failure on stdout is reported and
 * makes the exit status 120; one on stderr only the latter. */
static int flush_std_streams(void)
{
    int status = 0;
    PyObject *out = PySys_GetObject("stdout");
    PyObject *err = PySys_GetObject("stderr");
    if (out != NULL && out != Py_None && !stream_is_closed(out)) {
        PyObject *result = call_method(out, "flush");
        if (result == NULL) {
            PyErr_WriteUnraisable(out);
            status = -1;
        }
        Py_XDECREF(result);
    }
    if (err != NULL && err != Py_None && !stream_is_closed(err)) {
        PyObject *result = call_method(err, "flush");
        if (result == NULL) {
            PyErr_Clear();
            status = -1;
        }
        Py_XDECREF(result);
    }
    return status;
}

/* The run's standard output and error when its full teardown began.
 * python3 frees its streams while the teardown clears the modules, and
 * their close() flushes what finalizers printed.  In an image a frozen
 * module the run never imported may hold them (cgitb's Hook keeps
 * sys.stdout): they would outlive the teardown unflushed.  So they are
 * closed as their deallocation would, once the modules are cleared. */
static PyObject *teardown_streams[2];

static void keep_teardown_streams(void)
{
    teardown_streams[0] = PySys_GetObject("stdout");
    teardown_streams[1] = PySys_GetObject("stderr");
    for (int i = 0; i < 2; i++) {
        if (teardown_streams[i] == Py_None)
            teardown_streams[i] = NULL;
        Py_XINCREF(teardown_streams[i]);
    }
}

void __real__PyEval_Fini(void);
void __wrap__PyEval_Fini(void);

/* Py_FinalizeEx calls _PyEval_Fini right after finalize_modules(). */
void __wrap__PyEval_Fini(void)
{
    for (int i = 0; i < 2; i++) {
        PyObject *stream = teardown_streams[i];
        teardown_streams[i] = NULL;
        if (stream == NULL)
            continue;
        if (!stream_is_closed(stream)) {
            PyObject *result = call_method(stream, "close");
            if (result == NULL)
                PyErr_WriteUnraisable(stream);  /* as iobase_finalize reports it */
            Py_XDECREF(result);
        }
        Py_DECREF(stream);
    }
    __real__PyEval_Fini();
}

/* Why python3's teardown must run, or NULL when skipping it cannot be
 * noticed. */
static const char *teardown_reason(void)
{
    if (pf_py_at_exit_functions())
        return "Py_AtExit() functions are registered";
    if (pf_gc_unfrozen())
        return "the program brought the frozen heap into the collector's sight";
    return pf_glue_teardown_reason();
}

int __wrap_Py_FinalizeEx(void)
{
    if (!armed || !Py_IsInitialized())
        return __real_Py_FinalizeEx();
    armed = 0;
    pf_phase("exit");
    pf_py_run_exit_handlers();

    /* Decided before anything is flushed: the real teardown flushes the
     * standard streams itself, and a second flush of a stream whose first
     * one failed (a closed pipe) would report the error twice. */
    const char *reason = teardown_reason();
    int status;
    if (reason != NULL) {
        pf_debug("full teardown at exit: %s", reason);
        pf_glue_before_teardown();
        keep_teardown_streams();
        status = __real_Py_FinalizeEx();
    } else {
        pf_debug("fast exit");
        status = flush_std_streams();
    }
    pf_phase("exit-end");
    pf_phase_flush();
    return status;
}

/* sys.exit() reaches Py_Exit() from pythonrun.c, whose Py_FinalizeEx()
 * call inside pylifecycle.c no --wrap can see: this one makes the same
 * exit as the end of Py_RunMain(). */
_Noreturn void __real_Py_Exit(int status);
_Noreturn void __wrap_Py_Exit(int status);

_Noreturn void __wrap_Py_Exit(int status)
{
    if (!armed)
        __real_Py_Exit(status);
    if (__wrap_Py_FinalizeEx() < 0)
        status = 120;
    exit(status);
}
