/* The command line.  Words are told apart like this:
 *   - the options below, each a word of its own (`-o FILE`, `--output FILE`
 *     or `--output=FILE`; short options do not cluster);
 *   - `-NAME`, where NAME is a module name and not one of the short
 *     options, blocks NAME (`--block NAME` does the same for any name);
 *   - any other word is a module to import; after `--` every word is one. */
#ifndef PYFREEZE_OPTIONS_H
#define PYFREEZE_OPTIONS_H

#include "../common/error.h"
#include "../common/manifest.h"

#define PF_DEFAULT_TIMEOUT 300u

struct pf_options {
    const char *output;
    const char *runtime;
    int verbose;
    int show_help, show_version;
    char **modules;
    int module_count;
    char **blocks;
    int block_count;
    char **paths;
    int path_count;
    int hash_seed_set;
    unsigned long hash_seed;
    unsigned timeout;
    int no_native;
    char **env_changes;     /* "NAME=VALUE" sets, "NAME" unsets, in order */
    int env_change_count;
    int clean_env;          /* start the freeze's environment empty */
    const char *script;     /* the script runs of the image will run */
    /* The program the image is (--script, --module, --entry): it then takes
     * the program's arguments.  PF_ENTRY_NONE: an image that is python3. */
    enum pf_entry_kind entry_kind;
    const char *entry;      /* the script, the module, or MODULE:FUNCTION */
    int for_script_given;   /* --for-script itself (not implied by --script) */
    int learn;              /* --learn: a learning run finds the modules */
    char **learn_args;      /* the program's arguments for it (argv's) */
    int learn_arg_count;
};

/* Fills `options` (its strings point into argv); free it with
 * pf_options_free whether or not parsing succeeded. */
int pf_options_parse(int argc, char **argv, struct pf_options *options, struct pf_error *error);

void pf_options_free(struct pf_options *options);

/* Whether `name` is a dotted Python module name (ASCII identifiers). */
int pf_valid_module_name(const char *name);

#endif
