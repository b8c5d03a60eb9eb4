/* Unit tests for src/runtime/malloc_family.c, the malloc family the
 * runtime interposes.  Linked in, it is this program's allocator too, as it
 * is the runtime's: first on the brk heap (as before a dump), then, after
 * pf_malloc_use_libc(), on glibc with the brk blocks frozen (as in an
 * image).  Double frees are tried in forked children, which must abort
 * with the allocator's message.
 *
 * Not built with sanitizers: AddressSanitizer brings its own malloc.  Built
 * with -fno-builtin, so that the compiler neither removes a malloc/free pair
 * nor reasons about the deliberate misuse below; sizes that overflow go
 * through `opaque` for the same reason. */
#define _GNU_SOURCE
#include "runtime/malloc_family.h"
#include "check.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile size_t opaque_size;

static size_t opaque(size_t size)
{
    opaque_size = size;
    return opaque_size;
}

static int in_heap(const void *ptr)
{
    uintptr_t start, end;
    pf_malloc_heap_range(&start, &end);
    return (uintptr_t)ptr >= start && (uintptr_t)ptr < end;
}

static int aligned(const void *ptr, size_t alignment)
{
    return ((uintptr_t)ptr & (alignment - 1)) == 0;
}

static int filled(const unsigned char *bytes, size_t size, unsigned char value)
{
    for (size_t i = 0; i < size; i++) {
        if (bytes[i] != value)
            return 0;
    }
    return 1;
}

/* Blocks made before the switch, checked after it. */
static unsigned char *frozen_small, *frozen_large, *frozen_aligned;

