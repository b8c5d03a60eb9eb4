/* Unit tests for the /proc/PID/maps parser (src/trace/proc_maps.c).
 *
 * The tracer decides which child memory goes into an image from these
 * records, so a line parsed wrong silently drops or misplaces memory; the
 * tests pin every field on literal kernel-format text, then parse the real
 * /proc/self/maps and cross-check it against addresses this process knows. */
#define _GNU_SOURCE
#include "trace/proc_maps.h"
#include "check.h"

#include "common/io.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>


/* --- helpers --------------------------------------------------------------- */

static int parse_text(const char *text, struct pf_maps *maps, struct pf_error *error)
{
    memset(error, 0, sizeof *error);
    return pf_maps_parse(text, strlen(text), maps, error);
}

/* One record, field by field; `label` names it in failure lines. */
static void check_mapping(const struct pf_mapping *m, const char *label, uint64_t start, uint64_t end,
                          const char *perms, uint64_t offset, const char *path)
{
    if (!CHECK(m != NULL, "%s: no record", label))
        return;
    CHECK(m->start == start, "%s: start %#llx, expected %#llx", label, (unsigned long long)m->start,
          (unsigned long long)start);
    CHECK(m->end == end, "%s: end %#llx, expected %#llx", label, (unsigned long long)m->end,
          (unsigned long long)end);
    CHECK(strcmp(m->perms, perms) == 0, "%s: perms '%s', expected '%s'", label, m->perms, perms);
    CHECK(m->offset == offset, "%s: offset %#llx, expected %#llx", label, (unsigned long long)m->offset,
          (unsigned long long)offset);
    CHECK(strcmp(m->path, path) == 0, "%s: path '%s', expected '%s'", label, m->path, path);
}

/* --- literal text ---------------------------------------------------------- */

/* Lines as the kernel writes them: the path column is padded with spaces,
 * anonymous mappings end in one trailing space. */
static const char sample[] =
    "00400000-0041f000 r--p 00000000 fe:00 1311                               /usr/libexec/pyfreeze-runtime\n"
    "0041f000-006c9000 r-xp 0001f000 fe:00 1311                               /usr/libexec/pyfreeze-runtime\n"
    "00ac9000-00bea000 rw-p 00000000 00:00 0                                  [heap]\n"
    "7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 \n"
    "7f1c2b400000-7f1c2b428000 r--p 00000000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1c2b600000-7f1c2b601000 r--s 00003000 00:05 42                         /tmp/dir with spaces/a  b.bin\n"
    "7f1c2b700000-7f1c2b701000 rw-s 00000000 00:01 1029                       /memfd:pf (deleted)\n"
    "7ffc8e1f1000-7ffc8e212000 rw-p 00000000 00:00 0                          [stack]\n"
    "7ffc8e3c2000-7ffc8e3c6000 r--p 00000000 00:00 0                          [vvar]\n"
    "7ffc8e3c6000-7ffc8e3c8000 r-xp 00000000 00:00 0                          [vdso]\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static void test_sample(void)
{
    struct pf_maps maps;
    struct pf_error error;
    int rc = parse_text(sample, &maps, &error);
    if (!CHECK(rc == 0, "parse failed: %s", error.message))
        return;
    if (!CHECK(maps.count == 11, "%zu records, expected 11", maps.count)) {
        pf_maps_free(&maps);
        return;
    }
    const struct pf_mapping *m = maps.items;
    check_mapping(&m[0], "runtime text", 0x400000, 0x41f000, "r--p", 0, "/usr/libexec/pyfreeze-runtime");
    check_mapping(&m[1], "runtime code", 0x41f000, 0x6c9000, "r-xp", 0x1f000, "/usr/libexec/pyfreeze-runtime");
    check_mapping(&m[2], "heap", 0xac9000, 0xbea000, "rw-p", 0, "[heap]");
    check_mapping(&m[3], "anonymous", 0x7f1c2a000000, 0x7f1c2a021000, "rw-p", 0, "");
    check_mapping(&m[4], "libc", 0x7f1c2b400000, 0x7f1c2b428000, "r--p", 0,
                  "/usr/lib/x86_64-linux-gnu/libc.so.6");
    check_mapping(&m[5], "spaces", 0x7f1c2b600000, 0x7f1c2b601000, "r--s", 0x3000,
                  "/tmp/dir with spaces/a  b.bin");
    check_mapping(&m[6], "deleted", 0x7f1c2b700000, 0x7f1c2b701000, "rw-s", 0, "/memfd:pf (deleted)");
    check_mapping(&m[7], "stack", 0x7ffc8e1f1000, 0x7ffc8e212000, "rw-p", 0, "[stack]");
    check_mapping(&m[8], "vvar", 0x7ffc8e3c2000, 0x7ffc8e3c6000, "r--p", 0, "[vvar]");
    check_mapping(&m[9], "vdso", 0x7ffc8e3c6000, 0x7ffc8e3c8000, "r-xp", 0, "[vdso]");
    check_mapping(&m[10], "vsyscall", 0xffffffffff600000, 0xffffffffff601000, "--xp", 0, "[vsyscall]");

    /* Lookups are half-open [start, end). */
    CHECK(pf_maps_find(&maps, 0x400000) == &m[0], "start of the first mapping not found");
    CHECK(pf_maps_find(&maps, 0x41efff) == &m[0], "last byte of the first mapping not found");
    CHECK(pf_maps_find(&maps, 0x41f000) == &m[1], "end of mapping 0 found in it, not in mapping 1");
    CHECK(pf_maps_find(&maps, 0xb00000) == &m[2], "heap address not in [heap]");
    CHECK(pf_maps_find(&maps, 0x7ffc8e3c7000) == &m[9], "vdso address not in [vdso]");
    CHECK(pf_maps_find(&maps, 0x6c9000) == NULL, "gap after the code found in a mapping");
    CHECK(pf_maps_find(&maps, 0xbea000) == NULL, "heap end found in a mapping");
    CHECK(pf_maps_find(&maps, 0) == NULL, "address 0 found in a mapping");
    CHECK(pf_maps_find(&maps, UINT64_MAX) == NULL, "the last address found in a mapping");
    pf_maps_free(&maps);
    CHECK(maps.items == NULL && maps.count == 0, "pf_maps_free left %zu records", maps.count);
}

