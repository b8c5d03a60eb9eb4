/* Fuzz target for the image writer's layout and its checks
 * (src/elf/image_builder.c) on runtimes the reader (src/elf/runtime_elf.c)
 * accepted.
 *
 * Input: 64 bytes of parameters, then a runtime ELF file.  The parameters
 * are eight little-endian 64-bit words: the frozen heap's start and size,
 * the manifest's size, the number of saved library ranges (taken modulo 5), and
 * the sizes of up to four ranges.  Sums of them may wrap around: the writer
 * must refuse those with a message, not build anything.
 *
 * Every accepted snapshot is laid out with pf_image_size (which reads no
 * snapshot bytes, so any size can be tried).  When the image would be small
 * (under 16 MiB, with a data segment and heap under 4 MiB), it is also
 * built from real buffers of known bytes, and the image must then parse as
 * an image and hold the heap, the manifest, the saved ranges and the pristine
 * data where its info record says.  A violated invariant is an abort()
 * (FUZZ_BUILD_DUMP=FILE leaves an image that does not parse in FILE).
 *
 * Built two ways: with -fsanitize=fuzzer by tests/fuzz/run, and with
 * replay_main.c into fuzz_build_replay, which meson runs over the corpus. */
#define _GNU_SOURCE
#include "common/image_info.h"
#include "elf/image_builder.h"
#include "elf/runtime_elf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARAMETERS 64
#define SMALL ((uint64_t)4 << 20)

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_build: invariant violated: %s\n", what);
    abort();
}

static uint64_t word(const uint8_t *bytes, int index)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = value << 8 | bytes[index * 8 + i];
    return value;
}

static void check_refusal(int rc, const struct pf_error *error, const void *built)
{
    if (rc == 0)
        return;
    if (memchr(error->message, '\0', sizeof error->message) == NULL || error->message[0] == '\0')
        fail("a refusal without a message");
    if (built != NULL)
        fail("a refusal that left an image");
}

/* The image holds `size` bytes equal to `expected` at `address`. */
static void check_bytes(const struct pf_runtime_elf *image, uint64_t address, const void *expected, uint64_t size,
                        const char *what)
{
    if (size == 0)
        return;
    const void *found = pf_elf_bytes_at(image, address, size);
    if (found == NULL || memcmp(found, expected, size) != 0)
        fail(what);
}

