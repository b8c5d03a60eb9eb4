#define _GNU_SOURCE
#include "brk_heap.h"

#include <string.h>

/* Every block starts with this header, 16 bytes so payloads stay 16-byte
 * aligned.  For over-aligned requests the header sits just before the
 * aligned payload and `offset` leads back to the block it was carved from. */
struct block_header {
    uint32_t cls;
    uint32_t offset;   /* payload - (raw block payload), for aligned blocks */
    uint64_t usable;   /* bytes the caller may use from the payload */
};

#define HEADER_SIZE sizeof(struct block_header)
/* `offset` of a block that was freed: no live block has it, since offsets
 * stay below MAX_ALIGN.  A second free of the same pointer finds it. */
#define FREED_MARK UINT32_MAX
/* Where a free block keeps the link to the next free block of its class:
 * past the first 8 bytes, so that the header of an aligned payload sitting
 * at the very start of the block (offset 16) keeps its mark. */
#define LINK_OFFSET 8
#define MIN_ALIGN 16u
#define SMALL_LIMIT 1024u            /* classes step by 16 up to here */
#define SMALL_CLASSES (SMALL_LIMIT / MIN_ALIGN)
#define GROW_QUANTUM ((size_t)256 * 1024)
/* Bounds that keep size + slack from wrapping and offsets within 32 bits. */
#define MAX_ALIGN ((size_t)1 << 30)
#define MAX_REQUEST ((size_t)1 << 46)

_Static_assert(sizeof(struct block_header) == 16, "header must keep alignment");

static struct block_header *header_of(const void *payload)
{
    return (struct block_header *)((char *)payload - HEADER_SIZE);
}

static unsigned floor_log2(size_t value)
{
    return (unsigned)(63 - __builtin_clzll((unsigned long long)value));
}

/* Small sizes round up to 16 bytes; larger ones to a quarter of their power
 * of two, so no block wastes more than a quarter of itself. */
unsigned pf_heap_class_of(size_t size)
{
    if (size <= SMALL_LIMIT)
        return size == 0 ? 1 : (unsigned)((size + MIN_ALIGN - 1) / MIN_ALIGN);
    unsigned power = floor_log2(size - 1);
    size_t step = (size_t)1 << (power - 2);
    size_t quarters = (size - ((size_t)1 << power) + step - 1) / step;
    return SMALL_CLASSES + (power - 10) * 4 + (unsigned)quarters;
}

size_t pf_heap_class_size(unsigned cls)
{
    if (cls <= SMALL_CLASSES)
        return (size_t)cls * MIN_ALIGN;
    unsigned rest = cls - SMALL_CLASSES - 1;
    unsigned power = 10 + rest / 4;
    size_t step = (size_t)1 << (power - 2);
    return ((size_t)1 << power) + (rest % 4 + 1) * step;
}

void pf_heap_init(struct pf_heap *heap, pf_grow_fn grow)
{
    memset(heap, 0, sizeof *heap);
    heap->grow = grow;
}

static int heap_reserve(struct pf_heap *heap, size_t bytes)
{
    if (heap->start == NULL) {
        char *base = heap->grow(0);
        if (base == (void *)-1)
            return -1;
        /* Start page-aligned so the frozen heap maps cleanly as a segment. */
        size_t pad = (size_t)(-(uintptr_t)base & 4095u);
        if (pad && heap->grow((intptr_t)pad) == (void *)-1)
            return -1;
        heap->start = heap->top = heap->end = base + pad;
    }
    if ((size_t)(heap->end - heap->top) >= bytes)
        return 0;
    size_t need = bytes - (size_t)(heap->end - heap->top);
    size_t grow_by = need < GROW_QUANTUM ? GROW_QUANTUM : (need + 4095u) & ~(size_t)4095u;
    if (grow_by > (size_t)INTPTR_MAX)
        return -1;
    char *old_end = heap->grow((intptr_t)grow_by);
    if (old_end == (void *)-1 || old_end != heap->end)
        return -1;   /* someone else moved the break: the region must stay contiguous */
    heap->end += grow_by;
    return 0;
}

