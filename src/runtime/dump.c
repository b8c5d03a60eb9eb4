/* Dump mode: the child the tracer starts.  It builds the interpreter the
 * image will hold, then stops at the checkpoint with everything the restore
 * needs recorded in pf_info.  Command line (from the tracer, not users):
 *   pyfreeze-runtime --pyfreeze-dump FD
 * where descriptor FD holds the freeze's manifest (src/common/manifest.h):
 * the modules to import and block, the directories to search, the
 * libraries to load before anything else, the entry form, and how the
 * image will be run. */
#define _GNU_SOURCE
#include "dump.h"

#include "cpython311.h"
#include "frozen_gc.h"
#include "getpath_memo.h"
#include "hidden_subclasses.h"
#include "image_info.h"
#include "prefault.h"
#include "import_inputs.h"
#include "../common/manifest.h"
#include "malloc_family.h"
#include "module_zone.h"
#include "native_libraries.h"
#include "process_state.h"
#include "python_glue.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void __libc_freeres(void);

/* Stops for the tracer.  A raw syscall: nothing here may allocate. */
static _Noreturn void stop_for_tracer(void)
{
    syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
    _exit(125);   /* resumed: the tracer is gone or broken */
}

static _Noreturn void dump_fail(enum pf_failure failure, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(pf_info.error, sizeof pf_info.error, format, args);
    va_end(args);
    pf_info.failure = failure;
    pf_info.state = PF_STATE_FAILED;
    fflush(stdout);
    fflush(stderr);
    stop_for_tracer();
}

/* Shared objects mapped when the dump started: anything loaded later was
 * dlopen'ed by a module, and the image could not find it at its address. */
static int startup_objects;

static int count_object(struct dl_phdr_info *info, size_t size, void *count)
{
    (void)info;
    (void)size;
    ++*(int *)count;
    return 0;
}

struct late_object {
    int index, seen;
    char name[512];
};

static int find_late_object(struct dl_phdr_info *info, size_t size, void *out)
{
    (void)size;
    struct late_object *late = out;
    if (late->seen++ < late->index)
        return 0;
    snprintf(late->name, sizeof late->name, "%s", info->dlpi_name);
    return 1;
}

static void refuse_late_objects(void)
{
    struct late_object late = {.index = startup_objects};
    if (dl_iterate_phdr(find_late_object, &late) == 1)
        dump_fail(PF_FAIL_NATIVE, "cannot freeze: shared library %s was loaded while importing", late.name);
}

/* The writable state of a library that an image must carry over: its
 * writable PT_LOADs, less the RELRO part ld.so rebuilds and protects. */
static void library_ranges(struct dl_phdr_info *info, struct pf_library *library)
{
    uint64_t relro_start = 0, relro_end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_RELRO) {
            relro_start = info->dlpi_addr + ph->p_vaddr;
            relro_end = relro_start + ph->p_memsz;
        }
    }
    for (int i = 0; i < info->dlpi_phnum && library->range_count < PF_LIBRARY_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uint64_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (start >= relro_start && start < relro_end)
            start = relro_end < end ? relro_end : end;
        if (end > start) {
            library->ranges[library->range_count].start = start;
            library->ranges[library->range_count].size = end - start;
            library->range_count++;
        }
    }
}

struct library_list {
    int seen;
    uint32_t count;
    struct pf_library *items;
};

static int record_library(struct dl_phdr_info *info, size_t size, void *out)
{
    (void)size;
    struct library_list *list = out;
    if (list->seen++ < startup_objects)
        return 0;
    struct pf_library *library = &list->items[list->count++];
    memset(library, 0, sizeof *library);
    char *path = strdup(info->dlpi_name);
    struct stat status;
    if (path == NULL || stat(path, &status) != 0)
        dump_fail(PF_FAIL_INTERNAL, "cannot record shared library %s", info->dlpi_name);
    library->path = (uint64_t)(uintptr_t)path;
    library->base = info->dlpi_addr;
    library->size = (uint64_t)status.st_size;
    library->mtime_ns = (int64_t)status.st_mtim.tv_sec * 1000000000 + status.st_mtim.tv_nsec;
    library_ranges(info, library);
    return 0;
}

/* Every shared object loaded since start-up, in load order, on the heap
 * that gets frozen. */
