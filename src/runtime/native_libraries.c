#define _GNU_SOURCE
#include "native_libraries.h"

#include "../common/file_stamp.h"

#include "entry_form.h"
#include "image_info.h"
#include "phases.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static char reason[768];

const char *pf_native_fix_layout(char **argv)
{
    int persona = personality(0xffffffff);
    if (persona == -1)
        return "personality() is not allowed here";
    if (!(persona & ADDR_NO_RANDOMIZE)) {
        if (personality((unsigned long)persona | ADDR_NO_RANDOMIZE) == -1 ||
            !(personality(0xffffffff) & ADDR_NO_RANDOMIZE))
            return "address randomisation cannot be turned off here";
        pf_phase_flush();
        execve("/proc/self/exe", pf_entry_program_argv != NULL ? pf_entry_program_argv : argv, environ);
        snprintf(reason, sizeof reason, "re-executing /proc/self/exe without ASLR failed: %s", strerror(errno));
        personality((unsigned long)persona);
        return reason;
    }
    /* This process is laid out; what it starts gets randomisation back. */
    personality((unsigned long)persona & ~(unsigned long)ADDR_NO_RANDOMIZE);
    return NULL;
}

static const struct pf_library *libraries(void)
{
    return (const struct pf_library *)(uintptr_t)pf_info.libraries;
}

static const char *library_path(const struct pf_library *library)
{
    return (const char *)(uintptr_t)library->path;
}

static const char *changed_library(void)
{
    for (uint32_t i = 0; i < pf_info.library_count; i++) {
        const struct pf_library *library = &libraries()[i];
        if (pf_file_unchanged(library_path(library), library->mtime_ns, library->size))
            continue;
        snprintf(reason, sizeof reason, "shared library %s changed since the image was made",
                 library_path(library));
        return reason;
    }
    return NULL;
}

struct placement {
    const char *path;
    uint64_t base;
    int found;
};

static int find_placement(struct dl_phdr_info *info, size_t size, void *out)
{
    (void)size;
    struct placement *placement = out;
    if (strcmp(info->dlpi_name, placement->path) != 0)
        return 0;
    placement->found = 1;
    placement->base = info->dlpi_addr;
    return 1;
}

static const char *load_in_order(void)
{
    /* Constructors may allocate; with glibc's mmap threshold they could
     * map memory between two libraries and move the next one. */
    mallopt(M_MMAP_MAX, 0);
    const char *failure = NULL;
    for (uint32_t i = 0; i < pf_info.library_count && failure == NULL; i++) {
        if (dlopen(library_path(&libraries()[i]), RTLD_NOW | RTLD_LOCAL) != NULL)
            continue;
        snprintf(reason, sizeof reason, "loading %s failed: %s", library_path(&libraries()[i]), dlerror());
        failure = reason;
    }
    mallopt(M_MMAP_MAX, 65536);
    for (uint32_t i = 0; i < pf_info.library_count && failure == NULL; i++) {
        const struct pf_library *library = &libraries()[i];
        struct placement placement = {library_path(library), 0, 0};
        dl_iterate_phdr(find_placement, &placement);
        if (placement.found && placement.base == library->base)
            continue;
        snprintf(reason, sizeof reason, "%s was loaded at 0x%llx, not at 0x%llx as in the image",
                 library->path ? library_path(library) : "?", (unsigned long long)placement.base,
                 (unsigned long long)library->base);
        failure = reason;
    }
    return failure;
}

const char *pf_native_load(void)
{
    const char *failure = changed_library();
    if (failure == NULL)
        failure = load_in_order();
    if (failure != NULL)
        return failure;
    const struct pf_saved_range *saved = (const struct pf_saved_range *)(uintptr_t)pf_info.saved_ranges;
    for (uint32_t i = 0; i < pf_info.saved_range_count; i++)
        memcpy((void *)(uintptr_t)saved[i].target, (const void *)(uintptr_t)saved[i].saved, saved[i].size);
    return NULL;
}

/* Whether the object loaded from PATH itself defines SYMBOL (a handle
 * would find its dependencies' too). */
static int defines(const char *path, const char *symbol)
{
    void *handle = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    if (handle == NULL)
        return 0;
    void *address = dlsym(handle, symbol);
    struct link_map *own = NULL, *owner = NULL;
    Dl_info where;
    int found = address != NULL && dlinfo(handle, RTLD_DI_LINKMAP, &own) == 0 &&
                dladdr1(address, &where, (void **)&owner, RTLD_DL_LINKMAP) != 0 && owner == own;
    dlclose(handle);
    return found;
}

void pf_native_mark(struct pf_library *libraries, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (defines(library_path(&libraries[i]), "rl_initialize"))
            libraries[i].flags |= PF_LIBRARY_TERMINAL_SETTINGS;
    }
}

static int holds_library_with(uint32_t flag)
{
    for (uint32_t i = 0; i < pf_info.library_count; i++) {
        if (libraries()[i].flags & flag)
            return 1;
    }
    return 0;
}

static int is_set(const char *name)
{
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0';
}

const char *pf_native_configuration_differs(void)
{
    if (!holds_library_with(PF_LIBRARY_TERMINAL_SETTINGS))
        return NULL;
    const char *term = getenv("TERM");
    if (term != NULL && term[0] != '\0' && strcmp(term, "dumb") != 0)
        return "readline was initialised for no terminal type, and TERM is set";
    if (is_set("INPUTRC"))
        return "readline was initialised without INPUTRC";
    const char *home = getenv("HOME");
    char inputrc[PATH_MAX];
    struct stat status;
    if (home != NULL && snprintf(inputrc, sizeof inputrc, "%s/.inputrc", home) < (int)sizeof inputrc &&
        stat(inputrc, &status) == 0)
        return "readline was initialised without a ~/.inputrc";
    return NULL;
}
