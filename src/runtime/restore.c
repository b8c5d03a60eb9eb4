#define _GNU_SOURCE
#include "restore.h"

#include "../common/file_stamp.h"

#include "cold_start.h"
#include "cpython311.h"
#include "debug_report.h"
#include "entry_form.h"
#include "fast_exit.h"
#include "getpath_memo.h"
#include "image_info.h"
#include "native_libraries.h"
#include "phases.h"
#include "prefault.h"
#include "python_glue.h"
#include "sys_objects.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wctype.h>

extern char **environ;

/* SIG_IGN is the one disposition exec() passes on; python3 keeps it for
 * SIGINT and reports it for the others, so the image must see it before
 * touching any handler. */
static void inherited_ignored_signals(sigset_t *ignored)
{
    sigemptyset(ignored);
    for (int signum = 1; signum < NSIG; signum++) {
        struct sigaction action;
        if (sigaction(signum, NULL, &action) == 0 && action.sa_handler == SIG_IGN)
            sigaddset(ignored, signum);
    }
}

/* glibc hands out the lowest free key, and a new process has none: create
 * keys until the dump's count is reached, checking every number, so the
 * key values stored in the heap mean the same thing again. */
static int recreate_pthread_keys(unsigned count)
{
    for (unsigned expected = 0; expected < count; expected++) {
        pthread_key_t key;
        if (pthread_key_create(&key, NULL) != 0 || key != expected)
            return -1;
    }
    return 0;
}

/* A frozen module whose file changed would run old code where python3
 * runs the new: such an image is stale, and steps aside. */
static const char *changed_module_file(void)
{
    static char reason[600];
    const struct pf_file_stamp *stamps = (const struct pf_file_stamp *)(uintptr_t)pf_info.stamps;
    for (uint32_t i = 0; i < pf_info.stamp_count; i++) {
        const char *path = (const char *)(uintptr_t)stamps[i].path;
        if (pf_file_unchanged(path, stamps[i].mtime_ns, stamps[i].size))
            continue;
        snprintf(reason, sizeof reason, "%s changed since the image was made", path);
        return reason;
    }
    return NULL;
}

static char **copy_environ(void)
{
    size_t count = 0;
    while (environ[count] != NULL)
        count++;
    char **copy = malloc((count + 1) * sizeof(char *));
    if (copy != NULL)
        memcpy(copy, environ, (count + 1) * sizeof(char *));
    return copy;
}

/* What a frozen heap cannot honour: requests that act while the
 * interpreter starts, or that change objects already built.  NULL when
 * the run can go on warm. */
static const char *cold_start_reason(const PyConfig *config)
{
    if (!config->site_import)
        return "-S: the frozen heap has imported site";
    if (config->verbose)
        return "-v: imports were done at freeze time";
    if (config->optimization_level != 0)
        return "-O: frozen modules were compiled without optimisation";
    if (config->import_time)
        return "-X importtime: imports were done at freeze time";
    if (config->tracemalloc)
        return "-X tracemalloc: frozen objects were not traced";
    if (!config->use_frozen_modules)
        return "-X frozen_modules=off: frozen modules are already loaded";
    if (!config->code_debug_ranges)
        return "-X no_debug_ranges: frozen code objects carry column data";
    if (config->parser_debug)
        return "-d: parser debugging acts at start-up";
    if (config->malloc_stats)
        return "PYTHONMALLOCSTATS acts on the start-up allocator";
    if (config->home != NULL)
        return "PYTHONHOME: the frozen modules come from the builder's stdlib";
    if (config->check_hash_pycs_mode != NULL && wcscmp(config->check_hash_pycs_mode, L"default") != 0)
        return "--check-hash-based-pycs: fixed at start-up";
    if (config->use_hash_seed && config->hash_seed != pf_info.hash_seed)
        return "PYTHONHASHSEED differs from the image's hash seed";
    return NULL;
}

/* Frozen modules derived paths from the prefixes while they were imported
 * (sysconfig's install schemes, distutils'): a run with others, an image
 * copied into a virtual environment, must not use them. */
static const char *prefix_mismatch(const PyConfig *config)
{
    static const struct {
        const char *name;
        size_t offset;
    } prefixes[] = {
        {"prefix", offsetof(PyConfig, prefix)},
        {"exec_prefix", offsetof(PyConfig, exec_prefix)},
        {"base_prefix", offsetof(PyConfig, base_prefix)},
        {"base_exec_prefix", offsetof(PyConfig, base_exec_prefix)},
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        const wchar_t *run = *(wchar_t *const *)((const char *)config + prefixes[i].offset);
        PyObject *frozen = PySys_GetObject(prefixes[i].name);
        wchar_t *image = frozen != NULL ? PyUnicode_AsWideCharString(frozen, NULL) : NULL;
        int same = run != NULL && image != NULL && wcscmp(run, image) == 0;
        PyMem_Free(image);
        PyErr_Clear();
        if (!same)
            return "sys.prefix or another prefix is not the image's";
    }
    return NULL;
}

