/* Unit tests for the manifest (src/common/manifest.c): what the writer
 * writes the reader reads back field for field, and what the reader
 * refuses (damaged, foreign or unknown text) it refuses with a message
 * naming the line and the fault, never with a half-filled manifest. */
#define _GNU_SOURCE
#include "check.h"
#include "common/manifest.h"
#include "../manifest_equal.h"

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
/* r"\d+" with re.ASCII, b"a|b", and "é" with a lone surrogate, U+DC80 */
static const char *patterns[] = {"s:256:5c642b", "b:0:617c62", "s:2:c3a9edb280"};

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
        .learned_patterns = {patterns, 3},
        .blocks = {blocks, 1},
        .search = {search, 2},
        .libraries = {libraries, 2},
        .read_env = {read_env, 1},
        .native = 1,
        .in_root = 1,
    };
    return manifest;
}

/* Writes `manifest` and reads the text back into `read` (the caller
 * releases it); `size_cut` bytes are left off the end of the text. */
static int round_trip(const struct pf_manifest *manifest, size_t size_cut, struct pf_manifest *read)
{
    struct pf_error error;
    char *text;
    size_t size;
    if (!CHECK(pf_manifest_write(manifest, &text, &size, &error) == 0, "write: %s", error.message))
        return 0;
    CHECK(size > 8 && memcmp(text, "format=2\n", 9) == 0, "the text starts with its format: %.*s", (int)size, text);
    int ok = CHECK(pf_manifest_read(text, size - size_cut, read, &error) == 0, "read: %s", error.message);
    free(text);
    if (ok)
        CHECK(manifests_equal(manifest, read), "the manifest read back differs from the one written");
    return ok;
}

static void test_round_trip(void)
{
    struct pf_manifest written = full_manifest(), read;
    if (round_trip(&written, 0, &read))
        pf_manifest_release(&read);
    /* Without the final newline it is the same manifest. */
    if (round_trip(&written, 1, &read))
        pf_manifest_release(&read);
    struct pf_manifest minimal = {.pyfreeze_version = "0.1.0", .runtime = "r", .hash_seed = 0};
    if (round_trip(&minimal, 0, &read)) {
        CHECK(read.entry_kind == PF_ENTRY_NONE && read.modules.count == 0, "minimal has no entry or modules");
        pf_manifest_release(&read);
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
        CHECK(manifests_equal(&written, &read), "the manifest read from a descriptor differs");
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
    /* Each text, and what its refusal must say. */
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"", "not a pyfreeze manifest"},
        {"pyfreeze=0.1.0\nmodule=cgi\n", "not a pyfreeze manifest"},
        {"format=1\npyfreeze=0.1.0\n", "manifest format 1 is not this pyfreeze's (2)"},
        {"format=2x\n", "manifest format 2x"},
        {HEAD "colour=blue\n", "line 5: unknown key 'colour'"},
        {HEAD "module\n", "line 5 is not key=value"},
        {HEAD "\nmodule=cgi\n", "line 5 is not key=value"},
        {HEAD "=cgi\n", "line 5 is not key=value"},
        {HEAD "runtime=again\n", "line 5: 'runtime' given twice"},
        {"format=2\npyfreeze=1\nhash_seed=1\n", "manifest has no 'runtime'"},
        {"format=2\npyfreeze=1\nruntime=r\nhash_seed=12a\n", "line 4: hash_seed '12a' is not a number"},
        {"format=2\npyfreeze=1\nruntime=r\nhash_seed=-1\n", "is not a number"},
        {"format=2\npyfreeze=1\nruntime=r\nhash_seed=99999999999999999999999\n", "is not a number"},
        {HEAD "native=yes\n", "line 5: native 'yes' is not 1"},
        {HEAD "entry=black\n", "line 5: entry 'black' is not KIND:VALUE"},
        {HEAD "entry=program:x\n", "entry 'program:x' is not KIND:VALUE"},
        {HEAD "entry=script:\n", "is not KIND:VALUE"},
        {HEAD "learned_pattern=s:0:5C\n", "line 5: learned_pattern 's:0:5C' is not KIND:FLAGS:HEX"},
        {HEAD "learned_pattern=x:0:5c\n", "is not KIND:FLAGS:HEX"},
        {HEAD "learned_pattern=s::5c\n", "is not KIND:FLAGS:HEX"},
        {HEAD "learned_pattern=s:1:5\n", "is not KIND:FLAGS:HEX"},
        {HEAD "learned_pattern=b:12345678901:5c\n", "is not KIND:FLAGS:HEX"},
        {HEAD "learned_pattern=s:0\n", "is not KIND:FLAGS:HEX"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused(cases[i].text, cases[i].message);

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
    text = NULL;
    manifest = full_manifest();
    static const char *bad_pattern[] = {"s:0:ABC"};
    manifest.learned_patterns = (struct pf_strings){bad_pattern, 1};
    CHECK(pf_manifest_write(&manifest, &text, &size, &error) < 0 && strstr(error.message, "is not KIND:FLAGS:HEX"),
          "a learned pattern the reader would refuse is not written: %s", error.message);
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
