// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-bench: vprime measured against the in-tree drivers (vgem, vkms) or
 * against plain userspace doing the same work, in the same boot, so that
 * the noise of a shared, emulated machine mostly cancels out in the ratio.
 * Each metric runs --reps times, alternating vprime and its anchor; the
 * median, minimum and maximum of each side are reported, with the ratio of
 * the medians (vprime / anchor) and whether it meets the goal of issue 16.
 *
 * A table goes to stdout, a progress line per metric to stderr, and the
 * results to the JSON file of --json. The bench reports, it never judges
 * timings: the exit status is 0 when every measurement could be made, 1
 * when one failed (its values are null, its note says why), 2 on a usage
 * error. A metric a driver cannot do (a plane it does not have) is null
 * with a note, and is not a failure.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <linux/dma-buf.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "display.h"
#include "tool.h"

#define MAX_REPS	32
#define MAX_VALS	16
#define MiB		(1024.0 * 1024.0)
#define SZ_64M		(64u << 20)
#define FENCE_MS	10000

static int reps = 5;
static int compose_frames = 30, vblank_frames = 600;
static const char *only;
static bool failed;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What one side of a metric runs on. */
enum kind { K_VPRIME, K_DUMB, K_ANON, K_NONE };

struct target {
	const char *name;	/* "vprime.0", "vgem", "vkms", "anonymous memory", "memcpy" */
	enum kind kind;
	uint64_t size;		/* bytes, where the metric has a size */
	int planes;		/* compose: planes to show */
	int frames;		/* compose: frames per repetition */
	bool flips_only;	/* compose: no writeback job after the first frame */
};

/* The values of one side over the repetitions, or why there are none. */
struct series {
	double v[MAX_REPS];
	int n;
	char why[200];		/* set when a repetition failed or cannot be done */
	bool unsupported;	/* the driver cannot do it: not a failure */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double med, min, max;
	bool ok;
};

static struct stats stats_of(const struct series *s)
{
	struct stats st = { NAN, NAN, NAN, false };
	double v[MAX_REPS];

	if (!s->n || s->why[0])
		return st;
	memcpy(v, s->v, sizeof(v[0]) * s->n);
	qsort(v, s->n, sizeof(v[0]), cmp_double);
	st.min = v[0];
	st.max = v[s->n - 1];
	st.med = s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
	st.ok = true;
	return st;
}

/* A metric's function fills @vals (one per value the metric has) or returns -errno. */
typedef int (*bench_fn)(const struct target *t, double *vals, char *why, size_t len);

/*
 * Run @fn on each of @n targets, alternating, --reps times; out[i][k] gets
 * target i's value k. The first failure of a target stops its repetitions.
 * Each repetition starts one target later than the one before (vprime
 * first, then the anchor first, ...): under TCG whatever runs first after
 * a pause pays for the emulator's state (its software TLB shrinks when
 * little is used, and grows back), and a fixed order gave that cost to
 * vprime every time.
 */
static void run_reps(const char *label, bench_fn fn, int nvals, struct target *const *t, int n,
		     struct series out[][MAX_VALS])
{
	double t0 = now();

	for (int i = 0; i < n; i++)
		for (int k = 0; k < nvals; k++)
			memset(&out[i][k], 0, sizeof(out[i][k]));
	for (int r = 0; r < reps; r++) {
		for (int j = 0; j < n; j++) {
			int i = (j + r) % n;
			double vals[MAX_VALS];
			char why[200] = "";
			int ret;

			if (!t[i] || out[i][0].why[0])
				continue;
			ret = fn(t[i], vals, why, sizeof(why));
			for (int k = 0; k < nvals; k++) {
				struct series *s = &out[i][k];

				if (ret) {
					snprintf(s->why, sizeof(s->why), "%s: %.150s", t[i]->name,
						 why[0] ? why : strerror(-ret));
					s->unsupported = ret == -EOPNOTSUPP;
					if (k == 0)
						fprintf(stderr, "bench: %s: %s\n", label, s->why);
				} else {
					s->v[s->n++] = vals[k];
				}
			}
		}
		fprintf(stderr, "bench: %s: repetition %d/%d done (%.1f s)\n", label, r + 1, reps,
			now() - t0);
	}
}

/* The rows of the report. */
enum goal { G_NONE, G_GE, G_LE, G_ZERO };

struct row {
	char metric[48];
	const char *unit;
	struct stats vp, an, lim;
	const char *anchor_driver, *limit_what;
	enum goal goal;
	double goal_value;
	char goal_text[64];
	double ratio;
	int met;		/* 1, 0, -1: cannot say */
	int reps;		/* vprime's repetitions made */
	char note[2048];
};

static struct row rows[64];
static int nrows;

static void note_add(struct row *r, const char *fmt, ...)
{
	size_t len = strlen(r->note);
	va_list ap;

	if (len && len < sizeof(r->note) - 2) {
		strcat(r->note, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(r->note + len, sizeof(r->note) - len, fmt, ap);
	va_end(ap);
}

static void series_note(struct row *r, const struct series *s)
{
	if (!s || !s->why[0])
		return;
	note_add(r, "%s%s", s->unsupported ? "not measurable: " : "failed: ", s->why);
	if (!s->unsupported)
		failed = true;
}

static const char *unit_fmt(double v)
{
	return fabs(v) >= 100 || v == 0 ? "%.0f" : fabs(v) >= 1 ? "%.2f" : "%.4f";
}

/*
 * Add a row from the series of vprime, the anchor and (optionally) the
 * limit; the ratio is vprime's median over the anchor's.
 */
static struct row *add_row(const char *metric, const char *unit, const struct series *vp,
			   const struct series *an, const char *anchor_driver,
			   const struct series *lim, const char *limit_what, enum goal goal,
			   double goal_value, const char *note)
{
	struct row *r = &rows[nrows++];

	memset(r, 0, sizeof(*r));
	snprintf(r->metric, sizeof(r->metric), "%s", metric);
	r->unit = unit;
	r->vp = vp ? stats_of(vp) : (struct stats){ NAN, NAN, NAN, false };
	r->an = an ? stats_of(an) : (struct stats){ NAN, NAN, NAN, false };
	r->lim = lim ? stats_of(lim) : (struct stats){ NAN, NAN, NAN, false };
	r->reps = vp ? vp->n : 0;
	r->anchor_driver = anchor_driver;
	r->limit_what = limit_what;
	r->goal = goal;
	r->goal_value = goal_value;
	r->ratio = r->vp.ok && r->an.ok && r->an.med != 0 ? r->vp.med / r->an.med : NAN;
	switch (goal) {
	case G_GE:
		snprintf(r->goal_text, sizeof(r->goal_text), "ratio >= %.1f", goal_value);
		r->met = isnan(r->ratio) ? -1 : r->ratio >= goal_value;
		break;
	case G_LE:
		snprintf(r->goal_text, sizeof(r->goal_text), "ratio <= %.1f", goal_value);
		r->met = isnan(r->ratio) ? -1 : r->ratio <= goal_value;
		break;
	case G_ZERO:
		snprintf(r->goal_text, sizeof(r->goal_text), "vprime = 0");
		r->met = r->vp.ok ? r->vp.max == 0 : -1;
		break;
	default:
		r->met = -1;
		break;
	}
	series_note(r, vp);
	series_note(r, an);
	series_note(r, lim);
	if (note)
		note_add(r, "%s", note);
	{
		char v[32] = "-", a[32] = "-";

		if (r->vp.ok)
			snprintf(v, sizeof(v), unit_fmt(r->vp.med), r->vp.med);
		if (r->an.ok)
			snprintf(a, sizeof(a), unit_fmt(r->an.med), r->an.med);
		fprintf(stderr, "bench: %-28s vprime %s, %s %s %s; ratio %.2f%s\n", metric, v,
			anchor_driver ? anchor_driver : "anchor", a, unit, r->ratio,
			r->met == 1 ? " (goal met)" : r->met == 0 ? " (goal missed)" : "");
	}
	return r;
}

/*
 * Whether --only (comma-separated prefixes) selects @metric, or some metric
 * whose name starts with @metric.
 */
static bool wanted(const char *metric)
{
	size_t a = strlen(metric);

	if (!only)
		return true;
	for (const char *p = only; *p;) {
		size_t b = strcspn(p, ",");

		if (b && !strncmp(metric, p, a < b ? a : b))
			return true;
		p += b + (p[b] == ',');
	}
	return false;
}

/* ---- small helpers ---- */

static int gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c) ? -errno : 0;
}

static int dumb(int fd, uint32_t w, uint32_t h, uint32_t *handle, uint32_t *pitch,
		uint64_t *size)
{
	struct drm_mode_create_dumb c = { .width = w, .height = h, .bpp = 32 };

	if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		return -errno;
	*handle = c.handle;
	if (pitch)
		*pitch = c.pitch;
	if (size)
		*size = c.size;
	return 0;
}

