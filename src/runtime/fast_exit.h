/* Exit without tearing down the frozen heap.  Py_FinalizeEx() decrefs and
 * frees every object, which in an image dirties (copy-on-write) nearly
 * every page of the heap and costs about half of a short run.  An armed
 * image does python3's observable part of the shutdown (threading, pending
 * calls, atexit, flushing the standard streams) and skips the teardown
 * when nothing left could notice it; otherwise it tears down as usual. */
#ifndef PYFREEZE_FAST_EXIT_H
#define PYFREEZE_FAST_EXIT_H

/* Makes the next Py_FinalizeEx() (the one Py_RunMain() makes) fast; the
 * decision is reported under PYFREEZE_DEBUG. */
void pf_fast_exit_arm(void);

#endif
