/* The learning run of --learn: the program runs once, cold, in a process
 * of its own (the runtime as a plain python3.11, with the entry form's
 * command line and the --learn arguments), and reports the modules it had
 * loaded when it ended, in load order, and the regular expressions re had
 * compiled and still cached. */
#ifndef PYFREEZE_CLI_LEARN_H
#define PYFREEZE_CLI_LEARN_H

#include "../common/error.h"
#include "options.h"

struct pf_learned {
    char **modules;     /* to freeze: valid names, not __main__, not blocked */
    int module_count;
    char **patterns;    /* "KIND:FLAGS:HEX" (pf_manifest_valid_pattern), sorted */
    int pattern_count;
};

/* Runs the program and fills `learned` (release it with pf_learned_free). */
int pf_learn_run(const struct pf_options *options, const char *runtime_path, char **environment,
                 struct pf_learned *learned, struct pf_error *error);

void pf_learned_free(struct pf_learned *learned);

#endif
