/* What an image tells about its decisions (warm or cold start, modules
 * that run from source, how it exits) when PYFREEZE_DEBUG asks for it.
 * PYFREEZE_DEBUG=1 writes to stderr; a value starting with '/' names a
 * file the lines are appended to, so that a test can read the decisions
 * while stderr stays byte for byte what python3 would print. */
#ifndef PYFREEZE_DEBUG_REPORT_H
#define PYFREEZE_DEBUG_REPORT_H

#define PF_DEBUG_ENV "PYFREEZE_DEBUG"

/* Whether PYFREEZE_DEBUG asks images to say what they decide. */
int pf_debug_enabled(void);

/* Writes "pyfreeze: " + the formatted text + "\n" where PYFREEZE_DEBUG
 * says, in one write; does nothing when it is unset. */
__attribute__((format(printf, 1, 2))) void pf_debug(const char *format, ...);

#endif