static void record_libraries(void)
{
    int total = 0;
    dl_iterate_phdr(count_object, &total);
    struct library_list list = {0, 0, calloc((size_t)(total - startup_objects) + 1, sizeof(struct pf_library))};
    if (list.items == NULL)
        dump_fail(PF_FAIL_INTERNAL, "recording shared libraries: out of memory");
    dl_iterate_phdr(record_library, &list);
    pf_native_mark(list.items, list.count);
    pf_info.libraries = (uint64_t)(uintptr_t)list.items;
    pf_info.library_count = list.count;
}

static void preload_libraries(const struct pf_manifest *manifest)
{
    for (int i = 0; i < manifest->libraries.count; i++) {
        if (dlopen(manifest->libraries.items[i], RTLD_NOW | RTLD_LOCAL) == NULL)
            dump_fail(PF_FAIL_INTERNAL, "preloading %s failed: %s", manifest->libraries.items[i], dlerror());
    }
}

static int next_free_pthread_key(void)
{
    pthread_key_t probe;
    if (pthread_key_create(&probe, NULL) != 0)
        return -1;
    pthread_key_delete(probe);
    return (int)probe;
}

static void unwrap_domains(void);

static int fill_used_pools(void);

static _Noreturn void checkpoint(int allow_native)
{
    unwrap_domains();
    if (allow_native)
        record_libraries();
    else
        refuse_late_objects();
    static char why[PF_ERROR_MAX];
    if (pf_state_refusal(why, sizeof why))
        dump_fail(PF_FAIL_STATE, "%s", why);
    int keys = next_free_pthread_key();
    if (keys < 0)
        dump_fail(PF_FAIL_INTERNAL, "cannot count pthread keys");
    fflush(stdout);
    fflush(stderr);
    pf_py_fs_codec(pf_info.fs_encoding, sizeof pf_info.fs_encoding,
                   pf_info.fs_errors, sizeof pf_info.fs_errors);
    pf_info.pthread_keys = (uint32_t)keys;
    pf_info.tstate = (uint64_t)(uintptr_t)PyThreadState_Get();
    /* Nothing of this process's identity in the image (reproducible
     * images): its pid and its random bytes are renewed at restore. */
    pf_py_forget_native_thread_id(PyThreadState_Get());
    pf_inputs_forget_process();
    /* After the last Python object is freed. */
    if (fill_used_pools() < 0)
        dump_fail(PF_FAIL_INTERNAL, "cannot fill obmalloc's used pools: out of memory");
    __libc_freeres();
    uintptr_t start, end;
    pf_malloc_heap_range(&start, &end);
    pf_info.heap_start = start;
    pf_info.heap_end = end;
    pf_info.prefault_table = (uint64_t)(uintptr_t)&pf_prefault_table;
    pf_info.state = PF_STATE_CHECKPOINT;
    /* The very last write: from here on a malloc would go to glibc. */
    pf_malloc_use_libc();
    stop_for_tracer();
}

/* The manifest from the descriptor named on the command line, which is
 * closed: the imports must not see it. */
static void read_manifest(int argc, char **argv, struct pf_manifest *manifest)
{
    char *end;
    long fd = argc == 1 ? strtol(argv[0], &end, 10) : -1;
    if (fd < 3 || fd > INT_MAX || *end != '\0')
        dump_fail(PF_FAIL_INTERNAL, "malformed dump request from the tracer");
    struct pf_error error;
    if (pf_manifest_read_fd((int)fd, manifest, &error) < 0)
        dump_fail(PF_FAIL_INTERNAL, "%s", error.message);
    if (close((int)fd) < 0)
        dump_fail(PF_FAIL_INTERNAL, "closing the manifest: %s", strerror(errno));
}

/* The arenas obmalloc carves small blocks from, so that a freed small
 * block can be told from a malloc'd one (see wiping_free). */
#define MAX_ARENAS 16384
static struct {
    uintptr_t start, end;
} arena_ranges[MAX_ARENAS];
static size_t arena_count;

static void *arena_alloc(void *context, size_t size)
{
    (void)context;
    void *arena = malloc(size);
    if (arena != NULL && arena_count < MAX_ARENAS) {
        arena_ranges[arena_count].start = (uintptr_t)arena;
        arena_ranges[arena_count++].end = (uintptr_t)arena + size;
    }
    return arena;
}

static void arena_free(void *context, void *arena, size_t size)
{
    (void)context;
    (void)size;
    for (size_t i = 0; i < arena_count; i++) {
        if (arena_ranges[i].start == (uintptr_t)arena) {
            arena_ranges[i] = arena_ranges[--arena_count];
            break;
        }
    }
    free(arena);
}

