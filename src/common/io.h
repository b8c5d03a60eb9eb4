/* The one place for I/O loops: EINTR and short transfers are handled here
 * and nowhere else. */
#ifndef PYFREEZE_IO_H
#define PYFREEZE_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all `size` bytes. 0, or -1 with errno set. */
int pf_write_all(int fd, const void *data, size_t size);

/* Reads up to `size` bytes, stopping early only at end of file.  Returns
 * the count, or -1 with errno set. */
ssize_t pf_read_full(int fd, void *data, size_t size);

/* Reads a whole file into a malloc'd buffer (NUL-terminated for text).
 * 0, or -1 with errno set. */
int pf_read_file(const char *path, char **data, size_t *size);

#endif
