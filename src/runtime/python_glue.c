#define _GNU_SOURCE
/* The Python half of pyfreeze inside the runtime: the embedded sources of
 * python/, the small C helpers they call, and the objects the dump leaves
 * behind for the restore (kept in statics, hence frozen with the heap). */
#include "python_glue.h"

#include "check_mode.h"
#include "cpython311.h"
#include "debug_report.h"
#include "import_inputs.h"
#include "restore.h"
#include "embedded_python.h"
#include "frozen_gc.h"
#include "held_references.h"
#include "process_state.h"
#include "phases.h"
#include "inputs_check.h"
#include "reveal_plan.h"
#include "reveal_claim.h"
#include "hidden_subclasses.h"
#include "import_hooks.h"
#include "module_zone.h"
#include "reveal_replay.h"
#include "reveal_resolution.h"

#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <string.h>

extern char **environ;

static PyObject *helpers;          /* the `_pyfreeze` helper module */
static PyObject *restore_function; /* restore.restore */
static PyObject *teardown_function; /* restore.teardown_reason */
static PyObject *before_teardown_function; /* restore.before_teardown */
static PyObject *restore_state;    /* the RestoreState the dump fills for the restore */

static PyObject *helper_environ(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *result = PyDict_New();
    if (result == NULL)
        return NULL;
    /* Same rules as posix.environ: split at the first '=', first wins. */
    for (char **entry = environ; entry != NULL && *entry != NULL; entry++) {
        const char *equals = strchr(*entry, '=');
        if (equals == NULL)
            continue;
        PyObject *key = PyBytes_FromStringAndSize(*entry, equals - *entry);
        PyObject *value = PyBytes_FromString(equals + 1);
        if (key == NULL || value == NULL || PyDict_SetDefault(result, key, value) == NULL) {
            Py_XDECREF(key);
            Py_XDECREF(value);
            Py_DECREF(result);
            return NULL;
        }
        Py_DECREF(key);
        Py_DECREF(value);
    }
    return result;
}

