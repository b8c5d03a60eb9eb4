/* Unit tests for the brk-heap allocator (src/runtime/brk_heap.c).
 *
 * The allocator takes its growth function as a parameter, so every test
 * runs it over a static arena with sbrk(2) semantics instead of the real
 * program break; that keeps the tests deterministic and lets them make
 * growth fail on demand. */
#define _GNU_SOURCE
#include "runtime/brk_heap.h"
#include "check.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


/* --- a fake program break ------------------------------------------------ */

#define ARENA_SIZE ((size_t)16 << 20)
#define PAGE 4096u

static _Alignas(4096) unsigned char arena[ARENA_SIZE];

/* The region fake_grow hands out. */
static unsigned char *region = arena;
static size_t region_break;   /* offset of the fake break in region */
static size_t region_limit;   /* growth past this fails, like ENOMEM */

static void *fake_grow(intptr_t increment)
{
    if (increment < 0 ? (size_t)-increment > region_break
                      : (size_t)increment > region_limit - region_break)
        return (void *)-1;
    void *old_end = region + region_break;
    region_break += (size_t)increment;
    return old_end;
}

/* A heap whose break starts `start` bytes into the arena and cannot grow
 * past `limit` bytes into it. */
static void fresh_heap(struct pf_heap *heap, size_t start, size_t limit)
{
    region = arena;
    region_break = start;
    region_limit = limit;
    pf_heap_init(heap, fake_grow);
}

static int aligned(const void *ptr, size_t alignment)
{
    return ((uintptr_t)ptr & (alignment - 1)) == 0;
}

/* A block's usable bytes must lie inside what the heap carved so far;
 * anything past top belongs to no block. */
static int inside_heap(const struct pf_heap *heap, const void *ptr)
{
    const char *p = ptr;
    return p >= heap->start && p <= heap->top && pf_heap_usable_size(ptr) <= (size_t)(heap->top - p);
}

/* --- size classes -------------------------------------------------------- */

/* Checks one request size against the class rules; returns 0 on the first
 * failed rule so the caller can stop. */
static int check_class_of(size_t size, unsigned *previous)
{
    unsigned cls = pf_heap_class_of(size);
    size_t block = pf_heap_class_size(cls);
    if (!CHECK(cls >= 1 && cls < PF_HEAP_CLASSES, "size %zu -> class %u", size, cls) ||
        !CHECK(cls >= *previous, "size %zu -> class %u after class %u", size, cls, *previous) ||
        !CHECK(block >= size, "size %zu -> class %u of %zu bytes", size, cls, block) ||
        !CHECK(block >= 16, "size %zu -> class %u of %zu bytes, too small for a free-list link", size,
               cls, block))
        return 0;
    /* The class must be the tightest one that fits, or memory is wasted. */
    if (cls > 1 && !CHECK(pf_heap_class_size(cls - 1) < size,
                          "size %zu -> class %u though class %u (%zu bytes) fits", size, cls, cls - 1,
                          pf_heap_class_size(cls - 1)))
        return 0;
    if (size <= 1024) {
        if (!CHECK(block % 16 == 0 && block - size < 16 + (size == 0 ? 1 : 0),
                   "small size %zu -> %zu-byte block", size, block))
            return 0;
    } else if (!CHECK((block - size) * 4 <= size, "size %zu -> %zu-byte block wastes over 25%%", size,
                      block)) {
        return 0;
    }
    *previous = cls;
    return 1;
}

