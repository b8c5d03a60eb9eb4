#define _GNU_SOURCE
#include "prefault.h"

#include "../common/io.h"
#include "image_info.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   /* Linux 5.14 */
#endif

#define PAGE 4096u

struct pf_prefault_table pf_prefault_table;

/* The runtime's writable, non-RELRO data (.data and .bss): what of the
 * data segment a table may name, with the frozen heap. */
extern char __data_start[], _end[];

static int within(uintptr_t start, uintptr_t end, uintptr_t low, uintptr_t high)
{
    return start >= low && end <= high && start < end;
}

/* Whether every run lies in the runtime's data or the frozen heap: a
 * table from anything but the freeze must not touch other mappings. */
static int table_is_sound(const struct pf_prefault_table *table)
{
    uintptr_t data_low = (uintptr_t)__data_start & ~(uintptr_t)(PAGE - 1);
    uintptr_t data_high = ((uintptr_t)_end + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    if (table->count > PF_PREFAULT_RUNS)
        return 0;
    for (uint32_t i = 0; i < table->count; i++) {
        uintptr_t start = (uintptr_t)table->runs[i].first_page * PAGE;
        uintptr_t end = start + (uintptr_t)table->runs[i].pages * PAGE;
        if (!within(start, end, data_low, data_high) &&
            !within(start, end, (uintptr_t)pf_info.heap_start, (uintptr_t)pf_info.heap_end))
            return 0;
    }
    return 1;
}

void pf_prefault_run(void)
{
    const struct pf_prefault_table *table = &pf_prefault_table;
    if (table->count == 0 || pf_prefault_training() || !table_is_sound(table))
        return;
    for (uint32_t i = 0; i < table->count; i++) {
        void *start = (void *)((uintptr_t)table->runs[i].first_page * PAGE);
        /* An older kernel, or no memory: the writes fault as they would. */
        if (madvise(start, (size_t)table->runs[i].pages * PAGE, MADV_POPULATE_WRITE) < 0)
            return;
    }
}

int pf_prefault_training(void)
{
    return pf_env_descriptor(PF_TRAIN_ENV) >= 0;
}

/* Appends to OUT the runs of pages in [low, high) that this process has
 * written: present and no longer the file's page (copied on write). */
static int written_runs(int pagemap, uintptr_t low, uintptr_t high, FILE *out)
{
    uint64_t entries[512];
    high &= ~(uintptr_t)(PAGE - 1);
    uintptr_t run_start = 0;
    uint32_t run_pages = 0;
    for (uintptr_t page = low; page < high;) {
        size_t count = (high - page) / PAGE < 512 ? (high - page) / PAGE : 512;
        ssize_t got = pread(pagemap, entries, count * sizeof *entries, (off_t)(page / PAGE * sizeof *entries));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || (size_t)got % sizeof *entries != 0)
            return -1;
        for (size_t i = 0; i < (size_t)got / sizeof *entries; i++, page += PAGE) {
            int copied = (entries[i] >> 63 & 1) && !(entries[i] >> 61 & 1);
            if (copied && run_pages > 0 && run_start + (uintptr_t)run_pages * PAGE == page) {
                run_pages++;
            } else if (copied) {
                if (run_pages > 0)
                    fprintf(out, "%lx %u\n", (unsigned long)(run_start / PAGE), run_pages);
                run_start = page;
                run_pages = 1;
            }
        }
    }
    if (run_pages > 0)
        fprintf(out, "%lx %u\n", (unsigned long)(run_start / PAGE), run_pages);
    return 0;
}

void pf_prefault_report(void)
{
    int fd = pf_env_descriptor(PF_TRAIN_ENV);
    if (fd < 0)
        return;
    uintptr_t data_low = (uintptr_t)__data_start & ~(uintptr_t)(PAGE - 1);
    uintptr_t data_high = ((uintptr_t)_end + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    int failed = out == NULL || pagemap < 0 || written_runs(pagemap, data_low, data_high, out) < 0 ||
                 written_runs(pagemap, (uintptr_t)pf_info.heap_start, (uintptr_t)pf_info.heap_end, out) < 0;
    if (out != NULL && fclose(out) != 0)
        failed = 1;
    if (!failed)
        failed = pf_write_all(fd, text, size) < 0;
    _exit(failed ? 1 : 0);
}

void pf_prefault_refuse_cold(void)
{
    if (pf_prefault_training())
        _exit(PF_TRAIN_COLD);
}
