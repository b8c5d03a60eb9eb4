#include "getpath_memo.h"

#include "cpython311.h"
#include "debug_report.h"
#include "python_glue.h"

/* Frozen with the heap: getpath_memo.py's record(), its mark of a name
 * or key that was not there, and the memos the rehearsals recorded (a
 * tuple, empty when none could be). */
static PyObject *record_function, *missing, *memos;
static PyObject *recorded; /* list, while the dump rehearses */
static int taken;

static PyObject *record_rehearsal(PyObject *code, PyObject *namespace)
{
    PyObject *memo = PyObject_CallFunctionObjArgs(record_function, code, namespace, NULL);
    if (memo == NULL)
        return NULL;
    int rc = memo == Py_None ? 0 : PyList_Append(recorded, memo);
    Py_DECREF(memo);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

/* Equal and of the same types all the way down, as getpath_memo._same
 * (1 is not True).  The check runs in C so that it reads the memo without
 * writing to its pages: a Python check made them copies. */
static int same(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    if (Py_TYPE(a) != Py_TYPE(b))
        return 0;
    if (PyList_CheckExact(a) || PyTuple_CheckExact(a)) {
        Py_ssize_t size = PySequence_Fast_GET_SIZE(a);
        if (size != PySequence_Fast_GET_SIZE(b))
            return 0;
        for (Py_ssize_t i = 0; i < size; i++) {
            int equal = same(PySequence_Fast_GET_ITEM(a, i), PySequence_Fast_GET_ITEM(b, i));
            if (equal != 1)
                return equal;
        }
        return 1;
    }
    if (PyUnicode_CheckExact(a) || PyLong_CheckExact(a) || PyBool_Check(a) || a == Py_None)
        return PyObject_RichCompareBool(a, b, Py_EQ);
    return 0; /* nothing else is recorded: never the same */
}

static PyObject *get_or_missing(PyObject *dict, PyObject *key)
{
    PyObject *value = PyDict_GetItemWithError(dict, key);
    return value != NULL ? value : PyErr_Occurred() ? NULL : missing;
}

static int names_hold(PyObject *names, PyObject *namespace)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        PyObject *read = PyTuple_GET_ITEM(names, i);
        PyObject *now = get_or_missing(namespace, PyTuple_GET_ITEM(read, 0));
        int equal = now != NULL ? same(now, PyTuple_GET_ITEM(read, 1)) : -1;
        if (equal != 1)
            return equal;
    }
    return 1;
}

/* NAMESPACE[NAME] if it is a str, borrowed, else NULL. */
static PyObject *namespace_text(PyObject *namespace, const char *name)
{
    PyObject *value = PyDict_GetItemString(namespace, name);
    return value != NULL && PyUnicode_CheckExact(value) ? value : NULL;
}

/* NAMESPACE[FUNCTION](ARGUMENT, ...) (getpath.c's file-system functions),
 * or NULL with the exception cleared. */
static PyObject *namespace_call(PyObject *namespace, const char *function, PyObject *first, PyObject *second)
{
    PyObject *callable = PyDict_GetItemString(namespace, function);
    PyObject *result = callable == NULL ? NULL
                       : second == NULL ? PyObject_CallOneArg(callable, first)
                       : PyObject_CallFunctionObjArgs(callable, first, second, NULL);
    if (result == NULL)
        PyErr_Clear();
    return result;
}

/* The executable getpath.py works out from program name NAME where it
 * reads argv[0] ("CALCULATE executable", the two branches a POSIX command
 * line takes): abspath(NAME) for a path, else the first file of that
 * name on PATH that isxfile() accepts.  A new reference, or NULL when
 * there is none or a call failed (python3's own computation then tells). */
