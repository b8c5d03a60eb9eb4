/* The training run: the freeze runs the image it built once, in the
 * runtime's training mode (PYFREEZE_TRAIN, src/runtime/prefault.h), which
 * restores a warm start and, where the program would start, reports the
 * pages of its data and frozen heap that the start-up wrote, and exits.
 * Nothing of the program runs: a training run that would start cold exits
 * instead.  The image then carries those pages as its prefault table. */
#ifndef PYFREEZE_PREFAULT_TRAINING_H
#define PYFREEZE_PREFAULT_TRAINING_H

#include "../common/image_info.h"

#include <stddef.h>

struct pf_training {
    const unsigned char *image;  /* the image's bytes, run from memory */
    size_t size;
    const char *argv0;           /* the path the image is run by */
    int plain;                   /* a plain image: run as `-c pass` */
    const char *directory;       /* where it runs */
    char **environment;          /* the freeze's; PYTHON* and PYFREEZE_* go */
};

/* Runs the training and fills `table` with what it reported.  Returns
 * NULL, or why no table could be made (the image is good without one: its
 * start-up then takes its own faults). */
const char *pf_prefault_train(const struct pf_training *training, struct pf_prefault_table *table);

#endif
