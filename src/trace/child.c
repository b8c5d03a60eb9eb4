#define _GNU_SOURCE
#include "child.h"

#include "../common/io.h"
#include "child_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the child reports through the close-on-exec pipe if it cannot
 * become the traced runtime. */
struct launch_failure {
    int stage;   /* 1: ptrace, 2: exec, 3: setting up fds, 4: personality */
    int errnum;
};

static _Noreturn void child_report(int pipe_fd, int stage)
{
    struct launch_failure failure = {stage, errno};
    (void)!write(pipe_fd, &failure, sizeof failure);
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

static void close_other_fds(int keep)
{
    for (int fd = 3; fd < 1024; fd++) {
        if (fd != keep)
            close(fd);
    }
    if (keep < 1024)
        syscall(SYS_close_range, 1024u, ~0u, 0);
}

static _Noreturn void child_main(const char *path, char *const argv[], char *const envp[], int pipe_fd,
                                int no_aslr)
{
    reset_signals();
    /* Deterministic addresses, so an image can load the same libraries at
     * the same places. */
    if (no_aslr && personality(ADDR_NO_RANDOMIZE) == -1)
        child_report(pipe_fd, 4);
    /* A group of its own, so processes a module starts die with it. */
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(2, 1) < 0)
        child_report(pipe_fd, 3);
    close_other_fds(pipe_fd);
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
        child_report(pipe_fd, 1);
    raise(SIGSTOP);   /* let the parent set options before exec */
    execve(path, argv, envp);
    child_report(pipe_fd, 2);
}

static int launch_error(const char *path, int pipe_fd, struct pf_error *error)
{
    struct launch_failure failure;
    ssize_t got = pf_read_full(pipe_fd, &failure, sizeof failure);
    if (got != (ssize_t)sizeof failure)
        return 0;
    if (failure.stage == 1)
        return pf_fail_errno(error, PF_EXIT_TRACE, failure.errnum,
                             "cannot trace the runtime (is pyfreeze itself being traced, or "
                             "ptrace forbidden here?)");
    if (failure.stage == 2)
        return pf_fail_errno(error, PF_EXIT_TRACE, failure.errnum, "cannot execute runtime %s", path);
    if (failure.stage == 4)
        return pf_fail_errno(error, PF_EXIT_TRACE, failure.errnum,
                             "cannot turn address randomisation off for the runtime (personality)");
    return pf_fail_errno(error, PF_EXIT_TRACE, failure.errnum, "cannot set up the runtime's stdio");
}

static int wait_child(pid_t pid, int *status)
{
    for (;;) {
        if (waitpid(pid, status, __WALL) >= 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

int pf_child_spawn(const char *path, char *const argv[], char *const envp[], int no_aslr,
                   struct pf_child *child, struct pf_error *error)
{
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        return pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "creating a pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return pf_fail_errno(error, PF_EXIT_TRACE, errno, "fork");
    }
    if (pid == 0)
        child_main(path, argv, envp, pipe_fds[1], no_aslr);
    close(pipe_fds[1]);
    child->pid = pid;
    child->alive = 1;

    int status = 0;
    if (wait_child(pid, &status) < 0 || !WIFSTOPPED(status)) {
        child->alive = WIFSTOPPED(status);
        if (launch_error(path, pipe_fds[0], error) == 0)
            pf_fail(error, PF_EXIT_TRACE, "the runtime did not start");
        close(pipe_fds[0]);
        pf_child_kill(child);
        return -1;
    }
    if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
               (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC)) < 0 ||
        ptrace(PTRACE_CONT, pid, NULL, NULL) < 0) {
        pf_fail_errno(error, PF_EXIT_TRACE, errno, "setting up ptrace on the runtime");
        close(pipe_fds[0]);
        pf_child_kill(child);
        return -1;
    }
    /* The exec either happens (the pipe closes empty) or is reported. */
    if (launch_error(path, pipe_fds[0], error) < 0) {
        close(pipe_fds[0]);
        pf_child_kill(child);
        return -1;
    }
    close(pipe_fds[0]);
    return 0;
}

static volatile sig_atomic_t timed_out;

static void on_alarm(int signum)
{
    (void)signum;
    timed_out = 1;
}

static int arm_timeout(unsigned seconds)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;   /* no SA_RESTART: waitpid must wake up */
    timed_out = 0;
    if (sigaction(SIGALRM, &action, NULL) < 0)
        return -1;
    alarm(seconds);
    return 0;
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

int pf_child_run_to_checkpoint(struct pf_child *child, uint64_t state_address,
                               uint32_t running_state, unsigned timeout, struct pf_error *error)
{
    if (timeout > 0 && arm_timeout(timeout) < 0)
        return pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "setting the timeout");
    int rc = -1;
    for (;;) {
        int status;
        if (waitpid(child->pid, &status, __WALL) < 0) {
            if (errno == EINTR && !timed_out)
                continue;
            if (timed_out)
                pf_fail(error, PF_EXIT_IMPORT, "the runtime did not reach the checkpoint within %u s "
                        "(a module hangs while importing?)", timeout);
            else
                pf_fail_errno(error, PF_EXIT_TRACE, errno, "waiting for the runtime");
            break;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            child->alive = 0;
            describe_end(status, error);
            break;
        }
        int signum = WSTOPSIG(status);
        int inject = signum;
        if (signum == SIGTRAP && (status >> 16) != 0)
            inject = 0;   /* a ptrace event (the exec), not a signal */
        if (signum == SIGSTOP) {
            uint32_t state;
            if (pf_child_read(child->pid, state_address, &state, sizeof state, error) < 0)
                break;
            if (state != running_state) {
                rc = 0;
                break;
            }
            inject = 0;   /* a stray stop: do not let it stop the child for real */
        }
        if (ptrace(PTRACE_CONT, child->pid, NULL, (void *)(long)inject) < 0) {
            pf_fail_errno(error, PF_EXIT_TRACE, errno, "resuming the runtime");
            break;
        }
    }
    alarm(0);
    return rc;
}

void pf_child_kill(struct pf_child *child)
{
    if (!child->alive)
        return;
    kill(-child->pid, SIGKILL);
    kill(child->pid, SIGKILL);
    int status;
    while (waitpid(child->pid, &status, __WALL) >= 0) {
        if (WIFEXITED(status) || WIFSIGNALED(status))
            break;
    }
    child->alive = 0;
}
