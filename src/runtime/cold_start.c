/* The image's way to step aside.  A cold start puts the runtime's data
 * segment back as a freshly exec'd runtime has it at main() (the linker's
 * bytes, which the image keeps, plus what the dynamic loader wrote: see
 * reset_data_segment), so the interpreter starts from nothing exactly as a
 * fresh runtime would, and then applies the image's blocked names. */
#define _GNU_SOURCE
#include "cold_start.h"

#include "check_mode.h"
#include "cpython311.h"
#include "debug_report.h"
#include "entry_form.h"
#include "image_info.h"
#include "loader_writes.h"
#include "malloc_family.h"
#include "phases.h"
#include "prefault.h"
#include "python_glue.h"

#include <Python.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* The value pf_cold_reexec gives PYFREEZE_COLD: the mark, then "+warned"
 * when this process already printed python3's locale-coercion warning
 * (the cold start must not print it twice), then, when the run had the
 * variable, '=' and the run's own value (one that did not ask for a cold
 * start: empty or 0).  The cold start puts the run's environment back
 * from it, in its original order. */
#define REEXEC_MARK "pyfreeze-step-aside"
#define WARNED_MARK "+warned"

void pf_cold_reexec(char **argv, char **saved_environ, const char *reason)
{
    pf_debug("cold start: %s", reason);
    pf_prefault_refuse_cold();
    pf_check_finish(reason);   /* pyfreeze info --check: report, do not start */
    if (pf_entry_program_argv != NULL)
        argv = pf_entry_program_argv;   /* the program's arguments, rewritten again */
    size_t count = 0;
    while (saved_environ[count] != NULL)
        count++;
    char **env = malloc((count + 2) * sizeof(char *));
    const char *mark = pf_py_locale_coercion_warned() ? REEXEC_MARK WARNED_MARK : REEXEC_MARK;
    char *marked = NULL;
    int found = 0;
    if (env != NULL) {
        size_t used = 0;
        for (size_t i = 0; i < count; i++) {
            const char *entry = saved_environ[i];
            if (strncmp(entry, PF_COLD_ENV "=", sizeof PF_COLD_ENV) != 0) {
                env[used++] = saved_environ[i];
            } else if (!found) {
                found = 1;
                if (asprintf(&marked, PF_COLD_ENV "=%s=%s", mark, entry + sizeof PF_COLD_ENV) < 0)
                    marked = NULL;
                env[used++] = marked;
            }
        }
        if (!found && asprintf(&marked, PF_COLD_ENV "=%s", mark) >= 0)
            env[used++] = marked;
        env[used] = NULL;
        pf_phase("cold-start");
        pf_phase_flush();
        if (marked != NULL)
            execve("/proc/self/exe", argv, env);
    }
    fprintf(stderr, "pyfreeze: cold start of the image failed: re-executing /proc/self/exe: %s\n",
            strerror(errno));
    exit(1);
}

/* PYFREEZE_COLD as the run had it: a variable the user set stays, as it
 * would in python3's os.environ (and forces the images this one starts
 * cold too); the one pf_cold_reexec added goes.  Sets *warned when the
 * process before the re-exec printed the locale-coercion warning. */
static int restore_cold_variable(int *warned)
{
    const char *value = getenv(PF_COLD_ENV);
    *warned = 0;
    if (value == NULL || strncmp(value, REEXEC_MARK, sizeof REEXEC_MARK - 1) != 0) {
        pf_debug("cold start: " PF_COLD_ENV " is set");
        return 0;
    }
    value += sizeof REEXEC_MARK - 1;
    if (strncmp(value, WARNED_MARK, sizeof WARNED_MARK - 1) == 0) {
        *warned = 1;
        value += sizeof WARNED_MARK - 1;
    }
    if (*value == '\0')
        return unsetenv(PF_COLD_ENV);
    if (*value != '=')
        return 0;
    return setenv(PF_COLD_ENV, value + 1, 1);
}

/* Standard error to /dev/null for a moment; returns the saved descriptor,
 * or -1 when there is nothing to silence (fd 2 closed) or it failed. */
static int silence_stderr(void)
{
    int saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (saved < 0)
        return -1;
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, 2) < 0) {
        if (null_fd >= 0)
            close(null_fd);
        close(saved);
        return -1;
    }
    close(null_fd);
    return saved;
}

static void restore_stderr(int saved)
{
    if (saved < 0)
        return;
    while (dup2(saved, 2) < 0 && errno == EINTR)
        continue;
    close(saved);
}

/* Where this executable's writable segment and its RELRO part are. */
struct data_segment {
    uintptr_t start, end;  /* as loaded */
    uintptr_t relro_end;
};

