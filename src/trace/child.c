#define _GNU_SOURCE
#include "child.h"

#include "../common/io.h"
#include "child_memory.h"
#include "proc_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

/* What the keeper or the runtime report through a close-on-exec pipe if
 * the runtime cannot be started. */
enum stage {
    STAGE_KEEPER = 1,    /* the keeper could not become a subreaper or fork */
    STAGE_EXEC = 2,
    STAGE_STDIO = 3,
    STAGE_PERSONALITY = 4,
};

struct launch_failure {
    int stage;
    int errnum;
};

/* The keeper tells pyfreeze the runtime's pid, or why there is none. */
struct keeper_report {
    pid_t pid;
    int errnum;
};

static _Noreturn void child_report(int pipe_fd, int stage)
{
    struct launch_failure failure = {stage, errno};
    (void)!pf_write_all(pipe_fd, &failure, sizeof failure);
    _exit(127);
}

static void reset_signals(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    for (int signum = 1; signum < NSIG; signum++)
        sigaction(signum, &action, NULL);   /* fails harmlessly for KILL/STOP */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void close_other_fds(int keep1, int keep2, int keep3)
{
    for (int fd = 3; fd < 1024; fd++) {
        if (fd != keep1 && fd != keep2 && fd != keep3)
            close(fd);
    }
    syscall(SYS_close_range, 1024u, ~0u, 0);
}

/* --- the runtime, in the keeper's child ------------------------------------- */

/* What pf_child_spawn was asked to run. */
struct launch {
    const char *path;
    char *const *argv, *const *envp;
    int no_aslr;
    int inherit_fd;
};

static _Noreturn void runtime_main(const struct launch *launch, int launch_fd, int go_fd)
{
    reset_signals();
    /* Deterministic addresses, so an image can load the same libraries at
     * the same places. */
    if (launch->no_aslr && personality(ADDR_NO_RANDOMIZE) == -1)
        child_report(launch_fd, STAGE_PERSONALITY);
    /* A group of its own: kill(-pid) reaches what a module starts. */
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(2, 1) < 0)
        child_report(launch_fd, STAGE_STDIO);
    close_other_fds(launch_fd, go_fd, launch->inherit_fd);
    if (launch->inherit_fd >= 0 && fcntl(launch->inherit_fd, F_SETFD, 0) < 0)
        child_report(launch_fd, STAGE_STDIO);
    /* Wait until pyfreeze traces us; end of file means it is gone. */
    char go;
    if (pf_read_full(go_fd, &go, 1) != 1)
        _exit(127);
    execve(launch->path, launch->argv, launch->envp);
    child_report(launch_fd, STAGE_EXEC);
}

/* --- the keeper ---------------------------------------------------------------- */