/* The size of the obmalloc block at `ptr`, or 0 when it is not one. */
static size_t small_block_size(const void *ptr)
{
    for (size_t i = 0; i < arena_count; i++) {
        if ((uintptr_t)ptr >= arena_ranges[i].start && (uintptr_t)ptr < arena_ranges[i].end)
            return pf_py_small_block_size(ptr);
    }
    return 0;
}

/* Takes every free block of the pools obmalloc has in use, for good: a
 * run's first small allocations then come from empty pools, packed
 * together, instead of a block here and a block there in the frozen
 * pools, each a frozen page copied on write (20 concurrent `import cgi`
 * runs: 2.1 MiB less).  The blocks taken are never used.  obmalloc
 * serves a size class from its used pools while one has a free block:
 * the first block of a pool says they are full.  0, or -1 when out of
 * memory. */
static int fill_used_pools(void)
{
    for (size_t size = 16; size <= 512; size += 16) {
        for (;;) {
            void *block = PyObject_Malloc(size);
            if (block == NULL)
                return -1;
            /* Not obmalloc's (another allocator), or an empty pool's. */
            if (small_block_size(block) == 0 || pf_py_small_block_alone(block)) {
                PyObject_Free(block);
                break;
            }
        }
    }
    return 0;
}

/* Python's object and memory domains, wrapped so that a freed block keeps
 * no bytes of what it held: like the brk heap's own free, this keeps the
 * freeze's transient data (its working directory, environment, random
 * bytes) out of the image, and two freezes of the same inputs give the
 * same bytes.  obmalloc keeps its free-list link in a block's first word,
 * written after this wipe or left alone by it. */
static PyMemAllocatorEx wrapped_obj, wrapped_mem;

static void *wiping_malloc(void *context, size_t size)
{
    PyMemAllocatorEx *inner = context;
    void *module = inner == &wrapped_obj ? pf_module_zone_take(size) : NULL;
    return module != NULL ? module : inner->malloc(inner->ctx, size);
}

static void *wiping_calloc(void *context, size_t count, size_t size)
{
    PyMemAllocatorEx *inner = context;
    return inner->calloc(inner->ctx, count, size);
}

static void *wiping_realloc(void *context, void *ptr, size_t size)
{
    PyMemAllocatorEx *inner = context;
    if (pf_module_zone_owns(ptr)) {
        /* copied out of the zone; the block itself is never reused */
        size_t old = pf_module_zone_size(ptr);
        void *fresh = inner->malloc(inner->ctx, size);
        if (fresh != NULL)
            memcpy(fresh, ptr, old < size ? old : size);
        return fresh;
    }
    size_t old_size = ptr != NULL ? small_block_size(ptr) : 0;
    void *moved = inner->realloc(inner->ctx, ptr, size);
    if (moved != NULL && moved != ptr && old_size > sizeof(void *))
        memset((char *)ptr + sizeof(void *), 0, old_size - sizeof(void *));
    return moved;
}

static void wiping_free(void *context, void *ptr)
{
    PyMemAllocatorEx *inner = context;
    if (pf_module_zone_owns(ptr))
        return;         /* never reused (module_zone.h) */
    size_t size = ptr != NULL ? small_block_size(ptr) : 0;
    if (size > 0)
        memset(ptr, 0, size);
    inner->free(inner->ctx, ptr);
}

static void wrap_domain(PyMemAllocatorDomain domain, PyMemAllocatorEx *inner)
{
    PyMem_GetAllocator(domain, inner);
    PyMemAllocatorEx wrapper = {inner, wiping_malloc, wiping_calloc, wiping_realloc, wiping_free};
    PyMem_SetAllocator(domain, &wrapper);
}

/* The image runs on obmalloc itself: the wrappers would cost every
 * allocation an indirection and every free a memset, and CPython looks
 * at its allocator (sys._debugmallocstats prints pymalloc's statistics
 * only when the object domain is obmalloc's own). */
static void unwrap_domains(void)
{
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &wrapped_obj);
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &wrapped_mem);
}

