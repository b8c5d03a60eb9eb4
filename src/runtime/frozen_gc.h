/* The collector and the frozen heap.  The dump hands the frozen objects to
 * the permanent generation (gc.freeze), so collections never walk the
 * image's pages and an exit can tell new objects from frozen ones.  A
 * program that looks at the collector's view of all objects must still see
 * python3's: the gc functions that expose it unfreeze the heap first. */
#ifndef PYFREEZE_FROZEN_GC_H
#define PYFREEZE_FROZEN_GC_H

#include <Python.h>

/* Replaces collect, get_objects, get_referrers, get_freeze_count, freeze
 * and unfreeze of the module `gc` with built-ins of the same names that
 * move the frozen objects back into sight, once, then do what the
 * originals do.  -1 with an exception set. */
int pf_gc_unfreeze_on_first_look(PyObject *gc);

/* Of what the original gc.get_objects() gives (while the heap stays
 * frozen, the objects made since the restore), those whose type has a
 * __del__, and the weak references: what may need finalizing at exit
 * (restore.py decides).  Filtered here: the run's objects are hundreds
 * at the least, the candidates a few. */
PyObject *pf_gc_finalizable_in_sight(void);

/* Moves one frozen object back into the collector's sight: a frozen
 * object python3 would create at start (the __main__ namespace) may end
 * in a reference cycle that must be collected as python3 collects it. */
void pf_gc_thaw(PyObject *object);

/* At the very end of the dump: hands the objects made since the dump's
 * gc.freeze() (the getpath memo's, the gc stand-ins...) to the permanent
 * generation too, with the original gc.freeze.  Left young, they are in
 * the image all the same, and a run's first collection walks them and
 * writes the frozen page of each (about 40 for a cgi image).  -1 with an
 * exception set. */
int pf_gc_freeze_all(void);

/* Whether the program made the frozen objects visible to the collector. */
int pf_gc_unfrozen(void);

#endif