/* Text that ends without a newline, lines with nothing after the inode,
 * and blank lines, which are skipped. */
static void test_line_shapes(void)
{
    struct pf_maps maps;
    struct pf_error error;
    const char *text = "\n1000-2000 rw-p 00000000 00:00 0\n\n3000-4000 r--p 00001000 08:02 99 /bin/x";
    int rc = parse_text(text, &maps, &error);
    if (!CHECK(rc == 0, "parse failed: %s", error.message))
        return;
    if (CHECK(maps.count == 2, "%zu records, expected 2", maps.count)) {
        check_mapping(&maps.items[0], "no trailing space", 0x1000, 0x2000, "rw-p", 0, "");
        check_mapping(&maps.items[1], "no final newline", 0x3000, 0x4000, "r--p", 0x1000, "/bin/x");
    }
    pf_maps_free(&maps);

    /* The size argument bounds the text: bytes after it are not parsed. */
    const char *longer = "1000-2000 rw-p 00000000 00:00 0\nnot a maps line at all\n";
    memset(&error, 0, sizeof error);
    rc = pf_maps_parse(longer, strlen("1000-2000 rw-p 00000000 00:00 0\n"), &maps, &error);
    CHECK(rc == 0 && maps.count == 1, "parsing a prefix: rc %d, %zu records, %s", rc, maps.count, error.message);
    pf_maps_free(&maps);

    /* A long path is kept whole; one longer than any the kernel prints is
     * refused rather than cut (a cut path is a wrong one). */
    size_t room = sizeof maps.items[0].path;
    char *big = malloc(room + 64);
    int used = snprintf(big, room + 64, "1000-2000 r--p 00000000 08:02 7 /");
    memset(big + used, 'p', 700);
    big[used + 700] = '\n';
    big[used + 701] = '\0';
    rc = parse_text(big, &maps, &error);
    if (CHECK(rc == 0 && maps.count == 1, "long path: rc %d, %s", rc, error.message)) {
        const char *path = maps.items[0].path;
        CHECK(strlen(path) == 701 && path[0] == '/' && path[700] == 'p', "long path kept as %zu bytes starting '%.4s'",
              strlen(path), path);
        pf_maps_free(&maps);
    }
    memset(big + used, 'p', room);
    big[used + room] = '\0';
    rc = parse_text(big, &maps, &error);
    CHECK(rc == -1 && maps.count == 0, "a path longer than the record accepted");
    free(big);

    /* Spaces inside a path are part of it; the padding before it is not. */
    rc = parse_text("1000-2000 r--p 00000000 08:02 7        /a b/c (deleted)\n", &maps, &error);
    if (CHECK(rc == 0 && maps.count == 1, "path with spaces: %s", error.message)) {
        CHECK(strcmp(maps.items[0].path, "/a b/c (deleted)") == 0, "path '%s'", maps.items[0].path);
        pf_maps_free(&maps);
    }

    /* The largest values fit. */
    rc = parse_text("fffffffffffff000-ffffffffffffffff rw-p ffffffffffffffff ffff:ffff 18446744073709551615\n",
                    &maps, &error);
    if (CHECK(rc == 0 && maps.count == 1, "largest values: %s", error.message)) {
        check_mapping(&maps.items[0], "largest values", 0xfffffffffffff000ull, UINT64_MAX, "rw-p",
                      UINT64_MAX, "");
        pf_maps_free(&maps);
    }

    /* A NUL inside a line makes it malformed, wherever it is. */
    static const char with_nul[] = "1000-2000 r--p 00000000 08:02 7 /x\0y\n";
    rc = pf_maps_parse(with_nul, sizeof with_nul - 1, &maps, &error);
    CHECK(rc == -1 && maps.count == 0, "a NUL in the path accepted");
    static const char nul_in_number[] = "1000-20\000 r--p 00000000 08:02 7\n";
    rc = pf_maps_parse(nul_in_number, sizeof nul_in_number - 1, &maps, &error);
    CHECK(rc == -1 && maps.count == 0, "a NUL in a number accepted");

    /* Many lines: the record array has to grow. */
    size_t lines = 1000;
    char *many = malloc(lines * 64);
    size_t length = 0;
    for (size_t i = 0; i < lines; i++)
        length += (size_t)sprintf(many + length, "%zx-%zx rw-p 00000000 00:00 0 \n", (i + 1) * 0x1000,
                                  (i + 2) * 0x1000);
    rc = pf_maps_parse(many, length, &maps, &error);
    CHECK(rc == 0 && maps.count == lines, "%zu lines: rc %d, %zu records", lines, rc, maps.count);
    if (rc == 0 && maps.count == lines)
        CHECK(maps.items[lines - 1].start == lines * 0x1000, "last record starts at %#llx",
              (unsigned long long)maps.items[lines - 1].start);
    pf_maps_free(&maps);
    free(many);
}

