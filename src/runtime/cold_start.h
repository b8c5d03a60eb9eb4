#ifndef PYFREEZE_COLD_START_H
#define PYFREEZE_COLD_START_H

/* Users set it (to anything but empty or 0) to force a cold start; it then
 * stays in the environment, as python3 would keep it, so images the
 * program starts run cold too.  A re-executed image gets it with a value
 * of its own, and takes that out again before Python reads the
 * environment. */
#define PF_COLD_ENV "PYFREEZE_COLD"
/* Starts the interpreter the image carries from scratch, as a pristine
 * runtime would, with the image's blocked names applied.
 * Returns the exit status. */
int pf_cold_main(int argc, char **argv);

/* Re-executes the image with `saved_environ`, PYFREEZE_COLD marked as a
 * step-aside.  Returns only on failure. */
void pf_cold_reexec(char **argv, char **saved_environ, const char *reason);

#endif
