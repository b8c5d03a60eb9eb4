/* Unit tests for the command line (src/cli/options.c).
 *
 * The grammar mixes modules (`cgi`), blocks (`-_ssl`) and options (`-o`)
 * in one word list, so most tests are about telling those apart, plus the
 * refusals a user must get as a usage error (exit status 2) rather than a
 * surprise later in a freeze. */
#define _GNU_SOURCE
#include "cli/options.h"
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* --- running the parser ---------------------------------------------------- */

/* One parse: the words after argv[0], the result and its error. */
struct run {
    char *argv[32];
    int argc;
    char line[512];   /* the words, for failure messages */
    struct pf_options options;
    struct pf_error error;
    int rc;
};

static void release(struct run *run)
{
    pf_options_free(&run->options);
    for (int i = 0; i < run->argc; i++)
        free(run->argv[i]);
}

/* Parses copies of `words` (NULL-terminated), so the parser can keep
 * pointers into argv as it does in main(). */
static void parse_words(struct run *run, const char *const *words)
{
    memset(run, 0, sizeof *run);
    run->argv[run->argc++] = strdup("pyfreeze");
    size_t used = 0;
    for (; *words != NULL && run->argc < 31; words++) {
        run->argv[run->argc++] = strdup(*words);
        used += (size_t)snprintf(run->line + used, sizeof run->line - used, "%s'%s'", used ? " " : "", *words);
        if (used >= sizeof run->line)
            used = sizeof run->line - 1;
    }
    run->argv[run->argc] = NULL;
    run->rc = pf_options_parse(run->argc, run->argv, &run->options, &run->error);
}

#define PARSE(run, ...) parse_words((run), (const char *const[]){__VA_ARGS__, NULL})

static int has(char *const *list, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* The parse must have succeeded. */
static int ok(const struct run *run)
{
    return CHECK(run->rc == 0, "[%s] failed: %s", run->line, run->error.message);
}

/* The parse must have failed as a usage error whose message contains
 * `mention` (the offending word, usually). */
static void usage_error(const struct run *run, const char *mention)
{
    CHECK(run->rc == -1, "[%s] was accepted", run->line);
    CHECK(run->rc == 0 || run->error.status == PF_EXIT_USAGE, "[%s] failed with status %d, not %d", run->line,
          (int)run->error.status, PF_EXIT_USAGE);
    CHECK(run->rc == 0 || strstr(run->error.message, mention) != NULL, "[%s] message '%s' lacks '%s'", run->line,
          run->error.message, mention);
}

/* --- module names ------------------------------------------------------- */

static void test_module_names(void)
{
    /* names importlib imports though they are not identifiers: mypyc's
     * shared modules, sysconfig's _sysconfigdata__x86_64-linux-gnu */
    static const char *const valid[] = {"a", "_", "cgi", "_ssl", "email.parser", "A1_.b_2", "x.y.z", "__main__",
                                        "1abc", "a.1b", "65cd21382c5717f91ee0__mypyc", "a-b",
                                        "_sysconfigdata__x86_64-linux-gnu"};
    static const char *const invalid[] = {"", "a..b", "a.", ".a", "a b", "caf\xc3\xa9", "-a", "a.-b", "a/b", "."};
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
        CHECK(pf_valid_module_name(valid[i]), "'%s' rejected", valid[i]);
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
        CHECK(!pf_valid_module_name(invalid[i]), "'%s' accepted", invalid[i]);

    /* The same names as words on the command line. */
    static const char *const bad_words[] = {"a.-b", "a..b", "a.", ""};
    for (size_t i = 0; i < sizeof bad_words / sizeof *bad_words; i++) {
        struct run run;
        PARSE(&run, "-o", "out", bad_words[i]);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad_words[i]);
        usage_error(&run, quoted);
        release(&run);
    }
}

/* --- modules, blocks and options ------------------------------------------- */

