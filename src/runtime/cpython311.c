#define _GNU_SOURCE
#define Py_BUILD_CORE 1
#include "cpython311.h"

#include <internal/pycore_ceval.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_initconfig.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_pathconfig.h>
#include <internal/pycore_pylifecycle.h>
#include <internal/pycore_pystate.h>
#include <internal/pycore_runtime.h>

#include <structmember.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

_Static_assert((PY_VERSION_HEX >> 16) == 0x030B, "cpython311.c reaches into CPython 3.11's internals only");

void pf_py_adopt_main_thread(void *frozen_tstate)
{
    PyThreadState *tstate = frozen_tstate;
    /* The fresh libc has no value under the frozen gilstate key, so
     * PyOS_AfterFork_Child() would not re-associate the thread state;
     * give it the value first. */
    PyThread_tss_set(&_PyRuntime.gilstate.autoTSSkey, tstate);
    /* Without the callbacks registered with os.register_at_fork(): python3
     * does not run them when it starts, and a module may count or log its
     * forks.  restore.py does what threading's and random's would do. */
    PyInterpreterState *interp = tstate->interp;
    PyObject *after_in_child = interp->after_forkers_child;
    interp->after_forkers_child = NULL;
    PyOS_AfterFork_Child();
    interp->after_forkers_child = after_in_child;
    tstate->thread_id = PyThread_get_thread_ident();
}

/* Objects/obmalloc.c of 3.11 on x86-64: 16 KiB pools (the radix tree is
 * on), each starting with this header; block sizes step by 16 bytes, and
 * a pool's blocks follow its header rounded up to 16 bytes. */
#define OBMALLOC_POOL_SIZE ((uintptr_t)1 << 14)
#define OBMALLOC_ALIGNMENT 16u
struct obmalloc_pool_header {
    union {
        void *padding;
        unsigned count;
    } ref;
    void *freeblock, *nextpool, *prevpool;
    unsigned arenaindex, szidx, nextoffset, maxnextoffset;
};
#define OBMALLOC_POOL_OVERHEAD \
    ((sizeof(struct obmalloc_pool_header) + OBMALLOC_ALIGNMENT - 1) & ~(size_t)(OBMALLOC_ALIGNMENT - 1))
#define OBMALLOC_SMALL_REQUEST_THRESHOLD 512u

static const struct obmalloc_pool_header *pool_of(const void *ptr)
{
    return (const struct obmalloc_pool_header *)((uintptr_t)ptr & ~(OBMALLOC_POOL_SIZE - 1));
}

uint64_t pf_py_dict_version(PyObject *dict)
{
    return ((PyDictObject *)dict)->ma_version_tag;
}

size_t pf_py_small_block_size(const void *ptr)
{
    return ((size_t)pool_of(ptr)->szidx + 1) << 4;
}

int pf_py_small_block_alone(const void *ptr)
{
    return pool_of(ptr)->ref.count == 1;
}

void pf_py_forget_native_thread_id(void *frozen_tstate)
{
    ((PyThreadState *)frozen_tstate)->native_thread_id = 0;
}

PyStatus pf_py_preinitialize_again(int argc, char **argv, const char **cold_reason)
{
    /* Read the pre-configuration first and write it only when the frozen
     * heap can live with it: writing a debug or other allocator would
     * wrap blocks that were never allocated through it. */
    *cold_reason = NULL;
    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    _PyArgv args = {.argc = argc, .use_bytes_argv = 1, .bytes_argv = argv, .wchar_argv = NULL};
    PyStatus status = _PyPreConfig_Read(&preconfig, &args);
    if (PyStatus_Exception(status))
        return status;
    if (preconfig.dev_mode) {
        *cold_reason = "-X dev: installs debug allocator hooks at start-up";
        return status;
    }
    if (preconfig.allocator != PYMEM_ALLOCATOR_NOT_SET) {
        *cold_reason = "PYTHONMALLOC selects another allocator";
        return status;
    }
    /* _PyPreConfig_Write() is a no-op once the core is up; lower the flag
     * for the duration of the call. */
    int core_initialized = _PyRuntime.core_initialized;
    _PyRuntime.core_initialized = 0;
    status = _PyPreConfig_Write(&preconfig);
    _PyRuntime.core_initialized = core_initialized;
    return status;
}

