/* The traced dump child: started stopped-and-traced, run to its
 * checkpoint, and killed once its memory has been read.
 *
 * Three processes take part:
 *   pyfreeze ── keeper ── runtime ── (whatever a module starts)
 * The keeper is a child subreaper in a process group of its own that
 * ignores terminal and termination signals: every process below it that
 * loses its parent becomes its child.  It holds the read end of a
 * lifeline pipe whose write end only pyfreeze has; when that closes
 * (pf_child_kill, or pyfreeze dying in any way, SIGKILL included) it kills
 * everything below it, reaps it, and exits.  pyfreeze traces the runtime
 * with PTRACE_SEIZE (PTRACE_O_EXITKILL: the runtime dies with it too) and
 * waits with poll() on a signalfd for SIGCHLD and a timerfd for the
 * deadline, so no signal, to it or to the child, can make it miss either a
 * stop or the deadline. */
#ifndef PYFREEZE_CHILD_H
#define PYFREEZE_CHILD_H

#include "../common/error.h"

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

struct pf_child {
    int active;          /* the fields below hold resources */
    pid_t pid;           /* the runtime, traced */
    int alive;           /* not yet collected */
    int pidfd;           /* the runtime's pidfd, or -1 */
    pid_t keeper;        /* the runtime's parent */
    int keeper_reaped;
    int lifeline;        /* write end of the keeper's lifeline */
    int signals;         /* signalfd for SIGCHLD, blocked meanwhile */
    sigset_t saved_mask;
};

/* Starts the keeper and, under it, `path` traced by this process, in a
 * process group of its own, with stdin from /dev/null, stdout joined to our
 * stderr, default signal dispositions and only fds 0-2 open, and
 * `inherit_fd` (unless -1) under its own number; with `no_aslr`, without
 * address randomisation.  `child` need not be initialised. */
int pf_child_spawn(const char *path, char *const argv[], char *const envp[], int no_aslr, int inherit_fd,
                   struct pf_child *child, struct pf_error *error);

/* Lets the child run until it stops with SIGSTOP and the 32-bit word at
 * `state_address` holds a state other than `running_state`; every other
 * signal is delivered to it as usual, and stop signals do not stop it.
 * Gives up after `timeout` seconds (0: never). */
int pf_child_run_to_checkpoint(struct pf_child *child, uint64_t state_address,
                               uint32_t running_state, unsigned timeout, struct pf_error *error);

/* Kills the child and every process below the keeper (those a module
 * started, wherever they moved), reaps them, and releases everything;
 * safe to call more than once, and on a zeroed struct. */
void pf_child_kill(struct pf_child *child);

#endif
