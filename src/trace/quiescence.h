/* Checks, at the checkpoint, that the child holds nothing an image cannot
 * carry: one thread, and no file descriptors but 0, 1 and 2. */
#ifndef PYFREEZE_QUIESCENCE_H
#define PYFREEZE_QUIESCENCE_H

#include "../common/error.h"

#include <sys/types.h>

int pf_check_quiescent(pid_t pid, struct pf_error *error);

#endif
