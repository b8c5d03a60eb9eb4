#define _GNU_SOURCE
#include "freeze.h"

#include "../common/image_info.h"
#include "../elf/image_builder.h"
#include "../elf/runtime_elf.h"
#include "../trace/child.h"
#include "../trace/child_memory.h"
#include "../trace/proc_maps.h"
#include "../trace/quiescence.h"
#include "config.h"
#include "learn.h"
#include "output_file.h"
#include "prefault_training.h"
#include "request.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

extern char **environ;

/* The freeze runs with the builder's environment, changed by --env and
 * --clean-env: it is an input of the imports like any other, recorded
 * where a module reads it, and a module that read a variable is handed out
 * by an image only while the run has the same value (DESIGN section 3a).
 * No value is invented for it. */
static char **freeze_environment(const struct pf_options *options)
{
    size_t count = 0;
    for (char **entry = environ; !options->clean_env && *entry != NULL; entry++)
        count++;
    char **env = calloc(count + (size_t)options->env_change_count + 1, sizeof(char *));
    if (env == NULL)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < count; i++)
        env[used++] = environ[i];
    for (int i = 0; i < options->env_change_count; i++) {
        const char *change = options->env_changes[i];
        size_t name_length = strcspn(change, "=");
        size_t kept = 0;
        for (size_t j = 0; j < used; j++) {
            if (!(strncmp(env[j], change, name_length) == 0 && env[j][name_length] == '='))
                env[kept++] = env[j];
        }
        used = kept;
        if (change[name_length] == '=')
            env[used++] = (char *)change;
    }
    env[used] = NULL;
    return env;
}

static unsigned long choose_hash_seed(const struct pf_options *options)
{
    if (options->hash_seed_set)
        return options->hash_seed;
    uint32_t seed = 0;
    while (seed == 0) {
        if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
            seed = (uint32_t)getpid() ^ 0x9e3779b9u;
    }
    return seed;
}

/* What the learning run found (see learn.c): modules, imported before
 * the named ones (the dump skips those that fail to import here), and
 * patterns, compiled into re's cache. */
static struct pf_learned learned;

static enum pf_exit failure_status(uint32_t failure)
{
    switch (failure) {
    case PF_FAIL_IMPORT: return PF_EXIT_IMPORT;
    case PF_FAIL_NATIVE:
    case PF_FAIL_STATE: return PF_EXIT_REFUSED;
    case PF_FAIL_CPYTHON: return PF_EXIT_CPYTHON;
    default: return PF_EXIT_INTERNAL;
    }
}

/* The heap the runtime reports must be the process's actual break area:
 * a non-empty range (the sizes taken from it are end - start) inside the
 * one [heap] mapping. */
static int check_heap(pid_t pid, const struct pf_image_info *info, struct pf_error *error)
{
    if (info->heap_end <= info->heap_start)
        return pf_fail(error, PF_EXIT_INTERNAL, "the runtime reported an empty or inverted heap 0x%llx-0x%llx",
                       (unsigned long long)info->heap_start, (unsigned long long)info->heap_end);
    struct pf_maps maps;
    if (pf_maps_read(pid, &maps, error) < 0)
        return -1;
    int rc = 0;
    const struct pf_mapping *first = pf_maps_find(&maps, info->heap_start);
    const struct pf_mapping *last = pf_maps_find(&maps, info->heap_end - 1);
    if (first == NULL || first != last || strcmp(first->path, "[heap]") != 0)
        rc = pf_fail(error, PF_EXIT_INTERNAL, "the runtime's heap 0x%llx-0x%llx is not its [heap] mapping",
                     (unsigned long long)info->heap_start, (unsigned long long)info->heap_end);
    pf_maps_free(&maps);
    return rc;
}