static void test_brk_mode(void)
{
    unsigned char *a = malloc(100);
    unsigned char *zero = malloc(0);
    unsigned char *zero2 = malloc(0);
    CHECK(a != NULL && in_heap(a) && aligned(a, 16), "malloc(100) = %p", (void *)a);
    CHECK(zero != NULL && zero2 != NULL && zero != zero2, "malloc(0) gives distinct blocks");
    CHECK(malloc_usable_size(a) >= 100, "usable %zu", malloc_usable_size(a));
    CHECK(malloc_usable_size(NULL) == 0, "usable size of NULL");

    memset(a, 0x41, 100);
    unsigned char *grown = realloc(a, 5000);
    CHECK(grown != NULL && in_heap(grown) && filled(grown, 100, 0x41), "realloc grows and copies");
    unsigned char *shrunk = realloc(grown, 10);
    CHECK(shrunk == grown, "realloc to a smaller size keeps the block");
    unsigned char *from_null = realloc(NULL, 30);
    CHECK(from_null != NULL && in_heap(from_null), "realloc(NULL) allocates");

    unsigned char *zeros = calloc(300, 7);
    CHECK(zeros != NULL && filled(zeros, 2100, 0), "calloc zeroes");
    memset(zeros, 0xff, 2100);
    free(zeros);
    zeros = calloc(2100, 1);   /* very likely the same block, dirty */
    CHECK(zeros != NULL && filled(zeros, 2100, 0), "calloc zeroes a reused block");

    errno = 0;
    CHECK(calloc(opaque(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM, "calloc overflow: ENOMEM");
    errno = 0;
    CHECK(reallocarray(NULL, opaque(SIZE_MAX / 4), 8) == NULL && errno == ENOMEM, "reallocarray overflow: ENOMEM");
    errno = 0;
    CHECK(malloc(opaque((size_t)1 << 50)) == NULL && errno == ENOMEM, "a 1 PiB malloc: ENOMEM");
    errno = 0;
    CHECK(pvalloc(opaque(SIZE_MAX - 10)) == NULL && errno == ENOMEM, "pvalloc overflow: ENOMEM");

    void *p = NULL;
    CHECK(posix_memalign(&p, 4096, 10) == 0 && aligned(p, 4096) && in_heap(p), "posix_memalign 4096");
    CHECK(posix_memalign(&p, sizeof(void *), 10) == 0 && p != NULL, "posix_memalign(sizeof(void *))");
    void *untouched = (void *)0x1234;
    p = untouched;
    CHECK(posix_memalign(&p, opaque(4), 10) == EINVAL && p == untouched, "posix_memalign(4): EINVAL");
    CHECK(posix_memalign(&p, opaque(24), 10) == EINVAL, "posix_memalign(24): EINVAL");
    errno = 0;
    CHECK(memalign(opaque(24), 10) == NULL && errno == EINVAL, "memalign(24): EINVAL");
    unsigned char *m = memalign(256, 1000);
    CHECK(m != NULL && aligned(m, 256) && malloc_usable_size(m) >= 1000, "memalign(256)");
    unsigned char *al = aligned_alloc(64, 128);
    CHECK(al != NULL && aligned(al, 64), "aligned_alloc(64)");
    unsigned char *v = valloc(10);
    CHECK(v != NULL && aligned(v, 4096), "valloc page-aligned");
    unsigned char *pv = pvalloc(10);
    CHECK(pv != NULL && aligned(pv, 4096) && malloc_usable_size(pv) >= 4096, "pvalloc rounds to a page");
    free(NULL);

    frozen_small = malloc(48);
    frozen_large = malloc(100000);
    frozen_aligned = memalign(4096, 300);
    memset(frozen_small, 0x11, 48);
    memset(frozen_large, 0x22, 100000);
    memset(frozen_aligned, 0x33, 300);
    CHECK(in_heap(frozen_small) && in_heap(frozen_large) && in_heap(frozen_aligned), "blocks on the brk heap");
}

/* Runs `body` in a child whose stderr is captured; returns how it ended
 * and what it wrote. */
static int in_child(void (*body)(void), char *said, size_t size)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    fflush(NULL);
    pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        body();
        _exit(0);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t got;
    while (used + 1 < size && ((got = read(fds[0], said + used, size - 1 - used)) > 0 || (got < 0 && errno == EINTR)))
        used += got > 0 ? (size_t)got : 0;
    said[used] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

static void expect_abort(void (*body)(void), const char *what)
{
    char said[512];
    int status = in_child(body, said, sizeof said);
    CHECK(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "%s: not aborted (status %#x)",
          what, (unsigned)status);
    CHECK(strstr(said, "pyfreeze: free(): double free of the brk-heap block at 0x") == said,
          "%s: said '%s'", what, said);
}

static void brk_double_free(void)
{
    void *p = malloc(64);
    free(p);
    free(p);
}

static void brk_aligned_double_free(void)
{
    void *p = memalign(32, 64);
    free(p);
    free(p);
}

static void brk_realloc_then_free(void)
{
    void *p = malloc(64);
    void *q = realloc(p, 100000);   /* moves: p is freed */
    if (q != p)
        free(p);
}

static void frozen_double_free(void)
{
    free(frozen_small);
    free(frozen_small);
}

static void frozen_aligned_double_free(void)
{
    free(frozen_aligned);
    free(frozen_aligned);
}

static void frozen_realloc_then_free(void)
{
    void *moved = realloc(frozen_large, 200000);
    (void)moved;
    free(frozen_large);
}

static void single_frees(void)
{
    free(malloc(10));
    free(frozen_small);
}

static void test_double_frees_on_the_brk_heap(void)
{
    expect_abort(brk_double_free, "double free");
    expect_abort(brk_aligned_double_free, "double free of an aligned block");
    expect_abort(brk_realloc_then_free, "free after realloc moved the block");
}

static void test_libc_mode(void)
{
    pf_malloc_use_libc();
    uintptr_t start, end;
    pf_malloc_heap_range(&start, &end);

    unsigned char *fresh = malloc(100);
    CHECK(fresh != NULL && !in_heap(fresh), "new blocks come from glibc: %p", (void *)fresh);
    CHECK(malloc_usable_size(fresh) >= 100, "glibc's usable size through ours: %zu", malloc_usable_size(fresh));
    CHECK(malloc_usable_size(frozen_small) >= 48, "a frozen block's usable size");
    free(fresh);

    /* Freeing a frozen block leaves it as it is and never hands it out. */
    free(frozen_small);
    CHECK(filled(frozen_small, 48, 0x11), "a freed frozen block was changed");
    for (int i = 0; i < 100; i++) {
        void *again = malloc(48);
        CHECK(again != NULL && !in_heap(again), "a freed frozen block came back: %p", again);
        free(again);
    }
    /* Reallocating one copies it out and leaves it as it is. */
    unsigned char *moved = realloc(frozen_large, 200000);
    CHECK(moved != NULL && !in_heap(moved) && filled(moved, 100000, 0x22), "realloc copies a frozen block out");
    CHECK(filled(frozen_large, 100000, 0x22), "realloc changed the frozen block");
    free(moved);
    unsigned char *small_copy = realloc(frozen_aligned, 10);
    CHECK(small_copy != NULL && !in_heap(small_copy) && filled(small_copy, 10, 0x33),
          "realloc to a smaller size copies a frozen block out");
    free(small_copy);

    unsigned char *zeros = calloc(1000, 3);
    CHECK(zeros != NULL && !in_heap(zeros) && filled(zeros, 3000, 0), "calloc from glibc");
    free(zeros);
    errno = 0;
    CHECK(calloc(opaque(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM, "glibc calloc overflow");
    void *p = NULL;
    CHECK(posix_memalign(&p, 128, 10) == 0 && aligned(p, 128) && !in_heap(p), "posix_memalign from glibc");
    free(p);
    unsigned char *v = valloc(10), *pv = pvalloc(10);
    CHECK(v != NULL && aligned(v, 4096) && pv != NULL && aligned(pv, 4096), "valloc/pvalloc from glibc");
    free(v);
    free(pv);
}

static void test_frozen_frees_after_the_switch(void)
{
    /* Each child starts from this process as it is: frozen_small was freed
     * once above already, so any further free is a double one. */
    expect_abort(frozen_double_free, "double free of a frozen block");
    expect_abort(frozen_aligned_double_free, "free of a frozen block reallocated away");
    expect_abort(frozen_realloc_then_free, "free of a frozen block realloc copied out");
}

static void test_a_single_free_is_fine(void)
{
    frozen_small = malloc(48);   /* a glibc block now */
    char said[256];
    int status = in_child(single_frees, said, sizeof said);
    CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && said[0] == '\0',
          "single frees: status %#x, said '%s'", (unsigned)status, said);
}

int main(void)
{
    test_brk_mode();
    test_double_frees_on_the_brk_heap();
    test_libc_mode();
    test_frozen_frees_after_the_switch();
    test_a_single_free_is_fine();
    printf("test_malloc_family: %u checks, %u failed\n", checks_run, checks_failed);
    return checks_failed != 0;
}