/* Sends SIGKILL to every process whose parent is `self`; returns how many. */
static int kill_children(pid_t self)
{
    DIR *proc = opendir("/proc");
    if (proc == NULL)
        return -1;
    int count = 0;
    long pid;
    while ((pid = pf_proc_dir_next_number(proc)) >= 0) {
        if (pid == 0)
            continue;
        char path[64], text[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t got = pf_read_full(fd, text, sizeof text - 1);
        close(fd);
        if (got <= 0)
            continue;
        text[got] = '\0';
        /* "pid (comm) state ppid ...": comm may hold anything, even ')'. */
        const char *close_paren = strrchr(text, ')');
        int ppid;
        char state;
        if (close_paren == NULL || sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2 || ppid != self)
            continue;
        kill((pid_t)pid, SIGKILL);
        count++;
    }
    closedir(proc);
    return count;
}

/* Kills and reaps everything below the keeper.  Orphans of killed
 * processes come to the keeper (a subreaper), so rounds repeat until it
 * has no child left. */
static void kill_everything_below(pid_t runtime)
{
    pid_t self = getpid();
    kill(-runtime, SIGKILL);
    for (;;) {
        kill_children(self);
        int status;
        pid_t got;
        while ((got = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
            continue;
        if (got < 0 && errno == ECHILD)
            return;
        struct timespec pause = {0, 2 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static _Noreturn void keeper_main(const struct launch *launch, int lifeline_fd, int report_fd, int launch_fd,
                                  int go_fd)
{
    /* Only the end of the lifeline may stop the keeper: a Ctrl-C, a SIGTERM
     * or a SIGKILL sent to pyfreeze's process group does not reach it. */
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    const int ignored[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU,
                           SIGUSR1, SIGUSR2, SIGALRM};
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
        sigaction(ignored[i], &ignore, NULL);
    struct keeper_report report = {0, 0};
    if (setpgid(0, 0) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        report.errnum = errno;
        (void)!pf_write_all(report_fd, &report, sizeof report);
        _exit(127);
    }
    pid_t runtime = fork();
    if (runtime == 0) {
        close(lifeline_fd);
        close(report_fd);
        runtime_main(launch, launch_fd, go_fd);
    }
    report.pid = runtime < 0 ? 0 : runtime;
    report.errnum = runtime < 0 ? errno : 0;
    (void)!pf_write_all(report_fd, &report, sizeof report);
    /* Keep nothing of pyfreeze's: only the lifeline, and not its stdio,
     * since whoever reads pyfreeze's output waits for every writer. */
    close_other_fds(lifeline_fd, -1, -1);
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        if (null_fd > 2)
            close(null_fd);
    }
    char byte;
    while (pf_read_full(lifeline_fd, &byte, 1) == 1)
        continue;   /* nobody writes; the read ends when pyfreeze lets go or dies */
    if (runtime > 0)
        kill_everything_below(runtime);
    _exit(0);
}

/* --- pyfreeze's side ------------------------------------------------------------- */

static int launch_error(const char *path, int pipe_fd, struct pf_error *error)
{
    struct launch_failure failure;
    ssize_t got = pf_read_full(pipe_fd, &failure, sizeof failure);
    if (got != (ssize_t)sizeof failure)
        return 0;
    if (failure.stage == STAGE_EXEC)
        return pf_fail_errno(error, PF_EXIT_TRACE, failure.errnum, "cannot execute runtime %s", path);
    if (failure.stage == STAGE_PERSONALITY)
        return pf_fail_errno(error, PF_EXIT_TRACE, failure.errnum,
                             "cannot turn address randomisation off for the runtime (personality)");
    return pf_fail_errno(error, PF_EXIT_TRACE, failure.errnum, "cannot set up the runtime's stdio");
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void close_pair(int fds[2])
{
    close_fd(&fds[0]);
    close_fd(&fds[1]);
}

/* SIGCHLD at its default disposition (an inherited SIG_IGN would reap our
 * children behind our back), blocked, and readable from a signalfd. */
static int watch_children(struct pf_child *child, struct pf_error *error)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigaction(SIGCHLD, &action, NULL) < 0 || sigprocmask(SIG_BLOCK, &chld, &child->saved_mask) < 0)
        return pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "preparing to watch the runtime (SIGCHLD)");
    child->active = 1;
    child->signals = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (child->signals < 0)
        return pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "preparing to watch the runtime (signalfd)");
    return 0;
}

int pf_child_spawn(const char *path, char *const argv[], char *const envp[], int no_aslr, int inherit_fd,
                   struct pf_child *child, struct pf_error *error)
{
    const struct launch what = {path, argv, envp, no_aslr, inherit_fd};
    memset(child, 0, sizeof *child);
    child->pidfd = child->lifeline = child->signals = -1;
    int lifeline[2] = {-1, -1}, report[2] = {-1, -1}, launch[2] = {-1, -1}, go[2] = {-1, -1};
    if (watch_children(child, error) < 0)
        goto fail;
    if (pipe2(lifeline, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0 || pipe2(launch, O_CLOEXEC) < 0 ||
        pipe2(go, O_CLOEXEC) < 0) {
        pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "creating a pipe");
        goto fail;
    }
    pid_t keeper = fork();
    if (keeper < 0) {
        pf_fail_errno(error, PF_EXIT_TRACE, errno, "fork");
        goto fail;
    }
    if (keeper == 0) {
        close(lifeline[1]);
        close(report[0]);
        close(launch[0]);
        close(go[1]);
        keeper_main(&what, lifeline[0], report[1], launch[1], go[0]);
    }
    child->keeper = keeper;
    child->lifeline = lifeline[1];
    lifeline[1] = -1;
    close_fd(&lifeline[0]);
    close_fd(&report[1]);
    close_fd(&launch[1]);
    close_fd(&go[0]);

    struct keeper_report said = {0, 0};
    if (pf_read_full(report[0], &said, sizeof said) != (ssize_t)sizeof said || said.pid <= 0) {
        pf_fail_errno(error, PF_EXIT_TRACE, said.errnum ? said.errnum : EIO, "cannot start the runtime's keeper");
        goto fail;
    }
    child->pid = said.pid;
    child->alive = 1;
    if (ptrace(PTRACE_SEIZE, child->pid, NULL, (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC)) < 0) {
        int seize_errno = errno;
        close_fd(&go[1]);   /* the runtime reads end of file and leaves */
        if (launch_error(path, launch[0], error) == 0)
            pf_fail_errno(error, PF_EXIT_TRACE, seize_errno,
                          "cannot trace the runtime (is pyfreeze itself being traced, or "
                          "ptrace forbidden here?)");
        goto fail;
    }
    child->pidfd = (int)syscall(SYS_pidfd_open, child->pid, 0);   /* -1 on old kernels: kill() then */
    char byte = 1;
    if (pf_write_all(go[1], &byte, 1) < 0) {
        pf_fail_errno(error, PF_EXIT_TRACE, errno, "starting the runtime");
        goto fail;
    }
    close_fd(&go[1]);
    /* The exec either happens (the pipe closes empty) or is reported. */
    if (launch_error(path, launch[0], error) < 0)
        goto fail;
    close_pair(report);
    close_pair(launch);
    return 0;

fail:
    close_pair(lifeline);
    close_pair(report);
    close_pair(launch);
    close_pair(go);
    pf_child_kill(child);
    return -1;
}

static int describe_end(int status, struct pf_error *error)
{
    if (WIFEXITED(status))
        return pf_fail(error, PF_EXIT_IMPORT,
                       "the runtime exited with status %d before the checkpoint "
                       "(a module called sys.exit or os._exit?)", WEXITSTATUS(status));
    return pf_fail(error, PF_EXIT_IMPORT, "the runtime was killed by signal %d (%s) before the checkpoint",
                   WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* A timerfd that becomes readable at the deadline, or -1 for none. */
static int start_deadline(unsigned timeout, struct pf_error *error)
{
    if (timeout == 0)
        return -1;
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec when = {.it_value = {.tv_sec = (time_t)timeout}};
    if (timer < 0 || timerfd_settime(timer, 0, &when, NULL) < 0) {
        pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "setting the timeout");
        if (timer >= 0)
            close(timer);
        return -2;
    }
    return timer;
}

static int deadline_passed(int timer)
{
    uint64_t expirations;
    return timer >= 0 && read(timer, &expirations, sizeof expirations) == (ssize_t)sizeof expirations;
}

/* Whether the keeper is gone, which only a signal sent to it can do. */
static int keeper_gone(struct pf_child *child)
{
    int status;
    if (child->keeper_reaped)
        return 1;
    pid_t got = waitpid(child->keeper, &status, WNOHANG);
    if (got == child->keeper || (got < 0 && errno == ECHILD))
        child->keeper_reaped = 1;
    return child->keeper_reaped;
}

/* Sleeps until a child changes state or the deadline passes. */
static int wait_for_news(struct pf_child *child, int timer)
{
    struct pollfd fds[2] = {{.fd = child->signals, .events = POLLIN}, {.fd = timer, .events = POLLIN}};
    if (poll(fds, timer >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
        return -1;
    struct signalfd_siginfo info;
    while (read(child->signals, &info, sizeof info) == (ssize_t)sizeof info)
        continue;
    return 0;
}

int pf_child_run_to_checkpoint(struct pf_child *child, uint64_t state_address,
                               uint32_t running_state, unsigned timeout, struct pf_error *error)
{
    int timer = start_deadline(timeout, error);
    if (timer == -2)
        return -1;
    int rc = -1;
    for (;;) {
        /* Checked before every event: a storm of stops cannot push it back. */
        if (deadline_passed(timer)) {
            pf_fail(error, PF_EXIT_IMPORT, "the runtime did not reach the checkpoint within %u s "
                    "(a module hangs while importing?)", timeout);
            break;
        }
        int status;
        pid_t got = waitpid(child->pid, &status, __WALL | WNOHANG);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            pf_fail_errno(error, PF_EXIT_TRACE, errno, "waiting for the runtime");
            break;
        }
        if (got == 0) {
            if (keeper_gone(child)) {
                pf_fail(error, PF_EXIT_TRACE, "the runtime's keeper process was killed");
                break;
            }
            if (wait_for_news(child, timer) < 0) {
                pf_fail_errno(error, PF_EXIT_TRACE, errno, "waiting for the runtime");
                break;
            }
            continue;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            child->alive = 0;
            describe_end(status, error);
            break;
        }
        int signum = WSTOPSIG(status);
        int event = status >> 16;
        int inject = signum;
        if (event != 0)
            inject = 0;   /* the exec, or a group-stop: resume; the freeze must not stop */
        else if (signum == SIGSTOP) {
            uint32_t state;
            if (pf_child_read(child->pid, state_address, &state, sizeof state, error) < 0)
                break;
            if (state != running_state) {
                rc = 0;
                break;
            }
            inject = 0;   /* a stray stop: do not let it stop the child for real */
        }
        if (ptrace(PTRACE_CONT, child->pid, NULL, (void *)(long)inject) < 0 && errno != ESRCH) {
            pf_fail_errno(error, PF_EXIT_TRACE, errno, "resuming the runtime");
            break;
        }
    }
    if (timer >= 0)
        close(timer);
    return rc;
}

static void wait_for_end(pid_t pid, int flags)
{
    int status;
    for (;;) {
        pid_t got = waitpid(pid, &status, flags);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 || WIFEXITED(status) || WIFSIGNALED(status))
            return;
    }
}

void pf_child_kill(struct pf_child *child)
{
    if (!child->active)
        return;
    if (child->alive) {
        /* The runtime's group first, while the runtime (alive or a zombie)
         * still holds its number; the keeper gets whatever left it. */
        kill(-child->pid, SIGKILL);
        if (child->pidfd < 0 || syscall(SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL, 0) < 0)
            kill(child->pid, SIGKILL);
        wait_for_end(child->pid, __WALL);   /* as its tracer: lets the keeper reap it */
        child->alive = 0;
    }
    close_fd(&child->lifeline);
    if (child->keeper > 0 && !child->keeper_reaped)
        wait_for_end(child->keeper, 0);
    child->keeper_reaped = 1;
    close_fd(&child->pidfd);
    close_fd(&child->signals);
    sigprocmask(SIG_SETMASK, &child->saved_mask, NULL);
    child->active = 0;
}
