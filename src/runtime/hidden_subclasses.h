/* The classes of hidden modules, kept out of `__subclasses__()`.
 *
 * A class is linked into its bases' subclass lists when it is made, so
 * the classes of every module the dump imported are in those lists from
 * the start of a run: `object.__subclasses__()`, or a plugin base's, would
 * name classes of modules python3 has not imported (and pyfreeze's own).
 * The links stay, since CPython follows them to update slots and method
 * caches when a base changes; `type.__subclasses__` leaves out the classes
 * whose module is still hidden.  When a module is revealed, its classes
 * move to the end of their bases' lists if anything python3 would have
 * made before them sits after them, so that the order is python3's: the
 * order in which the classes came into sight.
 *
 * The recorder finds the classes each load made (new_types); the dump's
 * last step installs the filter (hide_subclasses). */
#ifndef PYFREEZE_HIDDEN_SUBCLASSES_H
#define PYFREEZE_HIDDEN_SUBCLASSES_H

#include <Python.h>

/* `_pyfreeze.new_types()`: weak references to the classes reachable from
 * `object` through the subclass lists that no call before found, in a
 * tuple. */
PyObject *pf_subclasses_new_types(void);

/* `_pyfreeze.note_types(owner, events, uses)`: at a checkpoint of the
 * dump's recording, the classes new since the last one, noted as made by
 * the module named OWNER (None: none loading) before the len(EVENTS)th
 * event and after the USES first uses.  Kept apart from the heap the
 * modules' objects are on. */
PyObject *pf_subclasses_note_types(PyObject *owner, PyObject *events, PyObject *uses);

/* `_pyfreeze.noted_types()`: what note_types noted, in order, as a list of
 * (place, uses, owner, (weak reference...)); forgotten here. */
PyObject *pf_subclasses_noted_types(void);

/* `_pyfreeze.forget_types()`: forgets the classes new_types found. */
void pf_subclasses_forget_types(void);

/* `_pyfreeze.hide_subclasses(owners, hidden, records)`: at the dump's end.
 * OWNERS maps the id of each class to keep out of sight to the Entry of
 * its module (seen once that module is no longer in the dict HIDDEN, name
 * -> Entry), to a module name (seen while sys.modules has it) or to None
 * (never seen: pyfreeze's own).  RECORDS: those of the "types" events,
 * (base, classes, flag), to be noted.  Makes `type.__subclasses__` the
 * filtering one. */
PyObject *pf_subclasses_hide(PyObject *const *args, Py_ssize_t count);

/* After the dump's last Python object: each record gets its base's
 * subclass dict and that dict's version (unless its flag is True), which
 * tell a reveal that nothing was added since.  0, or -1 with an
 * exception. */
int pf_subclasses_note_versions(void);

/* A "types" event of a reveal: PAYLOAD is (number, records), each record
 * noted: (subclass dict, classes in its order, True when a class in sight
 * at the start follows them, else the dict's version at the dump).  0, or
 * -1 with an exception. */
int pf_subclasses_reveal(PyObject *payload);

#endif