/* getpath's code object.  The path configuration is computed by running
 * Modules/getpath.py, which 3.11 keeps as marshal data in getpath.o and
 * unmarshals at each computation: _Py_Get_Getpath_CodeObject() and
 * _PyConfig_InitPathConfig() call PyMarshal_ReadObjectFromString() on it
 * (_Py_M__getpath, static), from getpath.o.  The runtime is linked with
 * --wrap=PyMarshal_ReadObjectFromString: the dump unmarshals it once more
 * and keeps the code object, which lands in the frozen heap; a warm start's
 * config read gets that object back for the same bytes, instead of making
 * 14 KB of code objects and interning their names again.  Unmarshalling is
 * a function of the bytes, and the code object is never changed by running
 * it but for its specialisation caches, which do not change what it does. */
PyObject *__real_PyMarshal_ReadObjectFromString(const char *data, Py_ssize_t size);
PyObject *__wrap_PyMarshal_ReadObjectFromString(const char *data, Py_ssize_t size);

static enum { GETPATH_UNMARSHAL, GETPATH_KEEP, GETPATH_REUSE } getpath_mode;
static const char *getpath_data;
static Py_ssize_t getpath_size;
static PyObject *getpath_code;

PyObject *__wrap_PyMarshal_ReadObjectFromString(const char *data, Py_ssize_t size)
{
    if (getpath_mode == GETPATH_REUSE && getpath_code != NULL && data == getpath_data && size == getpath_size)
        return Py_NewRef(getpath_code);
    PyObject *result = __real_PyMarshal_ReadObjectFromString(data, size);
    if (getpath_mode == GETPATH_KEEP && result != NULL) {
        getpath_data = data;
        getpath_size = size;
    }
    return result;
}

int pf_py_keep_getpath_code(void)
{
    getpath_mode = GETPATH_KEEP;
    PyObject *code = _Py_Get_Getpath_CodeObject();
    getpath_mode = GETPATH_UNMARSHAL;
    if (code == NULL)
        return -1;
    if (!PyCode_Check(code) || getpath_data == NULL) {
        Py_DECREF(code);
        PyErr_SetString(PyExc_SystemError, "getpath's code is not unmarshalled by PyMarshal_ReadObjectFromString");
        return -1;
    }
    getpath_code = code;
    return 0;
}

/* See cpython311.h: getpath.c's only call runs getpath's code over a
 * namespace that is both its globals and its locals. */
PyObject *__real_PyEval_EvalCode(PyObject *code, PyObject *globals, PyObject *locals);
PyObject *__wrap_PyEval_EvalCode(PyObject *code, PyObject *globals, PyObject *locals);

static pf_getpath_eval getpath_eval_hook;

PyObject *__wrap_PyEval_EvalCode(PyObject *code, PyObject *globals, PyObject *locals)
{
    pf_getpath_eval hook = getpath_eval_hook;
    if (hook == NULL || code != getpath_code || globals != locals || !PyDict_CheckExact(globals))
        return __real_PyEval_EvalCode(code, globals, locals);
    getpath_eval_hook = NULL;
    PyObject *result = hook(code, globals);
    getpath_eval_hook = hook;
    return result;
}

void pf_py_hook_getpath_eval(pf_getpath_eval hook)
{
    getpath_eval_hook = hook;
}

PyObject *pf_py_eval_code(PyObject *code, PyObject *globals, PyObject *locals)
{
    return __real_PyEval_EvalCode(code, globals, locals);
}

PyStatus pf_py_read_config(PyConfig *config)
{
    /* Without this the path configuration of the dump (the runtime's own
     * name, executable and prefix) would be reused instead of computed. */
    _PyPathConfig_ClearGlobal();
    getpath_mode = GETPATH_REUSE;
    PyStatus status = PyConfig_Read(config);
    /* PyConfig_Read() leaves the paths (getpath) to a later step of the
     * start-up; take that step now, on the read config, as it does. */
    if (!PyStatus_Exception(status))
        status = _PyConfig_InitImportConfig(config);
    getpath_mode = GETPATH_UNMARSHAL;
    return status;
}

