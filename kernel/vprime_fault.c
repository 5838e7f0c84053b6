// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: fault injection
 *
 * The driver's failure paths are reached on purpose through named
 * injection points (&enum vprime_fault_id): where a point fails, the code
 * behaves as the real failure it stands for would, with the same errno.
 * Everything is in debugfs, root only, under /sys/kernel/debug/vprime/:
 *
 * - fault/<point>/: probability, interval, times, space and verbose, as the
 *   kernel's fault_attr has them (and, on kernels with
 *   CONFIG_FAULT_INJECTION_DEBUG_FS, the kernel's own files, task-filter
 *   and the rest). These apply to every task.
 * - fault/nth: the deterministic sweep of one task. A thread opens it and
 *   writes N: from then on the points it hits are counted, and the N-th
 *   fails (0: count only, a negative number: stop). Reading the same open
 *   file gives the hits, the point that failed, the sweeps armed in the
 *   system and the hits per point.
 *   Only the thread that wrote is affected; closing the file stops the
 *   sweep (a thread's exit closes it only if no other task shares the
 *   fd). Work a job does on the engine's workqueue is attributed to the
 *   task that submitted it: the job keeps the task's sweep tag
 *   (vprime_fault_tag()).
 * - delay/: job_cleanup_ms (also the module parameter job_cleanup_delay_ms),
 *   compose_ms, commit_work_ms (before a nonblocking commit's worker;
 *   each at most 10 s), and vblank_us (a busy wait in the vblank timer, at
 *   most 2 ms), to open race windows.
 *
 * A point costs two reads while no sweep is armed and its probability is 0.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "vprime_fault.h"

/*
 * The longest busy wait the vblank delay makes: half the shortest frame
 * (240 Hz), so the timer is never due again when its callback returns.
 */
#define VPRIME_VBLANK_DELAY_MAX_US	2000u
/* The longest sleep the other delays make. */
#define VPRIME_DELAY_MAX_MS		10000u

#define VPRIME_FAULT_POINT(id, n) \
	[id] = { .name = (n), .attr = VPRIME_FAULT_ATTR_INITIALIZER }

struct vprime_fault_point vprime_fault_points[VPRIME_FAULT_COUNT] = {
	VPRIME_FAULT_POINT(VPRIME_FAULT_STORAGE_ALLOC, "storage_alloc"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_SGT_BUILD, "sgt_build"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_DMA_MAP, "dma_map"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_MIGRATE_COPY, "migrate_copy"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_FENCE_ALLOC, "fence_alloc"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_JOB_ALLOC, "job_alloc"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_JOB_EXEC, "job_exec"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_SCANOUT_PIN, "scanout_pin"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_ATTACH, "attach"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_EXPORT, "export"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_VMAP, "vmap"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_VRAM_ALLOC, "vram_alloc"),
	VPRIME_FAULT_POINT(VPRIME_FAULT_IOVA_ALLOC, "iova_alloc"),
};

/* The sweeps armed now: while there are none, points skip the lookup. */
atomic_t vprime_fault_nth_armed = ATOMIC_INIT(0);

unsigned int vprime_delays[VPRIME_DELAY_COUNT];
module_param_named(job_cleanup_delay_ms, vprime_delays[VPRIME_DELAY_JOB_CLEANUP], uint, 0600);
MODULE_PARM_DESC(job_cleanup_delay_ms,
		 "Testing: delay the release of finished jobs' buffers, in ms (default 0)");

static const char * const delay_names[VPRIME_DELAY_COUNT] = {
	[VPRIME_DELAY_JOB_CLEANUP] = "job_cleanup_ms",
	[VPRIME_DELAY_COMPOSE] = "compose_ms",
	[VPRIME_DELAY_VBLANK] = "vblank_us",
	[VPRIME_DELAY_COMMIT_WORK] = "commit_work_ms",
};

static struct dentry *vprime_debugfs_root;

/**
 * struct vprime_fault_nth - one task's sweep, the state of an open fault/nth
 * @link: the entry in nth_list while armed
 * @owner: the thread that armed it, referenced
 * @tag: names this arming for work done on the thread's behalf
 * @nth: the hit that fails; 0: none
 * @hits: the points hit since it was armed
 * @point_hits: the hits of each point
 * @failed: the point that failed, or -1
 * @armed: it is on nth_list
 */
struct vprime_fault_nth {
	struct list_head link;
	struct pid *owner;
	u64 tag;
	unsigned long nth;
	unsigned long hits;
	unsigned long point_hits[VPRIME_FAULT_COUNT];
	int failed;
	bool armed;
};

/* Protects nth_list and every armed &vprime_fault_nth; task context only. */
static DEFINE_SPINLOCK(nth_lock);
static LIST_HEAD(nth_list);
static atomic64_t nth_next_tag = ATOMIC64_INIT(0);

