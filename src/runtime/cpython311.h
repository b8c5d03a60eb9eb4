/* The boundary between pyfreeze and CPython 3.11's internals.  Every use of
 * something CPython keeps private (_Py* symbols, Py_BUILD_CORE and the
 * internal/ headers, the fields of its private structs, obmalloc's pool
 * layout) is in cpython311.c, behind the plain C calls below, each saying
 * what of 3.11 it relies on: a port to another CPython changes that file.
 * tests/unit/test_cpython_boundary.py fails when another C file names one.
 *
 * Part of the boundary lives outside that file: the runtime is linked with
 * --wrap (runtime_link_args in meson.build), and the __wrap_ and __real_
 * functions of the exit are in src/runtime/fast_exit.c.  A --wrap redirects only the
 * calls made from another object file of the static libpython than the one
 * defining the function, so each relies on where 3.11 makes its call:
 *   Py_FinalizeEx  called by Py_RunMain() (Modules/main.c) at the end of a
 *                  run; __wrap_Py_FinalizeEx decides on the fast exit.
 *   Py_Exit        called by pythonrun.c's handle_system_exit() for an
 *                  unhandled SystemExit; Py_Exit's own Py_FinalizeEx() call
 *                  is inside pylifecycle.c, where no wrap sees it, so
 *                  __wrap_Py_Exit makes the exit Py_RunMain's would make.
 *   _PyEval_Fini   called by Py_FinalizeEx() (pylifecycle.c) right after
 *                  finalize_modules(); __wrap__PyEval_Fini closes the run's
 *                  standard streams there.
 *   PyMarshal_ReadObjectFromString
 *                  called from getpath.c on getpath's marshalled code at
 *                  every computation of the path configuration; the wrap,
 *                  in cpython311.c, hands a warm start's config read the
 *                  code object the dump kept (pf_py_keep_getpath_code).
 *   PyEval_EvalCode
 *                  called by getpath.c's _PyConfig_InitPathConfig() to run
 *                  that code over the namespace it filled; the wrap, in
 *                  cpython311.c, hands that call to the hook set with
 *                  pf_py_hook_getpath_eval (src/runtime/getpath_memo.c),
 *                  and every other call to CPython's.
 * pf_py_check_boundary() verifies, at freeze time, what of all this can be
 * verified cheaply in a running process. */
#ifndef PYFREEZE_CPYTHON311_H
#define PYFREEZE_CPYTHON311_H

#include <Python.h>
#include <stddef.h>

/* Makes the frozen main thread state this thread's again: the gilstate TSS
 * value, the runtime's main-thread identity and the GIL, as
 * PyOS_AfterFork_Child() does, but without running the callbacks of
 * os.register_at_fork(after_in_child=...).  Relies on: PyInterpreterState's
 * after_forkers_child list, which PyOS_AfterFork_Child() runs. */
void pf_py_adopt_main_thread(void *tstate);

/* The size of the obmalloc block at `ptr`, which lies in one of its
 * arenas: from the header of its pool. */
size_t pf_py_small_block_size(const void *ptr);

/* Whether the obmalloc block at `ptr`, which lies in one of its arenas,
 * is the only one in use in its pool. */
int pf_py_small_block_alone(const void *ptr);

/* The version of DICT (an exact dict): a number that changes whenever the
 * dict does.  Relies on: PyDictObject's ma_version_tag. */
uint64_t pf_py_dict_version(PyObject *dict);

/* At the checkpoint: the main thread's native id (the dump's pid) out of
 * the frozen thread state; PyOS_AfterFork_Child sets it at restore. */
void pf_py_forget_native_thread_id(void *tstate);

/* Re-runs the pre-configuration (locale coercion, UTF-8 mode, LC_CTYPE) for
 * this command line and environment, as a fresh python3 would, although
 * the frozen runtime is already initialised.  Sets `cold_reason`, and
 * changes nothing, when the run asks for another allocator or its debug
 * hooks (-X dev, PYTHONMALLOC), which a frozen heap cannot take. */
PyStatus pf_py_preinitialize_again(int argc, char **argv, const char **cold_reason);

/* At the end of the dump: unmarshals getpath's code once more and
 * keeps it for the config reads of warm starts (see the wrap above).  -1
 * with an exception set. */
int pf_py_keep_getpath_code(void);

/* Reads `config` (command line, environment, paths) for this run, with the
 * getpath code the dump kept. */
PyStatus pf_py_read_config(PyConfig *config);

/* What runs getpath's code instead of PyEval_EvalCode while hooked: a
 * function of the code and the namespace getpath.c filled (the config dict
 * is its "config"), returning what PyEval_EvalCode would (a new reference,
 * or NULL with an exception set).  While it runs, the hook is off. */
typedef PyObject *(*pf_getpath_eval)(PyObject *code, PyObject *namespace);

/* Sets the hook for the config reads that follow (NULL: none). */
void pf_py_hook_getpath_eval(pf_getpath_eval hook);

/* PyEval_EvalCode itself, for a hook that runs getpath's code after all. */
PyObject *pf_py_eval_code(PyObject *code, PyObject *globals, PyObject *locals);

