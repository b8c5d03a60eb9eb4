/* Which objects a native library's writable memory points to. */
#ifndef PF_HELD_REFERENCES_H
#define PF_HELD_REFERENCES_H

#include <Python.h>

/* The addresses among CANDIDATES (a set of ints) stored as aligned words
 * in [START, END), as a new set; NULL with an exception on failure. */
PyObject *pf_words_found(uintptr_t start, uintptr_t end, PyObject *candidates);

#endif
