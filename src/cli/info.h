/* `pyfreeze info IMAGE`: what an image holds and how it was made. */
#ifndef PYFREEZE_INFO_H
#define PYFREEZE_INFO_H

#include "../common/error.h"
#include "../elf/runtime_elf.h"

#include <stddef.h>

/* argv[0] is "info".  `runtime_path` is the runtime this pyfreeze would
 * use (NULL if none), to tell whether the image was made by its build. */
int pf_info_main(int argc, char **argv, const char *runtime_path, struct pf_error *error);

#endif