static int set_item(PyObject *dict, const char *key, PyObject *value)
{
    if (value == NULL)
        return -1;
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *helper_config(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    const PyConfig *config = pf_py_config();
    PyObject *result = PyDict_New();
    if (result == NULL)
        return NULL;
    if (set_item(result, "stdio_encoding", PyUnicode_FromWideChar(config->stdio_encoding, -1)) < 0 ||
        set_item(result, "stdio_errors", PyUnicode_FromWideChar(config->stdio_errors, -1)) < 0 ||
        set_item(result, "buffered_stdio", PyBool_FromLong(config->buffered_stdio)) < 0 ||
        set_item(result, "faulthandler", PyBool_FromLong(config->faulthandler)) < 0 ||
        set_item(result, "site_import", PyBool_FromLong(config->site_import)) < 0) {
        Py_DECREF(result);
        return NULL;
    }
    return result;
}

/* The module search path of this process's configuration: sys.path as
 * the start-up leaves it for site (dump.py rehearses site from it). */
static PyObject *helper_module_search_paths(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    const PyWideStringList *paths = &pf_py_config()->module_search_paths;
    PyObject *result = PyList_New(paths->length);
    for (Py_ssize_t i = 0; result != NULL && i < paths->length; i++) {
        PyObject *item = PyUnicode_FromWideChar(paths->items[i], -1);
        if (item == NULL)
            Py_CLEAR(result);
        else
            PyList_SET_ITEM(result, i, item);
    }
    return result;
}

static PyObject *helper_replay(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_reveal_replay(args, count);
}

static PyObject *helper_events_without(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_reveal_events_without(args, count);
}

static PyObject *helper_events_of_kinds(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_reveal_events_of_kinds(args, count);
}

static PyObject *helper_plan_entries(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_reveal_plan_entries(args, count);
}

static PyObject *helper_first_changed_known(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_reveal_first_changed_known(args, count);
}

static PyObject *helper_first_unresolved(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_reveal_first_unresolved(args, count);
}

static PyObject *helper_prepare_reveal(PyObject *self, PyObject *entry_type)
{
    (void)self;
    if (!PyType_Check(entry_type)) {
        PyErr_SetString(PyExc_TypeError, "prepare_reveal() takes the Entry class");
        return NULL;
    }
    if (pf_reveal_resolution_prepare((PyTypeObject *)entry_type) < 0 ||
        pf_reveal_replay_prepare((PyTypeObject *)entry_type) < 0 ||
        pf_reveal_claim_prepare((PyTypeObject *)entry_type) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *helper_claim_entries(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_reveal_claim_entries(args, count);
}

static PyObject *helper_release_claims(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_reveal_release_claims(args, count);
}

static PyObject *helper_load_unlocked_hook(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_import_hooks_load_unlocked(args, count);
}

static PyObject *helper_find_spec_hook(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_import_hooks_find_spec(args, count);
}

static PyObject *helper_new_types(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return pf_subclasses_new_types();
}

static PyObject *helper_note_types(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    if (count != 3) {
        PyErr_SetString(PyExc_TypeError, "note_types() takes three arguments");
        return NULL;
    }
    return pf_subclasses_note_types(args[0], args[1], args[2]);
}

static PyObject *helper_noted_types(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return pf_subclasses_noted_types();
}

static PyObject *helper_forget_types(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    pf_subclasses_forget_types();
    Py_RETURN_NONE;
}

static PyObject *helper_hide_subclasses(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    return pf_subclasses_hide(args, count);
}

static PyObject *helper_pack_objects(PyObject *self, PyObject *on)
{
    (void)self;
    int truth = PyObject_IsTrue(on);
    if (truth < 0)
        return NULL;
    pf_module_zone_pack(truth);
    Py_RETURN_NONE;
}

static PyObject *helper_retire_entries(PyObject *self, PyObject *entries)
{
    (void)self;
    return pf_reveal_retire_entries(entries);
}

static PyObject *helper_inputs_hold(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    if (count != 2) {
        PyErr_SetString(PyExc_TypeError, "inputs_hold() takes two arguments");
        return NULL;
    }
    return pf_inputs_hold(args[0], args[1]);
}

static PyObject *helper_site_memo_taken(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    pf_phase_add("site-memo", 1);
    Py_RETURN_NONE;
}

/* A helper that takes no argument and returns `value`: the METH_NOARGS
 * boilerplate written once. */
#define NOARGS_HELPER(name, value)                          \
    static PyObject *name(PyObject *self, PyObject *unused) \
    {                                                       \
        (void)self;                                         \
        (void)unused;                                       \
        return value;                                       \
    }

NOARGS_HELPER(helper_pyfreeze_source, PyUnicode_FromString(pf_source_pyfreeze))

static PyObject *helper_site_ran(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (pf_py_site_flag_plain() < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *helper_watch_gc(PyObject *self, PyObject *gc)
{
    (void)self;
    if (pf_gc_unfreeze_on_first_look(gc) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *helper_thaw(PyObject *self, PyObject *object)
{
    (void)self;
    pf_gc_thaw(object);
    Py_RETURN_NONE;
}

/* For the fastcall helpers: whether they got `wanted` arguments; a
 * TypeError that shows their `usage` when not. */
static int given(Py_ssize_t count, Py_ssize_t wanted, const char *usage)
{
    if (count == wanted)
        return 1;
    PyErr_SetString(PyExc_TypeError, usage);
    return 0;
}

/* words_found(start, end, candidates): see held_references.h.  The dump
 * passes ranges of its own /proc/self/maps that are readable. */
static PyObject *helper_words_found(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    if (!given(count, 3, "words_found() takes start, end and a set of addresses"))
        return NULL;
    unsigned long long start = PyLong_AsUnsignedLongLong(args[0]);
    unsigned long long end = PyLong_AsUnsignedLongLong(args[1]);
    if (PyErr_Occurred())
        return NULL;
    return pf_words_found((uintptr_t)start, (uintptr_t)end, args[2]);
}

static PyObject *helper_new_mapping(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    char what[PATH_MAX + 128];
    if (!pf_state_new_mapping(what, sizeof what))
        Py_RETURN_NONE;
    return PyUnicode_DecodeFSDefault(what);
}

NOARGS_HELPER(helper_finalizable_in_sight, pf_gc_finalizable_in_sight())

static PyObject *helper_inputs_record(PyObject *self, PyObject *on)
{
    (void)self;
    int truth = PyObject_IsTrue(on);
    if (truth < 0)
        return NULL;
    pf_inputs_record(truth);
    Py_RETURN_NONE;
}

NOARGS_HELPER(helper_inputs_drain, pf_inputs_drain())

/* (soft, hard) of resource limit N, what resource.getrlimit(N) gives,
 * without importing resource. */
static PyObject *helper_rlimit(PyObject *self, PyObject *number)
{
    (void)self;
    long resource = PyLong_AsLong(number);
    if (resource == -1 && PyErr_Occurred())
        return NULL;
    struct rlimit limits;
    if (getrlimit((__rlimit_resource_t)resource, &limits) < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    return Py_BuildValue("(KK)", (unsigned long long)limits.rlim_cur, (unsigned long long)limits.rlim_max);
}

static PyObject *helper_inputs_future_executable(PyObject *self, PyObject *path)
{
    (void)self;
    PyObject *bytes = NULL;
    if (path != Py_None && !PyUnicode_FSConverter(path, &bytes))
        return NULL;
    pf_inputs_set_future_executable(bytes != NULL ? PyBytes_AS_STRING(bytes) : NULL);
    Py_XDECREF(bytes);
    Py_RETURN_NONE;
}

/* The password-database entry of a user id (digits) or name, as a tuple,
 * or None: what `pwd` gives, without importing it. */
static PyObject *helper_passwd(PyObject *self, PyObject *key)
{
    (void)self;
    const char *text = PyUnicode_AsUTF8(key);
    if (text == NULL)
        return NULL;
    char buffer[16384];
    struct passwd entry, *found = NULL;
    char *end;
    unsigned long uid = strtoul(text, &end, 10);
    int failed = *text != '\0' && *end == '\0'
                     ? getpwuid_r((uid_t)uid, &entry, buffer, sizeof buffer, &found)
                     : getpwnam_r(text, &entry, buffer, sizeof buffer, &found);
    if (failed != 0 || found == NULL)
        Py_RETURN_NONE;
    return Py_BuildValue("(ssIIsss)", entry.pw_name, entry.pw_passwd, (unsigned)entry.pw_uid,
                         (unsigned)entry.pw_gid, entry.pw_gecos, entry.pw_dir, entry.pw_shell);
}

/* Wipes the bytes of the keys and values only the environment dict holds,
 * then empties it: the frozen heap must not carry the builder's secrets. */
static PyObject *helper_scrub_environ(PyObject *self, PyObject *environ_dict)
{
    (void)self;
    if (!PyDict_Check(environ_dict)) {
        PyErr_SetString(PyExc_TypeError, "scrub_environ() needs a dict");
        return NULL;
    }
    Py_ssize_t position = 0;
    PyObject *key, *value;
    while (PyDict_Next(environ_dict, &position, &key, &value)) {
        PyObject *items[] = {key, value};
        for (size_t i = 0; i < 2; i++) {
            if (PyBytes_CheckExact(items[i]) && Py_REFCNT(items[i]) == 1)
                memset(PyBytes_AS_STRING(items[i]), 0, (size_t)PyBytes_GET_SIZE(items[i]));
        }
    }
    PyDict_Clear(environ_dict);
    Py_RETURN_NONE;
}

/* wipe(obj[, value]): overwrites in place, with zeros or `value` for a
 * float, the payload of an int, float or bytes object that is about to be
 * renewed (see _fix_renewed_state in dump.py), so that neither it nor its
 * freed block carries the freeze's value.  Other objects, and objects
 * others may still hold (more references than the caller's), are left. */
static PyObject *helper_wipe(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    if (count < 1 || count > 2) {
        PyErr_SetString(PyExc_TypeError, "wipe() takes an object and an optional float");
        return NULL;
    }
    PyObject *obj = args[0];
    double value = count == 2 ? PyFloat_AsDouble(args[1]) : 0.0;
    if (value == -1.0 && PyErr_Occurred())
        return NULL;
    /* The caller's references: its expression, the call's argument, and
     * the attribute or container slot holding it. */
    if (Py_REFCNT(obj) > 3)
        Py_RETURN_NONE;
    if (PyFloat_CheckExact(obj)) {
        ((PyFloatObject *)obj)->ob_fval = value;
    } else if (PyLong_CheckExact(obj) && Py_SIZE(obj) > 0) {
        memset(((PyLongObject *)obj)->ob_digit, 0, (size_t)Py_SIZE(obj) * sizeof(digit));
        Py_SET_SIZE(obj, 0);   /* now 0, as ints of value 0 are */
    } else if (PyBytes_Check(obj)) {
        memset(PyBytes_AS_STRING(obj), 0, (size_t)PyBytes_GET_SIZE(obj));
    }
    Py_RETURN_NONE;
}

static PyObject *helper_namespace_changes(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    if (!given(count, 2, "namespace_changes() takes two lists"))
        return NULL;
    return pf_py_namespace_changes(args[0], args[1]);
}

/* The sys.path[0] python3's start-up will insert before the program runs
 * (the script's directory, or the working directory for -c, -m...), or
 * None: the restore compares inputs before that happens. */
static PyObject *helper_sys_path0(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    const PyConfig *config = pf_py_config();
    if (config->safe_path)
        Py_RETURN_NONE;     /* -P; a directory or zip run as a script is its own entry */
    return pf_py_sys_path0_of(&config->argv);
}

/* check_done(): in `pyfreeze info --check`'s run of the image, once every
 * check a warm start makes has passed, reports that it would start warm
 * and ends the process; otherwise does nothing. */
static PyObject *helper_check_done(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (pf_check_mode())
        pf_check_finish(NULL);
    Py_RETURN_NONE;
}

static PyObject *helper_step_aside(PyObject *self, PyObject *reason)
{
    (void)self;
    const char *text = PyUnicode_AsUTF8(reason);
    if (text == NULL)
        return NULL;
    pf_restore_step_aside(text);
    PyErr_SetString(PyExc_RuntimeError, "stepping aside to a cold start failed");
    return NULL;
}

static PyObject *helper_debug(PyObject *self, PyObject *text)
{
    (void)self;
    const char *line = PyUnicode_AsUTF8(text);
    if (line == NULL)
        return NULL;
    pf_debug("%s", line);
    Py_RETURN_NONE;
}

NOARGS_HELPER(helper_debug_enabled, PyBool_FromLong(pf_debug_enabled()))

NOARGS_HELPER(helper_clock, PyLong_FromLongLong(pf_phase_clock()))

/* A reveal's duration and the modules it revealed, for PYFREEZE_PHASES. */
static PyObject *helper_revealed(PyObject *self, PyObject *const *args, Py_ssize_t count)
{
    (void)self;
    long long nanoseconds, modules;
    if (count != 2 || (nanoseconds = PyLong_AsLongLong(args[0])) == -1 ||
        (modules = PyLong_AsLongLong(args[1])) == -1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "revealed() takes two integers");
        return NULL;
    }
    pf_phase_add("reveal", nanoseconds);
    pf_phase_add("revealed-modules", modules);
    Py_RETURN_NONE;
}

/* exec(source) as site's addpackage() calls it for the "import" lines of
 * .pth files, with the code compiled at the freeze: compiling those lines
 * is most of what re-running site costs, and the code of a text compiled
 * with the same flags under the same name is the same.  The dump fills
 * exec_memo (text -> code) and keeps the exec it stands for. */
static PyObject *exec_memo;     /* dict, frozen with the heap */
static PyObject *exec_builtin;  /* builtins.exec at the freeze */
static PyObject *builtins_name; /* "__builtins__" */

static PyObject *helper_learn_exec(PyObject *self, PyObject *source)
{
    (void)self;
    if (!PyUnicode_CheckExact(source)) {
        PyErr_SetString(PyExc_TypeError, "learn_exec() needs a str");
        return NULL;
    }
    if (exec_memo == NULL) {
        PyObject *builtins = PyEval_GetBuiltins();
        exec_builtin = builtins != NULL ? PyDict_GetItemString(builtins, "exec") : NULL;
        if (exec_builtin == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "no builtins.exec");
            return NULL;
        }
        Py_INCREF(exec_builtin);
        if ((builtins_name = PyUnicode_InternFromString("__builtins__")) == NULL ||
            (exec_memo = PyDict_New()) == NULL)
            return NULL;
    }
    const char *text = PyUnicode_AsUTF8(source);
    if (text == NULL)
        return NULL;
    /* What builtins.exec passes on for a str from code without __future__
     * imports: PyRun_StringFlags() compiles it as "<string>", optimize -1. */
    PyCompilerFlags flags = {.cf_flags = 0, .cf_feature_version = PY_MINOR_VERSION};
    flags.cf_flags = PyCF_SOURCE_IS_UTF8;
    PyObject *code = Py_CompileStringExFlags(text, "<string>", Py_file_input, &flags, -1);
    if (code == NULL) {
        PyErr_Clear();          /* exec will raise what it raises, uncached */
        Py_RETURN_NONE;
    }
    int rc = PyDict_SetItem(exec_memo, source, code);
    Py_DECREF(code);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *helper_exec(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    PyObject *builtins = PyEval_GetBuiltins();
    PyObject *current = builtins != NULL ? PyDict_GetItemString(builtins, "exec") : NULL;
    if (current == NULL) {
        PyErr_SetString(PyExc_NameError, "name 'exec' is not defined");
        return NULL;
    }
    PyObject *source = PyTuple_GET_SIZE(args) == 1 ? PyTuple_GET_ITEM(args, 0) : NULL;
    PyObject *code = NULL;
    if (exec_memo != NULL && current == exec_builtin && kwargs == NULL && source != NULL &&
        PyUnicode_CheckExact(source))
        code = PyDict_GetItemWithError(exec_memo, source);
    PyCompilerFlags flags = {.cf_flags = 0, .cf_feature_version = PY_MINOR_VERSION};
    flags.cf_flags = PyCF_SOURCE_IS_UTF8;
    PyEval_MergeCompilerFlags(&flags);
    PyObject *globals = code != NULL ? PyEval_GetGlobals() : NULL;
    PyObject *locals = globals != NULL ? PyEval_GetLocals() : NULL;
    if (PyErr_Occurred())
        return NULL;
    /* Anything else (another exec, __future__ flags in the caller, a text
     * not learnt) is the real exec's, called from the same frame. */
    if (locals == NULL || flags.cf_flags != PyCF_SOURCE_IS_UTF8)
        return PyObject_Call(current, args, kwargs);
    /* builtins.exec's steps for a str, minus the compile. */
    int has = PyDict_Contains(globals, builtins_name);
    if (has < 0 || (has == 0 && PyDict_SetItem(globals, builtins_name, builtins) < 0))
        return NULL;
    Py_INCREF(code);
    PyObject *result = PySys_Audit("exec", "O", code) < 0 ? NULL
                       : pf_py_eval_as_run_string(code, globals, locals);
    Py_DECREF(code);
    if (result == NULL)
        return NULL;
    Py_DECREF(result);
    Py_RETURN_NONE;
}

static PyMethodDef helper_methods[] = {
    {"clock", helper_clock, METH_NOARGS, "CLOCK_MONOTONIC in nanoseconds."},
    {"revealed", (PyCFunction)(void (*)(void))helper_revealed, METH_FASTCALL,
     "Account a reveal's time and modules under PYFREEZE_PHASES."},
    {"debug", helper_debug, METH_O, "Report a decision where PYFREEZE_DEBUG says."},
    {"inputs_record", helper_inputs_record, METH_O, "Start or stop noting C library reads."},
    {"inputs_drain", helper_inputs_drain, METH_NOARGS, "The C library reads noted since the last call."},
    {"rlimit", helper_rlimit, METH_O, "(soft, hard) of a resource limit, as resource.getrlimit()."},
    {"inputs_future_executable", helper_inputs_future_executable, METH_O,
     "Show the imports this path (or None) as the regular file the image will be."},
    {"passwd", helper_passwd, METH_O, "A password-database entry, or None."},
    {"step_aside", helper_step_aside, METH_O, "Re-execute the image for a cold start."},
    {"check_done", helper_check_done, METH_NOARGS, "End info --check's run: it would start warm."},
    {"sys_path0", helper_sys_path0, METH_NOARGS, "The sys.path[0] python3 inserts at start, or None."},
    {"scrub_environ", helper_scrub_environ, METH_O, "Wipe and empty the environment dict."},
    {"wipe", (PyCFunction)(void (*)(void))helper_wipe, METH_FASTCALL,
     "Overwrite an int, float or bytes about to be renewed."},
    {"namespace_changes", (PyCFunction)(void (*)(void))helper_namespace_changes, METH_FASTCALL,
     "Which namespaces of modules and classes changed since their versions were taken."},
    {"debug_enabled", helper_debug_enabled, METH_NOARGS, "Whether PYFREEZE_DEBUG is set."},
    {"site_ran", helper_site_ran, METH_NOARGS,
     "Give sys.flags.no_site a plain run's value, once the dump ran site."},
    {"watch_gc", helper_watch_gc, METH_O,
     "Make the gc module unfreeze the heap when a program looks at all objects."},
    {"thaw", helper_thaw, METH_O, "Move a frozen object into the youngest generation."},
    {"words_found", (PyCFunction)(void (*)(void))helper_words_found, METH_FASTCALL,
     "Which of a set of addresses are stored as words in a memory range."},
    {"new_mapping", helper_new_mapping, METH_NOARGS,
     "The first memory mapping made since start-up that an image cannot carry, or None."},
    {"finalizable_in_sight", helper_finalizable_in_sight, METH_NOARGS,
     "Objects made since the restore whose type has __del__, and weak references."},
    {"pyfreeze_source", helper_pyfreeze_source, METH_NOARGS, "The source of the pyfreeze module."},
    {"environ", helper_environ, METH_NOARGS, "The process environment as bytes."},
    {"learn_exec", helper_learn_exec, METH_O, "Compile a text once for exec() at the freeze."},
    {"exec", (PyCFunction)(void (*)(void))helper_exec, METH_VARARGS | METH_KEYWORDS,
     "exec(), with the texts learnt at the freeze compiled already."},
    {"config", helper_config, METH_NOARGS, "The parts of this run's PyConfig the restore needs."},
    {"module_search_paths", helper_module_search_paths, METH_NOARGS,
     "The module search path of this process's configuration."},
    {"replay", (PyCFunction)(void (*)(void))helper_replay, METH_FASTCALL,
     "Replay the recorded events of a reveal (lazy_modules._replay)."},
    {"events_without", (PyCFunction)(void (*)(void))helper_events_without, METH_FASTCALL,
     "The events of a plan but those of the modules in a set."},
    {"events_of_kinds", (PyCFunction)(void (*)(void))helper_events_of_kinds, METH_FASTCALL,
     "The records of a plan's events of some kinds."},
    {"plan_entries", (PyCFunction)(void (*)(void))helper_plan_entries, METH_FASTCALL,
     "The hidden entries of a plan's modules, or None when one is no longer hidden."},
    {"first_changed_known", (PyCFunction)(void (*)(void))helper_first_changed_known, METH_FASTCALL,
     "The first module a plan used that sys.modules no longer holds, or None."},
    {"claim_entries", (PyCFunction)(void (*)(void))helper_claim_entries, METH_FASTCALL,
     "Take a plan's entries out of the hidden ones for a replay, or False."},
    {"release_claims", (PyCFunction)(void (*)(void))helper_release_claims, METH_FASTCALL,
     "Forget a replay's claims on its entries."},
    {"retire_entries", helper_retire_entries, METH_O, "Drop revealed entries' module and spec."},
    {"load_unlocked_hook", (PyCFunction)(void (*)(void))helper_load_unlocked_hook, METH_FASTCALL,
     "importlib's _load_unlocked as a built-in: reveal(spec), or original(spec) when that is None."},
    {"find_spec_hook", (PyCFunction)(void (*)(void))helper_find_spec_hook, METH_FASTCALL,
     "importlib's _find_spec as a built-in: original's spec, or fallback's when that is None."},
    {"pack_objects", helper_pack_objects, METH_O,
     "At the dump: while true, objects are made one after the other in a zone of their own."},
    {"new_types", helper_new_types, METH_NOARGS,
     "At the dump: weak references to the classes no call before found."},
    {"forget_types", helper_forget_types, METH_NOARGS, "Forget the classes new_types found."},
    {"note_types", (PyCFunction)(void (*)(void))helper_note_types, METH_FASTCALL,
     "At the dump: note the classes new since the last call as a module's, at a place."},
    {"noted_types", helper_noted_types, METH_NOARGS,
     "At the dump: the (place, module, [weak reference]) note_types noted."},
    {"hide_subclasses", (PyCFunction)(void (*)(void))helper_hide_subclasses, METH_FASTCALL,
     "At the dump's end: keep hidden modules' classes out of __subclasses__()."},
    {"prepare_reveal", helper_prepare_reveal, METH_O,
     "At the dump: find the Entry slots the C parts of a reveal read."},
    {"first_unresolved", (PyCFunction)(void (*)(void))helper_first_unresolved, METH_FASTCALL,
     "Why a plan's module would not load from its frozen file, None, or NotImplemented."},
    {"inputs_hold", (PyCFunction)(void (*)(void))helper_inputs_hold, METH_FASTCALL,
     "Whether recorded inputs read the same now: True, False, or None (undecided)."},
    {"site_memo_taken", helper_site_memo_taken, METH_NOARGS,
     "Account a warm start that took site's memo, under PYFREEZE_PHASES."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef helper_def = {
    PyModuleDef_HEAD_INIT, "_pyfreeze", "pyfreeze runtime helpers", -1, helper_methods,
    NULL, NULL, NULL, NULL,
};

static PyObject *compile_embedded(const char *source, const char *path)
{
    return Py_CompileString(source, path, Py_file_input);
}

/* Runs an embedded script in a namespace of its own, outside sys.modules,
 * under the module name `name`. */
static PyObject *run_named_script(const char *source, const char *path, const char *name)
{
    PyObject *code = compile_embedded(source, path);
    if (code == NULL)
        return NULL;
    PyObject *globals = PyDict_New();
    if (globals == NULL ||
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0 ||
        PyDict_SetItemString(globals, "__name__", PyUnicode_FromString(name)) < 0 ||
        PyDict_SetItemString(globals, "_pyfreeze", helpers) < 0) {
        Py_DECREF(code);
        Py_XDECREF(globals);
        return NULL;
    }
    PyObject *result = PyEval_EvalCode(code, globals, globals);
    Py_DECREF(code);
    if (result == NULL) {
        Py_DECREF(globals);
        return NULL;
    }
    Py_DECREF(result);
    return globals;
}

static PyObject *run_script(const char *source, const char *path)
{
    return run_named_script(source, path, PF_SCRIPT_MODULE);
}

/* The hooks that sit inside the import system carry its file and module
 * names: python3 leaves importlib's frames out of tracebacks and out of the
 * frames warnings blame, debuggers skip them by module name, and they must
 * do the same with these. */
#define IMPORT_SYSTEM_FILE "<frozen importlib._bootstrap>"
#define IMPORT_SYSTEM_MODULE "importlib._bootstrap"

/* Runs an embedded module compiled under the import system's name, and
 * makes it `_pyfreeze.<attribute>`: its own reads are not the module's
 * being imported, and its frames are skipped as importlib's are. */
static int install_helper_module(const char *source, const char *attribute)
{
    PyObject *code = Py_CompileString(source, IMPORT_SYSTEM_FILE, Py_file_input);
    PyObject *module = code != NULL ? PyModule_New(IMPORT_SYSTEM_MODULE) : NULL;
    PyObject *globals = module != NULL ? PyModule_GetDict(module) : NULL;
    int rc = -1;
    if (globals != NULL && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0 &&
        PyDict_SetItemString(globals, "_pyfreeze", helpers) == 0) {
        PyObject *result = PyEval_EvalCode(code, globals, globals);
        if (result != NULL && PyModule_AddObjectRef(helpers, attribute, module) == 0)
            rc = 0;
        Py_XDECREF(result);
    }
    Py_XDECREF(code);
    Py_XDECREF(module);
    return rc;
}

/* cpython311.py first, as `_pyfreeze.cpython311`: the other embedded
 * modules take CPython's internals from it.  import_inputs.py, as
 * `_pyfreeze.inputs`: the recorder, the reveal and the restore compare
 * inputs with one set of functions.  restore_state.py, as
 * `_pyfreeze.restore_state`: dump.py makes its RestoreState from it.
 * site_memo.py, as `_pyfreeze.site_memo`: dump.py rehearses site with it
 * and restore.py runs site (or takes the memo) with it. */
int pf_glue_install(void)
{
    helpers = PyModule_Create(&helper_def);
    if (helpers == NULL || PyModule_AddStringConstant(helpers, "script_module", PF_SCRIPT_MODULE) < 0 ||
        install_helper_module(pf_source_cpython311, "cpython311") < 0 ||
        install_helper_module(pf_source_import_inputs, "inputs") < 0 ||
        install_helper_module(pf_source_restore_state, "restore_state") < 0 ||
        install_helper_module(pf_source_site_memo, "site_memo") < 0)
        return -1;
    return 0;
}


/* Runs lazy_modules.py and routes the import system through it: `pyfreeze`
 * becomes importable, and frozen modules are revealed on first import. */
static PyObject *install_lazy_modules(void)
{
    PyObject *lazy = run_named_script(pf_source_lazy_modules, IMPORT_SYSTEM_FILE,
                                      IMPORT_SYSTEM_MODULE);
    if (lazy == NULL)
        return NULL;
    PyObject *install = PyDict_GetItemString(lazy, "install");
    PyObject *result = install != NULL ? PyObject_CallNoArgs(install) : NULL;
    if (result == NULL) {
        Py_DECREF(lazy);
        return NULL;
    }
    Py_DECREF(result);
    return lazy;
}

static PyObject *string_list(const struct pf_strings *strings)
{
    PyObject *list = PyList_New(0);
    for (int i = 0; list != NULL && i < strings->count; i++) {
        PyObject *item = PyUnicode_DecodeFSDefault(strings->items[i]);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(item);
    }
    return list;
}

/* "KIND:VALUE", as dump.py takes the entry form, or None. */
static PyObject *entry_text(const struct pf_manifest *manifest)
{
    if (manifest->entry_kind == PF_ENTRY_NONE)
        return Py_NewRef(Py_None);
    PyObject *value = PyUnicode_DecodeFSDefault(manifest->entry);
    PyObject *text = value != NULL ? PyUnicode_FromFormat("%s:%U", pf_entry_kind_name(manifest->entry_kind), value)
                                   : NULL;
    Py_XDECREF(value);
    return text;
}

PyObject *pf_glue_run_dump(const struct pf_manifest *manifest)
{
    PyObject *dump = run_script(pf_source_dump, "<pyfreeze>/dump.py");
    if (dump == NULL)
        return NULL;
    PyObject *restore = run_script(pf_source_restore, "<pyfreeze>/restore.py");
    PyObject *lazy = restore != NULL ? install_lazy_modules() : NULL;
    PyObject *recorder = lazy != NULL ? run_named_script(pf_source_import_recorder,
                                                         IMPORT_SYSTEM_FILE,
                                                         IMPORT_SYSTEM_MODULE) : NULL;
    if (recorder == NULL) {
        Py_DECREF(dump);
        Py_XDECREF(restore);
        Py_XDECREF(lazy);
        return NULL;
    }
    restore_function = PyDict_GetItemString(restore, "restore");
    teardown_function = PyDict_GetItemString(restore, "teardown_reason");
    before_teardown_function = PyDict_GetItemString(restore, "before_teardown");
    Py_XINCREF(restore_function);
    Py_XINCREF(teardown_function);
    Py_XINCREF(before_teardown_function);
    restore_state = PyDict_GetItemString(dump, "restore_state"); /* dump.py made it */
    Py_XINCREF(restore_state);
    PyObject *run = PyDict_GetItemString(dump, "run");
    const struct pf_strings *search = &manifest->search;
    PyObject *mods = string_list(&manifest->modules);
    PyObject *blks = string_list(&manifest->blocks);
    PyObject *dirs = string_list(search);
    PyObject *first = manifest->script != NULL ? pf_py_sys_path0(manifest->script)
                      : search->count > 0 ? PyUnicode_DecodeFSDefault(search->items[0]) : Py_NewRef(Py_None);
    PyObject *entry = entry_text(manifest);
    PyObject *learned_list = string_list(&manifest->learned);
    PyObject *patterns = string_list(&manifest->learned_patterns);
    PyObject *result = NULL;
    if (restore_function && teardown_function && before_teardown_function && restore_state && run &&
        mods && blks && dirs && first && entry && learned_list && patterns)
        result = PyObject_CallFunctionObjArgs(run, mods, blks, first, dirs, restore_state,
                                              manifest->native ? Py_True : Py_False, lazy,
                                              recorder, manifest->verbose ? Py_True : Py_False, entry,
                                              learned_list, patterns, NULL);
    Py_XDECREF(entry);
    Py_XDECREF(learned_list);
    Py_XDECREF(patterns);
    Py_XDECREF(first);
    Py_XDECREF(mods);
    Py_XDECREF(blks);
    Py_XDECREF(dirs);
    Py_DECREF(dump);
    Py_DECREF(restore);
    Py_DECREF(lazy);
    Py_DECREF(recorder);
    return result;
}

PyObject *pf_glue_getpath_memo_module(void)
{
    return run_script(pf_source_getpath_memo, "<pyfreeze>/getpath_memo.py");
}

int pf_glue_run_restore(const sigset_t *inherited_ignored)
{
    PyObject *ignored = PySet_New(NULL);
    if (ignored == NULL)
        return -1;
    for (int signum = 1; signum < NSIG; signum++) {
        if (sigismember(inherited_ignored, signum) != 1)
            continue;
        PyObject *number = PyLong_FromLong(signum);
        if (number == NULL || PySet_Add(ignored, number) < 0) {
            Py_XDECREF(number);
            Py_DECREF(ignored);
            return -1;
        }
        Py_DECREF(number);
    }
    PyObject *result = PyObject_CallFunctionObjArgs(restore_function, ignored, restore_state, NULL);
    Py_DECREF(ignored);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    return 0;
}

int pf_glue_cold_prepare(const struct pf_strings *blocks)
{
    if (pf_glue_install() < 0)
        return -1;
    PyObject *lazy = install_lazy_modules();
    if (lazy == NULL)
        return -1;
    Py_DECREF(lazy);
    PyObject *sys_modules = PyImport_GetModuleDict();
    for (int i = 0; i < blocks->count; i++) {
        if (PyDict_SetItemString(sys_modules, blocks->items[i], Py_None) < 0)
            return -1;
    }
    return 0;
}

void pf_glue_before_teardown(void)
{
    PyObject *result = PyObject_CallFunctionObjArgs(before_teardown_function, restore_state, NULL);
    if (result == NULL)
        PyErr_WriteUnraisable(before_teardown_function);
    Py_XDECREF(result);
}

const char *pf_glue_teardown_reason(void)
{
    static char reason[256];
    PyObject *result = PyObject_CallFunctionObjArgs(teardown_function, restore_state, NULL);
    if (result == NULL) {
        PyErr_Clear();
        return "the check for finalizers failed";
    }
    int none = result == Py_None;
    const char *text = none ? NULL : PyUnicode_AsUTF8(result);
    snprintf(reason, sizeof reason, "%s", text != NULL ? text : "the check for finalizers failed");
    PyErr_Clear();
    Py_DECREF(result);
    return none ? NULL : reason;
}

long pf_glue_module_count(void)
{
    PyObject *count = PyObject_GetAttrString(restore_state, "module_count");
    long value = count != NULL ? PyLong_AsLong(count) : -1;
    Py_XDECREF(count);
    return value;
}

int pf_glue_inputs_summary(uint64_t *address, uint64_t *size)
{
    PyObject *text = PyObject_GetAttrString(restore_state, "inputs_summary");
    const char *bytes = text != NULL ? PyUnicode_AsUTF8(text) : NULL;
    if (bytes == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "the dump recorded no inputs summary");
        Py_XDECREF(text);
        return -1;
    }
    char *copy = strdup(bytes);
    Py_DECREF(text);
    if (copy == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *address = (uint64_t)(uintptr_t)copy;
    *size = strlen(copy);
    return 0;
}

int pf_glue_file_stamps(struct pf_file_stamp **stamps, uint32_t *count)
{
    PyObject *list = PyObject_GetAttrString(restore_state, "file_stamps");
    Py_XDECREF(list); /* borrowed from here on: the state holds it, and no Python code runs */
    if (list == NULL || !PyList_Check(list)) {
        PyErr_SetString(PyExc_RuntimeError, "the dump recorded no file stamps");
        return -1;
    }
    Py_ssize_t length = PyList_GET_SIZE(list);
    struct pf_file_stamp *array = calloc((size_t)length + 1, sizeof *array);
    if (array == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < length; i++) {
        const char *path;
        long long mtime_ns;
        unsigned long long size;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(list, i), "sLK", &path, &mtime_ns, &size))
            return -1;
        char *copy = strdup(path);
        if (copy == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        array[i].path = (uint64_t)(uintptr_t)copy;
        array[i].mtime_ns = mtime_ns;
        array[i].size = size;
    }
    *stamps = array;
    *count = (uint32_t)length;
    return 0;
}
