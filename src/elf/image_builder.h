/* Lays out an image: the runtime's file with its data segment replaced by
 * the child's live data, and one extra segment holding the frozen heap, a
 * pristine copy of the runtime's data (for cold starts), the image's
 * manifest, and saved library state with its table.  Every part is a
 * file-backed PT_LOAD, so an image maps in O(1) and pays only for the
 * pages it touches. */
#ifndef PYFREEZE_IMAGE_BUILDER_H
#define PYFREEZE_IMAGE_BUILDER_H

#include "../common/error.h"
#include "runtime_elf.h"

#include <stddef.h>
#include <stdint.h>

/* Library state read from the child, to be copied back by the image. */
struct pf_snapshot_range {
    uint64_t target, size;
    const unsigned char *bytes;
};

struct pf_snapshot {
    const unsigned char *data;   /* the data segment, p_memsz bytes from p_vaddr */
    const unsigned char *heap;
    uint64_t heap_start, heap_size;
    const char *manifest;        /* its text (src/common/manifest.h) */
    size_t manifest_size;
    const struct pf_snapshot_range *ranges;
    size_t range_count;
};

struct pf_image {
    unsigned char *bytes;
    size_t size;
};

/* Lays the image out and writes it into a new buffer.  The runtime must be
 * a pristine one, laid out so that nothing but its non-allocated sections
 * and slot sections follows its data segment in the file; every sum of
 * the snapshot's addresses and sizes must fit in 64 bits, and the extra
 * segment must land on no segment the runtime loads.  Otherwise -1, with
 * the reason in `error`, and nothing is built. */
int pf_image_build(const struct pf_runtime_elf *runtime, const struct pf_snapshot *snapshot,
                   struct pf_image *image, struct pf_error *error);

/* The checks and the layout of pf_image_build alone: the size the image
 * would have.  Reads only the sizes in `snapshot` (and its ranges' sizes),
 * never their bytes. */
int pf_image_size(const struct pf_runtime_elf *runtime, const struct pf_snapshot *snapshot, uint64_t *size,
                  struct pf_error *error);

void pf_image_free(struct pf_image *image);

#endif
