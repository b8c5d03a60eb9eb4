#ifndef PYFREEZE_CHILD_MEMORY_H
#define PYFREEZE_CHILD_MEMORY_H

#include "../common/error.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Copies [address, address + size) of the stopped child into `buffer`,
 * however many partial transfers it takes. */
int pf_child_read(pid_t pid, uint64_t address, void *buffer, size_t size, struct pf_error *error);

/* Copies the NUL-terminated string at `address` (at most size - 1 bytes). */
int pf_child_read_string(pid_t pid, uint64_t address, char *buffer, size_t size, struct pf_error *error);

#endif
