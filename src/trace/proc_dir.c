#include "proc_dir.h"

#include <errno.h>
#include <stdlib.h>

long pf_proc_dir_next_number(DIR *dir)
{
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        char *end;
        errno = 0;
        long number = strtol(entry->d_name, &end, 10);
        if (entry->d_name[0] >= '0' && entry->d_name[0] <= '9' && *end == '\0' && errno == 0)
            return number;
    }
    return -1;
}
