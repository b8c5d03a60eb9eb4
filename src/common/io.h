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

/* The open descriptor above 2 that environment variable NAME gives as a
 * decimal number, or -1 (unset, not a number, 0-2, or not open), so that
 * a stray value cannot make a process write where it should not. */
int pf_env_descriptor(const char *name);

#endif
