/* Unit tests for the runtime ELF reader and the image writer
 * (src/elf/runtime_elf.c, src/elf/image_builder.c).
 *
 * Usage: test_image_builder PATH-TO-pyfreeze-runtime
 *
 * The image is built from a synthetic snapshot (the runtime's own data
 * segment, a fake heap of known bytes, a short manifest) instead of a traced
 * child, so every byte the writer places can be checked; the image is then
 * read back with the same reader pyfreeze uses, and the reader is fed
 * damaged files that must be refused without crashing. */
#define _GNU_SOURCE
#include "elf/image_builder.h"
#include "check.h"
#include "elf/runtime_elf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define PAGE 4096u

/* --- ELF helpers ------------------------------------------------------------ */

static int segment_holds(const Elf64_Phdr *segment, uint64_t address, uint64_t size)
{
    return address >= segment->p_vaddr && size <= segment->p_memsz &&
           address - segment->p_vaddr <= segment->p_memsz - size;
}

/* The PT_LOAD covering [address, address + size), or NULL. */
static const Elf64_Phdr *load_for(const struct pf_runtime_elf *elf, uint64_t address, uint64_t size)
{
    for (unsigned i = 0; i < elf->header->e_phnum; i++)
        if (elf->segments[i].p_type == PT_LOAD && segment_holds(&elf->segments[i], address, size))
            return &elf->segments[i];
    return NULL;
}

/* The file bytes backing [address, address + size), or NULL when they are
 * not all in the file part of one PT_LOAD. */
static const unsigned char *file_bytes_at(const struct pf_runtime_elf *elf, uint64_t address, uint64_t size)
{
    const Elf64_Phdr *segment = load_for(elf, address, size);
    if (segment == NULL || address - segment->p_vaddr + size > segment->p_filesz)
        return NULL;
    return elf->bytes + segment->p_offset + (address - segment->p_vaddr);
}

static const char *section_name(const struct pf_runtime_elf *elf, const Elf64_Shdr *section)
{
    return elf->section_names + section->sh_name;
}

/* The index of the first program header of `type`, or -1. */
static int first_of_type(const struct pf_runtime_elf *rt, uint32_t type)
{
    for (int i = 0; i < rt->header->e_phnum; i++)
        if (rt->segments[i].p_type == type)
            return i;
    return -1;
}

static uint64_t page_up(uint64_t value)
{
    return (value + PAGE - 1) / PAGE * PAGE;
}

/* --- the runtime as read ------------------------------------------------------ */

static void check_runtime(const struct pf_runtime_elf *rt)
{
    CHECK(rt->header->e_type == ET_EXEC, "runtime e_type %u", rt->header->e_type);
    int data = rt->data_segment;
    if (!CHECK(data >= 0 && data < rt->header->e_phnum, "data segment index %d", data))
        return;
    const Elf64_Phdr *segment = &rt->segments[data];
    CHECK(segment->p_type == PT_LOAD && (segment->p_flags & PF_W), "data segment type %u flags %#x",
          segment->p_type, segment->p_flags);
    CHECK(segment->p_filesz <= segment->p_memsz && segment->p_offset % PAGE == segment->p_vaddr % PAGE,
          "data segment filesz %#llx memsz %#llx", (unsigned long long)segment->p_filesz,
          (unsigned long long)segment->p_memsz);
    CHECK(segment_holds(segment, rt->info_address, sizeof(struct pf_image_info)),
          "info record %#llx is not inside the data segment", (unsigned long long)rt->info_address);

    const Elf64_Shdr *info = pf_elf_section(rt, PF_INFO_SECTION);
    CHECK(info != NULL && info->sh_addr == rt->info_address, "info_address %#llx is not the " PF_INFO_SECTION
          " section", (unsigned long long)rt->info_address);
    CHECK(info != NULL && (const unsigned char *)rt->info == rt->bytes + info->sh_offset,
          "info points elsewhere than the section's bytes");
    CHECK(rt->info->state == PF_STATE_PRISTINE, "runtime state %u", rt->info->state);
    CHECK(memcmp(rt->info->magic, PF_INFO_MAGIC, 16) == 0 && rt->info->version == PF_INFO_VERSION,
          "bad info magic or version %u", rt->info->version);

    int slot = rt->slot_segment;
    if (CHECK(slot >= 0 && slot < rt->header->e_phnum && slot != data, "slot segment index %d", slot)) {
        const Elf64_Shdr *section = pf_elf_section(rt, PF_SLOT_SECTION);
        CHECK(rt->segments[slot].p_type == PT_LOAD && section != NULL &&
                  segment_holds(&rt->segments[slot], section->sh_addr, section->sh_size),
              "the slot segment does not hold %s", PF_SLOT_SECTION);
    }

    CHECK(pf_elf_section(rt, ".nonexistent") == NULL, "found a section that does not exist");
    const Elf64_Shdr *text = pf_elf_section(rt, ".text");
    CHECK(text != NULL && strcmp(section_name(rt, text), ".text") == 0, "no .text section");
}

/* --- building ------------------------------------------------------------ */

struct fixture {
    unsigned char *data;
    unsigned char *heap;
    struct pf_snapshot snapshot;
};

