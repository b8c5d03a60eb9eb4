#define _GNU_SOURCE
#include "runtime_elf.h"

#include "../common/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int bad(struct pf_error *error, const char *path, const char *why)
{
    return pf_fail(error, PF_EXIT_OUTPUT, "%s is not a pyfreeze runtime or image: %s", path, why);
}

static int terminated(const char *text, size_t size)
{
    return memchr(text, '\0', size) != NULL;
}

static int in_bounds(size_t size, uint64_t offset, uint64_t length)
{
    return offset <= size && length <= size - offset;
}

const Elf64_Shdr *pf_elf_section(const struct pf_runtime_elf *elf, const char *name)
{
    for (unsigned i = 0; i < elf->header->e_shnum; i++) {
        const Elf64_Shdr *section = &elf->sections[i];
        if (strcmp(elf->section_names + section->sh_name, name) == 0)
            return section;
    }
    return NULL;
}

/* Whether [address, address + size) lies inside [start, start + length);
 * no sum is formed, so nothing can wrap. */
static int range_within(uint64_t address, uint64_t size, uint64_t start, uint64_t length)
{
    return address >= start && address - start <= length && size <= length - (address - start);
}

static int segment_of(const struct pf_runtime_elf *elf, uint64_t address)
{
    for (int i = 0; i < elf->header->e_phnum; i++) {
        const Elf64_Phdr *segment = &elf->segments[i];
        if (segment->p_type == PT_LOAD && address >= segment->p_vaddr &&
            address - segment->p_vaddr < segment->p_memsz)
            return i;
    }
    return -1;
}

static int check_headers(struct pf_runtime_elf *elf, struct pf_error *error)
{
    const Elf64_Ehdr *header = elf->header;
    if (elf->size < sizeof *header || memcmp(header->e_ident, ELFMAG, SELFMAG) != 0)
        return bad(error, elf->path, "not an ELF file");
    if (header->e_ident[EI_CLASS] != ELFCLASS64 || header->e_ident[EI_DATA] != ELFDATA2LSB ||
        header->e_machine != EM_X86_64)
        return bad(error, elf->path, "not an x86-64 ELF file");
    if (header->e_type != ET_EXEC)
        return bad(error, elf->path, "not a non-PIE executable");
    if (header->e_phentsize != sizeof(Elf64_Phdr) || header->e_shentsize != sizeof(Elf64_Shdr) ||
        !in_bounds(elf->size, header->e_phoff, (uint64_t)header->e_phnum * sizeof(Elf64_Phdr)) ||
        !in_bounds(elf->size, header->e_shoff, (uint64_t)header->e_shnum * sizeof(Elf64_Shdr)) ||
        header->e_phoff % 8 != 0 || header->e_shoff % 8 != 0 || header->e_shstrndx >= header->e_shnum)
        return bad(error, elf->path, "truncated or malformed headers");
    elf->segments = (const Elf64_Phdr *)(elf->bytes + header->e_phoff);
    elf->sections = (const Elf64_Shdr *)(elf->bytes + header->e_shoff);
    const Elf64_Shdr *names = &elf->sections[header->e_shstrndx];
    if (names->sh_type != SHT_STRTAB || !in_bounds(elf->size, names->sh_offset, names->sh_size) ||
        names->sh_size == 0 ||
        elf->bytes[names->sh_offset + names->sh_size - 1] != '\0')
        return bad(error, elf->path, "malformed section names");
    elf->section_names = (const char *)elf->bytes + names->sh_offset;
    uint64_t end;
    for (unsigned i = 0; i < header->e_shnum; i++) {
        const Elf64_Shdr *section = &elf->sections[i];
        if (section->sh_name >= names->sh_size ||
            (section->sh_type != SHT_NOBITS && !in_bounds(elf->size, section->sh_offset, section->sh_size)))
            return bad(error, elf->path, "a section lies outside the file");
        if ((section->sh_flags & SHF_ALLOC) && __builtin_add_overflow(section->sh_addr, section->sh_size, &end))
            return bad(error, elf->path, "a section wraps around the address space");
        if (section->sh_addralign & (section->sh_addralign - 1))
            return bad(error, elf->path, "a section's alignment is not a power of two");
    }
    for (unsigned i = 0; i < header->e_phnum; i++) {
        const Elf64_Phdr *segment = &elf->segments[i];
        if (!in_bounds(elf->size, segment->p_offset, segment->p_filesz))
            return bad(error, elf->path, "a segment lies outside the file");
        if (segment->p_type != PT_LOAD)
            continue;
        if (segment->p_filesz > segment->p_memsz || __builtin_add_overflow(segment->p_vaddr, segment->p_memsz, &end))
            return bad(error, elf->path, "a loadable segment is larger in the file than in memory, "
                       "or wraps around the address space");
    }
    /* Overlapping segments would be mapped over each other, and "the
     * segment holding an address" would depend on their order. */
    for (unsigned i = 0; i < header->e_phnum; i++) {
        const Elf64_Phdr *a = &elf->segments[i];
        for (unsigned j = i + 1; a->p_type == PT_LOAD && j < header->e_phnum; j++) {
            const Elf64_Phdr *b = &elf->segments[j];
            if (b->p_type == PT_LOAD && a->p_memsz > 0 && b->p_memsz > 0 &&
                a->p_vaddr < b->p_vaddr + b->p_memsz && b->p_vaddr < a->p_vaddr + a->p_memsz)
                return bad(error, elf->path, "two loadable segments overlap");
        }
    }
    return 0;
}

