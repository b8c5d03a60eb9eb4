#define _GNU_SOURCE
#include "file_stamp.h"

#include <stddef.h>
#include <sys/stat.h>

int pf_file_unchanged(const char *path, int64_t mtime_ns, uint64_t size)
{
    struct stat status;
    /* A file that cannot be looked at any more counts as changed. */
    if (path == NULL || stat(path, &status) != 0)
        return 0;
    return (uint64_t)status.st_size == size &&
           (int64_t)status.st_mtim.tv_sec * 1000000000 + status.st_mtim.tv_nsec == mtime_ns;
}
