/* A map from addresses to pointers in memory of its own (malloc'd,
 * outside Python's heap), for bookkeeping the dump does while it imports
 * without putting objects among the modules' objects. */
#ifndef PYFREEZE_POINTER_MAP_H
#define PYFREEZE_POINTER_MAP_H

#include <stddef.h>

struct pf_pointer_pair {
    const void *key;            /* NULL: an empty slot */
    void *value;
};

struct pf_pointer_map {
    struct pf_pointer_pair *slots;      /* a power of two of them */
    size_t capacity, count;
};

/* The value KEY (not NULL) maps to, or NULL. */
void *pf_pointer_map_get(const struct pf_pointer_map *map, const void *key);

/* Maps KEY (not NULL) to VALUE, replacing any value it had.  0, or -1 when
 * memory ran out (the map is unchanged). */
int pf_pointer_map_put(struct pf_pointer_map *map, const void *key, void *value);

/* Calls VISIT (unless NULL) on each value, then empties MAP and frees its
 * memory. */
void pf_pointer_map_clear(struct pf_pointer_map *map, void (*visit)(void *value));

#endif