PyStatus pf_py_rehearse_config_read(int argc, char **argv)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    PyStatus status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (!PyStatus_Exception(status))
        status = pf_py_read_config(&config);
    PyConfig_Clear(&config);
    return status;
}

/* PyConfig_Read leaves codec names as the locale spells them ("UTF-8");
 * python3 replaces them with the codec's own name while it starts. */
static int normalize_codec(PyConfig *config, wchar_t **field)
{
    if (*field == NULL)
        return 0;
    PyObject *codecs = PyImport_ImportModule("codecs");
    PyObject *info = codecs ? PyObject_CallMethod(codecs, "lookup", "u", *field) : NULL;
    PyObject *name = info ? PyObject_GetAttrString(info, "name") : NULL;
    wchar_t *wide = name ? PyUnicode_AsWideCharString(name, NULL) : NULL;
    Py_XDECREF(codecs);
    Py_XDECREF(info);
    Py_XDECREF(name);
    if (wide == NULL)
        return -1;
    PyStatus status = PyConfig_SetString(config, field, wide);
    PyMem_Free(wide);
    return PyStatus_Exception(status) ? -1 : 0;
}

/* What _PyInterpreterState_SetConfig() does, minus its second
 * PyConfig_Read(): reading an already read config loses the command-line
 * -X options that the pre-configuration parses (warn_default_encoding). */
int pf_py_set_config(PyConfig *config)
{
    if (normalize_codec(config, &config->filesystem_encoding) < 0 ||
        normalize_codec(config, &config->stdio_encoding) < 0)
        return -1;
    PyThreadState *tstate = PyThreadState_Get();
    PyStatus status = _PyConfig_Copy(&tstate->interp->config, config);
    if (!PyStatus_Exception(status))
        status = _PyConfig_Write(&tstate->interp->config, &_PyRuntime);
    if (!PyStatus_Exception(status))
        status = _PyPathConfig_UpdateGlobal(&tstate->interp->config);
    if (PyStatus_Exception(status)) {
        PyErr_Format(PyExc_RuntimeError, "applying the configuration failed: %s", status.err_msg);
        return -1;
    }
    return _PySys_UpdateConfig(tstate);
}

static void wide_to_ascii(const wchar_t *wide, char *out, size_t size)
{
    size_t i = 0;
    for (; wide != NULL && wide[i] != L'\0' && i + 1 < size; i++)
        out[i] = wide[i] < 128 ? (char)wide[i] : '?';
    out[i] = '\0';
}

void pf_py_fs_codec(char *encoding, size_t encoding_size, char *errors, size_t errors_size)
{
    const PyConfig *config = pf_py_config();
    wide_to_ascii(config->filesystem_encoding, encoding, encoding_size);
    wide_to_ascii(config->filesystem_errors, errors, errors_size);
}

const PyConfig *pf_py_config(void)
{
    return _PyInterpreterState_GetConfig(_PyInterpreterState_GET());
}

/* The import system's own files, as its frozen code objects name them. */
static int import_system_file(PyObject *filename)
{
    static const char *const files[] = {
        "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>", "<frozen zipimport>",
    };
    if (!PyUnicode_Check(filename))
        return 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        if (PyUnicode_CompareWithASCIIString(filename, files[i]) == 0)
            return 1;
    }
    return 0;
}

int pf_py_running_import_system(void)
{
    /* Called from C library wrappers, maybe with the GIL released around
     * a blocking call: the thread's own state is read, never changed. */
    PyThreadState *tstate = PyGILState_GetThisThreadState();
    if (tstate == NULL || tstate->cframe == NULL)
        return 0;
    _PyInterpreterFrame *frame = tstate->cframe->current_frame;
    if (frame == NULL || frame->f_code == NULL || !import_system_file(frame->f_code->co_filename))
        return 0;
    /* importlib runs a module's code, and an extension module's init,
     * through this one function: what they do is the module's own. */
    return PyUnicode_CompareWithASCIIString(frame->f_code->co_name, "_call_with_frames_removed") != 0;
}

/* An ASCII string's characters, read in place (no allocation, so safe
 * without the GIL); NULL for any other string. */