static int dumb_map(int fd, uint32_t handle, uint64_t size, void **map)
{
	struct drm_mode_map_dumb m = { .handle = handle };

	if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m))
		return -errno;
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
	return *map == MAP_FAILED ? -errno : 0;
}

/* A buffer of @size on @t: a vprime GEM object, a dumb buffer or anonymous memory. */
struct buf {
	int fd;
	uint32_t handle;
	uint64_t size;
	void *map;
};

static int buf_create(const struct target *t, uint64_t size, struct buf *b)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->size = size;
	if (t->kind == K_ANON) {
		b->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0);
		return b->map == MAP_FAILED ? (b->map = NULL, -errno) : 0;
	}
	b->fd = open_device(t->name, t->kind == K_DUMB);
	if (b->fd < 0)
		return b->fd;
	if (t->kind == K_VPRIME)
		ret = vprime_create(b->fd, size, &b->handle);
	else		/* 4096 pixels of 4 bytes a row: any multiple of 16 KiB */
		ret = dumb(b->fd, 4096, (uint32_t)(size / 16384), &b->handle, NULL, &b->size);
	if (ret) {
		close(b->fd);
		b->fd = -1;
	}
	return ret;
}

/* Map @b through its driver's own mmap. */
static int buf_map(struct buf *b, const struct target *t)
{
	if (t->kind == K_ANON)
		return 0;
	if (t->kind == K_VPRIME)
		return vprime_mmap(b->fd, b->handle, b->size, &b->map);
	return dumb_map(b->fd, b->handle, b->size, &b->map);
}

static void buf_destroy(struct buf *b)
{
	if (b->map)
		munmap(b->map, b->size);
	if (b->fd >= 0) {
		gem_close(b->fd, b->handle);
		close(b->fd);
	}
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

static volatile uint64_t sink;

static void touch_all(void *p, uint64_t size, uint8_t v)
{
	memset(p, v, size);
}

static uint64_t read_all(const void *p, uint64_t size)
{
	const uint64_t *q = p;
	uint64_t s = 0;

	for (uint64_t i = 0; i < size / 8; i += 4)
		s += q[i] ^ q[i + 1] ^ q[i + 2] ^ q[i + 3];
	return s;
}

/* ---- prime_roundtrip ---- */

/* "vprime.0>vprime.1": exporter and importer. */
static int bench_roundtrip(const struct target *t, double *vals, char *why, size_t len)
{
	char exp_name[32], *imp_name;
	int efd, ifd, ret = 0;
	unsigned long n = 0;
	double t0, el;

	snprintf(exp_name, sizeof(exp_name), "%s", t->name);
	imp_name = strchr(exp_name, '>');
	if (!imp_name)
		return -EINVAL;
	*imp_name++ = '\0';
	efd = open_device(exp_name, true);
	if (efd < 0)
		return efd;
	ifd = open_device(imp_name, false);
	if (ifd < 0) {
		close(efd);
		return ifd;
	}
	t0 = now();
	do {
		for (int k = 0; k < 32 && !ret; k++, n++) {
			uint32_t h = 0, ih = 0;
			int dmabuf;

			ret = dumb(efd, 128, 128, &h, NULL, NULL);	/* 64 KiB */
			if (ret) {
				snprintf(why, len, "dumb create: %s", strerror(-ret));
				break;
			}
			if (drmPrimeHandleToFD(efd, h, DRM_CLOEXEC | DRM_RDWR, &dmabuf)) {
				ret = -errno;
				snprintf(why, len, "export: %s", strerror(errno));
			} else {
				if (drmPrimeFDToHandle(ifd, dmabuf, &ih)) {
					ret = -errno;
					snprintf(why, len, "import: %s", strerror(errno));
				} else {
					gem_close(ifd, ih);
				}
				close(dmabuf);
			}
			gem_close(efd, h);
		}
		el = now() - t0;
	} while (!ret && el < 1.0);
	close(ifd);
	close(efd);
	vals[0] = n / el;
	return ret;
}

/* ---- bytes_per_object ---- */

#define NUM_OBJECTS	10000

/* Bytes in use in every slab cache (/proc/slabinfo: active objects x size). */
static int64_t slab_bytes(void)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512], name[128];
	long active, num, size;
	int64_t total = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %ld %ld %ld", name, &active, &num, &size) == 4)
			total += (int64_t)active * size;
	fclose(f);
	return total;
}

/* Kernel memory in /proc/meminfo: Slab + VmallocUsed + PageTables + KernelStack, bytes. */
static int64_t meminfo_kernel_bytes(void)
{
	static const char *const keys[] = { "Slab:", "VmallocUsed:", "PageTables:",
					     "KernelStack:" };
	FILE *f = fopen("/proc/meminfo", "r");
	char key[64];
	long kb;
	int64_t total = 0;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld kB\n", key, &kb) == 2)
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(key, keys[i]))
				total += (int64_t)kb * 1024;
	fclose(f);
	return total;
}

static int bench_objects(const struct target *t, double *vals, char *why, size_t len)
{
	static uint32_t handles[NUM_OBJECTS];
	int64_t s0, m0, s1, m1;
	int fd = open_device(t->name, true), ret = 0, n = 0;

	if (fd < 0)
		return fd;
	s0 = slab_bytes();
	m0 = meminfo_kernel_bytes();
	for (; n < NUM_OBJECTS; n++) {
		ret = dumb(fd, 32, 32, &handles[n], NULL, NULL);	/* 4 KiB, never touched */
		if (ret) {
			snprintf(why, len, "object %d: dumb create: %s", n, strerror(-ret));
			break;
		}
	}
	s1 = slab_bytes();
	m1 = meminfo_kernel_bytes();
	while (n--)
		gem_close(fd, handles[n]);
	close(fd);
	if (!ret && (s0 < 0 || m0 < 0)) {
		snprintf(why, len, "cannot read /proc/slabinfo or /proc/meminfo");
		ret = -EIO;
	}
	vals[0] = (double)(s1 - s0) / NUM_OBJECTS;
	vals[1] = (double)(m1 - m0) / NUM_OBJECTS;
	return ret;
}

/* ---- mmap_write, mmap_read, first_touch ---- */

/* An export of @b's object, mapped; CPU access bracketed by DMA_BUF_IOCTL_SYNC. */
static int dmabuf_map(struct buf *b, int *dmabuf, void **map)
{
	if (drmPrimeHandleToFD(b->fd, b->handle, DRM_CLOEXEC | DRM_RDWR, dmabuf))
		return -errno;
	*map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, *dmabuf, 0);
	if (*map == MAP_FAILED) {
		close(*dmabuf);
		return -errno;
	}
	return 0;
}

static int dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	if (dmabuf < 0)
		return 0;
	return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

/* The page faults this process has taken so far (minor and major). */
static double faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return NAN;
	return (double)ru.ru_minflt + ru.ru_majflt;
}

/*
 * Timed passes over @size bytes at @p, writing (@write) or reading, until
 * MMAP_WINDOW_S have passed (at least one pass, at most MMAP_MAX_PASSES),
 * inside DMA_BUF_IOCTL_SYNC on @sfd when it is a dma-buf. A window of one
 * 64 MiB read is 20 to 130 ms under TCG, shorter than one preemption of
 * the VM on a busy host; several passes keep the ratio from following it.
 * Returns MiB/s, or NAN with *ret set when a sync failed.
 */
#define MMAP_WINDOW_S	0.5
#define MMAP_MAX_PASSES	64

static double mmap_window(void *p, uint64_t size, int sfd, bool write, int *ret)
{
	uint64_t dir = write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	double t0 = now(), dt;
	int passes = 0;

	*ret = dmabuf_sync(sfd, DMA_BUF_SYNC_START | dir);
	if (*ret)
		return NAN;
	do {
		if (write)
			touch_all(p, size, (uint8_t)(2 + passes));
		else
			sink += read_all(p, size);
		dt = now() - t0;
	} while (++passes < MMAP_MAX_PASSES && dt < MMAP_WINDOW_S);
	*ret = dmabuf_sync(sfd, DMA_BUF_SYNC_END | dir);
	dt = now() - t0;
	return *ret ? NAN : passes * (size / MiB) / dt;
}

/*
 * 64 MiB written then read, sequentially, through the mapping, for at
 * least MMAP_WINDOW_S each: vals[0] write MiB/s and vals[1] read MiB/s
 * through the driver's own mmap, vals[2] and vals[3] through the dma-buf's
 * (anonymous memory: the same mapping). Both mappings are populated by an
 * untimed pass first. vals[4] to vals[7]: the page faults taken in each of
 * those four timed windows (a fault is the driver's code; a read of mapped
 * pages is not).
 */
