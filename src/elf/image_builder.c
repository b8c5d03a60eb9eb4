#define _GNU_SOURCE
#include "image_builder.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 4096u

/* Checked arithmetic: each returns 0, or -1 when the result does not fit
 * in 64 bits.  Alignments are 0, 1 or a power of two (the reader checks
 * sections'; the others are constants). */
static int add(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

static int align_up(uint64_t value, uint64_t alignment, uint64_t *out)
{
    if (alignment <= 1) {
        *out = value;
        return 0;
    }
    if (add(value, alignment - 1, out) < 0)
        return -1;
    *out &= ~(alignment - 1);
    return 0;
}

/* Where each part goes, computed before anything is copied. */
struct layout {
    uint64_t data_offset, data_size;
    uint64_t extra_offset, extra_address, extra_size;
    uint64_t pristine_address, pristine_size;
    uint64_t manifest_address;
    uint64_t table_address;      /* struct pf_saved_range[range_count] */
    uint64_t saved_address;      /* the saved bytes, one range after another */
    uint64_t *section_offsets;   /* new offsets of non-allocated sections */
    uint64_t section_table_offset;
    uint64_t total;
};

static int too_big(struct pf_error *error)
{
    return pf_fail(error, PF_EXIT_INTERNAL, "laying out the image: a size or address does not fit in 64 bits");
}

static int is_slot(const struct pf_runtime_elf *runtime, unsigned index)
{
    return (int)index == runtime->slot_segment;
}

/* The image keeps the runtime's bytes up to its data segment and writes
 * its own after it: whatever else the runtime has there would be lost.
 * Only the non-allocated sections (moved, below), the slot section
 * (re-targeted) and what lies inside the data segment may be there. */
static int check_nothing_dropped(const struct pf_runtime_elf *runtime, struct pf_error *error)
{
    const Elf64_Phdr *data = &runtime->segments[runtime->data_segment];
    uint64_t kept_end = data->p_offset + data->p_filesz;   /* the reader checked it is in the file */
    for (unsigned i = 0; i < runtime->header->e_phnum; i++) {
        const Elf64_Phdr *segment = &runtime->segments[i];
        if ((int)i == runtime->data_segment || is_slot(runtime, i))
            continue;
        /* Even an empty one: its offset would point past the image's end. */
        if (segment->p_offset + segment->p_filesz > kept_end)
            return pf_fail(error, PF_EXIT_OUTPUT, "%s has a segment (type %#x) after its data segment in the "
                           "file, which an image would drop", runtime->path, segment->p_type);
    }
    for (unsigned i = 1; i < runtime->header->e_shnum; i++) {
        const Elf64_Shdr *section = &runtime->sections[i];
        const char *name = runtime->section_names + section->sh_name;
        /* A section of the data segment gets file bytes there (.bss too):
         * all of it must be inside. */
        if ((section->sh_flags & SHF_ALLOC) && section->sh_addr >= data->p_vaddr &&
            section->sh_addr - data->p_vaddr < data->p_memsz &&
            section->sh_size > data->p_memsz - (section->sh_addr - data->p_vaddr))
            return pf_fail(error, PF_EXIT_OUTPUT, "%s has section %s running past the end of its data segment",
                           runtime->path, name);
        if (!(section->sh_flags & SHF_ALLOC) || section->sh_type == SHT_NOBITS)
            continue;
        if (strcmp(name, PF_SLOT_SECTION) == 0)
            continue;
        if (section->sh_offset + section->sh_size > kept_end)
            return pf_fail(error, PF_EXIT_OUTPUT, "%s has section %s after its data segment in the file, "
                           "which an image would drop", runtime->path, name);
    }
    if (runtime->header->e_phoff + (uint64_t)runtime->header->e_phnum * sizeof(Elf64_Phdr) > data->p_offset)
        return pf_fail(error, PF_EXIT_OUTPUT, "%s has its program headers after its data segment", runtime->path);
    return 0;
}

/* The extra segment must not land on anything the runtime loads (the slot
 * segments are re-used, so they do not count). */
static int check_extra_placement(const struct pf_runtime_elf *runtime, const struct layout *layout,
                                 struct pf_error *error)
{
    uint64_t extra_end = layout->extra_address + layout->extra_size;   /* checked by plan() */
    for (unsigned i = 0; i < runtime->header->e_phnum; i++) {
        const Elf64_Phdr *segment = &runtime->segments[i];
        if (segment->p_type != PT_LOAD || is_slot(runtime, i))
            continue;
        uint64_t start = segment->p_vaddr & ~(uint64_t)(PAGE - 1), end;
        if (align_up(segment->p_vaddr + segment->p_memsz, PAGE, &end) < 0)
            return too_big(error);
        if (layout->extra_address < end && start < extra_end)
            return pf_fail(error, PF_EXIT_INTERNAL, "the frozen heap 0x%llx-0x%llx overlaps the runtime's "
                           "segment at 0x%llx", (unsigned long long)layout->extra_address,
                           (unsigned long long)extra_end, (unsigned long long)segment->p_vaddr);
    }
    return 0;
}

static int plan(const struct pf_runtime_elf *runtime, const struct pf_snapshot *snapshot,
                struct layout *layout, struct pf_error *error)
{
    const Elf64_Phdr *data = &runtime->segments[runtime->data_segment];
    if (check_nothing_dropped(runtime, error) < 0)
        return -1;
    if (snapshot->heap_start % PAGE != 0)
        return pf_fail(error, PF_EXIT_INTERNAL, "the frozen heap does not start on a page boundary");
    if (snapshot->heap_start < data->p_vaddr + data->p_memsz)   /* the reader checked the sum */
        return pf_fail(error, PF_EXIT_INTERNAL, "the frozen heap overlaps the data segment");
    layout->data_offset = data->p_offset;
    layout->data_size = data->p_memsz;
    layout->extra_address = snapshot->heap_start;
    layout->pristine_size = data->p_filesz;
    uint64_t heap_end, manifest_end, table_size, saved_size = 0, extra_end;
    if (add(layout->data_offset, layout->data_size, &layout->extra_offset) < 0 ||
        align_up(layout->extra_offset, PAGE, &layout->extra_offset) < 0 ||
        add(snapshot->heap_start, snapshot->heap_size, &heap_end) < 0 ||
        align_up(heap_end, PAGE, &layout->pristine_address) < 0 ||
        add(layout->pristine_address, layout->pristine_size, &layout->manifest_address) < 0 ||
        add(layout->manifest_address, snapshot->manifest_size, &manifest_end) < 0 ||
        align_up(manifest_end, 16, &layout->table_address) < 0 ||
        __builtin_mul_overflow((uint64_t)snapshot->range_count, sizeof(struct pf_saved_range), &table_size) ||
        add(layout->table_address, table_size, &layout->saved_address) < 0)
        return too_big(error);
    for (size_t i = 0; i < snapshot->range_count; i++) {
        uint64_t size;
        if (align_up(snapshot->ranges[i].size, 16, &size) < 0 || add(saved_size, size, &saved_size) < 0)
            return too_big(error);
    }
    if (add(layout->saved_address, saved_size, &extra_end) < 0)
        return too_big(error);
    layout->extra_size = extra_end - layout->extra_address;
    if (check_extra_placement(runtime, layout, error) < 0)
        return -1;

    uint64_t offset;
    if (add(layout->extra_offset, layout->extra_size, &offset) < 0)
        return too_big(error);
    unsigned count = runtime->header->e_shnum;
    layout->section_offsets = calloc(count ? count : 1, sizeof(uint64_t));
    if (layout->section_offsets == NULL)
        return pf_fail(error, PF_EXIT_INTERNAL, "laying out the image: out of memory");
    for (unsigned i = 1; i < count; i++) {
        const Elf64_Shdr *section = &runtime->sections[i];
        if ((section->sh_flags & SHF_ALLOC) || section->sh_type == SHT_NOBITS)
            continue;
        if (align_up(offset, section->sh_addralign, &offset) < 0)
            return too_big(error);
        layout->section_offsets[i] = offset;
        if (add(offset, section->sh_size, &offset) < 0)
            return too_big(error);
    }
    uint64_t table_bytes = (uint64_t)count * sizeof(Elf64_Shdr);
    if (align_up(offset, 8, &layout->section_table_offset) < 0 ||
        add(layout->section_table_offset, table_bytes, &layout->total) < 0 || layout->total > SIZE_MAX)
        return too_big(error);
    return 0;
}

static void patch_info(const struct pf_runtime_elf *runtime, const struct layout *layout,
                       const struct pf_snapshot *snapshot, unsigned char *bytes)
{
    const Elf64_Phdr *data = &runtime->segments[runtime->data_segment];
    struct pf_image_info *info =
        (struct pf_image_info *)(bytes + layout->data_offset + (runtime->info_address - data->p_vaddr));
    info->state = PF_STATE_IMAGE;
    info->pristine_addr = layout->pristine_address;
    info->pristine_size = layout->pristine_size;
    info->manifest_addr = layout->manifest_address;
    info->manifest_size = snapshot->manifest_size;
    info->saved_ranges = snapshot->range_count ? layout->table_address : 0;
    info->saved_range_count = (uint32_t)snapshot->range_count;
}

static void write_saved_ranges(const struct layout *layout, const struct pf_snapshot *snapshot,
                               unsigned char *extra)
{
    struct pf_saved_range *table = (struct pf_saved_range *)(extra + (layout->table_address - layout->extra_address));
    uint64_t saved = layout->saved_address;
    for (size_t i = 0; i < snapshot->range_count; i++) {
        const struct pf_snapshot_range *range = &snapshot->ranges[i];
        table[i] = (struct pf_saved_range){range->target, range->size, saved};
        memcpy(extra + (saved - layout->extra_address), range->bytes, range->size);
        saved += (range->size + 15) & ~(uint64_t)15;   /* plan() checked these sums */
    }
}

static void patch_segments(const struct pf_runtime_elf *runtime, const struct layout *layout,
                           unsigned char *bytes)
{
    Elf64_Phdr *segments = (Elf64_Phdr *)(bytes + runtime->header->e_phoff);
    Elf64_Phdr *data = &segments[runtime->data_segment];
    data->p_filesz = data->p_memsz;   /* .bss now has its bytes in the file */

    Elf64_Phdr *extra = &segments[runtime->slot_segment];
    extra->p_type = PT_LOAD;
    extra->p_flags = PF_R | PF_W;
    extra->p_offset = layout->extra_offset;
    extra->p_vaddr = extra->p_paddr = layout->extra_address;
    extra->p_filesz = extra->p_memsz = layout->extra_size;
    extra->p_align = PAGE;
}

static int in_segment(const Elf64_Phdr *segment, const Elf64_Shdr *section)
{
    return (section->sh_flags & SHF_ALLOC) && section->sh_addr >= segment->p_vaddr &&
           section->sh_addr - segment->p_vaddr < segment->p_memsz;
}

static void write_sections(const struct pf_runtime_elf *runtime, const struct layout *layout,
                           unsigned char *bytes)
{
    const Elf64_Phdr *data = &runtime->segments[runtime->data_segment];
    Elf64_Shdr *table = (Elf64_Shdr *)(bytes + layout->section_table_offset);
    memcpy(table, runtime->sections, runtime->header->e_shnum * sizeof(Elf64_Shdr));
    for (unsigned i = 1; i < runtime->header->e_shnum; i++) {
        Elf64_Shdr *section = &table[i];
        if (layout->section_offsets[i] != 0) {
            memcpy(bytes + layout->section_offsets[i], runtime->bytes + section->sh_offset, section->sh_size);
            section->sh_offset = layout->section_offsets[i];
        } else if (in_segment(data, section)) {
            section->sh_type = section->sh_type == SHT_NOBITS ? SHT_PROGBITS : section->sh_type;
            section->sh_offset = layout->data_offset + (section->sh_addr - data->p_vaddr);
        } else if (in_segment(&runtime->segments[runtime->slot_segment], section)) {
            section->sh_type = SHT_NOBITS;   /* its segment now holds other things */
        }
    }
    Elf64_Ehdr *header = (Elf64_Ehdr *)bytes;
    header->e_shoff = layout->section_table_offset;
}

int pf_image_size(const struct pf_runtime_elf *runtime, const struct pf_snapshot *snapshot, uint64_t *size,
                  struct pf_error *error)
{
    struct layout layout;
    memset(&layout, 0, sizeof layout);
    if (runtime->info->state != PF_STATE_PRISTINE)
        return pf_fail(error, PF_EXIT_OUTPUT, "%s is an image, not a runtime", runtime->path);
    int rc = plan(runtime, snapshot, &layout, error);
    free(layout.section_offsets);
    if (rc == 0)
        *size = layout.total;
    return rc;
}

int pf_image_build(const struct pf_runtime_elf *runtime, const struct pf_snapshot *snapshot,
                   struct pf_image *image, struct pf_error *error)
{
    struct layout layout;
    memset(&layout, 0, sizeof layout);
    memset(image, 0, sizeof *image);
    if (runtime->info->state != PF_STATE_PRISTINE)
        return pf_fail(error, PF_EXIT_OUTPUT, "%s is an image, not a runtime", runtime->path);
    if (plan(runtime, snapshot, &layout, error) < 0) {
        free(layout.section_offsets);
        return -1;
    }
    unsigned char *bytes = calloc(1, layout.total);
    if (bytes == NULL) {
        free(layout.section_offsets);
        return pf_fail(error, PF_EXIT_INTERNAL, "building a %llu-byte image: out of memory",
                       (unsigned long long)layout.total);
    }
    const Elf64_Phdr *data = &runtime->segments[runtime->data_segment];
    memcpy(bytes, runtime->bytes, layout.data_offset);
    memcpy(bytes + layout.data_offset, snapshot->data, layout.data_size);
    unsigned char *extra = bytes + layout.extra_offset;
    memcpy(extra, snapshot->heap, snapshot->heap_size);
    memcpy(extra + (layout.pristine_address - layout.extra_address),
           runtime->bytes + data->p_offset, layout.pristine_size);
    memcpy(extra + (layout.manifest_address - layout.extra_address), snapshot->manifest, snapshot->manifest_size);
    write_saved_ranges(&layout, snapshot, extra);
    patch_info(runtime, &layout, snapshot, bytes);
    patch_segments(runtime, &layout, bytes);
    write_sections(runtime, &layout, bytes);
    free(layout.section_offsets);
    image->bytes = bytes;
    image->size = layout.total;
    return 0;
}

void pf_image_free(struct pf_image *image)
{
    free(image->bytes);
    image->bytes = NULL;
    image->size = 0;
}