static void *carve_block(struct pf_heap *heap, unsigned cls)
{
    char *recycled = heap->free_list[cls];
    if (recycled != NULL) {
        memcpy(&heap->free_list[cls], recycled + LINK_OFFSET, sizeof(void *));
        return recycled;
    }
    size_t bytes = HEADER_SIZE + pf_heap_class_size(cls);
    if (heap_reserve(heap, bytes) < 0)
        return NULL;
    char *payload = heap->top + HEADER_SIZE;
    heap->top += bytes;
    return payload;
}

void *pf_heap_alloc(struct pf_heap *heap, size_t size, size_t align)
{
    if (align < MIN_ALIGN)
        align = MIN_ALIGN;
    if ((align & (align - 1)) != 0 || align > MAX_ALIGN)
        return NULL;
    size_t slack = align - MIN_ALIGN;
    if (size > MAX_REQUEST)
        return NULL;
    if (size == 0)
        size = 1;   /* an aligned payload must still lie inside its block */
    unsigned cls = pf_heap_class_of(size + slack);
    if (cls >= PF_HEAP_CLASSES)
        return NULL;
    char *raw = carve_block(heap, cls);
    if (raw == NULL)
        return NULL;
    char *payload = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    header_of(raw)->offset = 0;   /* no longer marked freed */
    struct block_header *header = header_of(payload);
    header->cls = cls;
    header->offset = (uint32_t)(payload - raw);
    header->usable = pf_heap_class_size(cls) - header->offset;
    return payload;
}

/* The checks both kinds of free make: the block is ours, its header is
 * sane, and it was not freed before. */
static enum pf_free_result check_free(const struct pf_heap *heap, const void *ptr)
{
    if (ptr == NULL || !pf_heap_owns(heap, ptr))
        return PF_FREE_NOT_OURS;
    const struct block_header *header = header_of(ptr);
    if (header->offset == FREED_MARK)
        return PF_FREE_DOUBLE;
    const char *raw = (const char *)ptr - header->offset;
    if (header->cls == 0 || header->cls >= PF_HEAP_CLASSES || header->offset >= MAX_ALIGN ||
        raw < heap->start + HEADER_SIZE)
        return PF_FREE_NOT_OURS;   /* not a block header: leaking beats corrupting */
    return PF_FREE_DONE;
}

enum pf_free_result pf_heap_free(struct pf_heap *heap, void *ptr)
{
    enum pf_free_result result = check_free(heap, ptr);
    if (result != PF_FREE_DONE)
        return result;
    struct block_header *header = header_of(ptr);
    unsigned cls = header->cls;
    char *raw = (char *)ptr - header->offset;
    /* Freed bytes are in the heap an image is made from: wiped, a freed
     * block carries nothing of the freeze's process (its environment, its
     * random bytes), and two freezes give the same image. */
    memset(raw, 0, pf_heap_class_size(cls));
    /* The raw block's own header must describe it when it is reused. */
    struct block_header *raw_header = header_of(raw);
    raw_header->cls = cls;
    raw_header->usable = pf_heap_class_size(cls);
    raw_header->offset = FREED_MARK;
    header->offset = FREED_MARK;   /* the payload's header, when it is another */
    memcpy(raw + LINK_OFFSET, &heap->free_list[cls], sizeof(void *));
    heap->free_list[cls] = raw;
    return PF_FREE_DONE;
}

enum pf_free_result pf_heap_retire(const struct pf_heap *heap, void *ptr)
{
    enum pf_free_result result = check_free(heap, ptr);
    if (result == PF_FREE_DONE)
        header_of(ptr)->offset = FREED_MARK;
    return result;
}

size_t pf_heap_usable_size(const void *ptr)
{
    return ptr == NULL ? 0 : (size_t)header_of(ptr)->usable;
}

int pf_heap_owns(const struct pf_heap *heap, const void *ptr)
{
    const char *p = ptr;
    return heap->start != NULL && p >= heap->start + HEADER_SIZE && p < heap->top;
}