static int bench_mmap(const struct target *t, double *vals, char *why, size_t len)
{
	struct buf b;
	int ret = buf_create(t, SZ_64M, &b), dmabuf = -1;
	void *maps[2];

	if (ret)
		return ret;
	ret = buf_map(&b, t);
	if (ret) {
		snprintf(why, len, "mmap: %s", strerror(-ret));
		goto out;
	}
	maps[0] = b.map;
	maps[1] = b.map;
	if (t->kind != K_ANON) {
		ret = dmabuf_map(&b, &dmabuf, &maps[1]);
		if (ret) {
			snprintf(why, len, "dma-buf export/mmap: %s", strerror(-ret));
			goto out;
		}
	}
	/* Both mappings populated: no fault is timed in either window. */
	touch_all(b.map, b.size, 1);
	if (maps[1] != maps[0]) {
		ret = dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		touch_all(maps[1], b.size, 1);
		ret = ret ?: dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	}
	for (int m = 0; m < 2 && !ret; m++) {
		int sfd = m ? dmabuf : -1;
		double f0 = faults();

		vals[2 * m] = mmap_window(maps[m], b.size, sfd, true, &ret);
		vals[4 + 2 * m] = faults() - f0;
		if (ret)
			break;
		f0 = faults();
		vals[2 * m + 1] = mmap_window(maps[m], b.size, sfd, false, &ret);
		vals[5 + 2 * m] = faults() - f0;
	}
	if (ret)
		snprintf(why, len, "DMA_BUF_IOCTL_SYNC: %s", strerror(-ret));
	if (dmabuf >= 0) {
		munmap(maps[1], b.size);
		close(dmabuf);
	}
out:
	buf_destroy(&b);
	return ret;
}

/*
 * The first write to each page of a new 64 MiB buffer, ns per page:
 * vals[0] from mmap() on (drm_gem_shmem, vgem's, allocates every page in
 * its mmap(); vprime allocates at the first fault), vals[1] the writes alone.
 */
static int bench_first_touch(const struct target *t, double *vals, char *why, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	struct buf b;
	int ret = buf_create(t, SZ_64M, &b);
	double t0, t1;

	if (ret)
		return ret;
	t0 = now();
	ret = buf_map(&b, t);
	if (ret) {
		snprintf(why, len, "mmap: %s", strerror(-ret));
	} else {
		volatile uint8_t *p = b.map;

		t1 = now();
		for (uint64_t off = 0; off < b.size; off += page)
			p[off] = 1;
		vals[0] = (now() - t0) * 1e9 / (b.size / page);
		vals[1] = (now() - t1) * 1e9 / (b.size / page);
	}
	buf_destroy(&b);
	return ret;
}

/* ---- migration ---- */

static int strict_instance = -1;

/*
 * A buffer of vprime.0, populated by the CPU, imported into the 32-bit
 * instance: the time of that instance's first GEM_MAP, which moves the
 * storage below 4 GiB (ms). GEM_INFO's migrations says it moved.
 */
static int bench_migrate(const struct target *t, double *vals, char *why, size_t len)
{
	struct drm_vprime_gem_map map = { 0 };
	struct drm_vprime_gem_unmap unmap = { 0 };
	struct drm_vprime_gem_info before, after;
	char strict[16];
	int efd, sfd = -1, dmabuf = -1, ret;
	uint32_t h = 0, sh = 0;
	void *p;
	double t0;

	snprintf(strict, sizeof(strict), "vprime.%d", strict_instance);
	efd = open_device(t->name, false);
	if (efd < 0)
		return efd;
	ret = vprime_create(efd, t->size, &h);
	if (ret) {
		snprintf(why, len, "GEM_CREATE of %llu MiB: %s",
			 (unsigned long long)(t->size >> 20), strerror(-ret));
		goto out;
	}
	ret = vprime_mmap(efd, h, t->size, &p);
	if (ret)
		goto out;
	touch_all(p, t->size, 0x5a);
	munmap(p, t->size);
	ret = vprime_info(efd, h, &before);
	if (drmPrimeHandleToFD(efd, h, DRM_CLOEXEC | DRM_RDWR, &dmabuf)) {
		ret = -errno;
		goto out;
	}
	sfd = open_device(strict, false);
	if (sfd < 0) {
		ret = sfd;
		snprintf(why, len, "%s: %s", strict, strerror(-ret));
		goto out;
	}
	if (drmPrimeFDToHandle(sfd, dmabuf, &sh)) {
		ret = -errno;
		snprintf(why, len, "import into %s: %s", strict, strerror(errno));
		goto out;
	}
	map.handle = sh;
	t0 = now();
	if (ioctl(sfd, DRM_IOCTL_VPRIME_GEM_MAP, &map)) {
		ret = -errno;
		snprintf(why, len, "GEM_MAP on %s: %s", strict, strerror(errno));
		goto out;
	}
	vals[0] = (now() - t0) * 1e3;
	unmap.handle = sh;
	ioctl(sfd, DRM_IOCTL_VPRIME_GEM_UNMAP, &unmap);
	ret = vprime_info(efd, h, &after);
	if (!ret && after.migrations != before.migrations + 1) {
		snprintf(why, len, "the storage did not move (migrations %llu -> %llu, placement %s)",
			 (unsigned long long)before.migrations,
			 (unsigned long long)after.migrations, placement_name(after.placement));
		ret = -EIO;
	}
out:
	if (sh)
		gem_close(sfd, sh);
	if (sfd >= 0)
		close(sfd);
	if (dmabuf >= 0)
		close(dmabuf);
	if (h)
		gem_close(efd, h);
	close(efd);
	return ret;
}

/* memcpy of @t->size between two populated anonymous buffers (ms). */
static int bench_memcpy(const struct target *t, double *vals, char *why, size_t len)
{
	struct target anon = { "anonymous memory", K_ANON, 0, 0, 0 };
	struct buf a, b;
	int ret = buf_create(&anon, t->size, &a);
	double t0;

	if (ret)
		return ret;
	ret = buf_create(&anon, t->size, &b);
	if (ret) {
		buf_destroy(&a);
		return ret;
	}
	touch_all(a.map, a.size, 0x5a);
	touch_all(b.map, b.size, 0);
	t0 = now();
	memcpy(b.map, a.map, t->size);
	vals[0] = (now() - t0) * 1e3;
	sink += ((uint8_t *)b.map)[t->size - 1];
	buf_destroy(&a);
	buf_destroy(&b);
	(void)why;
	(void)len;
	return 0;
}

/* The migration of @t's size on vprime, or the memcpy of its size (K_ANON). */
static int bench_migration(const struct target *t, double *vals, char *why, size_t len)
{
	return t->kind == K_ANON ? bench_memcpy(t, vals, why, len) :
	       bench_migrate(t, vals, why, len);
}

/* ---- jobs ---- */

#define JOB_W		1024
#define JOB_H		1024
#define JOB_BYTES	(JOB_W * JOB_H * 4)
#define JOBS		8

static int submit(int fd, struct drm_vprime_submit_bo *bos, int nbos, struct drm_vprime_cmd *cmd,
		  uint32_t flags, const struct drm_vprime_syncobj *out_syncobj, int *fence)
{
	struct drm_vprime_submit s = {
		.bos_ptr = (uintptr_t)bos, .cmds_ptr = (uintptr_t)cmd, .num_bos = nbos,
		.num_cmds = 1, .flags = flags,
	};

	if (out_syncobj)
		s.out_syncobj = *out_syncobj;
	if (ioctl(fd, DRM_IOCTL_VPRIME_SUBMIT, &s))
		return -errno;
	if (fence)
		*fence = s.out_fence_fd;
	return 0;
}

static int wait_idle(int fd, uint32_t handle)
{
	struct drm_vprime_wait_idle w = { .handle = handle, .timeout_ns = 20000000000ll };

	return ioctl(fd, DRM_IOCTL_VPRIME_WAIT_IDLE, &w) ? -errno : 0;
}

static struct drm_vprime_submit_bo job_bo(uint32_t handle, uint32_t flags)
{
	return (struct drm_vprime_submit_bo){
		.handle = handle, .flags = flags, .width = JOB_W, .height = JOB_H,
		.pitch = JOB_W * 4, .format = DRM_FORMAT_XRGB8888,
	};
}

/*
 * vals[0]: MiB/s of JOBS fill jobs of a 4 MiB surface, vals[1]: of JOBS
 * copy jobs between two (submit to idle); the buffers are populated and
 * the results checked. Anonymous memory: memset and memcpy of the same bytes.
 */
