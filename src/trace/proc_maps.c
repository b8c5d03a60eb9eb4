#define _GNU_SOURCE
#include "proc_maps.h"

#include "../common/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fields are parsed by hand rather than with sscanf, whose %llx takes
 * a sign, leading blanks and "0x", and whose behaviour on a number too big
 * for its type is undefined: every number here is 1 to 16 hex digits (the
 * inode decimal, below 2^64), so none can overflow. */
struct cursor {
    const char *at, *end;
};

static int hex_number(struct cursor *c, uint64_t *out)
{
    uint64_t value = 0;
    int digits = 0;
    for (; c->at < c->end && digits < 17; c->at++, digits++) {
        char ch = *c->at;
        unsigned digit;
        if (ch >= '0' && ch <= '9')
            digit = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            digit = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            digit = (unsigned)(ch - 'A' + 10);
        else
            break;
        value = value << 4 | digit;
    }
    if (digits == 0 || digits > 16)
        return -1;
    *out = value;
    return 0;
}

static int decimal_number(struct cursor *c, uint64_t *out)
{
    uint64_t value = 0;
    int digits = 0;
    for (; c->at < c->end && *c->at >= '0' && *c->at <= '9'; c->at++, digits++) {
        if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, (uint64_t)(*c->at - '0'), &value))
            return -1;
    }
    if (digits == 0)
        return -1;
    *out = value;
    return 0;
}

static int expect(struct cursor *c, char ch)
{
    if (c->at >= c->end || *c->at != ch)
        return -1;
    c->at++;
    return 0;
}

static int perms_field(struct cursor *c, char perms[5])
{
    static const char allowed[4][3] = {"r-", "w-", "x-", "ps"};
    if (c->end - c->at < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (c->at[i] == '\0' || memchr(allowed[i], c->at[i], 2) == NULL)
            return -1;
        perms[i] = c->at[i];
    }
    perms[4] = '\0';
    c->at += 4;
    return 0;
}

/* One line: "start-end perms offset major:minor inode[ spaces path]". */
static int parse_line(const char *line, size_t length, struct pf_mapping *out)
{
    struct cursor c = {line, line + length};
    uint64_t major, minor, inode;
    if (hex_number(&c, &out->start) < 0 || expect(&c, '-') < 0 || hex_number(&c, &out->end) < 0 ||
        expect(&c, ' ') < 0 || perms_field(&c, out->perms) < 0 || expect(&c, ' ') < 0 ||
        hex_number(&c, &out->offset) < 0 || expect(&c, ' ') < 0 || hex_number(&c, &major) < 0 ||
        expect(&c, ':') < 0 || hex_number(&c, &minor) < 0 || expect(&c, ' ') < 0 ||
        decimal_number(&c, &inode) < 0)
        return -1;
    if (out->start >= out->end)
        return -1;   /* the kernel never lists an empty or inverted range */
    out->path[0] = '\0';
    if (c.at == c.end)
        return 0;
    if (*c.at != ' ')
        return -1;
    while (c.at < c.end && *c.at == ' ')
        c.at++;
    size_t path_length = (size_t)(c.end - c.at);
    if (path_length >= sizeof out->path || memchr(c.at, '\0', path_length) != NULL)
        return -1;   /* longer than any path the kernel prints, or not text */
    memcpy(out->path, c.at, path_length);
    out->path[path_length] = '\0';
    return 0;
}

int pf_maps_parse(const char *text, size_t size, struct pf_maps *maps, struct pf_error *error)
{
    maps->items = NULL;
    maps->count = 0;
    size_t capacity = 0;
    const char *end = text + size;
    for (const char *line = text; line < end;) {
        const char *newline = memchr(line, '\n', (size_t)(end - line));
        size_t length = (size_t)((newline ? newline : end) - line);
        if (length > 0) {
            if (maps->count == capacity) {
                capacity = capacity ? capacity * 2 : 64;
                struct pf_mapping *grown = realloc(maps->items, capacity * sizeof *grown);
                if (grown == NULL) {
                    pf_maps_free(maps);
                    return pf_fail(error, PF_EXIT_INTERNAL, "parsing memory maps: out of memory");
                }
                maps->items = grown;
            }
            if (parse_line(line, length, &maps->items[maps->count]) < 0) {
                pf_maps_free(maps);
                return pf_fail(error, PF_EXIT_TRACE, "parsing memory maps: malformed line '%.*s'",
                               (int)(length > 200 ? 200 : length), line);
            }
            maps->count++;
        }
        line += length + 1;
    }
    return 0;
}

int pf_maps_read(pid_t pid, struct pf_maps *maps, struct pf_error *error)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    char *text;
    size_t size;
    if (pf_read_file(path, &text, &size) < 0)
        return pf_fail_errno(error, PF_EXIT_TRACE, errno, "reading %s", path);
    int rc = pf_maps_parse(text, size, maps, error);
    free(text);
    return rc;
}

void pf_maps_free(struct pf_maps *maps)
{
    free(maps->items);
    maps->items = NULL;
    maps->count = 0;
}

const struct pf_mapping *pf_maps_find(const struct pf_maps *maps, uint64_t address)
{
    for (size_t i = 0; i < maps->count; i++) {
        if (address >= maps->items[i].start && address < maps->items[i].end)
            return &maps->items[i];
    }
    return NULL;
}
