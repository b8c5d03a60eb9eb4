/* Unit tests for the manifest (src/common/manifest.c): what the writer
 * writes the reader reads back field for field, and what the reader
 * refuses (damaged, foreign or unknown text) it refuses with a message
 * naming the line and the fault, never with a half-filled manifest. */
#define _GNU_SOURCE
#include "check.h"
#include "common/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *modules[] = {"cgi", "email.parser", "_sysconfigdata__x86_64-linux-gnu"};
static const char *blocks[] = {"_ssl"};
static const char *search[] = {"/work", "/opt/lib dir"};
static const char *libraries[] = {"/usr/lib/x.so", "/lib/libz.so.1"};
static const char *read_env[] = {"HOME"};

static struct pf_manifest full_manifest(void)
{
    struct pf_manifest manifest = {
        .pyfreeze_version = "0.1.0",
        .runtime = "/usr/local/libexec/pyfreeze-runtime",
        .hash_seed = 4294967295ul,
        .entry_kind = PF_ENTRY_FUNCTION,
        .entry = "black:patched_main",
        .interpreter = "/usr/bin/python3.11",
        .script = "/usr/bin/black",
        .program = "./black-fast",
        .modules = {modules, 3},
        .blocks = {blocks, 1},
        .search = {search, 2},
        .libraries = {libraries, 2},
        .read_env = {read_env, 1},
        .native = 1,
        .in_root = 1,
    };
    return manifest;
}

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int same_list(const struct pf_strings *a, const struct pf_strings *b)
{
    if (a->count != b->count)
        return 0;
    for (int i = 0; i < a->count; i++) {
        if (strcmp(a->items[i], b->items[i]) != 0)
            return 0;
    }
    return 1;
}

static void check_same(const struct pf_manifest *a, const struct pf_manifest *b)
{
    CHECK(same_text(a->pyfreeze_version, b->pyfreeze_version) && same_text(a->runtime, b->runtime) &&
          same_text(a->entry, b->entry) && same_text(a->interpreter, b->interpreter) &&
          same_text(a->script, b->script) && same_text(a->program, b->program), "a text field differs");
    CHECK(a->hash_seed == b->hash_seed && a->entry_kind == b->entry_kind && a->native == b->native &&
          a->in_root == b->in_root && a->verbose == b->verbose, "a number or flag differs");
    CHECK(same_list(&a->modules, &b->modules) && same_list(&a->learned, &b->learned) &&
          same_list(&a->blocks, &b->blocks) && same_list(&a->paths, &b->paths) &&
          same_list(&a->search, &b->search) && same_list(&a->libraries, &b->libraries) &&
          same_list(&a->read_env, &b->read_env) && same_list(&a->read_file, &b->read_file), "a list differs");
}

static void test_round_trip(void)
{
    struct pf_manifest written = full_manifest(), read;
    struct pf_error error;
    char *text;
    size_t size;
    if (!CHECK(pf_manifest_write(&written, &text, &size, &error) == 0, "write: %s", error.message))
        return;
    CHECK(size > 8 && memcmp(text, "format=2\n", 9) == 0, "the text starts with its format: %.*s", (int)size, text);
    if (CHECK(pf_manifest_read(text, size, &read, &error) == 0, "read: %s", error.message)) {
        check_same(&written, &read);
        pf_manifest_release(&read);
    }
    /* Without the final newline it is the same manifest. */
    if (CHECK(pf_manifest_read(text, size - 1, &read, &error) == 0, "read short: %s", error.message)) {
        check_same(&written, &read);
        pf_manifest_release(&read);
    }
    free(text);

    struct pf_manifest minimal = {.pyfreeze_version = "0.1.0", .runtime = "r", .hash_seed = 0};
    if (CHECK(pf_manifest_write(&minimal, &text, &size, &error) == 0, "write minimal: %s", error.message)) {
        if (CHECK(pf_manifest_read(text, size, &read, &error) == 0, "read minimal: %s", error.message)) {
            check_same(&minimal, &read);
            CHECK(read.entry_kind == PF_ENTRY_NONE && read.modules.count == 0, "minimal has no entry or modules");
            pf_manifest_release(&read);
        }
        free(text);
    }
}

