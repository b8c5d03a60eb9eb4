#define _GNU_SOURCE
#include "process_state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* An image holding a hundred libraries (mypy's) has over 500 mappings. */
#define MAX_MAPPINGS 4096

struct mapping {
    uint64_t start, end;
};

static struct mapping initial[MAX_MAPPINGS];
static int initial_count = -1;

/* /proc/self/maps into a static buffer: this runs without malloc. */
static size_t read_maps(char *buffer, size_t size)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t got = read(fd, buffer + used, size - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        used += (size_t)got;
    }
    close(fd);
    buffer[used] = '\0';
    return used;
}

static char maps_text[256 * 1024];

void pf_state_remember_mappings(void)
{
    read_maps(maps_text, sizeof maps_text);
    initial_count = 0;
    for (char *line = maps_text; *line && initial_count < MAX_MAPPINGS;) {
        char *next = strchr(line, '\n');
        unsigned long long start, end;
        if (sscanf(line, "%llx-%llx", &start, &end) == 2)
            initial[initial_count++] = (struct mapping){start, end};
        line = next ? next + 1 : line + strlen(line);
    }
}

struct segment_probe {
    uint64_t start, end;
    int inside;
};

static int probe_segments(struct dl_phdr_info *info, size_t size, void *out)
{
    (void)size;
    struct segment_probe *probe = out;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t start = (info->dlpi_addr + ph->p_vaddr) & ~(uint64_t)4095;
        uint64_t end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        if (ph->p_type == PT_LOAD && probe->start < end && probe->end > start) {
            probe->inside = 1;
            return 1;
        }
    }
    return 0;
}

/* Whether [start, end) belongs to a loaded shared object (its segments,
 * including the anonymous pages of a .bss); those are the image's to
 * load again. */
static int library_memory(uint64_t start, uint64_t end)
{
    struct segment_probe probe = {start, end, 0};
    dl_iterate_phdr(probe_segments, &probe);
    return probe.inside;
}

/* Whether [start, end) was mapped when the dump began.  The kernel merges
 * and splits neighbouring anonymous mappings (ld.so's own allocations next
 * to a library's .bss), so a mapping counts as old when old mappings cover
 * it, whatever its start. */
static int existed(uint64_t start, uint64_t end)
{
    uint64_t covered = start;
    for (int pass = 0; pass < initial_count && covered < end; pass++) {
        int advanced = 0;
        for (int i = 0; i < initial_count; i++) {
            if (initial[i].start <= covered && initial[i].end > covered) {
                covered = initial[i].end;
                advanced = 1;
            }
        }
        if (!advanced)
            return 0;
    }
    return covered >= end;
}

/* A mapping made since start-up is lost in an image unless it is the
 * heap, the stack, a read-only file (locale data glibc maps itself) or
 * part of a shared library (checked, and loaded again, separately).
 * Describes the first such mapping into `what`. */
int pf_state_new_mapping(char *what, size_t size)
{
    if (initial_count < 0 || read_maps(maps_text, sizeof maps_text) == 0)
        return 0;
    for (char *line = maps_text; *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next = '\0';
        unsigned long long start, end, offset, inode;
        char perms[8] = "", device[32];
        int path_at = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %31s %llu %n", &start, &end, perms, &offset, device, &inode,
                   &path_at) >= 6) {
            const char *path = path_at > 0 ? line + path_at : "";
            int special = strcmp(path, "[heap]") == 0 || strcmp(path, "[stack]") == 0;
            int read_only_file = path[0] == '/' && perms[1] != 'w' && perms[2] != 'x';
            if (!special && !read_only_file && !existed(start, end) && !library_memory(start, end)) {
                snprintf(what, size, "memory mapping %llx-%llx %s %s (%llu KiB)", start, end, perms,
                         path[0] ? path : "(anonymous)", (end - start) / 1024);
                return 1;
            }
        }
        line = next ? next + 1 : line + strlen(line);
    }
    return 0;
}

static int new_mapping(char *why, size_t size)
{
    char what[PATH_MAX + 128];
    if (!pf_state_new_mapping(what, sizeof what))
        return 0;
    snprintf(why, size, "cannot freeze: %s was made while importing, and an image cannot carry it", what);
    return 1;
}

/* The first running child, from /proc (waitid() tells only that one
 * exists); 0 if it cannot be read. */
static int running_child(char *name, size_t size)
{
    char path[64], text[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)gettid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0)
        close(fd);
    int pid = got > 0 ? (text[got] = '\0', atoi(text)) : 0;
    snprintf(name, size, "?");
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    fd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    got = fd < 0 ? -1 : read(fd, name, size - 1);
    if (fd >= 0)
        close(fd);
    if (got > 0) {
        name[got] = '\0';
        name[strcspn(name, "\n")] = '\0';
    }
    return pid;
}

static int live_child(char *why, size_t size)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WSTOPPED | WNOHANG | WNOWAIT) != 0)
        return 0;   /* ECHILD: none */
    if (info.si_pid != 0) {
        snprintf(why, size, "cannot freeze: child process %d exited but was not waited for", (int)info.si_pid);
        return 1;
    }
    char name[32];
    int pid = running_child(name, sizeof name);
    snprintf(why, size, "cannot freeze: child process %d (%s) is still running", pid, name);
    return 1;
}

static int armed_timer(char *why, size_t size)
{
    static const struct {
        int which;
        const char *name;
    } timers[] = {{ITIMER_REAL, "ITIMER_REAL (signal.setitimer or alarm)"},
                  {ITIMER_VIRTUAL, "ITIMER_VIRTUAL"},
                  {ITIMER_PROF, "ITIMER_PROF"}};
    for (size_t i = 0; i < sizeof timers / sizeof *timers; i++) {
        struct itimerval value;
        if (getitimer(timers[i].which, &value) == 0 &&
            (value.it_value.tv_sec != 0 || value.it_value.tv_usec != 0)) {
            snprintf(why, size, "cannot freeze: interval timer %s is armed", timers[i].name);
            return 1;
        }
    }
    return 0;
}

int pf_state_refusal(char *why, size_t size)
{
    return live_child(why, size) || armed_timer(why, size) || new_mapping(why, size);
}