static void test_class_sizes(void)
{
    unsigned previous = 0;
    for (size_t size = 0; size <= (size_t)1 << 18; size++) {
        if (!check_class_of(size, &previous))
            break;
    }
    /* Sparse sweep of the big classes: around every power of two and its
     * quarter steps, where the rounding changes. */
    previous = 0;
    int ok = 1;
    for (unsigned power = 4; ok && power <= 42; power++) {
        for (unsigned quarter = 0; ok && quarter < 4; quarter++) {
            size_t base = ((size_t)1 << power) + quarter * ((size_t)1 << power >> 2);
            for (size_t delta = 0; ok && delta < 3; delta++)
                ok = check_class_of(base - 1 + delta, &previous);
        }
    }

    /* The largest class is the largest request the allocator serves. */
    size_t largest = pf_heap_class_size(PF_HEAP_CLASSES - 1);
    CHECK(pf_heap_class_of(largest) == PF_HEAP_CLASSES - 1, "largest class size %zu -> class %u", largest,
          pf_heap_class_of(largest));
    CHECK(pf_heap_class_of(largest + 1) >= PF_HEAP_CLASSES, "%zu bytes -> class %u", largest + 1,
          pf_heap_class_of(largest + 1));

    for (unsigned cls = 1; cls < PF_HEAP_CLASSES; cls++) {
        if (!CHECK(pf_heap_class_of(pf_heap_class_size(cls)) == cls, "class %u (%zu bytes) maps to %u",
                   cls, pf_heap_class_size(cls), pf_heap_class_of(pf_heap_class_size(cls))))
            break;
        if (cls > 1 && !CHECK(pf_heap_class_size(cls) > pf_heap_class_size(cls - 1),
                              "class %u is not larger than class %u", cls, cls - 1))
            break;
    }

    /* Fixed points from the documented rule: 16-byte steps to 1 KiB, then
     * quarters of the power of two. */
    static const size_t fixed[][2] = {
        {0, 16}, {1, 16}, {17, 32}, {1024, 1024}, {1025, 1280}, {2049, 2560}, {3 << 20, 3 << 20},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        size_t got = pf_heap_class_size(pf_heap_class_of(fixed[i][0]));
        CHECK(got == fixed[i][1], "%zu bytes -> %zu-byte class, expected %zu", fixed[i][0], got, fixed[i][1]);
    }
}

/* --- alignment and usable size ------------------------------------------- */

static void test_default_alignment(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    for (size_t size = 0; size <= 3000; size += size < 64 ? 1 : 37) {
        unsigned char *p = pf_heap_alloc(&heap, size, 0);
        if (!CHECK(p != NULL, "alloc(%zu) failed", size) ||
            !CHECK(aligned(p, 16), "alloc(%zu) = %p is not 16-byte aligned", size, (void *)p) ||
            !CHECK(pf_heap_usable_size(p) >= size, "alloc(%zu) has %zu usable bytes", size,
                   pf_heap_usable_size(p)) ||
            !CHECK(inside_heap(&heap, p), "alloc(%zu) usable bytes run past the heap top", size) ||
            !CHECK(pf_heap_owns(&heap, p), "heap does not own its block of %zu bytes", size))
            break;
        memset(p, 0xa5, pf_heap_usable_size(p));
    }
    /* Alignments below 16 still get 16: callers rely on max_align_t. */
    size_t small_aligns[] = {1, 2, 4, 8};
    for (size_t i = 0; i < sizeof small_aligns / sizeof *small_aligns; i++) {
        void *p = pf_heap_alloc(&heap, 24, small_aligns[i]);
        CHECK(p != NULL && aligned(p, 16), "alloc(24, align %zu) = %p", small_aligns[i], p);
        CHECK(p != NULL && pf_heap_usable_size(p) >= 24, "alloc(24, align %zu) has %zu usable bytes",
              small_aligns[i], p ? pf_heap_usable_size(p) : 0);
    }
}