static void progress(const struct pf_options *options, const char *format, ...)
{
    if (!options->verbose)
        return;
    va_list args;
    va_start(args, format);
    fputs("pyfreeze: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

struct session {
    struct pf_runtime_elf runtime;
    struct pf_child child;
    struct pf_image_info info;
    unsigned char *data, *heap;
    struct pf_request request;          /* the manifest, see request.h */
    struct pf_image image;
    struct pf_library *libraries;      /* as the child recorded them */
    char **library_paths;
    int library_count;
    struct pf_snapshot_range *ranges;
    size_t range_count;
    char **environment;                 /* the freeze's, see freeze_environment */
};

/* Runs the dump child with the request's manifest to its checkpoint. */
static int run_child(struct session *s, const struct pf_options *options, const char *runtime_path,
                     struct pf_error *error)
{
    pf_child_kill(&s->child);
    int manifest_fd = pf_manifest_descriptor(&s->request.manifest, error);
    if (manifest_fd < 0)
        return -1;
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", manifest_fd);
    char *argv[] = {(char *)runtime_path, "--pyfreeze-dump", fd_text, NULL};
    /* ASLR off in both passes: the heap, the mappings and everything that
     * points into them land at the same addresses in every freeze, which
     * reproducible images need (the image itself keeps ASLR unless it
     * holds libraries). */
    int rc = pf_child_spawn(runtime_path, argv, s->environment, 1, manifest_fd, &s->child, error);
    close(manifest_fd);
    if (rc < 0)
        return -1;
    uint64_t state_address = s->runtime.info_address + offsetof(struct pf_image_info, state);
    if (pf_child_run_to_checkpoint(&s->child, state_address, PF_STATE_PRISTINE, options->timeout, error) < 0 ||
        pf_child_read(s->child.pid, s->runtime.info_address, &s->info, sizeof s->info, error) < 0)
        return -1;
    s->info.error[sizeof s->info.error - 1] = '\0';
    if (s->info.state == PF_STATE_FAILED)
        return pf_fail(error, failure_status(s->info.failure), "%s", s->info.error);
    if (s->info.state != PF_STATE_CHECKPOINT)
        return pf_fail(error, PF_EXIT_INTERNAL, "the runtime stopped in unknown state %u", s->info.state);
    return 0;
}

/* What the imports read of the environment and of files ("env NAME" and
 * "read PATH" lines in the child), for the image's manifest: `pyfreeze
 * info` shows it. */
static int read_inputs(struct session *s, struct pf_error *error)
{
    if (s->info.inputs_size == 0)
        return 0;
    if (s->info.inputs_size > 64u * 1024 * 1024)
        return pf_fail(error, PF_EXIT_INTERNAL, "the runtime reported an implausible input list");
    char *lines = malloc(s->info.inputs_size + 1);
    if (lines == NULL)
        return pf_fail(error, PF_EXIT_INTERNAL, "reading the imports' inputs: out of memory");
    int rc = pf_child_read(s->child.pid, s->info.inputs, lines, s->info.inputs_size, error);
    if (rc == 0) {
        lines[s->info.inputs_size] = '\0';
        rc = pf_request_set_inputs(&s->request, lines, error);
    }
    free(lines);
    return rc;
}

static void free_libraries(struct session *s)
{
    for (int i = 0; s->library_paths != NULL && i < s->library_count; i++)
        free(s->library_paths[i]);
    free(s->library_paths);
    free(s->libraries);
    s->library_paths = NULL;
    s->libraries = NULL;
    s->library_count = 0;
}

/* The shared libraries the child recorded at its checkpoint. */
/* What the child reports is checked before it sizes anything here: a
 * runtime that went wrong must give an error, not an allocation of its
 * choosing. */
#define PF_MAX_LIBRARIES 4096u
#define PF_MAX_LIBRARY_RANGE (1ull << 30)

static int check_library_ranges(const struct pf_library *library, const char *path, struct pf_error *error)
{
    if (library->range_count > PF_LIBRARY_RANGES)
        return pf_fail(error, PF_EXIT_INTERNAL, "the runtime reported %u writable ranges for %s",
                       library->range_count, path);
    for (uint32_t r = 0; r < library->range_count; r++) {
        uint64_t start = library->ranges[r].start, size = library->ranges[r].size;
        if (size > PF_MAX_LIBRARY_RANGE || start + size < start)
            return pf_fail(error, PF_EXIT_INTERNAL,
                           "the runtime reported an implausible writable range of %s", path);
    }
    return 0;
}

static int read_libraries(struct session *s, struct pf_error *error)
{
    free_libraries(s);
    if (s->info.library_count > PF_MAX_LIBRARIES)
        return pf_fail(error, PF_EXIT_INTERNAL, "the runtime reported %u shared libraries",
                       s->info.library_count);
    int count = (int)s->info.library_count;
    s->libraries = calloc((size_t)count + 1, sizeof *s->libraries);
    s->library_paths = calloc((size_t)count + 1, sizeof(char *));
    if (s->libraries == NULL || s->library_paths == NULL)
        return pf_fail(error, PF_EXIT_INTERNAL, "reading the child's libraries: out of memory");
    if (pf_child_read(s->child.pid, s->info.libraries, s->libraries, (size_t)count * sizeof *s->libraries,
                      error) < 0)
        return -1;
    for (int i = 0; i < count; i++) {
        s->library_paths[i] = malloc(PATH_MAX);
        s->library_count = i + 1;
        if (s->library_paths[i] == NULL)
            return pf_fail(error, PF_EXIT_INTERNAL, "reading the child's libraries: out of memory");
        if (pf_child_read_string(s->child.pid, s->libraries[i].path, s->library_paths[i], PATH_MAX, error) < 0 ||
            check_library_ranges(&s->libraries[i], s->library_paths[i], error) < 0)
            return -1;
    }
    s->library_count = count;
    return 0;
}

/* The second pass must load exactly what the first one discovered. */
static int check_same_libraries(const struct session *s, char **expected, int expected_count,
                                struct pf_error *error)
{
    for (int i = 0; i < s->library_count || i < expected_count; i++) {
        const char *got = i < s->library_count ? s->library_paths[i] : "nothing";
        const char *wanted = i < expected_count ? expected[i] : "nothing";
        if (strcmp(got, wanted) != 0)
            return pf_fail(error, PF_EXIT_REFUSED,
                           "cannot freeze: the shared libraries loaded differ between the two passes "
                           "(%s where %s was expected); imports must not depend on chance", got, wanted);
    }
    return 0;
}

/* Reads each library's writable state from the stopped child. */
static int read_library_state(struct session *s, struct pf_error *error)
{
    size_t total = 0;
    for (int i = 0; i < s->library_count; i++)
        total += s->libraries[i].range_count;
    s->ranges = calloc(total + 1, sizeof *s->ranges);
    if (s->ranges == NULL)
        return pf_fail(error, PF_EXIT_INTERNAL, "reading library state: out of memory");
    for (int i = 0; i < s->library_count; i++) {
        for (uint32_t r = 0; r < s->libraries[i].range_count; r++) {
            uint64_t start = s->libraries[i].ranges[r].start, size = s->libraries[i].ranges[r].size;
            unsigned char *bytes = malloc(size ? size : 1);
            if (bytes == NULL)
                return pf_fail(error, PF_EXIT_INTERNAL, "reading library state: out of memory");
            s->ranges[s->range_count++] = (struct pf_snapshot_range){start, size, bytes};
            if (pf_child_read(s->child.pid, start, bytes, size, error) < 0)
                return -1;
        }
    }
    return 0;
}

static int read_snapshot(struct session *s, struct pf_error *error)
{
    const Elf64_Phdr *data = &s->runtime.segments[s->runtime.data_segment];
    uint64_t heap_size = s->info.heap_end - s->info.heap_start;
    s->data = malloc(data->p_memsz);
    s->heap = malloc(heap_size ? heap_size : 1);
    if (s->data == NULL || s->heap == NULL)
        return pf_fail(error, PF_EXIT_INTERNAL, "reading the child: out of memory");
    if (pf_child_read(s->child.pid, data->p_vaddr, s->data, data->p_memsz, error) < 0 ||
        pf_child_read(s->child.pid, s->info.heap_start, s->heap, heap_size, error) < 0)
        return -1;
    if (s->library_count > 0 && read_library_state(s, error) < 0)
        return -1;
    return 0;
}

/* Runs the child to its checkpoint.  When modules load shared libraries,
 * a second run loads them first, with ASLR off, so that an image can load
 * them again at the very same addresses. */
static int freeze_passes(struct session *s, const struct pf_options *options, const char *runtime_path,
                         struct pf_error *error)
{
    progress(options, "starting %s", runtime_path);
    if (run_child(s, options, runtime_path, error) < 0)
        return -1;
    if (s->info.library_count == 0)
        return 0;
    if (read_libraries(s, error) < 0)
        return -1;
    int discovered = s->library_count;
    char **paths = s->library_paths;
    s->library_paths = NULL;
    s->library_count = 0;
    progress(options, "modules load %d shared libraries; freezing again with them loaded first", discovered);
    /* The first pass has reported what it did. */
    s->request.manifest.verbose = 0;
    int rc = -1;
    if (pf_request_set_libraries(&s->request, paths, discovered, error) == 0 &&
        run_child(s, options, runtime_path, error) == 0 && read_libraries(s, error) == 0)
        rc = check_same_libraries(s, paths, discovered, error);
    for (int i = 0; i < discovered; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

/* The manifest the image carries: the request, and what the freeze found.
 * The learned patterns are the dump's input only: the image holds them
 * compiled, and an image's start reads its manifest. */
static int image_manifest(struct session *s, char **text, size_t *size, struct pf_error *error)
{
    s->request.manifest.verbose = 0;
    s->request.manifest.learned_patterns.count = 0;
    return pf_manifest_write(&s->request.manifest, text, size, error);
}

static char *absolute(const char *path);

/* The training run (prefault_training.h) on the image just built, run by
 * the path it is written to, where its freeze ran; with its table filled
 * in, the image is built again.  An image without a table is good: its
 * start-up takes its own faults. */
static int carry_prefault_table(struct session *s, const struct pf_options *options,
                                const struct pf_snapshot *snapshot, struct pf_error *error)
{
    const Elf64_Phdr *data = &s->runtime.segments[s->runtime.data_segment];
    uint64_t address = s->info.prefault_table;
    if (address < data->p_vaddr || data->p_memsz < sizeof(struct pf_prefault_table) ||
        address - data->p_vaddr > data->p_memsz - sizeof(struct pf_prefault_table))
        return pf_fail(error, PF_EXIT_INTERNAL, "the runtime's prefault table lies outside its data");
    char *argv0 = absolute(options->output);
    struct pf_prefault_table *table = malloc(sizeof *table);
    char cwd[PATH_MAX];
    const char *directory = s->request.manifest.in_root ? "/" : getcwd(cwd, sizeof cwd);
    if (argv0 == NULL || table == NULL || directory == NULL) {
        free(argv0);
        free(table);
        return pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "preparing the training run");
    }
    struct pf_training training = {s->image.bytes, s->image.size, argv0,
                                   options->entry_kind == PF_ENTRY_NONE, directory, s->environment};
    const char *why = pf_prefault_train(&training, table);
    int rc = 0;
    if (why != NULL) {
        progress(options, "no start-up pages to copy ahead: %s", why);
    } else if (table->count > 0) {
        progress(options, "training run: the start-up writes %u pages, copied ahead in %u runs", table->pages,
                 table->count);
        memcpy(s->data + (address - data->p_vaddr), table, sizeof *table);
        pf_image_free(&s->image);
        rc = pf_image_build(&s->runtime, snapshot, &s->image, error);
    }
    free(table);
    free(argv0);
    return rc;
}

static int run_freeze(struct session *s, const struct pf_options *options, const char *runtime_path,
                      struct pf_error *error)
{
    if (pf_output_check(options->output, runtime_path, error) < 0 ||
        pf_runtime_elf_load(runtime_path, &s->runtime, error) < 0)
        return -1;
    if (s->runtime.info->state != PF_STATE_PRISTINE)
        return pf_fail(error, PF_EXIT_OUTPUT, "runtime %s is an image, not a runtime", runtime_path);
    s->environment = freeze_environment(options);
    if (s->environment == NULL)
        return pf_fail(error, PF_EXIT_INTERNAL, "preparing the freeze's environment: out of memory");
    if (options->learn) {
        progress(options, "learning run: running the program");
        if (pf_learn_run(options, runtime_path, s->environment, &learned, error) < 0)
            return -1;
        if (options->verbose) {
            fprintf(stderr, "pyfreeze: learned %d modules:", learned.module_count);
            for (int i = 0; i < learned.module_count; i++)
                fprintf(stderr, " %s", learned.modules[i]);
            fprintf(stderr, "\npyfreeze: learned %d regular expressions\n", learned.pattern_count);
        }
    }
    if (pf_request_build(options, runtime_path, choose_hash_seed(options), &learned, &s->request, error) < 0 ||
        freeze_passes(s, options, runtime_path, error) < 0)
        return -1;
    progress(options, "checkpoint reached: heap of %.1f MiB, %d shared libraries",
             (double)(s->info.heap_end - s->info.heap_start) / 1048576.0, s->library_count);
    if (pf_check_quiescent(s->child.pid, error) < 0 || check_heap(s->child.pid, &s->info, error) < 0 ||
        read_inputs(s, error) < 0 || read_snapshot(s, error) < 0)
        return -1;
    pf_child_kill(&s->child);

    char *manifest;
    size_t manifest_size;
    if (image_manifest(s, &manifest, &manifest_size, error) < 0)
        return -1;
    struct pf_snapshot snapshot = {
        .data = s->data, .heap = s->heap, .heap_start = s->info.heap_start,
        .heap_size = s->info.heap_end - s->info.heap_start, .manifest = manifest, .manifest_size = manifest_size,
        .ranges = s->ranges, .range_count = s->range_count,
    };
    int rc = pf_image_build(&s->runtime, &snapshot, &s->image, error);
    if (rc == 0)
        rc = carry_prefault_table(s, options, &snapshot, error);
    free(manifest);
    if (rc < 0 || pf_output_write(options->output, s->image.bytes, s->image.size, error) < 0)
        return -1;
    progress(options, "wrote %s (%.1f MiB)", options->output, (double)s->image.size / 1048576.0);
    return 0;
}

/* `path` made absolute against the working directory (not resolved: a
 * script keeps the name it was given, as python3 FILE keeps it). */
static char *absolute(const char *path)
{
    char cwd[PATH_MAX];
    char *result;
    if (path[0] == '/')
        return strdup(path);
    if (getcwd(cwd, sizeof cwd) == NULL)
        return NULL;
    if (asprintf(&result, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path) < 0)
        return NULL;
    return result;
}

/* An entry form fixes what the freeze sees as the program: the script, or
 * for --entry the image itself, as a console script is its own sys.argv[0]
 * and gives sys.path[0]. */
static int resolve_entry(struct pf_options *options, char **owned, struct pf_error *error)
{
    *owned = NULL;
    if (options->entry_kind == PF_ENTRY_NONE || options->entry_kind == PF_ENTRY_MODULE)
        return 0;
    const char *file = options->entry_kind == PF_ENTRY_SCRIPT ? options->entry : options->output;
    *owned = absolute(file);
    if (*owned == NULL)
        return pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "making %s absolute", file);
    options->script = *owned;
    if (options->entry_kind == PF_ENTRY_SCRIPT)
        options->entry = *owned;
    return 0;
}

int pf_freeze(const struct pf_options *given, const char *runtime_path, struct pf_error *error)
{
    struct session session;
    memset(&session, 0, sizeof session);
    struct pf_options resolved = *given;
    const struct pf_options *options = &resolved;
    char *owned;
    if (resolve_entry(&resolved, &owned, error) < 0)
        return -1;
    int rc = run_freeze(&session, options, runtime_path, error);
    pf_child_kill(&session.child);
    pf_image_free(&session.image);
    pf_runtime_elf_free(&session.runtime);
    free(session.data);
    free(session.heap);
    pf_request_free(&session.request);
    free(session.environment);
    for (size_t i = 0; i < session.range_count; i++)
        free((void *)session.ranges[i].bytes);
    free(session.ranges);
    free_libraries(&session);
    free(owned);
    pf_learned_free(&learned);
    return rc;
}