static PyObject *executable_of(PyObject *namespace, PyObject *name)
{
    /* getpath.py's SEP and DELIM for os_name "posix", and no EXE_SUFFIX */
    PyObject *os_name = namespace_text(namespace, "os_name");
    PyObject *suffix = PyDict_GetItemString(namespace, "EXE_SUFFIX");
    if (os_name == NULL || PyUnicode_CompareWithASCIIString(os_name, "posix") != 0 ||
        (suffix != Py_None && !(suffix != NULL && PyUnicode_CheckExact(suffix) && PyUnicode_GET_LENGTH(suffix) == 0)) ||
        PyUnicode_GET_LENGTH(name) == 0)
        return NULL;
    if (PyUnicode_FindChar(name, '/', 0, PyUnicode_GET_LENGTH(name), 1) >= 0)
        return namespace_call(namespace, "abspath", name, NULL);
    PyObject *path = namespace_text(namespace, "ENV_PATH");
    PyObject *delimiter = path != NULL && PyUnicode_GET_LENGTH(path) > 0 ? PyUnicode_FromString(":") : NULL;
    PyObject *entries = delimiter != NULL ? PyUnicode_Split(path, delimiter, -1) : NULL;
    Py_XDECREF(delimiter);
    PyObject *found = NULL;
    for (Py_ssize_t i = 0; entries != NULL && found == NULL && i < PyList_GET_SIZE(entries); i++) {
        PyObject *candidate = namespace_call(namespace, "joinpath", PyList_GET_ITEM(entries, i), name);
        PyObject *accepted = candidate != NULL ? namespace_call(namespace, "isxfile", candidate, NULL) : NULL;
        int is_file = accepted != NULL ? PyObject_IsTrue(accepted) : -1;
        Py_XDECREF(accepted);
        if (is_file > 0)
            found = Py_NewRef(candidate);
        Py_XDECREF(candidate);
        if (is_file < 0)
            break;
    }
    Py_XDECREF(entries);
    PyErr_Clear();
    return found;
}

/* Whether getpath.py, given program name NOW where the rehearsal had
 * RECORDED (the image's path), works out the same executable: all it
 * computes from there on is then the same, but the program name it
 * outputs.  A run as `./image` or as `image` on PATH takes the memo so. */
static int same_executable(PyObject *namespace, PyObject *now, PyObject *recorded)
{
    if (!PyUnicode_CheckExact(now) || !PyUnicode_CheckExact(recorded))
        return 0;
    PyObject *ours = executable_of(namespace, now);
    PyObject *rehearsed = ours != NULL ? executable_of(namespace, recorded) : NULL;
    int equal = rehearsed != NULL && PyUnicode_Compare(ours, rehearsed) == 0;
    Py_XDECREF(ours);
    Py_XDECREF(rehearsed);
    PyErr_Clear();
    return equal;
}

/* *PROGRAM_NAME gets argv[0] when it differs from the rehearsal's but
 * names the same executable (see same_executable). */
static int config_reads_hold(PyObject *reads, PyObject *config, PyObject *namespace, PyObject **program_name)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(reads); i++) {
        PyObject *read = PyTuple_GET_ITEM(reads, i);
        PyObject *now = get_or_missing(config, PyTuple_GET_ITEM(read, 0));
        if (now == NULL)
            return -1;
        int first = PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(read, 1), "first") == 0;
        if (first)
            now = PyList_CheckExact(now) && PyList_GET_SIZE(now) > 0 ? PyList_GET_ITEM(now, 0) : missing;
        int equal = same(now, PyTuple_GET_ITEM(read, 2));
        if (equal == 0 && first && same_executable(namespace, now, PyTuple_GET_ITEM(read, 2))) {
            *program_name = now;
            equal = 1;
        }
        if (equal != 1)
            return equal;
    }
    return 1;
}

/* Whether FUNCTION(*ARGS) has the recorded OUTCOME now: (True, result),
 * or (False, the OSError subclass, errno). */
static int call_holds(PyObject *function, PyObject *args, PyObject *outcome)
{
    PyObject *result = PyObject_Call(function, args, NULL);
    if (result != NULL) {
        int equal = PyTuple_GET_ITEM(outcome, 0) == Py_True ? same(result, PyTuple_GET_ITEM(outcome, 1)) : 0;
        Py_DECREF(result);
        return equal;
    }
    if (!PyErr_ExceptionMatches(PyExc_OSError))
        return -1;
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    int equal = 0;
    if (PyTuple_GET_ITEM(outcome, 0) == Py_False && value != NULL &&
        (PyObject *)Py_TYPE(value) == PyTuple_GET_ITEM(outcome, 1)) {
        PyObject *number = PyObject_GetAttrString(value, "errno");
        equal = number != NULL ? same(number, PyTuple_GET_ITEM(outcome, 2)) : -1;
        Py_XDECREF(number);
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    return equal;
}

static int calls_hold(PyObject *calls, PyObject *namespace)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(calls); i++) {
        PyObject *call = PyTuple_GET_ITEM(calls, i);
        PyObject *function = PyDict_GetItemWithError(namespace, PyTuple_GET_ITEM(call, 0));
        if (function == NULL)
            return PyErr_Occurred() ? -1 : 0;
        int equal = call_holds(function, PyTuple_GET_ITEM(call, 1), PyTuple_GET_ITEM(call, 2));
        if (equal != 1)
            return equal;
    }
    return 1;
}

