/* The handshake between the tracer and the runtime, and the record an image
 * carries about itself.  It lives in its own ELF section so the tracer finds
 * it by section name in the runtime file and reads it from the stopped child
 * at that (non-PIE, hence fixed) address, and `pyfreeze info` finds it again
 * in an image.  Both sides compile this header, so the layout is the
 * contract: bump PF_INFO_VERSION on any change. */
#ifndef PYFREEZE_IMAGE_INFO_H
#define PYFREEZE_IMAGE_INFO_H

#include <stdint.h>

#define PF_INFO_SECTION ".pyfreeze_info"
#define PF_INFO_MAGIC "pyfreeze-info\0\0"
#define PF_INFO_VERSION 5u

/* A section placed far from the rest of the runtime so the linker gives it
 * its own PT_LOAD header; the image writer re-targets that header at the
 * frozen heap and the image's extra data.  Reserving it at link time means
 * the program header table never has to grow. */
#define PF_SLOT_SECTION ".pyfreeze_slot"

enum pf_state {
    PF_STATE_PRISTINE = 0,   /* a runtime that has never been dumped */
    PF_STATE_CHECKPOINT = 1, /* dump child stopped, memory ready to read */
    PF_STATE_FAILED = 2,     /* dump child stopped after an error */
    PF_STATE_IMAGE = 3,      /* written into an image by the tracer */
};

/* Why a dump failed; the tracer maps these to exit statuses. */
enum pf_failure {
    PF_FAIL_NONE = 0,
    PF_FAIL_IMPORT = 1,      /* a module raised while being imported */
    PF_FAIL_NATIVE = 2,      /* a module loaded a native extension */
    PF_FAIL_STATE = 3,       /* process state that cannot be frozen */
    PF_FAIL_INTERNAL = 4,    /* the runtime itself failed */
    PF_FAIL_CPYTHON = 5,     /* not the CPython pyfreeze was written for */
};

#define PF_ERROR_MAX 2048

/* A module file the frozen heap was built from, as it was at the dump.
 * The array lives in the frozen heap; an image whose files changed steps
 * aside to a cold start. */
struct pf_file_stamp {
    uint64_t path;       /* address of a NUL-terminated path */
    int64_t mtime_ns;
    uint64_t size;
};

/* A shared library the dump loaded (an extension module or a library it
 * needs), in load order; the array lives in the frozen heap.  An image
 * loads each again at `base` (ASLR off) before it restores anything. */
#define PF_LIBRARY_RANGES 4
struct pf_library {
    uint64_t path;       /* address of a NUL-terminated path */
    uint64_t base;       /* load bias (link_map l_addr) */
    int64_t mtime_ns;
    uint64_t size;
    uint32_t range_count;
    uint32_t flags;      /* PF_LIBRARY_* */
    struct {
        uint64_t start, size;   /* writable, non-RELRO state to carry over */
    } ranges[PF_LIBRARY_RANGES];
};

/* The library defines rl_initialize() (GNU readline, or libedit's
 * emulation of it), which reads TERM, INPUTRC and ~/.inputrc into the
 * library's state when the readline module initialises it. */
#define PF_LIBRARY_TERMINAL_SETTINGS 1u

/* A saved copy of library state in the image: `size` bytes at `saved`
 * are copied to `target` once the library is loaded again. */
struct pf_saved_range {
    uint64_t target, size, saved;
};

/* The pages of the runtime's data and of the frozen heap that a warm start
 * of the image writes, as runs of whole pages, in address order: a
 * training run at the freeze finds them, and a warm start has them copied
 * ahead of its writes (src/runtime/prefault.h).  Lives in the runtime's
 * data; empty until the freeze fills it in. */
#define PF_PREFAULT_RUNS 2048
/* The training run: PYFREEZE_TRAIN=FD; it exits PF_TRAIN_COLD instead of
 * starting cold. */
#define PF_TRAIN_ENV "PYFREEZE_TRAIN"
#define PF_TRAIN_COLD 8
struct pf_prefault_run {
    uint32_t first_page;     /* address / 4096 */
    uint32_t pages;
};
struct pf_prefault_table {
    uint32_t count;
    uint32_t pages;          /* in all runs */
    struct pf_prefault_run runs[PF_PREFAULT_RUNS];
};

struct pf_image_info {
    char magic[16];
    uint32_t version;
    uint32_t state;           /* enum pf_state */
    uint32_t failure;         /* enum pf_failure */
    uint32_t pthread_keys;    /* keys in use at the checkpoint */
    uint64_t heap_start;      /* frozen heap, [start, end) */
    uint64_t heap_end;
    uint64_t tstate;          /* the main PyThreadState at the checkpoint */
    uint64_t hash_seed;       /* PYTHONHASHSEED the heap was built with */
    /* Filled in by the image writer. */
    uint64_t pristine_addr;   /* runtime's own data bytes, for a cold start */
    uint64_t pristine_size;
    uint64_t manifest_addr;   /* the manifest (src/common/manifest.h) */
    uint64_t manifest_size;
    uint64_t stamps;          /* struct pf_file_stamp[stamp_count], in the heap */
    uint32_t stamp_count;
    uint32_t module_count;    /* entries of sys.modules at the checkpoint */
    uint64_t libraries;       /* struct pf_library[library_count], in the heap */
    uint32_t library_count;
    uint32_t saved_range_count;
    uint64_t saved_ranges;    /* struct pf_saved_range[], written by the tracer */
    uint64_t inputs;          /* "env NAME\n" / "read PATH\n" lines: what the */
    uint64_t inputs_size;     /* imports read, in the heap (shown by info)  */
    uint64_t prefault_table;  /* struct pf_prefault_table, in the data segment */
    char python_version[16];  /* PY_VERSION of the runtime */
    char fs_encoding[32];     /* filesystem encoding baked into the heap */
    char fs_errors[32];
    char error[PF_ERROR_MAX]; /* failure message, one line */
};

#endif
