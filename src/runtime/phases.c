#define _GNU_SOURCE
#include "phases.h"

#include "../common/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_MARKS 32

struct mark {
    const char *name;
    int64_t nanoseconds;
    long faults;        /* page faults of the process so far (exec keeps the count) */
    int summed;
};

static struct mark marks[MAX_MARKS];
static int mark_count;

int pf_phases_enabled(void)
{
    const char *value = getenv(PF_PHASES_ENV);
    return value != NULL && value[0] == '/';
}

int64_t pf_phase_clock(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        return 0;
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static struct mark *sum_for(const char *name)
{
    for (int i = 0; i < mark_count; i++) {
        if (marks[i].summed && strcmp(marks[i].name, name) == 0)
            return &marks[i];
    }
    return NULL;
}

static long faults_so_far(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return -1;
    return usage.ru_minflt + usage.ru_majflt;
}

static void record(const char *name, int64_t nanoseconds, int summed)
{
    if (!pf_phases_enabled())
        return;
    struct mark *existing = summed ? sum_for(name) : NULL;
    if (existing != NULL) {
        existing->nanoseconds += nanoseconds;
        return;
    }
    if (mark_count < MAX_MARKS)
        marks[mark_count++] = (struct mark){name, nanoseconds, summed ? 0 : faults_so_far(), summed};
}

void pf_phase_start(void)
{
    mark_count = 0;
    pf_phase("main");
}

void pf_phase(const char *name)
{
    record(name, pf_phase_clock(), 0);
}

void pf_phase_add(const char *name, int64_t nanoseconds)
{
    record(name, nanoseconds, 1);
}

void pf_phase_flush(void)
{
    if (mark_count == 0 || !pf_phases_enabled())
        return;
    char text[MAX_MARKS * 64];
    size_t used = 0;
    for (int i = 0; i < mark_count; i++) {
        int wrote = snprintf(text + used, sizeof text - used, "%s%s %lld %ld\n",
                             marks[i].summed ? "+" : "", marks[i].name,
                             (long long)marks[i].nanoseconds, marks[i].faults);
        if (wrote < 0 || (size_t)wrote >= sizeof text - used)
            break;
        used += (size_t)wrote;
    }
    mark_count = 0;
    int saved_errno = errno;    /* a measurement that cannot be written is dropped */
    int fd = open(getenv(PF_PHASES_ENV), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        (void)pf_write_all(fd, text, used);
        close(fd);
    }
    errno = saved_errno;
}