static void test_over_alignment(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    size_t aligns[] = {32, 64, 128, 4096, 65536};
    size_t sizes[] = {0, 1, 16, 100, 1000, 5000, 70000};
    unsigned char *blocks[sizeof aligns / sizeof *aligns][sizeof sizes / sizeof *sizes];
    for (size_t a = 0; a < sizeof aligns / sizeof *aligns; a++) {
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            /* A default block in between makes the next raw block start
             * unaligned, so the aligned payload really is offset. */
            CHECK(pf_heap_alloc(&heap, 16, 0) != NULL, "filler allocation failed");
            unsigned char *p = pf_heap_alloc(&heap, sizes[s], aligns[a]);
            blocks[a][s] = p;
            if (!CHECK(p != NULL, "alloc(%zu, align %zu) failed", sizes[s], aligns[a]))
                return;
            CHECK(aligned(p, aligns[a]), "alloc(%zu, align %zu) = %p", sizes[s], aligns[a], (void *)p);
            CHECK(pf_heap_usable_size(p) >= sizes[s], "alloc(%zu, align %zu) has %zu usable bytes",
                  sizes[s], aligns[a], pf_heap_usable_size(p));
            CHECK(inside_heap(&heap, p), "alloc(%zu, align %zu) usable bytes run past the heap top",
                  sizes[s], aligns[a]);
            CHECK(pf_heap_owns(&heap, p), "heap does not own alloc(%zu, align %zu)", sizes[s], aligns[a]);
            memset(p, (int)(a * 16 + s + 1), pf_heap_usable_size(p));
        }
    }
    /* Filling each block's whole usable size must not have touched any
     * other block. */
    for (size_t a = 0; a < sizeof aligns / sizeof *aligns; a++) {
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            unsigned char *p = blocks[a][s];
            size_t usable = pf_heap_usable_size(p), bad = usable;
            for (size_t i = 0; i < usable && bad == usable; i++)
                if (p[i] != (unsigned char)(a * 16 + s + 1))
                    bad = i;
            CHECK(bad == usable, "block align %zu size %zu overwritten at byte %zu", aligns[a], sizes[s], bad);
        }
    }
    CHECK(pf_heap_alloc(&heap, 10, 48) == NULL, "a non-power-of-two alignment was accepted");
    CHECK(pf_heap_alloc(&heap, 10, 4097) == NULL, "a non-power-of-two alignment was accepted");
}

/* --- reuse ---------------------------------------------------------------- */

static void test_reuse(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    void *a = pf_heap_alloc(&heap, 100, 0);
    void *b = pf_heap_alloc(&heap, 100, 0);
    char *top = heap.top;
    pf_heap_free(&heap, a);
    void *again = pf_heap_alloc(&heap, 100, 0);
    CHECK(again == a, "free then alloc of the same size gave %p, not %p", again, a);
    CHECK(heap.top == top, "reuse grew the heap by %td bytes", heap.top - top);

    /* Any size of the same class reuses the block. */
    pf_heap_free(&heap, a);
    void *same_class = pf_heap_alloc(&heap, 97, 0);
    CHECK(same_class == a, "alloc(97) after freeing alloc(100) gave %p, not %p", same_class, a);

    /* Another class does not. */
    pf_heap_free(&heap, a);
    void *other = pf_heap_alloc(&heap, 2000, 0);
    CHECK(other != a && other != NULL, "alloc(2000) got the freed 112-byte block %p", other);
    void *back = pf_heap_alloc(&heap, 100, 0);
    CHECK(back == a, "the freed block was lost: got %p, not %p", back, a);

    /* Free lists are LIFO: the block freed last is hot in the cache. */
    pf_heap_free(&heap, a);
    pf_heap_free(&heap, b);
    void *first = pf_heap_alloc(&heap, 100, 0);
    void *second = pf_heap_alloc(&heap, 100, 0);
    CHECK(first == b && second == a, "got %p then %p, expected %p then %p", first, second, b, a);

    pf_heap_free(&heap, NULL);   /* must be a no-op */
    void *fresh = pf_heap_alloc(&heap, 100, 0);
    CHECK(fresh != NULL && fresh != a && fresh != b, "free(NULL) put something on a free list: got %p", fresh);
}

