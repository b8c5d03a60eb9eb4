#define _GNU_SOURCE
#include "request.h"

#include "../common/io.h"
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Keeps `text` (malloc'd) for pf_request_free; NULL in, NULL out. */
static char *own(struct pf_request *request, char *text)
{
    if (text == NULL)
        return NULL;
    char **grown = realloc(request->owned, ((size_t)request->owned_count + 1) * sizeof(char *));
    if (grown == NULL) {
        free(text);
        return NULL;
    }
    request->owned = grown;
    request->owned[request->owned_count++] = text;
    return text;
}

static int make_list(struct pf_strings *list, int capacity)
{
    list->count = 0;
    list->items = calloc((size_t)capacity + 1, sizeof(char *));
    return list->items != NULL ? 0 : -1;
}

static int copy_list(struct pf_strings *list, char **items, int count)
{
    if (make_list(list, count) < 0)
        return -1;
    for (int i = 0; i < count; i++)
        list->items[list->count++] = items[i];
    return 0;
}

/* `path` absolute against `cwd` (not resolved). */
static char *absolute_in(const char *cwd, const char *path)
{
    char *result;
    if (path[0] == '/')
        return strdup(path);
    return asprintf(&result, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path) >= 0 ? result : NULL;
}

/* sys.path[0] is the script's directory (--for-script) or the working
 * directory, as python3 -m has it; --path directories are searched too
 * while freezing, but stay out of sys.path. */
static int search_list(struct pf_request *request, const struct pf_options *options, const char *cwd)
{
    struct pf_strings *search = &request->manifest.search;
    if (make_list(search, options->path_count + 1) < 0)
        return -1;
    if (options->script == NULL)
        search->items[search->count++] = own(request, strdup(cwd));
    for (int i = 0; i < options->path_count; i++)
        search->items[search->count++] = own(request, absolute_in(cwd, options->paths[i]));
    for (int i = 0; i < search->count; i++) {
        if (search->items[i] == NULL)
            return -1;
    }
    return 0;
}

/* How the image will be run from here: python3's start-up makes its
 * sys.executable from that, and so does the freeze's.  An image that is a
 * program names the stock interpreter instead (see entry_form.c). */
static const char *program_name(struct pf_request *request, const struct pf_options *options)
{
    char *name;
    if (options->entry_kind != PF_ENTRY_NONE)
        return PF_PYTHON_INTERPRETER;
    if (strchr(options->output, '/') != NULL)
        return options->output;
    return own(request, asprintf(&name, "./%s", options->output) >= 0 ? name : NULL);
}

int pf_request_build(const struct pf_options *options, const char *runtime_path, unsigned long hash_seed,
                     const struct pf_learned *learned, struct pf_request *request, struct pf_error *error)
{
    memset(request, 0, sizeof *request);
    struct pf_manifest *manifest = &request->manifest;
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
        return pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "finding the working directory");
    manifest->pyfreeze_version = PF_VERSION;
    manifest->runtime = runtime_path;
    manifest->hash_seed = hash_seed;
    manifest->entry_kind = options->entry_kind;
    manifest->entry = options->entry;
    manifest->interpreter = options->entry_kind != PF_ENTRY_NONE ? PF_PYTHON_INTERPRETER : NULL;
    manifest->script = options->script;
    manifest->program = program_name(request, options);
    manifest->native = !options->no_native;
    /* A script or a console script does not run where it was built: its
     * freeze runs in /, so that the image does not depend on the builder's
     * working directory (reproducible images).  Imports that read the
     * working directory are handed out in runs from / only. */
    manifest->in_root = options->entry_kind == PF_ENTRY_SCRIPT || options->entry_kind == PF_ENTRY_FUNCTION;
    manifest->verbose = options->verbose;
    if (manifest->program == NULL || copy_list(&manifest->modules, options->modules, options->module_count) < 0 ||
        copy_list(&manifest->learned, learned->modules, learned->module_count) < 0 ||
        copy_list(&manifest->learned_patterns, learned->patterns, learned->pattern_count) < 0 ||
        copy_list(&manifest->blocks, options->blocks, options->block_count) < 0 ||
        copy_list(&manifest->paths, options->paths, options->path_count) < 0 ||
        search_list(request, options, cwd) < 0 || make_list(&manifest->libraries, 0) < 0 ||
        make_list(&manifest->read_env, 0) < 0 || make_list(&manifest->read_file, 0) < 0)
        return pf_fail(error, PF_EXIT_INTERNAL, "preparing the freeze's manifest: out of memory");
    return 0;
}

int pf_request_set_libraries(struct pf_request *request, char **paths, int count, struct pf_error *error)
{
    struct pf_strings *libraries = &request->manifest.libraries;
    free(libraries->items);
    if (make_list(libraries, count) < 0)
        return pf_fail(error, PF_EXIT_INTERNAL, "preparing the freeze's manifest: out of memory");
    for (int i = 0; i < count; i++) {
        libraries->items[i] = own(request, strdup(paths[i]));
        if (libraries->items[i] == NULL)
            return pf_fail(error, PF_EXIT_INTERNAL, "preparing the freeze's manifest: out of memory");
        libraries->count = i + 1;
    }
    return 0;
}

static int add_input(struct pf_request *request, struct pf_strings *list, const char *value)
{
    const char **grown = realloc(list->items, ((size_t)list->count + 2) * sizeof(char *));
    if (grown == NULL)
        return -1;
    list->items = grown;
    list->items[list->count] = own(request, strdup(value));
    return list->items[list->count] != NULL ? (list->count++, 0) : -1;
}

int pf_request_set_inputs(struct pf_request *request, char *lines, struct pf_error *error)
{
    int ok = 1;
    char *saved;
    for (char *line = strtok_r(lines, "\n", &saved); ok && line != NULL; line = strtok_r(NULL, "\n", &saved)) {
        if (strncmp(line, "env ", 4) == 0)
            ok = add_input(request, &request->manifest.read_env, line + 4) == 0;
        else if (strncmp(line, "read ", 5) == 0)
            ok = add_input(request, &request->manifest.read_file, line + 5) == 0;
    }
    return ok ? 0 : pf_fail(error, PF_EXIT_INTERNAL, "recording what the imports read: out of memory");
}

void pf_request_free(struct pf_request *request)
{
    struct pf_strings *lists[] = {
        &request->manifest.modules, &request->manifest.learned, &request->manifest.learned_patterns,
        &request->manifest.blocks, &request->manifest.paths, &request->manifest.search,
        &request->manifest.libraries, &request->manifest.read_env, &request->manifest.read_file,
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        free(lists[i]->items);
    for (int i = 0; i < request->owned_count; i++)
        free(request->owned[i]);
    free(request->owned);
    memset(request, 0, sizeof *request);
}

int pf_manifest_descriptor(const struct pf_manifest *manifest, struct pf_error *error)
{
    char *text;
    size_t size;
    if (pf_manifest_write(manifest, &text, &size, error) < 0)
        return -1;
    int fd = memfd_create("pyfreeze-manifest", MFD_CLOEXEC);
    if (fd < 0 || pf_write_all(fd, text, size) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        free(text);
        return pf_fail_errno(error, PF_EXIT_INTERNAL, saved, "handing the manifest to the runtime");
    }
    free(text);
    return fd;
}
