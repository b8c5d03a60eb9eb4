#define _GNU_SOURCE
#include "check_mode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The descriptor the reason goes to, or -1: PYFREEZE_CHECK must name an
 * open descriptor above 2, so that a stray value does not turn a run
 * into a check. */
static int check_fd(void)
{
    const char *value = getenv(PF_CHECK_ENV);
    if (value == NULL || *value == '\0')
        return -1;
    char *end;
    errno = 0;
    long fd = strtol(value, &end, 10);
    if (errno != 0 || *end != '\0' || fd < 3 || fd > 1024 || fcntl((int)fd, F_GETFD) < 0)
        return -1;
    return (int)fd;
}

int pf_check_mode(void)
{
    return check_fd() >= 0;
}

void pf_check_finish(const char *reason)
{
    int fd = check_fd();
    if (fd < 0)
        return;
    if (reason == NULL)
        _exit(0);
    size_t size = strlen(reason);
    while (size > 0) {
        ssize_t done = write(fd, reason, size);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            break;
        reason += done;
        size -= (size_t)done;
    }
    _exit(PF_CHECK_COLD);
}