/* The runtime's data segment as a child would hold it before running:
 * the file part, then .bss zeroed; a heap of a known pattern. */
static void make_snapshot(const struct pf_runtime_elf *rt, uint64_t heap_start, uint64_t heap_size,
                          const char *manifest, struct fixture *fixture)
{
    const Elf64_Phdr *data = &rt->segments[rt->data_segment];
    fixture->data = calloc(1, data->p_memsz);
    memcpy(fixture->data, rt->bytes + data->p_offset, data->p_filesz);
    fixture->heap = malloc(heap_size ? heap_size : 1);
    for (uint64_t i = 0; i < heap_size; i++)
        fixture->heap[i] = (unsigned char)(i * 7 + i / PAGE + 3);
    fixture->snapshot = (struct pf_snapshot){
        .data = fixture->data,
        .heap = fixture->heap,
        .heap_start = heap_start,
        .heap_size = heap_size,
        .manifest = manifest,
        .manifest_size = strlen(manifest),
    };
}

static void drop_snapshot(struct fixture *fixture)
{
    free(fixture->data);
    free(fixture->heap);
}

/* --- the image, read back -------------------------------------------------------- */

static void check_info(const struct pf_runtime_elf *rt, const struct pf_runtime_elf *im,
                       const struct pf_snapshot *snap)
{
    const struct pf_image_info *info = im->info;
    const Elf64_Phdr *data = &rt->segments[rt->data_segment];
    CHECK(info->state == PF_STATE_IMAGE, "image state %u", info->state);
    CHECK(info->pristine_size == data->p_filesz, "pristine_size %llu, data filesz %llu",
          (unsigned long long)info->pristine_size, (unsigned long long)data->p_filesz);
    CHECK(info->pristine_addr >= snap->heap_start + snap->heap_size && info->pristine_addr % PAGE == 0,
          "pristine_addr %#llx", (unsigned long long)info->pristine_addr);
    CHECK(info->manifest_addr != 0 && info->manifest_size == snap->manifest_size, "manifest at %#llx, %llu bytes",
          (unsigned long long)info->manifest_addr, (unsigned long long)info->manifest_size);

    /* Nothing else in the record changes: it is the snapshot's. */
    struct pf_image_info expected;
    memcpy(&expected, snap->data + (rt->info_address - data->p_vaddr), sizeof expected);
    expected.state = PF_STATE_IMAGE;
    expected.pristine_addr = info->pristine_addr;
    expected.pristine_size = info->pristine_size;
    expected.manifest_addr = info->manifest_addr;
    expected.manifest_size = info->manifest_size;
    CHECK(memcmp(&expected, info, sizeof expected) == 0, "the image's info record differs from the snapshot's");
}

static void check_heap_segment(const struct pf_runtime_elf *im, const struct pf_snapshot *snap)
{
    const Elf64_Phdr *heap = load_for(im, snap->heap_start, snap->heap_size ? snap->heap_size : 1);
    if (!CHECK(heap != NULL, "no PT_LOAD covers the heap at %#llx", (unsigned long long)snap->heap_start))
        return;
    CHECK(heap->p_vaddr == snap->heap_start, "heap segment starts at %#llx", (unsigned long long)heap->p_vaddr);
    CHECK(heap->p_filesz == heap->p_memsz, "heap segment filesz %#llx memsz %#llx",
          (unsigned long long)heap->p_filesz, (unsigned long long)heap->p_memsz);
    CHECK(heap->p_flags == (PF_R | PF_W), "heap segment flags %#x", heap->p_flags);
    CHECK(heap->p_offset % PAGE == heap->p_vaddr % PAGE, "heap offset %#llx vs vaddr %#llx",
          (unsigned long long)heap->p_offset, (unsigned long long)heap->p_vaddr);
    CHECK(heap->p_offset + heap->p_filesz <= im->size, "heap segment runs past the file");
    const unsigned char *bytes = file_bytes_at(im, snap->heap_start, snap->heap_size);
    CHECK(bytes != NULL && memcmp(bytes, snap->heap, snap->heap_size) == 0, "heap bytes differ in the image");
}

static void check_extras(const struct pf_runtime_elf *rt, const struct pf_runtime_elf *im,
                         const struct pf_snapshot *snap)
{
    const Elf64_Phdr *data = &rt->segments[rt->data_segment];
    const unsigned char *pristine = file_bytes_at(im, im->info->pristine_addr, im->info->pristine_size);
    CHECK(pristine != NULL && memcmp(pristine, rt->bytes + data->p_offset, data->p_filesz) == 0,
          "the pristine copy is missing or differs from the runtime's data");
    const unsigned char *manifest = file_bytes_at(im, im->info->manifest_addr, im->info->manifest_size);
    CHECK(manifest != NULL && memcmp(manifest, snap->manifest, snap->manifest_size) == 0, "the manifest is not at manifest_addr");
    CHECK(load_for(im, im->info->pristine_addr, 1) == load_for(im, snap->heap_start, 1),
          "pristine copy and heap are not in one segment");
}