static int bench_jobs(const struct target *t, double *vals, char *why, size_t len)
{
	struct drm_vprime_submit_bo bos[2];
	struct drm_vprime_cmd fill = {
		.op = VPRIME_CMD_FILL, .width = JOB_W, .height = JOB_H,
	}, copy = {
		.op = VPRIME_CMD_COPY, .src = 0, .dst = 1, .width = JOB_W, .height = JOB_H,
	};
	uint32_t ha = 0, hb = 0, *pa = NULL, *pb = NULL;
	int fd, ret;
	double t0;

	if (t->kind == K_ANON) {
		struct buf a, b;

		ret = buf_create(t, JOB_BYTES, &a);
		if (ret)
			return ret;
		ret = buf_create(t, JOB_BYTES, &b);
		if (ret) {
			buf_destroy(&a);
			return ret;
		}
		touch_all(a.map, a.size, 1);
		touch_all(b.map, b.size, 1);
		t0 = now();
		for (int j = 0; j < JOBS; j++)
			memset(a.map, j, JOB_BYTES);
		vals[0] = JOBS * JOB_BYTES / MiB / (now() - t0);
		t0 = now();
		for (int j = 0; j < JOBS; j++)
			memcpy(b.map, a.map, JOB_BYTES);
		vals[1] = JOBS * JOB_BYTES / MiB / (now() - t0);
		sink += ((uint8_t *)b.map)[JOB_BYTES - 1];
		buf_destroy(&a);
		buf_destroy(&b);
		return 0;
	}
	fd = open_device(t->name, false);
	if (fd < 0)
		return fd;
	ret = vprime_create(fd, JOB_BYTES, &ha) ?: vprime_create(fd, JOB_BYTES, &hb);
	if (ret)
		goto out;
	bos[0] = job_bo(ha, VPRIME_SUBMIT_BO_READ | VPRIME_SUBMIT_BO_WRITE);
	bos[1] = job_bo(hb, VPRIME_SUBMIT_BO_WRITE);
	/* Populate both (the first use allocates the storage), untimed. */
	fill.value = 0xff000001;
	fill.dst = 0;
	ret = submit(fd, bos, 1, &fill, 0, NULL, NULL);
	fill.dst = 1;
	ret = ret ?: submit(fd, bos, 2, &fill, 0, NULL, NULL);
	ret = ret ?: wait_idle(fd, ha);
	ret = ret ?: wait_idle(fd, hb);
	if (ret) {
		snprintf(why, len, "warm-up jobs: %s", strerror(-ret));
		goto out;
	}
	fill.dst = 0;
	t0 = now();
	for (int j = 0; j < JOBS && !ret; j++) {
		fill.value = 0xff102030 + j;
		ret = submit(fd, bos, 1, &fill, 0, NULL, NULL);
	}
	ret = ret ?: wait_idle(fd, ha);
	vals[0] = JOBS * JOB_BYTES / MiB / (now() - t0);
	t0 = now();
	for (int j = 0; j < JOBS && !ret; j++)
		ret = submit(fd, bos, 2, &copy, 0, NULL, NULL);
	ret = ret ?: wait_idle(fd, hb);
	vals[1] = JOBS * JOB_BYTES / MiB / (now() - t0);
	if (ret) {
		snprintf(why, len, "jobs: %s", strerror(-ret));
		goto out;
	}
	/* The jobs did the work: the last fill's colour, copied (a job that timed out would not). */
	ret = vprime_mmap(fd, ha, JOB_BYTES, (void **)&pa);
	ret = ret ?: vprime_mmap(fd, hb, JOB_BYTES, (void **)&pb);
	for (uint32_t i = 0; i < JOB_W * JOB_H && !ret; i += 4093)
		if ((pa[i] & 0xffffff) != ((0xff102030 + JOBS - 1) & 0xffffff) || pb[i] != pa[i]) {
			snprintf(why, len, "pixel %u: fill gave 0x%08x, copy 0x%08x", i, pa[i],
				 pb[i]);
			ret = -EIO;
		}
out:
	if (pa && pa != MAP_FAILED)
		munmap(pa, JOB_BYTES);
	if (pb && pb != MAP_FAILED)
		munmap(pb, JOB_BYTES);
	if (ha)
		gem_close(fd, ha);
	if (hb)
		gem_close(fd, hb);
	close(fd);
	return ret;
}

#define LAT_JOBS	100
#define SYNC_JOBS	200

/*
 * vals[0]: the median time (us) from SUBMIT of a one-pixel fill to its
 * out-fence signalling, over LAT_JOBS jobs; vals[1]: fences per second of
 * SYNC_JOBS jobs each signalling the next point of a timeline syncobj,
 * submit of the first to the last point signalled.
 */
static int bench_submit(const struct target *t, double *vals, char *why, size_t len)
{
	double lat[LAT_JOBS], t0;
	struct drm_vprime_cmd cmd = { .op = VPRIME_CMD_FILL, .width = 1, .height = 1,
				      .value = 0xff00ff00 };
	struct drm_vprime_submit_bo bo;
	struct drm_vprime_syncobj out = { 0 };
	uint64_t point;
	uint32_t h;
	int fd = open_device(t->name, false), ret;

	if (fd < 0)
		return fd;
	ret = vprime_create(fd, 64 * 64 * 4, &h);
	if (ret)
		goto out;
	bo = (struct drm_vprime_submit_bo){ .handle = h, .flags = VPRIME_SUBMIT_BO_WRITE,
		.width = 64, .height = 64, .pitch = 256, .format = DRM_FORMAT_XRGB8888 };
	ret = submit(fd, &bo, 1, &cmd, 0, NULL, NULL) ?: wait_idle(fd, h);	/* populate */
	for (int i = 0; i < LAT_JOBS && !ret; i++) {
		struct pollfd pfd = { .events = POLLIN };

		t0 = now();
		ret = submit(fd, &bo, 1, &cmd, VPRIME_SUBMIT_OUT_FENCE_FD, NULL, &pfd.fd);
		if (ret)
			break;
		if (poll(&pfd, 1, FENCE_MS) != 1)
			ret = -ETIME;
		lat[i] = (now() - t0) * 1e6;
		close(pfd.fd);
	}
	if (ret) {
		snprintf(why, len, "submit/fence: %s", strerror(-ret));
		goto out;
	}
	qsort(lat, LAT_JOBS, sizeof(lat[0]), cmp_double);
	vals[0] = (lat[LAT_JOBS / 2 - 1] + lat[LAT_JOBS / 2]) / 2;

	if (drmSyncobjCreate(fd, 0, &out.handle)) {
		ret = -errno;
		snprintf(why, len, "syncobj create: %s", strerror(errno));
		goto out;
	}
	t0 = now();
	for (int i = 1; i <= SYNC_JOBS && !ret; i++) {
		out.point = i;
		ret = submit(fd, &bo, 1, &cmd, VPRIME_SUBMIT_OUT_SYNCOBJ, &out, NULL);
	}
	point = SYNC_JOBS;
	if (!ret && drmSyncobjTimelineWait(fd, &out.handle, &point, 1,
					   (int64_t)((now() + 20) * 1e9) + 0,
					   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL))
		ret = -errno;
	vals[1] = SYNC_JOBS / (now() - t0);
	drmSyncobjDestroy(fd, out.handle);
	if (ret)
		snprintf(why, len, "timeline syncobj jobs: %s", strerror(-ret));
out:
	if (h)
		gem_close(fd, h);
	close(fd);
	return ret;
}

/* ---- composition ---- */

#define CW	1920
#define CH	1080
#define OVL_W	640
#define OVL_H	360
#define CUR_SZ	64
#define MAX_PLANES	4

struct kms {
	int fd;
	uint32_t crtc, writeback;
	int crtc_index;
	drmModeModeInfo mode;
	uint32_t primary, cursor, overlays[MAX_PLANES];
	int num_overlays;
};

/* The first writeback connector with a CW x CH mode, its CRTC and that CRTC's planes. */
static int kms_find(struct kms *k)
{
	struct display_route r;
	drmModePlaneRes *pres;
	int ret = display_find_route(k->fd, CW, CH, &r);

	if (ret)
		return ret;
	k->crtc = r.crtc;
	k->writeback = r.writeback;
	k->crtc_index = r.crtc_index;
	k->mode = r.mode;
	pres = drmModeGetPlaneResources(k->fd);
	for (uint32_t i = 0; pres && i < pres->count_planes; i++) {
		drmModePlane *p = drmModeGetPlane(k->fd, pres->planes[i]);
		uint64_t type;

		if (p && (p->possible_crtcs & (1u << k->crtc_index)) &&
		    display_prop_id(k->fd, p->plane_id, DRM_MODE_OBJECT_PLANE, "type", &type)) {
			if (type == DRM_PLANE_TYPE_PRIMARY && !k->primary)
				k->primary = p->plane_id;
			else if (type == DRM_PLANE_TYPE_CURSOR && !k->cursor)
				k->cursor = p->plane_id;
			else if (type == DRM_PLANE_TYPE_OVERLAY && k->num_overlays < MAX_PLANES)
				k->overlays[k->num_overlays++] = p->plane_id;
		}
		drmModeFreePlane(p);
	}
	drmModeFreePlaneResources(pres);
	return k->primary ? 0 : -ENODEV;
}

static int add_plane(drmModeAtomicReq *req, const struct kms *k, uint32_t plane, uint32_t fb,
		     int32_t x, int32_t y, uint32_t w, uint32_t h)
{
	const uint32_t P = DRM_MODE_OBJECT_PLANE;
	int fd = k->fd, ret;

	ret = display_add_prop(req, fd, plane, P, "FB_ID", fb);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_ID", fb ? k->crtc : 0);
	if (!fb)
		return ret;
	ret = ret ?: display_add_prop(req, fd, plane, P, "SRC_X", 0);
	ret = ret ?: display_add_prop(req, fd, plane, P, "SRC_Y", 0);
	ret = ret ?: display_add_prop(req, fd, plane, P, "SRC_W", (uint64_t)w << 16);
	ret = ret ?: display_add_prop(req, fd, plane, P, "SRC_H", (uint64_t)h << 16);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_X", (uint64_t)(int64_t)x);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_Y", (uint64_t)(int64_t)y);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_W", w);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_H", h);
	return ret;
}

