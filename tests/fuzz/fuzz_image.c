/* Fuzz target for the runtime/image reader (src/elf/runtime_elf.c) and the
 * reads `pyfreeze info` (src/cli/info.c) makes of an image it accepted.
 *
 * The bytes are copied into a malloc'd buffer of exactly their size (the
 * parser keeps pointers into it, and AddressSanitizer then catches a read
 * one byte past the file) and handed to pf_runtime_elf_parse.  When it
 * accepts them, this walks what info.c walks:
 *   - every section, looked up again by name with pf_elf_section;
 *   - the fields of the info record, including the strings info.c prints
 *     with %s / strlen (python_version, fs_encoding, fs_errors);
 *   - the GNU build-id note, through pf_elf_build_id (src/elf/build_id.c),
 *     which info.c calls;
 *   - for a finished image (PF_STATE_IMAGE): the manifest, through
 *     pf_elf_bytes_at, and read by pf_manifest_read as info.c reads it;
 *     the file-stamp array, through pf_elf_bytes_at, and each stamp's path,
 *     through pf_elf_string_at (info.c then stat()s it; that is left out).
 * Every pointer the reader returns must lie inside the buffer, with the
 * size asked for (or the string and its NUL) inside too; anything else is
 * an abort().
 *
 * Built two ways: with -fsanitize=fuzzer by tests/fuzz/run, and with
 * replay_main.c into fuzz_image_replay, which meson runs over the corpus. */
#define _GNU_SOURCE
#include "common/image_info.h"
#include "common/manifest.h"
#include "elf/build_id.h"
#include "elf/runtime_elf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Values read are folded in here so the reads cannot be optimised away. */
static volatile uint64_t sink;

static const unsigned char *buffer_start, *buffer_end;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_image: invariant violated: %s\n", what);
    abort();
}

/* [pointer, pointer + length) lies inside the input buffer. */
static void check_range(const void *pointer, uint64_t length, const char *what)
{
    uintptr_t p = (uintptr_t)pointer, start = (uintptr_t)buffer_start, end = (uintptr_t)buffer_end;
    if (p < start || p > end || length > (uint64_t)(end - p))
        fail(what);
}

/* A C string starting at `pointer` ends (NUL included) inside the buffer:
 * what a strlen() or printf("%s") of it reads. */
static size_t check_string(const char *pointer, const char *what)
{
    check_range(pointer, 0, what);
    const char *nul = memchr(pointer, '\0', (size_t)(buffer_end - (const unsigned char *)pointer));
    if (nul == NULL)
        fail(what);
    return (size_t)(nul - pointer);
}

static void walk_sections(const struct pf_runtime_elf *elf)
{
    check_range(elf->sections, (uint64_t)elf->header->e_shnum * sizeof(Elf64_Shdr), "section table");
    check_range(elf->segments, (uint64_t)elf->header->e_phnum * sizeof(Elf64_Phdr), "segment table");
    /* Each lookup is linear, so only the first sections are looked up by
     * name: enough for any real file, and no quadratic slowdown when a large
     * -max_len lets the fuzzer grow e_shnum. */
    unsigned count = elf->header->e_shnum < 256 ? elf->header->e_shnum : 256;
    for (unsigned i = 0; i < count; i++) {
        const char *name = elf->section_names + elf->sections[i].sh_name;
        check_string(name, "section name");
        const Elf64_Shdr *found = pf_elf_section(elf, name);
        /* The first section of that name: never a later one, never none. */
        if (found == NULL || found < elf->sections || found > &elf->sections[i] ||
            strcmp(elf->section_names + found->sh_name, name) != 0)
            fail("pf_elf_section did not find a section by its own name");
        if (found->sh_type != SHT_NOBITS)
            check_range(elf->bytes + found->sh_offset, found->sh_size, "section contents");
    }
}

/* The manifest as info.c reads it (pf_manifest_read), and every string
 * it prints: each must be NUL-terminated. */
