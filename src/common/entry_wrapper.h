/* The console-script wrapper pip writes for a console_scripts entry point
 * MODULE:FUNCTION (Debian's /usr/bin/black is this text): what an image
 * made with --entry runs, and what its learning run runs. */
#ifndef PYFREEZE_ENTRY_WRAPPER_H
#define PYFREEZE_ENTRY_WRAPPER_H

/* A malloc'd copy of the wrapper's source, or NULL (out of memory, or no
 * ':' in `module_function`). */
char *pf_entry_wrapper_code(const char *module_function);

#endif
