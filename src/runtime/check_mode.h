/* `pyfreeze info --check IMAGE` runs the image with PYFREEZE_CHECK=FD: the
 * image makes every start-up check a warm start makes (its files, its
 * libraries, its address layout, pthread keys, this machine's and this
 * environment's configuration) and, instead of starting, exits: 0 when it
 * would start warm, PF_CHECK_COLD after writing the reason it would step
 * aside for to descriptor FD.  Nothing of the program runs. */
#ifndef PYFREEZE_CHECK_MODE_H
#define PYFREEZE_CHECK_MODE_H

#define PF_CHECK_ENV "PYFREEZE_CHECK"
#define PF_CHECK_COLD 7

/* Whether this run is such a check. */
int pf_check_mode(void);

/* In a check: reports `reason` (NULL: a warm start) and exits. */
void pf_check_finish(const char *reason);

#endif
