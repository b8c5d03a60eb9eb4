/* /proc/PID/maps, parsed. */
#ifndef PYFREEZE_PROC_MAPS_H
#define PYFREEZE_PROC_MAPS_H

#include "../common/error.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pf_mapping {
    uint64_t start, end, offset;   /* start < end */
    char perms[5];                 /* [r-][w-][x-][ps] */
    char path[PATH_MAX + 32];      /* empty for anonymous mappings; room for " (deleted)" */
};

struct pf_maps {
    struct pf_mapping *items;
    size_t count;
};

/* Parses the text of a maps file.  Lines that do not parse are an error,
 * naming the line: numbers of more than 16 hex digits (or an inode of 2^64
 * or more), signs, blanks or "0x" where a number belongs, permissions
 * other than [r-][w-][x-][ps], an empty or inverted range, a path longer
 * than the record holds or with a NUL in it. */
int pf_maps_parse(const char *text, size_t size, struct pf_maps *maps, struct pf_error *error);

int pf_maps_read(pid_t pid, struct pf_maps *maps, struct pf_error *error);

void pf_maps_free(struct pf_maps *maps);

/* The mapping containing `address`, or NULL. */
const struct pf_mapping *pf_maps_find(const struct pf_maps *maps, uint64_t address);

#endif
