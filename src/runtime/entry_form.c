#define _GNU_SOURCE
#include "entry_form.h"

#include "../common/entry_wrapper.h"
#include "image_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

char **pf_entry_program_argv;

/* For --entry: the path the kernel executed, as it would have handed it
 * to the interpreter of a console script. */
static const char *run_name;

/* The path this process was executed by.  A re-execution goes through
 * /proc/self/exe with the first process's name as argv[0]. */
static const char *executed_path(char **argv)
{
    const char *name = (const char *)getauxval(AT_EXECFN);
    if (name == NULL || strcmp(name, "/proc/self/exe") == 0)
        return argv[0] != NULL ? argv[0] : "";
    return name;
}

/* The entry form out of the image's manifest, in strings of their own
 * (the new command line points into them for the life of the process).
 * The manifest is released at once: with the names of the files the imports
 * read it can be large enough for malloc to map it, and a mapping made now
 * would take the addresses the image's libraries are loaded at next. */
static int read_entry_form(enum pf_entry_kind *kind, char **interpreter, char **value)
{
    struct pf_manifest manifest;
    struct pf_error error;
    if (pf_image_manifest(&manifest, &error) < 0) {
        fprintf(stderr, "pyfreeze: starting the image failed: %s\n", error.message);
        return -1;
    }
    *kind = manifest.entry_kind;
    *interpreter = *value = NULL;
    int rc = 0;
    if (*kind != PF_ENTRY_NONE) {
        *interpreter = manifest.interpreter != NULL ? strdup(manifest.interpreter) : NULL;
        *value = manifest.entry != NULL ? strdup(manifest.entry) : NULL;
        if (*interpreter == NULL || *value == NULL) {
            fputs("pyfreeze: starting the image failed: its entry form cannot be read\n", stderr);
            rc = -1;
        }
    }
    pf_manifest_release(&manifest);
    return rc;
}

int pf_entry_rewrite(int *argc, char ***argv)
{
    enum pf_entry_kind kind;
    char *interpreter, *value;
    if (read_entry_form(&kind, &interpreter, &value) < 0)
        return -1;
    if (kind == PF_ENTRY_NONE)
        return 0;
    char **old = *argv;
    int old_argc = *argc;
    int rest = old_argc > 1 ? old_argc - 1 : 0;
    char **program = calloc((size_t)(old_argc > 0 ? old_argc : 1) + 1, sizeof(char *));
    char **rewritten = calloc((size_t)rest + 5, sizeof(char *));
    if (program == NULL || rewritten == NULL) {
        fputs("pyfreeze: starting the image failed: out of memory\n", stderr);
        return -1;
    }
    for (int i = 0; i < old_argc; i++)
        program[i] = old[i];
    int n = 0;
    rewritten[n++] = interpreter;
    if (kind == PF_ENTRY_SCRIPT) {
        rewritten[n++] = value;
    } else if (kind == PF_ENTRY_MODULE) {
        rewritten[n++] = "-m";
        rewritten[n++] = value;
    } else {
        run_name = executed_path(old);
        if (old_argc > 0)
            program[0] = (char *)run_name;
        rewritten[n++] = "-c";
        rewritten[n++] = pf_entry_wrapper_code(value);
        if (rewritten[n - 1] == NULL) {
            fputs("pyfreeze: starting the image failed: out of memory\n", stderr);
            return -1;
        }
    }
    for (int i = 0; i < rest; i++)
        rewritten[n++] = old[1 + i];
    rewritten[n] = NULL;
    pf_entry_program_argv = program;
    *argc = n;
    *argv = rewritten;
    return 0;
}

void pf_entry_save(struct pf_entry_state *state)
{
    state->program_argv = pf_entry_program_argv;
    state->run_name = run_name;
}

void pf_entry_restore(const struct pf_entry_state *state)
{
    pf_entry_program_argv = state->program_argv;
    run_name = state->run_name;
}

static int set_list(PyConfig *config, PyWideStringList *list, Py_ssize_t length, wchar_t **items)
{
    PyStatus status = PyConfig_SetWideStringList(config, list, length, items);
    if (PyStatus_Exception(status)) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

int pf_entry_fix_config(PyConfig *config)
{
    if (run_name == NULL)
        return 0;
    wchar_t *name = Py_DecodeLocale(run_name, NULL);
    if (name == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int rc = -1;
    /* config->argv is ["-c", ARGS...]; orig_argv is [interpreter, "-c",
     * CODE, ARGS...]. */
    Py_ssize_t argc = config->argv.length, origc = config->orig_argv.length;
    wchar_t **argv = PyMem_RawMalloc(sizeof(wchar_t *) * (size_t)(argc + 1));
    wchar_t **orig = PyMem_RawMalloc(sizeof(wchar_t *) * (size_t)(origc + 1));
    if (argv != NULL && orig != NULL && argc >= 1 && origc >= 3) {
        for (Py_ssize_t i = 0; i < argc; i++)
            argv[i] = config->argv.items[i];
        argv[0] = name;
        orig[0] = config->orig_argv.items[0];
        orig[1] = name;
        for (Py_ssize_t i = 3; i < origc; i++)
            orig[i - 1] = config->orig_argv.items[i];
        rc = set_list(config, &config->argv, argc, argv) == 0 &&
                     set_list(config, &config->orig_argv, origc - 1, orig) == 0 ? 0 : -1;
    } else {
        PyErr_NoMemory();
    }
    PyMem_RawFree(argv);
    PyMem_RawFree(orig);
    PyMem_RawFree(name);
    return rc;
}
