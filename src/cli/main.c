#define _GNU_SOURCE
/* pyfreeze: freeze Python modules into a fast-starting executable. */
#include "../common/error.h"
#include "config.h"
#include "freeze.h"
#include "info.h"
#include "options.h"
#include "runtime_locate.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char help_text[] =
    "Usage: pyfreeze [OPTIONS] -o OUTPUT [MODULE...] [-BLOCKED...]\n"
    "       pyfreeze [OPTIONS] -o OUTPUT --script FILE|--module MODULE|--entry M:F ...\n"
    "       pyfreeze info [--json] IMAGE\n"
    "       pyfreeze info --check IMAGE\n"
    "Freeze Python modules into OUTPUT, an executable that starts with them\n"
    "already imported and otherwise behaves like python3.11.\n"
    "\n"
    "  MODULE               import MODULE before the snapshot (e.g. email.parser)\n"
    "  -NAME                block NAME: `import NAME` raises ImportError in the image\n"
    "  -o, --output FILE    write the image to FILE (replaced atomically)\n"
    "      --block NAME     block NAME (also for names like v, o, h, V)\n"
    "      --path DIR       also search DIR for modules while freezing\n"
    "      --runtime PATH   use PATH as the runtime instead of the installed one\n"
    "      --hash-seed N    fix the image's str hash seed (default: random)\n"
    "      --timeout SECS   give up if the freeze takes longer (default 300, 0: never)\n"
    "      --no-native      refuse native extension modules (the image keeps ASLR)\n"
    "      --env NAME=VALUE set NAME in the freeze's environment; --env NAME unsets it\n"
    "      --clean-env      start the freeze's environment empty, before any --env\n"
    "      --for-script PATH  freeze as runs of the script PATH will see sys.argv[0]\n"
    "                       and sys.path[0] (for IMAGE PATH ARGS...)\n"
    "      --script FILE    make the image the program FILE: IMAGE ARGS runs as\n"
    "                       python3 FILE ARGS\n"
    "      --module MODULE  make the image python3 -m MODULE: IMAGE ARGS runs as\n"
    "                       python3 -m MODULE ARGS\n"
    "      --entry MODULE:FUNCTION  make the image a console script that runs\n"
    "                       sys.exit(FUNCTION()) with IMAGE's ARGS\n"
    "      --learn ARG...   (last) run the program once with ARGS, for real, and\n"
    "                       freeze every module it loaded, in order\n"
    "  -v, --verbose        report progress on stderr\n"
    "  -h, --help           show this help and exit\n"
    "  -V, --version        show the version and exit\n"
    "\n"
    "Options are separate words; `--` and `--learn` end them. The current directory is\n"
    "searched for modules first. The freeze runs with your environment: what\n"
    "the modules read of it is recorded, and -v lists it. `pyfreeze info`\n"
    "describes an image (`pyfreeze info -o OUT` freezes a module named info).\n"
    "See pyfreeze(1) for exit statuses.\n";

static int report(const struct pf_error *error)
{
    fprintf(stderr, "pyfreeze: %s\n", error->message);
    if (error->status == PF_EXIT_USAGE)
        fputs("Try 'pyfreeze --help' for more information.\n", stderr);
    return (int)error->status;
}

static int info_command(int argc, char **argv)
{
    struct pf_error error = {0};
    char runtime[PATH_MAX];
    struct pf_error no_runtime;
    int found = pf_runtime_locate(NULL, runtime, sizeof runtime, &no_runtime) == 0;
    if (pf_info_main(argc, argv, found ? runtime : NULL, &error) < 0)
        return report(&error);
    return PF_EXIT_OK;
}

static int freeze_command(const struct pf_options *options, struct pf_error *error)
{
    if (options->show_help) {
        fputs(help_text, stdout);
        return fflush(stdout) == 0 ? PF_EXIT_OK : PF_EXIT_INTERNAL;
    }
    if (options->show_version) {
        printf("pyfreeze %s (CPython %s runtime)\n", PF_VERSION, PF_PYTHON_VERSION);
        return fflush(stdout) == 0 ? PF_EXIT_OK : PF_EXIT_INTERNAL;
    }
    char runtime[PATH_MAX];
    if (pf_runtime_locate(options->runtime, runtime, sizeof runtime, error) < 0 ||
        pf_freeze(options, runtime, error) < 0)
        return report(error);
    return PF_EXIT_OK;
}

/* `pyfreeze info ...` describes an image, unless the words name an output:
 * info takes none and a freeze needs one, so `pyfreeze info -o OUT`
 * freezes a module called info. */
static int is_info_command(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "info") != 0)
        return 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0 || strcmp(argv[i], "--learn") == 0)
            break;
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0 || strncmp(argv[i], "--output=", 9) == 0)
            return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    struct pf_options options;
    struct pf_error error = {0};
    /* An output over RLIMIT_FSIZE must fail with EFBIG, not kill us. */
    signal(SIGXFSZ, SIG_IGN);
    if (is_info_command(argc, argv))
        return info_command(argc - 1, argv + 1);
    int status = pf_options_parse(argc, argv, &options, &error) < 0 ? report(&error)
                                                                    : freeze_command(&options, &error);
    pf_options_free(&options);
    return status;
}
