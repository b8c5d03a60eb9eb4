/* The learning run of `pyfreeze --learn`: the runtime, run as a plain
 * python3.11 with PYFREEZE_LEARN=FD, runs the program's command line as
 * python3 would and, when the program ends (after its own atexit
 * callbacks), writes the names in sys.modules, in the order they were
 * loaded, one a line, to descriptor FD. */
#ifndef PYFREEZE_LEARN_H
#define PYFREEZE_LEARN_H

#define PF_LEARN_ENV "PYFREEZE_LEARN"

/* Whether this run is a learning run. */
int pf_learn_requested(void);

/* Runs argv as python3 does and reports; returns the exit status. */
int pf_learn_main(int argc, char **argv);

#endif
