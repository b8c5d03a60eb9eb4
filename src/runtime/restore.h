#ifndef PYFREEZE_RESTORE_H
#define PYFREEZE_RESTORE_H

/* Runs an image from its frozen heap: re-establishes process state, then
 * the command line, as python3 would.  Steps aside to a cold start (by
 * re-executing the image) when the run asks for what a frozen heap cannot
 * honour.  Returns the exit status. */
int pf_restore_main(int argc, char **argv);

/* Steps aside to a cold start from the restore's Python part, before the
 * program runs: re-executes the image with its command line and the
 * environment it started with.  Returns only on failure. */
void pf_restore_step_aside(const char *reason);

#endif
