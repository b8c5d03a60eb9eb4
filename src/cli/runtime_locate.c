#define _GNU_SOURCE
#include "runtime_locate.h"

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int usable(const char *path)
{
    return access(path, X_OK) == 0;
}

int pf_runtime_locate(const char *requested, char *path, size_t size, struct pf_error *error)
{
    if (requested != NULL) {
        if (!usable(requested))
            return pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "runtime %s", requested);
        snprintf(path, size, "%s", requested);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length > 0) {
        self[length] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            snprintf(path, size, "%.*s/pyfreeze-runtime", (int)(slash - self), self);
            if (usable(path))
                return 0;
        }
    }
    snprintf(path, size, "%s", PF_INSTALLED_RUNTIME);
    if (!usable(path))
        return pf_fail_errno(error, PF_EXIT_OUTPUT, errno,
                             "cannot find the runtime (%s; use --runtime PATH)", path);
    return 0;
}
