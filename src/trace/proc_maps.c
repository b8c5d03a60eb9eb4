#define _GNU_SOURCE
#include "proc_maps.h"

#include "../common/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line: "start-end perms offset dev inode [path]". */
static int parse_line(const char *line, size_t length, struct pf_mapping *out)
{
    char buffer[1024];
    if (length >= sizeof buffer)
        length = sizeof buffer - 1;
    memcpy(buffer, line, length);
    buffer[length] = '\0';
    int consumed = 0;
    unsigned long long start, end, offset, inode;
    char perms[8], device[32];
    if (sscanf(buffer, "%llx-%llx %7s %llx %31s %llu %n", &start, &end, perms, &offset, device,
               &inode, &consumed) < 6 || start > end || strlen(perms) != 4)
        return -1;
    out->start = start;
    out->end = end;
    out->offset = offset;
    memcpy(out->perms, perms, 5);
    snprintf(out->path, sizeof out->path, "%s", buffer + consumed);
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
