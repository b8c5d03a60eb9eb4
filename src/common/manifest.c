#define _GNU_SOURCE
#include "manifest.h"

#include "io.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* A manifest is a few kilobytes, or some hundreds with learned patterns;
 * anything near this is not one. */
#define PF_MANIFEST_MAX (64u * 1024 * 1024)

/* FIELD_PATTERNS: a list whose items pf_manifest_valid_pattern accepts. */
enum field_kind { FIELD_TEXT, FIELD_NUMBER, FIELD_FLAG, FIELD_LIST, FIELD_PATTERNS, FIELD_ENTRY };

/* Every key, in the order the writer writes them. */
static const struct field {
    const char *key;
    enum field_kind kind;
    size_t offset;
    int required;
} fields[] = {
    {"pyfreeze", FIELD_TEXT, offsetof(struct pf_manifest, pyfreeze_version), 1},
    {"runtime", FIELD_TEXT, offsetof(struct pf_manifest, runtime), 1},
    {"hash_seed", FIELD_NUMBER, offsetof(struct pf_manifest, hash_seed), 1},
    {"entry", FIELD_ENTRY, offsetof(struct pf_manifest, entry), 0},
    {"interpreter", FIELD_TEXT, offsetof(struct pf_manifest, interpreter), 0},
    {"script", FIELD_TEXT, offsetof(struct pf_manifest, script), 0},
    {"program", FIELD_TEXT, offsetof(struct pf_manifest, program), 0},
    {"native", FIELD_FLAG, offsetof(struct pf_manifest, native), 0},
    {"root", FIELD_FLAG, offsetof(struct pf_manifest, in_root), 0},
    {"verbose", FIELD_FLAG, offsetof(struct pf_manifest, verbose), 0},
    {"learned", FIELD_LIST, offsetof(struct pf_manifest, learned), 0},
    {"learned_pattern", FIELD_PATTERNS, offsetof(struct pf_manifest, learned_patterns), 0},
    {"module", FIELD_LIST, offsetof(struct pf_manifest, modules), 0},
    {"block", FIELD_LIST, offsetof(struct pf_manifest, blocks), 0},
    {"path", FIELD_LIST, offsetof(struct pf_manifest, paths), 0},
    {"search", FIELD_LIST, offsetof(struct pf_manifest, search), 0},
    {"library", FIELD_LIST, offsetof(struct pf_manifest, libraries), 0},
    {"read_env", FIELD_LIST, offsetof(struct pf_manifest, read_env), 0},
    {"read_file", FIELD_LIST, offsetof(struct pf_manifest, read_file), 0},
};
#define FIELD_COUNT (sizeof fields / sizeof fields[0])

static const char *const entry_kinds[] = {NULL, "script", "module", "function"};

const char *pf_entry_kind_name(enum pf_entry_kind kind)
{
    return (unsigned)kind < sizeof entry_kinds / sizeof entry_kinds[0] ? entry_kinds[kind] : NULL;
}

int pf_manifest_valid_pattern(const char *value)
{
    if ((value[0] != 's' && value[0] != 'b') || value[1] != ':')
        return 0;
    const char *flags = value + 2;
    size_t digits = strspn(flags, "0123456789");
    if (digits == 0 || digits > 10 || flags[digits] != ':')
        return 0;
    const char *hex = flags + digits + 1;
    size_t length = strspn(hex, "0123456789abcdef");
    return hex[length] == '\0' && length % 2 == 0;
}

/* --- writing ------------------------------------------------------------------- */

struct text {
    char *bytes;
    size_t size, capacity;
    int failed;
};

__attribute__((format(printf, 2, 3)))
static void text_add(struct text *text, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int needed = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (text->failed || needed < 0) {
        text->failed = 1;
        return;
    }
    if (text->size + (size_t)needed + 1 > text->capacity) {
        size_t capacity = (text->capacity + (size_t)needed + 1) * 2;
        char *grown = realloc(text->bytes, capacity);
        if (grown == NULL) {
            text->failed = 1;
            return;
        }
        text->bytes = grown;
        text->capacity = capacity;
    }
    va_start(args, format);
    vsnprintf(text->bytes + text->size, (size_t)needed + 1, format, args);
    va_end(args);
    text->size += (size_t)needed;
}

