#define _GNU_SOURCE
#define Py_BUILD_CORE 1
#include "cpython311.h"

#include <internal/pycore_initconfig.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_pathconfig.h>
#include <internal/pycore_pystate.h>
#include <internal/pycore_runtime.h>

#include <string.h>

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000
#error "cpython311.c reaches into CPython 3.11 internals only"
#endif

void pf_py_adopt_main_thread(void *frozen_tstate)
{
    PyThreadState *tstate = frozen_tstate;
    /* The fresh libc has no value under the frozen gilstate key, so
     * PyOS_AfterFork_Child() would not re-associate the thread state;
     * give it the value first. */
    PyThread_tss_set(&_PyRuntime.gilstate.autoTSSkey, tstate);
    PyOS_AfterFork_Child();
    tstate->thread_id = PyThread_get_thread_ident();
}

PyStatus pf_py_preinitialize_again(int argc, char **argv)
{
    /* Py_PreInitialize*() and _PyPreConfig_Write() are no-ops once the
     * runtime is up; lower the flags for the duration of the call. */
    int core_initialized = _PyRuntime.core_initialized;
    _PyRuntime.preinitialized = 0;
    _PyRuntime.core_initialized = 0;

    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);

    _PyRuntime.preinitialized = 1;
    _PyRuntime.core_initialized = core_initialized;
    return status;
}

int pf_py_custom_allocator(void)
{
    return _PyRuntime.preconfig.allocator != PYMEM_ALLOCATOR_NOT_SET;
}

int pf_py_set_config(const PyConfig *config)
{
    /* Without this the path configuration of the dump (the runtime's own
     * executable, its prefix) is reused instead of being computed anew. */
    _PyPathConfig_ClearGlobal();
    return _PyInterpreterState_SetConfig(config);
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