static const char *ascii_text(PyObject *text, size_t *length)
{
    if (text == NULL || !PyUnicode_Check(text) || !PyUnicode_IS_READY(text) || !PyUnicode_IS_COMPACT_ASCII(text))
        return NULL;
    *length = (size_t)PyUnicode_GET_LENGTH(text);
    return (const char *)PyUnicode_DATA(text);
}

int pf_py_running_function(const char *file_suffix, const char *name)
{
    /* Read only, as pf_py_running_import_system: maybe without the GIL. */
    PyThreadState *tstate = PyGILState_GetThisThreadState();
    size_t suffix_length = strlen(file_suffix);
    for (_PyInterpreterFrame *frame = tstate != NULL && tstate->cframe != NULL ? tstate->cframe->current_frame : NULL;
         frame != NULL; frame = frame->previous) {
        size_t file_length, name_length;
        const char *file = frame->f_code != NULL ? ascii_text(frame->f_code->co_filename, &file_length) : NULL;
        const char *code_name = file != NULL ? ascii_text(frame->f_code->co_name, &name_length) : NULL;
        if (code_name != NULL && file_length >= suffix_length &&
            memcmp(file + file_length - suffix_length, file_suffix, suffix_length) == 0 &&
            name_length == strlen(name) && memcmp(code_name, name, name_length) == 0)
            return 1;
    }
    return 0;
}

/* sys.flags as a plain python3 run has them, although the freeze ignores
 * the environment and the user site (-E -s): imports that read the flags
 * see what runs of the image will usually see. */
/* Sets the sys.flags field NAME to 0.  -1 with an exception set. */
static int clear_flag(const char *name)
{
    PyObject *flags = PySys_GetObject("flags");
    if (flags == NULL || !PyTuple_Check(flags)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.flags is missing");
        return -1;
    }
    PyMemberDef *members = Py_TYPE(flags)->tp_members;
    Py_ssize_t index = 0;
    while (members[index].name != NULL && strcmp(members[index].name, name) != 0)
        index++;
    if (members[index].name == NULL || index >= PyTuple_GET_SIZE(flags)) {
        PyErr_Format(PyExc_RuntimeError, "sys.flags has no field %s", name);
        return -1;
    }
    PyObject *zero = PyLong_FromLong(0);
    if (zero == NULL)
        return -1;
    Py_XDECREF(PyStructSequence_GET_ITEM(flags, index));
    PyStructSequence_SET_ITEM(flags, index, zero);
    return 0;
}

int pf_py_plain_run_flags(void)
{
    return clear_flag("ignore_environment") < 0 || clear_flag("no_user_site") < 0 ? -1 : 0;
}

int pf_py_site_flag_plain(void)
{
    return clear_flag("no_site");
}

/* Every dict has a version tag that changes whenever the dict does
 * (PEP 509, still in 3.11): the recorder compares the namespaces of modules
 * and classes between two moments cheaply. */
static unsigned long long namespace_version(PyObject *object)
{
    PyObject *namespace = PyType_Check(object) ? ((PyTypeObject *)object)->tp_dict
                          : PyModule_Check(object) ? PyModule_GetDict(object) : NULL;
    return namespace != NULL && PyDict_Check(namespace)
               ? (unsigned long long)((PyDictObject *)namespace)->ma_version_tag : 0;
}

PyObject *pf_py_namespace_changes(PyObject *objects, PyObject *versions)
{
    if (!PyList_Check(objects) || !PyList_Check(versions)) {
        PyErr_SetString(PyExc_TypeError, "namespace_changes() needs two lists");
        return NULL;
    }
    PyObject *changed = PyList_New(0);
    for (Py_ssize_t i = 0; changed != NULL && i < PyList_GET_SIZE(objects); i++) {
        unsigned long long now = namespace_version(PyList_GET_ITEM(objects, i));
        int known = i < PyList_GET_SIZE(versions);
        if (known && PyLong_AsUnsignedLongLong(PyList_GET_ITEM(versions, i)) == now)
            continue;
        PyObject *number = PyLong_FromUnsignedLongLong(now);
        PyObject *index = known ? PyLong_FromSsize_t(i) : NULL;
        int failed = number == NULL || (known ? index == NULL || PyList_Append(changed, index) < 0 ||
                                                    PyList_SetItem(versions, i, Py_NewRef(number)) < 0
                                              : PyList_Append(versions, number) < 0);
        Py_XDECREF(number);
        Py_XDECREF(index);
        if (failed)
            Py_CLEAR(changed);
    }
    return changed;
}

