#define _GNU_SOURCE
#include "output_file.h"

#include "../common/io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void split_path(const char *path, char *dir, char *name)
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(dir, PATH_MAX, "%s", dirname(copy));
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(name, NAME_MAX + 1, "%s", basename(copy));
}

int pf_output_check(const char *path, const char *runtime_path, struct pf_error *error)
{
    if (strlen(path) >= PATH_MAX - 32)
        return pf_fail(error, PF_EXIT_OUTPUT, "output %s: file name too long", path);
    char dir[PATH_MAX], name[NAME_MAX + 1];
    split_path(path, dir, name);
    struct stat target, runtime, parent;
    if (stat(dir, &parent) < 0)
        return pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "output %s: directory %s", path, dir);
    if (!S_ISDIR(parent.st_mode))
        return pf_fail(error, PF_EXIT_OUTPUT, "output %s: %s is not a directory", path, dir);
    if (access(dir, W_OK) < 0)
        return pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "output %s: directory %s", path, dir);
    if (stat(path, &target) == 0) {
        if (S_ISDIR(target.st_mode))
            return pf_fail(error, PF_EXIT_OUTPUT, "output %s: is a directory", path);
        if (!S_ISREG(target.st_mode))
            return pf_fail(error, PF_EXIT_OUTPUT, "output %s: exists and is not a regular file", path);
        if (stat(runtime_path, &runtime) == 0 && runtime.st_dev == target.st_dev &&
            runtime.st_ino == target.st_ino)
            return pf_fail(error, PF_EXIT_OUTPUT, "output %s: is the runtime itself", path);
    }
    return 0;
}

static mode_t executable_mode(void)
{
    mode_t mask = umask(0);
    umask(mask);
    return (mode_t)(0755 & ~mask);
}

/* Opens an unnamed file in `dir`, or failing support for that, a named
 * temporary one whose name is returned in `temp_name`. */
static int open_temporary(const char *dir, const char *name, char *temp_name, struct pf_error *error)
{
    temp_name[0] = '\0';
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0700);
    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "creating the output in %s", dir);
    if (snprintf(temp_name, PATH_MAX + NAME_MAX + 32, "%s/.%s.pyfreeze-XXXXXX", dir, name) < 0)
        return pf_fail(error, PF_EXIT_OUTPUT, "output name in %s too long", dir);
    fd = mkostemp(temp_name, O_CLOEXEC);
    if (fd < 0)
        return pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "creating %s", temp_name);
    return fd;
}

/* Gives the finished file its name.  Signals that would end us are held
 * off meanwhile so no temporary name can be left behind. */
static int publish(int fd, const char *dir, const char *temp_name, const char *path, struct pf_error *error)
{
    sigset_t fatal, saved;
    sigemptyset(&fatal);
    sigaddset(&fatal, SIGINT);
    sigaddset(&fatal, SIGTERM);
    sigaddset(&fatal, SIGHUP);
    sigprocmask(SIG_BLOCK, &fatal, &saved);
    int rc = 0;
    char proc_path[64], link_name[PATH_MAX + 64];
    if (temp_name[0] == '\0') {
        snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
        if (linkat(AT_FDCWD, proc_path, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
            goto done;
        if (errno != EEXIST) {
            rc = pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "naming output %s", path);
            goto done;
        }
        for (unsigned attempt = 0;; attempt++) {
            snprintf(link_name, sizeof link_name, "%s/.pyfreeze-%d-%u", dir, (int)getpid(), attempt);
            if (linkat(AT_FDCWD, proc_path, AT_FDCWD, link_name, AT_SYMLINK_FOLLOW) == 0)
                break;
            if (errno != EEXIST || attempt > 100) {
                rc = pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "naming output %s", path);
                goto done;
            }
        }
        temp_name = link_name;
    }
    if (rename(temp_name, path) < 0) {
        rc = pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "renaming %s to %s", temp_name, path);
        unlink(temp_name);
    }
done:
    sigprocmask(SIG_SETMASK, &saved, NULL);
    return rc;
}

int pf_output_write(const char *path, const void *bytes, size_t size, struct pf_error *error)
{
    char dir[PATH_MAX], name[NAME_MAX + 1], temp_name[PATH_MAX + NAME_MAX + 32];
    split_path(path, dir, name);
    int fd = open_temporary(dir, name, temp_name, error);
    if (fd < 0)
        return -1;
    int rc = 0;
    if (pf_write_all(fd, bytes, size) < 0)
        rc = pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "writing output %s", path);
    else if (fchmod(fd, executable_mode()) < 0)
        rc = pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "setting the mode of output %s", path);
    else if (fsync(fd) < 0)
        rc = pf_fail_errno(error, PF_EXIT_OUTPUT, errno, "syncing output %s", path);
    else
        rc = publish(fd, dir, temp_name, path, error);
    if (rc < 0 && temp_name[0] != '\0')
        unlink(temp_name);
    close(fd);
    return rc;
}