/* Whether DIRECTORY (an entry of the module search path) would give
 * python3 a module or package `encodings` of its own: a regular package or
 * a module of any suffix the path finder loads, or an archive zipimport
 * might find one in. */
static int shadows_encodings(const wchar_t *directory)
{
    static const char *const candidates[] = {
        "encodings.py", "encodings.pyc", "encodings.cpython-311-x86_64-linux-gnu.so", "encodings.abi3.so",
        "encodings.so", "encodings/__init__.py", "encodings/__init__.pyc",
        "encodings/__init__.cpython-311-x86_64-linux-gnu.so", "encodings/__init__.abi3.so",
        "encodings/__init__.so",
    };
    char *path = Py_EncodeLocale(directory, NULL);
    if (path == NULL)
        return 1;
    struct stat status;
    int found = stat(path, &status) == 0;
    int shadows = found && !S_ISDIR(status.st_mode);
    for (size_t i = 0; found && !shadows && i < sizeof candidates / sizeof *candidates; i++) {
        char candidate[PATH_MAX];
        shadows = snprintf(candidate, sizeof candidate, "%s/%s", path, candidates[i]) >= (int)sizeof candidate ||
                  stat(candidate, &status) == 0;
    }
    PyMem_Free(path);
    return shadows;
}

/* python3 imports encodings, and the codec of the locale, from the module
 * search path before anything else runs; the image holds those of the
 * standard library it was frozen from.  A run whose search path leads
 * elsewhere first (a PYTHONPATH entry with an encodings of its own) or
 * not there at all (another PYTHONPLATLIBDIR) must start as python3 does. */
static const char *stdlib_mismatch(const PyConfig *config)
{
    PyObject *frozen = PySys_GetObject("_stdlib_dir");
    wchar_t *stdlib = frozen != NULL && PyUnicode_Check(frozen) ? PyUnicode_AsWideCharString(frozen, NULL) : NULL;
    PyErr_Clear();
    const char *why = "the standard library the image was frozen from is not on this run's module search path";
    if (stdlib == NULL || config->stdlib_dir == NULL || wcscmp(stdlib, config->stdlib_dir) != 0) {
        PyMem_Free(stdlib);
        return "the run's standard library directory is not the image's";
    }
    for (Py_ssize_t i = 0; i < config->module_search_paths.length; i++) {
        const wchar_t *entry = config->module_search_paths.items[i];
        if (wcscmp(entry, stdlib) == 0) {
            why = NULL;
            break;
        }
        if (shadows_encodings(entry)) {
            why = "a directory ahead of the standard library on the module search path has an encodings module";
            break;
        }
    }
    PyMem_Free(stdlib);
    return why;
}

/* site makes the directory above a pyvenv.cfg the prefix, as it does for
 * python3: the same objection as above, found as site will find it. */
static const char *in_virtual_environment(const PyConfig *config)
{
    if (config->executable == NULL)
        return NULL;
    char executable[PATH_MAX];
    if (wcstombs(executable, config->executable, sizeof executable) >= sizeof executable)
        return NULL;
    char *slash = strrchr(executable, '/');
    for (int level = 0; slash != NULL && level < 2; level++) {
        *slash = '\0';
        char candidate[PATH_MAX + 16];
        snprintf(candidate, sizeof candidate, "%s/pyvenv.cfg", executable);
        struct stat status;
        if (stat(candidate, &status) == 0 && S_ISREG(status.st_mode))
            return "a virtual environment (pyvenv.cfg) gives sys.prefix another value";
        slash = strrchr(executable, '/');
    }
    return NULL;
}

/* Codec names as CPython spells them before and after normalisation
 * ("UTF-8", "utf-8", "utf8") compare equal here. */
static void canonical_codec(const wchar_t *name, char *out, size_t size)
{
    size_t used = 0;
    for (; name != NULL && *name != L'\0' && used + 1 < size; name++) {
        if (*name == L'-' || *name == L'_')
            continue;
        out[used++] = (char)(*name < 128 ? towlower((wint_t)*name) : '?');
    }
    out[used] = '\0';
}

static void canonical_codec_ascii(const char *name, char *out, size_t size)
{
    wchar_t wide[64];
    size_t i = 0;
    for (; name[i] != '\0' && i + 1 < sizeof wide / sizeof *wide; i++)
        wide[i] = (unsigned char)name[i];
    wide[i] = L'\0';
    canonical_codec(wide, out, size);
}

/* The filesystem codec follows the locale and UTF-8 mode of this run; the
 * frozen heap has the dump's baked into every path it decoded. */
static const char *codec_mismatch(const PyConfig *config)
{
    char run_encoding[64], image_encoding[64];
    canonical_codec(config->filesystem_encoding, run_encoding, sizeof run_encoding);
    canonical_codec_ascii(pf_info.fs_encoding, image_encoding, sizeof image_encoding);
    if (strcmp(run_encoding, image_encoding) != 0 || config->filesystem_errors == NULL ||
        wcscmp(config->filesystem_errors, L"surrogateescape") != 0 ||
        strcmp(pf_info.fs_errors, "surrogateescape") != 0)
        return "this locale gives another filesystem encoding than the image's";
    return NULL;
}

