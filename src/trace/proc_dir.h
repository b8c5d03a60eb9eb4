/* Walking the directories of /proc whose entries are numbers: /proc itself
 * (processes) and /proc/PID/fd (descriptors). */
#ifndef PYFREEZE_PROC_DIR_H
#define PYFREEZE_PROC_DIR_H

#include <dirent.h>

/* The next entry of `dir` whose whole name is a decimal number, as that
 * number; -1 once there is none.  Other entries (".", "self") are passed
 * over. */
long pf_proc_dir_next_number(DIR *dir);

#endif