static void check_data_segment(const struct pf_runtime_elf *rt, const struct pf_runtime_elf *im,
                               const struct pf_snapshot *snap)
{
    if (!CHECK(im->data_segment == rt->data_segment, "image data segment %d, runtime's %d", im->data_segment,
               rt->data_segment))
        return;
    const Elf64_Phdr *data = &im->segments[im->data_segment];
    const Elf64_Phdr *old = &rt->segments[rt->data_segment];
    CHECK(data->p_filesz == data->p_memsz && data->p_memsz == old->p_memsz, "data filesz %#llx memsz %#llx",
          (unsigned long long)data->p_filesz, (unsigned long long)data->p_memsz);
    CHECK(data->p_vaddr == old->p_vaddr && data->p_offset == old->p_offset && data->p_flags == old->p_flags,
          "data segment moved or changed flags");
    /* Every byte but the patched info record is the snapshot's. */
    const unsigned char *bytes = im->bytes + data->p_offset;
    size_t info_at = rt->info_address - data->p_vaddr, info_end = info_at + sizeof(struct pf_image_info);
    CHECK(memcmp(bytes, snap->data, info_at) == 0 &&
              memcmp(bytes + info_end, snap->data + info_end, data->p_memsz - info_end) == 0,
          "data bytes differ from the snapshot");
}

static void check_program_headers(const struct pf_runtime_elf *rt, const struct pf_runtime_elf *im)
{
    CHECK(im->header->e_phnum == rt->header->e_phnum && im->header->e_phoff == rt->header->e_phoff,
          "program header table moved or resized");
    const Elf64_Phdr *previous = NULL;
    unsigned loads = 0;
    for (unsigned i = 0; i < im->header->e_phnum; i++) {
        const Elf64_Phdr *segment = &im->segments[i];
        if (segment->p_type != PT_LOAD)
            continue;
        loads++;
        CHECK(segment->p_offset % PAGE == segment->p_vaddr % PAGE, "PT_LOAD %u offset %#llx vaddr %#llx", i,
              (unsigned long long)segment->p_offset, (unsigned long long)segment->p_vaddr);
        if (previous != NULL)
            CHECK(previous->p_vaddr + previous->p_memsz <= segment->p_vaddr,
                  "PT_LOAD %u at %#llx is not above the previous one ending at %#llx", i,
                  (unsigned long long)segment->p_vaddr,
                  (unsigned long long)(previous->p_vaddr + previous->p_memsz));
        previous = segment;
    }
    /* The runtime's loads, the slot's now the heap's. */
    unsigned runtime_loads = 0;
    for (unsigned i = 0; i < rt->header->e_phnum; i++)
        runtime_loads += rt->segments[i].p_type == PT_LOAD;
    CHECK(loads == runtime_loads, "%u PT_LOADs in the image, %u in the runtime", loads, runtime_loads);
    /* The rest of the file before the data segment is the runtime's. */
    uint64_t table_end = rt->header->e_phoff + (uint64_t)rt->header->e_phnum * sizeof(Elf64_Phdr);
    uint64_t data_offset = rt->segments[rt->data_segment].p_offset;
    CHECK(memcmp(im->bytes + sizeof(Elf64_Ehdr), rt->bytes + sizeof(Elf64_Ehdr),
                 rt->header->e_phoff - sizeof(Elf64_Ehdr)) == 0 &&
              memcmp(im->bytes + table_end, rt->bytes + table_end, data_offset - table_end) == 0,
          "text or read-only bytes changed");
}

static void check_sections(const struct pf_runtime_elf *rt, const struct pf_runtime_elf *im)
{
    if (!CHECK(im->header->e_shnum == rt->header->e_shnum && im->header->e_shstrndx == rt->header->e_shstrndx,
               "section table size %u/%u, names %u/%u", im->header->e_shnum, rt->header->e_shnum,
               im->header->e_shstrndx, rt->header->e_shstrndx))
        return;
    unsigned copied = 0;
    for (unsigned i = 1; i < im->header->e_shnum; i++) {
        const Elf64_Shdr *new = &im->sections[i], *old = &rt->sections[i];
        const char *name = section_name(im, new);
        CHECK(strcmp(name, section_name(rt, old)) == 0 && new->sh_addr == old->sh_addr &&
                  new->sh_size == old->sh_size,
              "section %u (%s) renamed, moved or resized", i, name);
        if (!(new->sh_flags & SHF_ALLOC) && new->sh_type != SHT_NOBITS) {
            copied++;
            CHECK(memcmp(im->bytes + new->sh_offset, rt->bytes + old->sh_offset, old->sh_size) == 0,
                  "non-alloc section %s differs from the runtime's", name);
        } else if ((new->sh_flags & SHF_ALLOC) && new->sh_type != SHT_NOBITS) {
            /* Tools find an allocated section's bytes through its file
             * offset; it must agree with the segment holding it. */
            const Elf64_Phdr *segment = load_for(im, new->sh_addr, new->sh_size);
            CHECK(segment != NULL && new->sh_offset - segment->p_offset == new->sh_addr - segment->p_vaddr &&
                      new->sh_addr - segment->p_vaddr + new->sh_size <= segment->p_filesz,
                  "section %s at offset %#llx does not match its segment", name,
                  (unsigned long long)new->sh_offset);
        }
    }
    CHECK(copied >= 3, "only %u non-alloc sections", copied);
    static const char *const needed[] = {".symtab", ".strtab", ".shstrtab"};
    for (size_t i = 0; i < sizeof needed / sizeof *needed; i++) {
        const Elf64_Shdr *section = pf_elf_section(im, needed[i]);
        CHECK(section != NULL && !(section->sh_flags & SHF_ALLOC), "image lacks %s", needed[i]);
    }
    const Elf64_Shdr *slot = pf_elf_section(im, PF_SLOT_SECTION);
    CHECK(slot != NULL && slot->sh_type == SHT_NOBITS, "%s still claims file bytes", PF_SLOT_SECTION);
    const Elf64_Shdr *bss = pf_elf_section(im, ".bss");
    CHECK(bss == NULL || bss->sh_type == SHT_PROGBITS, ".bss has no file bytes in the image");
}