static void test_basic(void)
{
    struct run run;
    PARSE(&run, "-o", "out", "cgi", "-_ssl");
    if (ok(&run)) {
        const struct pf_options *o = &run.options;
        CHECK(o->output && strcmp(o->output, "out") == 0, "output '%s'", o->output ? o->output : "(null)");
        CHECK(o->module_count == 1 && strcmp(o->modules[0], "cgi") == 0, "%d modules, first '%s'", o->module_count,
              o->module_count ? o->modules[0] : "");
        CHECK(o->block_count == 1 && strcmp(o->blocks[0], "_ssl") == 0, "%d blocks, first '%s'", o->block_count,
              o->block_count ? o->blocks[0] : "");
        CHECK(!o->verbose && !o->show_help && !o->show_version && !o->hash_seed_set && o->path_count == 0 &&
                  o->runtime == NULL,
              "options set that were not given");
        CHECK(o->timeout == PF_DEFAULT_TIMEOUT, "default timeout %u", o->timeout);
    }
    release(&run);

    PARSE(&run, "--output=out.bin", "json", "os.path");
    if (ok(&run)) {
        CHECK(strcmp(run.options.output, "out.bin") == 0, "--output= gave '%s'", run.options.output);
        CHECK(run.options.module_count == 2 && has(run.options.modules, 2, "json") &&
                  has(run.options.modules, 2, "os.path"),
              "%d modules", run.options.module_count);
    }
    release(&run);

    PARSE(&run, "--output", "a", "--output", "b");
    if (ok(&run))
        CHECK(strcmp(run.options.output, "b") == 0, "the last --output did not win: '%s'", run.options.output);
    release(&run);

    PARSE(&run, "-o", "out", "--runtime", "/rt", "--path", "/p1", "--path=/p2");
    if (ok(&run)) {
        CHECK(run.options.runtime && strcmp(run.options.runtime, "/rt") == 0, "runtime '%s'",
              run.options.runtime ? run.options.runtime : "(null)");
        CHECK(run.options.path_count == 2 && strcmp(run.options.paths[0], "/p1") == 0 &&
                  strcmp(run.options.paths[1], "/p2") == 0,
              "%d paths", run.options.path_count);
    }
    release(&run);
}

static void test_blocks(void)
{
    struct run run;
    PARSE(&run, "-o", "out", "--block", "v");
    if (ok(&run)) {
        CHECK(run.options.block_count == 1 && strcmp(run.options.blocks[0], "v") == 0, "--block v gave %d blocks",
              run.options.block_count);
        CHECK(!run.options.verbose, "--block v turned on verbose");
    }
    release(&run);

    PARSE(&run, "-o", "out", "--block=xml.dom", "-x");
    if (ok(&run))
        CHECK(run.options.block_count == 2 && has(run.options.blocks, 2, "xml.dom") &&
                  has(run.options.blocks, 2, "x"),
              "%d blocks", run.options.block_count);
    release(&run);

    /* A short option is an option, anything else after one dash a block. */
    PARSE(&run, "-o", "out", "-v");
    if (ok(&run))
        CHECK(run.options.verbose == 1 && run.options.block_count == 0, "-v: verbose %d, %d blocks",
              run.options.verbose, run.options.block_count);
    release(&run);

    PARSE(&run, "-o", "out", "-os");
    if (ok(&run)) {
        CHECK(run.options.block_count == 1 && strcmp(run.options.blocks[0], "os") == 0, "-os gave %d blocks",
              run.options.block_count);
        CHECK(strcmp(run.options.output, "out") == 0, "-os changed the output to '%s'", run.options.output);
    }
    release(&run);

    PARSE(&run, "-os");   /* a block, not -o with value "s": still no output */
    usage_error(&run, "-o");
    release(&run);

    PARSE(&run, "-o", "out", "--block", "1abc");     /* the way to block such a name */
    ok(&run);
    release(&run);

    PARSE(&run, "-o", "out", "-1abc");
    usage_error(&run, "'-1abc'");
    release(&run);
}

static void test_double_dash(void)
{
    struct run run;
    PARSE(&run, "-o", "out", "--", "json", "cgi");
    if (ok(&run))
        CHECK(run.options.module_count == 2 && has(run.options.modules, 2, "json") &&
                  has(run.options.modules, 2, "cgi"),
              "%d modules after --", run.options.module_count);
    release(&run);

    /* After `--` an option-looking word is a module name, and not a valid
     * one: neither an option nor a block. */
    PARSE(&run, "-o", "out", "--", "-v");
    usage_error(&run, "'-v'");
    CHECK(!run.options.verbose && run.options.block_count == 0, "-v after -- was taken as an option or block");
    release(&run);

    PARSE(&run, "--", "-o", "out");
    usage_error(&run, "'-o'");
    release(&run);
}

static void test_unknown_and_bare(void)
{
    struct run run;
    PARSE(&run, "-o", "out", "--nope");
    usage_error(&run, "'--nope'");
    release(&run);

    PARSE(&run, "-o", "out", "--out=x");   /* no abbreviations */
    usage_error(&run, "'--out=x'");
    release(&run);

    PARSE(&run, "-o", "out", "---");
    usage_error(&run, "'---'");
    release(&run);

    /* A lone dash is no option, and no module name either. */
    PARSE(&run, "-o", "out", "-");
    usage_error(&run, "'-'");
    release(&run);
}

