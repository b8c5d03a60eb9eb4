#ifndef PYFREEZE_RUNTIME_LOCATE_H
#define PYFREEZE_RUNTIME_LOCATE_H

#include "../common/error.h"

#include <stddef.h>

/* The runtime to use: --runtime if given; else pyfreeze-runtime next to
 * this executable (the build tree); else the installed one in libexecdir. */
int pf_runtime_locate(const char *requested, char *path, size_t size, struct pf_error *error);

#endif
