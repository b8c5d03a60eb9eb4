/* A size-class allocator over one contiguous, growing region.  In the
 * runtime the region is the program break, so everything the interpreter
 * allocates before the dump sits in one range the tracer can copy into the
 * image.  The growth function is a parameter so unit tests can run the
 * allocator on a plain buffer. */
#ifndef PYFREEZE_BRK_HEAP_H
#define PYFREEZE_BRK_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define PF_HEAP_CLASSES 200

/* Extends the region by `increment` bytes and returns the old end, or
 * (void *)-1 on failure: the contract of sbrk(2). */
typedef void *(*pf_grow_fn)(intptr_t increment);

struct pf_heap {
    pf_grow_fn grow;
    char *start;    /* first byte ever handed out by grow */
    char *top;      /* next unused byte */
    char *end;      /* end of the region obtained so far */
    void *free_list[PF_HEAP_CLASSES];
};

void pf_heap_init(struct pf_heap *heap, pf_grow_fn grow);

/* `align` is a power of two up to 1 GiB; 0 means the default of 16.
 * Returns NULL (and leaves errno to the caller) for a bad alignment, a
 * size over 64 TiB, or when grow fails. */
void *pf_heap_alloc(struct pf_heap *heap, size_t size, size_t align);

enum pf_free_result {
    PF_FREE_DONE = 0,       /* the block is free (or retired) now */
    PF_FREE_DOUBLE = 1,     /* it was freed before: the caller's bug */
    PF_FREE_NOT_OURS = 2,   /* NULL, outside the heap, or no block header */
};

/* Puts the block on its class's free list for reuse.  A block freed twice
 * is caught as long as its memory was not handed out again in between. */
enum pf_free_result pf_heap_free(struct pf_heap *heap, void *ptr);

/* Marks the block freed without reusing it: for the frozen heap of an
 * image, whose blocks are never handed out again.  A second free (or
 * retire) of it is caught. */
enum pf_free_result pf_heap_retire(const struct pf_heap *heap, void *ptr);

/* Bytes usable at `ptr`, which must come from pf_heap_alloc. */
size_t pf_heap_usable_size(const void *ptr);

int pf_heap_owns(const struct pf_heap *heap, const void *ptr);

/* Exposed for tests: the class a request falls into and its block size. */
unsigned pf_heap_class_of(size_t size);
size_t pf_heap_class_size(unsigned cls);

#endif
