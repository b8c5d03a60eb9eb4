#ifndef PYFREEZE_COLD_START_H
#define PYFREEZE_COLD_START_H

/* Set in the environment of a re-executed image to ask for a cold start;
 * removed again before Python reads the environment.  Users may set it to
 * force one. */
#define PF_COLD_ENV "PYFREEZE_COLD"
/* Starts the interpreter the image carries from scratch, as a pristine
 * runtime would, with the image's blocked names applied.
 * Returns the exit status. */
int pf_cold_main(int argc, char **argv);

/* Re-executes the image with `saved_environ` plus PYFREEZE_COLD=1.
 * Returns only on failure. */
void pf_cold_reexec(char **argv, char **saved_environ, const char *reason);

#endif
