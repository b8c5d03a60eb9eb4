/* Shared libraries in an image: extension modules and what they need.
 * Objects in the frozen heap point into them, so an image loads each one
 * again at the address the dump had it, with address randomisation off
 * for itself only, and copies back the libraries' writable state. */
#ifndef PYFREEZE_NATIVE_LIBRARIES_H
#define PYFREEZE_NATIVE_LIBRARIES_H

#include "image_info.h"

/* At the checkpoint: sets the PF_LIBRARY_* flags of LIBRARIES, recorded
 * from the objects loaded in this process, from what each defines. */
void pf_native_mark(struct pf_library *libraries, uint32_t count);

/* Makes sure this process runs without address randomisation: if it does
 * not, turns it off and re-executes the image (no return).  Then turns it
 * back on for the processes this one will start.  Returns a reason for a
 * cold start when that cannot be done. */
const char *pf_native_fix_layout(char **argv);

/* Loads every recorded library at its recorded address and restores its
 * writable state.  Returns a reason for a cold start when a library
 * changed on disk, cannot be loaded, or lands elsewhere. */
const char *pf_native_load(void);

/* Returns a reason for a cold start when a frozen library was initialised
 * from settings this run gives other values: readline (a library marked
 * PF_LIBRARY_TERMINAL_SETTINGS) reads the terminal type and the user's
 * inputrc when it is imported, and the dump had neither (no TERM, no
 * INPUTRC, a home without .inputrc). */
const char *pf_native_configuration_differs(void);

#endif
