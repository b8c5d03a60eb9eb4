#define _GNU_SOURCE
#include "learn.h"

#include "../common/entry_wrapper.h"
#include "../common/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LEARN_FD 3

/* The python3 command line of the entry form, with the program's
 * arguments, for the runtime. */
static char **program_argv(const struct pf_options *options, const char *runtime_path, char **code)
{
    char **argv = calloc((size_t)options->learn_arg_count + 5, sizeof(char *));
    *code = NULL;
    if (argv == NULL)
        return NULL;
    int n = 0;
    argv[n++] = (char *)runtime_path;
    if (options->entry_kind == PF_ENTRY_SCRIPT) {
        argv[n++] = (char *)options->entry;
    } else if (options->entry_kind == PF_ENTRY_MODULE) {
        argv[n++] = "-m";
        argv[n++] = (char *)options->entry;
    } else {
        *code = pf_entry_wrapper_code(options->entry);
        if (*code == NULL) {
            free(argv);
            return NULL;
        }
        argv[n++] = "-c";
        argv[n++] = *code;
    }
    for (int i = 0; i < options->learn_arg_count; i++)
        argv[n++] = options->learn_args[i];
    return argv;
}

static char **with_learn_variable(char **environment)
{
    size_t count = 0;
    while (environment[count] != NULL)
        count++;
    char **env = calloc(count + 2, sizeof(char *));
    if (env == NULL)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        if (strncmp(environment[i], "PYFREEZE_LEARN=", 15) != 0)
            env[used++] = environment[i];
    }
    env[used++] = "PYFREEZE_LEARN=3";
    return env;
}

static _Noreturn void run_program(char **argv, char **env, int report_fd)
{
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(2, 1) < 0)
        _exit(127);
    /* The report descriptor is 3 and stays open across the exec. */
    if (report_fd == LEARN_FD ? fcntl(report_fd, F_SETFD, 0) < 0 : dup2(report_fd, LEARN_FD) < 0)
        _exit(127);
    signal(SIGPIPE, SIG_DFL);
    execve(argv[0], argv, env);
    _exit(127);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the report until the program closes it, within the timeout. */