/* A value the line format cannot carry is refused by name. */
static int check_value(const char *key, const char *value, struct pf_error *error)
{
    if (strchr(value, '\n') != NULL)
        return pf_fail(error, PF_EXIT_USAGE, "%s '%s' contains a newline, which an image cannot record", key,
                       value);
    return 0;
}

static int write_field(const struct pf_manifest *manifest, const struct field *field, struct text *text,
                       struct pf_error *error)
{
    const char *base = (const char *)manifest + field->offset;
    switch (field->kind) {
    case FIELD_TEXT: {
        const char *value = *(const char *const *)base;
        if (value == NULL)
            return 0;
        if (check_value(field->key, value, error) < 0)
            return -1;
        text_add(text, "%s=%s\n", field->key, value);
        return 0;
    }
    case FIELD_NUMBER:
        text_add(text, "%s=%lu\n", field->key, *(const unsigned long *)base);
        return 0;
    case FIELD_FLAG:
        if (*(const int *)base)
            text_add(text, "%s=1\n", field->key);
        return 0;
    case FIELD_ENTRY:
        if (manifest->entry_kind == PF_ENTRY_NONE)
            return 0;
        if (manifest->entry == NULL || check_value(field->key, manifest->entry, error) < 0)
            return manifest->entry == NULL ? pf_fail(error, PF_EXIT_INTERNAL, "an entry form without a value") : -1;
        text_add(text, "entry=%s:%s\n", pf_entry_kind_name(manifest->entry_kind), manifest->entry);
        return 0;
    case FIELD_LIST:
    case FIELD_PATTERNS: {
        const struct pf_strings *list = (const struct pf_strings *)base;
        for (int i = 0; i < list->count; i++) {
            if (check_value(field->key, list->items[i], error) < 0)
                return -1;
            if (field->kind == FIELD_PATTERNS && !pf_manifest_valid_pattern(list->items[i]))
                return pf_fail(error, PF_EXIT_INTERNAL, "learned pattern '%.40s' is not KIND:FLAGS:HEX",
                               list->items[i]);
            text_add(text, "%s=%s\n", field->key, list->items[i]);
        }
        return 0;
    }
    }
    return 0;
}

int pf_manifest_write(const struct pf_manifest *manifest, char **out, size_t *size, struct pf_error *error)
{
    struct text text = {0};
    text_add(&text, "format=%d\n", PF_MANIFEST_FORMAT);
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (write_field(manifest, &fields[i], &text, error) < 0) {
            free(text.bytes);
            return -1;
        }
    }
    if (text.failed) {
        free(text.bytes);
        return pf_fail(error, PF_EXIT_INTERNAL, "writing the manifest: out of memory");
    }
    *out = text.bytes;
    *size = text.size;
    return 0;
}

/* --- reading ------------------------------------------------------------------- */

/* One line, split: `key` and `value` point into the text. */
struct line {
    const char *key, *value;
    size_t key_length, value_length;
    unsigned number;
};

static const struct field *find_field(const struct line *line)
{
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (strlen(fields[i].key) == line->key_length && memcmp(fields[i].key, line->key, line->key_length) == 0)
            return &fields[i];
    }
    return NULL;
}

/* Splits the next line off [*cursor, end); 0 at the end of the text. */
static int next_line(const char **cursor, const char *end, struct line *line, struct pf_error *error)
{
    if (*cursor >= end)
        return 0;
    const char *start = *cursor;
    const char *newline = memchr(start, '\n', (size_t)(end - start));
    const char *stop = newline != NULL ? newline : end;
    *cursor = stop + 1;
    line->number++;
    const char *equals = memchr(start, '=', (size_t)(stop - start));
    if (equals == NULL || equals == start)
        return pf_fail(error, PF_EXIT_OUTPUT, "manifest line %u is not key=value", line->number);
    if (memchr(start, '\0', (size_t)(stop - start)) != NULL)
        return pf_fail(error, PF_EXIT_OUTPUT, "manifest line %u holds a NUL byte", line->number);
    line->key = start;
    line->key_length = (size_t)(equals - start);
    line->value = equals + 1;
    line->value_length = (size_t)(stop - equals - 1);
    return 1;
}

