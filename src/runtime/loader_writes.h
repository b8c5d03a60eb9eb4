/* What the dynamic loader writes into an executable's writable segment
 * before main(), found from the executable's own dynamic section, and a
 * reset of that segment to the linker's bytes that keeps those writes.
 *
 * A cold start needs the data segment exactly as a freshly exec'd runtime
 * has it at main(): the linker's bytes, with every relocation ld.so
 * applied on top (R_X86_64_64 pointers into libexpat, R_X86_64_COPY
 * objects such as stdout and environ, GLOB_DAT and JUMP_SLOT entries when
 * they are not in RELRO).  Nothing else writes there before main(): the
 * only constructor is crtstuff's frame_dummy, which writes nothing (checked
 * against a runtime stopped at main() under gdb).
 *
 * The code is plain C over addresses so that unit tests can run it on
 * buffers (tests/unit/test_loader_writes.c). */
#ifndef PYFREEZE_LOADER_WRITES_H
#define PYFREEZE_LOADER_WRITES_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

struct pf_loader_write {
    uint64_t address, size;
};

/* The writes the relocation tables named by `dynamic` (DT_RELA with
 * DT_RELASZ, DT_JMPREL with DT_PLTRELSZ, DT_RELR with DT_RELRSZ; DT_SYMTAB
 * for the sizes of COPY relocations) make within [from, end): a malloc'd
 * array in *writes, its length in *count.  A write that straddles `from`
 * or `end`, a relocation type of unknown size, DT_REL tables and sizes
 * that do not add up are errors: -1 with *why set. */
int pf_loader_writes_within(const Elf64_Dyn *dynamic, uint64_t from, uint64_t end,
                            struct pf_loader_write **writes, size_t *count, const char **why);

/* Resets the memory at [from, end) to `pristine` for [from, file_end) and
 * zeros above, keeping the bytes at `writes` as they are now.  It allocates
 * before it copies anything and frees after, so a caller whose allocator
 * state lives in that memory can switch it back before it allocates again:
 * pass `after_reset`, called once the reset is complete and before any
 * memory is freed (NULL for none).  0, or -1 with *why set (nothing
 * changed then). */
int pf_reset_keeping(uint64_t from, uint64_t file_end, uint64_t end, const unsigned char *pristine,
                     const struct pf_loader_write *writes, size_t count, void (*after_reset)(void),
                     const char **why);

#endif
