/* The GNU build-id of a runtime or image: what tells two runtime builds
 * apart (`pyfreeze info`, and its --check). */
#ifndef PYFREEZE_BUILD_ID_H
#define PYFREEZE_BUILD_ID_H

#include "runtime_elf.h"

#include <stddef.h>

/* The build-id of ELF in hex into OUT, or "unknown" when it has none that
 * fits, in SIZE bytes. */
void pf_elf_build_id(const struct pf_runtime_elf *elf, char *out, size_t size);

#endif
