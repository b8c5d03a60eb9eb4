/* Copying ahead the pages a warm start writes.
 *
 * An image's data and frozen heap are private file mappings: the first
 * write to a page takes a copy-on-write fault (the trap, a page allocated
 * and charged, 4 KiB copied: about 2.5 µs on the machines measured), and a
 * warm start takes hundreds before the program runs.  The freeze runs the
 * image once in a training run (PYFREEZE_TRAIN), which stops where the
 * program would start, having made the exit's decision once (restore.c),
 * and reports which of those pages it wrote; the image carries them
 * (struct pf_prefault_table).  A warm start makes those
 * copies first, with madvise(MADV_POPULATE_WRITE): one system call per run
 * of pages instead of a trap per page, and often two (a read that maps the
 * page, and its neighbours, read-only first; the write that copies it).
 * A copy made ahead of a write is a copy the write would have made:
 * nothing the process can see changes.
 *
 * A helper thread that made the copies on another processor while the
 * main thread restored was measured slower on the machines measured: with
 * two threads in the address space, each copy of a page already mapped
 * read-only sends the other processor an interrupt to flush its TLB. */
#ifndef PYFREEZE_PREFAULT_H
#define PYFREEZE_PREFAULT_H

#include "../common/image_info.h"

/* The table an image carries (filled in by the freeze). */
extern struct pf_prefault_table pf_prefault_table;

/* Copies the pages of the image's table, when it has one and this is
 * not a training run. */
void pf_prefault_run(void);

/* Whether this run is a training run (PYFREEZE_TRAIN=FD names an open
 * descriptor above 2). */
int pf_prefault_training(void);

/* In a training run, at the end of the restore: writes the runs of
 * written pages to the descriptor, one "FIRST_PAGE PAGES" line each (hex,
 * decimal), and exits 0.  Nothing of the program runs. */
void pf_prefault_report(void);

/* In a training run about to step aside: exits PF_TRAIN_COLD instead, so
 * that the program does not run. */
void pf_prefault_refuse_cold(void);

#endif
