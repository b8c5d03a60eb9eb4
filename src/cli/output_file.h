/* Writing the image: all or nothing.  The bytes go to an unnamed file in
 * the destination directory (O_TMPFILE) that only gets a name once it is
 * complete and synced, so a failure or a kill leaves nothing behind. */
#ifndef PYFREEZE_OUTPUT_FILE_H
#define PYFREEZE_OUTPUT_FILE_H

#include "../common/error.h"

#include <stddef.h>

/* Checks, before any work, that `path` can become the output. */
int pf_output_check(const char *path, const char *runtime_path, struct pf_error *error);

/* Writes `size` bytes as executable `path` (mode 0755 less the umask),
 * replacing an existing file atomically. */
int pf_output_write(const char *path, const void *bytes, size_t size, struct pf_error *error);

#endif