/* What a child's run does to its data: writes all over .data and .bss,
 * but leaves the info record to the image writer.  Makes the live data
 * differ from the pristine bytes, so a mix-up of the two shows. */
static void scribble(const struct pf_runtime_elf *rt, struct fixture *fixture)
{
    const Elf64_Phdr *data = &rt->segments[rt->data_segment];
    size_t info_at = rt->info_address - data->p_vaddr, info_end = info_at + sizeof(struct pf_image_info);
    for (size_t i = 0; i < data->p_memsz; i += 61)
        if (i < info_at || i >= info_end)
            fixture->data[i] = (unsigned char)(fixture->data[i] + 1 + i % 7);
}

/* Builds an image for a heap at `heap_start` and checks it from every side. */
static void test_build(const struct pf_runtime_elf *rt, uint64_t heap_start, uint64_t heap_size, const char *manifest,
                       int live_data)
{
    struct fixture fixture;
    make_snapshot(rt, heap_start, heap_size, manifest, &fixture);
    if (live_data)
        scribble(rt, &fixture);
    struct pf_image image;
    struct pf_error error;
    memset(&error, 0, sizeof error);
    int rc = pf_image_build(rt, &fixture.snapshot, &image, &error);
    if (CHECK(rc == 0 && image.bytes != NULL && image.size > 0, "building with heap at %#llx: %s",
              (unsigned long long)heap_start, error.message)) {
        struct pf_runtime_elf im;
        rc = pf_runtime_elf_parse(image.bytes, image.size, "image", &im, &error);
        if (CHECK(rc == 0, "the image does not parse: %s", error.message)) {
            check_info(rt, &im, &fixture.snapshot);
            check_heap_segment(&im, &fixture.snapshot);
            check_extras(rt, &im, &fixture.snapshot);
            check_data_segment(rt, &im, &fixture.snapshot);
            check_program_headers(rt, &im);
            check_sections(rt, &im);

            /* An image is no template for another image. */
            struct pf_image again;
            memset(&error, 0, sizeof error);
            rc = pf_image_build(&im, &fixture.snapshot, &again, &error);
            CHECK(rc == -1 && again.bytes == NULL, "an image was used as a runtime");
            CHECK(rc == 0 || (error.message[0] != '\0' && strstr(error.message, "image") != NULL),
                  "message for building from an image: '%s'", error.message);
            if (rc == 0)
                pf_image_free(&again);
        }
        pf_image_free(&image);
        CHECK(image.bytes == NULL && image.size == 0, "pf_image_free left the image set");
    }
    drop_snapshot(&fixture);
}

/* The real runtime's non-alloc sections happen to end in zero bytes, which
 * would hide a copy that drops the last byte; build from a copy of the
 * runtime whose sections end in a marker instead. */
static void test_marked_sections(const struct pf_runtime_elf *rt)
{
    unsigned char *copy = malloc(rt->size);
    memcpy(copy, rt->bytes, rt->size);
    unsigned marked = 0;
    for (unsigned i = 1; i < rt->header->e_shnum; i++) {
        const Elf64_Shdr *section = &rt->sections[i];
        if (!(section->sh_flags & SHF_ALLOC) && section->sh_type != SHT_NOBITS && section->sh_size > 0 &&
            i != rt->header->e_shstrndx) {
            copy[section->sh_offset] = 0xa5;
            copy[section->sh_offset + section->sh_size - 1] = 0x5a;
            marked++;
        }
    }
    struct pf_runtime_elf marked_rt;
    struct pf_error error;
    memset(&error, 0, sizeof error);
    if (CHECK(marked >= 2 && pf_runtime_elf_parse(copy, rt->size, "marked", &marked_rt, &error) == 0,
              "%u sections marked; %s", marked, error.message))
        test_build(&marked_rt, 0x30000000, PAGE, "marked=1\n", 0);
    free(copy);
}

static void test_bad_heaps(const struct pf_runtime_elf *rt)
{
    const Elf64_Phdr *data = &rt->segments[rt->data_segment];
    /* Off a page, twice; on a page but overlapping .bss; on .data. */
    uint64_t starts[] = {0x20000010, 0x20000800, page_up(data->p_vaddr + data->p_memsz) - PAGE,
                         data->p_vaddr & ~(uint64_t)(PAGE - 1)};
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) {
        struct fixture fixture;
        make_snapshot(rt, starts[i], 3 * PAGE, "k=v\n", &fixture);
        struct pf_image image;
        struct pf_error error;
        memset(&error, 0, sizeof error);
        int rc = pf_image_build(rt, &fixture.snapshot, &image, &error);
        unsigned long long start = starts[i];
        CHECK(rc == -1 && image.bytes == NULL, "a heap at %#llx was accepted", start);
        CHECK(rc == 0 || error.message[0] != '\0', "no message for a heap at %#llx", start);
        if (rc == 0)
            pf_image_free(&image);
        drop_snapshot(&fixture);
    }
}

