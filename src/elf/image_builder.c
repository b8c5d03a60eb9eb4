#define _GNU_SOURCE
#include "image_builder.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 4096u

static uint64_t align_up(uint64_t value, uint64_t alignment)
{
    return alignment <= 1 ? value : (value + alignment - 1) / alignment * alignment;
}

/* Where each part goes, computed before anything is copied. */
struct layout {
    uint64_t data_offset, data_size;
    uint64_t extra_offset, extra_address, extra_size;
    uint64_t pristine_address, pristine_size;
    uint64_t spec_address;
    uint64_t table_address;      /* struct pf_saved_range[range_count] */
    uint64_t saved_address;      /* the saved bytes, one range after another */
    uint64_t *section_offsets;   /* new offsets of non-allocated sections */
    uint64_t section_table_offset;
    uint64_t total;
};

static int plan(const struct pf_runtime_elf *runtime, const struct pf_snapshot *snapshot,
                struct layout *layout, struct pf_error *error)
{
    const Elf64_Phdr *data = &runtime->segments[runtime->data_segment];
    if (snapshot->heap_start % PAGE != 0)
        return pf_fail(error, PF_EXIT_INTERNAL, "the frozen heap does not start on a page boundary");
    if (snapshot->heap_start < data->p_vaddr + data->p_memsz)
        return pf_fail(error, PF_EXIT_INTERNAL, "the frozen heap overlaps the data segment");
    layout->data_offset = data->p_offset;
    layout->data_size = data->p_memsz;
    layout->extra_offset = align_up(layout->data_offset + layout->data_size, PAGE);
    layout->extra_address = snapshot->heap_start;
    layout->pristine_address = align_up(snapshot->heap_start + snapshot->heap_size, PAGE);
    layout->pristine_size = data->p_filesz;
    layout->spec_address = layout->pristine_address + layout->pristine_size;
    layout->table_address = align_up(layout->spec_address + snapshot->spec_size, 16);
    layout->saved_address = layout->table_address + snapshot->range_count * sizeof(struct pf_saved_range);
    uint64_t saved_size = 0;
    for (size_t i = 0; i < snapshot->range_count; i++)
        saved_size += align_up(snapshot->ranges[i].size, 16);
    layout->extra_size = layout->saved_address + saved_size - layout->extra_address;

    uint64_t offset = layout->extra_offset + layout->extra_size;
    unsigned count = runtime->header->e_shnum;
    layout->section_offsets = calloc(count ? count : 1, sizeof(uint64_t));
    if (layout->section_offsets == NULL)
        return pf_fail(error, PF_EXIT_INTERNAL, "laying out the image: out of memory");
    for (unsigned i = 1; i < count; i++) {
        const Elf64_Shdr *section = &runtime->sections[i];
        if ((section->sh_flags & SHF_ALLOC) || section->sh_type == SHT_NOBITS)
            continue;
        offset = align_up(offset, section->sh_addralign);
        layout->section_offsets[i] = offset;
        offset += section->sh_size;
    }
    layout->section_table_offset = align_up(offset, 8);
    layout->total = layout->section_table_offset + (uint64_t)count * sizeof(Elf64_Shdr);
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
    info->spec_addr = layout->spec_address;
    info->spec_size = snapshot->spec_size;
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
        saved += align_up(range->size, 16);
    }
}

static void patch_segments(const struct pf_runtime_elf *runtime, const struct layout *layout,
                           unsigned char *bytes)
{
    Elf64_Phdr *segments = (Elf64_Phdr *)(bytes + runtime->header->e_phoff);
    Elf64_Phdr *data = &segments[runtime->data_segment];
    data->p_filesz = data->p_memsz;   /* .bss now has its bytes in the file */

    Elf64_Phdr *extra = &segments[runtime->slot_segment[0]];
    extra->p_type = PT_LOAD;
    extra->p_flags = PF_R | PF_W;
    extra->p_offset = layout->extra_offset;
    extra->p_vaddr = extra->p_paddr = layout->extra_address;
    extra->p_filesz = extra->p_memsz = layout->extra_size;
    extra->p_align = PAGE;

    /* Unused for now; PT_NULL entries are skipped by the kernel and ld.so. */
    memset(&segments[runtime->slot_segment[1]], 0, sizeof(Elf64_Phdr));
}

static int in_segment(const Elf64_Phdr *segment, const Elf64_Shdr *section)
{
    return (section->sh_flags & SHF_ALLOC) && section->sh_addr >= segment->p_vaddr &&
           section->sh_addr < segment->p_vaddr + segment->p_memsz;
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
        } else if (in_segment(&runtime->segments[runtime->slot_segment[0]], section) ||
                   in_segment(&runtime->segments[runtime->slot_segment[1]], section)) {
            section->sh_type = SHT_NOBITS;   /* its segment now holds other things */
        }
    }
    Elf64_Ehdr *header = (Elf64_Ehdr *)bytes;
    header->e_shoff = layout->section_table_offset;
}

int pf_image_build(const struct pf_runtime_elf *runtime, const struct pf_snapshot *snapshot,
                   struct pf_image *image, struct pf_error *error)
{
    struct layout layout;
    memset(&layout, 0, sizeof layout);
    memset(image, 0, sizeof *image);
    if (runtime->info->state != PF_STATE_PRISTINE)
        return pf_fail(error, PF_EXIT_OUTPUT, "%s is an image, not a runtime", runtime->path);
    if (plan(runtime, snapshot, &layout, error) < 0)
        return -1;
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
    memcpy(extra + (layout.spec_address - layout.extra_address), snapshot->spec, snapshot->spec_size);
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