/* sys.path[0] of a python3 run of SCRIPT, computed as python3 computes it
 * (the script's directory, its symbolic link followed).  New reference, or
 * NULL with an exception set. */
PyObject *pf_py_sys_path0_of(const PyWideStringList *argv)
{
    PyObject *path0 = NULL;
    int found = _PyPathConfig_ComputeSysPath0(argv, &path0);
    if (found < 0)
        return NULL;
    return found ? path0 : Py_NewRef(Py_None);
}

PyObject *pf_py_sys_path0(const char *script)
{
    wchar_t *wide = Py_DecodeLocale(script, NULL);
    if (wide == NULL)
        return PyErr_NoMemory();
    wchar_t *items[] = {wide};
    PyWideStringList argv = {.length = 1, .items = items};
    PyObject *path0 = pf_py_sys_path0_of(&argv);
    PyMem_RawFree(wide);
    return path0 == Py_None ? (Py_DECREF(path0), PyUnicode_FromString("")) : path0;
}

int pf_py_locale_coercion_warned(void)
{
    /* _PyPreConfig_Write() keeps coerce_c_locale set only when it coerced,
     * and printed the warning then if coerce_c_locale_warn was set.  Until
     * it runs, the pre-configuration is the dump's, which never coerced. */
    return _PyRuntime.preconfig.coerce_c_locale != 0 && _PyRuntime.preconfig.coerce_c_locale_warn != 0;
}

PyObject *pf_py_eval_as_run_string(PyObject *code, PyObject *globals, PyObject *locals)
{
    /* As pythonrun.c's run_eval_code_obj(). */
    _Py_UnhandledKeyboardInterrupt = 0;
    PyObject *result = PyEval_EvalCode(code, globals, locals);
    if (result == NULL && PyErr_Occurred() == PyExc_KeyboardInterrupt)
        _Py_UnhandledKeyboardInterrupt = 1;
    return result;
}

const char *pf_py_builtin_doc(PyObject *function)
{
    return PyCFunction_Check(function) ? ((PyCFunctionObject *)function)->m_ml->ml_doc : NULL;
}

/* pylifecycle.c's wait_for_thread_shutdown(). */
static void wait_for_thread_shutdown(void)
{
    PyObject *threading = PyImport_GetModule(&_Py_ID(threading));
    if (threading == NULL) {
        if (PyErr_Occurred())
            PyErr_WriteUnraisable(NULL);
        return;
    }
    PyObject *result = PyObject_CallMethodNoArgs(threading, &_Py_ID(_shutdown));
    if (result == NULL)
        PyErr_WriteUnraisable(threading);
    Py_XDECREF(result);
    Py_DECREF(threading);
}

void pf_py_run_exit_handlers(void)
{
    PyThreadState *tstate = PyThreadState_Get();
    wait_for_thread_shutdown();
    _Py_FinishPendingCalls(tstate);
    _PyAtExit_Call(tstate->interp);
}

int pf_py_at_exit_functions(void)
{
    return _PyRuntime.nexitfuncs > 0;
}

PyObject *pf_py_compiled_pattern_keys(void)
{
    PyObject *name = PyUnicode_FromString("re");
    PyObject *re = name != NULL ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    if (re == NULL)
        return PyErr_Occurred() ? NULL : PyList_New(0);
    PyObject *cache = PyObject_GetAttrString(re, "_cache");
    Py_DECREF(re);
    if (cache == NULL || !PyDict_CheckExact(cache)) {
        Py_XDECREF(cache);
        PyErr_Clear();
        return PyList_New(0);
    }
    PyObject *keys = PyDict_Keys(cache);
    Py_DECREF(cache);
    return keys;
}

/* --- The self-check ------------------------------------------------------
 * Each check compares what this file reads through the 3.11 headers with
 * what the linked libpython itself computes (its public accessors were
 * compiled with its own layouts), or with an invariant 3.11 keeps.  -1 with
 * a one-line reason in WHY. */

__attribute__((format(printf, 3, 4)))
static int refuse(char *why, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(why, size, format, args);
    va_end(args);
    return -1;
}

