/* Borrowed reads of the __slots__ of pyfreeze's own Python objects (the
 * Entry of a hidden module, python/lazy_modules.py).  getattr() returns a
 * new reference: it writes the count of the value, and so copies the
 * frozen page the value sits on, for a read.  A reveal reads several
 * slots of every module it reveals; these reads leave the pages alone. */
#ifndef PYFREEZE_ENTRY_SLOTS_H
#define PYFREEZE_ENTRY_SLOTS_H

#include <Python.h>

/* A slot's place in its class, found once per class and name. */
struct pf_slot {
    const char *name;           /* the slot's name, ASCII */
    PyTypeObject *owner;        /* the class OFFSET is for, or NULL */
    Py_ssize_t offset;
};

/* Finds where SLOT lies in TYPE's instances.  Called at the dump for the
 * slots a reveal reads, so that a run does not look them up (the lookup
 * writes the frozen descriptors' pages).  -1 with an exception. */
int pf_slot_prepare(struct pf_slot *slot, PyTypeObject *type);

/* OBJECT.NAME for the slot SLOT names, borrowed; NULL with an exception
 * when OBJECT's class has no such object slot or it is unset. */
PyObject *pf_slot_get(PyObject *object, struct pf_slot *slot);

#endif
