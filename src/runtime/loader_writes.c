#define _GNU_SOURCE
#include "loader_writes.h"

#include <stdlib.h>
#include <string.h>

#ifndef DT_RELR
#define DT_RELR 36
#define DT_RELRSZ 35
#define DT_RELRENT 37
#endif

struct tables {
    const Elf64_Rela *rela, *plt;
    uint64_t rela_size, plt_size, plt_kind;
    const uint64_t *relr;
    uint64_t relr_size;
    const Elf64_Sym *symbols;
};

struct collector {
    uint64_t from, end;
    struct pf_loader_write *items;
    size_t count, capacity;
    const char *why;
};

static int fail(struct collector *collector, const char *why)
{
    collector->why = why;
    return -1;
}

static int add(struct collector *collector, uint64_t address, uint64_t size)
{
    uint64_t last;
    if (size == 0)
        return 0;
    if (__builtin_add_overflow(address, size, &last))
        return fail(collector, "a relocation's target wraps around the address space");
    if (last <= collector->from || address >= collector->end)
        return 0;   /* outside the range: not our concern */
    if (address < collector->from || last > collector->end)
        return fail(collector, "a relocation's target straddles the reset range");
    if (collector->count == collector->capacity) {
        size_t capacity = collector->capacity ? collector->capacity * 2 : 64;
        struct pf_loader_write *grown = reallocarray(collector->items, capacity, sizeof *grown);
        if (grown == NULL)
            return fail(collector, "out of memory");
        collector->items = grown;
        collector->capacity = capacity;
    }
    collector->items[collector->count++] = (struct pf_loader_write){address, size};
    return 0;
}

/* Bytes a relocation of `type` writes at its offset on x86-64. */
static int relocation_size(const struct tables *tables, const Elf64_Rela *rela, uint64_t *size)
{
    switch (ELF64_R_TYPE(rela->r_info)) {
    case R_X86_64_NONE:
        *size = 0;
        return 0;
    case R_X86_64_64: case R_X86_64_GLOB_DAT: case R_X86_64_JUMP_SLOT: case R_X86_64_RELATIVE:
    case R_X86_64_DTPMOD64: case R_X86_64_DTPOFF64: case R_X86_64_TPOFF64: case R_X86_64_PC64:
    case R_X86_64_IRELATIVE:
        *size = 8;
        return 0;
    case R_X86_64_PC32: case R_X86_64_32: case R_X86_64_32S: case R_X86_64_DTPOFF32:
    case R_X86_64_TPOFF32:
        *size = 4;
        return 0;
    case R_X86_64_COPY:
        if (tables->symbols == NULL || ELF64_R_SYM(rela->r_info) == 0)
            return -1;
        *size = tables->symbols[ELF64_R_SYM(rela->r_info)].st_size;
        return 0;
    default:
        return -1;
    }
}

static int add_rela(struct collector *collector, const struct tables *tables, const Elf64_Rela *table,
                    uint64_t bytes)
{
    if (bytes % sizeof *table != 0)
        return fail(collector, "a relocation table's size is not a whole number of entries");
    if (bytes != 0 && table == NULL)
        return fail(collector, "a relocation table has a size but no address");
    for (uint64_t i = 0; i < bytes / sizeof *table; i++) {
        uint64_t size;
        if (relocation_size(tables, &table[i], &size) < 0)
            return fail(collector, "a relocation type of unknown size");
        if (add(collector, table[i].r_offset, size) < 0)
            return -1;
    }
    return 0;
}

/* DT_RELR: an even entry is an address (one 8-byte word relocated there);
 * an odd one a bitmap of the 63 words that follow the last address. */
static int add_relr(struct collector *collector, const uint64_t *table, uint64_t bytes)
{
    if (bytes % sizeof *table != 0)
        return fail(collector, "a relocation table's size is not a whole number of entries");
    if (bytes != 0 && table == NULL)
        return fail(collector, "a relocation table has a size but no address");
    uint64_t next = 0;
    for (uint64_t i = 0; i < bytes / sizeof *table; i++) {
        uint64_t entry = table[i];
        if ((entry & 1) == 0) {
            if (add(collector, entry, 8) < 0)
                return -1;
            next = entry + 8;   /* add() checked that this does not wrap */
            continue;
        }
        uint64_t after;
        if (__builtin_add_overflow(next, 63 * 8, &after))
            return fail(collector, "a relocation's target wraps around the address space");
        for (unsigned bit = 1; bit < 64; bit++) {
            if (((entry >> bit) & 1) && add(collector, next + (uint64_t)(bit - 1) * 8, 8) < 0)
                return -1;
        }
        next = after;
    }
    return 0;
}