static int check_version(char *why, size_t size)
{
    const char *version = Py_GetVersion();
    if (strncmp(version, "3.11.", 5) == 0)
        return 0;
    return refuse(why, size, "the runtime's CPython is %.*s, and pyfreeze's boundary with its internals "
                  "(src/runtime/cpython311.c) is written for 3.11", (int)strcspn(version, " "), version);
}

/* Reads SIZE bytes at ADDRESS of this process without faulting: the pool
 * header of a block is read before anything is known of its layout.  0,
 * or -1 with errno set (EFAULT: not mapped). */
static int read_own_memory(const void *address, void *out, size_t size)
{
    struct iovec local = {out, size};
    struct iovec remote = {(void *)(uintptr_t)address, size};
    ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (got >= 0 && (size_t)got != size)
        errno = EFAULT;   /* the header runs into an unmapped page */
    return got >= 0 && (size_t)got == size ? 0 : -1;
}

/* The pool header of a block obmalloc just handed out for REQUEST bytes
 * holds what 3.11's allocate_from_new_pool() and its reuse keep there. */
static int check_pool_header(size_t request, char *why, size_t size)
{
    size_t expected = (request + OBMALLOC_ALIGNMENT - 1) & ~(size_t)(OBMALLOC_ALIGNMENT - 1);
    unsigned char *block = PyObject_Malloc(request);
    if (block == NULL)
        return refuse(why, size, "checking obmalloc's pools: out of memory");
    struct obmalloc_pool_header header;
    if (read_own_memory(pool_of(block), &header, sizeof header) < 0)
        return refuse(why, size, "reading the obmalloc pool header of a %zu-byte block at the 16 KiB boundary "
                      "below it failed: %s", request, strerror(errno));
    size_t offset = (size_t)((uintptr_t)block - (uintptr_t)pool_of(block));
    int consistent = header.ref.count >= 1 && header.szidx < OBMALLOC_SMALL_REQUEST_THRESHOLD / OBMALLOC_ALIGNMENT &&
                     offset >= OBMALLOC_POOL_OVERHEAD && offset < header.nextoffset &&
                     header.maxnextoffset == OBMALLOC_POOL_SIZE - expected &&
                     (offset - OBMALLOC_POOL_OVERHEAD) % expected == 0 && pf_py_small_block_size(block) == expected;
    /* A block this cannot size is left allocated: the dump's free wipes a
     * block by the size its pool header gives. */
    if (!consistent)
        return refuse(why, size, "obmalloc's pool header does not describe a %zu-byte block as 3.11's does "
                      "(size index %u, block at offset %zu)", expected, header.szidx, offset);
    PyObject_Free(block);
    return 0;
}

static int check_obmalloc(char *why, size_t size)
{
    static const size_t requests[] = {1, 40, OBMALLOC_SMALL_REQUEST_THRESHOLD};
    for (size_t i = 0; i < sizeof requests / sizeof *requests; i++) {
        if (check_pool_header(requests[i], why, size) < 0)
            return -1;
    }
    return 0;
}

/* _PyRuntime's fields this file reads or writes: initialized and
 * core_initialized, nexitfuncs, gilstate.autoTSSkey, preconfig (and the
 * fields around them). */
static int check_runtime_state(char *why, size_t size)
{
    const _PyRuntimeState *runtime = &_PyRuntime;
    if (runtime->initialized != Py_IsInitialized() || runtime->core_initialized != 1)
        return refuse(why, size, "_PyRuntime.initialized is not where the 3.11 headers put it");
    if (runtime->interpreters.main != PyInterpreterState_Main() ||
        runtime->main_thread != PyThread_get_thread_ident())
        return refuse(why, size, "_PyRuntime.interpreters or main_thread is not where the 3.11 headers put it");
    int exit_functions_ok = runtime->nexitfuncs >= 0 && runtime->nexitfuncs <= NEXITFUNCS;
    for (int i = runtime->nexitfuncs; exit_functions_ok && i < NEXITFUNCS; i++)
        exit_functions_ok = runtime->exitfuncs[i] == NULL;
    if (!exit_functions_ok)
        return refuse(why, size, "_PyRuntime.nexitfuncs does not count _PyRuntime.exitfuncs as in 3.11");
    if (PyThread_tss_get((Py_tss_t *)&runtime->gilstate.autoTSSkey) != PyGILState_GetThisThreadState() ||
        PyGILState_GetThisThreadState() != PyThreadState_Get() ||
        runtime->gilstate.autoInterpreterState != PyInterpreterState_Main())
        return refuse(why, size, "_PyRuntime.gilstate is not where the 3.11 headers put it");
    const PyPreConfig *preconfig = &runtime->preconfig;
    if (preconfig->_config_init < _PyConfig_INIT_COMPAT || preconfig->_config_init > _PyConfig_INIT_ISOLATED ||
        preconfig->utf8_mode != Py_UTF8Mode || preconfig->isolated != Py_IsolatedFlag ||
        preconfig->use_environment == Py_IgnoreEnvironmentFlag)
        return refuse(why, size, "_PyRuntime.preconfig is not where the 3.11 headers put it");
    return 0;
}

