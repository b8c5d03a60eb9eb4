/* The learning run of --learn: the program runs once, cold, in a process
 * of its own (the runtime as a plain python3.11, with the entry form's
 * command line and the --learn arguments), and reports the modules it had
 * loaded when it ended, in load order. */
#ifndef PYFREEZE_CLI_LEARN_H
#define PYFREEZE_CLI_LEARN_H

#include "../common/error.h"
#include "options.h"

/* Fills *names (malloc'd, each malloc'd; free with pf_learned_free) with
 * the modules to freeze: valid names, not __main__, not blocked. */
int pf_learn_modules(const struct pf_options *options, const char *runtime_path, char **environment,
                     char ***names, int *count, struct pf_error *error);

void pf_learned_free(char **names, int count);

#endif
