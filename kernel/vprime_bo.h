/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_BO_H_
#define _VPRIME_BO_H_

#include <linux/types.h>

struct vprime_attachment;
struct vprime_bo;
struct vprime_constraints;
struct vprime_storage;

int vprime_bo_place_locked(struct vprime_bo *bo, struct vprime_attachment *requester,
			   bool may_move);
int vprime_bo_evict_locked(struct vprime_bo *bo, bool wait);
int vprime_bo_check_attach_locked(struct vprime_bo *bo, const struct vprime_constraints *c);
int vprime_bo_wait_idle(struct vprime_bo *bo, unsigned long deadline);
int vprime_bo_wait_jobs(struct vprime_bo *bo, unsigned long deadline);
void vprime_bo_mapping_dropped(struct vprime_bo *bo);
struct vprime_bo *vprime_bo_storage_owner(struct vprime_bo *bo);
int vprime_bo_pin_waiting(struct vprime_bo *bo);
unsigned int vprime_bo_pin_count_locked(struct vprime_bo *bo);
int vprime_bo_pin_locked(struct vprime_bo *bo);
void vprime_bo_unpin_locked(struct vprime_bo *bo);
void vprime_bo_free_storage(struct vprime_bo *bo, struct vprime_storage *s);

#endif /* _VPRIME_BO_H_ */