/* Sizes and addresses whose sums wrap around, or that put the frozen heap
 * on a segment of the runtime: refused with a message, never built. */
static void expect_build_refused(const struct pf_runtime_elf *rt, const struct pf_snapshot *snapshot,
                                 const char *what, const char *message)
{
    struct pf_image image;
    struct pf_error error;
    memset(&error, 0, sizeof error);
    int rc = pf_image_build(rt, snapshot, &image, &error);
    CHECK(rc == -1 && image.bytes == NULL, "%s: built", what);
    CHECK(rc == 0 || strstr(error.message, message) != NULL, "%s: message '%s'", what, error.message);
    if (rc == 0)
        pf_image_free(&image);
}

static void test_wrapping_layouts(const struct pf_runtime_elf *rt)
{
    struct fixture fixture;
    make_snapshot(rt, 0x20000000, PAGE, "k=v\n", &fixture);
    struct pf_snapshot snapshot = fixture.snapshot;

    snapshot.heap_start = UINT64_MAX & ~(uint64_t)(PAGE - 1);
    snapshot.heap_size = 2 * PAGE;
    expect_build_refused(rt, &snapshot, "heap end past 2^64", "does not fit in 64 bits");
    snapshot.heap_size = PAGE - 100;   /* the end fits, its page does not */
    expect_build_refused(rt, &snapshot, "heap page past 2^64", "does not fit in 64 bits");

    snapshot = fixture.snapshot;
    snapshot.manifest_size = UINT64_MAX - 0x10000;
    expect_build_refused(rt, &snapshot, "manifest past 2^64", "does not fit in 64 bits");

    static unsigned char byte;
    struct pf_snapshot_range huge[2] = {{0x1000, 16, &byte}, {0x2000, UINT64_MAX - 7, &byte}};
    snapshot = fixture.snapshot;
    snapshot.ranges = huge;
    snapshot.range_count = 2;
    expect_build_refused(rt, &snapshot, "a saved range of 2^64 - 8 bytes", "does not fit in 64 bits");
    huge[1].size = UINT64_MAX / 2;
    struct pf_snapshot_range two_halves[3] = {huge[0], huge[1], huge[1]};
    snapshot.ranges = two_halves;
    snapshot.range_count = 3;
    expect_build_refused(rt, &snapshot, "saved ranges summing past 2^64", "does not fit in 64 bits");
    drop_snapshot(&fixture);
}

/* A runtime copy with one change: the writer must see what it would drop
 * or overlap, and refuse. */
static void test_unsafe_runtimes(const struct pf_runtime_elf *rt)
{
    const Elf64_Shdr *symtab = pf_elf_section(rt, ".symtab");
    int note = first_of_type(rt, PT_NOTE);
    struct fixture fixture;
    make_snapshot(rt, 0x30000000, PAGE, "k=v\n", &fixture);
    for (int variant = 0; variant < 5; variant++) {
        unsigned char *copy = malloc(rt->size);
        memcpy(copy, rt->bytes, rt->size);
        Elf64_Phdr *segments = (Elf64_Phdr *)(copy + rt->header->e_phoff);
        Elf64_Shdr *sections = (Elf64_Shdr *)(copy + rt->header->e_shoff);
        const char *what = "", *message = "";
        if (variant == 0) {          /* a note whose bytes lie after .data in the file */
            segments[note].p_offset = symtab->sh_offset;
            what = "a segment after the data segment", message = "after its data segment";
        } else if (variant == 1) {   /* .symtab made an allocated section */
            sections[symtab - rt->sections].sh_flags |= SHF_ALLOC;
            sections[symtab - rt->sections].sh_addr = 0x40000000;
            what = "an allocated section after the data segment", message = "section .symtab after its data";
        } else if (variant == 2) {   /* a loadable segment where the heap goes */
            segments[note].p_type = PT_LOAD;
            segments[note].p_vaddr = segments[note].p_paddr = 0x30000000 + 2 * PAGE;
            segments[note].p_memsz = 4 * PAGE;
            segments[note].p_filesz = 0;
            what = "a segment on the heap's pages", message = "overlaps the runtime's segment at 0x30002000";
        } else if (variant == 4) {   /* .bss claiming more than its segment (found by fuzz_build) */
            const Elf64_Shdr *bss = pf_elf_section(rt, ".bss");
            sections[bss - rt->sections].sh_size += PAGE;
            what = "a section running past the data segment", message = "section .bss running past the end";
        } else {                     /* one ending on the heap's first page */
            segments[note].p_type = PT_LOAD;
            segments[note].p_vaddr = segments[note].p_paddr = 0x30000000 - 8;
            segments[note].p_memsz = 16;
            segments[note].p_filesz = 0;
            what = "a segment sharing the heap's first page", message = "overlaps the runtime's segment";
        }
        struct pf_runtime_elf changed;
        struct pf_error error;
        memset(&error, 0, sizeof error);
        if (CHECK(pf_runtime_elf_parse(copy, rt->size, "changed", &changed, &error) == 0, "%s: %s", what,
                  error.message))
            expect_build_refused(&changed, &fixture.snapshot, what, message);
        free(copy);
    }
    drop_snapshot(&fixture);
}

