#define _GNU_SOURCE
/* The runtime's copy of the handshake record (see image_info.h) and the
 * reserved program-header slot. */
#include "image_info.h"

#include "../common/image_info.h"

#include <stdint.h>

__attribute__((section(PF_INFO_SECTION), used, aligned(64)))
struct pf_image_info pf_info = {
    .magic = PF_INFO_MAGIC,
    .version = PF_INFO_VERSION,
    .state = PF_STATE_PRISTINE,
};

int pf_image_manifest(struct pf_manifest *manifest, struct pf_error *error)
{
    return pf_manifest_read((const char *)(uintptr_t)pf_info.manifest_addr, pf_info.manifest_size, manifest, error);
}

/* Contents are irrelevant; the section only has to exist, away from the
 * rest, so the linker emits a PT_LOAD for it (see meson.build). */
__attribute__((section(PF_SLOT_SECTION), used, aligned(4096)))
static const volatile char slot[4096] = {1};
