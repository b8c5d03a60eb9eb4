/* Process state an image cannot carry, checked by the dump child itself
 * just before the checkpoint (the tracer checks threads and descriptors). */
#ifndef PYFREEZE_PROCESS_STATE_H
#define PYFREEZE_PROCESS_STATE_H

#include <stddef.h>

/* Remembers the memory mappings present before Python starts. */
void pf_state_remember_mappings(void);

/* Describes the first thing that cannot be frozen (a live child process,
 * an armed interval timer, a memory mapping made since start-up) into
 * `why`; returns 0 when there is none. */
int pf_state_refusal(char *why, size_t size);

/* Describes the first memory mapping made since start-up that an image
 * cannot carry into `what`; returns 0 when there is none.  The dump asks
 * after each module it imports, to name the module that made it. */
int pf_state_new_mapping(char *what, size_t size);

#endif
