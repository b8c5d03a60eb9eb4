#ifndef PYFREEZE_MALLOC_FAMILY_H
#define PYFREEZE_MALLOC_FAMILY_H

#include <stddef.h>
#include <stdint.h>

/* Switches new allocations to glibc for good.  In the dump child this is
 * the last write before the checkpoint stop. */
void pf_malloc_use_libc(void);

/* The brk heap's extent: what an image must carry. */
void pf_malloc_heap_range(uintptr_t *start, uintptr_t *end);

/* Makes free() and realloc() leave alone the blocks OWNS says are
 * another allocator's, carved out of brk-heap blocks (module_zone.c): a
 * free of one is ignored, a realloc copies the SIZE_OF(ptr) bytes it
 * holds (or fewer) into a new block. */
void pf_malloc_keep_blocks_of(int (*owns)(const void *ptr), size_t (*size_of)(const void *ptr));

#endif