static void test_aligned_reuse(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    CHECK(pf_heap_alloc(&heap, 16, 0) != NULL, "filler allocation failed");
    unsigned char *p = pf_heap_alloc(&heap, 100, 4096);
    CHECK(p != NULL && aligned(p, 4096), "alloc(100, 4096) = %p", (void *)p);
    unsigned char *guard = pf_heap_alloc(&heap, 64, 0);
    memset(guard, 0x5a, 64);
    memset(p, 0x11, 100);
    char *top = heap.top;

    pf_heap_free(&heap, p);
    unsigned char *q = pf_heap_alloc(&heap, 100, 4096);
    CHECK(q != NULL && aligned(q, 4096), "aligned realloc after free = %p", (void *)q);
    CHECK(heap.top == top, "re-allocating a freed aligned block grew the heap by %td", heap.top - top);
    CHECK(q != NULL && pf_heap_usable_size(q) >= 100, "reused aligned block has %zu usable bytes",
          q ? pf_heap_usable_size(q) : 0);

    /* Freed again, the raw block must come back whole to a default-aligned
     * request of its class: its header has to describe the raw block, not
     * the aligned payload inside it. */
    pf_heap_free(&heap, q);
    unsigned cls = pf_heap_class_of(100 + 4096 - 16);
    size_t block = pf_heap_class_size(cls);
    unsigned char *raw = pf_heap_alloc(&heap, block, 0);
    CHECK(raw != NULL && heap.top == top, "the raw block of a freed aligned block was not reused");
    CHECK(raw != NULL && pf_heap_usable_size(raw) == block, "reused raw block has %zu usable bytes, not %zu",
          raw ? pf_heap_usable_size(raw) : 0, block);
    CHECK(raw != NULL && inside_heap(&heap, raw), "reused raw block runs past the heap top");
    if (raw != NULL)
        memset(raw, 0x22, block);
    int guard_ok = 1;
    for (int i = 0; i < 64; i++)
        guard_ok &= guard[i] == 0x5a;
    CHECK(guard_ok, "filling the reused raw block overwrote the next block");

    /* And once more with an alignment: header bookkeeping survives two
     * round trips. */
    pf_heap_free(&heap, raw);
    unsigned char *r = pf_heap_alloc(&heap, block - 48, 64);
    CHECK(r != NULL && aligned(r, 64) && heap.top == top, "align-64 reuse of a class-%u block = %p", cls,
          (void *)r);
}

/* --- ownership ------------------------------------------------------------ */

static void test_owns(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    int local = 0;
    static int in_data;
    CHECK(!pf_heap_owns(&heap, arena + 16), "an empty heap claims to own %p", (void *)(arena + 16));

    void *live = pf_heap_alloc(&heap, 40, 0);
    void *aligned_live = pf_heap_alloc(&heap, 40, 256);
    CHECK(pf_heap_owns(&heap, live), "live block %p not owned", live);
    CHECK(pf_heap_owns(&heap, aligned_live), "live aligned block %p not owned", aligned_live);
    CHECK(!pf_heap_owns(&heap, &local), "a stack address is owned");
    CHECK(!pf_heap_owns(&heap, &in_data), "a static variable is owned");
    CHECK(!pf_heap_owns(&heap, NULL), "NULL is owned");
    CHECK(!pf_heap_owns(&heap, heap.top), "the heap top is owned");
    CHECK(!pf_heap_owns(&heap, arena + ARENA_SIZE - 16), "arena memory past the top is owned");

    /* Freeing memory that is not ours must change nothing, even when the
     * bytes before it look like one of our block headers. */
    static _Alignas(16) uint64_t lookalike[8] = {5, 80};   /* cls 5, offset 0, usable 80 */
    uint64_t *past_top = (uint64_t *)(void *)(arena + ARENA_SIZE - PAGE);
    past_top[0] = 5, past_top[1] = 80;
    void *malloced = malloc(40);
    struct pf_heap before = heap;
    pf_heap_free(&heap, &local);
    pf_heap_free(&heap, malloced);
    pf_heap_free(&heap, heap.top);
    pf_heap_free(&heap, &lookalike[2]);
    pf_heap_free(&heap, &past_top[2]);
    CHECK(memcmp(&before, &heap, sizeof heap) == 0, "freeing foreign pointers changed the heap");
    free(malloced);
    void *next = pf_heap_alloc(&heap, 40, 0);
    CHECK(next != NULL && next != (void *)&local && pf_heap_owns(&heap, next),
          "alloc after foreign frees returned %p", next);
}

/* --- growth ------------------------------------------------------------- */