/* What getpath prints while the run's configuration is read (a landmark
 * not found: "Could not find platform independent libraries <prefix>"),
 * held back until the run is known to go on warm: one that steps aside
 * reads its configuration again, and python3 prints it once.  getpath.c
 * writes with fprintf(stderr), so swapping the stream catches it. */
struct held_stderr {
    FILE *saved, *memory;
    char *text;
    size_t size;
};

static void hold_stderr(struct held_stderr *held)
{
    held->saved = stderr;
    held->text = NULL;
    held->size = 0;
    held->memory = open_memstream(&held->text, &held->size);
    if (held->memory != NULL)
        stderr = held->memory;
}

/* Puts stderr back, and writes what was held to it when `print`. */
static void release_stderr(struct held_stderr *held, int print)
{
    if (held->memory == NULL)
        return;
    fclose(held->memory);
    held->memory = NULL;
    stderr = held->saved;
    if (print && held->size > 0) {
        fwrite(held->text, 1, held->size, stderr);
        fflush(stderr);
    }
    free(held->text);
}

/* What a step aside asked for by restore.py re-executes with. */
static char **start_argv, **start_environ;

void pf_restore_step_aside(const char *reason)
{
    if (start_argv != NULL && start_environ != NULL)
        pf_cold_reexec(start_argv, start_environ, reason);
}

int pf_restore_main(int argc, char **argv)
{
    pf_phase_start();
    const char *layout = pf_info.library_count > 0 ? pf_native_fix_layout(argv) : NULL;
    sigset_t ignored;
    inherited_ignored_signals(&ignored);
    char **saved_environ = copy_environ();
    if (saved_environ == NULL) {
        fputs("pyfreeze: restoring the image failed: out of memory\n", stderr);
        return 1;
    }
    if (layout != NULL)
        pf_cold_reexec(argv, saved_environ, layout);
    const char *stale = changed_module_file();
    if (stale != NULL)
        pf_cold_reexec(argv, saved_environ, stale);
    pf_prefault_run();
    if (recreate_pthread_keys(pf_info.pthread_keys) < 0)
        pf_cold_reexec(argv, saved_environ, "pthread keys of the frozen heap are taken");
    const char *configured = pf_native_configuration_differs();
    if (configured != NULL)
        pf_cold_reexec(argv, saved_environ, configured);
    const char *unloaded = pf_info.library_count > 0 ? pf_native_load() : NULL;
    if (unloaded != NULL)
        pf_cold_reexec(argv, saved_environ, unloaded);
    pf_phase("libraries");

    pf_py_adopt_main_thread((void *)(uintptr_t)pf_info.tstate);

    const char *allocator = NULL;
    PyStatus status = pf_py_preinitialize_again(argc, argv, &allocator);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
    if (allocator != NULL)
        pf_cold_reexec(argv, saved_environ, allocator);

    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    struct held_stderr held;
    hold_stderr(&held);
    pf_getpath_memo_use(1);
    if (!PyStatus_Exception(status))
        status = pf_py_read_config(&config);
    pf_getpath_memo_use(0);
    if (PyStatus_Exception(status)) {
        release_stderr(&held, 1);
        Py_ExitStatusException(status);   /* also --help, --version, bad options */
    }
    if (pf_entry_fix_config(&config) < 0) {
        release_stderr(&held, 1);
        PyErr_Print();
        return 1;
    }

    const char *reason = cold_start_reason(&config);
    if (reason == NULL)
        reason = codec_mismatch(&config);
    if (reason == NULL)
        reason = prefix_mismatch(&config);
    if (reason == NULL)
        reason = stdlib_mismatch(&config);
    if (reason == NULL)
        reason = in_virtual_environment(&config);
    release_stderr(&held, reason == NULL);
    if (pf_getpath_memo_taken())
        pf_phase_add("path-memo", 1);
    if (reason != NULL)
        pf_cold_reexec(argv, saved_environ, reason);
    start_argv = argv;
    start_environ = saved_environ;

    struct pf_sys_objects frozen_sys;
    int failed = pf_sys_objects_keep(&frozen_sys) < 0 || pf_py_set_config(&config) < 0 ||
                 pf_sys_objects_reuse(&frozen_sys) < 0;
    pf_phase("c-restore");
    if (failed || pf_glue_run_restore(&ignored) < 0) {
        PyConfig_Clear(&config);
        PyErr_Print();
        return 1;
    }
    PyConfig_Clear(&config);
    /* A training run ends here, having made the exit's decision once: the
     * pages that writes are written by nearly every run's exit. */
    if (pf_prefault_training())
        (void)pf_glue_teardown_reason();
    pf_prefault_report();
    pf_debug("warm start");
    pf_phase("python-restore");
    pf_fast_exit_arm();
    return Py_RunMain();
}
