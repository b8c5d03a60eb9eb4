#define _GNU_SOURCE
#include "quiescence.h"

#include "../common/io.h"
#include "proc_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_proc_dir(pid_t pid, const char *what, DIR **dir, struct pf_error *error)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
    *dir = opendir(path);
    if (*dir == NULL)
        return pf_fail_errno(error, PF_EXIT_TRACE, errno, "reading %s", path);
    return 0;
}

static void thread_name(pid_t pid, const char *tid, char *name, size_t size)
{
    char path[320];
    snprintf(path, sizeof path, "/proc/%d/task/%s/comm", (int)pid, tid);
    char *text;
    size_t length;
    snprintf(name, size, "thread %s", tid);
    if (pf_read_file(path, &text, &length) == 0) {
        text[strcspn(text, "\n")] = '\0';
        snprintf(name, size, "thread %s (%s)", tid, text);
        free(text);
    }
}

static int check_threads(pid_t pid, struct pf_error *error)
{
    DIR *dir;
    if (open_proc_dir(pid, "task", &dir, error) < 0)
        return -1;
    char main_tid[16];
    snprintf(main_tid, sizeof main_tid, "%d", (int)pid);
    int rc = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.' || strcmp(entry->d_name, main_tid) == 0)
            continue;
        char name[600];
        thread_name(pid, entry->d_name, name, sizeof name);
        rc = pf_fail(error, PF_EXIT_REFUSED, "cannot freeze: %s is running besides the main thread", name);
        break;
    }
    closedir(dir);
    return rc;
}

static int check_fds(pid_t pid, struct pf_error *error)
{
    DIR *dir;
    if (open_proc_dir(pid, "fd", &dir, error) < 0)
        return -1;
    int rc = 0;
    long fd;
    while ((fd = pf_proc_dir_next_number(dir)) >= 0) {
        if (fd <= 2)
            continue;
        char link[64], target[512];
        snprintf(link, sizeof link, "/proc/%d/fd/%ld", (int)pid, fd);
        ssize_t length = readlink(link, target, sizeof target - 1);
        target[length < 0 ? 0 : length] = '\0';
        rc = pf_fail(error, PF_EXIT_REFUSED, "cannot freeze: file descriptor %ld is open (%s)", fd,
                     length < 0 ? "unknown" : target);
        break;
    }
    closedir(dir);
    return rc;
}

int pf_check_quiescent(pid_t pid, struct pf_error *error)
{
    if (check_threads(pid, error) < 0 || check_fds(pid, error) < 0)
        return -1;
    return 0;
}
