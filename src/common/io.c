#define _GNU_SOURCE
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int pf_write_all(int fd, const void *data, size_t size)
{
    const char *next = data;
    while (size > 0) {
        ssize_t written = write(fd, next, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (written == 0) {
            errno = EIO;
            return -1;
        }
        next += written;
        size -= (size_t)written;
    }
    return 0;
}

ssize_t pf_read_full(int fd, void *data, size_t size)
{
    char *next = data;
    size_t done = 0;
    while (done < size) {
        ssize_t got = read(fd, next + done, size - done);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

int pf_read_file(const char *path, char **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t capacity = 65536, used = 0;
    char *buffer = malloc(capacity + 1);
    while (buffer != NULL) {
        if (used == capacity) {
            char *bigger = realloc(buffer, capacity * 2 + 1);
            if (bigger == NULL)
                break;
            buffer = bigger;
            capacity *= 2;
        }
        ssize_t got = pf_read_full(fd, buffer + used, capacity - used);
        if (got < 0)
            break;
        used += (size_t)got;
        if (used < capacity) {
            buffer[used] = '\0';
            close(fd);
            *data = buffer;
            *size = used;
            return 0;
        }
    }
    int saved = buffer == NULL ? ENOMEM : errno;
    free(buffer);
    close(fd);
    errno = saved;
    return -1;
}

int pf_env_descriptor(const char *name)
{
    const char *value = getenv(name);
    if (value == NULL || *value == '\0')
        return -1;
    char *end;
    errno = 0;
    long fd = strtol(value, &end, 10);
    if (errno != 0 || *end != '\0' || fd < 3 || fd > 1024 || fcntl((int)fd, F_GETFD) < 0)
        return -1;
    return (int)fd;
}