static int check_format(const char **cursor, const char *end, struct line *line, struct pf_error *error)
{
    static const char header[] = "format=";
    if ((size_t)(end - *cursor) < sizeof header - 1 || memcmp(*cursor, header, sizeof header - 1) != 0)
        return pf_fail(error, PF_EXIT_OUTPUT, "not a pyfreeze manifest (it does not start with %s)", header);
    if (next_line(cursor, end, line, error) <= 0)
        return -1;
    char *after;
    unsigned long format = strtoul(line->value, &after, 10);
    if (after != line->value + line->value_length || format != PF_MANIFEST_FORMAT)
        return pf_fail(error, PF_EXIT_OUTPUT,
                       "manifest format %.*s is not this pyfreeze's (%d): the image was made by another "
                       "pyfreeze; rebuild it", (int)line->value_length, line->value, PF_MANIFEST_FORMAT);
    return 0;
}

/* First pass: every line known, every single-valued key at most once,
 * every required key there. */
static int survey(const char *text, size_t size, struct pf_error *error)
{
    const char *cursor = text, *end = text + size;
    struct line line = {0};
    int seen[FIELD_COUNT] = {0};
    if (check_format(&cursor, end, &line, error) < 0)
        return -1;
    int more;
    while ((more = next_line(&cursor, end, &line, error)) > 0) {
        const struct field *field = find_field(&line);
        if (field == NULL)
            return pf_fail(error, PF_EXIT_OUTPUT, "manifest line %u: unknown key '%.*s'", line.number,
                           (int)line.key_length, line.key);
        if (field->kind != FIELD_LIST && field->kind != FIELD_PATTERNS && seen[field - fields]++)
            return pf_fail(error, PF_EXIT_OUTPUT, "manifest line %u: '%s' given twice", line.number, field->key);
    }
    if (more < 0)
        return -1;
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (fields[i].required && !seen[i])
            return pf_fail(error, PF_EXIT_OUTPUT, "manifest has no '%s'", fields[i].key);
    }
    return 0;
}

static int set_entry(struct pf_manifest *manifest, char *value, const struct line *line, struct pf_error *error)
{
    char *colon = strchr(value, ':');
    if (colon != NULL) {
        *colon = '\0';
        for (int kind = PF_ENTRY_SCRIPT; kind <= PF_ENTRY_FUNCTION; kind++) {
            if (strcmp(value, entry_kinds[kind]) == 0 && colon[1] != '\0') {
                manifest->entry_kind = (enum pf_entry_kind)kind;
                manifest->entry = colon + 1;
                return 0;
            }
        }
        *colon = ':';
    }
    return pf_fail(error, PF_EXIT_OUTPUT, "manifest line %u: entry '%s' is not KIND:VALUE", line->number, value);
}

static int set_field(struct pf_manifest *manifest, const struct field *field, char *value, const struct line *line,
                     struct pf_error *error)
{
    char *base = (char *)manifest + field->offset;
    char *after;
    switch (field->kind) {
    case FIELD_TEXT: *(const char **)base = value; return 0;
    case FIELD_NUMBER:
        errno = 0;
        *(unsigned long *)base = strtoul(value, &after, 10);
        if (*value < '0' || *value > '9' || *after != '\0' || errno != 0)
            return pf_fail(error, PF_EXIT_OUTPUT, "manifest line %u: %s '%s' is not a number", line->number,
                           field->key, value);
        return 0;
    case FIELD_FLAG:
        if (strcmp(value, "1") != 0)
            return pf_fail(error, PF_EXIT_OUTPUT, "manifest line %u: %s '%s' is not 1", line->number, field->key,
                           value);
        *(int *)base = 1;
        return 0;
    case FIELD_ENTRY: return set_entry(manifest, value, line, error);
    case FIELD_PATTERNS:
        if (!pf_manifest_valid_pattern(value))
            return pf_fail(error, PF_EXIT_OUTPUT, "manifest line %u: %s '%.40s' is not KIND:FLAGS:HEX",
                           line->number, field->key, value);
        /* fall through */
    case FIELD_LIST: {
        struct pf_strings *list = (struct pf_strings *)base;
        list->items[list->count++] = value;
        return 0;
    }
    }
    return 0;
}

/* Gives every list its slice of `slots`, sized by a count of its lines. */
static void carve_lists(struct pf_manifest *manifest, const char *text, const char *end, const char **slots)
{
    int counts[FIELD_COUNT] = {0};
    const char *cursor = text;
    struct line line = {0};
    struct pf_error ignored;
    while (next_line(&cursor, end, &line, &ignored) > 0) {
        const struct field *field = find_field(&line);
        if (field != NULL)
            counts[field - fields]++;
    }
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (fields[i].kind != FIELD_LIST && fields[i].kind != FIELD_PATTERNS)
            continue;
        ((struct pf_strings *)((char *)manifest + fields[i].offset))->items = slots;
        slots += counts[i];
    }
}

