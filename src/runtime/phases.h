/* Where a run's time goes, for the benchmark (tests/bench/startup).
 * PYFREEZE_PHASES=FILE makes an image append one line per mark to FILE:
 * "NAME NANOSECONDS FAULTS": CLOCK_MONOTONIC and the process's page faults
 * so far at that point of the run, or, for a name starting with '+' (made
 * with pf_phase_add), an amount summed over the run and 0.  The
 * marks are kept in memory and written at the exit and before a
 * re-execution, so that writing them costs nothing in between. */
#ifndef PYFREEZE_PHASES_H
#define PYFREEZE_PHASES_H

#include <stdint.h>

#define PF_PHASES_ENV "PYFREEZE_PHASES"

/* Whether PYFREEZE_PHASES is set.  Not cached: the dump's answer would be
 * frozen into the image. */
int pf_phases_enabled(void);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t pf_phase_clock(void);

/* Forgets marks a dumped image may hold, then marks "main". */
void pf_phase_start(void);

/* Marks NAME (a string literal) now. */
void pf_phase(const char *name);

/* Adds NANOSECONDS to the duration NAME (a string literal). */
void pf_phase_add(const char *name, int64_t nanoseconds);

/* Appends the marks made so far to the file and forgets them. */
void pf_phase_flush(void);

#endif