static void start_interpreter(const struct pf_manifest *manifest)
{
    /* obmalloc's arenas and the frame stacks are mmap'd by default; route
     * them through malloc so they live on the brk heap and get frozen. */
    PyObjectArenaAllocator arenas = {NULL, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&arenas);
    wrap_domain(PYMEM_DOMAIN_OBJ, &wrapped_obj);
    wrap_domain(PYMEM_DOMAIN_MEM, &wrapped_mem);

    /* The builder's PYTHON* variables and user site must not shape the
     * image: ignore the environment, as -E -s would. */
    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    preconfig.use_environment = 0;
    preconfig.parse_argv = 0;
    PyStatus status = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(status))
        dump_fail(PF_FAIL_INTERNAL, "pre-initialising Python failed: %s", status.err_msg);

    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.use_environment = 0;
    config.user_site_directory = 0;
    /* dump.py runs site itself, noting what the .pth lines do
     * (site_memo.run_first). */
    config.site_import = 0;
    config.parse_argv = 0;
    config.use_hash_seed = 1;
    config.hash_seed = manifest->hash_seed;
    /* The imports see the sys.executable the image will have when it is
     * run as it was named (sysconfig and others derive paths from it), and
     * the sys.argv[0] of the script it will run. */
    char *argv[] = {(char *)(manifest->script != NULL ? manifest->script : "pyfreeze-runtime"), NULL};
    status = PyConfig_SetBytesArgv(&config, 1, argv);
    if (!PyStatus_Exception(status))
        status = PyConfig_SetBytesString(&config, &config.program_name,
                                         manifest->program != NULL ? manifest->program : "pyfreeze-runtime");

    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status))
        dump_fail(PF_FAIL_INTERNAL, "initialising Python failed: %s", status.err_msg);
    pf_info.hash_seed = manifest->hash_seed;
}

static _Noreturn void fail_from_python(const char *what)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyObject *text = value ? PyObject_Str(value) : NULL;
    const char *message = text ? PyUnicode_AsUTF8(text) : NULL;
    PyErr_Restore(type, value, traceback);
    PyErr_Print();
    dump_fail(PF_FAIL_INTERNAL, "%s: %s", what, message ? message : "unknown error");
}

int pf_dump_main(int argc, char **argv)
{
    struct pf_manifest manifest;
    dl_iterate_phdr(count_object, &startup_objects);
    read_manifest(argc, argv, &manifest);
    if (manifest.in_root && chdir("/") != 0)
        dump_fail(PF_FAIL_INTERNAL, "cannot change to /: %s", strerror(errno));
    /* First of all, so that they land where an image will load them. */
    preload_libraries(&manifest);
    pf_state_remember_mappings();
    start_interpreter(&manifest);
    char unlike[PF_ERROR_MAX / 2];
    if (pf_py_check_boundary(unlike, sizeof unlike) < 0)
        dump_fail(PF_FAIL_CPYTHON, "cannot freeze: %s", unlike);
    if (pf_py_plain_run_flags() < 0)
        fail_from_python("setting sys.flags failed");
    if (pf_glue_install() < 0)
        fail_from_python("installing the pyfreeze helpers failed");
    pf_module_zone_open();
    PyObject *outcome = pf_glue_run_dump(&manifest);
    int allow_native = manifest.native;
    /* Nothing of it may stay in the image. */
    pf_manifest_release(&manifest);
    if (outcome == NULL)
        fail_from_python("the dump driver failed");
    if (outcome != Py_None) {
        long kind = -1;
        const char *message = NULL;
        if (!PyArg_ParseTuple(outcome, "ls", &kind, &message))
            fail_from_python("the dump driver returned a malformed result");
        dump_fail((enum pf_failure)kind, "%s", message);
    }
    Py_DECREF(outcome);
    /* Last, so that the heap the imports made is laid out as without it. */
    if (pf_py_keep_getpath_code() < 0)
        fail_from_python("keeping getpath's code failed");
    if (pf_getpath_memo_make() < 0)
        fail_from_python("memoizing the path configuration failed");
    struct pf_file_stamp *stamps;
    if (pf_glue_file_stamps(&stamps, &pf_info.stamp_count) < 0)
        fail_from_python("recording the module files failed");
    pf_info.stamps = (uint64_t)(uintptr_t)stamps;
    if (pf_glue_inputs_summary(&pf_info.inputs, &pf_info.inputs_size) < 0)
        fail_from_python("recording what the imports read failed");
    long module_count = pf_glue_module_count();
    if (module_count < 0)
        fail_from_python("counting the frozen modules failed");
    pf_info.module_count = (uint32_t)module_count;
    if (pf_subclasses_note_versions() < 0)
        fail_from_python("noting the classes' places failed");
    snprintf(pf_info.python_version, sizeof pf_info.python_version, "%s", PY_VERSION);
    pf_module_zone_close();
    /* After the last Python object the dump makes. */
    if (pf_gc_freeze_all() < 0)
        fail_from_python("handing the dump's last objects to the permanent generation failed");
    checkpoint(allow_native);
}