static void test_grow_failure(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, 1u << 20);
    CHECK(pf_heap_alloc(&heap, 2u << 20, 0) == NULL, "a 2 MiB block came out of a 1 MiB arena");
    void *small = pf_heap_alloc(&heap, 64, 0);
    CHECK(small != NULL, "a failed growth broke later small allocations");

    /* Use up the region: eventually NULL, never a block past the limit. */
    void *last = NULL;
    size_t count = 0;
    for (; count < 100000; count++) {
        void *p = pf_heap_alloc(&heap, 4000, 0);
        if (p == NULL)
            break;
        last = p;
    }
    CHECK(count < 100000, "allocation never failed in a 1 MiB arena");
    CHECK(last != NULL && (unsigned char *)last + 4000 <= arena + (1u << 20),
          "a block reaches past the arena limit");
    CHECK(region_break <= (1u << 20), "the fake break moved past its limit");

    fresh_heap(&heap, 0, 0);
    CHECK(pf_heap_alloc(&heap, 1, 0) == NULL, "alloc succeeded though grow always fails");

    /* Someone else moving the break must not make the heap jump over
     * their memory: the heap region has to stay contiguous. */
    fresh_heap(&heap, 0, ARENA_SIZE);
    CHECK(pf_heap_alloc(&heap, 16, 0) != NULL, "first allocation failed");
    region_break += PAGE;
    CHECK(pf_heap_alloc(&heap, 512u << 10, 0) == NULL, "the heap grew over a foreign sbrk");
}

static void test_overflow(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    CHECK(pf_heap_alloc(&heap, 16, 0) != NULL, "first allocation failed");
    char *top = heap.top;
    size_t sizes[] = {SIZE_MAX, SIZE_MAX - 8, SIZE_MAX - 15, SIZE_MAX / 2 + 1, (size_t)1 << 47};
    size_t aligns[] = {0, 16, 64, 4096};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t a = 0; a < sizeof aligns / sizeof *aligns; a++)
            CHECK(pf_heap_alloc(&heap, sizes[s], aligns[a]) == NULL, "alloc(%#zx, align %zu) succeeded",
                  sizes[s], aligns[a]);
    CHECK(heap.top == top, "overflowing requests consumed %td bytes", heap.top - top);
}

static void test_page_aligned_start(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 100, ARENA_SIZE);   /* break starts off a page boundary */
    unsigned char *p = pf_heap_alloc(&heap, 32, 0);
    CHECK(aligned(heap.start, PAGE), "heap starts at %p", (void *)heap.start);
    CHECK((unsigned char *)heap.start == arena + PAGE, "heap starts at %p, not the next page %p",
          (void *)heap.start, (void *)(arena + PAGE));
    CHECK(p == (unsigned char *)heap.start + 16, "first block %p is not right after its header", (void *)p);

    fresh_heap(&heap, 2 * PAGE, ARENA_SIZE);   /* already aligned: no padding */
    p = pf_heap_alloc(&heap, 32, 0);
    CHECK((unsigned char *)heap.start == arena + 2 * PAGE, "aligned break padded to %p", (void *)heap.start);
}

/* --- random cycles -------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

struct live_block {
    unsigned char *ptr;
    size_t size;
    unsigned char seed;
};

static unsigned char pattern(unsigned char seed, size_t index)
{
    return (unsigned char)(seed + index * 31 + (index >> 8));
}

static size_t random_size(void)
{
    uint64_t pick = next_random() % 100;
    if (pick < 70)
        return next_random() % 257;
    if (pick < 97)
        return next_random() % 4097;
    return next_random() % 40001;
}

static size_t random_align(void)
{
    static const size_t choices[] = {0, 0, 0, 0, 0, 16, 32, 64, 256, 4096};
    return choices[next_random() % (sizeof choices / sizeof *choices)];
}

/* Returns the index of the first byte that lost its pattern, or the size. */
static size_t first_damaged(const struct live_block *block)
{
    for (size_t i = 0; i < block->size; i++)
        if (block->ptr[i] != pattern(block->seed, i))
            return i;
    return block->size;
}