static void test_output_required(void)
{
    struct run run;
    PARSE(&run, "cgi");
    usage_error(&run, "-o");
    release(&run);

    PARSE(&run, "--output=");
    usage_error(&run, "empty");
    release(&run);

    const char *const alone[][1] = {{"--help"}, {"-h"}, {"--version"}, {"-V"}};
    for (size_t i = 0; i < sizeof alone / sizeof *alone; i++) {
        PARSE(&run, alone[i][0]);
        if (ok(&run)) {
            int want_help = alone[i][0][1] == 'h' || alone[i][0][2] == 'h';
            CHECK(run.options.show_help == want_help && run.options.show_version == !want_help,
                  "%s: help %d, version %d", alone[i][0], run.options.show_help, run.options.show_version);
        }
        release(&run);
    }
}

static void test_hash_seed(void)
{
    static const char *const good[] = {"0", "1", "4294967295"};
    static const unsigned long good_values[] = {0, 1, 4294967295ul};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct run run;
        PARSE(&run, "-o", "out", "--hash-seed", good[i]);
        if (ok(&run))
            CHECK(run.options.hash_seed_set && run.options.hash_seed == good_values[i],
                  "--hash-seed %s gave %d/%lu", good[i], run.options.hash_seed_set, run.options.hash_seed);
        release(&run);
    }
    struct run run;
    PARSE(&run, "-o", "out", "--hash-seed=77");
    if (ok(&run))
        CHECK(run.options.hash_seed_set && run.options.hash_seed == 77, "--hash-seed=77 gave %lu",
              run.options.hash_seed);
    release(&run);

    static const char *const bad[] = {"4294967296", "18446744073709551616", "-1", "-0", " -1", "abc", "", "12x",
                                      "0x10", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        PARSE(&run, "-o", "out", "--hash-seed", bad[i]);
        usage_error(&run, "--hash-seed");
        release(&run);
    }
}

static void test_timeout(void)
{
    struct run run;
    PARSE(&run, "-o", "out", "--timeout", "10");
    if (ok(&run))
        CHECK(run.options.timeout == 10, "--timeout 10 gave %u", run.options.timeout);
    release(&run);

    PARSE(&run, "-o", "out", "--timeout=0");
    if (ok(&run))
        CHECK(run.options.timeout == 0, "--timeout=0 gave %u", run.options.timeout);
    release(&run);

    PARSE(&run, "-o", "out", "--timeout", "86400");
    if (ok(&run))
        CHECK(run.options.timeout == 86400, "--timeout 86400 gave %u", run.options.timeout);
    release(&run);

    static const char *const bad[] = {"86401", "-5", "-0", "ten", "", "5s", "4294967306"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        PARSE(&run, "-o", "out", "--timeout", bad[i]);
        usage_error(&run, "--timeout");
        release(&run);
    }
}

static void test_missing_values(void)
{
    static const char *const takes_value[] = {"-o", "--output", "--block", "--runtime", "--path", "--hash-seed",
                                              "--timeout"};
    for (size_t i = 0; i < sizeof takes_value / sizeof *takes_value; i++) {
        struct run run;
        PARSE(&run, "-o", "out", takes_value[i]);
        usage_error(&run, "needs a value");
        release(&run);
    }
}

static void test_conflicts(void)
{
    struct run run;
    PARSE(&run, "-o", "out", "cgi", "-cgi");
    usage_error(&run, "'cgi'");
    release(&run);

    PARSE(&run, "-o", "out", "-cgi", "cgi");   /* order does not matter */
    usage_error(&run, "'cgi'");
    release(&run);

    PARSE(&run, "-o", "out", "email.parser", "-email");   /* blocking a package blocks its modules */
    usage_error(&run, "'email.parser'");
    release(&run);

    PARSE(&run, "-o", "out", "emailx", "-email");   /* a longer name is another module */
    ok(&run);
    release(&run);
}

static void test_flag_values(void)
{
    static const char *const flags[] = {"--verbose=1", "--help=yes", "--version="};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        struct run run;
        PARSE(&run, "-o", "out", flags[i]);
        usage_error(&run, "takes no value");
        release(&run);
    }
    struct run run;
    PARSE(&run, "-o", "out", "--verbose");
    if (ok(&run))
        CHECK(run.options.verbose == 1, "--verbose gave %d", run.options.verbose);
    release(&run);
}

