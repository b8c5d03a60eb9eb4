/* The whole freeze: run the runtime to its checkpoint, check it, read it,
 * write the image. */
#ifndef PYFREEZE_FREEZE_H
#define PYFREEZE_FREEZE_H

#include "../common/error.h"
#include "options.h"

int pf_freeze(const struct pf_options *options, const char *runtime_path, struct pf_error *error);

#endif
