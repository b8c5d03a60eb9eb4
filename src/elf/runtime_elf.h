/* The runtime executable, read whole and checked: the template every image
 * is written from. */
#ifndef PYFREEZE_RUNTIME_ELF_H
#define PYFREEZE_RUNTIME_ELF_H

#include "../common/error.h"
#include "../common/image_info.h"

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

struct pf_runtime_elf {
    const char *path;
    unsigned char *bytes;
    size_t size;
    const Elf64_Ehdr *header;
    const Elf64_Phdr *segments;
    const Elf64_Shdr *sections;
    const char *section_names;
    int data_segment;      /* the PT_LOAD holding .data, .bss and the info record */
    int slot_segment;      /* the reserved PT_LOAD; -1 in an image */
    uint64_t info_address;
    const struct pf_image_info *info;   /* the record as the file holds it */
};

/* Reads and validates an ELF file that is a pyfreeze runtime or image. */
int pf_runtime_elf_load(const char *path, struct pf_runtime_elf *elf, struct pf_error *error);

/* Validates `bytes` (owned by the caller, kept in `elf`). */
int pf_runtime_elf_parse(unsigned char *bytes, size_t size, const char *path,
                         struct pf_runtime_elf *elf, struct pf_error *error);

void pf_runtime_elf_free(struct pf_runtime_elf *elf);

/* The file bytes that a loaded image holds at [address, address + size),
 * or NULL when no segment has them all in the file. */
const void *pf_elf_bytes_at(const struct pf_runtime_elf *elf, uint64_t address, uint64_t size);

/* The NUL-terminated string the loaded image holds at `address`, or NULL. */
const char *pf_elf_string_at(const struct pf_runtime_elf *elf, uint64_t address);

/* The section named `name`, or NULL. */
const Elf64_Shdr *pf_elf_section(const struct pf_runtime_elf *elf, const char *name);

#endif