/* 1 when MEMO holds for this namespace and its config got the outputs,
 * 0 when it does not hold, -1 with an exception set. */
static int take_memo(PyObject *memo, PyObject *namespace, PyObject *config)
{
    PyObject *program_name = NULL;
    int holds = names_hold(PyTuple_GET_ITEM(memo, 0), namespace);
    if (holds == 1)
        holds = config_reads_hold(PyTuple_GET_ITEM(memo, 1), config, namespace, &program_name);
    if (holds == 1)
        holds = calls_hold(PyTuple_GET_ITEM(memo, 2), namespace);
    if (holds != 1)
        return holds;
    Py_XINCREF(program_name);   /* the config's argv list holds it, and the update may drop that */
    int rc = PyDict_Update(config, PyTuple_GET_ITEM(memo, 3));
    if (rc == 0 && program_name != NULL)
        rc = PyDict_SetItemString(config, "program_name", program_name);
    Py_XDECREF(program_name);
    return rc < 0 ? -1 : 1;
}

static PyObject *replay_or_run(PyObject *code, PyObject *namespace)
{
    PyObject *config = PyDict_GetItemString(namespace, "config");
    int holds = 0;
    for (Py_ssize_t i = 0; config != NULL && PyDict_CheckExact(config) && holds == 0 &&
                           i < PyTuple_GET_SIZE(memos); i++)
        holds = take_memo(PyTuple_GET_ITEM(memos, i), namespace, config);
    if (holds < 0) {
        /* A fault of the check is pyfreeze's, not the run's: python3's
         * computation decides, on a config the check left as it was (the
         * outputs are all or nothing). */
        pf_debug("the memoized path configuration could not be checked");
        PyErr_Clear();
    }
    taken = holds == 1;
    if (taken)
        return Py_NewRef(Py_None);
    return pf_py_eval_code(code, namespace, namespace);
}

/* The image's path in the dump (the freeze sets sys.executable to it),
 * as the bytes a command line would hold. */
static PyObject *future_executable(void)
{
    PyObject *executable = PySys_GetObject("executable");
    if (executable == NULL || !PyUnicode_Check(executable) || PyUnicode_GetLength(executable) == 0)
        return NULL;
    return PyUnicode_EncodeFSDefault(executable);
}

int pf_getpath_memo_make(void)
{
    PyObject *module = pf_glue_getpath_memo_module();
    if (module == NULL)
        return -1;
    record_function = PyDict_GetItemString(module, "record");
    missing = PyDict_GetItemString(module, "_MISSING");
    Py_XINCREF(record_function);
    Py_XINCREF(missing);
    Py_DECREF(module);
    recorded = PyList_New(0);
    if (record_function == NULL || missing == NULL || recorded == NULL)
        return -1;
    PyObject *executable = future_executable();
    if (executable != NULL) {
        /* The command line is irrelevant to the paths beyond argv[0]: its
         * options are read into the config, whose reads the memo checks. */
        char *argv[] = {PyBytes_AS_STRING(executable), "-c", "pass", NULL};
        pf_py_hook_getpath_eval(record_rehearsal);
        PyStatus status = pf_py_rehearse_config_read(3, argv);
        pf_py_hook_getpath_eval(NULL);
        Py_DECREF(executable);
        if (PyStatus_Exception(status) && !PyErr_Occurred())
            PyErr_Clear();   /* a rehearsal that fails memoizes nothing */
    }
    PyErr_Clear();
    memos = PyList_AsTuple(recorded);
    Py_CLEAR(recorded);
    return memos == NULL ? -1 : 0;
}

void pf_getpath_memo_use(int use)
{
    if (use)
        taken = 0;
    pf_py_hook_getpath_eval(use && memos != NULL && PyTuple_GET_SIZE(memos) > 0 ? replay_or_run : NULL);
}

int pf_getpath_memo_taken(void)
{
    return taken;
}
