/* What a freeze asks the dump child for: the manifest made from the
 * command line, and the descriptor that hands it over. */
#ifndef PYFREEZE_REQUEST_H
#define PYFREEZE_REQUEST_H

#include "../common/error.h"
#include "../common/manifest.h"
#include "learn.h"
#include "options.h"

struct pf_request {
    struct pf_manifest manifest;   /* its lists and some strings are owned below */
    char **owned;
    int owned_count;
};

/* Fills `request` from `options` (with --for-script and the entry form
 * resolved) and what a learning run found (`learned` may be empty).  Free
 * it with pf_request_free whether or not this succeeds. */
int pf_request_build(const struct pf_options *options, const char *runtime_path, unsigned long hash_seed,
                     const struct pf_learned *learned, struct pf_request *request, struct pf_error *error);

/* Sets the libraries the first pass found, loaded first by the second. */
int pf_request_set_libraries(struct pf_request *request, char **paths, int count, struct pf_error *error);

/* Sets what the imports read ("env NAME" and "read PATH" lines, as the
 * dump child reports them), for the image's manifest. */
int pf_request_set_inputs(struct pf_request *request, char *lines, struct pf_error *error);

void pf_request_free(struct pf_request *request);

/* A close-on-exec descriptor holding the manifest's text, at offset 0,
 * for pf_child_spawn to hand to the dump child. */
int pf_manifest_descriptor(const struct pf_manifest *manifest, struct pf_error *error);

#endif
