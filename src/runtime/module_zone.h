/* The freeze's module objects, packed on pages of their own.
 *
 * Each module a reveal hands over gets a reference from sys.modules, so
 * its object's page is written, and copied, in every run that imports it.
 * obmalloc puts a module object wherever its size class has a free block
 * at that moment, among the objects its own import made: a cgi image's
 * reveal wrote some thirty pages for its modules' objects alone.  While
 * the dump imports, the objects of the modules importlib creates
 * (ModuleType's tp_new) come from a zone of their own instead, a few
 * 64 KiB runs of the brk heap, one after the other in creation order; so
 * do their specs (importlib's ModuleSpec), whose count a reveal's end
 * writes as well. 
 *
 * A zone block is never reused: freeing one leaves it, and resizing one
 * copies it out (the dump's object-domain wrapper asks pf_module_zone_owns
 * first, and the runtime's free() and realloc() are told to,
 * pf_malloc_keep_blocks_of). */
#ifndef PYFREEZE_MODULE_ZONE_H
#define PYFREEZE_MODULE_ZONE_H

#include <stddef.h>

/* In the dump, once the interpreter is initialised and before the
 * imports: ModuleType's tp_new starts taking its objects from the zone. */
void pf_module_zone_open(void);

/* In the dump, before the checkpoint: ModuleType's tp_new is CPython's
 * again, for the image's runs. */
void pf_module_zone_close(void);

/* In the dump, while ON: every object goes to the zone, in the order
 * made, for data a reveal reads together (lazy_modules' "types" events). */
void pf_module_zone_pack(int on);

/* For the dump's object allocator: a zone block of SIZE bytes when the
 * allocation is a module object's, else NULL (obmalloc serves it). */
void *pf_module_zone_take(size_t size);

/* The size asked for the zone block at PTR. */
size_t pf_module_zone_size(const void *ptr);

/* Whether PTR lies in the zone. */
int pf_module_zone_owns(const void *ptr);

#endif
