/* A file as it was when an image was made: its size and modification time
 * (struct pf_file_stamp for the module files, struct pf_library for the
 * shared libraries).  The image, its restore and `pyfreeze info` ask the
 * same question of it, here. */
#ifndef PYFREEZE_FILE_STAMP_H
#define PYFREEZE_FILE_STAMP_H

#include <stdint.h>

/* Whether the file at PATH still has SIZE bytes and the modification time
 * MTIME_NS (nanoseconds since the epoch); 0 when it cannot be stat()ed. */
int pf_file_unchanged(const char *path, int64_t mtime_ns, uint64_t size);

#endif
