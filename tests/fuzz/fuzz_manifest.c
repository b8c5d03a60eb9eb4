/* Fuzz target for the manifest reader and writer (src/common/manifest.c).
 *
 * Any bytes go to pf_manifest_read.  A refusal must come with a message.
 * What it accepts must survive a round trip: written back by
 * pf_manifest_write, that text must be read again into the same manifest,
 * and written again into the same bytes (the writer is the reader's
 * inverse on what the reader accepts).  Anything else is an abort().
 *
 * Built two ways: with -fsanitize=fuzzer by tests/fuzz/run, and with
 * replay_main.c into fuzz_manifest_replay, which meson runs over the
 * corpus. */
#define _GNU_SOURCE
#include "common/manifest.h"
#include "../manifest_equal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void fail(const char *what)
{
    fprintf(stderr, "fuzz_manifest: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pf_manifest first, second;
    struct pf_error error;
    error.message[0] = '\0';
    if (pf_manifest_read((const char *)data, size, &first, &error) < 0) {
        if (memchr(error.message, '\0', sizeof error.message) == NULL || error.message[0] == '\0')
            fail("a refusal without a message");
        return 0;
    }
    char *text, *again;
    size_t text_size, again_size;
    if (pf_manifest_write(&first, &text, &text_size, &error) < 0)
        fail("an accepted manifest cannot be written back");
    if (pf_manifest_read(text, text_size, &second, &error) < 0)
        fail("the writer's text is refused by the reader");
    if (!manifests_equal(&first, &second))
        fail("a round trip changed the manifest");
    if (pf_manifest_write(&second, &again, &again_size, &error) < 0 || again_size != text_size ||
        memcmp(text, again, text_size) != 0)
        fail("writing the same manifest twice gave different text");
    free(text);
    free(again);
    pf_manifest_release(&first);
    pf_manifest_release(&second);
    return 0;
}
