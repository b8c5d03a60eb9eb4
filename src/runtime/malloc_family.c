/* The malloc family as the whole process sees it.  Until the dump every
 * block comes from the brk heap, so the frozen interpreter's memory is one
 * range.  In an image (mode switched by the dump's very last write, and read
 * back from the image's data segment before main) new blocks come from
 * glibc, and blocks of the frozen heap are never given back: freeing one
 * only marks it freed (so that a second free is caught, as on the brk heap
 * before the dump), reallocating one copies it out.  A double free that is
 * caught aborts with a message, as glibc's does. */
#define _GNU_SOURCE
#include "malloc_family.h"

#include "brk_heap.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

enum heap_mode {
    PF_HEAP_BRK = 0,   /* before the dump: everything on the brk heap */
    PF_HEAP_LIBC = 1,  /* in an image: new blocks from glibc */
};

static struct pf_heap brk_heap = {.grow = sbrk};
static volatile int heap_mode = PF_HEAP_BRK;
static int heap_lock;

/* Only threads a module starts before its refusal at the checkpoint (or a
 * pristine runtime run as python) contend here; a spin lock keeps the
 * allocator usable before libc is fully up. */
static void lock_heap(void)
{
    while (__atomic_exchange_n(&heap_lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void unlock_heap(void)
{
    __atomic_store_n(&heap_lock, 0, __ATOMIC_RELEASE);
}

void pf_malloc_use_libc(void)
{
    heap_mode = PF_HEAP_LIBC;
}

void pf_malloc_heap_range(uintptr_t *start, uintptr_t *end)
{
    *start = (uintptr_t)brk_heap.start;
    *end = (uintptr_t)brk_heap.top;
}

static int is_frozen(const void *ptr)
{
    return pf_heap_owns(&brk_heap, ptr);
}

/* As glibc does on a double free: say so and abort, without allocating. */
static _Noreturn void double_free(const void *ptr)
{
    char message[] = "pyfreeze: free(): double free of the brk-heap block at 0x0000000000000000\n";
    char *digit = message + sizeof message - 3;   /* the last hex digit, before "\n" */
    for (uintptr_t value = (uintptr_t)ptr; value != 0; value >>= 4)
        *digit-- = "0123456789abcdef"[value & 15];
    (void)!write(2, message, sizeof message - 1);
    abort();
}

static void *heap_alloc(size_t size, size_t align)
{
    lock_heap();
    void *ptr = pf_heap_alloc(&brk_heap, size, align);
    unlock_heap();
    if (ptr == NULL)
        errno = ENOMEM;
    return ptr;
}

void *malloc(size_t size)
{
    if (heap_mode == PF_HEAP_LIBC)
        return __libc_malloc(size);
    return heap_alloc(size, 0);
}

/* Blocks handed out from inside a block of the brk heap (module_zone.c),
 * which free() and realloc() must leave alone. */
static int (*kept_blocks)(const void *ptr);
static size_t (*kept_block_size)(const void *ptr);

void pf_malloc_keep_blocks_of(int (*owns)(const void *ptr), size_t (*size_of)(const void *ptr))
{
    kept_blocks = owns;
    kept_block_size = size_of;
}

static int kept(const void *ptr)
{
    return kept_blocks != NULL && kept_blocks(ptr);
}

void free(void *ptr)
{
    /* obmalloc hands the raw domain what it did not allocate */
    if (ptr == NULL || kept(ptr))
        return;
    if (heap_mode == PF_HEAP_LIBC) {
        if (!is_frozen(ptr))
            __libc_free(ptr);
        else if (pf_heap_retire(&brk_heap, ptr) == PF_FREE_DOUBLE)
            double_free(ptr);
        return;
    }
    lock_heap();
    enum pf_free_result result = pf_heap_free(&brk_heap, ptr);
    unlock_heap();
    if (result == PF_FREE_DOUBLE)
        double_free(ptr);
}

void *calloc(size_t count, size_t size)
{
    if (heap_mode == PF_HEAP_LIBC)
        return __libc_calloc(count, size);
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *ptr = heap_alloc(total, 0);
    if (ptr != NULL)
        memset(ptr, 0, total);
    return ptr;
}

static void *copy_out(void *ptr, size_t size, void *(*allocate)(size_t))
{
    void *fresh = allocate(size);
    if (fresh == NULL)
        return NULL;
    size_t old = pf_heap_usable_size(ptr);
    memcpy(fresh, ptr, old < size ? old : size);
    return fresh;
}

static void *heap_malloc(size_t size)
{
    return heap_alloc(size, 0);
}

void *realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return malloc(size);
    if (kept(ptr)) {
        /* copied out; the block itself is never reused */
        size_t old = kept_block_size(ptr);
        void *fresh = malloc(size);
        if (fresh != NULL)
            memcpy(fresh, ptr, old < size ? old : size);
        return fresh;
    }
    if (heap_mode == PF_HEAP_LIBC) {
        if (!is_frozen(ptr))
            return __libc_realloc(ptr, size);
        void *fresh = copy_out(ptr, size, __libc_malloc);
        if (fresh != NULL && pf_heap_retire(&brk_heap, ptr) == PF_FREE_DOUBLE)
            double_free(ptr);
        return fresh;
    }
    if (!is_frozen(ptr))
        return NULL;  /* never ours: nothing sane to copy from */
    if (size <= pf_heap_usable_size(ptr))
        return ptr;
    void *fresh = copy_out(ptr, size, heap_malloc);
    if (fresh != NULL)
        free(ptr);
    return fresh;
}

void *reallocarray(void *ptr, size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(ptr, total);
}

void *memalign(size_t align, size_t size)
{
    if (align == 0 || (align & (align - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    if (heap_mode == PF_HEAP_LIBC)
        return __libc_memalign(align, size);
    return heap_alloc(size, align);
}

void *aligned_alloc(size_t align, size_t size)
{
    return memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    int saved = errno;
    void *ptr = memalign(align, size);
    errno = saved;
    if (ptr == NULL)
        return ENOMEM;
    *out = ptr;
    return 0;
}

static size_t page_size(void)
{
    long size = sysconf(_SC_PAGESIZE);
    return size > 0 ? (size_t)size : 4096u;
}

void *valloc(size_t size)
{
    if (heap_mode == PF_HEAP_LIBC)
        return __libc_valloc(size);
    return memalign(page_size(), size);
}

void *pvalloc(size_t size)
{
    if (heap_mode == PF_HEAP_LIBC)
        return __libc_pvalloc(size);
    size_t page = page_size();
    if (size > SIZE_MAX - page) {
        errno = ENOMEM;
        return NULL;
    }
    return memalign(page, (size + page - 1) & ~(page - 1));
}

size_t malloc_usable_size(void *ptr)
{
    if (ptr == NULL)
        return 0;
    if (heap_mode == PF_HEAP_BRK || is_frozen(ptr))
        return pf_heap_usable_size(ptr);
    /* glibc keeps its own version of this one; find it behind ours. */
    static size_t (*libc_usable)(void *);
    if (libc_usable == NULL) {
        /* ISO C has no conversion from dlsym's void * to a function
         * pointer; POSIX guarantees both have one representation. */
        void *symbol = dlsym(RTLD_NEXT, "malloc_usable_size");
        _Static_assert(sizeof symbol == sizeof libc_usable, "function and object pointers differ in size");
        memcpy(&libc_usable, &symbol, sizeof libc_usable);
    }
    return libc_usable != NULL ? libc_usable(ptr) : 0;
}
