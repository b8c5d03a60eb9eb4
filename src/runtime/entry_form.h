/* An image that is a program (pyfreeze --script, --module, --entry) takes
 * the program's arguments: `IMAGE ARGS` runs as `python3 FILE ARGS`,
 * `python3 -m MODULE ARGS`, or as the console-script wrapper pip and
 * Debian install for MODULE:FUNCTION.  The image rewrites its command line
 * into that python3 command line before anything reads it, so warm and
 * cold starts parse it as python3 would; re-executions (cold start, address layout)
 * pass the program's own arguments again. */
#ifndef PYFREEZE_ENTRY_FORM_H
#define PYFREEZE_ENTRY_FORM_H

#include <Python.h>

/* The command line the image was started with, when it is a program (its
 * re-executions use it); NULL for an image that is python3. */
extern char **pf_entry_program_argv;

/* Replaces *argc and *argv with the python3 command line of the image's entry
 * form; does nothing for an image that is python3.  -1 when out of memory
 * (reported on stderr). */
int pf_entry_rewrite(int *argc, char ***argv);

/* What pf_entry_rewrite found, kept across a cold start's reset of the
 * data segment (the memory is glibc's, which the reset leaves alone). */
struct pf_entry_state {
    char **program_argv;
    const char *run_name;
};
void pf_entry_save(struct pf_entry_state *state);
void pf_entry_restore(const struct pf_entry_state *state);

/* For --entry, on a read configuration: sys.argv[0] is the path the image
 * was run by and sys.orig_argv is [interpreter, that path, ARGS...], as
 * for a console script (whose sys.path[0] is then its directory).
 * -1 with a Python error set. */
int pf_entry_fix_config(PyConfig *config);

#endif
