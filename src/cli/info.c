#define _GNU_SOURCE
#include "info.h"

#include "../common/file_stamp.h"
#include "../common/image_info.h"
#include "../common/manifest.h"
#include "../elf/build_id.h"
#include "../elf/runtime_elf.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char info_help[] =
    "Usage: pyfreeze info [--json] IMAGE\n"
    "       pyfreeze info --check IMAGE\n"
    "Describe a pyfreeze image: Python version, entry form, frozen and blocked\n"
    "modules, hash seed, runtime build, sizes, and whether its module files changed.\n"
    "\n"
    "      --json   print one JSON object instead of text\n"
    "      --check  exit 0 if IMAGE would start warm here and is made by this\n"
    "               pyfreeze's runtime; else say why in one line (status 7: it\n"
    "               would start cold, 8: made by another runtime build)\n"
    "  -h, --help   show this help and exit\n";

/* Everything `info` reports, gathered before anything is printed. */
struct image_facts {
    const struct pf_image_info *info;
    const struct pf_prefault_table *prefault;   /* NULL when damaged */
    struct pf_manifest manifest;
    char build_id[64];
    char current_build_id[64];   /* of the runtime this pyfreeze would use */
    uint64_t file_size;
    uint32_t stale_count;
    const char *first_stale;
};

static void check_stamps(const struct pf_runtime_elf *elf, struct image_facts *facts)
{
    const struct pf_image_info *info = facts->info;
    const struct pf_file_stamp *stamps =
        pf_elf_bytes_at(elf, info->stamps, (uint64_t)info->stamp_count * sizeof *stamps);
    if ((uintptr_t)stamps % _Alignof(struct pf_file_stamp) != 0) {
        facts->stale_count = info->stamp_count;
        facts->first_stale = "(the image's file list is damaged)";
        return;
    }
    for (uint32_t i = 0; stamps != NULL && i < info->stamp_count; i++) {
        const char *path = pf_elf_string_at(elf, stamps[i].path);
        if (pf_file_unchanged(path, stamps[i].mtime_ns, stamps[i].size))
            continue;
        if (facts->stale_count++ == 0)
            facts->first_stale = path != NULL ? path : "(unreadable path)";
    }
}

static int gather(const char *path, const struct pf_runtime_elf *elf, struct image_facts *facts,
                  struct pf_error *error)
{
    memset(facts, 0, sizeof *facts);
    facts->info = elf->info;
    if (elf->info->state == PF_STATE_PRISTINE)
        return pf_fail(error, PF_EXIT_OUTPUT, "%s is a pyfreeze runtime, not an image", path);
    if (elf->info->state != PF_STATE_IMAGE)
        return pf_fail(error, PF_EXIT_OUTPUT, "%s is not a finished image (state %u)", path, elf->info->state);
    if (elf->info->heap_end < elf->info->heap_start)
        return pf_fail(error, PF_EXIT_OUTPUT, "%s is damaged: its frozen heap ends before it starts", path);
    const char *manifest = pf_elf_bytes_at(elf, elf->info->manifest_addr, elf->info->manifest_size);
    if (manifest == NULL)
        return pf_fail(error, PF_EXIT_OUTPUT, "%s is truncated: its manifest lies outside the file", path);
    struct pf_error why;
    if (pf_manifest_read(manifest, elf->info->manifest_size, &facts->manifest, &why) < 0)
        return pf_fail(error, PF_EXIT_OUTPUT, "%s is damaged or foreign: %.3000s", path, why.message);
    facts->file_size = elf->size;
    pf_elf_build_id(elf, facts->build_id, sizeof facts->build_id);
    check_stamps(elf, facts);
    const struct pf_prefault_table *prefault =
        pf_elf_bytes_at(elf, elf->info->prefault_table, sizeof *prefault);
    if (prefault != NULL && (uintptr_t)prefault % _Alignof(struct pf_prefault_table) == 0)
        facts->prefault = prefault;
    return 0;
}

struct joiner {
    int count;
    int json;
};