static int read_report(int fd, pid_t pid, unsigned timeout, char **out, size_t *size, struct pf_error *error)
{
    size_t capacity = 65536, used = 0;
    char *buffer = malloc(capacity);
    if (buffer == NULL)
        return pf_fail(error, PF_EXIT_INTERNAL, "learning run: out of memory");
    double deadline = now() + timeout;
    for (;;) {
        int wait_ms = -1;
        if (timeout > 0) {
            double left = deadline - now();
            if (left <= 0) {
                kill(pid, SIGKILL);
                free(buffer);
                return pf_fail(error, PF_EXIT_IMPORT, "the learning run did not end within %u seconds "
                               "(see --timeout)", timeout);
            }
            wait_ms = (int)(left * 1000) + 1;
        }
        struct pollfd poll_fd = {fd, POLLIN, 0};
        int ready = poll(&poll_fd, 1, wait_ms);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0)
            continue;
        if (used + 1 >= capacity) {
            char *grown = realloc(buffer, capacity * 2);
            if (grown == NULL) {
                free(buffer);
                return pf_fail(error, PF_EXIT_INTERNAL, "learning run: out of memory");
            }
            buffer = grown;
            capacity *= 2;
        }
        ssize_t got = read(fd, buffer + used, capacity - used - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int saved = errno;
            free(buffer);
            return pf_fail_errno(error, PF_EXIT_TRACE, saved, "reading the learning run's report");
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    buffer[used] = '\0';
    *out = buffer;
    *size = used;
    return 0;
}

static int blocked(const struct pf_options *options, const char *name)
{
    for (int i = 0; i < options->block_count; i++) {
        size_t length = strlen(options->blocks[i]);
        if (strncmp(name, options->blocks[i], length) == 0 && (name[length] == '\0' || name[length] == '.'))
            return 1;
    }
    return 0;
}

/* The report's pattern lines start with this (no module name does). */
#define PATTERN_PREFIX "re "
/* What the patterns may add to the manifest, which the dump reads whole;
 * the program compiles those left out itself, as python3 does. */
#define PATTERNS_MAX_TEXT (8u * 1024 * 1024)

static int append(char ***items, int *count, const char *text)
{
    char *copy = strdup(text);
    if (copy == NULL)
        return -1;
    (*items)[(*count)++] = copy;
    return 0;
}

static int compare_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits the report into the modules to freeze and the patterns.  The
 * patterns are sorted: their set, not the order the program compiled them
 * in (which may follow a hash seed), is what the image depends on. */
static int keep_learned(const struct pf_options *options, char *report, struct pf_learned *learned,
                        struct pf_error *error)
{
    size_t lines = 1;
    for (char *p = report; *p != '\0'; p++)
        lines += *p == '\n';
    learned->modules = calloc(lines + 1, sizeof(char *));
    learned->patterns = calloc(lines + 1, sizeof(char *));
    if (learned->modules == NULL || learned->patterns == NULL)
        return pf_fail(error, PF_EXIT_INTERNAL, "learning run: out of memory");
    char *saved;
    size_t pattern_text = 0;
    for (char *line = strtok_r(report, "\n", &saved); line != NULL; line = strtok_r(NULL, "\n", &saved)) {
        int rc = 0;
        if (strncmp(line, PATTERN_PREFIX, strlen(PATTERN_PREFIX)) == 0) {
            const char *pattern = line + strlen(PATTERN_PREFIX);
            pattern_text += strlen(pattern);
            if (pf_manifest_valid_pattern(pattern) && pattern_text <= PATTERNS_MAX_TEXT)
                rc = append(&learned->patterns, &learned->pattern_count, pattern);
        } else if (pf_valid_module_name(line) && strcmp(line, "__main__") != 0 && !blocked(options, line)) {
            rc = append(&learned->modules, &learned->module_count, line);
        }
        if (rc < 0)
            return pf_fail(error, PF_EXIT_INTERNAL, "learning run: out of memory");
    }
    qsort(learned->patterns, (size_t)learned->pattern_count, sizeof(char *), compare_text);
    return 0;
}

int pf_learn_run(const struct pf_options *options, const char *runtime_path, char **environment,
                 struct pf_learned *learned, struct pf_error *error)
{
    memset(learned, 0, sizeof *learned);
    char *code;
    char **argv = program_argv(options, runtime_path, &code);
    char **env = argv != NULL ? with_learn_variable(environment) : NULL;
    int pipe_fds[2] = {-1, -1};
    int rc = -1;
    pid_t pid = -1;
    if (env == NULL) {
        rc = pf_fail(error, PF_EXIT_INTERNAL, "preparing the learning run: out of memory");
        goto out;
    }
    if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
        rc = pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "preparing the learning run: pipe");
        goto out;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        rc = pf_fail_errno(error, PF_EXIT_TRACE, errno, "starting the learning run: fork");
        goto out;
    }
    if (pid == 0)
        run_program(argv, env, pipe_fds[1]);
    close(pipe_fds[1]);
    pipe_fds[1] = -1;
    char *report = NULL;
    size_t size = 0;
    int read_rc = read_report(pipe_fds[0], pid, options->timeout, &report, &size, error);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
    if (read_rc < 0)
        goto out;
    if (size == 0) {
        free(report);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            rc = pf_fail(error, PF_EXIT_TRACE, "the learning run could not start %s", runtime_path);
        else
            rc = pf_fail(error, PF_EXIT_IMPORT, "the learning run reported no modules: the program ended "
                         "without running its atexit callbacks (os._exit, exec or a signal)");
        goto out;
    }
    if (options->verbose) {
        if (WIFEXITED(status))
            fprintf(stderr, "pyfreeze: the learning run exited with status %d\n", WEXITSTATUS(status));
        else
            fprintf(stderr, "pyfreeze: the learning run was killed by signal %d\n", WTERMSIG(status));
    }
    rc = keep_learned(options, report, learned, error);
    free(report);
out:
    if (pipe_fds[0] >= 0)
        close(pipe_fds[0]);
    if (pipe_fds[1] >= 0)
        close(pipe_fds[1]);
    free(code);
    free(argv);
    free(env);
    return rc;
}

static void free_all(char **items, int count)
{
    for (int i = 0; items != NULL && i < count; i++)
        free(items[i]);
    free(items);
}

void pf_learned_free(struct pf_learned *learned)
{
    free_all(learned->modules, learned->module_count);
    free_all(learned->patterns, learned->pattern_count);
    memset(learned, 0, sizeof *learned);
}