static void build_and_check(const struct pf_runtime_elf *runtime, struct pf_snapshot *snapshot, uint64_t planned)
{
    const Elf64_Phdr *data = &runtime->segments[runtime->data_segment];
    unsigned char *live = malloc(data->p_memsz ? data->p_memsz : 1);
    unsigned char *heap = malloc(snapshot->heap_size ? snapshot->heap_size : 1);
    char *manifest = malloc(snapshot->manifest_size ? snapshot->manifest_size : 1);
    unsigned char *range_bytes[4] = {NULL, NULL, NULL, NULL};
    struct pf_snapshot_range ranges[4];
    if (live == NULL || heap == NULL || manifest == NULL)
        fail("out of memory for a small snapshot");
    /* The child's data as it starts: the file part (info record included,
     * which the writer only patches), then .bss. */
    memcpy(live, runtime->bytes + data->p_offset, data->p_filesz);
    memset(live + data->p_filesz, 0, data->p_memsz - data->p_filesz);
    for (uint64_t i = 0; i < snapshot->heap_size; i++)
        heap[i] = (unsigned char)(i * 13 + 5);
    memset(manifest, 's', snapshot->manifest_size);
    for (size_t i = 0; i < snapshot->range_count; i++) {
        ranges[i] = snapshot->ranges[i];
        range_bytes[i] = malloc(ranges[i].size ? ranges[i].size : 1);
        if (range_bytes[i] == NULL)
            fail("out of memory for a small range");
        memset(range_bytes[i], (int)(0x40 + i), ranges[i].size);
        ranges[i].bytes = range_bytes[i];
    }
    snapshot->data = live;
    snapshot->heap = heap;
    snapshot->manifest = manifest;
    snapshot->ranges = ranges;

    struct pf_image built;
    struct pf_error error;
    error.message[0] = '\0';
    int rc = pf_image_build(runtime, snapshot, &built, &error);
    if (rc < 0)
        fail("pf_image_build refused what pf_image_size laid out");
    if (built.size != planned)
        fail("the image's size is not the planned one");

    struct pf_runtime_elf image;
    if (pf_runtime_elf_parse(built.bytes, built.size, "built-image", &image, &error) < 0) {
        fprintf(stderr, "fuzz_build: %s\n", error.message);
        const char *dump = getenv("FUZZ_BUILD_DUMP");   /* where to leave the image, to look at it */
        FILE *file = dump != NULL ? fopen(dump, "wb") : NULL;
        if (file != NULL) {
            fwrite(built.bytes, 1, built.size, file);
            fclose(file);
        }
        fail("a built image does not parse");
    }
    const struct pf_image_info *info = image.info;
    if (info->state != PF_STATE_IMAGE || info->manifest_size != snapshot->manifest_size ||
        info->pristine_size != data->p_filesz || info->saved_range_count != snapshot->range_count)
        fail("the image's info record does not describe it");
    check_bytes(&image, snapshot->heap_start, heap, snapshot->heap_size, "the heap is not where it was");
    check_bytes(&image, info->manifest_addr, manifest, snapshot->manifest_size, "the manifest is not where the record says");
    check_bytes(&image, info->pristine_addr, runtime->bytes + data->p_offset, data->p_filesz,
                "the pristine data is not where the record says");
    if (snapshot->range_count > 0) {
        const struct pf_saved_range *table =
            pf_elf_bytes_at(&image, info->saved_ranges, snapshot->range_count * sizeof *table);
        if (table == NULL)
            fail("the saved-range table is not in the image");
        for (size_t i = 0; i < snapshot->range_count; i++) {
            struct pf_saved_range entry;
            memcpy(&entry, &table[i], sizeof entry);
            if (entry.target != ranges[i].target || entry.size != ranges[i].size)
                fail("a saved range's entry is wrong");
            check_bytes(&image, entry.saved, range_bytes[i], entry.size, "a saved range's bytes are wrong");
        }
    }
    pf_image_free(&built);
    for (size_t i = 0; i < 4; i++)
        free(range_bytes[i]);
    free(live);
    free(heap);
    free(manifest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < PARAMETERS)
        return 0;
    size_t elf_size = size - PARAMETERS;
    unsigned char *bytes = malloc(elf_size ? elf_size : 1);
    if (bytes == NULL)
        return 0;
    memcpy(bytes, data + PARAMETERS, elf_size);

    struct pf_runtime_elf runtime;
    struct pf_error error;
    error.message[0] = '\0';
    if (pf_runtime_elf_parse(bytes, elf_size, "fuzz-runtime", &runtime, &error) < 0 ||
        runtime.info->state != PF_STATE_PRISTINE) {
        free(bytes);
        return 0;
    }
    struct pf_snapshot_range ranges[4];
    size_t range_count = (size_t)(word(data, 3) % 5);
    for (size_t i = 0; i < range_count; i++)
        ranges[i] = (struct pf_snapshot_range){.target = 0x7f0000000000 + i * 0x10000, .size = word(data, (int)(4 + i))};
    struct pf_snapshot snapshot = {
        .heap_start = word(data, 0),
        .heap_size = word(data, 1),
        .manifest_size = word(data, 2),
        .ranges = ranges,
        .range_count = range_count,
    };

    uint64_t planned = 0;
    int rc = pf_image_size(&runtime, &snapshot, &planned, &error);
    check_refusal(rc, &error, NULL);
    if (rc == 0) {
        const Elf64_Phdr *segment = &runtime.segments[runtime.data_segment];
        uint64_t ranges_total = 0;
        for (size_t i = 0; i < range_count; i++)
            ranges_total += ranges[i].size < SMALL ? ranges[i].size : SMALL;
        if (planned < 4 * SMALL && segment->p_memsz < SMALL && snapshot.heap_size < SMALL &&
            snapshot.manifest_size < SMALL && ranges_total < SMALL)
            build_and_check(&runtime, &snapshot, planned);
    }
    free(bytes);
    return 0;
}