/* PyThreadState's fields this file reads or writes: interp, thread_id,
 * native_thread_id, cframe. */
static int check_thread_state(char *why, size_t size)
{
    PyThreadState *tstate = PyThreadState_Get();
    if (tstate->interp != PyThreadState_GetInterpreter(tstate) || tstate->id != PyThreadState_GetID(tstate))
        return refuse(why, size, "PyThreadState's interp or id is not where the 3.11 headers put it");
    if (tstate->thread_id != PyThread_get_thread_ident() ||
        tstate->native_thread_id != PyThread_get_thread_native_id())
        return refuse(why, size, "PyThreadState's thread ids are not where the 3.11 headers put them");
    /* No Python code runs here: the thread state's own root frame holder
     * is current, and holds no frame. */
    PyFrameObject *frame = PyThreadState_GetFrame(tstate);
    Py_XDECREF(frame);
    if (frame != NULL || tstate->cframe != &tstate->root_cframe || tstate->cframe->current_frame != NULL)
        return refuse(why, size, "PyThreadState's cframe is not where the 3.11 headers put it");
    return 0;
}

static PyObject *probe(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_RETURN_NONE;
}

/* PyCFunctionObject's m_ml (pf_py_builtin_doc), on a built-in made here. */
static int check_builtin_function(char *why, size_t size)
{
    static PyMethodDef definition = {"probe", probe, METH_NOARGS, "probe()\n--\n\nA probe of the layout."};
    PyObject *function = PyCFunction_New(&definition, NULL);
    if (function == NULL) {
        PyErr_Clear();
        return refuse(why, size, "checking built-in functions: out of memory");
    }
    int found = ((PyCFunctionObject *)function)->m_ml == &definition && PyCFunction_GetFunction(function) == probe &&
                pf_py_builtin_doc(function) == definition.ml_doc;
    Py_DECREF(function);
    return found ? 0 : refuse(why, size, "PyCFunctionObject's m_ml is not where the 3.11 headers put it");
}

/* PyDictObject's ma_version_tag (pf_py_namespace_changes), on a dict made
 * here: it changes when the dict does. */
static int check_dict_version(char *why, size_t size)
{
    PyObject *dict = PyDict_New();
    if (dict == NULL) {
        PyErr_Clear();
        return refuse(why, size, "checking dicts: out of memory");
    }
    uint64_t before = ((PyDictObject *)dict)->ma_version_tag;
    int set = PyDict_SetItem(dict, Py_None, Py_None);
    int changed = set == 0 && ((PyDictObject *)dict)->ma_version_tag != before &&
                  ((PyDictObject *)dict)->ma_used == PyDict_Size(dict);
    Py_DECREF(dict);
    if (set < 0) {
        PyErr_Clear();
        return refuse(why, size, "checking dicts: out of memory");
    }
    return changed ? 0 : refuse(why, size, "PyDictObject's ma_version_tag is not where the 3.11 headers put it");
}

int pf_py_check_boundary(char *why, size_t size)
{
    static int (*const checks[])(char *, size_t) = {
        check_version, check_obmalloc, check_runtime_state, check_thread_state, check_builtin_function,
        check_dict_version,
    };
    for (size_t i = 0; i < sizeof checks / sizeof *checks; i++) {
        if (checks[i](why, size) < 0)
            return -1;
    }
    return 0;
}