/* Reads a config for the command line `argv` in this process's
 * environment, as pf_py_read_config does for a warm start, and forgets
 * it: a rehearsal of a warm start's path computation, for the hook. */
PyStatus pf_py_rehearse_config_read(int argc, char **argv);

/* Replaces the interpreter's configuration (sys.argv, sys.flags, sys.path,
 * sys.executable...) with `config`, already read; normalises its codec
 * names first, as python3's start-up does. */
int pf_py_set_config(PyConfig *config);

/* The interpreter's filesystem encoding and error handler, ASCII. */
void pf_py_fs_codec(char *encoding, size_t encoding_size, char *errors, size_t errors_size);

/* Whether the innermost Python frame of this thread is the import
 * system searching or reading a module (not running its code). */
int pf_py_running_import_system(void);

/* Whether a Python function NAME, of a file whose name ends with
 * FILE_SUFFIX (both ASCII), is running in this thread; safe without the
 * GIL, as pf_py_running_import_system.  Relies on: PyThreadState's cframe
 * and _PyInterpreterFrame's f_code and previous. */
int pf_py_running_function(const char *file_suffix, const char *name);

/* Gives sys.flags the values of a plain python3 run where the freeze's
 * own configuration differs (it ignores the environment and the user
 * site).  -1 with an exception set. */
int pf_py_plain_run_flags(void);

/* Gives sys.flags.no_site the value of a plain run (0), once the dump has
 * run site itself (the freeze's interpreter starts without it).  -1 with
 * an exception set. */
int pf_py_site_flag_plain(void);

/* Compares the dict version tags of the namespaces of OBJECTS (a list of
 * modules and classes) with VERSIONS (a list of ints, updated in place and
 * extended for objects it has none for yet): the list of the indices
 * whose namespace changed since. */
PyObject *pf_py_namespace_changes(PyObject *objects, PyObject *versions);

/* sys.path[0] of a python3 run of SCRIPT (new reference, or NULL with an
 * exception set). */
PyObject *pf_py_sys_path0(const char *script);

/* The same for a run with this command line (ARGV as PyConfig has it):
 * the path, or None when python3 inserts none. */
PyObject *pf_py_sys_path0_of(const PyWideStringList *argv);

/* The interpreter's current configuration. */
const PyConfig *pf_py_config(void);

/* Evaluates CODE as PyRun_String() does once it has compiled a text
 * (exec() of a str): with the flag of an unhandled KeyboardInterrupt,
 * which makes the process end by SIGINT, cleared first and raised when
 * one escapes. */
PyObject *pf_py_eval_as_run_string(PyObject *code, PyObject *globals, PyObject *locals);

/* Whether this process's pre-initialization coerced the C locale and
 * printed python3's warning about it (PYTHONCOERCECLOCALE=warn): a cold
 * start after it must not print it again. */
int pf_py_locale_coercion_warned(void);

/* The start of Py_FinalizeEx() in 3.11 (pylifecycle.c), while everything
 * is still alive: threading._shutdown() when threading was imported (it
 * waits for the non-daemon threads), the pending calls, then the atexit
 * callbacks.  Relies on: the private _Py_FinishPendingCalls() and
 * _PyAtExit_Call(), the interned names _Py_ID(threading) and
 * _Py_ID(_shutdown), PyThreadState's interp field. */
void pf_py_run_exit_handlers(void);

/* Whether C code registered Py_AtExit() functions, which only the real
 * Py_FinalizeEx() calls.  Relies on: _PyRuntime.nexitfuncs. */
int pf_py_at_exit_functions(void);

/* The docstring built-in FUNCTION was defined with, text signature
 * included (its __doc__ strips the signature, which inspect reads from
 * __text_signature__), or NULL when it is not a built-in function.
 * Relies on: 3.11's PyCFunctionObject keeps its PyMethodDef in m_ml. */
const char *pf_py_builtin_doc(PyObject *function);

/* The keys of the re module's cache of compiled patterns, oldest first:
 * each (type of the pattern, pattern, flags as an int), as re._compile()
 * of 3.11 (Lib/re/__init__.py) makes them for its _cache dict.  A new
 * list, empty when re is not loaded or has no such dict; NULL with an
 * exception set on failure. */
PyObject *pf_py_compiled_pattern_keys(void);

/* Whether the CPython this runtime runs is the one this boundary was
 * written for: its version is 3.11.x, and the layouts the calls above rely
 * on are those the linked libpython uses, as far as a running process can
 * tell cheaply (obmalloc's pool header, the _PyRuntime, PyThreadState,
 * PyCFunctionObject and PyDictObject fields read or written here).  To be
 * called once the interpreter is initialised, from C with no Python frame
 * running, and with the configuration and the pre-configuration written
 * (Py_InitializeFromConfig()); it allocates and frees a few objects.  0,
 * or -1 with a one-line reason in WHY.  Not verified: the private
 * functions' behaviour, _PyInterpreterFrame's layout (no frame runs here),
 * and the call sites the --wrap functions rely on. */
int pf_py_check_boundary(char *why, size_t size);

#endif