/* Second pass, over the private copy: NUL-terminates values in place. */
static int fill(struct pf_manifest *manifest, char *copy, size_t size, struct pf_error *error)
{
    const char *cursor = copy, *end = copy + size;
    struct line line = {0};
    if (check_format(&cursor, end, &line, error) < 0)
        return -1;
    while (next_line(&cursor, end, &line, error) > 0) {
        char *value = (char *)line.value;
        value[line.value_length] = '\0';
        if (set_field(manifest, find_field(&line), value, &line, error) < 0)
            return -1;
    }
    return 0;
}

/* The reader's storage: room for a pointer per line (a line takes at least
 * two bytes) ahead of a copy of the text, with a byte to spare for the
 * last line's terminator.  The dump child's is mapped at a fixed hint far
 * from everything else, so that it moves neither the heap that gets
 * frozen nor where the child's shared libraries land (an image loads them
 * again at those addresses); every other reader's is malloc'd, which on
 * an image's start is cheaper than a mapping by a system call or two. */
#define PF_MANIFEST_HINT ((void *)0x500000000000ul)

static char *allocate_storage(struct pf_manifest *manifest, size_t size, int mapped, struct pf_error *error)
{
    size_t pointers = (size / 2 + 1) * sizeof(const char *);
    size_t storage_size = pointers + size + 1;
    void *storage = mapped ? mmap(PF_MANIFEST_HINT, storage_size, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                           : malloc(storage_size);
    if (storage == (mapped ? MAP_FAILED : NULL)) {
        pf_fail_errno(error, PF_EXIT_INTERNAL, mapped ? errno : ENOMEM, "reading the manifest");
        return NULL;
    }
    manifest->storage = storage;
    manifest->storage_size = storage_size;
    manifest->storage_mapped = mapped;
    return (char *)storage + pointers;
}

/* Parses the text already copied into the storage. */
static int parse_copy(struct pf_manifest *manifest, char *copy, size_t size, struct pf_error *error)
{
    copy[size] = '\0';
    if (survey(copy, size, error) < 0)
        return -1;
    carve_lists(manifest, copy, copy + size, (const char **)manifest->storage);
    return fill(manifest, copy, size, error);
}

int pf_manifest_read(const char *text, size_t size, struct pf_manifest *manifest, struct pf_error *error)
{
    memset(manifest, 0, sizeof *manifest);
    if (size > PF_MANIFEST_MAX)
        return pf_fail(error, PF_EXIT_OUTPUT, "manifest of %zu bytes is implausibly large", size);
    char *copy = allocate_storage(manifest, size, 0, error);
    if (copy == NULL)
        return -1;
    memcpy(copy, text, size);
    if (parse_copy(manifest, copy, size, error) < 0) {
        pf_manifest_release(manifest);
        return -1;
    }
    return 0;
}

int pf_manifest_read_fd(int fd, struct pf_manifest *manifest, struct pf_error *error)
{
    memset(manifest, 0, sizeof *manifest);
    struct stat status;
    if (fstat(fd, &status) < 0)
        return pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "reading the manifest");
    size_t size = (size_t)status.st_size;
    if (status.st_size < 0 || size > PF_MANIFEST_MAX)
        return pf_fail(error, PF_EXIT_INTERNAL, "manifest of %lld bytes is implausibly large",
                       (long long)status.st_size);
    char *copy = allocate_storage(manifest, size, 1, error);
    if (copy == NULL)
        return -1;
    ssize_t got = pf_read_full(fd, copy, size);
    int rc = got == (ssize_t)size ? parse_copy(manifest, copy, size, error)
                                  : pf_fail_errno(error, PF_EXIT_INTERNAL, got < 0 ? errno : EIO,
                                                  "reading the manifest");
    if (rc < 0)
        pf_manifest_release(manifest);
    return rc;
}

void pf_manifest_release(struct pf_manifest *manifest)
{
    if (manifest->storage != NULL && manifest->storage_mapped)
        munmap(manifest->storage, manifest->storage_size);
    else
        free(manifest->storage);
    memset(manifest, 0, sizeof *manifest);
}
