/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_CMD_H_
#define _VPRIME_CMD_H_

#include "vprime_job.h"

int vprime_cmd_check(const struct drm_vprime_cmd *cmd, const struct vprime_job_bo *bos,
		     unsigned int num_bos);
int vprime_surface_check(const struct drm_vprime_submit_bo *desc, size_t size);
int vprime_cmd_execute(const struct drm_vprime_cmd *cmd, const struct vprime_job *job);

#endif /* _VPRIME_CMD_H_ */
