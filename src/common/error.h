/* Errors travel up as values: a failing layer fills a pf_error and returns
 * -1; only main() prints it, once, as "pyfreeze: <message>". */
#ifndef PYFREEZE_ERROR_H
#define PYFREEZE_ERROR_H

/* Exit statuses, documented in man/pyfreeze.1. */
enum pf_exit {
    PF_EXIT_OK = 0,
    PF_EXIT_INTERNAL = 1,   /* a bug or an unexpected system failure */
    PF_EXIT_USAGE = 2,      /* bad command line */
    PF_EXIT_IMPORT = 3,     /* a module failed to import */
    PF_EXIT_REFUSED = 4,    /* the process holds state an image cannot carry */
    PF_EXIT_OUTPUT = 5,     /* the output or the runtime file could not be used */
    PF_EXIT_TRACE = 6,      /* the child could not be run or traced */
    PF_EXIT_COLD = 7,       /* info --check: the image would start cold */
    PF_EXIT_OTHER_RUNTIME = 8, /* info --check: made by another runtime build */
    PF_EXIT_CPYTHON = 9,    /* the runtime's CPython is not the one pyfreeze was written for */
};

struct pf_error {
    enum pf_exit status;
    char message[4096];
};

/* Formats the message; returns -1 so callers can `return pf_fail(...)`. */
__attribute__((format(printf, 3, 4)))
int pf_fail(struct pf_error *error, enum pf_exit status, const char *format, ...);

/* Same, with ": strerror(errnum)" appended. */
__attribute__((format(printf, 4, 5)))
int pf_fail_errno(struct pf_error *error, enum pf_exit status, int errnum, const char *format, ...);

#endif
