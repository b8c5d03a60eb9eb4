#ifndef PYFREEZE_RUNTIME_IMAGE_INFO_H
#define PYFREEZE_RUNTIME_IMAGE_INFO_H

#include "../common/image_info.h"

extern struct pf_image_info pf_info;

#endif
