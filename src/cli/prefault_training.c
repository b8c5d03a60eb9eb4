#define _GNU_SOURCE
#include "prefault_training.h"

#include "../common/io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A training run restores and stops: seconds at the very most. */
#define TRAINING_TIMEOUT_MS 60000
#define REPORT_MAX (PF_PREFAULT_RUNS * 32)

static char why[256];

/* The image as an executable only this process and its child can reach:
 * a memory file, reopened read-only (a file open for writing cannot be
 * executed). */
static int image_descriptor(const struct pf_training *training)
{
    int memory = memfd_create("pyfreeze-training", MFD_CLOEXEC);
    if (memory < 0)
        return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", memory);
    int readable = -1;
    if (pf_write_all(memory, training->image, training->size) == 0)
        readable = open(path, O_RDONLY | O_CLOEXEC);
    int saved = errno;
    close(memory);
    errno = saved;
    return readable;
}

/* The freeze's environment without what would change how an image starts
 * (PYTHON*, which the dump ignored, and pyfreeze's own switches), and with
 * the training switch. */
static char **training_environment(char **environment)
{
    size_t count = 0;
    while (environment[count] != NULL)
        count++;
    char **env = calloc(count + 2, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        if (strncmp(environment[i], "PYTHON", 6) != 0 && strncmp(environment[i], "PYFREEZE_", 9) != 0)
            env[used++] = environment[i];
    }
    env[used++] = PF_TRAIN_ENV "=3";
    env[used] = NULL;
    return env;
}

static void run_child(const struct pf_training *training, int image, int report, char **env)
{
    int null_fd = open("/dev/null", O_RDWR);
    if (chdir(training->directory) < 0 || null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 ||
        dup2(null_fd, 2) < 0 || dup2(report, 3) < 0)
        _exit(127);
    char *plain_argv[] = {(char *)training->argv0, "-c", "pass", NULL};
    char *program_argv[] = {(char *)training->argv0, NULL};
    fexecve(image, training->plain ? plain_argv : program_argv, env);
    _exit(127);
}

static long remaining_ms(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Reads the report until the child closes it, within the timeout; what
 * does not fit in `text` is read and dropped, so that the child never
 * blocks on a full pipe. */
static int read_report(int fd, char *text, size_t size, size_t *used)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += TRAINING_TIMEOUT_MS / 1000;
    *used = 0;
    char dropped[4096];
    for (;;) {
        long wait = remaining_ms(&deadline);
        if (wait <= 0)
            return -1;
        struct pollfd ready = {fd, POLLIN, 0};
        int polled = poll(&ready, 1, (int)wait);
        if (polled < 0 && errno == EINTR)
            continue;
        if (polled <= 0)
            return -1;
        int full = *used == size - 1;
        ssize_t got = full ? read(fd, dropped, sizeof dropped) : read(fd, text + *used, size - 1 - *used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        if (!full)
            *used += (size_t)got;
    }
    text[*used] = '\0';
    return 0;
}

static const char *outcome(pid_t pid, int report_read)
{
    if (!report_read)
        kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return "waiting for the training run failed";
    }
    if (!report_read)
        return "the training run did not finish in time";
    if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "the training run was killed by signal %d", WTERMSIG(status));
    else if (WEXITSTATUS(status) == PF_TRAIN_COLD)
        snprintf(why, sizeof why, "the training run would have started cold");
    else if (WEXITSTATUS(status) != 0)
        snprintf(why, sizeof why, "the training run exited with status %d", WEXITSTATUS(status));
    else
        return NULL;
    return why;
}

/* "FIRST_PAGE PAGES" lines into runs; more than the table holds are
 * dropped from the end (the highest addresses). */
static void parse_report(char *text, struct pf_prefault_table *table)
{
    char *line = text;
    while (*line != '\0' && table->count < PF_PREFAULT_RUNS) {
        char *end;
        unsigned long first = strtoul(line, &end, 16);
        unsigned long pages = end != line ? strtoul(end, &end, 10) : 0;
        if (pages == 0 || first > UINT32_MAX || pages > UINT32_MAX - table->pages || *end != '\n')
            break;
        table->runs[table->count++] = (struct pf_prefault_run){(uint32_t)first, (uint32_t)pages};
        table->pages += (uint32_t)pages;
        line = end + 1;
    }
}

const char *pf_prefault_train(const struct pf_training *training, struct pf_prefault_table *table)
{
    memset(table, 0, sizeof *table);
    char **env = training_environment(training->environment);
    char *text = malloc(REPORT_MAX);
    int image = env != NULL && text != NULL ? image_descriptor(training) : -1;
    int report[2] = {-1, -1};
    pid_t pid = -1;
    if (image >= 0 && pipe2(report, O_CLOEXEC) == 0)
        pid = fork();
    if (pid == 0)
        run_child(training, image, report[1], env);
    const char *failure = pid < 0 ? "starting the training run failed" : NULL;
    if (pid > 0) {
        close(report[1]);
        report[1] = -1;
        size_t used;
        int read_ok = read_report(report[0], text, REPORT_MAX, &used) == 0;
        failure = outcome(pid, read_ok);
        if (failure == NULL)
            parse_report(text, table);
    }
    for (int i = 0; i < 2; i++) {
        if (report[i] >= 0)
            close(report[i]);
    }
    if (image >= 0)
        close(image);
    free(text);
    free(env);
    return failure;
}