/* Detach from @crtc every connector but @keep (fbdev may have left one). */
static int add_connectors_off(drmModeAtomicReq *req, const struct kms *k, uint32_t keep)
{
	drmModeRes *res = drmModeGetResources(k->fd);
	int ret = 0;

	for (int i = 0; res && i < res->count_connectors && !ret; i++) {
		uint32_t id = res->connectors[i];
		uint64_t on = 0;

		if (id != keep && display_prop_id(k->fd, id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", &on) &&
		    on == k->crtc)
			ret = display_add_prop(req, k->fd, id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", 0);
	}
	drmModeFreeResources(res);
	return ret;
}

/* A mapped dumb buffer of @w x @h, filled by @fill, and its fb. */
struct kfb {
	uint32_t handle, fb, pitch;
	uint64_t size;
};

static int kfb_create(const struct kms *k, uint32_t w, uint32_t h, uint32_t format,
		      uint32_t seed, struct kfb *f)
{
	uint32_t handles[4], pitches[4], offsets[4] = { 0 };
	uint32_t *px;
	void *map;
	int ret;

	memset(f, 0, sizeof(*f));
	ret = dumb(k->fd, w, h, &f->handle, &f->pitch, &f->size);
	ret = ret ?: dumb_map(k->fd, f->handle, f->size, &map);
	if (ret)
		return ret;
	px = map;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t a = format == DRM_FORMAT_ARGB8888 ? (x + y) % 256 : 0xff;

			px[y * (f->pitch / 4) + x] = a << 24 | ((x * 255 / w) << 16) |
						     ((y * 255 / h) << 8) | (seed & 0xff);
		}
	munmap(map, f->size);
	handles[0] = f->handle;
	pitches[0] = f->pitch;
	return drmModeAddFB2(k->fd, w, h, format, handles, pitches, offsets, &f->fb, 0) ?
	       -errno : 0;
}

static void kfb_destroy(const struct kms *k, struct kfb *f)
{
	if (f->fb)
		drmModeRmFB(k->fd, f->fb);
	if (f->handle)
		gem_close(k->fd, f->handle);
	memset(f, 0, sizeof(*f));
}

/*
 * After a writeback job's fence: drop the fb it wrote, wait until the job
 * let go of it too (the fb id stops resolving when its last reference goes),
 * and make a new fb of the same buffer for the next job.
 *
 * vkms turns its composer off when it cleans a signalled writeback job up,
 * from a workqueue (vkms_wb_cleanup_job(): vkms_set_composer(false), a flag,
 * not a count): a commit made before that cleanup ran has its own job
 * switched off before it is composed, and its fence never signals. Both
 * drivers are driven the same way.
 */
static int writeback_done(const struct kms *k, struct kfb *f)
{
	uint32_t handles[4] = { f->handle }, pitches[4] = { f->pitch }, offsets[4] = { 0 };
	double limit = now() + FENCE_MS / 1000.0;
	drmModeFBPtr fb;

	if (drmModeRmFB(k->fd, f->fb))
		return -errno;
	while ((fb = drmModeGetFB(k->fd, f->fb))) {
		if (fb->handle && fb->handle != f->handle)	/* GETFB made one */
			gem_close(k->fd, fb->handle);
		drmModeFreeFB(fb);
		if (now() > limit)
			return -ETIME;
		usleep(200);
	}
	f->fb = 0;
	return drmModeAddFB2(k->fd, CW, CH, DRM_FORMAT_XRGB8888, handles, pitches, offsets,
			     &f->fb, 0) ? -errno : 0;
}

struct flip_state {
	unsigned int seq;
	double ts;		/* the event's vblank time, CLOCK_MONOTONIC */
	bool done;
};

static void flip_handler(int fd, unsigned int seq, unsigned int sec, unsigned int usec,
			 unsigned int crtc, void *data)
{
	struct flip_state *s = data;

	(void)fd;
	(void)crtc;
	s->seq = seq;
	s->ts = sec + usec / 1e6;
	s->done = true;
}

static int wait_flip(int fd, struct flip_state *s)
{
	drmEventContext ev = { .version = 3, .page_flip_handler2 = flip_handler };

	while (!s->done) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, FENCE_MS);

		if (n != 1)
			return n ? -errno : -ETIME;
		if (drmHandleEvent(fd, &ev))
			return -EIO;
	}
	return 0;
}

static int wait_fence(int fence)
{
	struct pollfd pfd = { .fd = fence, .events = POLLIN };
	int n;

	if (fence < 0)
		return -EIO;
	n = poll(&pfd, 1, FENCE_MS);
	close(fence);
	return n == 1 ? 0 : n == 0 ? -ETIME : -errno;
}

/*
 * The flips applied in their ioctl on @devname's CRTCs so far (debugfs
 * vprime_display's ioctl_flips, summed), or -1 when it cannot be read.
 */
static long long ioctl_flips(const char *devname)
{
	char path[PATH_MAX], line[128], *slash;
	long long sum = 0, n;
	FILE *f;

	if (vprime_debugfs_path(devname, path, sizeof(path)))
		return -1;
	slash = strrchr(path, '/');
	snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "vprime_display");
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "crtc %*d: ioctl_flips: %lld", &n) == 1)
			sum += n;
	fclose(f);
	return sum;
}

/*
 * Light the CRTC that feeds a writeback connector at 1920x1080 with
 * t->planes planes (the primary, then the cursor, then overlays), and
 * flip t->frames frames, each a non-blocking commit with a page-flip event
 * and a writeback job: the primary alternates between two fbs and the
 * cursor moves, so every frame is composed anew. Each frame waits for its
 * flip event and its writeback fence before the next is committed. With
 * t->flips_only, only the modeset has a writeback job: the flips are not
 * composed (neither driver composes unless a CRC or writeback asks).
 * vals[0]: frames per second; vals[1]: vblanks missed (vblank sequence
 * numbers of the flip events vs flips completed); vals[2]: vblanks elapsed.
 *
 * Where each miss comes from: a flip committed after the previous one's
 * event lands on the next vblank if the driver arms its event before that
 * vblank's time (the previous event's timestamp plus one frame). A miss is
 * counted in vals[3] when the commit ioctl was entered after that time
 * (user space, woken by the event, came too late: the event itself was
 * late or the process was not run), in vals[4] when the ioctl spanned it,
 * in vals[5] when the ioctl returned before it and the flip still missed
 * it (the driver's nonblocking commit armed the event too late). vals[6]
 * and vals[7]: the median and the largest time from a flip's vblank to its
 * event being read (ms); vals[8]: the median time from the event being
 * read to the next commit being entered (ms); vals[9]: the frame (ms);
 * vals[10] and vals[11]: the median and the largest commit ioctl (ms);
 * vals[12] to vals[14]: the flips (not vblanks) that missed, by the same
 * three causes: one stall of the VM that delays a single event by 200 ms
 * is 12 vblanks missed but one flip.
 */
