#define _GNU_SOURCE
#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A dotted name of non-empty parts made of letters, digits, underscores
 * and (not first) hyphens.  Such names need not be identifiers: importlib
 * imports them, and programs do (sysconfig imports
 * _sysconfigdata__x86_64-linux-gnu, mypyc names its shared module like
 * 65cd21382c5717f91ee0__mypyc), so a freeze accepts them too. */
int pf_valid_module_name(const char *name)
{
    int at_start = 1;
    for (const char *p = name;; p++) {
        char c = *p;
        int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                   (c >= '0' && c <= '9') || (c == '-' && !at_start);
        if (word) {
            at_start = 0;
        } else if (at_start) {
            return 0;
        } else if (c == '.') {
            at_start = 1;
        } else {
            return c == '\0';
        }
    }
}

static int usage(struct pf_error *error, const char *format, const char *word)
{
    pf_fail(error, PF_EXIT_USAGE, format, word);
    return -1;
}

/* The value of an option that takes one: `--opt=V`, or the next word. */
static int take_value(int argc, char **argv, int *index, const char *inline_value,
                      const char **value, struct pf_error *error)
{
    if (inline_value != NULL) {
        *value = inline_value;
        return 0;
    }
    if (*index + 1 >= argc)
        return usage(error, "option %s needs a value", argv[*index]);
    *value = argv[++*index];
    return 0;
}

static int parse_number(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > max)
        return -1;
    *out = value;
    return 0;
}

static int add_module(struct pf_options *options, char *name, struct pf_error *error)
{
    if (!pf_valid_module_name(name))
        return usage(error, "invalid module name '%s'", name);
    options->modules[options->module_count++] = name;
    return 0;
}

static int add_block(struct pf_options *options, char *name, struct pf_error *error)
{
    if (!pf_valid_module_name(name))
        return usage(error, "invalid module name to block '%s'", name);
    options->blocks[options->block_count++] = name;
    return 0;
}

/* MODULE:FUNCTION, where FUNCTION may be dotted (`pkg.cli:main.run`), as
 * the console_scripts entry points of pip and Debian have it. */
static int valid_entry_point(const char *text)
{
    const char *colon = strchr(text, ':');
    if (colon == NULL || colon == text)
        return 0;
    char module[512];
    size_t length = (size_t)(colon - text);
    if (length >= sizeof module)
        return 0;
    memcpy(module, text, length);
    module[length] = '\0';
    return pf_valid_module_name(module) && pf_valid_module_name(colon + 1);
}

/* One entry form per image: --script FILE, --module MODULE, --entry
 * MODULE:FUNCTION. */
static int set_entry(struct pf_options *options, char letter, const char *value, struct pf_error *error)
{
    unsigned kind = letter == 'F' ? PF_ENTRY_SCRIPT : letter == 'M' ? PF_ENTRY_MODULE : PF_ENTRY_FUNCTION;
    if (options->entry_kind != PF_ENTRY_NONE && (unsigned)options->entry_kind != kind)
        return usage(error, "%s", "--script, --module and --entry exclude each other");
    if (kind == PF_ENTRY_SCRIPT && value[0] == '\0')
        return usage(error, "%s", "--script needs a file name");
    if (kind == PF_ENTRY_MODULE && !pf_valid_module_name(value))
        return usage(error, "--module needs a module name, not '%s'", value);
    if (kind == PF_ENTRY_FUNCTION && !valid_entry_point(value))
        return usage(error, "--entry needs MODULE:FUNCTION, not '%s'", value);
    options->entry_kind = (enum pf_entry_kind)kind;
    options->entry = value;
    return 0;
}

struct long_option {
    const char *name;
    int takes_value;
    char short_name;
};

static const struct long_option long_options[] = {
    {"output", 1, 'o'}, {"verbose", 0, 'v'}, {"help", 0, 'h'}, {"version", 0, 'V'},
    {"block", 1, 'b'}, {"runtime", 1, 'r'}, {"path", 1, 'p'}, {"hash-seed", 1, 's'},
    {"timeout", 1, 't'}, {"no-native", 0, 'n'}, {"env", 1, 'e'}, {"clean-env", 0, 'c'},
    {"for-script", 1, 'S'}, {"script", 1, 'F'}, {"module", 1, 'M'}, {"entry", 1, 'E'},
    {NULL, 0, 0},
};

/* Maps a word to an option letter: '-o' style or '--output[=V]' style. */
static int identify(const char *word, const char **inline_value, const struct long_option **found)
{
    *inline_value = NULL;
    *found = NULL;
    if (word[0] == '-' && word[1] != '-' && word[1] != '\0' && word[2] == '\0') {
        for (const struct long_option *option = long_options; option->name; option++) {
            if (option->short_name == word[1] && strchr("ovhV", word[1]))
                *found = option;
        }
        return *found != NULL;
    }
    if (strncmp(word, "--", 2) != 0)
        return 0;
    const char *name = word + 2;
    size_t length = strcspn(name, "=");
    for (const struct long_option *option = long_options; option->name; option++) {
        if (strlen(option->name) == length && strncmp(option->name, name, length) == 0) {
            *found = option;
            if (name[length] == '=')
                *inline_value = name + length + 1;
            return 1;
        }
    }
    return 0;
}

