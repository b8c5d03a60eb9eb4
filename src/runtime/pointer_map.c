#include "pointer_map.h"

#include <stdint.h>
#include <stdlib.h>

static size_t slot_of(const void *key, size_t capacity)
{
    /* Objects are 16-byte aligned: the low bits tell nothing. */
    uint64_t bits = ((uint64_t)(uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ull;
    return (size_t)(bits >> 20) & (capacity - 1);
}

static struct pf_pointer_pair *find(struct pf_pointer_pair *slots, size_t capacity, const void *key)
{
    size_t slot = slot_of(key, capacity);
    while (slots[slot].key != NULL && slots[slot].key != key)
        slot = (slot + 1) & (capacity - 1);
    return &slots[slot];
}

static int grow(struct pf_pointer_map *map)
{
    size_t capacity = map->capacity ? map->capacity * 2 : 1024;
    struct pf_pointer_pair *slots = calloc(capacity, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < map->capacity; i++) {
        if (map->slots[i].key != NULL)
            *find(slots, capacity, map->slots[i].key) = map->slots[i];
    }
    free(map->slots);
    map->slots = slots;
    map->capacity = capacity;
    return 0;
}

void *pf_pointer_map_get(const struct pf_pointer_map *map, const void *key)
{
    return map->capacity ? find(map->slots, map->capacity, key)->value : NULL;
}

int pf_pointer_map_put(struct pf_pointer_map *map, const void *key, void *value)
{
    if ((map->count + 1) * 2 > map->capacity && grow(map) < 0)
        return -1;
    struct pf_pointer_pair *pair = find(map->slots, map->capacity, key);
    if (pair->key == NULL)
        map->count++;
    *pair = (struct pf_pointer_pair){key, value};
    return 0;
}

void pf_pointer_map_clear(struct pf_pointer_map *map, void (*visit)(void *value))
{
    for (size_t i = 0; visit != NULL && i < map->capacity; i++) {
        if (map->slots[i].key != NULL)
            visit(map->slots[i].value);
    }
    free(map->slots);
    *map = (struct pf_pointer_map){NULL, 0, 0};
}
