#define _GNU_SOURCE
#include "debug_report.h"

#include "../common/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pf_debug_enabled(void)
{
    const char *value = getenv(PF_DEBUG_ENV);
    return value != NULL && *value != '\0' && strcmp(value, "0") != 0;
}

void pf_debug(const char *format, ...)
{
    if (!pf_debug_enabled())
        return;
    char line[1024];
    int used = snprintf(line, sizeof line, "pyfreeze: ");
    va_list args;
    va_start(args, format);
    int more = vsnprintf(line + used, sizeof line - (size_t)used - 1, format, args);
    va_end(args);
    size_t length = (size_t)used + (more < 0 ? 0 : (size_t)more);
    if (length > sizeof line - 2)
        length = sizeof line - 2;
    line[length++] = '\n';
    /* The file is opened for each line: an image must not hold a
     * descriptor the program could see. */
    const char *target = getenv(PF_DEBUG_ENV);
    int saved_errno = errno;    /* a report that cannot be written is dropped */
    if (target[0] == '/') {
        int fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
            (void)pf_write_all(fd, line, length);
            close(fd);
        }
    } else {
        (void)pf_write_all(STDERR_FILENO, line, length);
    }
    errno = saved_errno;
}