static int apply(struct pf_options *options, const struct long_option *option, const char *value,
                 const char *word, struct pf_error *error)
{
    unsigned long number;
    if (!option->takes_value && value != NULL)
        return usage(error, "option %s takes no value", word);
    switch (option->short_name) {
    case 'o': options->output = value; break;
    case 'v': options->verbose = 1; break;
    case 'h': options->show_help = 1; break;
    case 'V': options->show_version = 1; break;
    case 'b': return add_block(options, (char *)value, error);
    case 'r': options->runtime = value; break;
    case 'n': options->no_native = 1; break;
    case 'c': options->clean_env = 1; break;
    case 'S':
        if (value[0] == '\0')
            return usage(error, "%s", "--for-script needs a file name");
        options->script = value;
        options->for_script_given = 1;
        break;
    case 'F':
    case 'M':
    case 'E':
        return set_entry(options, option->short_name, value, error);
    case 'e':
        if (value[0] == '\0' || value[0] == '=')
            return usage(error, "--env needs NAME=VALUE or NAME, not '%s'", value);
        options->env_changes[options->env_change_count++] = (char *)value;
        break;
    case 'p': options->paths[options->path_count++] = (char *)value; break;
    case 's':
        if (parse_number(value, 4294967295ul, &number) < 0)
            return usage(error, "--hash-seed needs a number from 0 to 4294967295, not '%s'", value);
        options->hash_seed_set = 1;
        options->hash_seed = number;
        break;
    case 't':
        if (parse_number(value, 86400ul, &number) < 0)
            return usage(error, "--timeout needs a number of seconds from 0 to 86400, not '%s'", value);
        options->timeout = (unsigned)number;
        break;
    }
    return 0;
}

static int check_conflicts(const struct pf_options *options, struct pf_error *error)
{
    for (int i = 0; i < options->module_count; i++) {
        for (int j = 0; j < options->block_count; j++) {
            size_t length = strlen(options->blocks[j]);
            const char *module = options->modules[i];
            if (strncmp(module, options->blocks[j], length) == 0 &&
                (module[length] == '\0' || module[length] == '.'))
                return usage(error, "module '%s' is both imported and blocked", module);
        }
    }
    return 0;
}

int pf_options_parse(int argc, char **argv, struct pf_options *options, struct pf_error *error)
{
    memset(options, 0, sizeof *options);
    options->timeout = PF_DEFAULT_TIMEOUT;
    size_t slots = (size_t)(argc > 0 ? argc : 1);
    options->modules = calloc(slots, sizeof(char *));
    options->blocks = calloc(slots, sizeof(char *));
    options->paths = calloc(slots, sizeof(char *));
    options->env_changes = calloc(slots, sizeof(char *));
    if (!options->modules || !options->blocks || !options->paths || !options->env_changes)
        return pf_fail(error, PF_EXIT_INTERNAL, "parsing options: out of memory");
    int only_modules = 0;
    for (int i = 1; i < argc; i++) {
        char *word = argv[i];
        const char *value;
        const struct long_option *option;
        if (!only_modules && strcmp(word, "--learn") == 0) {
            /* Every later word is the program's. */
            options->learn = 1;
            options->learn_args = argv + i + 1;
            options->learn_arg_count = argc - i - 1;
            break;
        }
        if (only_modules || word[0] != '-' || strcmp(word, "-") == 0) {
            if (add_module(options, word, error) < 0)
                return -1;
        } else if (strcmp(word, "--") == 0) {
            only_modules = 1;
        } else if (identify(word, &value, &option)) {
            if (option->takes_value && take_value(argc, argv, &i, value, &value, error) < 0)
                return -1;
            if (apply(options, option, value, word, error) < 0)
                return -1;
        } else if (word[1] != '-' && !(word[1] >= '0' && word[1] <= '9') &&
                   pf_valid_module_name(word + 1)) {
            /* -1abc stays an unknown option; --block 1abc blocks such a name */
            if (add_block(options, word + 1, error) < 0)
                return -1;
        } else {
            return usage(error, "unknown option '%s'", word);
        }
    }
    if (options->show_help || options->show_version)
        return 0;
    if (options->output == NULL)
        return usage(error, "%s", "no output file given (-o OUTPUT)");
    if (options->output[0] == '\0')
        return usage(error, "%s", "the output file name is empty");
    if (options->learn && options->entry_kind == PF_ENTRY_NONE)
        return usage(error, "%s", "--learn needs the program: --script, --module or --entry");
    if (options->entry_kind != PF_ENTRY_NONE && options->for_script_given)
        return usage(error, "%s", "--for-script does not go with --script, --module or --entry "
                                  "(--script FILE freezes for FILE already)");
    return check_conflicts(options, error);
}

void pf_options_free(struct pf_options *options)
{
    free(options->modules);
    free(options->blocks);
    free(options->paths);
    free(options->env_changes);
    options->modules = options->blocks = options->paths = options->env_changes = NULL;
}
