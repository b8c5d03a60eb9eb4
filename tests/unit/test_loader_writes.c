/* Unit tests for src/runtime/loader_writes.c: the relocation walk that finds
 * what ld.so wrote into the data segment, and the reset that keeps it.
 *
 * The "executable" here is a buffer standing for a data segment; its
 * dynamic section, relocation tables and symbols are built by hand with
 * addresses inside that buffer, as a non-PIE executable has them. */
#define _GNU_SOURCE
#include "runtime/loader_writes.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DT_RELR
#define DT_RELR 36
#define DT_RELRSZ 35
#endif

#define WHY(why) ((why) != NULL ? (why) : "(no reason)")
#define SEGMENT 4096u
#define FILE_PART 3072u   /* [0, 3072) from the file, the rest .bss */

static _Alignas(16) unsigned char segment[SEGMENT];
static unsigned char pristine[SEGMENT];

static uint64_t at(size_t offset)
{
    return (uint64_t)(uintptr_t)(segment + offset);
}

static Elf64_Rela rela(size_t offset, unsigned type, unsigned symbol)
{
    return (Elf64_Rela){.r_offset = at(offset), .r_info = ELF64_R_INFO(symbol, type), .r_addend = 0};
}

static Elf64_Sym symbols[3];
static Elf64_Rela data_relocations[8];
static Elf64_Rela plt_relocations[2];
static uint64_t relr[3];
static Elf64_Dyn dynamic[16];

static void build_tables(void)
{
    memset(symbols, 0, sizeof symbols);
    symbols[1].st_size = 24;   /* a COPY object, like stdout's FILE pointer's home */
    symbols[2].st_size = 8;
    size_t n = 0;
    data_relocations[n++] = rela(64, R_X86_64_64, 2);          /* in .data */
    data_relocations[n++] = rela(200, R_X86_64_64, 2);
    data_relocations[n++] = rela(3200, R_X86_64_COPY, 1);      /* in .bss */
    data_relocations[n++] = rela(8, R_X86_64_GLOB_DAT, 2);     /* below `from`: RELRO */
    data_relocations[n++] = rela(1000, R_X86_64_NONE, 0);      /* writes nothing */
    data_relocations[n++] = rela(1024, R_X86_64_32, 2);        /* four bytes */
    plt_relocations[0] = rela(512, R_X86_64_JUMP_SLOT, 2);
    plt_relocations[1] = rela(520, R_X86_64_IRELATIVE, 0);
    relr[0] = at(1600);                      /* an address: the word there */
    relr[1] = 1 | (1u << 1) | (1u << 3);     /* bitmap: words 0 and 2 after it */
    relr[2] = at(2048);
    n = 0;
    dynamic[n++] = (Elf64_Dyn){DT_RELA, {.d_ptr = (uint64_t)(uintptr_t)data_relocations}};
    dynamic[n++] = (Elf64_Dyn){DT_RELASZ, {.d_val = 6 * sizeof(Elf64_Rela)}};
    dynamic[n++] = (Elf64_Dyn){DT_RELAENT, {.d_val = sizeof(Elf64_Rela)}};
    dynamic[n++] = (Elf64_Dyn){DT_JMPREL, {.d_ptr = (uint64_t)(uintptr_t)plt_relocations}};
    dynamic[n++] = (Elf64_Dyn){DT_PLTRELSZ, {.d_val = sizeof plt_relocations}};
    dynamic[n++] = (Elf64_Dyn){DT_PLTREL, {.d_val = DT_RELA}};
    dynamic[n++] = (Elf64_Dyn){DT_RELR, {.d_ptr = (uint64_t)(uintptr_t)relr}};
    dynamic[n++] = (Elf64_Dyn){DT_RELRSZ, {.d_val = sizeof relr}};
    dynamic[n++] = (Elf64_Dyn){DT_SYMTAB, {.d_ptr = (uint64_t)(uintptr_t)symbols}};
    dynamic[n++] = (Elf64_Dyn){DT_NULL, {0}};
}

static int listed(const struct pf_loader_write *writes, size_t count, size_t offset, uint64_t size)
{
    for (size_t i = 0; i < count; i++) {
        if (writes[i].address == at(offset) && writes[i].size == size)
            return 1;
    }
    return 0;
}

static void test_walk_finds_every_write_in_range(void)
{
    build_tables();
    struct pf_loader_write *writes;
    size_t count;
    const char *why = NULL;
    CHECK(pf_loader_writes_within(dynamic, at(32), at(SEGMENT), &writes, &count, &why) == 0, "%s", WHY(why));
    size_t expected[][2] = {{64, 8}, {200, 8}, {3200, 24}, {1024, 4}, {512, 8}, {520, 8},
                            {1600, 8}, {1608, 8}, {1624, 8}, {2048, 8}};
    CHECK(count == sizeof expected / sizeof *expected, "%zu writes", count);
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        CHECK(listed(writes, count, expected[i][0], expected[i][1]), "write at +%zu of %zu bytes missing",
              expected[i][0], expected[i][1]);
    CHECK(!listed(writes, count, 8, 8), "the RELRO word below `from` is not the reset's concern");
    free(writes);
}

