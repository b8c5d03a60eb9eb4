#define _GNU_SOURCE
/* pyfreeze-runtime: one program, four lives.
 *  - started by the tracer with --pyfreeze-dump: build and stop (dump.c);
 *  - as an image, warm: run from the frozen heap (restore.c);
 *  - as an image asked to step aside: start from scratch (cold_start.c);
 *  - as itself: a plain python3.11. */
#include "cold_start.h"
#include "dump.h"
#include "entry_form.h"
#include "image_info.h"
#include "learn.h"
#include "restore.h"

#include <Python.h>
#include <stdlib.h>
#include <string.h>

static int cold_start_requested(void)
{
    const char *value = getenv(PF_COLD_ENV);
    return value != NULL && *value != '\0' && strcmp(value, "0") != 0;
}

int main(int argc, char **argv)
{
    if (pf_info.state == PF_STATE_IMAGE) {
        if (pf_entry_rewrite(&argc, &argv) < 0)
            return 1;
        if (cold_start_requested())
            return pf_cold_main(argc, argv);
        return pf_restore_main(argc, argv);
    }
    if (argc >= 2 && strcmp(argv[1], "--pyfreeze-dump") == 0)
        pf_dump_main(argc - 2, argv + 2);
    if (pf_learn_requested())
        return pf_learn_main(argc, argv);
    return Py_BytesMain(argc, argv);
}
