#ifndef PYFREEZE_RUNTIME_IMAGE_INFO_H
#define PYFREEZE_RUNTIME_IMAGE_INFO_H

#include "../common/error.h"
#include "../common/image_info.h"
#include "../common/manifest.h"

extern struct pf_image_info pf_info;

/* Reads the manifest this image carries (pf_manifest_release it, or keep
 * it for the life of the process). */
int pf_image_manifest(struct pf_manifest *manifest, struct pf_error *error);

#endif