static void test_reset_keeps_loader_writes(void)
{
    build_tables();
    for (size_t i = 0; i < SEGMENT; i++) {
        pristine[i] = (unsigned char)(i * 7 + 1);
        segment[i] = (unsigned char)(0xA0 ^ i);   /* the "dumped" bytes */
    }
    struct pf_loader_write *writes;
    size_t count;
    const char *why = NULL;
    uint64_t from = at(32);
    CHECK(pf_loader_writes_within(dynamic, from, at(SEGMENT), &writes, &count, &why) == 0, "%s", WHY(why));
    unsigned char live[SEGMENT];
    memcpy(live, segment, SEGMENT);
    CHECK(pf_reset_keeping(from, at(FILE_PART), at(SEGMENT), pristine + 32, writes, count, NULL, &why) == 0,
          "%s", WHY(why));
    for (size_t i = 0; i < SEGMENT; i++) {
        int kept = 0;
        for (size_t w = 0; w < count; w++)
            kept |= at(i) >= writes[w].address && at(i) < writes[w].address + writes[w].size;
        unsigned char want = i < 32 ? live[i] : kept ? live[i] : i < FILE_PART ? pristine[i] : 0;
        if (!CHECK(segment[i] == want, "byte +%zu is %#x, not %#x", i, segment[i], want))
            break;
    }
    free(writes);
}

static int after_calls;
static void after(void)
{
    after_calls++;
}

static void test_after_reset_runs_once(void)
{
    const char *why = NULL;
    struct pf_loader_write write = {at(100), 8};
    after_calls = 0;
    CHECK(pf_reset_keeping(at(0), at(FILE_PART), at(SEGMENT), pristine, &write, 1, after, &why) == 0, "%s", WHY(why));
    CHECK(after_calls == 1, "called %d times", after_calls);
}

static void test_reset_refuses_bad_ranges(void)
{
    const char *why = NULL;
    struct pf_loader_write outside = {at(SEGMENT - 4), 8};
    struct pf_loader_write wraps = {UINT64_MAX - 3, 8};
    memset(segment, 0x5a, sizeof segment);
    CHECK(pf_reset_keeping(at(0), at(FILE_PART), at(SEGMENT), pristine, &outside, 1, NULL, &why) < 0,
          "a kept write past the end");
    CHECK(pf_reset_keeping(at(0), at(FILE_PART), at(SEGMENT), pristine, &wraps, 1, NULL, &why) < 0,
          "a kept write that wraps");
    CHECK(pf_reset_keeping(at(100), at(50), at(SEGMENT), pristine, NULL, 0, NULL, &why) < 0, "from > file_end");
    CHECK(pf_reset_keeping(at(0), at(SEGMENT), at(FILE_PART), pristine, NULL, 0, NULL, &why) < 0,
          "file_end > end");
    CHECK(segment[0] == 0x5a && segment[SEGMENT - 1] == 0x5a, "a refused reset changed memory");
}

static void expect_walk_error(const char *what)
{
    struct pf_loader_write *writes = (void *)1;
    size_t count = 99;
    const char *why = NULL;
    CHECK(pf_loader_writes_within(dynamic, at(0), at(SEGMENT), &writes, &count, &why) < 0, "%s accepted", what);
    CHECK(why != NULL && writes == NULL && count == 0, "%s: no reason or a partial result", what);
}

static void test_walk_refuses_what_it_cannot_read(void)
{
    build_tables();
    data_relocations[0].r_info = ELF64_R_INFO(2, 200);
    expect_walk_error("an unknown relocation type");

    build_tables();
    data_relocations[0].r_offset = at(SEGMENT - 4);
    expect_walk_error("a write straddling the end");

    build_tables();
    data_relocations[0].r_offset = UINT64_MAX - 3;
    expect_walk_error("a write wrapping around");

    build_tables();
    dynamic[1].d_un.d_val = 5 * sizeof(Elf64_Rela) + 3;
    expect_walk_error("DT_RELASZ not a whole number of entries");

    build_tables();
    dynamic[2].d_un.d_val = 16;
    expect_walk_error("a DT_RELAENT of another size");

    build_tables();
    dynamic[5].d_un.d_val = DT_REL;
    expect_walk_error("DT_PLTREL naming REL");

    build_tables();
    dynamic[0].d_tag = DT_REL;
    expect_walk_error("DT_REL");

    build_tables();
    relr[0] = UINT64_MAX - 7;
    expect_walk_error("a DT_RELR address at the top of memory");

    build_tables();
    relr[0] = UINT64_MAX - 15;   /* the bitmap after it would wrap */
    relr[1] = 1 | ((uint64_t)1 << 63);
    struct pf_loader_write *writes;
    size_t count;
    const char *why = NULL;
    CHECK(pf_loader_writes_within(dynamic, at(0), at(SEGMENT), &writes, &count, &why) < 0,
          "a DT_RELR bitmap running past the top of memory accepted");

    build_tables();
    data_relocations[2].r_info = ELF64_R_INFO(0, R_X86_64_COPY);
    expect_walk_error("a COPY relocation without a symbol");

    build_tables();
    CHECK(pf_loader_writes_within(dynamic, at(100), at(50), &writes, &count, &why) < 0, "from > end accepted");
}

static void test_empty_dynamic_section(void)
{
    Elf64_Dyn none[1] = {{DT_NULL, {0}}};
    struct pf_loader_write *writes;
    size_t count = 1;
    const char *why = NULL;
    CHECK(pf_loader_writes_within(none, at(0), at(SEGMENT), &writes, &count, &why) == 0, "%s", WHY(why));
    CHECK(count == 0, "%zu writes from no tables", count);
    free(writes);
}

int main(void)
{
    test_walk_finds_every_write_in_range();
    test_reset_keeps_loader_writes();
    test_after_reset_runs_once();
    test_reset_refuses_bad_ranges();
    test_walk_refuses_what_it_cannot_read();
    test_empty_dynamic_section();
    printf("test_loader_writes: %u checks, %u failed\n", checks_run, checks_failed);
    return checks_failed != 0;
}
