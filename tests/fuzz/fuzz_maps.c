/* Fuzz target for the /proc/PID/maps parser (src/trace/proc_maps.c).
 *
 * The bytes are handed to pf_maps_parse as maps text, exactly as
 * pf_maps_read hands it the contents of the file.  When they parse, every
 * record is checked against what the tracer relies on, and pf_maps_find is
 * asked about each mapping's first byte, last byte and end.  A violated
 * invariant is an abort(), so libFuzzer (or the replay program) reports it
 * with the input that caused it.
 *
 * Built two ways: with -fsanitize=fuzzer by tests/fuzz/run, and with
 * replay_main.c into fuzz_maps_replay, which meson runs over the corpus. */
#define _GNU_SOURCE
#include "trace/proc_maps.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, size_t index, const struct pf_mapping *mapping)
{
    fprintf(stderr, "fuzz_maps: invariant violated: %s (mapping %zu: %llx-%llx)\n", what, index,
            (unsigned long long)mapping->start, (unsigned long long)mapping->end);
    abort();
}

static void check_mapping(const struct pf_maps *maps, size_t index, int probe)
{
    const struct pf_mapping *mapping = &maps->items[index];
    if (mapping->start >= mapping->end)
        fail("an empty or inverted range accepted", index, mapping);
    if (memchr(mapping->perms, '\0', sizeof mapping->perms) == NULL)
        fail("perms not NUL-terminated", index, mapping);
    if (strlen(mapping->perms) != 4 || strchr("r-", mapping->perms[0]) == NULL ||
        strchr("w-", mapping->perms[1]) == NULL || strchr("x-", mapping->perms[2]) == NULL ||
        strchr("ps", mapping->perms[3]) == NULL)
        fail("perms are not [r-][w-][x-][ps]", index, mapping);
    if (memchr(mapping->path, '\0', sizeof mapping->path) == NULL)
        fail("path not NUL-terminated", index, mapping);
    if (strchr(mapping->path, '\n') != NULL)
        fail("path runs into the next line", index, mapping);
    if (mapping->path[0] == ' ')
        fail("path keeps the padding before it", index, mapping);

    /* pf_maps_find returns the first mapping containing the address, so
     * for a non-empty mapping it must find one that contains its first and
     * last byte; for any address the answer must contain it. */
    const uint64_t probes[3] = {mapping->start, mapping->end - 1, mapping->end};
    for (int i = 0; probe && i < 3; i++) {
        if (i == 1 && mapping->start == mapping->end)
            continue;   /* end - 1 lies outside an empty mapping */
        const struct pf_mapping *found = pf_maps_find(maps, probes[i]);
        if (found != NULL) {
            if (found < maps->items || found >= maps->items + maps->count)
                fail("pf_maps_find returned a pointer outside the array", index, mapping);
            if (probes[i] < found->start || probes[i] >= found->end)
                fail("pf_maps_find returned a mapping not containing the address", index, mapping);
            if (found > mapping && probes[i] < mapping->end && probes[i] >= mapping->start)
                fail("pf_maps_find skipped an earlier mapping containing the address", index, mapping);
        } else if (i < 2 && mapping->start < mapping->end) {
            fail("pf_maps_find missed an address inside a mapping", index, mapping);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that a read one byte past the text is caught
     * by AddressSanitizer rather than landing in libFuzzer's own buffer. */
    char *text = malloc(size ? size : 1);
    if (text == NULL)
        return 0;
    if (size)
        memcpy(text, data, size);

    struct pf_maps maps;
    struct pf_error error;
    error.message[0] = '\0';
    if (pf_maps_parse(text, size, &maps, &error) == 0) {
        if (maps.count > 0 && maps.items == NULL)
            abort();
        /* pf_maps_find is linear, so probing every mapping is quadratic:
         * the first 1000 are probed, the rest only checked. */
        for (size_t i = 0; i < maps.count; i++)
            check_mapping(&maps, i, i < 1000);
        pf_maps_free(&maps);
        if (maps.items != NULL || maps.count != 0)
            abort();
    } else {
        /* A failure leaves nothing allocated and a terminated message. */
        if (maps.items != NULL || maps.count != 0)
            abort();
        if (memchr(error.message, '\0', sizeof error.message) == NULL || error.message[0] == '\0')
            abort();
    }
    free(text);
    return 0;
}
