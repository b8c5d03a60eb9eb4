/* The traced dump child: started stopped-and-traced, run to its
 * checkpoint, and killed once its memory has been read. */
#ifndef PYFREEZE_CHILD_H
#define PYFREEZE_CHILD_H

#include "../common/error.h"

#include <stdint.h>
#include <sys/types.h>

struct pf_child {
    pid_t pid;
    int alive;
};

/* Forks and executes `path` under ptrace (PTRACE_O_EXITKILL: the child
 * dies with us), in a process group of its own, with stdin from
 * /dev/null, stdout joined to our stderr, default signal dispositions and
 * only fds 0-2 open; with `no_aslr`, without address randomisation. */
int pf_child_spawn(const char *path, char *const argv[], char *const envp[], int no_aslr,
                   struct pf_child *child, struct pf_error *error);

/* Lets the child run until it stops with SIGSTOP and the 32-bit word at
 * `state_address` holds a state other than `running_state`; every other
 * signal is delivered to it as usual.  Gives up after `timeout` seconds
 * (0: never), killing it. */
int pf_child_run_to_checkpoint(struct pf_child *child, uint64_t state_address,
                               uint32_t running_state, unsigned timeout, struct pf_error *error);

/* Kills the child and every process in its process group (those a module
 * started), and reaps it; safe to call more than once. */
void pf_child_kill(struct pf_child *child);

#endif