/* The armed sweep that @tag names, or the current thread's for 0. */
static struct vprime_fault_nth *vprime_fault_nth_find_locked(u64 tag)
{
	struct pid *pid = task_pid(current);
	struct vprime_fault_nth *n;

	lockdep_assert_held(&nth_lock);
	list_for_each_entry(n, &nth_list, link)
		if (tag ? n->tag == tag : n->owner == pid)
			return n;
	return NULL;
}

static bool vprime_fault_nth_hit(enum vprime_fault_id id, u64 tag)
{
	struct vprime_fault_nth *n;
	bool fail = false;

	if (!in_task())
		return false;
	spin_lock(&nth_lock);
	n = vprime_fault_nth_find_locked(tag);
	if (n) {
		n->hits++;
		n->point_hits[id]++;
		if (n->nth && n->hits == n->nth) {
			n->failed = id;
			fail = true;
		}
	}
	spin_unlock(&nth_lock);
	return fail;
}

/**
 * vprime_fault_hit - a point is hit while it may fail: decide
 * @id: the point
 * @tag: vprime_fault_tag() of the task the work is done for, or 0 for the
 *	current task
 *
 * The sweep of the task decides first, then the point's fault attributes.
 *
 * Returns: true when the point fails.
 */
bool vprime_fault_hit(enum vprime_fault_id id, u64 tag)
{
	struct vprime_fault_point *p = &vprime_fault_points[id];

	if (atomic_read(&vprime_fault_nth_armed) && vprime_fault_nth_hit(id, tag))
		return true;
	return READ_ONCE(p->attr.probability) && vprime_compat_should_fail(&p->attr);
}

/**
 * vprime_fault_tag - the current thread's sweep, for work done on its behalf
 *
 * Returns: a tag for vprime_should_fail_tagged(), or 0 when the thread has
 * no sweep armed.
 */
u64 vprime_fault_tag(void)
{
	struct vprime_fault_nth *n;
	u64 tag = 0;

	if (!atomic_read(&vprime_fault_nth_armed) || !in_task())
		return 0;
	spin_lock(&nth_lock);
	n = vprime_fault_nth_find_locked(0);
	if (n)
		tag = n->tag;
	spin_unlock(&nth_lock);
	return tag;
}

/**
 * __vprime_fault_delay - wait as a delay says
 * @id: the delay
 * @value: its value, not 0
 */
void __vprime_fault_delay(enum vprime_delay_id id, unsigned int value)
{
	if (id == VPRIME_DELAY_VBLANK)
		udelay(min(value, VPRIME_VBLANK_DELAY_MAX_US));
	else
		msleep(min(value, VPRIME_DELAY_MAX_MS));
}

/**
 * vprime_fault_fallback_should_fail - should_fail() for kernels without it
 * @attr: the point's attributes
 *
 * As the kernel's: no failure once @times is used up (unless it is -1),
 * while @space lasts, or between every @interval-th hit; otherwise one with
 * a chance of @probability percent.
 *
 * Returns: true when the point fails.
 */
bool vprime_fault_fallback_should_fail(struct vprime_fault_attr_fallback *attr)
{
	if (!atomic_read(&attr->times))
		return false;
	if (atomic_read(&attr->space) > 1) {
		atomic_dec(&attr->space);
		return false;
	}
	if (READ_ONCE(attr->interval) > 1 &&
	    atomic_inc_return(&attr->count) % READ_ONCE(attr->interval))
		return false;
	if (READ_ONCE(attr->probability) <= get_random_u32() % 100)
		return false;
	if (atomic_read(&attr->times) != -1)
		atomic_add_unless(&attr->times, -1, 0);
	if (READ_ONCE(attr->verbose)) {
		pr_notice_ratelimited("vprime: FAULT_INJECTION: forcing a failure\n");
		if (READ_ONCE(attr->verbose) > 1)
			dump_stack();
	}
	return true;
}

/**
 * vprime_fault_fallback_debugfs - the fault_attr files of a point, for
 *	kernels without CONFIG_FAULT_INJECTION_DEBUG_FS
 * @name: the point's name: its directory
 * @parent: where the directory goes
 * @attr: the point's attributes
 */
void vprime_fault_fallback_debugfs(const char *name, struct dentry *parent,
				   struct vprime_fault_attr_fallback *attr)
{
	struct dentry *dir = debugfs_create_dir(name, parent);

	debugfs_create_ulong("probability", 0600, dir, &attr->probability);
	debugfs_create_ulong("interval", 0600, dir, &attr->interval);
	debugfs_create_atomic_t("times", 0600, dir, &attr->times);
	debugfs_create_atomic_t("space", 0600, dir, &attr->space);
	debugfs_create_ulong("verbose", 0600, dir, &attr->verbose);
}

