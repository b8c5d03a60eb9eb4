/* The image's way to step aside.  A cold start puts the runtime's data
 * segment back as the linker made it (the image keeps a pristine copy),
 * so the interpreter starts from nothing exactly as a fresh runtime would,
 * and then applies the image's blocked names. */
#define _GNU_SOURCE
#include "cold_start.h"

#include "debug_report.h"
#include "image_info.h"
#include "malloc_family.h"
#include "python_glue.h"

#include <Python.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

void pf_cold_reexec(char **argv, char **saved_environ, const char *reason)
{
    pf_debug("cold start: %s", reason);
    size_t count = 0;
    while (saved_environ[count] != NULL)
        count++;
    char **env = malloc((count + 2) * sizeof(char *));
    if (env != NULL) {
        size_t kept = 0;
        for (size_t i = 0; i < count; i++) {
            if (strncmp(saved_environ[i], PF_COLD_ENV "=", sizeof PF_COLD_ENV) != 0)
                env[kept++] = saved_environ[i];
        }
        env[kept++] = PF_COLD_ENV "=1";
        env[kept] = NULL;
        execve("/proc/self/exe", argv, env);
    }
    fprintf(stderr, "pyfreeze: cold start of the image failed: re-executing /proc/self/exe: %s\n",
            strerror(errno));
    exit(1);
}

/* Where this executable's writable segment and its RELRO part are. */
struct data_segment {
    uintptr_t start, file_end, end;  /* as loaded */
    uintptr_t relro_end;
};

static int find_segment(struct dl_phdr_info *info, size_t size, void *out)
{
    (void)size;
    struct data_segment *segment = out;
    uintptr_t anchor = (uintptr_t)&pf_info;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && anchor >= start && anchor < start + ph->p_memsz) {
            segment->start = start;
            segment->end = start + ph->p_memsz;
        }
        if (ph->p_type == PT_GNU_RELRO)
            segment->relro_end = start + ph->p_memsz;
    }
    return 1;   /* the first object is the executable itself */
}

/* Objects ld.so copied out of libc into our .bss (stdout, environ...):
 * they hold this process's values and must survive the reset. */
struct saved_object {
    void *where;
    size_t size;
    unsigned char bytes[64];
};

#define MAX_COPIED 64

static int save_copy_relocations(struct saved_object *saved, int *count)
{
    const ElfW(Rela) *rela = NULL;
    size_t rela_size = 0;
    const ElfW(Sym) *symbols = NULL;
    for (const ElfW(Dyn) *dyn = _DYNAMIC; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_RELA)
            rela = (const ElfW(Rela) *)dyn->d_un.d_ptr;
        else if (dyn->d_tag == DT_RELASZ)
            rela_size = dyn->d_un.d_val;
        else if (dyn->d_tag == DT_SYMTAB)
            symbols = (const ElfW(Sym) *)dyn->d_un.d_ptr;
    }
    *count = 0;
    for (size_t i = 0; rela != NULL && i < rela_size / sizeof *rela; i++) {
        if (ELF64_R_TYPE(rela[i].r_info) != R_X86_64_COPY)
            continue;
        size_t size = symbols[ELF64_R_SYM(rela[i].r_info)].st_size;
        if (*count == MAX_COPIED || size > sizeof saved->bytes)
            return -1;
        struct saved_object *object = &saved[(*count)++];
        object->where = (void *)rela[i].r_offset;
        object->size = size;
        memcpy(object->bytes, object->where, size);
    }
    return 0;
}

static int reset_data_segment(uintptr_t pristine, size_t pristine_size)
{
    struct data_segment segment = {0};
    dl_iterate_phdr(find_segment, &segment);
    struct saved_object saved[MAX_COPIED];
    int count;
    if (segment.start == 0 || save_copy_relocations(saved, &count) < 0)
        return -1;
    uintptr_t from = segment.relro_end > segment.start ? segment.relro_end : segment.start;
    uintptr_t file_end = segment.start + pristine_size;
    if (file_end > segment.end || from > file_end)
        return -1;
    /* No allocation may happen from here until the mode is set again. */
    memcpy((void *)from, (const void *)(pristine + (from - segment.start)), file_end - from);
    memset((void *)file_end, 0, segment.end - file_end);
    pf_malloc_use_libc();
    for (int i = 0; i < count; i++)
        memcpy(saved[i].where, saved[i].bytes, saved[i].size);
    return 0;
}

/* The image's spec is "key=value" lines; collect the values of one key. */
static int spec_values(const char *spec, size_t size, const char *key, char ***out)
{
    size_t key_length = strlen(key);
    int count = 0;
    char **values = malloc((size / 2 + 1) * sizeof(char *));
    if (values == NULL)
        return -1;
    const char *end = spec + size;
    for (const char *line = spec; line < end;) {
        const char *newline = memchr(line, '\n', (size_t)(end - line));
        const char *line_end = newline ? newline : end;
        if ((size_t)(line_end - line) > key_length && strncmp(line, key, key_length) == 0 &&
            line[key_length] == '=') {
            values[count++] = strndup(line + key_length + 1, (size_t)(line_end - line) - key_length - 1);
        }
        line = line_end + 1;
    }
    *out = values;
    return count;
}

int pf_cold_main(int argc, char **argv)
{
    unsetenv(PF_COLD_ENV);
    const char *spec = (const char *)(uintptr_t)pf_info.spec_addr;
    size_t spec_size = pf_info.spec_size;
    char **blocks;
    int block_count = spec_values(spec, spec_size, "block", &blocks);
    if (block_count < 0 ||
        reset_data_segment(pf_info.pristine_addr, pf_info.pristine_size) < 0) {
        fputs("pyfreeze: cold start of the image failed: cannot reset the data segment\n", stderr);
        return 1;
    }

    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
    if (pf_glue_cold_prepare(blocks, block_count) < 0) {
        PyErr_Print();
        return 1;
    }
    return Py_RunMain();
}
