/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_SCHED_H_
#define _VPRIME_SCHED_H_

#include "vprime_job.h"

struct drm_device;
struct drm_file;
struct vprime_device;

int vprime_engine_init(struct vprime_device *vdev, unsigned int delay_ms, long timeout);
void vprime_engine_fini(struct vprime_device *vdev);
int vprime_file_open(struct drm_device *drm, struct drm_file *file);
void vprime_file_postclose(struct drm_device *drm, struct drm_file *file);
void vprime_job_init(struct vprime_job *job, struct vprime_device *vdev, struct vprime_file *vfile);
void vprime_job_free(struct vprime_job *job);
bool vprime_file_banned(struct vprime_file *vfile);
bool vprime_job_stopped(const struct vprime_job *job);

#endif /* _VPRIME_SCHED_H_ */