/*
 * "hits: H\nfailed: NAME|-\narmed: A\n" (A: the sweeps armed in the
 * system) and a line "NAME: HITS" per point.
 */
static int vprime_fault_nth_show(struct seq_file *m, void *unused)
{
	struct vprime_fault_nth *n = m->private;
	int i;

	spin_lock(&nth_lock);
	seq_printf(m, "hits: %lu\nfailed: %s\narmed: %d\n", n->hits,
		   n->failed >= 0 ? vprime_fault_points[n->failed].name : "-",
		   atomic_read(&vprime_fault_nth_armed));
	for (i = 0; i < VPRIME_FAULT_COUNT; i++)
		seq_printf(m, "%s: %lu\n", vprime_fault_points[i].name, n->point_hits[i]);
	spin_unlock(&nth_lock);
	return 0;
}

static int vprime_fault_nth_open(struct inode *inode, struct file *file)
{
	struct vprime_fault_nth *n = kzalloc_obj(*n, GFP_KERNEL);
	int ret;

	if (!n)
		return -ENOMEM;
	n->failed = -1;
	ret = single_open(file, vprime_fault_nth_show, n);
	if (ret)
		kfree(n);
	return ret;
}

static void vprime_fault_nth_disarm_locked(struct vprime_fault_nth *n)
{
	lockdep_assert_held(&nth_lock);
	if (!n->armed)
		return;
	list_del(&n->link);
	n->armed = false;
	atomic_dec(&vprime_fault_nth_armed);
}

static ssize_t vprime_fault_nth_write(struct file *file, const char __user *buf, size_t len,
				      loff_t *ppos)
{
	struct vprime_fault_nth *n = ((struct seq_file *)file->private_data)->private;
	struct pid *old;
	long nth;
	int ret;

	ret = kstrtol_from_user(buf, len, 0, &nth);
	if (ret)
		return ret;
	spin_lock(&nth_lock);
	vprime_fault_nth_disarm_locked(n);
	old = n->owner;
	n->owner = NULL;
	if (nth >= 0) {
		/* A thread has one sweep: arming this one ends any other. */
		struct vprime_fault_nth *other = vprime_fault_nth_find_locked(0);

		if (other)
			vprime_fault_nth_disarm_locked(other);
		n->owner = get_pid(task_pid(current));
		n->tag = atomic64_inc_return(&nth_next_tag);
		n->nth = nth;
		n->hits = 0;
		memset(n->point_hits, 0, sizeof(n->point_hits));
		n->failed = -1;
		n->armed = true;
		list_add_tail(&n->link, &nth_list);
		atomic_inc(&vprime_fault_nth_armed);
	}
	spin_unlock(&nth_lock);
	put_pid(old);
	return len;
}

static int vprime_fault_nth_release(struct inode *inode, struct file *file)
{
	struct vprime_fault_nth *n = ((struct seq_file *)file->private_data)->private;

	spin_lock(&nth_lock);
	vprime_fault_nth_disarm_locked(n);
	spin_unlock(&nth_lock);
	put_pid(n->owner);
	kfree(n);
	return single_release(inode, file);
}

static const struct file_operations vprime_fault_nth_fops = {
	.owner = THIS_MODULE,
	.open = vprime_fault_nth_open,
	.read = seq_read,
	.write = vprime_fault_nth_write,
	.release = vprime_fault_nth_release,
	.llseek = seq_lseek,
};

/**
 * vprime_fault_init - create the fault-injection and delay files in debugfs
 */
void vprime_fault_init(void)
{
	struct dentry *fault, *delay;
	unsigned int i;

	vprime_debugfs_root = debugfs_create_dir("vprime", NULL);
	fault = debugfs_create_dir("fault", vprime_debugfs_root);
	for (i = 0; i < VPRIME_FAULT_COUNT; i++) {
		/* One line per failure, without the stack. */
		vprime_fault_points[i].attr.verbose = 1;
		vprime_compat_fault_debugfs(vprime_fault_points[i].name, fault,
					    &vprime_fault_points[i].attr);
	}
	debugfs_create_file("nth", 0600, fault, NULL, &vprime_fault_nth_fops);
	delay = debugfs_create_dir("delay", vprime_debugfs_root);
	for (i = 0; i < VPRIME_DELAY_COUNT; i++)
		debugfs_create_u32(delay_names[i], 0600, delay, &vprime_delays[i]);
}

/**
 * vprime_fault_fini - remove what vprime_fault_init() created
 */
void vprime_fault_fini(void)
{
	debugfs_remove_recursive(vprime_debugfs_root);
}