static void test_empty(void)
{
    struct pf_maps maps = {NULL, 99};   /* stale count: parse must reset it */
    struct pf_error error;
    int rc = parse_text("", &maps, &error);
    CHECK(rc == 0, "empty text failed: %s", error.message);
    CHECK(maps.count == 0, "empty text gave %zu records", maps.count);
    CHECK(pf_maps_find(&maps, 0x1000) == NULL, "found an address in no mappings");
    pf_maps_free(&maps);

    maps.count = 99;
    rc = parse_text("\n\n\n", &maps, &error);
    CHECK(rc == 0 && maps.count == 0, "blank lines: rc %d, %zu records", rc, maps.count);
    pf_maps_free(&maps);
}

/* A malformed line anywhere fails the whole parse, and the message quotes
 * the line so a user can see what the kernel wrote. */
static void test_malformed(void)
{
    static const char *const bad_lines[] = {
        "garbage",
        "00400000 0041f000 r--p 00000000 fe:00 1311 /x",      /* no dash */
        "zz400000-0041f000 r--p 00000000 fe:00 1311 /x",      /* not hex */
        "00400000-0041f000",                                  /* cut short */
        "00400000-0041f000 r--p 00000000 fe:00",              /* no inode */
        "00400000-0041f000 r--p 00000000 fe:00 inode /x",     /* inode not a number */
        "00400000-0041f000 r--p zzzz fe:00 1311 /x",          /* offset not hex */
        "00400000-0041f000 rw 00000000 fe:00 1311 /x",        /* short perms */
        "00400000-0041f000 rw-pxx 00000000 fe:00 1311 /x",    /* long perms */
        "0041f000-00400000 r--p 00000000 fe:00 1311 /x",      /* start after end */
        "00400000-00400000 r--p 00000000 fe:00 1311 /x",      /* empty */
        "-0400000-0041f000 r--p 00000000 fe:00 1311 /x",      /* a sign */
        "+0400000-0041f000 r--p 00000000 fe:00 1311 /x",      /* a sign */
        "0x400000-0041f000 r--p 00000000 fe:00 1311 /x",      /* 0x */
        " 0400000-0041f000 r--p 00000000 fe:00 1311 /x",      /* a leading blank */
        "00400000- 041f000 r--p 00000000 fe:00 1311 /x",      /* a blank inside */
        "10000000000000000-20000000000000000 r--p 00000000 fe:00 1311 /x",   /* 17 digits: 2^64 */
        "00400000-0041f000 r--p 10000000000000000 fe:00 1311 /x",            /* offset of 2^64 */
        "00400000-0041f000 r--p 00000000 fe:00 18446744073709551616 /x",     /* inode of 2^64 */
        "00400000-0041f000 r--p 00000000 fe:00 -1 /x",        /* negative inode */
        "00400000-0041f000 rwxq 00000000 fe:00 1311 /x",      /* neither p nor s */
        "00400000-0041f000 Rw-p 00000000 fe:00 1311 /x",      /* not r or - */
        "00400000-0041f000 r--p 00000000 fe00 1311 /x",       /* device without ':' */
        "00400000-0041f000 r--p 00000000 fe:00 1311x",        /* junk after the inode */
        "00400000-0041f000  r--p 00000000 fe:00 1311 /x",     /* two blanks */
    };
    for (size_t i = 0; i < sizeof bad_lines / sizeof *bad_lines; i++) {
        char text[512];
        /* Good lines around the bad one: the error must not depend on it
         * being first or last. */
        snprintf(text, sizeof text, "1000-2000 rw-p 00000000 00:00 0 \n%s\n3000-4000 r--p 00000000 00:00 0 \n",
                 bad_lines[i]);
        struct pf_maps maps;
        struct pf_error error;
        int rc = parse_text(text, &maps, &error);
        CHECK(rc == -1, "'%s' accepted", bad_lines[i]);
        CHECK(error.status == PF_EXIT_TRACE, "'%s' gave status %d", bad_lines[i], (int)error.status);
        CHECK(strstr(error.message, bad_lines[i]) != NULL, "message for '%s' does not name it: %s",
              bad_lines[i], error.message);
        CHECK(maps.items == NULL && maps.count == 0, "a failed parse left %zu records", maps.count);
        if (rc == 0)
            pf_maps_free(&maps);
    }
}

