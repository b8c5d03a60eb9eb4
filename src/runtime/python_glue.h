#ifndef PYFREEZE_PYTHON_GLUE_H
#define PYFREEZE_PYTHON_GLUE_H

#include "../common/image_info.h"
#include "../common/manifest.h"

#include <Python.h>
#include <signal.h>
#include <stdint.h>

/* The module name pyfreeze's embedded scripts run under (their classes'
 * __module__). */
#define PF_SCRIPT_MODULE "_pyfreeze_script"

/* Creates the `_pyfreeze` helpers the embedded scripts call. */
int pf_glue_install(void);

/* Runs python/dump.py's run() for the freeze `manifest` asks for: None on
 * success, (kind, message) on a refusal, NULL with an exception set if the
 * driver itself broke.  Without `native`, a module loading an extension
 * module is refused.  With `verbose`, the modules that stay in sys.modules
 * are named, and why.  sys.path[0] is the script's directory as python3
 * computes it, or else the first search directory; all of them are
 * searched for modules.  With an entry form, what runpy or the wrapper
 * needs is frozen, and the program's own file is stamped. */
PyObject *pf_glue_run_dump(const struct pf_manifest *manifest);

/* The namespace of python/getpath_memo.py, run afresh.  NULL with an
 * exception set. */
PyObject *pf_glue_getpath_memo_module(void);

/* Runs python/restore.py's restore() in a restored image. -1 with an
 * exception set on failure. */
int pf_glue_run_restore(const sigset_t *inherited_ignored);

/* What a cold start keeps of the image: the pyfreeze module and the
 * blocked names.  The frozen modules are not imported ahead: their
 * import-time effects (warnings, output) then happen where python3 has
 * them. -1 with an exception set. */
int pf_glue_cold_prepare(const struct pf_strings *blocks);

/* The dump's file stamps, copied into C memory (on the heap that gets
 * frozen). -1 with an exception set. */
/* How many modules the image holds, in sys.modules or hidden until
 * imported. */
long pf_glue_module_count(void);

int pf_glue_file_stamps(struct pf_file_stamp **stamps, uint32_t *count);

/* The dump's list of environment variables and files the imports read
 * ("env NAME" and "read PATH" lines), copied into C memory on the heap
 * that gets frozen. -1 with an exception set. */
int pf_glue_inputs_summary(uint64_t *address, uint64_t *size);

/* Why the interpreter must be torn down at exit (something would notice
 * a skipped teardown), or NULL when it need not be. */
const char *pf_glue_teardown_reason(void);

/* Prepares python3's teardown, once it is decided (restore.before_teardown). */
void pf_glue_before_teardown(void);

#endif
