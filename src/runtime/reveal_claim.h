/* A reveal's hand-over of its entries, in C (python/lazy_modules.py,
 * _claim, _release and _retire have the meaning): a loop in Python over
 * a plan's modules runs a few bytecodes per module three times per
 * reveal; these walk the dicts directly. */
#ifndef PYFREEZE_REVEAL_CLAIM_H
#define PYFREEZE_REVEAL_CLAIM_H

#include "cpython311.h"

/* `_pyfreeze.claim_entries(entries, hidden, claims, claim)`: when each
 * name of the dict ENTRIES maps to the same entry in HIDDEN, takes them
 * all out of HIDDEN, sets CLAIMS[name] = CLAIM for each and returns
 * True; otherwise changes nothing and returns False (another thread took
 * one meanwhile). */
PyObject *pf_reveal_claim_entries(PyObject *const *args, Py_ssize_t count);

/* `_pyfreeze.release_claims(entries, claims, claim)`: removes the names
 * of ENTRIES from CLAIMS where CLAIM is still theirs. */
PyObject *pf_reveal_release_claims(PyObject *const *args, Py_ssize_t count);

/* `_pyfreeze.retire_entries(entries)`: sets the module and spec slots of
 * each entry of the dict ENTRIES to None. */
PyObject *pf_reveal_retire_entries(PyObject *entries);

/* At the dump: finds the Entry slots retire_entries writes. -1 with an
 * exception. */
int pf_reveal_claim_prepare(PyTypeObject *entry_type);

#endif
