#define _GNU_SOURCE
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pf_fail(struct pf_error *error, enum pf_exit status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(error->message, sizeof error->message, format, args);
    va_end(args);
    error->status = status;
    return -1;
}

int pf_fail_errno(struct pf_error *error, enum pf_exit status, int errnum, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int used = vsnprintf(error->message, sizeof error->message, format, args);
    va_end(args);
    if (used >= 0 && (size_t)used < sizeof error->message)
        snprintf(error->message + used, sizeof error->message - (size_t)used, ": %s", strerror(errnum));
    error->status = status;
    return -1;
}