static int random_step(struct pf_heap *heap, struct live_block *slot, unsigned step)
{
    if (slot->ptr != NULL) {
        size_t bad = first_damaged(slot);
        if (!CHECK(bad == slot->size, "step %u: %zu-byte block %p damaged at byte %zu", step, slot->size,
                   (void *)slot->ptr, bad))
            return 0;
        pf_heap_free(heap, slot->ptr);
        slot->ptr = NULL;
        return 1;
    }
    size_t size = random_size(), align = random_align();
    unsigned char *p = pf_heap_alloc(heap, size, align);
    if (!CHECK(p != NULL, "step %u: alloc(%zu, %zu) failed", step, size, align) ||
        !CHECK(aligned(p, align ? align : 16), "step %u: alloc(%zu, %zu) = %p", step, size, align, (void *)p) ||
        !CHECK(pf_heap_usable_size(p) >= size, "step %u: alloc(%zu) has %zu usable", step, size,
               pf_heap_usable_size(p)) ||
        !CHECK(inside_heap(heap, p), "step %u: alloc(%zu, %zu) runs past the heap top", step, size, align))
        return 0;
    /* Fill all usable bytes, not just the request, so a usable size that
     * overstates the block shows up as damage to a neighbour. */
    slot->ptr = p;
    slot->size = pf_heap_usable_size(p);
    slot->seed = (unsigned char)next_random();
    for (size_t i = 0; i < slot->size; i++)
        p[i] = pattern(slot->seed, i);
    return 1;
}

static void test_random_cycles(void)
{
    enum { SLOTS = 400, STEPS = 60000 };
    static struct live_block slots[SLOTS];
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    memset(slots, 0, sizeof slots);
    int ok = 1;
    for (unsigned step = 0; ok && step < STEPS; step++)
        ok = random_step(&heap, &slots[next_random() % SLOTS], step);
    for (unsigned i = 0; ok && i < SLOTS; i++) {
        if (slots[i].ptr == NULL)
            continue;
        size_t bad = first_damaged(&slots[i]);
        ok = CHECK(bad == slots[i].size, "final sweep: block %u damaged at byte %zu", i, bad);
        pf_heap_free(&heap, slots[i].ptr);
    }
}

/* --- regressions ------------------------------------------------------- */

/* An alignment above 2^46 once made the overflow guard wrap, so a size
 * close to SIZE_MAX passed it and `size + slack` wrapped to a tiny class.
 * Run in a child because the old symptom was a crash. */
