/* Recorded inputs compared with this run's values in C (python/
 * import_inputs.py has the meaning of each kind, and the reference
 * comparison).  A warm start compares dozens of them (site's memo, the
 * modules in sys.modules from the start) before the program runs; in C
 * each costs its system calls, and the recorded values are read without
 * writing to the frozen pages they sit on. */
#ifndef PYFREEZE_INPUTS_CHECK_H
#define PYFREEZE_INPUTS_CHECK_H

#include "cpython311.h"

/* `_pyfreeze.inputs_hold(inputs, may_name_executable)`: True when every
 * input of INPUTS ({(kind, detail): value}) is of a kind this check knows
 * and reads the same now, False when one of them differs, None when one
 * is of a kind or a case it leaves to import_inputs.py (which then
 * decides, and says why): among them a file input whose path
 * MAY_NAME_EXECUTABLE(path) says may be the image itself. */
PyObject *pf_inputs_hold(PyObject *inputs, PyObject *may_name_executable);

#endif
