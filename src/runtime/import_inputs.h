/* What the imports of a freeze read from outside the heap, seen from C.
 *
 * A frozen module is a memoized import (DESIGN section 3a): it stands for
 * python3's import only while what that import read is unchanged.  Python
 * code reaches the process and the machine through C library calls, and so
 * do extension modules; the runtime defines those calls itself (getenv,
 * getcwd, isatty, uname, the user and file look-ups, and the calls that
 * change files), passes each on to the C library, and while the dump
 * records, notes what was asked.  The recorder (python/import_recorder.py)
 * drains the notes whenever the module being imported changes.  Calls made
 * by the import system's own search (importlib's frames) are not inputs. */
#ifndef PYFREEZE_IMPORT_INPUTS_H
#define PYFREEZE_IMPORT_INPUTS_H

#include <Python.h>

/* Forgets the C library's function addresses, and the dump's process
 * mark (its AT_RANDOM bytes) with them, before the checkpoint: they are
 * looked up again in every process anyway, and the image must not carry
 * the dump's random bytes (reproducible images). */
void pf_inputs_forget_process(void);

/* Starts or stops noting calls. */
void pf_inputs_record(int on);

/* At the freeze: PATH (sys.executable, where the image will be written) is
 * shown to the imports as a regular executable file, as every run will
 * find it, whatever is there now; NULL forgets it. */
void pf_inputs_set_future_executable(const char *path);

/* The notes since the last call, as a list of (kind, text) str pairs;
 * kinds: "env" NAME, "cwd", "tty" FD, "host", "ids", "user" UID-or-NAME,
 * "file" PATH (looked at), "list" PATH (a directory listed), "read" PATH
 * (opened for reading), "create" PATH (created, renamed or removed),
 * "write" PATH (an existing file opened to be changed), "dirfd" PATH (a
 * path relative to a directory descriptor), "output" FD
 * (something written to standard output or error).  NULL with an exception set. */
PyObject *pf_inputs_drain(void);

#endif