static void test_huge_alignment_refused(void)
{
    size_t align = (size_t)1 << 47;
    size_t size = SIZE_MAX - align + 17;   /* size + (align - 16) == 2^64 */
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        struct pf_heap heap;
        fresh_heap(&heap, 0, ARENA_SIZE);
        _exit(pf_heap_alloc(&heap, size, align) == NULL ? 0 : 1);
    }
    int status = 0;
    CHECK(child > 0 && waitpid(child, &status, 0) == child, "fork/wait failed");
    int died = WIFSIGNALED(status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "alloc(%#zx, align %#zx) should return NULL; child %s %d",
          size, align, died ? "died of signal" : "exited with", died ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* pf_heap_alloc(heap, 0, align > 16) once picked the class of `slack`
 * bytes, so the aligned payload could be the block's end (heap->top),
 * which pf_heap_owns() rejects: free leaked it, and in the runtime
 * realloc() returned NULL for it. */
static void test_zero_size_aligned_inside_block(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    /* The first raw payload is start + 16, so align 32 needs all 16 bytes
     * of slack. */
    void *p = pf_heap_alloc(&heap, 0, 32);
    CHECK(p != NULL && pf_heap_owns(&heap, p), "alloc(0, 32) = %p is not owned (heap top %p)", p,
          (void *)heap.top);
    char *top = heap.top;
    pf_heap_free(&heap, p);
    void *again = pf_heap_alloc(&heap, 0, 32);
    CHECK(again == p && heap.top == top, "freed alloc(0, 32) was leaked: got %p, heap grew by %td", again,
          heap.top - top);
}

/* Alignments above 1 GiB are refused: a 32-bit header offset could not
 * lead back from such a payload to its block. */
static void test_alignment_limit(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    CHECK(pf_heap_alloc(&heap, 16, (size_t)1 << 31) == NULL, "alloc(16, 2^31) should be refused");
    CHECK(pf_heap_alloc(&heap, 16, (size_t)1 << 33) == NULL, "alloc(16, 2^33) should be refused");
    void *p = pf_heap_alloc(&heap, 16, 4096);
    CHECK(p != NULL && aligned(p, 4096), "alloc(16, 4096) after refusals = %p", p);
}

/* --- double frees ---------------------------------------------------------- */

static void test_double_free_detected(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    void *a = pf_heap_alloc(&heap, 100, 0);
    void *b = pf_heap_alloc(&heap, 100, 0);
    CHECK(pf_heap_free(&heap, a) == PF_FREE_DONE, "first free of a");
    CHECK(pf_heap_free(&heap, a) == PF_FREE_DOUBLE, "second free of a not caught");
    /* The caught double free left the free list as it was: a comes back
     * once, then fresh memory. */
    void *again = pf_heap_alloc(&heap, 100, 0);
    void *next = pf_heap_alloc(&heap, 100, 0);
    CHECK(again == a && next != a && next != b, "after a double free: %p then %p (a %p)", again, next, a);
    /* Reused, the block is live again: freeing it is no double free. */
    CHECK(pf_heap_free(&heap, again) == PF_FREE_DONE, "free of a reused block called a double free");
    CHECK(pf_heap_free(&heap, NULL) == PF_FREE_NOT_OURS, "free(NULL)");
    int local;
    CHECK(pf_heap_free(&heap, &local) == PF_FREE_NOT_OURS, "free of a stack address");
}

static void test_double_free_of_aligned_blocks(void)
{
    /* Offset 16 puts the payload's header at the very start of the raw
     * block, where the free-list link must not overwrite its mark. */
    size_t alignments[] = {32, 64, 256, 4096};
    for (size_t i = 0; i < sizeof alignments / sizeof *alignments; i++) {
        struct pf_heap heap;
        fresh_heap(&heap, 0, ARENA_SIZE);
        for (size_t filler = 0; filler < 8; filler++) {
            unsigned char *p = pf_heap_alloc(&heap, 40, alignments[i]);
            CHECK(p != NULL && aligned(p, alignments[i]), "alloc(40, %zu)", alignments[i]);
            CHECK(pf_heap_free(&heap, p) == PF_FREE_DONE, "first free, align %zu", alignments[i]);
            CHECK(pf_heap_free(&heap, p) == PF_FREE_DOUBLE, "double free not caught, align %zu, offset %zu",
                  alignments[i], filler);
            CHECK(pf_heap_alloc(&heap, 16, 0) != NULL, "filler");   /* shifts the next raw block */
        }
    }
}

static void test_retire(void)
{
    struct pf_heap heap;
    fresh_heap(&heap, 0, ARENA_SIZE);
    unsigned char *a = pf_heap_alloc(&heap, 200, 0);
    unsigned char *b = pf_heap_alloc(&heap, 200, 64);
    memset(a, 0x33, 200);
    char *top = heap.top;
    CHECK(pf_heap_retire(&heap, a) == PF_FREE_DONE, "retire a");
    CHECK(pf_heap_retire(&heap, b) == PF_FREE_DONE, "retire b");
    int intact = 1;
    for (int i = 0; i < 200; i++)
        intact &= a[i] == 0x33;
    CHECK(intact, "retiring a block changed its bytes");
    CHECK(pf_heap_usable_size(a) >= 200, "a retired block keeps its size");
    CHECK(pf_heap_retire(&heap, a) == PF_FREE_DOUBLE, "retiring twice not caught");
    CHECK(pf_heap_free(&heap, b) == PF_FREE_DOUBLE, "freeing a retired block not caught");
    void *c = pf_heap_alloc(&heap, 200, 0);
    CHECK(c != a && heap.top > top, "a retired block was handed out again");
}

int main(void)
{
    test_class_sizes();
    test_default_alignment();
    test_over_alignment();
    test_reuse();
    test_aligned_reuse();
    test_owns();
    test_grow_failure();
    test_overflow();
    test_page_aligned_start();
    test_random_cycles();
    test_huge_alignment_refused();
    test_zero_size_aligned_inside_block();
    test_alignment_limit();
    test_double_free_detected();
    test_double_free_of_aligned_blocks();
    test_retire();
    printf("test_brk_heap: %u checks, %u failed\n", checks_run, checks_failed);
    return checks_failed ? 1 : 0;
}