static void test_from_descriptor(void)
{
    struct pf_manifest written = full_manifest(), read;
    struct pf_error error;
    char *text;
    size_t size;
    if (!CHECK(pf_manifest_write(&written, &text, &size, &error) == 0, "write: %s", error.message))
        return;
    int fd = memfd_create("test-manifest", MFD_CLOEXEC);
    CHECK(fd >= 0 && write(fd, text, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0, "memfd");
    if (CHECK(pf_manifest_read_fd(fd, &read, &error) == 0, "read_fd: %s", error.message)) {
        check_same(&written, &read);
        pf_manifest_release(&read);
    }
    close(fd);
    free(text);
}

/* `text` must be refused with a message containing `expected`. */
static void refused(const char *text, const char *expected)
{
    struct pf_manifest manifest;
    struct pf_error error;
    memset(&error, 0, sizeof error);
    int rc = pf_manifest_read(text, strlen(text), &manifest, &error);
    if (CHECK(rc < 0, "accepted: %s", text))
        CHECK(strstr(error.message, expected) != NULL, "for %s: message '%s' lacks '%s'", text, error.message,
              expected);
    else
        pf_manifest_release(&manifest);
    CHECK(manifest.storage == NULL && manifest.modules.count == 0, "a refused manifest is left empty");
}

#define HEAD "format=2\npyfreeze=1\nruntime=r\nhash_seed=1\n"

static void test_refusals(void)
{
    refused("", "not a pyfreeze manifest");
    refused("pyfreeze=0.1.0\nmodule=cgi\n", "not a pyfreeze manifest");
    refused("format=1\npyfreeze=0.1.0\n", "manifest format 1 is not this pyfreeze's (2)");
    refused("format=2x\n", "manifest format 2x");
    refused(HEAD "colour=blue\n", "line 5: unknown key 'colour'");
    refused(HEAD "module\n", "line 5 is not key=value");
    refused(HEAD "\nmodule=cgi\n", "line 5 is not key=value");
    refused(HEAD "=cgi\n", "line 5 is not key=value");
    refused(HEAD "runtime=again\n", "line 5: 'runtime' given twice");
    refused("format=2\npyfreeze=1\nhash_seed=1\n", "manifest has no 'runtime'");
    refused("format=2\npyfreeze=1\nruntime=r\nhash_seed=12a\n", "line 4: hash_seed '12a' is not a number");
    refused("format=2\npyfreeze=1\nruntime=r\nhash_seed=-1\n", "is not a number");
    refused("format=2\npyfreeze=1\nruntime=r\nhash_seed=99999999999999999999999\n", "is not a number");
    refused(HEAD "native=yes\n", "line 5: native 'yes' is not 1");
    refused(HEAD "entry=black\n", "line 5: entry 'black' is not KIND:VALUE");
    refused(HEAD "entry=program:x\n", "entry 'program:x' is not KIND:VALUE");
    refused(HEAD "entry=script:\n", "is not KIND:VALUE");

    struct pf_manifest manifest;
    struct pf_error error;
    static const char with_nul[] = HEAD "module=c\0gi\n";
    CHECK(pf_manifest_read(with_nul, sizeof with_nul - 1, &manifest, &error) < 0 &&
          strstr(error.message, "line 5 holds a NUL byte") != NULL, "a NUL byte is refused: %s", error.message);
}

static void test_write_refusals(void)
{
    struct pf_manifest manifest = full_manifest();
    static const char *bad[] = {"ok", "two\nlines"};
    manifest.paths = (struct pf_strings){bad, 2};
    struct pf_error error;
    char *text = NULL;
    size_t size;
    CHECK(pf_manifest_write(&manifest, &text, &size, &error) < 0 &&
          strstr(error.message, "path 'two\nlines' contains a newline") != NULL && error.status == PF_EXIT_USAGE,
          "a newline in a value is refused: %s", error.message);
    free(text);
}

/* The entry forms, each read back as the kind it was written with. */
static void test_entry_kinds(void)
{
    const enum pf_entry_kind kinds[] = {PF_ENTRY_SCRIPT, PF_ENTRY_MODULE, PF_ENTRY_FUNCTION};
    const char *values[] = {"/srv/app/tool.py", "http.server", "pkg.cli:main"};
    for (int i = 0; i < 3; i++) {
        struct pf_manifest manifest = {.pyfreeze_version = "1", .runtime = "r", .entry_kind = kinds[i],
                                       .entry = values[i], .interpreter = "/usr/bin/python3.11"};
        struct pf_manifest read;
        struct pf_error error;
        char *text;
        size_t size;
        if (!CHECK(pf_manifest_write(&manifest, &text, &size, &error) == 0, "write: %s", error.message))
            continue;
        if (CHECK(pf_manifest_read(text, size, &read, &error) == 0, "read: %s", error.message)) {
            CHECK(read.entry_kind == kinds[i] && strcmp(read.entry, values[i]) == 0, "entry %s read back as %d %s",
                  values[i], read.entry_kind, read.entry);
            pf_manifest_release(&read);
        }
        free(text);
    }
    CHECK(pf_entry_kind_name(PF_ENTRY_NONE) == NULL && strcmp(pf_entry_kind_name(PF_ENTRY_MODULE), "module") == 0,
          "entry kind names");
}

int main(void)
{
    test_round_trip();
    test_from_descriptor();
    test_refusals();
    test_write_refusals();
    test_entry_kinds();
    printf("test_manifest: %u checks, %u failed\n", checks_run, checks_failed);
    return checks_failed ? 1 : 0;
}