/* --- damaged files --------------------------------------------------------------- */

/* A copy of the runtime being damaged. */
struct victim {
    unsigned char *bytes;
    size_t size;
    const struct pf_runtime_elf *rt;   /* the intact runtime, to find things */
};

typedef void (*damage_fn)(const struct victim *v);

static Elf64_Ehdr *ehdr(const struct victim *v)
{
    return (Elf64_Ehdr *)v->bytes;
}

/* The copy's section header for the runtime's section named `name`. */
static Elf64_Shdr *shdr(const struct victim *v, const char *name)
{
    const Elf64_Shdr *section = pf_elf_section(v->rt, name);
    return (Elf64_Shdr *)(v->bytes + v->rt->header->e_shoff) + (section - v->rt->sections);
}

static Elf64_Phdr *phdr(const struct victim *v, int index)
{
    return (Elf64_Phdr *)(v->bytes + v->rt->header->e_phoff) + index;
}

static struct pf_image_info *info_in(const struct victim *v)
{
    return (struct pf_image_info *)(v->bytes + shdr(v, PF_INFO_SECTION)->sh_offset);
}

static void bad_magic(const struct victim *v) { v->bytes[1] = 'X'; }
static void elf32(const struct victim *v) { v->bytes[EI_CLASS] = ELFCLASS32; }
static void big_endian(const struct victim *v) { v->bytes[EI_DATA] = ELFDATA2MSB; }
static void wrong_machine(const struct victim *v) { ehdr(v)->e_machine = EM_AARCH64; }
static void pie(const struct victim *v) { ehdr(v)->e_type = ET_DYN; }
static void phoff_past_end(const struct victim *v) { ehdr(v)->e_phoff = v->size; }
static void phoff_huge(const struct victim *v) { ehdr(v)->e_phoff = UINT64_MAX - 8; }
static void phnum_huge(const struct victim *v) { ehdr(v)->e_phnum = 0xfffe; }
static void phentsize(const struct victim *v) { ehdr(v)->e_phentsize = 32; }
static void shoff_past_end(const struct victim *v) { ehdr(v)->e_shoff = v->size - 10; }
static void shnum_huge(const struct victim *v) { ehdr(v)->e_shnum = 0xfff0; }
static void no_sections(const struct victim *v) { ehdr(v)->e_shnum = 0; }
static void shstrndx_out(const struct victim *v) { ehdr(v)->e_shstrndx = v->rt->header->e_shnum; }
static void symtab_past_end(const struct victim *v) { shdr(v, ".symtab")->sh_offset = v->size + 4096; }
static void symtab_too_long(const struct victim *v) { shdr(v, ".symtab")->sh_size = UINT64_MAX - 100; }
static void names_past_end(const struct victim *v) { shdr(v, ".shstrtab")->sh_offset = v->size; }
static void load_past_end(const struct victim *v) { phdr(v, v->rt->data_segment)->p_offset = v->size; }
static void info_magic(const struct victim *v) { info_in(v)->magic[0] ^= 0x20; }
static void info_version(const struct victim *v) { info_in(v)->version = PF_INFO_VERSION + 1; }
static void info_nobits(const struct victim *v) { shdr(v, PF_INFO_SECTION)->sh_type = SHT_NOBITS; }
static void data_read_only(const struct victim *v) { phdr(v, v->rt->data_segment)->p_flags &= ~(uint32_t)PF_W; }
static void slot_gone(const struct victim *v) { phdr(v, v->rt->slot_segment)->p_type = PT_NULL; }
static void slot_in_data(const struct victim *v) { shdr(v, PF_SLOT_SECTION)->sh_addr = v->rt->info_address; }

static void filesz_over_memsz(const struct victim *v)
{
    Elf64_Phdr *data = phdr(v, v->rt->data_segment);
    data->p_filesz = data->p_memsz + 1;
}
static void load_wraps(const struct victim *v) { phdr(v, first_of_type(v->rt, PT_LOAD))->p_memsz = UINT64_MAX - 0x1000; }
static void note_past_end(const struct victim *v) { phdr(v, first_of_type(v->rt, PT_NOTE))->p_offset = v->size; }
static void section_wraps(const struct victim *v) { shdr(v, ".data")->sh_addr = UINT64_MAX - 8; }
static void odd_alignment(const struct victim *v) { shdr(v, ".symtab")->sh_addralign = 24; }
static void info_offset_moved(const struct victim *v) { shdr(v, PF_INFO_SECTION)->sh_offset -= 64; }
static void info_address_moved(const struct victim *v) { shdr(v, PF_INFO_SECTION)->sh_addr += 64; }
static void loads_overlap(const struct victim *v)
{
    /* The note turned into a loadable segment over the slot (found by fuzz_build). */
    Elf64_Phdr *note = phdr(v, first_of_type(v->rt, PT_NOTE));
    note->p_type = PT_LOAD;
    note->p_memsz = 0x700000000000024;
}
static void names_nobits(const struct victim *v) { shdr(v, ".shstrtab")->sh_type = SHT_NOBITS; }
static void info_not_allocated(const struct victim *v) { shdr(v, PF_INFO_SECTION)->sh_flags &= ~(uint64_t)SHF_ALLOC; }

