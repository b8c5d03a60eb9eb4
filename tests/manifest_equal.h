/* Field-by-field equality of two manifests (src/common/manifest.h), for the
 * unit test and the fuzz target, which both check that what the writer
 * writes the reader reads back. */
#ifndef PYFREEZE_TEST_MANIFEST_EQUAL_H
#define PYFREEZE_TEST_MANIFEST_EQUAL_H

#include "common/manifest.h"

#include <string.h>

static inline int manifest_text_equal(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static inline int manifest_list_equal(const struct pf_strings *a, const struct pf_strings *b)
{
    if (a->count != b->count)
        return 0;
    for (int i = 0; i < a->count; i++) {
        if (strcmp(a->items[i], b->items[i]) != 0)
            return 0;
    }
    return 1;
}

static inline int manifests_equal(const struct pf_manifest *a, const struct pf_manifest *b)
{
    const char *const texts_a[] = {a->pyfreeze_version, a->runtime, a->entry, a->interpreter, a->script, a->program};
    const char *const texts_b[] = {b->pyfreeze_version, b->runtime, b->entry, b->interpreter, b->script, b->program};
    const struct pf_strings *const lists_a[] = {&a->modules, &a->learned, &a->learned_patterns, &a->blocks, &a->paths,
                                                &a->search, &a->libraries, &a->read_env, &a->read_file};
    const struct pf_strings *const lists_b[] = {&b->modules, &b->learned, &b->learned_patterns, &b->blocks, &b->paths,
                                                &b->search, &b->libraries, &b->read_env, &b->read_file};
    for (size_t i = 0; i < sizeof texts_a / sizeof texts_a[0]; i++) {
        if (!manifest_text_equal(texts_a[i], texts_b[i]))
            return 0;
    }
    for (size_t i = 0; i < sizeof lists_a / sizeof lists_a[0]; i++) {
        if (!manifest_list_equal(lists_a[i], lists_b[i]))
            return 0;
    }
    return a->hash_seed == b->hash_seed && a->entry_kind == b->entry_kind && a->native == b->native &&
           a->in_root == b->in_root && a->verbose == b->verbose;
}

#endif
