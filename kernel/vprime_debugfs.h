/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_DEBUGFS_H_
#define _VPRIME_DEBUGFS_H_

#include <linux/types.h>

struct drm_minor;

void vprime_debugfs_init(struct drm_minor *minor);

#endif /* _VPRIME_DEBUGFS_H_ */