static int read_dynamic(const Elf64_Dyn *dynamic, struct tables *tables, const char **why)
{
    memset(tables, 0, sizeof *tables);
    tables->plt_kind = DT_RELA;
    for (const Elf64_Dyn *entry = dynamic; entry->d_tag != DT_NULL; entry++) {
        switch (entry->d_tag) {
        case DT_RELA: tables->rela = (const Elf64_Rela *)(uintptr_t)entry->d_un.d_ptr; break;
        case DT_RELASZ: tables->rela_size = entry->d_un.d_val; break;
        case DT_RELAENT:
            if (entry->d_un.d_val != sizeof(Elf64_Rela)) {
                *why = "DT_RELAENT is not the size of Elf64_Rela";
                return -1;
            }
            break;
        case DT_JMPREL: tables->plt = (const Elf64_Rela *)(uintptr_t)entry->d_un.d_ptr; break;
        case DT_PLTRELSZ: tables->plt_size = entry->d_un.d_val; break;
        case DT_PLTREL: tables->plt_kind = entry->d_un.d_val; break;
        case DT_RELR: tables->relr = (const uint64_t *)(uintptr_t)entry->d_un.d_ptr; break;
        case DT_RELRSZ: tables->relr_size = entry->d_un.d_val; break;
        case DT_SYMTAB: tables->symbols = (const Elf64_Sym *)(uintptr_t)entry->d_un.d_ptr; break;
        case DT_REL: case DT_RELSZ:
            *why = "DT_REL relocations (not used on x86-64)";
            return -1;
        default: break;
        }
    }
    if (tables->plt_kind != DT_RELA) {
        *why = "DT_PLTREL is not DT_RELA";
        return -1;
    }
    return 0;
}

int pf_loader_writes_within(const Elf64_Dyn *dynamic, uint64_t from, uint64_t end,
                            struct pf_loader_write **writes, size_t *count, const char **why)
{
    struct tables tables;
    struct collector collector = {.from = from, .end = end};
    *writes = NULL;
    *count = 0;
    if (from > end) {
        *why = "the reset range ends before it starts";
        return -1;
    }
    if (read_dynamic(dynamic, &tables, why) < 0)
        return -1;
    if (add_rela(&collector, &tables, tables.rela, tables.rela_size) < 0 ||
        add_rela(&collector, &tables, tables.plt, tables.plt_size) < 0 ||
        add_relr(&collector, tables.relr, tables.relr_size) < 0) {
        free(collector.items);
        *why = collector.why;
        return -1;
    }
    *writes = collector.items;
    *count = collector.count;
    return 0;
}

int pf_reset_keeping(uint64_t from, uint64_t file_end, uint64_t end, const unsigned char *pristine,
                     const struct pf_loader_write *writes, size_t count, void (*after_reset)(void),
                     const char **why)
{
    if (from > file_end || file_end > end) {
        *why = "the reset range is not ordered";
        return -1;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t last;
        if (writes[i].address < from || __builtin_add_overflow(writes[i].address, writes[i].size, &last) ||
            last > end || __builtin_add_overflow(total, writes[i].size, &total)) {
            *why = "a kept write lies outside the reset range";
            return -1;
        }
    }
    unsigned char *saved = malloc(total ? total : 1);
    if (saved == NULL) {
        *why = "out of memory";
        return -1;
    }
    unsigned char *next = saved;
    for (size_t i = 0; i < count; i++) {
        memcpy(next, (const void *)(uintptr_t)writes[i].address, writes[i].size);
        next += writes[i].size;
    }
    /* From here until after_reset() the memory may hold an allocator's
     * state as the linker made it: no allocation, no library calls but
     * memcpy and memset. */
    memcpy((void *)(uintptr_t)from, pristine, file_end - from);
    memset((void *)(uintptr_t)file_end, 0, end - file_end);
    next = saved;
    for (size_t i = 0; i < count; i++) {
        memcpy((void *)(uintptr_t)writes[i].address, next, writes[i].size);
        next += writes[i].size;
    }
    if (after_reset != NULL)
        after_reset();
    free(saved);
    return 0;
}