static void info_at_data_end(const struct victim *v)
{
    /* The record straddles the end of the data segment's file part. */
    const Elf64_Phdr *data = &v->rt->segments[v->rt->data_segment];
    Elf64_Shdr *info = shdr(v, PF_INFO_SECTION);
    info->sh_addr = data->p_vaddr + data->p_filesz - 16;
    info->sh_offset = data->p_offset + data->p_filesz - 16;
}

static void info_too_small(const struct victim *v)
{
    shdr(v, PF_INFO_SECTION)->sh_size = sizeof(struct pf_image_info) - 1;
}

static void names_unterminated(const struct victim *v)
{
    const Elf64_Shdr *names = &v->rt->sections[v->rt->header->e_shstrndx];
    v->bytes[names->sh_offset + names->sh_size - 1] = 'x';
}

static void name_index_out(const struct victim *v)
{
    shdr(v, ".text")->sh_name = (uint32_t)v->rt->sections[v->rt->header->e_shstrndx].sh_size;
}

/* ".pyfreeze_info" becomes ".qyfreeze_info". */
static void info_renamed(const struct victim *v)
{
    const Elf64_Shdr *info = pf_elf_section(v->rt, PF_INFO_SECTION);
    v->bytes[v->rt->sections[v->rt->header->e_shstrndx].sh_offset + info->sh_name + 1] = 'q';
}

struct damage {
    const char *name;
    damage_fn apply;
    size_t keep;   /* bytes of the file kept; 0 keeps all */
};

/* Parses a damaged copy, held in a buffer of exactly its size so that a
 * read past the end is a real overrun (visible under valgrind). */
static void expect_refused(const struct pf_runtime_elf *rt, const struct damage *damage)
{
    size_t size = damage->keep ? damage->keep : rt->size;
    if (damage->keep == (size_t)-1)
        size = 0;
    unsigned char *copy = malloc(size ? size : 1);
    memcpy(copy, rt->bytes, size);
    if (damage->apply)
        damage->apply(&(struct victim){copy, size, rt});
    struct pf_runtime_elf elf;
    struct pf_error error;
    memset(&error, 0, sizeof error);
    int rc = pf_runtime_elf_parse(copy, size, "damaged-runtime", &elf, &error);
    CHECK(rc == -1, "%s: accepted", damage->name);
    CHECK(rc == 0 || error.status == PF_EXIT_OUTPUT, "%s: status %d", damage->name, (int)error.status);
    CHECK(rc == 0 || strstr(error.message, "damaged-runtime") != NULL, "%s: message '%s' does not name the file",
          damage->name, error.message);
    free(copy);
}

static void test_damaged(const struct pf_runtime_elf *rt)
{
    const struct damage damages[] = {
        {"empty file", NULL, (size_t)-1},
        {"16 bytes", NULL, 16},
        {"63 bytes", NULL, 63},
        {"64 bytes", NULL, 64},
        {"100 bytes", NULL, 100},
        {"half the file", NULL, rt->size / 2},
        {"last byte cut", NULL, rt->size - 1},
        {"bad magic", bad_magic, 0},
        {"ELFCLASS32", elf32, 0},
        {"big-endian", big_endian, 0},
        {"aarch64", wrong_machine, 0},
        {"ET_DYN", pie, 0},
        {"e_phoff past the end", phoff_past_end, 0},
        {"e_phoff near UINT64_MAX", phoff_huge, 0},
        {"e_phnum huge", phnum_huge, 0},
        {"e_phentsize wrong", phentsize, 0},
        {"e_shoff past the end", shoff_past_end, 0},
        {"e_shnum huge", shnum_huge, 0},
        {"e_shnum 0", no_sections, 0},
        {"e_shstrndx out of range", shstrndx_out, 0},
        {".symtab offset past the end", symtab_past_end, 0},
        {".symtab size huge", symtab_too_long, 0},
        {".shstrtab offset past the end", names_past_end, 0},
        {".shstrtab unterminated", names_unterminated, 0},
        {"sh_name out of range", name_index_out, 0},
        {"PT_LOAD past the end", load_past_end, 0},
        {"info section renamed", info_renamed, 0},
        {"info magic", info_magic, 0},
        {"info version", info_version, 0},
        {"info section too small", info_too_small, 0},
        {"info section NOBITS", info_nobits, 0},
        {"data segment read-only", data_read_only, 0},
        {"slot segment gone", slot_gone, 0},
        {"slot inside the data segment", slot_in_data, 0},
        {"p_filesz > p_memsz", filesz_over_memsz, 0},
        {"PT_LOAD wrapping around", load_wraps, 0},
        {"PT_NOTE past the end", note_past_end, 0},
        {"allocated section wrapping around", section_wraps, 0},
        {"alignment not a power of two", odd_alignment, 0},
        {"info offset not its address's", info_offset_moved, 0},
        {"info address not its offset's", info_address_moved, 0},
        {"info record past the data segment's file part", info_at_data_end, 0},
        {"info section not allocated (found by fuzz_build)", info_not_allocated, 0},
        {"section names NOBITS (found by fuzz_build)", names_nobits, 0},
        {"loadable segments overlapping", loads_overlap, 0},
    };
    for (size_t i = 0; i < sizeof damages / sizeof *damages; i++)
        expect_refused(rt, &damages[i]);
}