static void print_json_string(const char *text, size_t length)
{
    putchar('"');
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_item(const char *value, struct joiner *joiner)
{
    if (joiner->count++ > 0)
        fputs(joiner->json ? ", " : " ", stdout);
    if (joiner->json)
        print_json_string(value, strlen(value));
    else
        fputs(value, stdout);
}

static void print_list(const struct pf_strings *list, int json)
{
    struct joiner joiner = {0, json};
    if (json)
        putchar('[');
    for (int i = 0; i < list->count; i++)
        print_item(list->items[i], &joiner);
    if (json)
        putchar(']');
    else if (joiner.count == 0)
        fputs("(none)", stdout);
}

static void print_text_entry(const struct pf_manifest *manifest)
{
    const char *value = manifest->entry;
    switch (manifest->entry_kind) {
    case PF_ENTRY_NONE: fputs("none (the image is python3)", stdout); break;
    case PF_ENTRY_SCRIPT: printf("script %s (IMAGE ARGS runs as python3 %s ARGS)", value, value); break;
    case PF_ENTRY_MODULE: printf("module %s (IMAGE ARGS runs as python3 -m %s ARGS)", value, value); break;
    case PF_ENTRY_FUNCTION: printf("entry point %s (IMAGE ARGS runs as its console script)", value); break;
    }
}

/* "KIND:VALUE" ("script:/path", "module:NAME", "function:MODULE:FUNCTION")
 * or null for an image that is python3. */
static void print_json_entry(const struct pf_manifest *manifest)
{
    if (manifest->entry_kind == PF_ENTRY_NONE) {
        fputs("null", stdout);
        return;
    }
    char *text;
    if (asprintf(&text, "%s:%s", pf_entry_kind_name(manifest->entry_kind), manifest->entry) < 0) {
        fputs("null", stdout);
        return;
    }
    print_json_string(text, strlen(text));
    free(text);
}

static uint32_t prefault_pages(const struct image_facts *facts)
{
    return facts->prefault != NULL ? facts->prefault->pages : 0;
}

static double mebibytes(uint64_t bytes)
{
    return (double)bytes / 1048576.0;
}

/* The lists of what the freeze was asked, as both outputs name them. */
static const struct asked_list {
    const char *label, *key;
    size_t offset;
} asked_lists[] = {
    {"modules:", "modules", offsetof(struct pf_manifest, modules)},
    {"blocked:", "blocked", offsetof(struct pf_manifest, blocks)},
    {"search paths:", "paths", offsetof(struct pf_manifest, paths)},
};

static void print_asked_lists(const struct pf_manifest *manifest, int json)
{
    for (size_t i = 0; i < sizeof asked_lists / sizeof asked_lists[0]; i++) {
        const struct pf_strings *list = (const struct pf_strings *)((const char *)manifest + asked_lists[i].offset);
        if (json)
            printf(", \"%s\": ", asked_lists[i].key);
        else
            printf("%-19s", asked_lists[i].label);
        print_list(list, json);
        if (!json)
            putchar('\n');
    }
}

static void print_text(const char *path, const struct image_facts *facts)
{
    const struct pf_image_info *info = facts->info;
    printf("image:             %s\n", path);
    const struct pf_manifest *manifest = &facts->manifest;
    printf("made by:           pyfreeze %s", manifest->pyfreeze_version);
    printf("\npython:            %s\n", info->python_version);
    printf("entry form:        ");
    print_text_entry(manifest);
    printf("\n");
    printf("runtime build-id:  %s%s\n", facts->build_id,
           strcmp(facts->build_id, facts->current_build_id) == 0 ? " (this pyfreeze's runtime)" : " (another build)");
    print_asked_lists(manifest, 0);
    printf("hash seed:         %llu\n", (unsigned long long)info->hash_seed);
    printf("modules in heap:   %u (imported as python3 imports them)\n", info->module_count);
    printf("native libraries:  ");
    print_list(&manifest->libraries, 0);
    printf(facts->info->library_count > 0 ? "\naddress layout:    fixed (ASLR off for the image, on for "
                                            "what it starts)\n" : "\naddress layout:    randomised (ASLR kept)\n");
    printf("filesystem codec:  %s/%s\n", info->fs_encoding, info->fs_errors);
    printf("sizes:             image %.1f MiB, frozen heap %.1f MiB\n", mebibytes(facts->file_size),
           mebibytes(info->heap_end - info->heap_start));
    printf("start-up pages:    %u copied ahead of the start-up's writes\n", prefault_pages(facts));
    printf("read at import:    environment ");
    print_list(&manifest->read_env, 0);
    printf("\n                   files ");
    print_list(&manifest->read_file, 0);
    printf("\n");
    if (facts->stale_count == 0)
        printf("module files:      %u, unchanged\n", info->stamp_count);
    else
        printf("module files:      %u, %u changed (first: %s); runs start cold\n", info->stamp_count,
               facts->stale_count, facts->first_stale);
}

static void print_json(const char *path, const struct image_facts *facts)
{
    const struct pf_image_info *info = facts->info;
    printf("{\"image\": ");
    print_json_string(path, strlen(path));
    const struct pf_manifest *manifest = &facts->manifest;
    printf(", \"pyfreeze\": ");
    print_json_string(manifest->pyfreeze_version, strlen(manifest->pyfreeze_version));
    printf(", \"python\": ");
    print_json_string(info->python_version, strlen(info->python_version));
    printf(", \"entry\": ");
    print_json_entry(manifest);
    printf(", \"runtime_build_id\": \"%s\", \"runtime_is_current\": %s", facts->build_id,
           strcmp(facts->build_id, facts->current_build_id) == 0 ? "true" : "false");
    print_asked_lists(manifest, 1);
    printf(", \"hash_seed\": %llu, \"frozen_module_count\": %u", (unsigned long long)info->hash_seed,
           info->module_count);
    printf(", \"native_libraries\": ");
    print_list(&manifest->libraries, 1);
    printf(", \"aslr\": %s", info->library_count > 0 ? "false" : "true");
    printf(", \"filesystem_encoding\": ");
    print_json_string(info->fs_encoding, strlen(info->fs_encoding));
    printf(", \"image_size\": %llu, \"heap_size\": %llu", (unsigned long long)facts->file_size,
           (unsigned long long)(info->heap_end - info->heap_start));
    printf(", \"prefault_pages\": %u", prefault_pages(facts));
    printf(", \"read_environment\": ");
    print_list(&manifest->read_env, 1);
    printf(", \"read_files\": ");
    print_list(&manifest->read_file, 1);
    printf(", \"module_files\": %u, \"changed_module_files\": %u", info->stamp_count, facts->stale_count);
    printf(", \"first_changed_file\": ");
    if (facts->first_stale != NULL)
        print_json_string(facts->first_stale, strlen(facts->first_stale));
    else
        fputs("null", stdout);
    printf("}\n");
}

static int parse(int argc, char **argv, int *json, int *check, const char **path, struct pf_error *error)
{
    *json = 0;
    *check = 0;
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            *json = 1;
        else if (strcmp(argv[i], "--check") == 0)
            *check = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return pf_fail(error, PF_EXIT_USAGE, "info: unknown option '%s'", argv[i]);
        else if (*path != NULL)
            return pf_fail(error, PF_EXIT_USAGE, "info: one image at a time ('%s' and '%s')", *path, argv[i]);
        else
            *path = argv[i];
    }
    if (*path == NULL)
        return pf_fail(error, PF_EXIT_USAGE, "info: no image given");
    if (*json && *check)
        return pf_fail(error, PF_EXIT_USAGE, "info: --json and --check exclude each other");
    return 0;
}