/* --- the real thing --------------------------------------------------------- */

static int in_data = 1;

static int valid_perms(const char *perms)
{
    return strlen(perms) == 4 && strchr("r-", perms[0]) && strchr("w-", perms[1]) && strchr("x-", perms[2]) &&
           strchr("ps", perms[3]);
}

static size_t count_lines(const char *text, size_t size)
{
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        if (text[i] == '\n' && i > 0 && text[i - 1] != '\n')
            lines++;
    return lines;
}

/* Every record well formed, in ascending order and without overlaps, as
 * the kernel promises. */
static void check_self_records(const struct pf_maps *maps)
{
    for (size_t i = 0; i < maps->count; i++) {
        const struct pf_mapping *m = &maps->items[i];
        if (!CHECK(m->start < m->end && m->start % 4096 == 0 && m->end % 4096 == 0,
                   "record %zu: [%#llx, %#llx)", i, (unsigned long long)m->start, (unsigned long long)m->end) ||
            !CHECK(valid_perms(m->perms), "record %zu: perms '%s'", i, m->perms) ||
            !CHECK(i == 0 || maps->items[i - 1].end <= m->start, "record %zu overlaps or precedes record %zu",
                   i, i - 1))
            break;
    }
}

/* Skips `fields` whitespace-separated fields and the blanks after them. */
static const char *skip_fields(const char *p, const char *end, int fields)
{
    for (int i = 0; i < fields; i++) {
        while (p < end && *p != ' ')
            p++;
        while (p < end && *p == ' ')
            p++;
    }
    return p;
}

/* Compares each record with its line, read another way: the path is what
 * follows the inode and its padding, ranges are the first field. */
static void check_against_text(const struct pf_maps *maps, const char *text, size_t size)
{
    const char *line = text, *end = text + size;
    for (size_t i = 0; i < maps->count && line < end; i++) {
        const char *newline = memchr(line, '\n', (size_t)(end - line));
        const char *stop = newline ? newline : end;
        char *after;
        unsigned long long start = strtoull(line, &after, 16);
        unsigned long long finish = strtoull(after + 1, NULL, 16);
        const char *path = skip_fields(line, stop, 5);
        const struct pf_mapping *m = &maps->items[i];
        if (!CHECK(m->start == start && m->end == finish && strlen(m->path) == (size_t)(stop - path) &&
                       memcmp(m->path, path, (size_t)(stop - path)) == 0,
                   "record %zu [%#llx-%#llx '%s'] differs from its line '%.*s'", i, (unsigned long long)m->start,
                   (unsigned long long)m->end, m->path, (int)(stop - line), line))
            break;
        line = stop + 1;
    }
}

