#include "module_zone.h"

#include "malloc_family.h"

#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

#define ZONE_RUN (64 * 1024)
#define ZONE_RUNS 64

/* A run's blocks lie one after the other: block I of the zone starts at
 * block_starts[I], and a run's are block_starts[first, first + count).  A
 * block's size is where the next one starts, for a realloc that copies a
 * block out (a dead tuple made in the zone is reused from CPython's free
 * list and may be resized). */
static struct zone_run {
    uintptr_t start, used, end;
    size_t first, count;
} runs[ZONE_RUNS];
static uintptr_t *block_starts;
static size_t block_count, block_capacity;
static int run_count;
static int open_zone;
/* Set while ModuleType's tp_new runs: its first object allocation is the
 * module object (_PyType_AllocNoTrack), taken by pf_module_zone_take. */
static int module_pending;
static int packing;
static newfunc cpython_new;

/* importlib's ModuleSpec, whose instances a reveal's end writes too, and
 * the tp_alloc it had. */
static PyTypeObject *spec_type;
static allocfunc cpython_alloc;

static PyObject *zone_new(PyTypeObject *type, PyObject *args, PyObject *keywords)
{
    module_pending = open_zone;
    PyObject *module = cpython_new(type, args, keywords);
    module_pending = 0;
    return module;
}

static PyObject *zone_alloc(PyTypeObject *type, Py_ssize_t items)
{
    module_pending = open_zone;
    PyObject *object = cpython_alloc(type, items);
    module_pending = 0;
    return object;
}

/* importlib._bootstrap.ModuleSpec, new reference, or NULL (no exception). */
static PyTypeObject *module_spec_type(void)
{
    PyObject *bootstrap = PyImport_ImportModule("_frozen_importlib");
    PyObject *type = bootstrap != NULL ? PyObject_GetAttrString(bootstrap, "ModuleSpec") : NULL;
    Py_XDECREF(bootstrap);
    PyErr_Clear();
    if (type != NULL && !PyType_Check(type))
        Py_CLEAR(type);
    return (PyTypeObject *)type;
}

void pf_module_zone_open(void)
{
    if (open_zone)
        return;
    cpython_new = PyModule_Type.tp_new;
    PyModule_Type.tp_new = zone_new;
    spec_type = module_spec_type();
    if (spec_type != NULL) {
        cpython_alloc = spec_type->tp_alloc;
        spec_type->tp_alloc = zone_alloc;
    }
    pf_malloc_keep_blocks_of(pf_module_zone_owns, pf_module_zone_size);
    open_zone = 1;
}

void pf_module_zone_close(void)
{
    if (!open_zone)
        return;
    PyModule_Type.tp_new = cpython_new;
    if (spec_type != NULL)
        spec_type->tp_alloc = cpython_alloc;
    Py_CLEAR(spec_type);
    open_zone = 0;
    module_pending = 0;
    packing = 0;
}

/* A run with room for SIZE bytes: the last one, or a new one. */
static struct zone_run *run_with_room(size_t size)
{
    if (run_count > 0 && runs[run_count - 1].end - runs[run_count - 1].used >= size)
        return &runs[run_count - 1];
    if (run_count == ZONE_RUNS || size > ZONE_RUN)
        return NULL;
    void *memory = malloc(ZONE_RUN);
    if (memory == NULL)
        return NULL;
    runs[run_count] = (struct zone_run){(uintptr_t)memory, (uintptr_t)memory, (uintptr_t)memory + ZONE_RUN, 0, 0};
    return &runs[run_count++];
}

/* A run's blocks are taken one run at a time: each run's starts follow
 * the previous run's in block_starts. */
static int note_block_start(struct zone_run *run)
{
    if (block_count == block_capacity) {
        size_t capacity = block_capacity ? 2 * block_capacity : 1024;
        uintptr_t *grown = realloc(block_starts, capacity * sizeof *grown);
        if (grown == NULL)
            return -1;
        block_starts = grown;
        block_capacity = capacity;
    }
    if (run->count == 0)
        run->first = block_count;
    block_starts[block_count++] = run->used;
    run->count++;
    return 0;
}

void pf_module_zone_pack(int on)
{
    packing = on && open_zone;
}

void *pf_module_zone_take(size_t size)
{
    if (!module_pending && !packing)
        return NULL;
    module_pending = 0;
    size = (size + 15) & ~(size_t)15;
    struct zone_run *run = run_with_room(size);
    if (run == NULL || note_block_start(run) < 0)
        return NULL;
    void *block = (void *)run->used;
    run->used += size;
    return block;
}

static const struct zone_run *run_of(uintptr_t address)
{
    for (int i = 0; i < run_count; i++) {
        if (address >= runs[i].start && address < runs[i].end)
            return &runs[i];
    }
    return NULL;
}

size_t pf_module_zone_size(const void *ptr)
{
    uintptr_t address = (uintptr_t)ptr;
    const struct zone_run *run = run_of(address);
    if (run == NULL || run->count == 0)
        return 0;
    /* the first of the run's blocks that starts after ADDRESS */
    size_t low = run->first, high = run->first + run->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (block_starts[middle] <= address)
            low = middle + 1;
        else
            high = middle;
    }
    uintptr_t end = low < run->first + run->count ? block_starts[low] : run->used;
    return end - address;
}

int pf_module_zone_owns(const void *ptr)
{
    for (int i = 0; i < run_count; i++) {
        if ((uintptr_t)ptr >= runs[i].start && (uintptr_t)ptr < runs[i].end)
            return 1;
    }
    return 0;
}