static void walk_manifest(const char *text, size_t size)
{
    struct pf_manifest manifest;
    struct pf_error error;
    if (pf_manifest_read(text, size, &manifest, &error) < 0) {
        if (memchr(error.message, '\0', sizeof error.message) == NULL || error.message[0] == '\0')
            fail("a manifest rejected without a message");
        return;
    }
    const struct pf_strings *lists[] = {&manifest.modules, &manifest.blocks, &manifest.paths,
                                        &manifest.libraries, &manifest.read_env, &manifest.read_file};
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        for (int i = 0; i < lists[k]->count; i++)
            sink += strlen(lists[k]->items[i]);
    }
    sink += strlen(manifest.pyfreeze_version) + (manifest.entry != NULL ? strlen(manifest.entry) : 0);
    pf_manifest_release(&manifest);
}

static void walk_stamps(const struct pf_runtime_elf *elf, const struct pf_image_info *info)
{
    uint64_t bytes = (uint64_t)info->stamp_count * sizeof(struct pf_file_stamp);
    const struct pf_file_stamp *stamps = pf_elf_bytes_at(elf, info->stamps, bytes);
    if (stamps == NULL)
        return;
    check_range(stamps, bytes, "stamp array");
    for (uint32_t i = 0; i < info->stamp_count; i++) {
        const char *path = pf_elf_string_at(elf, stamps[i].path);
        if (path != NULL)
            sink += check_string(path, "stamp path");
        sink += stamps[i].size + (uint64_t)stamps[i].mtime_ns;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *bytes = malloc(size ? size : 1);
    if (bytes == NULL)
        return 0;
    if (size)
        memcpy(bytes, data, size);
    buffer_start = bytes;
    buffer_end = bytes + size;

    struct pf_runtime_elf elf;
    struct pf_error error;
    error.message[0] = '\0';
    if (pf_runtime_elf_parse(bytes, size, "fuzz-input", &elf, &error) < 0) {
        if (memchr(error.message, '\0', sizeof error.message) == NULL || error.message[0] == '\0')
            fail("a rejection without a message");
        free(bytes);
        return 0;
    }
    if (elf.bytes != bytes || elf.size != size)
        fail("the parser does not describe the buffer it was given");
    walk_sections(&elf);

    const struct pf_image_info *info = elf.info;
    check_range(info, sizeof *info, "info record");
    if (memcmp(info->magic, PF_INFO_MAGIC, sizeof info->magic) != 0 || info->version != PF_INFO_VERSION)
        fail("accepted an info record with a bad magic or version");
    if (elf.data_segment < 0 || elf.data_segment >= elf.header->e_phnum)
        fail("data segment index out of range");
    if (elf.slot_segment < -1 || elf.slot_segment >= elf.header->e_phnum)
        fail("slot segment index out of range");
    sink += info->state + info->failure + info->pthread_keys + info->heap_start + info->heap_end +
            info->tstate + info->hash_seed + info->pristine_addr + info->pristine_size +
            info->module_count + info->library_count + (info->heap_end - info->heap_start);

    /* What print_text / print_json read of the record: its strings, with
     * printf("%s") and strlen, so each must end inside the file. */
    sink += check_string(info->python_version, "info python_version runs off the end of the file");
    sink += check_string(info->fs_encoding, "info fs_encoding runs off the end of the file");
    sink += check_string(info->fs_errors, "info fs_errors runs off the end of the file");

    char build_id[64];
    memset(build_id, 0x55, sizeof build_id);
    pf_elf_build_id(&elf, build_id, sizeof build_id);
    if (memchr(build_id, '\0', sizeof build_id) == NULL)
        fail("build id not terminated");

    if (info->state == PF_STATE_IMAGE) {
        const char *manifest = pf_elf_bytes_at(&elf, info->manifest_addr, info->manifest_size);
        if (manifest != NULL) {
            check_range(manifest, info->manifest_size, "manifest");
            walk_manifest(manifest, (size_t)info->manifest_size);
        }
        walk_stamps(&elf, info);
    }
    free(bytes);
    return 0;
}
