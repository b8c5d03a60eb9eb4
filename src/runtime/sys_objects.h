/* The objects python3 creates before any module is imported (sys.argv,
 * sys.orig_argv, sys.path, sys.warnoptions, sys._xoptions) may be held by
 * frozen modules: `def main(args=sys.argv)`, `PATH = sys.path`.  Applying
 * this run's configuration makes new ones; these calls put this run's
 * contents into the frozen objects instead and make them sys's again. */
#ifndef PYFREEZE_SYS_OBJECTS_H
#define PYFREEZE_SYS_OBJECTS_H

#include <Python.h>

struct pf_sys_objects {
    PyObject *lists[4];     /* argv, orig_argv, path, warnoptions */
    PyObject *xoptions;
};

/* Takes a reference to each frozen object.  -1 with an exception set. */
int pf_sys_objects_keep(struct pf_sys_objects *kept);

/* Refills the kept objects from what sys holds now and puts them back in
 * sys; releases them.  -1 with an exception set. */
int pf_sys_objects_reuse(struct pf_sys_objects *kept);

#endif