/* Runs the image in its check mode (see src/runtime/check_mode.h): it
 * makes the very checks a warm start makes, here, in this environment,
 * and says whether it would step aside, and why.  The environment is
 * pyfreeze's less PYFREEZE_COLD and PYFREEZE_DEBUG, which would force or
 * report; the reason comes back through a pipe on descriptor 3. */
static int run_check(const char *path, char *reason, size_t size, int *status, struct pf_error *error)
{
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        return pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "checking %s: creating a pipe", path);
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return pf_fail_errno(error, PF_EXIT_TRACE, saved, "checking %s: fork", path);
    }
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0 ||
            dup2(pipe_fds[1], 3) < 0 || setenv("PYFREEZE_CHECK", "3", 1) < 0 ||
            unsetenv("PYFREEZE_COLD") < 0 || unsetenv("PYFREEZE_DEBUG") < 0)
            _exit(127);
        char *child_argv[] = {(char *)path, NULL};
        execve(path, child_argv, environ);
        _exit(127);
    }
    close(pipe_fds[1]);
    size_t used = 0;
    for (;;) {
        ssize_t got = read(pipe_fds[0], reason + used, size - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        used += (size_t)got;
        if (used == size - 1)
            break;
    }
    reason[used] = '\0';
    close(pipe_fds[0]);
    int wait_status;
    while (waitpid(pid, &wait_status, 0) < 0) {
        if (errno != EINTR)
            return pf_fail_errno(error, PF_EXIT_TRACE, errno, "checking %s: waiting for it", path);
    }
    if (!WIFEXITED(wait_status))
        return pf_fail(error, PF_EXIT_INTERNAL, "checking %s: it was killed by signal %d", path,
                       WTERMSIG(wait_status));
    *status = WEXITSTATUS(wait_status);
    return 0;
}

