#include "build_id.h"

#include <stdio.h>

void pf_elf_build_id(const struct pf_runtime_elf *elf, char *out, size_t size)
{
    snprintf(out, size, "unknown");
    const Elf64_Shdr *note = pf_elf_section(elf, ".note.gnu.build-id");
    if (note == NULL || note->sh_type != SHT_NOTE || note->sh_size < sizeof(Elf64_Nhdr) ||
        note->sh_offset % 4 != 0)
        return;
    const Elf64_Nhdr *header = (const Elf64_Nhdr *)(elf->bytes + note->sh_offset);
    /* In 64 bits, where none of these sums of 32-bit fields can wrap. */
    uint64_t name_room = ((uint64_t)header->n_namesz + 3) & ~(uint64_t)3;
    if (sizeof *header + name_room + header->n_descsz > note->sh_size || (uint64_t)header->n_descsz * 2 + 1 > size)
        return;
    const unsigned char *id = (const unsigned char *)(header + 1) + name_room;
    for (unsigned i = 0; i < header->n_descsz; i++)
        snprintf(out + 2 * i, 3, "%02x", id[i]);
}