static void test_environment_and_script(void)
{
    struct run run;
    PARSE(&run, "-o", "out", "--env", "A=1", "--env=B", "--clean-env", "--for-script", "/usr/bin/tool");
    if (ok(&run)) {
        CHECK(run.options.env_change_count == 2, "%d env changes", run.options.env_change_count);
        CHECK(run.options.env_change_count == 2 && strcmp(run.options.env_changes[0], "A=1") == 0 &&
                  strcmp(run.options.env_changes[1], "B") == 0, "env changes kept in order");
        CHECK(run.options.clean_env == 1, "--clean-env not set");
        CHECK(run.options.script != NULL && strcmp(run.options.script, "/usr/bin/tool") == 0,
              "--for-script gave %s", run.options.script ? run.options.script : "(null)");
    }
    release(&run);
    static const char *const bad_env[] = {"", "=x"};
    for (size_t i = 0; i < sizeof bad_env / sizeof *bad_env; i++) {
        PARSE(&run, "-o", "out", "--env", bad_env[i]);
        usage_error(&run, "--env");
        release(&run);
    }
    PARSE(&run, "-o", "out", "--for-script", "");
    usage_error(&run, "--for-script");
    release(&run);
}

static void test_entry_forms_and_learn(void)
{
    struct run run;
    PARSE(&run, "-o", "out", "--script", "tool.py", "json");
    if (ok(&run)) {
        CHECK(run.options.entry_kind == PF_ENTRY_SCRIPT && strcmp(run.options.entry, "tool.py") == 0,
              "--script gave kind %d", (int)run.options.entry_kind);
        CHECK(run.options.module_count == 1, "%d modules", run.options.module_count);
    }
    release(&run);
    PARSE(&run, "-o", "out", "--module=json.tool");
    if (ok(&run))
        CHECK(run.options.entry_kind == PF_ENTRY_MODULE && strcmp(run.options.entry, "json.tool") == 0,
              "--module gave kind %d", (int)run.options.entry_kind);
    release(&run);
    PARSE(&run, "-o", "out", "--entry", "black:patched_main");
    if (ok(&run))
        CHECK(run.options.entry_kind == PF_ENTRY_FUNCTION, "--entry gave kind %d", (int)run.options.entry_kind);
    release(&run);
    PARSE(&run, "-o", "out", "--entry", "pkg.cli:main.run");
    ok(&run);
    release(&run);
    /* Every word after --learn is the program's, even pyfreeze's options. */
    PARSE(&run, "-o", "out", "--entry", "black:patched_main", "-_ssl", "--learn", "-o", "--check", "--", "x");
    if (ok(&run)) {
        CHECK(run.options.learn == 1 && run.options.learn_arg_count == 4, "%d learn args",
              run.options.learn_arg_count);
        CHECK(run.options.learn_arg_count == 4 && strcmp(run.options.learn_args[0], "-o") == 0 &&
                  strcmp(run.options.learn_args[3], "x") == 0, "learn args kept as given");
        CHECK(strcmp(run.options.output, "out") == 0, "--learn's -o taken as pyfreeze's");
        CHECK(run.options.block_count == 1, "blocks before --learn");
    }
    release(&run);
    PARSE(&run, "-o", "out", "--script", "t.py", "--learn");
    if (ok(&run))
        CHECK(run.options.learn == 1 && run.options.learn_arg_count == 0, "--learn without arguments");
    release(&run);
    PARSE(&run, "-o", "out", "json", "--learn", "x");
    usage_error(&run, "--learn needs the program");
    release(&run);
    PARSE(&run, "-o", "out", "--script", "a.py", "--entry", "b:c");
    usage_error(&run, "exclude each other");
    release(&run);
    PARSE(&run, "-o", "out", "--module", "json", "--for-script", "a.py");
    usage_error(&run, "--for-script does not go with");
    release(&run);
    static const char *const bad_entries[] = {"black", ":main", "black:", "bl/ack:main", "black:ma in"};
    for (size_t i = 0; i < sizeof bad_entries / sizeof *bad_entries; i++) {
        PARSE(&run, "-o", "out", "--entry", bad_entries[i]);
        usage_error(&run, "--entry needs MODULE:FUNCTION");
        release(&run);
    }
    PARSE(&run, "-o", "out", "--module", "a..b");
    usage_error(&run, "--module needs a module name");
    release(&run);
}

int main(void)
{
    test_module_names();
    test_basic();
    test_blocks();
    test_double_dash();
    test_unknown_and_bare();
    test_output_required();
    test_hash_seed();
    test_timeout();
    test_missing_values();
    test_conflicts();
    test_flag_values();
    test_environment_and_script();
    test_entry_forms_and_learn();
    printf("test_options: %u checks, %u failed\n", checks_run, checks_failed);
    return checks_failed ? 1 : 0;
}