static int bench_compose(const struct target *t, double *vals, char *why, size_t len)
{
	struct kms k = { .fd = -1 };
	struct kfb prim[2], wb[2], ovl[MAX_PLANES], cur;
	drmModeAtomicReq *req = NULL;
	unsigned int first_seq = 0, prev_seq = 0, missed = 0, miss_late = 0, miss_in = 0;
	unsigned int miss_after = 0, flips_late = 0, flips_in = 0, flips_after = 0;
	int novl = t->planes - 2 > 0 ? t->planes - 2 : 0, ret;
	/*
	 * With flips only, the first flip comes after the modeset's writeback
	 * job has been waited for and cleaned up, vblanks later: it is the
	 * base the counting starts from, and one more flip is made.
	 */
	int extra = t->flips_only ? 1 : 0;
	double *lat = calloc(t->frames + 2, sizeof(double));
	double *react = calloc(t->frames + 2, sizeof(double));
	double *ioctl_ms = calloc(t->frames + 2, sizeof(double));
	double period, prev_ts = 0, t_recv = 0;
	uint32_t blob = 0;
	int32_t fence = -1;
	double t0 = 0;

	memset(prim, 0, sizeof(prim));
	if (!lat || !react || !ioctl_ms) {
		free(lat);
		free(react);
		free(ioctl_ms);
		return -ENOMEM;
	}
	memset(wb, 0, sizeof(wb));
	memset(ovl, 0, sizeof(ovl));
	memset(&cur, 0, sizeof(cur));
	k.fd = open_device(t->name, true);
	if (k.fd < 0)
		return k.fd;
	if (drmSetClientCap(k.fd, DRM_CLIENT_CAP_ATOMIC, 1) ||
	    drmSetClientCap(k.fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1)) {
		ret = -errno;
		snprintf(why, len, "atomic/writeback client caps: %s", strerror(errno));
		goto out;
	}
	ret = kms_find(&k);
	if (ret) {
		snprintf(why, len, "no writeback connector with a %dx%d mode and a primary plane",
			 CW, CH);
		goto out;
	}
	if ((t->planes >= 2 && !k.cursor) || k.num_overlays < novl) {
		snprintf(why, len, "%d planes asked, the CRTC has a primary, %s cursor and %d "
			 "overlay plane(s)", t->planes, k.cursor ? "a" : "no", k.num_overlays);
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = kfb_create(&k, CW, CH, DRM_FORMAT_XRGB8888, 0x10, &prim[0]);
	ret = ret ?: kfb_create(&k, CW, CH, DRM_FORMAT_XRGB8888, 0x90, &prim[1]);
	ret = ret ?: kfb_create(&k, CW, CH, DRM_FORMAT_XRGB8888, 0, &wb[0]);
	ret = ret ?: kfb_create(&k, CW, CH, DRM_FORMAT_XRGB8888, 0, &wb[1]);
	for (int i = 0; i < novl && !ret; i++)
		ret = kfb_create(&k, OVL_W, OVL_H, DRM_FORMAT_ARGB8888, 0x40 + i, &ovl[i]);
	if (!ret && t->planes >= 2)
		ret = kfb_create(&k, CUR_SZ, CUR_SZ, DRM_FORMAT_ARGB8888, 0xc0, &cur);
	if (ret) {
		snprintf(why, len, "framebuffers: %s", strerror(-ret));
		goto out;
	}

	period = (double)k.mode.htotal * k.mode.vtotal / (k.mode.clock * 1000.0);
	for (int f = 0; f <= t->frames + extra; f++) {
		struct flip_state flip = { 0 };
		uint32_t flags = DRM_MODE_PAGE_FLIP_EVENT;
		double t_commit, t_ret;

		req = drmModeAtomicAlloc();
		if (!req) {
			ret = -ENOMEM;
			break;
		}
		if (f == 0) {	/* the modeset, untimed */
			flags |= DRM_MODE_ATOMIC_ALLOW_MODESET;
			ret = drmModeCreatePropertyBlob(k.fd, &k.mode, sizeof(k.mode), &blob) ?
			      -errno : 0;
			ret = ret ?: add_connectors_off(req, &k, k.writeback);
			ret = ret ?: display_add_prop(req, k.fd, k.crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", blob);
			ret = ret ?: display_add_prop(req, k.fd, k.crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 1);
			ret = ret ?: display_add_prop(req, k.fd, k.writeback, DRM_MODE_OBJECT_CONNECTOR,
					 "CRTC_ID", k.crtc);
			for (int i = 0; i < novl && !ret; i++)
				ret = add_plane(req, &k, k.overlays[i], ovl[i].fb, 100 + 400 * i,
						100 + 300 * i, OVL_W, OVL_H);
		} else {
			flags |= DRM_MODE_ATOMIC_NONBLOCK;
		}
		ret = ret ?: add_plane(req, &k, k.primary, prim[f % 2].fb, 0, 0, CW, CH);
		if (t->planes >= 2)
			ret = ret ?: add_plane(req, &k, k.cursor, cur.fb, (f * 7) % (CW - CUR_SZ),
					       (f * 5) % (CH - CUR_SZ), CUR_SZ, CUR_SZ);
		fence = -1;
		if (f == 0 || !t->flips_only) {
			ret = ret ?: display_add_prop(req, k.fd, k.writeback, DRM_MODE_OBJECT_CONNECTOR,
					 "WRITEBACK_FB_ID", wb[f % 2].fb);
			ret = ret ?: display_add_prop(req, k.fd, k.writeback, DRM_MODE_OBJECT_CONNECTOR,
					 "WRITEBACK_OUT_FENCE_PTR", (uint64_t)(uintptr_t)&fence);
		}
		if (ret) {
			snprintf(why, len, "building commit %d: %s", f, strerror(-ret));
			break;
		}
		t_commit = now();
		if (f > 0)
			react[f - 1] = (t_commit - t_recv) * 1e3;
		if (drmModeAtomicCommit(k.fd, req, flags, &flip)) {
			ret = -errno;
			snprintf(why, len, "commit %d: %s", f, strerror(errno));
			break;
		}
		t_ret = now();
		ioctl_ms[f] = (t_ret - t_commit) * 1e3;
		drmModeAtomicFree(req);
		req = NULL;
		ret = wait_flip(k.fd, &flip);
		if (ret) {
			snprintf(why, len, "frame %d: flip event: %s", f, strerror(-ret));
			break;
		}
		t_recv = now();
		lat[f] = (t_recv - flip.ts) * 1e3;
		if (f == 0 || !t->flips_only) {
			ret = wait_fence(fence);
			if (ret) {
				snprintf(why, len, "frame %d: writeback fence: %s", f,
					 strerror(-ret));
				break;
			}
			ret = writeback_done(&k, &wb[f % 2]);
			if (ret) {
				snprintf(why, len, "frame %d: the writeback job was not cleaned "
					 "up: %s", f, strerror(-ret));
				break;
			}
		}
		if (f == extra) {
			t0 = now();
			first_seq = prev_seq = flip.seq;
		} else if (f > extra && flip.seq - prev_seq > 1) {
			unsigned int n = flip.seq - prev_seq - 1;
			double deadline = prev_ts + period;

			missed += n;
			if (t_commit >= deadline) {
				miss_late += n;
				flips_late++;
			} else if (t_ret >= deadline) {
				miss_in += n;
				flips_in++;
			} else {
				miss_after += n;
				flips_after++;
			}
		}
		prev_seq = flip.seq;
		prev_ts = flip.ts;
	}
	if (!ret) {
		vals[0] = t->frames / (now() - t0);
		vals[1] = missed;
		vals[2] = prev_seq - first_seq;
		vals[3] = miss_late;
		vals[4] = miss_in;
		vals[5] = miss_after;
		/* Frame 0 is the modeset: its event and what follows are not flips. */
		qsort(lat + 1 + extra, t->frames, sizeof(double), cmp_double);
		vals[6] = lat[1 + extra + t->frames / 2];
		vals[7] = lat[extra + t->frames];
		qsort(react + extra, t->frames, sizeof(double), cmp_double);
		vals[8] = react[extra + t->frames / 2];
		vals[9] = period * 1e3;
		qsort(ioctl_ms + 1 + extra, t->frames, sizeof(double), cmp_double);
		vals[10] = ioctl_ms[1 + extra + t->frames / 2];
		vals[11] = ioctl_ms[extra + t->frames];
		vals[12] = flips_late;
		vals[13] = flips_in;
		vals[14] = flips_after;
	}
	if (req)
		drmModeAtomicFree(req);
	/* Everything off again. */
	req = drmModeAtomicAlloc();
	if (req) {
		int off = add_plane(req, &k, k.primary, 0, 0, 0, 0, 0);

		if (t->planes >= 2 && k.cursor)
			off = off ?: add_plane(req, &k, k.cursor, 0, 0, 0, 0, 0);
		for (int i = 0; i < novl && i < k.num_overlays; i++)
			off = off ?: add_plane(req, &k, k.overlays[i], 0, 0, 0, 0, 0);
		off = off ?: add_connectors_off(req, &k, 0);
		off = off ?: display_add_prop(req, k.fd, k.crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 0);
		off = off ?: display_add_prop(req, k.fd, k.crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", 0);
		if (!off)
			drmModeAtomicCommit(k.fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL);
		drmModeAtomicFree(req);
	}
	if (blob)
		drmModeDestroyPropertyBlob(k.fd, blob);
out:
	for (int i = 0; i < 2; i++) {
		kfb_destroy(&k, &prim[i]);
		kfb_destroy(&k, &wb[i]);
	}
	for (int i = 0; i < novl; i++)
		kfb_destroy(&k, &ovl[i]);
	kfb_destroy(&k, &cur);
	close(k.fd);
	free(lat);
	free(react);
	free(ioctl_ms);
	return ret;
}

/* ---- report ---- */

static void json_num(FILE *f, double v)
{
	if (isnan(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static int write_json(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs("[\n", f);
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		fputs("  {\"metric\": ", f);
		json_str(f, r->metric);
		fputs(", \"unit\": ", f);
		json_str(f, r->unit);
		fputs(", \"vprime\": ", f);
		json_num(f, r->vp.med);
		fputs(", \"anchor\": ", f);
		json_num(f, r->an.med);
		fputs(", \"anchor_driver\": ", f);
		json_str(f, r->anchor_driver);
		fputs(", \"ratio\": ", f);
		json_num(f, r->ratio);
		fputs(", \"goal\": ", f);
		json_str(f, r->goal == G_NONE ? NULL : r->goal_text);
		fputs(", \"met\": ", f);
		fputs(r->met == 1 ? "true" : r->met == 0 ? "false" : "null", f);
		fputs(",\n   \"vprime_min\": ", f);
		json_num(f, r->vp.min);
		fputs(", \"vprime_max\": ", f);
		json_num(f, r->vp.max);
		fputs(", \"anchor_min\": ", f);
		json_num(f, r->an.min);
		fputs(", \"anchor_max\": ", f);
		json_num(f, r->an.max);
		if (r->limit_what) {
			fputs(", \"limit\": ", f);
			json_num(f, r->lim.med);
			fputs(", \"limit_what\": ", f);
			json_str(f, r->limit_what);
		}
		fprintf(f, ", \"reps\": %d", r->reps);
		fputs(", \"note\": ", f);
		json_str(f, r->note[0] ? r->note : NULL);
		fprintf(f, "}%s\n", i + 1 < nrows ? "," : "");
	}
	fputs("]\n", f);
	return fclose(f) ? -errno : 0;
}

static void fmt_stats(char *buf, size_t len, const struct stats *s)
{
	char med[24], lo[24], hi[24];

	if (!s->ok) {
		snprintf(buf, len, "n/a");
		return;
	}
	snprintf(med, sizeof(med), unit_fmt(s->med), s->med);
	snprintf(lo, sizeof(lo), unit_fmt(s->min), s->min);
	snprintf(hi, sizeof(hi), unit_fmt(s->max), s->max);
	snprintf(buf, len, "%s [%s-%s]", med, lo, hi);
}

/* Each missed goal's note says by how much (after what was measured). */
static void finish_rows(void)
{
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		if (r->met == 0 && r->goal == G_ZERO)
			note_add(r, "missed the goal: vprime missed %.0f vblanks", r->vp.med);
		else if (r->met == 0)
			note_add(r, "missed the goal: ratio %.2f, goal %s (off by %.0f%%)",
				 r->ratio, r->goal_text, fabs(r->ratio / r->goal_value - 1) * 100);
	}
}

static void print_table(void)
{
	printf("%-27s %-9s %-28s %-28s %-10s %7s  %-13s %s\n", "metric", "unit",
	       "vprime median [min-max]", "anchor median [min-max]", "anchor", "ratio", "goal",
	       "met");
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		char v[96], a[96], ratio[16] = "-";

		fmt_stats(v, sizeof(v), &r->vp);
		fmt_stats(a, sizeof(a), &r->an);
		if (!isnan(r->ratio))
			snprintf(ratio, sizeof(ratio), "%.2f", r->ratio);
		printf("%-27s %-9s %-28s %-28s %-10s %7s  %-13s %s\n", r->metric, r->unit, v, a,
		       r->anchor_driver ? r->anchor_driver : "-", ratio,
		       r->goal == G_NONE ? "-" : r->goal_text,
		       r->met == 1 ? "yes" : r->met == 0 ? "NO" : "-");
	}
	printf("\nNotes:\n");
	for (int i = 0; i < nrows; i++)
		if (rows[i].note[0])
			printf("  %s: %s\n", rows[i].metric, rows[i].note);
	for (int i = 0; i < nrows; i++)
		if (rows[i].limit_what && rows[i].lim.ok)
			printf("  %s: %s: %.0f %s\n", rows[i].metric, rows[i].limit_what,
			       rows[i].lim.med, rows[i].unit);
}

/* ---- main ---- */

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [--reps N] [--json FILE] [--only P[,P]] [--frames N]\n"
		"       [--vblank-frames N]\n"
		"  Measure vprime against vgem, vkms and plain memory in this boot.\n"
		"  --reps N       repetitions of each metric (default 5, at most %d)\n"
		"  --json FILE    write the results there as a JSON list\n"
		"  --only P[,P]   only the metrics whose names start with one of these\n"
		"  --frames N     frames of each composition repetition (default 30)\n"
		"  --vblank-frames N  frames of each missed_vblanks run (default 600)\n",
		tool_name, MAX_REPS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },
		{ "frames", required_argument, NULL, 'f' },
		{ "vblank-frames", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct series s[4][MAX_VALS], m[3][MAX_VALS];
	const char *json = NULL;
	int c, ret;

	tool_name = "vprime-bench";
	while ((c = getopt_long(argc, argv, "r:j:o:f:v:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			reps = atoi(optarg);
			if (reps < 1 || reps > MAX_REPS)
				usage_exit(usage, false);
			break;
		case 'j':
			json = optarg;
			break;
		case 'o':
			only = optarg;
			break;
		case 'f':
			compose_frames = atoi(optarg);
			if (compose_frames < 1)
				usage_exit(usage, false);
			break;
		case 'v':
			vblank_frames = atoi(optarg);
			if (vblank_frames < 2)
				usage_exit(usage, false);
			break;
		case 'h':
			usage_exit(usage, true);
		default:
			usage_exit(usage, false);
		}
	}
	if (optind != argc)
		usage_exit(usage, false);
	if (vprime_instances() < 1)
		die(EXIT_DEVICE, "vprime is not loaded");
	strict_instance = vprime_instance_with_dma_bits(32, 0);
	fprintf(stderr, "bench: %d repetitions of each metric, vprime and its anchor alternating\n",
		reps);

	if (wanted("prime_roundtrip")) {
		struct target vv = { "vprime.0>vprime.1", K_DUMB, 0, 0, 0 };
		struct target gg = { "vgem>vgem", K_DUMB, 0, 0, 0 };
		struct target vs = { "vprime.0>vprime.0", K_DUMB, 0, 0, 0 };
		struct target *t[] = { &vv, &gg, &vs };

		run_reps("prime_roundtrip", bench_roundtrip, 1, t, 3, s);
		add_row("prime_roundtrip_64k", "ops/s", &s[0][0], &s[1][0], "vgem", NULL, NULL,
			G_GE, 1.0, "64 KiB dumb buffer created, exported, imported on another "
			"device (vprime.0 -> vprime.1: a real attachment), both handles and the "
			"fd closed; vgem -> vgem is an import into the same (only) vgem device, "
			"which takes the same-device shortcut (no attachment)");
		add_row("prime_roundtrip_64k_same_dev", "ops/s", &s[2][0], &s[1][0], "vgem", NULL,
			NULL, G_GE, 1.0, "the same, imported into the exporting device through "
			"its render node (vprime.0 -> vprime.0 vs vgem -> vgem): like for like");
	}
	if (wanted("bytes_per_object")) {
		struct target v = { "vprime.0", K_DUMB, 0, 0, 0 }, g = { "vgem", K_DUMB, 0, 0, 0 };
		struct target *t[] = { &v, &g };
		struct row *r;

		run_reps("bytes_per_object", bench_objects, 2, t, 2, s);
		r = add_row("bytes_per_object", "bytes", &s[0][0], &s[1][0], "vgem", NULL, NULL,
			    G_LE, 1.0, NULL);
		note_add(r, "10000 unpopulated 4 KiB dumb buffers; /proc/slabinfo active bytes; "
			 "/proc/meminfo Slab+VmallocUsed+PageTables+KernelStack per object: "
			 "vprime %.0f, vgem %.0f (medians)", stats_of(&s[0][1]).med,
			 stats_of(&s[1][1]).med);
	}
	if (wanted("mmap_") || wanted("first_touch")) {
		struct target v = { "vprime.0", K_VPRIME, 0, 0, 0 }, g = { "vgem", K_DUMB, 0, 0, 0 };
		struct target a = { "anonymous memory", K_ANON, 0, 0, 0 };
		struct target *t[] = { &v, &g, &a };

		if (wanted("mmap_")) {
			static const char *const mmap_rows[] = {
				"mmap_write_gem", "mmap_read_gem", "mmap_write_dmabuf",
				"mmap_read_dmabuf",
			};
			static const char *const mmap_what[] = {
				"64 MiB memset through the driver's GEM mmap (vgem: its dumb "
				"mmap), populated beforehand, pass after pass for 0.5 s",
				"64 MiB read through the GEM mmap, pass after pass for 0.5 s",
				"64 MiB memset through the exported dma-buf's mmap, populated "
				"beforehand, inside DMA_BUF_IOCTL_SYNC, pass after pass for 0.5 s",
				"64 MiB read through the dma-buf's mmap, inside DMA_BUF_IOCTL_SYNC, "
				"pass after pass for 0.5 s",
			};

			run_reps("mmap", bench_mmap, 8, t, 3, s);
			for (int k = 0; k < 4; k++) {
				struct row *r = add_row(mmap_rows[k], "MiB/s", &s[0][k], &s[1][k],
							"vgem", &s[2][k], "anonymous memory",
							G_GE, 0.9, mmap_what[k]);

				if (stats_of(&s[0][4 + k]).ok && stats_of(&s[1][4 + k]).ok)
					note_add(r, "page faults in the timed window (median "
						 "[max]): vprime %.0f [%.0f], vgem %.0f [%.0f]",
						 stats_of(&s[0][4 + k]).med,
						 stats_of(&s[0][4 + k]).max,
						 stats_of(&s[1][4 + k]).med,
						 stats_of(&s[1][4 + k]).max);
			}
		}
		if (wanted("first_touch")) {
			struct row *r;

			run_reps("first_touch", bench_first_touch, 2, t, 3, s);
			r = add_row("first_touch", "ns/page", &s[0][0], &s[1][0], "vgem", &s[2][0],
				    "anonymous memory", G_LE, 1.0, "first write to each page of a "
				    "new 64 MiB buffer, timed from its mmap() (vgem allocates "
				    "every page in mmap(), vprime at the first fault): a cost, so "
				    "the goal (at least vgem's speed) is a ratio <= 1.0");
			note_add(r, "the writes alone (medians): vprime %.0f, vgem %.0f, "
				 "anonymous %.0f ns/page", stats_of(&s[0][1]).med,
				 stats_of(&s[1][1]).med, stats_of(&s[2][1]).med);
		}
	}
	if (wanted("migration")) {
		static const unsigned int mib[] = { 1, 16, 256 };

		for (size_t i = 0; i < sizeof(mib) / sizeof(mib[0]); i++) {
			struct target v = { "vprime.0", K_VPRIME, (uint64_t)mib[i] << 20, 0, 0 };
			struct target a = { "memcpy", K_ANON, (uint64_t)mib[i] << 20, 0, 0 };
			char name[48];

			snprintf(name, sizeof(name), "migration_%uM", mib[i]);
			if (!wanted(name))
				continue;
			if (strict_instance < 0) {
				snprintf(s[0][0].why, sizeof(s[0][0].why),
					 "no 32-bit vprime instance (dma_bits=32)");
				s[0][0].unsupported = true;
				add_row(name, "ms", &s[0][0], NULL, "memcpy", NULL, NULL, G_LE, 1.5,
					NULL);
				continue;
			}
			{
				struct target *t[] = { &v, &a };

				run_reps(name, bench_migration, 1, t, 2, s);
			}
			{
				struct row *r = add_row(name, "ms", &s[0][0], &s[1][0], "memcpy",
							NULL, NULL, G_LE, 1.5, NULL);

				note_add(r, "a populated buffer of vprime.0 imported into vprime.%d "
					 "(32-bit) and GEM_MAPped there: the map's time, GEM_INFO "
					 "migrations checked +1; the anchor is memcpy between two "
					 "populated anonymous buffers (the move also allocates)",
					 strict_instance);
			}
		}
	}
	if (wanted("job_")) {
		struct target v = { "vprime.0", K_VPRIME, 0, 0, 0 };
		struct target a = { "anonymous memory", K_ANON, 0, 0, 0 };
		struct target *t[] = { &v, &a };

		run_reps("job_fill/job_copy", bench_jobs, 2, t, 2, s);
		add_row("job_fill", "MiB/s", &s[0][0], &s[1][0], "memset", NULL, NULL, G_GE, 0.8,
			"8 FILL jobs of a 1024x1024 XRGB8888 surface (4 MiB) on vprime.0, submit to "
			"WAIT_IDLE, vs memset of the same bytes");
		add_row("job_copy", "MiB/s", &s[0][1], &s[1][1], "memcpy", NULL, NULL, G_GE, 0.8,
			"8 COPY jobs 4 MiB XRGB8888 -> XRGB8888 on vprime.0 vs memcpy");
	}
	if (wanted("submit_latency") || wanted("syncobj_fences")) {
		struct target v = { "vprime.0", K_VPRIME, 0, 0, 0 };
		struct target *t[] = { &v };

		run_reps("submit_latency/syncobj_fences", bench_submit, 2, t, 1, s);
		add_row("submit_latency", "us", &s[0][0], NULL, NULL, NULL, NULL, G_NONE, 0,
			"one-pixel FILL job, SUBMIT to its out-fence signalling, median of 100; "
			"no anchor: vgem and vkms have no job engine");
		add_row("syncobj_fences", "fences/s", &s[0][1], NULL, NULL, NULL, NULL, G_NONE, 0,
			"200 one-pixel jobs each signalling the next point of a timeline syncobj; "
			"no anchor: vgem has no syncobj support");
	}
	if (wanted("compose") || wanted("missed_vblanks")) {
		static const int planes[] = { 1, 4 };

		for (size_t i = 0; i < sizeof(planes) / sizeof(planes[0]); i++) {
			struct target v = { "vprime.0", K_NONE, 0, planes[i], compose_frames };
			struct target k = { "vkms", K_NONE, 0, planes[i], compose_frames };
			struct target *t[] = { &v, &k };
			char name[48], label[48];

			snprintf(name, sizeof(name), "compose_%dplane%s", planes[i],
				 planes[i] > 1 ? "s" : "");
			snprintf(label, sizeof(label), "missed_vblanks_%dplane%s", planes[i],
				 planes[i] > 1 ? "s" : "");
			if (wanted(name)) {
				struct row *r;

				run_reps(name, bench_compose, 3, t, 2, s);
				r = add_row(name, "frames/s", &s[0][0], &s[1][0], "vkms", NULL, NULL,
					    G_GE, 2.0, planes[i] == 1 ? "1920x1080 XRGB8888 primary, "
					    "flipped every frame, each frame written back" :
					    "the primary, two overlapping 640x360 ARGB8888 overlays "
					    "and a moving 64x64 ARGB8888 cursor (vkms: loaded with "
					    "enable_overlay=1), each frame written back");
				if (stats_of(&s[0][2]).ok && stats_of(&s[1][2]).ok)
					note_add(r, "%d frames a repetition; vblanks per frame "
						 "(medians): vprime %.1f, vkms %.1f", compose_frames,
						 stats_of(&s[0][2]).med / compose_frames,
						 stats_of(&s[1][2]).med / compose_frames);
				else
					note_add(r, "%d frames a repetition", compose_frames);
			}
			if (wanted(label)) {
				char ev[16] = "-", ek[16] = "-";
				int saved = reps;

				long long in_ioctl = ioctl_flips(v.name);

				v.frames = k.frames = vblank_frames;
				v.flips_only = k.flips_only = true;
				reps = 1;
				run_reps(label, bench_compose, 15, t, 2, m);
				reps = saved;
				if (in_ioctl >= 0 && ioctl_flips(v.name) >= in_ioctl)
					in_ioctl = ioctl_flips(v.name) - in_ioctl;
				else
					in_ioctl = -1;
				if (stats_of(&m[0][2]).ok)
					snprintf(ev, sizeof(ev), "%.0f", stats_of(&m[0][2]).med);
				if (stats_of(&m[1][2]).ok)
					snprintf(ek, sizeof(ek), "%.0f", stats_of(&m[1][2]).med);
				note_add(add_row(label, "vblanks", &m[0][1], &m[1][1], "vkms", NULL,
						 NULL, G_ZERO, 0, NULL),
					 "%d page flips back to back, the writeback connector attached "
					 "but no writeback job after the modeset (so no composition: "
					 "with one each frame, see compose_*'s vblanks per frame): "
					 "vblanks that passed without a flip (event sequence numbers "
					 "vs flips completed); one run; vblanks elapsed: vprime %s, "
					 "vkms %s", vblank_frames, ev, ek);
				for (int d = 0; d < 2; d++)
					if (stats_of(&m[d][3]).ok)
						note_add(&rows[nrows - 1], "%s: %.0f missed, in %.0f "
							 "flips: %.0f vblanks (%.0f flips) with the "
							 "commit made after the vblank it was for (the "
							 "event read %.2f ms median, %.2f ms max after "
							 "its vblank; the next commit %.2f ms median "
							 "after that; frame %.2f ms), %.0f (%.0f) with "
							 "the ioctl spanning it (the commit ioctl took "
							 "%.2f ms median, %.2f ms max), %.0f (%.0f) with "
							 "the ioctl returned before it (the driver's "
							 "nonblocking commit late)", t[d]->name,
							 stats_of(&m[d][1]).med,
							 stats_of(&m[d][12]).med + stats_of(&m[d][13]).med +
							 stats_of(&m[d][14]).med,
							 stats_of(&m[d][3]).med, stats_of(&m[d][12]).med,
							 stats_of(&m[d][6]).med, stats_of(&m[d][7]).med,
							 stats_of(&m[d][8]).med, stats_of(&m[d][9]).med,
							 stats_of(&m[d][4]).med, stats_of(&m[d][13]).med,
							 stats_of(&m[d][10]).med, stats_of(&m[d][11]).med,
							 stats_of(&m[d][5]).med, stats_of(&m[d][14]).med);
				if (in_ioctl >= 0)
					note_add(&rows[nrows - 1], "vprime.0 applied %lld "
						 "flips in their ioctl (debugfs vprime_display), "
						 "each armed there for the next vblank: when all "
						 "were, a flip late with its ioctl returned before "
						 "the vblank was not the driver's worker but the "
						 "vblank timer's callback running past the next "
						 "vblank's time", in_ioctl);
			}
		}
	}

	finish_rows();
	print_table();
	if (json) {
		ret = write_json(json);
		if (ret)
			die(EXIT_DEVICE, "%s: %s", json, strerror(-ret));
	}
	return failed ? 1 : 0;
}