static int check_image(const char *path, const struct image_facts *facts, struct pf_error *error)
{
    char reason[1024];
    int status = 0;
    if (run_check(path, reason, sizeof reason, &status, error) < 0)
        return -1;
    if (status == PF_EXIT_COLD)
        return pf_fail(error, PF_EXIT_COLD, "%s would start cold: %s", path, reason);
    if (status == 127)
        return pf_fail(error, PF_EXIT_INTERNAL, "checking %s: it cannot be executed", path);
    if (status != 0)
        return pf_fail(error, PF_EXIT_INTERNAL, "checking %s: it exited with status %d", path, status);
    if (strcmp(facts->build_id, facts->current_build_id) != 0)
        return pf_fail(error, PF_EXIT_OTHER_RUNTIME,
                       "%s was made by another runtime build (%s; this pyfreeze's runtime is %s)", path,
                       facts->build_id, facts->current_build_id);
    return 0;
}

static void current_runtime_build_id(const char *runtime_path, char *out, size_t size)
{
    struct pf_runtime_elf runtime;
    struct pf_error ignored;
    snprintf(out, size, "none found");
    if (runtime_path != NULL && pf_runtime_elf_load(runtime_path, &runtime, &ignored) == 0) {
        pf_elf_build_id(&runtime, out, size);
        pf_runtime_elf_free(&runtime);
    }
}

int pf_info_main(int argc, char **argv, const char *runtime_path, struct pf_error *error)
{
    int json, check;
    const char *path;
    int parsed = parse(argc, argv, &json, &check, &path, error);
    if (parsed != 0) {
        if (parsed < 0)
            return -1;
        fputs(info_help, stdout);
        return 0;
    }
    struct pf_runtime_elf elf;
    struct image_facts facts;
    if (pf_runtime_elf_load(path, &elf, error) < 0)
        return -1;
    int rc = gather(path, &elf, &facts, error);
    current_runtime_build_id(runtime_path, facts.current_build_id, sizeof facts.current_build_id);
    if (rc == 0 && check) {
        rc = check_image(path, &facts, error);
    } else if (rc == 0) {
        if (json)
            print_json(path, &facts);
        else
            print_text(path, &facts);
        if (fflush(stdout) != 0)
            rc = pf_fail_errno(error, PF_EXIT_INTERNAL, errno, "writing to standard output");
    }
    pf_manifest_release(&facts.manifest);
    pf_runtime_elf_free(&elf);
    return rc;
}
