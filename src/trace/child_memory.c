#define _GNU_SOURCE
#include "child_memory.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

int pf_child_read(pid_t pid, uint64_t address, void *buffer, size_t size, struct pf_error *error)
{
    char *next = buffer;
    while (size > 0) {
        struct iovec local = {.iov_base = next, .iov_len = size};
        struct iovec remote = {.iov_base = (void *)(uintptr_t)address, .iov_len = size};
        ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ESRCH)
                return pf_fail(error, PF_EXIT_TRACE, "reading the child's memory failed: the child exited");
            return pf_fail_errno(error, PF_EXIT_TRACE, errno,
                                 "reading the child's memory at 0x%llx failed",
                                 (unsigned long long)address);
        }
        if (got == 0)
            return pf_fail(error, PF_EXIT_TRACE, "reading the child's memory at 0x%llx failed: nothing readable",
                           (unsigned long long)address);
        next += got;
        address += (uint64_t)got;
        size -= (size_t)got;
    }
    return 0;
}

int pf_child_read_string(pid_t pid, uint64_t address, char *buffer, size_t size, struct pf_error *error)
{
    size_t used = 0;
    while (used + 1 < size) {
        size_t chunk = size - 1 - used < 64 ? size - 1 - used : 64;
        if (pf_child_read(pid, address + used, buffer + used, chunk, error) < 0)
            return -1;
        char *end = memchr(buffer + used, '\0', chunk);
        if (end != NULL)
            return 0;
        used += chunk;
    }
    return pf_fail(error, PF_EXIT_TRACE, "a string in the child's memory at 0x%llx is too long",
                   (unsigned long long)address);
}