static int find_pyfreeze_parts(struct pf_runtime_elf *elf, struct pf_error *error)
{
    const Elf64_Shdr *info = pf_elf_section(elf, PF_INFO_SECTION);
    if (info == NULL || info->sh_type != SHT_PROGBITS || !(info->sh_flags & SHF_ALLOC) ||
        info->sh_size < sizeof(struct pf_image_info) || info->sh_offset % 8 != 0)
        return bad(error, elf->path, "no " PF_INFO_SECTION " section");
    elf->info_address = info->sh_addr;
    elf->info = (const struct pf_image_info *)(elf->bytes + info->sh_offset);
    if (memcmp(elf->info->magic, PF_INFO_MAGIC, sizeof elf->info->magic) != 0)
        return bad(error, elf->path, "bad magic in " PF_INFO_SECTION);
    if (elf->info->version != PF_INFO_VERSION)
        return bad(error, elf->path, "made by another version of pyfreeze");
    if (!terminated(elf->info->python_version, sizeof elf->info->python_version) ||
        !terminated(elf->info->fs_encoding, sizeof elf->info->fs_encoding) ||
        !terminated(elf->info->fs_errors, sizeof elf->info->fs_errors) ||
        !terminated(elf->info->error, sizeof elf->info->error))
        return bad(error, elf->path, "a string in " PF_INFO_SECTION " is not terminated");
    elf->data_segment = segment_of(elf, info->sh_addr);
    if (elf->data_segment < 0 || !(elf->segments[elf->data_segment].p_flags & PF_W))
        return bad(error, elf->path, "the info record is not in a writable segment");
    /* The tracer reads the record at its address in the child, the writer
     * and `info` at its offset in the file: both must be the same bytes. */
    const Elf64_Phdr *data = &elf->segments[elf->data_segment];
    if (!range_within(info->sh_addr, sizeof(struct pf_image_info), data->p_vaddr, data->p_filesz) ||
        info->sh_offset - data->p_offset != info->sh_addr - data->p_vaddr)
        return bad(error, elf->path, "the info record is not where its segment puts it");
    const Elf64_Shdr *slot = pf_elf_section(elf, PF_SLOT_SECTION);
    elf->slot_segment = slot != NULL && (slot->sh_flags & SHF_ALLOC) ? segment_of(elf, slot->sh_addr) : -1;
    if (elf->info->state == PF_STATE_PRISTINE && (elf->slot_segment < 0 || elf->slot_segment == elf->data_segment))
        return bad(error, elf->path, "its reserved program header is missing");
    return 0;
}

int pf_runtime_elf_parse(unsigned char *bytes, size_t size, const char *path,
                         struct pf_runtime_elf *elf, struct pf_error *error)
{
    memset(elf, 0, sizeof *elf);
    elf->path = path;
    elf->bytes = bytes;
    elf->size = size;
    elf->header = (const Elf64_Ehdr *)bytes;
    if (check_headers(elf, error) < 0 || find_pyfreeze_parts(elf, error) < 0)
        return -1;
    return 0;
}

int pf_runtime_elf_load(const char *path, struct pf_runtime_elf *elf, struct pf_error *error)
{
    char *bytes;
    size_t size;
    memset(elf, 0, sizeof *elf);
    if (pf_read_file(path, &bytes, &size) < 0)
        return pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "cannot read runtime %s", path);
    if (pf_runtime_elf_parse((unsigned char *)bytes, size, path, elf, error) < 0) {
        free(bytes);
        elf->bytes = NULL;
        return -1;
    }
    return 0;
}

const void *pf_elf_bytes_at(const struct pf_runtime_elf *elf, uint64_t address, uint64_t size)
{
    for (unsigned i = 0; i < elf->header->e_phnum; i++) {
        const Elf64_Phdr *segment = &elf->segments[i];
        if (segment->p_type != PT_LOAD || address < segment->p_vaddr ||
            address - segment->p_vaddr > segment->p_filesz ||
            size > segment->p_filesz - (address - segment->p_vaddr))
            continue;
        return elf->bytes + segment->p_offset + (address - segment->p_vaddr);
    }
    return NULL;
}

const char *pf_elf_string_at(const struct pf_runtime_elf *elf, uint64_t address)
{
    for (unsigned i = 0; i < elf->header->e_phnum; i++) {
        const Elf64_Phdr *segment = &elf->segments[i];
        if (segment->p_type != PT_LOAD || address < segment->p_vaddr ||
            address - segment->p_vaddr >= segment->p_filesz)
            continue;
        const char *start = (const char *)elf->bytes + segment->p_offset + (address - segment->p_vaddr);
        size_t room = segment->p_filesz - (address - segment->p_vaddr);
        return memchr(start, '\0', room) != NULL ? start : NULL;
    }
    return NULL;
}

void pf_runtime_elf_free(struct pf_runtime_elf *elf)
{
    free(elf->bytes);
    elf->bytes = NULL;
}
