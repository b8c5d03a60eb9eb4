/* The manifest: what a freeze was asked for and what it found, the one
 * description of a freeze that passes between the layers.  The CLI writes
 * it and hands it to the dump child through a descriptor; the image
 * carries it (pf_image_info.manifest_addr); the runtime's entry form and
 * cold start and `pyfreeze info` read it back.  pf_manifest_write is its
 * only writer and pf_manifest_read its only reader.
 *
 * The text form is versioned "key=value" lines, the first one
 * "format=PF_MANIFEST_FORMAT"; a value holds neither a newline nor a NUL.
 * A reader refuses unknown keys and other formats rather than guess:
 * bump PF_MANIFEST_FORMAT on any change of meaning. */
#ifndef PYFREEZE_MANIFEST_H
#define PYFREEZE_MANIFEST_H

#include "error.h"

#include <stddef.h>

#define PF_MANIFEST_FORMAT 2

/* The program an image is (--script, --module, --entry); NONE: python3. */
enum pf_entry_kind { PF_ENTRY_NONE, PF_ENTRY_SCRIPT, PF_ENTRY_MODULE, PF_ENTRY_FUNCTION };

struct pf_strings {
    const char **items;
    int count;
};

struct pf_manifest {
    /* What was asked. */
    const char *pyfreeze_version;   /* of the pyfreeze that froze */
    const char *runtime;            /* the runtime file the image was made from */
    unsigned long hash_seed;
    enum pf_entry_kind entry_kind;
    const char *entry;              /* FILE, MODULE or MODULE:FUNCTION */
    const char *interpreter;        /* sys.executable of an image that is a program */
    const char *script;             /* sys.argv[0] the imports see (--for-script) */
    const char *program;            /* how the image will be run: the freeze's argv[0] */
    struct pf_strings modules;      /* named on the command line, in order */
    struct pf_strings learned;      /* found by the learning run, imported first */
    struct pf_strings learned_patterns; /* regular expressions the learning run compiled,
                                       each "KIND:FLAGS:HEX" (pf_manifest_valid_pattern);
                                       the dump compiles them into re's cache, so an
                                       image carries the compiled patterns, not these */
    struct pf_strings blocks;
    struct pf_strings paths;        /* --path, as given */
    struct pf_strings search;       /* absolute directories the freeze searches;
                                       the first is sys.path[0] when there is no script */
    int native;                     /* modules may load shared libraries */
    int in_root;                    /* the freeze runs in / (an image that is a program) */
    int verbose;                    /* the dump reports what it does (never in an image) */
    /* What the freeze found. */
    struct pf_strings libraries;    /* loaded first, in this order, at fixed addresses */
    struct pf_strings read_env;     /* environment variables the imports read */
    struct pf_strings read_file;    /* files whose contents the imports read */
    /* The reader's copy, released by pf_manifest_release. */
    void *storage;
    size_t storage_size;
    int storage_mapped;             /* a mapping (pf_manifest_read_fd), else malloc'd */
};

/* The text of `manifest` in a malloc'd buffer (not NUL-terminated). */
int pf_manifest_write(const struct pf_manifest *manifest, char **text, size_t *size, struct pf_error *error);

/* Fills `manifest` from `size` bytes of text, its strings in one malloc'd
 * block.  Errors name the line and what is wrong. */
int pf_manifest_read(const char *text, size_t size, struct pf_manifest *manifest, struct pf_error *error);

/* The same from the whole of descriptor `fd` (at its current offset), the
 * dump child's reader: its strings live in one private anonymous mapping,
 * not in malloc's heap, since the child reads its manifest before the heap
 * that gets frozen holds anything and must leave no trace there. */
int pf_manifest_read_fd(int fd, struct pf_manifest *manifest, struct pf_error *error);

/* Releases what pf_manifest_read allocated; harmless on a zeroed one. */
void pf_manifest_release(struct pf_manifest *manifest);

/* Whether `value` is a learned pattern as the manifest holds it: KIND "s"
 * (a str pattern, its UTF-8 with surrogates passed) or "b" (bytes), the
 * re flags in decimal, and the pattern's bytes in lower-case hex, joined
 * by colons. */
int pf_manifest_valid_pattern(const char *value);

/* "script", "module", "function", or NULL for PF_ENTRY_NONE. */
const char *pf_entry_kind_name(enum pf_entry_kind kind);

#endif