static char *early_block;   /* allocated first thing in main() */

/* The mappings holding addresses this process knows must say what they are. */
static void check_self_lookups(const struct pf_maps *maps)
{
    int on_stack = 0;
    char exe[512] = "";
    ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[length > 0 ? length : 0] = '\0';

    const struct pf_mapping *code = pf_maps_find(maps, (uint64_t)(uintptr_t)&check_self_lookups);
    if (CHECK(code != NULL, "no mapping holds this function"))
        CHECK(code->perms[2] == 'x' && strcmp(code->path, exe) == 0,
              "this function in a '%s' mapping of '%s', not '%s'", code->perms, code->path, exe);
    const struct pf_mapping *data = pf_maps_find(maps, (uint64_t)(uintptr_t)&in_data);
    if (CHECK(data != NULL, "no mapping holds a static variable"))
        CHECK(data->perms[0] == 'r' && data->perms[1] == 'w', "a static variable in a '%s' mapping", data->perms);
    /* Not necessarily "[stack]": under valgrind the stack is anonymous. */
    const struct pf_mapping *stack = pf_maps_find(maps, (uint64_t)(uintptr_t)&on_stack);
    if (CHECK(stack != NULL, "no mapping holds a local variable"))
        CHECK(stack->perms[0] == 'r' && stack->perms[1] == 'w', "a local variable in a '%s' mapping",
              stack->perms);
    uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
    const struct pf_mapping *vdso_map = vdso ? pf_maps_find(maps, vdso) : NULL;
    if (vdso != 0 && CHECK(vdso_map != NULL, "no mapping holds the vDSO at %#llx", (unsigned long long)vdso))
        CHECK(strcmp(vdso_map->path, "[vdso]") == 0 && vdso_map->perms[2] == 'x',
              "the vDSO in a '%s' mapping '%s'", vdso_map->perms, vdso_map->path);
    /* A block allocated before the maps text was read: one allocated after
     * may lie where an allocator had reserved address space without access
     * (AddressSanitizer's does). */
    const struct pf_mapping *heap = pf_maps_find(maps, (uint64_t)(uintptr_t)early_block);
    if (CHECK(heap != NULL, "no mapping holds a malloc'd block"))
        CHECK(heap->perms[0] == 'r' && heap->perms[1] == 'w', "a malloc'd block in a '%s' mapping", heap->perms);
}

static void test_self(void)
{
    char *text;
    size_t size;
    if (!CHECK(pf_read_file("/proc/self/maps", &text, &size) == 0, "cannot read /proc/self/maps"))
        return;
    struct pf_maps maps;
    struct pf_error error;
    memset(&error, 0, sizeof error);
    int rc = pf_maps_parse(text, size, &maps, &error);
    if (CHECK(rc == 0, "parsing /proc/self/maps: %s", error.message)) {
        CHECK(maps.count == count_lines(text, size) && maps.count > 3, "%zu records from %zu lines", maps.count,
              count_lines(text, size));
        check_self_records(&maps);
        check_against_text(&maps, text, size);
        check_self_lookups(&maps);
        pf_maps_free(&maps);
    }
    free(text);

    /* pf_maps_read reads the same file by pid. */
    rc = pf_maps_read(getpid(), &maps, &error);
    if (CHECK(rc == 0, "pf_maps_read(self): %s", error.message)) {
        CHECK(pf_maps_find(&maps, (uint64_t)(uintptr_t)&in_data) != NULL,
              "pf_maps_read lacks the data mapping");
        pf_maps_free(&maps);
    }
    rc = pf_maps_read(-5, &maps, &error);
    CHECK(rc == -1 && error.status == PF_EXIT_TRACE && strstr(error.message, "/proc/-5/maps") != NULL,
          "reading the maps of pid -5: rc %d, status %d, '%s'", rc, (int)error.status, error.message);
}

int main(void)
{
    early_block = malloc(64);
    if (early_block == NULL)
        return 1;
    memset(early_block, 1, 64);
    test_sample();
    test_line_shapes();
    test_empty();
    test_malformed();
    test_self();
    free(early_block);
    printf("test_proc_maps: %u checks, %u failed\n", checks_run, checks_failed);
    return checks_failed ? 1 : 0;
}