static int find_segment(struct dl_phdr_info *info, size_t size, void *out)
{
    (void)size;
    struct data_segment *segment = out;
    uintptr_t anchor = (uintptr_t)&pf_info;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start, end;
        if (__builtin_add_overflow(info->dlpi_addr, ph->p_vaddr, &start) ||
            __builtin_add_overflow(start, ph->p_memsz, &end))
            continue;
        if (ph->p_type == PT_LOAD && anchor >= start && anchor < end) {
            segment->start = start;
            segment->end = end;
        }
        if (ph->p_type == PT_GNU_RELRO)
            segment->relro_end = end;
    }
    return 1;   /* the first object is the executable itself */
}

/* How a cold start gets the interpreter a freshly exec'd runtime would
 * have.  Options weighed:
 *  - exec the runtime file the image was built from: an image must run
 *    where that runtime is gone or is another build;
 *  - rebuild the runtime into a memfd (or a temporary file) and exec that:
 *    exact, but it writes megabytes per cold start, and /proc/self/exe,
 *    hence sys.executable's resolution, would no longer be the image;
 *  - here, in the image's own process: put the linker's bytes of the data
 *    segment back (the image carries them) and keep every word the dynamic
 *    loader wrote there for this process, found from the executable's own
 *    relocation tables (loader_writes.c).  That is what a fresh runtime holds
 *    at main(), for the cost of one copy of the segment.
 * The first version kept only the COPY relocations, and the R_X86_64_64
 * slots (pyexpat's handler setters in libexpat, sbrk for the brk heap)
 * became 0: any XML parse in a cold start crashed.
 *
 * One difference is deliberate: the frozen allocator state is reset to
 * the linker's, then switched to glibc (pf_malloc_use_libc) before anything
 * allocates, so a cold start allocates as python3 does. */
static int reset_data_segment(uintptr_t pristine, size_t pristine_size, const char **why)
{
    struct data_segment segment = {0};
    dl_iterate_phdr(find_segment, &segment);
    if (segment.start == 0) {
        *why = "the data segment is not loaded";
        return -1;
    }
    uintptr_t from = segment.relro_end > segment.start ? segment.relro_end : segment.start;
    uintptr_t file_end;
    if (__builtin_add_overflow(segment.start, pristine_size, &file_end) || file_end > segment.end ||
        from > file_end) {
        *why = "the pristine data does not fit the data segment";
        return -1;
    }
    struct pf_loader_write *writes;
    size_t count;
    if (pf_loader_writes_within(_DYNAMIC, from, segment.end, &writes, &count, why) < 0)
        return -1;
    int rc = pf_reset_keeping(from, file_end, segment.end,
                              (const unsigned char *)(pristine + (from - segment.start)), writes, count,
                              pf_malloc_use_libc, why);
    free(writes);
    return rc;
}

int pf_cold_main(int argc, char **argv)
{
    pf_prefault_refuse_cold();
    int warned;
    if (restore_cold_variable(&warned) < 0) {
        fprintf(stderr, "pyfreeze: cold start of the image failed: restoring %s: %s\n", PF_COLD_ENV,
                strerror(errno));
        return 1;
    }
    /* Read before the data segment is reset, into memory the reset leaves
     * alone, and kept: the blocked names are needed after it. */
    struct pf_manifest manifest;
    struct pf_error error;
    if (pf_image_manifest(&manifest, &error) < 0) {
        fprintf(stderr, "pyfreeze: cold start of the image failed: %s\n", error.message);
        return 1;
    }
    const char *why = "out of memory";
    struct pf_entry_state entry;
    pf_entry_save(&entry);
    if (reset_data_segment(pf_info.pristine_addr, pf_info.pristine_size, &why) < 0) {
        fprintf(stderr, "pyfreeze: cold start of the image failed: cannot reset the data segment: %s\n", why);
        return 1;
    }
    pf_entry_restore(&entry);

    /* The pre-initialization coerces the C locale as python3 does; when the
     * process before the re-exec did so already, it printed the warning
     * PYTHONCOERCECLOCALE=warn asks for, and this one must not print it
     * again (its only output; errors come back in the status). */
    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    int saved_stderr = warned ? silence_stderr() : -1;
    PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);
    restore_stderr(saved_stderr);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    /* --entry: sys.argv[0] is the image, which needs the command line read
     * first (it is not read twice). */
    if (!PyStatus_Exception(status) && pf_entry_program_argv != NULL &&
        !PyStatus_Exception(status = PyConfig_Read(&config)) &&
        pf_entry_fix_config(&config) < 0)
        status = PyStatus_NoMemory();
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
    if (pf_glue_cold_prepare(&manifest.blocks) < 0) {
        PyErr_Print();
        return 1;
    }
    return Py_RunMain();
}