/* Random bytes in the header, program and section header tables, section
 * names and the info record: the reader may accept or refuse, but must not
 * crash, and a refusal must be the documented error. */
static void test_fuzz(const struct pf_runtime_elf *rt)
{
    unsigned char *copy = malloc(rt->size);
    memcpy(copy, rt->bytes, rt->size);
    const Elf64_Shdr *names = &rt->sections[rt->header->e_shstrndx];
    const Elf64_Shdr *info = pf_elf_section(rt, PF_INFO_SECTION);
    const struct region {
        uint64_t offset, size;
    } regions[] = {
        {0, sizeof(Elf64_Ehdr)},
        {rt->header->e_phoff, (uint64_t)rt->header->e_phnum * sizeof(Elf64_Phdr)},
        {rt->header->e_shoff, (uint64_t)rt->header->e_shnum * sizeof(Elf64_Shdr)},
        {names->sh_offset, names->sh_size},
        {info->sh_offset, 64},
    };
    uint64_t state = 0x2545f4914f6cdd1du;
    unsigned refused = 0, bad_refusals = 0;
    enum { ROUNDS = 20000 };
    for (unsigned round = 0; round < ROUNDS; round++) {
        uint64_t touched[4];
        unsigned count = 1 + round % 4;
        for (unsigned i = 0; i < count; i++) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;
            const struct region *region = &regions[state % (sizeof regions / sizeof *regions)];
            touched[i] = region->offset + (state >> 8) % region->size;
            copy[touched[i]] = (unsigned char)(state >> 40);
        }
        struct pf_runtime_elf elf;
        struct pf_error error;
        memset(&error, 0, sizeof error);
        if (pf_runtime_elf_parse(copy, rt->size, "fuzzed", &elf, &error) < 0) {
            refused++;
            bad_refusals += error.status != PF_EXIT_OUTPUT || error.message[0] == '\0';
        }
        for (unsigned i = 0; i < count; i++)
            copy[touched[i]] = rt->bytes[touched[i]];
    }
    CHECK(bad_refusals == 0, "%u of %u refusals were not PF_EXIT_OUTPUT with a message", bad_refusals, refused);
    CHECK(refused > 0 && refused < ROUNDS, "fuzzing refused %u of %u files", refused, (unsigned)ROUNDS);
    free(copy);
}

static void test_load_errors(void)
{
    struct pf_runtime_elf elf;
    struct pf_error error;
    memset(&error, 0, sizeof error);
    int rc = pf_runtime_elf_load("/nonexistent/pyfreeze-runtime", &elf, &error);
    CHECK(rc == -1 && error.status == PF_EXIT_OUTPUT && strstr(error.message, "/nonexistent/pyfreeze-runtime") &&
              strstr(error.message, "No such file"),
          "loading a missing file: rc %d, status %d, '%s'", rc, (int)error.status, error.message);
    CHECK(elf.bytes == NULL, "a failed load kept its bytes");

    /* An executable, but not a pyfreeze runtime. */
    memset(&error, 0, sizeof error);
    rc = pf_runtime_elf_load("/proc/self/exe", &elf, &error);
    CHECK(rc == -1 && error.status == PF_EXIT_OUTPUT && strstr(error.message, "not a pyfreeze runtime"),
          "loading this test: rc %d, status %d, '%s'", rc, (int)error.status, error.message);
    if (rc == 0)
        pf_runtime_elf_free(&elf);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH-TO-pyfreeze-runtime\n", argv[0]);
        return 2;
    }
    struct pf_runtime_elf rt;
    struct pf_error error;
    if (pf_runtime_elf_load(argv[1], &rt, &error) < 0) {
        fprintf(stderr, "%s\n", error.message);
        return 1;
    }
    check_runtime(&rt);
    const Elf64_Phdr *data = &rt.segments[rt.data_segment];
    test_build(&rt, 0x20000000, 3 * PAGE, "python=3.11\nmodules=cgi\n", 0);
    /* Right above .bss, as the real break usually is, with a heap that
     * does not end on a page, an empty manifest, and data a run has changed. */
    test_build(&rt, page_up(data->p_vaddr + data->p_memsz), 5 * PAGE + 123, "", 1);
    test_marked_sections(&rt);
    test_bad_heaps(&rt);
    test_wrapping_layouts(&rt);
    test_unsafe_runtimes(&rt);
    test_damaged(&rt);
    test_fuzz(&rt);
    test_load_errors();
    pf_runtime_elf_free(&rt);
    CHECK(rt.bytes == NULL, "pf_runtime_elf_free left the bytes");
    printf("test_image_builder: %u checks, %u failed\n", checks_run, checks_failed);
    return checks_failed ? 1 : 0;
}
