// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime_fuzz: a seeded, reproducible fuzzer of vprime's uapi and of the
 * dma-buf, syncobj, sync_file and KMS paths around it.
 *
 * One run is a seed and a number of operations. NPROC worker processes pass
 * dma-buf and sync_file fds to each other over unix sockets (SCM_RIGHTS);
 * each has two threads sharing one table of objects: the "user" thread
 * creates, imports, exports, maps, faults, submits and commits; the "reaper"
 * thread closes handles and fds, unmaps and destroys, racing it. Every
 * argument is valid, at a boundary or garbage. Each thread draws its
 * operations from its own generator, seeded from the run's seed, the worker
 * and the thread: a seed replays the same operations per thread (the
 * interleaving of the threads is the scheduler's).
 *
 * Pass: no crash of the fuzzer, no operation longer than WATCHDOG_S seconds,
 * a known-good PRIME round trip (vprime.0 to vprime.1 and vprime.2) every
 * ROUNDTRIP_EVERY operations returns the same bytes, a few "must fail"
 * rules of the uapi hold, and once every process has exited the objects of
 * every instance (and their bytes) and the dma-bufs of the system are back
 * to their baseline. The kernel side (no splat) is the harness's dmesg check.
 *
 * Options (before or after vtest's own): --seed S, --ops N; or the
 * environment: VPRIME_FUZZ_SEED, VPRIME_FUZZ_OPS. VPRIME_FUZZ_PRIVATE=0
 * leaves out MAP_PRIVATE mappings, VPRIME_FUZZ_KMS=0 the atomic commits,
 * VPRIME_FUZZ_HANGS=N sets the HANG budget per worker, VPRIME_FUZZ_PROGRESS=S
 * prints progress every S seconds. See docs/testing.md.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vtest.h"
#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_test.h"

#define NPROC		3
#define NSLOTS		64
#define WATCHDOG_S	120
#define ROUNDTRIP_EVERY	300
#define SETTLE_S	60
#define KMS_W		1024
#define KMS_H		768

/* ---------------------------------------------------------------------- */
/* Operations and their counts */

#define OPS(X)							\
	X(GEM_CREATE) X(GEM_INFO) X(GEM_MAP) X(GEM_UNMAP)	\
	X(SUBMIT) X(HANG) X(WAIT_IDLE) X(GEM_CLOSE)		\
	X(DUMB_CREATE) X(DUMB_MAP) X(PRIME_EXPORT)		\
	X(PRIME_IMPORT) X(MMAP_GEM) X(MMAP_DMABUF)		\
	X(MUNMAP) X(TOUCH) X(DMABUF_SYNC) X(DMABUF_SYNC_FILE)	\
	X(POLL) X(SYNCOBJ_CREATE) X(SYNCOBJ_DESTROY)		\
	X(SYNCOBJ_WAIT) X(SYNCOBJ_SIGNAL) X(SYNCOBJ_EXPORT)	\
	X(SYNCOBJ_IMPORT) X(SYNC_FILE) X(FD_CLOSE) X(SEND)	\
	X(RECV) X(FORK) X(ADDFB) X(RMFB) X(COMMIT)		\
	X(GARBAGE_IOCTL) X(REOPEN) X(ROUNDTRIP)

#define X_ENUM(n) OP_##n,
enum op { OPS(X_ENUM) OP_COUNT };
#define X_NAME(n) #n,
static const char *const op_names[] = { OPS(X_NAME) };

#define ERRNO_SLOTS	140

struct thread_state {
	_Atomic int64_t op_start_ms;	/* 0: between operations */
	_Atomic int op;
	_Atomic uint64_t index;
	_Atomic int running;
};

/* Shared by the run's parent and its workers (an anonymous shared mapping). */
struct shared {
	struct {
		_Atomic uint64_t calls, ok;
		_Atomic uint32_t err[ERRNO_SLOTS];	/* failures by errno */
	} ops[OP_COUNT];
	_Atomic uint64_t signals, done_ops, roundtrips, must_fail_checks;
	struct thread_state th[NPROC][2];
	_Atomic int failed;
	char failure[1024];
};

static struct shared *sh;
static uint64_t run_seed;
static int worker_id;

/* ---------------------------------------------------------------------- */
/* Options */

static uint64_t opt_seed, opt_ops;
static bool opt_seed_set, opt_ops_set;

static bool env_bool(const char *name, bool def)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return def;
	return strcmp(v, "0") && strcasecmp(v, "n") && strcasecmp(v, "no");
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int64_t now_ns_abs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---------------------------------------------------------------------- */
/* Random numbers: splitmix64 seeds, xoshiro256** draws */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct rng *r)
{
	uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* 0 .. n-1 */
static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

/* true with probability 1/n */
static bool one_in(struct rng *r, uint32_t n)
{
	return below(r, n) == 0;
}

enum level { VALID, BOUNDARY, GARBAGE };

static enum level pick_level(struct rng *r)
{
	uint32_t x = below(r, 100);

	return x < 85 ? VALID : x < 95 ? BOUNDARY : GARBAGE;
}

static uint64_t garbage_u64(struct rng *r)
{
	static const uint64_t special[] = {
		0, 1, 2, 0xff, 0xfff, 0x1000, 0x1001, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
		0x8000000000000000ull, 0xfffffffffffff000ull, ~0ull,
		0xffff800000000000ull, 0xffffffff81000000ull,
	};

	if (one_in(r, 2))
		return special[below(r, ARRAY_SIZE(special))];
	return rnd(r) >> below(r, 64);
}

/* ---------------------------------------------------------------------- */
/* Failure reporting: always with the seed and the operation */

static __thread int my_thread;
static __thread uint64_t my_index;
static __thread int my_op;

__attribute__((noreturn, format(printf, 1, 2)))
static void fuzz_fail(const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!atomic_exchange(&sh->failed, 1))
		snprintf(sh->failure, sizeof(sh->failure),
			 "seed %" PRIu64 " worker %d thread %d op %" PRIu64 " (%s): %s",
			 run_seed, worker_id, my_thread, my_index, op_names[my_op], msg);
	fprintf(stderr, "vprime_fuzz: FAIL seed %" PRIu64 " worker %d thread %d op %" PRIu64
		" (%s): %s\n", run_seed, worker_id, my_thread, my_index, op_names[my_op], msg);
	fflush(stderr);
	_exit(98);
}

static void count(enum op op, int ret)
{
	int e = errno;

	atomic_fetch_add_explicit(&sh->ops[op].calls, 1, memory_order_relaxed);
	if (ret >= 0)
		atomic_fetch_add_explicit(&sh->ops[op].ok, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&sh->ops[op].err[e > 0 && e < ERRNO_SLOTS ? e : 0], 1,
					  memory_order_relaxed);
	errno = e;
}

/* A uapi rule: a call with these arguments never succeeds. */
static void must_fail(int ret, const char *what)
{
	atomic_fetch_add_explicit(&sh->must_fail_checks, 1, memory_order_relaxed);
	if (ret >= 0)
		fuzz_fail("%s succeeded", what);
}

/* ioctl(), retried when interrupted (a bounded number of times). */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret, tries = 0;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN) && ++tries < 4);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Touching mappings: SIGSEGV and SIGBUS are expected there, and counted */

static __thread sigjmp_buf *touch_jb;
static __thread volatile sig_atomic_t touching;

static void fault_handler(int sig)
{
	if (touching) {
		touching = 0;
		siglongjmp(*touch_jb, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_fault_handler(void)
{
	struct sigaction sa = { .sa_handler = fault_handler, .sa_flags = SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Read (and, when @write, write) a byte of up to @pages pages of
 * [@addr, @addr + @len): returns 0, or the signal that stopped it.
 */
static int touch(volatile uint8_t *addr, size_t len, bool write, int pages, uint64_t salt)
{
	sigjmp_buf jb;
	int sig;

	touch_jb = &jb;
	sig = sigsetjmp(jb, 1);
	if (sig) {
		atomic_fetch_add_explicit(&sh->signals, 1, memory_order_relaxed);
		return sig;
	}
	touching = 1;
	for (int i = 0; i < pages && len; i++) {
		size_t off = (size_t)((salt + i * 0x9e3779b1u) % len);
		uint8_t v = addr[off];

		if (write)
			addr[off] = v ^ (uint8_t)(salt >> 8);
	}
	touching = 0;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Devices of a worker */

enum dev {
	D_VP0, D_VP1, D_VP2, D_VP3,	/* vprime render nodes */
	D_C0, D_C1, D_C2, D_C3,		/* vprime card nodes */
	D_VGEM, D_VKMS, D_NUM
};

static int devfd[D_NUM];
/*
 * The instance behind each render node slot: vprime.0-3, but for slot 1,
 * which takes an instance with VRAM when the module has one (vprime.1 is
 * still reached through its card node), so that VRAM placement, eviction
 * and peer import (vprime.0) are fuzzed too; and slot 3, which takes an
 * instance behind an IOMMU when there is one (vprime.3 through its card
 * node), so that IO address allocation and its exhaustion are fuzzed.
 */
static int render_instance[4] = { 0, 1, 2, 3 };
/*
 * The slot whose instance hung jobs go to (vprime_find_hang_instance(): the
 * shortest job timeout; the test VM gives the others a long one), or -1.
 */
static int hang_dev = -1;
static int card0_master = -1;		/* the run's KMS master file (worker 0) */
static struct kms_output kms_out;
static bool kms_on;

static bool dev_vprime(int d)
{
	return d < D_VGEM;
}

static int random_dev(struct rng *r)
{
	return below(r, D_NUM);
}

static int random_vprime_dev(struct rng *r)
{
	return below(r, D_VGEM);
}

/* ---------------------------------------------------------------------- */
/* The table of objects a worker's threads share */

enum kind { K_FREE, K_BO, K_DMABUF, K_MAP, K_SYNCOBJ, K_SYNCFILE, K_FB };

struct slot {
	int kind, dev, users;
	uint32_t handle;		/* BO, SYNCOBJ; FB: the fb id */
	int fd;				/* DMABUF, SYNCFILE */
	uint64_t size;			/* BO, DMABUF, MAP: bytes (0: unknown) */
	void *addr;			/* MAP */
	int prot;			/* MAP */
	uint32_t pitch;			/* BO: a dumb buffer's pitch (0: none) */
	uint64_t point;			/* SYNCOBJ: its last timeline point */
};

static struct slot table[NSLOTS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

typedef bool (*slot_filter)(const struct slot *s, int arg);

static bool any_slot(const struct slot *s, int arg)
{
	(void)s;
	(void)arg;
	return true;
}

static bool on_dev(const struct slot *s, int arg)
{
	return s->dev == arg;
}

static bool vprime_slot(const struct slot *s, int arg)
{
	(void)arg;
	return dev_vprime(s->dev);
}

/*
 * A random slot of @kind that @filter accepts, copied to *@out; with @use
 * it is held (not removed by the reaper) until put(). Returns its index or -1.
 */
static int take_if(struct rng *r, int kind, slot_filter filter, int arg, bool use,
		   struct slot *out)
{
	int start = below(r, NSLOTS), found = -1;

	pthread_mutex_lock(&table_lock);
	for (int i = 0; i < NSLOTS; i++) {
		struct slot *s = &table[(start + i) % NSLOTS];

		if (s->kind == kind && filter(s, arg)) {
			found = (start + i) % NSLOTS;
			if (use)
				s->users++;
			*out = *s;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return found;
}

static int take(struct rng *r, int kind, bool use, struct slot *out)
{
	return take_if(r, kind, any_slot, 0, use, out);
}

static void put(int idx)
{
	if (idx < 0)
		return;
	pthread_mutex_lock(&table_lock);
	table[idx].users--;
	pthread_mutex_unlock(&table_lock);
}

static void release(const struct slot *s);

/*
 * Put @s in the table; when it is full, release it. A handle the table has
 * already (an import of a buffer the file has a handle for gives that
 * handle again) is not listed twice: a close of one copy would leave the
 * other stale for good.
 */
static void add(const struct slot *s)
{
	pthread_mutex_lock(&table_lock);
	if (s->kind == K_BO) {
		for (int i = 0; i < NSLOTS; i++) {
			if (table[i].kind == K_BO && table[i].dev == s->dev &&
			    table[i].handle == s->handle) {
				pthread_mutex_unlock(&table_lock);
				return;
			}
		}
	}
	for (int i = 0; i < NSLOTS; i++) {
		if (table[i].kind == K_FREE) {
			table[i] = *s;
			table[i].users = 0;
			pthread_mutex_unlock(&table_lock);
			return;
		}
	}
	pthread_mutex_unlock(&table_lock);
	release(s);
}

static int free_slots(void)
{
	int n = 0;

	pthread_mutex_lock(&table_lock);
	for (int i = 0; i < NSLOTS; i++)
		n += table[i].kind == K_FREE;
	pthread_mutex_unlock(&table_lock);
	return n;
}

/* Take a random unused slot of @kind out of the table, into *@out. */
static bool remove_slot(struct rng *r, int kind, struct slot *out)
{
	int start = below(r, NSLOTS);
	bool found = false;

	pthread_mutex_lock(&table_lock);
	for (int i = 0; i < NSLOTS && !found; i++) {
		struct slot *s = &table[(start + i) % NSLOTS];

		if (s->kind == kind && !s->users) {
			*out = *s;
			s->kind = K_FREE;
			found = true;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return found;
}

static int gem_close_ret(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return xioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

static void release(const struct slot *s)
{
	switch (s->kind) {
	case K_BO:
		gem_close_ret(devfd[s->dev], s->handle);
		break;
	case K_DMABUF:
	case K_SYNCFILE:
		close(s->fd);
		break;
	case K_MAP:
		munmap(s->addr, s->size);
		break;
	case K_SYNCOBJ: {
		struct drm_syncobj_destroy d = { .handle = s->handle };

		xioctl(devfd[s->dev], DRM_IOCTL_SYNCOBJ_DESTROY, &d);
		break;
	}
	case K_FB:
		drmModeRmFB(devfd[s->dev], s->handle);
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* Operations of the user thread */

static uint64_t valid_size(struct rng *r)
{
	static const uint64_t sizes[] = { 4096, 8192, 16384, 65536, 65536 + 4096, 262144,
					  1 << 20, 4 << 20 };

	if (one_in(r, 3))
		return 1 + below(r, 256 * 1024);
	return sizes[below(r, ARRAY_SIZE(sizes))];
}

static uint64_t total_ram;

static void op_gem_create(struct rng *r)
{
	struct drm_vprime_gem_create c = {};
	enum level l = pick_level(r);
	int d = random_vprime_dev(r), ret;

	c.size = valid_size(r);
	if (l == BOUNDARY) {
		static const uint64_t b[] = { 0, 1, 4095, 4097, (1 << 20) - 1, ~0ull,
					      ~0ull - 4094, 1ull << 63, 1ull << 40 };

		c.size = b[below(r, ARRAY_SIZE(b))];
	} else if (l == GARBAGE) {
		c.size = garbage_u64(r);
		c.flags = one_in(r, 2) ? (uint32_t)rnd(r) : 0;
		c.handle = (uint32_t)rnd(r);
	}
	{
		uint64_t asked = c.size;
		uint32_t flags = c.flags;

		ret = xioctl(devfd[d], DRM_IOCTL_VPRIME_GEM_CREATE, &c);
		count(OP_GEM_CREATE, ret);
		if (flags)
			must_fail(ret, "GEM_CREATE with flags");
		if (!asked)
			must_fail(ret, "GEM_CREATE of size 0");
		if (asked > 2 * total_ram)
			must_fail(ret, "GEM_CREATE larger than memory");
		if (ret)
			return;
		if (c.size < asked || c.size % 4096 || c.size - asked >= 4096)
			fuzz_fail("GEM_CREATE of %" PRIu64 " bytes returned size %llu",
				  asked, (unsigned long long)c.size);
	}
	if (c.size > (64u << 20)) {	/* never populate a huge one: the VM is small */
		gem_close_ret(devfd[d], c.handle);
		return;
	}
	add(&(struct slot){ .kind = K_BO, .dev = d, .handle = c.handle, .size = c.size });
}

static bool card_slot(const struct slot *s, int arg)
{
	(void)arg;
	return s->dev >= D_C0;
}

/*
 * The device of a random object of @kind that @filter accepts, most of the
 * time (so that its handles are there to use), else @fallback.
 */
static int dev_of(struct rng *r, int kind, slot_filter filter, int fallback)
{
	struct slot s;

	if (!one_in(r, 4) && take_if(r, kind, filter, 0, false, &s) >= 0)
		return s.dev;
	return fallback;
}

/* A handle: mostly one of the table's, sometimes garbage. */
static uint32_t pick_handle(struct rng *r, int d, enum level l, uint64_t *size)
{
	struct slot s;

	*size = 0;
	if (l != GARBAGE && take_if(r, K_BO, on_dev, d, false, &s) >= 0) {
		*size = s.size;
		return s.handle;
	}
	return one_in(r, 2) ? below(r, 64) : (uint32_t)rnd(r);
}

static void op_gem_info(struct rng *r)
{
	struct drm_vprime_gem_info info = {};
	enum level l = pick_level(r);
	int d = dev_of(r, K_BO, vprime_slot, random_vprime_dev(r)), ret;
	uint64_t size;

	info.handle = pick_handle(r, d, l, &size);
	if (l != VALID && one_in(r, 2))
		info.flags = 1u << below(r, 32);
	if (l != VALID && one_in(r, 2))
		info.pad = (uint32_t)rnd(r) | 1;
	ret = xioctl(devfd[d], DRM_IOCTL_VPRIME_GEM_INFO, &info);
	count(OP_GEM_INFO, ret);
	if (info.flags || info.pad)
		must_fail(ret, "GEM_INFO with flags or padding");
}

/* A user pointer to write to: valid, NULL, read-only, kernel, or garbage. */
static uint8_t *ro_page;

static uint64_t pick_out_ptr(struct rng *r, enum level l, void *valid)
{
	if (l == VALID)
		return (uintptr_t)valid;
	switch (below(r, 4)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)ro_page;
	case 2:
		return 0xffffffff81000000ull;
	default:
		return garbage_u64(r);
	}
}

static void op_gem_map(struct rng *r)
{
	struct drm_vprime_segment segs[8];
	struct drm_vprime_gem_map m = {};
	enum level l = pick_level(r);
	int d = dev_of(r, K_BO, vprime_slot, random_vprime_dev(r)), ret, map_idx = -1;
	struct slot map;
	uint64_t size;

	m.handle = pick_handle(r, d, l, &size);
	if (!one_in(r, 3)) {
		m.num_segments = l == VALID ? below(r, ARRAY_SIZE(segs) + 1) :
			(uint32_t)garbage_u64(r);
		m.segments_ptr = pick_out_ptr(r, l, segs);
		if (l == VALID && !m.num_segments)
			m.segments_ptr = 0;
	}
	if (l == GARBAGE && one_in(r, 2))
		m.flags = (uint32_t)rnd(r) | 1;
	/*
	 * A garbage pointer that happens to be one of our own writable pages
	 * would be written: only kernel, NULL, read-only or our array.
	 */
	if (m.segments_ptr && m.segments_ptr != (uintptr_t)segs &&
	    m.segments_ptr != (uintptr_t)ro_page && m.segments_ptr < 0xffff800000000000ull)
		m.segments_ptr = 0xffff800000000000ull;
	if (m.segments_ptr == (uintptr_t)segs && m.num_segments > ARRAY_SIZE(segs))
		m.num_segments = ARRAY_SIZE(segs);
	/*
	 * Or into one of our buffer mappings (perhaps of this very object,
	 * perhaps read-only or private): the copy faults there.
	 */
	if (one_in(r, 6)) {
		map_idx = take(r, K_MAP, true, &map);
		if (map_idx >= 0) {
			m.segments_ptr = (uintptr_t)map.addr;
			m.num_segments = 1 + below(r, map.size / sizeof(segs[0]) < 64 ?
						   map.size / sizeof(segs[0]) : 64);
		}
	}
	ret = xioctl(devfd[d], DRM_IOCTL_VPRIME_GEM_MAP, &m);
	put(map_idx);
	count(OP_GEM_MAP, ret);
	if (m.flags)
		must_fail(ret, "GEM_MAP with flags");
}

static void op_gem_unmap(struct rng *r)
{
	struct drm_vprime_gem_unmap u = {};
	enum level l = pick_level(r);
	int d = dev_of(r, K_BO, vprime_slot, random_vprime_dev(r)), ret;
	uint64_t size;

	u.handle = pick_handle(r, d, l, &size);
	if (l == GARBAGE && one_in(r, 2))
		u.flags = (uint32_t)rnd(r) | 1;
	ret = xioctl(devfd[d], DRM_IOCTL_VPRIME_GEM_UNMAP, &u);
	count(OP_GEM_UNMAP, ret);
	if (u.flags)
		must_fail(ret, "GEM_UNMAP with flags");
}

static _Atomic int hangs_left;

/* A surface that fits @size bytes: XRGB8888 or RGB565. */
static void surface_for(struct rng *r, struct drm_vprime_submit_bo *b, uint64_t size)
{
	uint32_t bpp = one_in(r, 4) ? 2 : 4, maxh;

	b->format = bpp == 2 ? DRM_FORMAT_RGB565 :
		(const uint32_t[]){ DRM_FORMAT_XRGB8888, DRM_FORMAT_ARGB8888,
				    DRM_FORMAT_XBGR8888, DRM_FORMAT_ABGR8888 }[below(r, 4)];
	b->width = 1 + below(r, 64);
	b->pitch = b->width * bpp + 4 * below(r, 4);
	maxh = size / b->pitch;
	if (maxh > 64)
		maxh = 64;
	b->height = maxh ? 1 + below(r, maxh) : 1;
}

static void rect_in(struct rng *r, const struct drm_vprime_submit_bo *b, uint32_t *x,
		    uint32_t *y, uint32_t *w, uint32_t *h)
{
	*w = 1 + below(r, b->width);
	*h = 1 + below(r, b->height);
	*x = below(r, b->width - *w + 1);
	*y = below(r, b->height - *h + 1);
}

static void op_submit(struct rng *r, bool hang)
{
	struct drm_vprime_submit_bo bos[4] = {};
	struct drm_vprime_cmd cmds[6] = {};
	struct drm_vprime_syncobj ins[2] = {};
	struct drm_vprime_submit s = {};
	enum level l = hang ? VALID : pick_level(r);
	int d = hang ? hang_dev : dev_of(r, K_BO, vprime_slot, random_vprime_dev(r));
	int ret, in_idx = -1, nbos = 1 + below(r, 3);
	struct slot fence_slot, sobj;
	uint32_t ncmds = 1 + below(r, ARRAY_SIZE(cmds));
	bool unused_set = false;

	if (d < 0)
		return;		/* no instance has a job timeout: nothing may hang */
	for (int i = 0; i < nbos; i++) {
		uint64_t size;

		bos[i].handle = pick_handle(r, d, l, &size);
		if (l == VALID && i && bos[i].handle == bos[i - 1].handle) {
			nbos = i;	/* the same buffer twice is an error: stop here */
			break;
		}
		if (!size) {
			struct drm_vprime_gem_info info = { .handle = bos[i].handle };

			if (!xioctl(devfd[d], DRM_IOCTL_VPRIME_GEM_INFO, &info))
				size = info.size;
		}
		bos[i].flags = VPRIME_SUBMIT_BO_READ | VPRIME_SUBMIT_BO_WRITE;
		surface_for(r, &bos[i], size ? size : 4096);
	}
	for (uint32_t i = 0; i < ncmds; i++) {
		struct drm_vprime_cmd *c = &cmds[i];
		uint32_t src = below(r, nbos), dst = below(r, nbos);
		uint32_t x, y, w, h;

		c->op = 1 + below(r, 3);
		c->src = src;
		c->dst = dst;
		rect_in(r, &bos[dst], &x, &y, &w, &h);
		c->dst_x = x;
		c->dst_y = y;
		c->width = w;
		c->height = h;
		c->value = (uint32_t)rnd(r);
		if (c->op == VPRIME_CMD_COPY || c->op == VPRIME_CMD_CHECKSUM) {
			if (w > bos[src].width)
				c->width = w = bos[src].width;
			if (h > bos[src].height)
				c->height = h = bos[src].height;
			c->src_x = below(r, bos[src].width - w + 1);
			c->src_y = below(r, bos[src].height - h + 1);
		}
		if (c->op == VPRIME_CMD_CHECKSUM) {
			uint64_t bytes = (uint64_t)bos[dst].pitch * bos[dst].height;

			c->dst_x = c->dst_y = 0;
			c->dst_offset = bytes >= 4 ? 4 * below(r, bytes / 4) : 0;
		}
		/* a field the op does not use must be 0 */
		if (c->op == VPRIME_CMD_FILL)
			c->src = c->src_x = c->src_y = 0;
		if (c->op != VPRIME_CMD_FILL)
			c->value = 0;
	}
	if (hang) {
		ncmds = 1;
		memset(cmds, 0, sizeof(cmds[0]));
		cmds[0].op = VPRIME_CMD_HANG;
	}
	if (l == BOUNDARY) {
		struct drm_vprime_cmd *c = &cmds[below(r, ncmds)];

		switch (below(r, 8)) {
		case 0:
			c->dst_x = bos[c->dst].width - c->width + 1;	/* one past */
			break;
		case 1:
			c->height = bos[c->dst].height + 1;
			break;
		case 2:
			bos[0].pitch = bos[0].width * 4 - 1;
			break;
		case 3:
			bos[0].flags = 0;
			break;
		case 4:
			if (nbos > 1)
				bos[1].handle = bos[0].handle;		/* listed twice */
			break;
		case 5:
			c->dst_offset = c->op == VPRIME_CMD_CHECKSUM ? c->dst_offset + 2 : 0;
			break;
		case 6:
			if (one_in(r, 2)) {
				bos[0].height = 0x7fffffff;
			} else {	/* a field this op does not use */
				if (c->op == VPRIME_CMD_FILL)
					c->src_y = 1;
				else
					c->value = 1;
				unused_set = true;
			}
			break;
		default:
			c->src = c->dst = nbos;				/* no such buffer */
			break;
		}
	} else if (l == GARBAGE) {
		uint8_t *p = one_in(r, 2) ? (uint8_t *)bos : (uint8_t *)cmds;
		size_t n = p == (uint8_t *)bos ? sizeof(bos) : sizeof(cmds);

		for (int i = 0; i < 4; i++)
			p[below(r, n)] = (uint8_t)rnd(r);
	}
	s.bos_ptr = (uintptr_t)bos;
	s.cmds_ptr = (uintptr_t)cmds;
	s.num_bos = nbos;
	s.num_cmds = ncmds;
	if (l == BOUNDARY && one_in(r, 3)) {
		static const uint32_t counts[] = { 0, VPRIME_SUBMIT_MAX_BOS + 1,
						   VPRIME_SUBMIT_MAX_CMDS + 1, ~0u };
		uint32_t v = counts[below(r, ARRAY_SIZE(counts))];

		if (one_in(r, 2))
			s.num_bos = v;
		else
			s.num_cmds = v;
		/* never let the kernel read past our arrays into other memory */
		if (s.num_bos > ARRAY_SIZE(bos) && s.num_bos <= VPRIME_SUBMIT_MAX_BOS)
			s.num_bos = ARRAY_SIZE(bos);
		if (s.num_cmds > ARRAY_SIZE(cmds) && s.num_cmds <= VPRIME_SUBMIT_MAX_CMDS)
			s.num_cmds = ARRAY_SIZE(cmds);
	}
	if (l == GARBAGE && one_in(r, 3))
		s.bos_ptr = one_in(r, 2) ? 0 : 0xffff800000000000ull;
	if (l == GARBAGE && one_in(r, 3))
		s.cmds_ptr = one_in(r, 2) ? 1 : 0xffffffff81000000ull;

	/* fences */
	if (one_in(r, 4))
		s.flags |= VPRIME_SUBMIT_OUT_FENCE_FD;
	if (one_in(r, 6)) {
		in_idx = take(r, K_SYNCFILE, true, &fence_slot);
		if (in_idx >= 0) {
			s.flags |= VPRIME_SUBMIT_IN_FENCE_FD;
			s.in_fence_fd = fence_slot.fd;
		}
	}
	if (one_in(r, 5) && take_if(r, K_SYNCOBJ, on_dev, d, false, &sobj) >= 0) {
		s.flags |= VPRIME_SUBMIT_OUT_SYNCOBJ;
		s.out_syncobj.handle = sobj.handle;
		s.out_syncobj.point = one_in(r, 2) ? 0 : sobj.point + 1;
	}
	if (one_in(r, 6) && take_if(r, K_SYNCOBJ, on_dev, d, false, &sobj) >= 0) {
		ins[0].handle = sobj.handle;
		/* an unsubmitted point makes the core wait: only rarely */
		ins[0].point = one_in(r, 2000) ? sobj.point + 1 : one_in(r, 2) ? 0 : sobj.point;
		s.in_syncobjs_ptr = (uintptr_t)ins;
		s.num_in_syncobjs = 1;
	}
	if (l == GARBAGE && one_in(r, 3))
		s.flags |= 1u << below(r, 32);
	if (l == GARBAGE && one_in(r, 4)) {
		s.in_fence_fd = (int32_t)garbage_u64(r);
		s.flags |= VPRIME_SUBMIT_IN_FENCE_FD;
	}
	if (l == GARBAGE && one_in(r, 4))
		s.out_syncobj.pad = 1;
	if (l == GARBAGE && one_in(r, 4)) {
		s.num_in_syncobjs = one_in(r, 2) ? VPRIME_SUBMIT_MAX_SYNCOBJS + 1 : 2;
		s.in_syncobjs_ptr = one_in(r, 2) ? 0 : (uintptr_t)ins;
		ins[1].pad = (uint32_t)rnd(r);
		if (s.num_in_syncobjs > 2 && s.num_in_syncobjs <= VPRIME_SUBMIT_MAX_SYNCOBJS)
			s.num_in_syncobjs = 2;
	}

	ret = xioctl(devfd[d], DRM_IOCTL_VPRIME_SUBMIT, &s);
	count(hang ? OP_HANG : OP_SUBMIT, ret);
	put(in_idx);
	if (s.flags & ~(VPRIME_SUBMIT_IN_FENCE_FD | VPRIME_SUBMIT_OUT_FENCE_FD |
			VPRIME_SUBMIT_OUT_SYNCOBJ))
		must_fail(ret, "SUBMIT with unknown flags");
	if (s.out_syncobj.pad || !s.num_bos || s.num_bos > VPRIME_SUBMIT_MAX_BOS ||
	    !s.num_cmds || s.num_cmds > VPRIME_SUBMIT_MAX_CMDS ||
	    s.num_in_syncobjs > VPRIME_SUBMIT_MAX_SYNCOBJS)
		must_fail(ret, "SUBMIT with padding or a count out of range");
	if (unused_set)
		must_fail(ret, "SUBMIT of a command with a field its op does not use");
	if (ret)
		return;
	if (s.flags & VPRIME_SUBMIT_OUT_SYNCOBJ && s.out_syncobj.point) {
		pthread_mutex_lock(&table_lock);
		for (int i = 0; i < NSLOTS; i++)
			if (table[i].kind == K_SYNCOBJ && table[i].dev == d &&
			    table[i].handle == s.out_syncobj.handle &&
			    table[i].point < s.out_syncobj.point)
				table[i].point = s.out_syncobj.point;
		pthread_mutex_unlock(&table_lock);
	}
	if (s.flags & VPRIME_SUBMIT_OUT_FENCE_FD)
		add(&(struct slot){ .kind = K_SYNCFILE, .fd = s.out_fence_fd });
}

static void op_wait_idle(struct rng *r)
{
	static const int64_t timeouts[] = { 0, 1000000, 20000000, 100000000, -1 };
	struct drm_vprime_wait_idle w = {};
	enum level l = pick_level(r);
	int d = dev_of(r, K_BO, vprime_slot, random_vprime_dev(r)), ret;
	uint64_t size;

	w.handle = pick_handle(r, d, l, &size);
	w.timeout_ns = timeouts[below(r, ARRAY_SIZE(timeouts))];
	if (l == BOUNDARY)
		w.timeout_ns = one_in(r, 2) ? INT64_MIN : 2000000000;	/* a HANG's 1 s */
	if (l == GARBAGE && one_in(r, 2))
		w.flags = (uint32_t)rnd(r) | 1;
	ret = xioctl(devfd[d], DRM_IOCTL_VPRIME_WAIT_IDLE, &w);
	count(OP_WAIT_IDLE, ret);
	if (w.flags)
		must_fail(ret, "WAIT_IDLE with flags");
}

/* Card nodes that create dumb buffers: vprime's, vgem, vkms. */
static int random_card(struct rng *r)
{
	static const int cards[] = { D_C0, D_C1, D_C2, D_C3, D_VGEM, D_VKMS };

	return cards[below(r, ARRAY_SIZE(cards))];
}

static void op_dumb_create(struct rng *r)
{
	struct drm_mode_create_dumb c = {};
	enum level l = pick_level(r);
	int d = random_card(r), ret;

	c.width = 1 + below(r, 1024);
	c.height = 1 + below(r, 256);
	c.bpp = one_in(r, 4) ? 16 : 32;
	if (l == BOUNDARY) {
		c.width = one_in(r, 2) ? 0 : 0xffffffffu;
		c.height = one_in(r, 2) ? 1 : 0x10000;
		c.bpp = one_in(r, 2) ? 0 : 33;
	} else if (l == GARBAGE) {
		c.width = (uint32_t)garbage_u64(r);
		c.height = (uint32_t)garbage_u64(r);
		c.bpp = (uint32_t)rnd(r);
		c.flags = one_in(r, 2) ? (uint32_t)rnd(r) : 0;
	}
	/* keep a valid-looking request small: the VM has 5 GiB for three workers */
	if ((uint64_t)c.width * c.height * ((c.bpp + 7) / 8) > (16u << 20))
		c.height = 1;
	ret = xioctl(devfd[d], DRM_IOCTL_MODE_CREATE_DUMB, &c);
	count(OP_DUMB_CREATE, ret);
	if (ret)
		return;
	if (c.size > (64u << 20)) {
		gem_close_ret(devfd[d], c.handle);
		return;
	}
	add(&(struct slot){ .kind = K_BO, .dev = d, .handle = c.handle, .size = c.size,
			    .pitch = c.pitch });
}

static bool private_maps;

static int random_prot(struct rng *r, int *flags)
{
	*flags = private_maps && one_in(r, 4) ? MAP_PRIVATE : MAP_SHARED;
	switch (below(r, 6)) {
	case 0:
		return PROT_READ;
	case 1:
		return PROT_WRITE;
	default:
		return PROT_READ | PROT_WRITE;
	}
}

static void add_map(void *p, uint64_t len, int prot)
{
	add(&(struct slot){ .kind = K_MAP, .addr = p, .size = len, .prot = prot });
}

/* mmap a GEM object through its fake offset (vprime: GEM_INFO; others: MAP_DUMB). */
static void op_mmap_gem(struct rng *r, bool dumb)
{
	enum level l = pick_level(r);
	int d = dumb ? dev_of(r, K_BO, card_slot, random_card(r)) :
		dev_of(r, K_BO, vprime_slot, random_vprime_dev(r)), ret, flags, prot;
	uint64_t size, offset = 0, len;
	uint32_t handle = pick_handle(r, d, l, &size);
	bool known = false;
	void *p;

	if (dumb) {
		struct drm_mode_map_dumb m = { .handle = handle };

		if (l == GARBAGE && one_in(r, 2))
			m.pad = (uint32_t)rnd(r) | 1;
		ret = xioctl(devfd[d], DRM_IOCTL_MODE_MAP_DUMB, &m);
		count(OP_DUMB_MAP, ret);
		if (ret)
			return;
		offset = m.offset;
	} else {
		struct drm_vprime_gem_info info = { .handle = handle };

		if (xioctl(devfd[d], DRM_IOCTL_VPRIME_GEM_INFO, &info))
			return;
		offset = info.mmap_offset;
		size = info.size;
		known = true;
	}
	if (!size)
		size = 4096;
	len = size;
	if (l == VALID && one_in(r, 3))
		len = 4096 * (1 + below(r, (size + 4095) / 4096));	/* a prefix */
	if (l == BOUNDARY)
		len = one_in(r, 2) ? size + 4096 : 0;		/* beyond the object */
	if (l == GARBAGE && one_in(r, 2))
		offset += 4096 * (1 + below(r, 16));		/* inside, or someone else's */
	if (len > (64u << 20))
		len = 64u << 20;
	prot = random_prot(r, &flags);
	p = mmap(NULL, len, prot, flags, devfd[d], offset);
	ret = p == MAP_FAILED ? -1 : 0;
	count(OP_MMAP_GEM, ret);
	if (known && l == BOUNDARY && len > size)
		must_fail(ret, "mmap of a vprime object beyond its size");
	if (dev_vprime(d) && flags == MAP_PRIVATE)
		must_fail(ret, "MAP_PRIVATE mmap of a vprime object");
	if (!ret)
		add_map(p, len, prot);
}

static void op_mmap_dmabuf(struct rng *r)
{
	struct slot s;
	int idx = take(r, K_DMABUF, true, &s), flags, prot, ret;
	enum level l = pick_level(r);
	uint64_t len, off = 0;
	void *p;

	if (idx < 0)
		return;
	len = s.size ? s.size : 4096;
	if (l == VALID && one_in(r, 3))
		len = 4096 * (1 + below(r, (len + 4095) / 4096));
	if (l == BOUNDARY)
		len += 4096;
	if (l == GARBAGE)
		off = 4096 * below(r, 32);
	if (len > (64u << 20))
		len = 64u << 20;
	prot = random_prot(r, &flags);
	p = mmap(NULL, len, prot, flags, s.fd, off);
	ret = p == MAP_FAILED ? -1 : 0;
	count(OP_MMAP_DMABUF, ret);
	put(idx);
	if (!ret)
		add_map(p, len, prot);
}

static void op_touch(struct rng *r)
{
	struct slot s;
	int idx = take(r, K_MAP, true, &s);
	bool write;

	if (idx < 0)
		return;
	write = (s.prot & PROT_WRITE) || one_in(r, 50);
	if (!(s.prot & PROT_READ) && !one_in(r, 50)) {
		/* PROT_WRITE alone is readable on x86; still, mostly write */
		write = true;
	}
	count(OP_TOUCH, touch(s.addr, s.size, write, 1 + below(r, 8), rnd(r)) ? -1 : 0);
	put(idx);
}

static void op_prime_export(struct rng *r)
{
	struct drm_prime_handle p = {};
	enum level l = pick_level(r);
	int d = dev_of(r, K_BO, any_slot, random_dev(r)), ret;
	uint64_t size;

	p.handle = pick_handle(r, d, l, &size);
	p.flags = DRM_CLOEXEC | (one_in(r, 3) ? 0 : DRM_RDWR);
	if (l == GARBAGE)
		p.flags = (uint32_t)rnd(r);
	p.fd = -1;
	ret = xioctl(devfd[d], DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);
	count(OP_PRIME_EXPORT, ret);
	if (ret)
		return;
	if (!size) {
		off_t end = lseek(p.fd, 0, SEEK_END);

		size = end > 0 ? (uint64_t)end : 0;
	}
	add(&(struct slot){ .kind = K_DMABUF, .fd = p.fd, .size = size });
}

static void op_prime_import(struct rng *r)
{
	struct drm_prime_handle p = {};
	enum level l = pick_level(r);
	int d = random_dev(r), ret, idx = -1;
	struct slot s;

	if (l == GARBAGE) {
		p.fd = one_in(r, 2) ? (int)garbage_u64(r) : devfd[random_dev(r)];
	} else {
		idx = take(r, K_DMABUF, true, &s);
		if (idx < 0)
			return;
		p.fd = s.fd;
	}
	ret = xioctl(devfd[d], DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);
	count(OP_PRIME_IMPORT, ret);
	put(idx);
	if (!ret && idx >= 0)
		add(&(struct slot){ .kind = K_BO, .dev = d, .handle = p.handle, .size = s.size });
}

static void op_dmabuf_sync(struct rng *r)
{
	static const uint64_t valid[] = { DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW };
	struct dma_buf_sync sync = {};
	enum level l = pick_level(r);
	struct slot s;
	int idx = take(r, K_DMABUF, true, &s), ret;

	if (idx < 0)
		return;
	sync.flags = valid[below(r, 3)] | (one_in(r, 2) ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END);
	if (l != VALID)
		sync.flags = l == BOUNDARY ? 0 : garbage_u64(r);
	ret = xioctl(s.fd, DMA_BUF_IOCTL_SYNC, &sync);
	count(OP_DMABUF_SYNC, ret);
	put(idx);
	if (sync.flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK || !(sync.flags & DMA_BUF_SYNC_RW))
		must_fail(ret, "DMA_BUF_IOCTL_SYNC with bad flags");
}

#ifndef DMA_BUF_IOCTL_EXPORT_SYNC_FILE
struct dma_buf_export_sync_file { __u32 flags; __s32 fd; };
struct dma_buf_import_sync_file { __u32 flags; __s32 fd; };
#define DMA_BUF_IOCTL_EXPORT_SYNC_FILE	_IOWR(DMA_BUF_BASE, 2, struct dma_buf_export_sync_file)
#define DMA_BUF_IOCTL_IMPORT_SYNC_FILE	_IOW(DMA_BUF_BASE, 3, struct dma_buf_import_sync_file)
#endif

/* The dma-buf's fences as a sync_file, or a sync_file into the dma-buf. */
static void op_dmabuf_sync_file(struct rng *r)
{
	struct slot s, f;
	int idx = take(r, K_DMABUF, true, &s), fidx = -1, ret;

	if (idx < 0)
		return;
	if (one_in(r, 2)) {
		struct dma_buf_export_sync_file e = {
			.flags = one_in(r, 8) ? (uint32_t)rnd(r) : 1 + below(r, 3), .fd = -1,
		};

		ret = xioctl(s.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e);
		if (!ret)
			add(&(struct slot){ .kind = K_SYNCFILE, .fd = e.fd });
	} else {
		struct dma_buf_import_sync_file i = { .flags = 1 + below(r, 3) };

		fidx = take(r, K_SYNCFILE, true, &f);
		i.fd = fidx >= 0 ? f.fd : (int)garbage_u64(r);
		ret = xioctl(s.fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &i);
	}
	count(OP_DMABUF_SYNC_FILE, ret);
	put(fidx);
	put(idx);
}

static void op_poll(struct rng *r)
{
	struct slot s;
	int idx = take(r, one_in(r, 2) ? K_DMABUF : K_SYNCFILE, true, &s), ret;
	struct pollfd pfd;

	if (idx < 0)
		return;
	pfd.fd = s.fd;
	pfd.events = (one_in(r, 2) ? POLLIN : 0) | (one_in(r, 2) ? POLLOUT : 0);
	ret = poll(&pfd, 1, below(r, 3) * 5);
	count(OP_POLL, ret);
	put(idx);
}

static void op_syncobj_create(struct rng *r)
{
	struct drm_syncobj_create c = {};
	int d = random_vprime_dev(r), ret;

	if (one_in(r, 3))
		c.flags = DRM_SYNCOBJ_CREATE_SIGNALED;
	if (one_in(r, 30))
		c.flags = (uint32_t)rnd(r);
	ret = xioctl(devfd[d], DRM_IOCTL_SYNCOBJ_CREATE, &c);
	count(OP_SYNCOBJ_CREATE, ret);
	if (!ret)
		add(&(struct slot){ .kind = K_SYNCOBJ, .dev = d, .handle = c.handle });
}

static void op_syncobj_wait(struct rng *r)
{
	uint32_t handles[2];
	uint64_t points[2] = {};
	struct slot s;
	int d = dev_of(r, K_SYNCOBJ, any_slot, random_vprime_dev(r)), ret, n = 1 + below(r, 2);

	for (int i = 0; i < n; i++) {
		bool have = take_if(r, K_SYNCOBJ, on_dev, d, false, &s) >= 0;

		handles[i] = have ? s.handle : below(r, 8);
		points[i] = have && one_in(r, 2) ? s.point : 0;
	}
	if (one_in(r, 2)) {
		struct drm_syncobj_wait w = {
			.handles = (uintptr_t)handles, .count_handles = n,
			.timeout_nsec = now_ns_abs() + below(r, 20) * 1000000ll,
			.flags = (one_in(r, 2) ? DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL : 0) |
				 (one_in(r, 2) ? DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT : 0),
		};

		if (one_in(r, 30))
			w.flags |= 1u << below(r, 32);
		ret = xioctl(devfd[d], DRM_IOCTL_SYNCOBJ_WAIT, &w);
	} else {
		struct drm_syncobj_timeline_wait w = {
			.handles = (uintptr_t)handles, .points = (uintptr_t)points,
			.count_handles = n,
			.timeout_nsec = now_ns_abs() + below(r, 20) * 1000000ll,
			.flags = (one_in(r, 2) ? DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL : 0) |
				 (one_in(r, 2) ? DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT : 0),
		};

		ret = xioctl(devfd[d], DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
	}
	count(OP_SYNCOBJ_WAIT, ret);
}

static void op_syncobj_signal(struct rng *r)
{
	struct slot s;
	int d = dev_of(r, K_SYNCOBJ, any_slot, random_vprime_dev(r)), ret;
	uint32_t h;

	h = take_if(r, K_SYNCOBJ, on_dev, d, false, &s) >= 0 ? s.handle : below(r, 8);
	{
		struct drm_syncobj_array a = { .handles = (uintptr_t)&h, .count_handles = 1 };

		ret = xioctl(devfd[d], one_in(r, 2) ? DRM_IOCTL_SYNCOBJ_SIGNAL :
			     DRM_IOCTL_SYNCOBJ_RESET, &a);
	}
	count(OP_SYNCOBJ_SIGNAL, ret);
}

static void op_syncobj_export(struct rng *r)
{
	struct drm_syncobj_handle h = { .fd = -1 };
	struct slot s;
	int d = dev_of(r, K_SYNCOBJ, any_slot, random_vprime_dev(r)), ret;

	h.handle = take_if(r, K_SYNCOBJ, on_dev, d, false, &s) >= 0 ? s.handle : below(r, 8);
	h.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE;
	ret = xioctl(devfd[d], DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);
	count(OP_SYNCOBJ_EXPORT, ret);
	if (!ret)
		add(&(struct slot){ .kind = K_SYNCFILE, .fd = h.fd });
}

static void op_syncobj_import(struct rng *r)
{
	struct drm_syncobj_handle h = {};
	struct slot s, f;
	int d = dev_of(r, K_SYNCOBJ, any_slot, random_vprime_dev(r)), ret, fidx;

	fidx = take(r, K_SYNCFILE, true, &f);
	if (fidx < 0)
		return;
	h.handle = take_if(r, K_SYNCOBJ, on_dev, d, false, &s) >= 0 ? s.handle : below(r, 8);
	h.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE;
	h.fd = f.fd;
	ret = xioctl(devfd[d], DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &h);
	count(OP_SYNCOBJ_IMPORT, ret);
	put(fidx);
}

static void op_sync_file(struct rng *r)
{
	struct slot a, b;
	int ia = take(r, K_SYNCFILE, true, &a), ib, ret;

	if (ia < 0)
		return;
	if (one_in(r, 2)) {
		struct sync_fence_info fi[4];
		struct sync_file_info info = {};

		if (one_in(r, 2)) {
			info.num_fences = ARRAY_SIZE(fi);
			info.sync_fence_info = (uintptr_t)fi;
		}
		ret = xioctl(a.fd, SYNC_IOC_FILE_INFO, &info);
	} else {
		struct sync_merge_data m = { .name = "fuzz" };

		ib = take(r, K_SYNCFILE, true, &b);
		m.fd2 = ib >= 0 ? b.fd : a.fd;
		ret = xioctl(a.fd, SYNC_IOC_MERGE, &m);
		put(ib);
		if (!ret)
			add(&(struct slot){ .kind = K_SYNCFILE, .fd = m.fence });
	}
	count(OP_SYNC_FILE, ret);
	put(ia);
}

/* ---------------------------------------------------------------------- */
/* Passing fds between the workers */

static int sock_send = -1, sock_recv = -1;

static void op_send(struct rng *r)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	int kind = one_in(r, 3) ? K_SYNCFILE : K_DMABUF;
	struct slot s;
	int idx = take(r, kind, true, &s), ret;
	uint8_t tag = (uint8_t)kind;
	uint64_t payload[2] = { tag, s.size };
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof(payload) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	if (idx < 0)
		return;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &s.fd, sizeof(int));
	ret = sendmsg(sock_send, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	count(OP_SEND, ret);
	put(idx);
}

static void op_recv(struct rng *r)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	uint64_t payload[2] = {};
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof(payload) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	ssize_t n;

	(void)r;
	n = recvmsg(sock_recv, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	count(OP_RECV, n < 0 ? -1 : 0);
	if (n < 0)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		int nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (int i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			add(&(struct slot){ .kind = payload[0] == K_SYNCFILE ? K_SYNCFILE :
					    K_DMABUF, .fd = fd, .size = payload[1] });
		}
	}
}

/* ---------------------------------------------------------------------- */
/* fork with everything held: the child uses and drops some of it and exits */

static void op_fork(struct rng *r)
{
	struct slot map, bo, buf;
	uint64_t child_seed = rnd(r);
	int have_map, have_bo, have_buf, status = 0;
	pid_t pid;

	have_map = take(r, K_MAP, true, &map);
	have_bo = take_if(r, K_BO, vprime_slot, 0, false, &bo);
	have_buf = take(r, K_DMABUF, true, &buf);
	pid = fork();
	if (pid == 0) {
		/* async-signal-safe calls only: we are a copy of a threaded process */
		struct rng cr;

		rng_seed(&cr, child_seed);
		if (have_map >= 0)
			touch(map.addr, map.size, map.prot & PROT_WRITE, 4, rnd(&cr));
		if (have_bo >= 0) {
			struct drm_vprime_gem_info info = { .handle = bo.handle };

			ioctl(devfd[bo.dev], DRM_IOCTL_VPRIME_GEM_INFO, &info);
			if (one_in(&cr, 2)) {
				struct drm_vprime_gem_map m = { .handle = bo.handle };

				ioctl(devfd[bo.dev], DRM_IOCTL_VPRIME_GEM_MAP, &m);
			}
		}
		if (have_buf >= 0) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, buf.fd, 0);

			if (p != MAP_FAILED)
				touch(p, 4096, true, 1, rnd(&cr));
			if (one_in(&cr, 2))
				close(buf.fd);
		}
		_exit(0);
	}
	count(OP_FORK, pid < 0 ? -1 : 0);
	if (pid > 0) {
		int64_t deadline = now_ms() + 30000;

		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (now_ms() > deadline) {
				kill(pid, SIGKILL);
				fuzz_fail("a forked child (pid %d) did not exit in 30 s", pid);
			}
			usleep(1000);
		}
		if (WIFSIGNALED(status))
			fuzz_fail("a forked child died of signal %d", WTERMSIG(status));
	}
	put(have_map);
	put(have_buf);
}

/* ---------------------------------------------------------------------- */
/* KMS: framebuffers and atomic commits on vprime.0's card node (worker 0) */

static void op_addfb(struct rng *r)
{
	struct slot s;
	uint32_t w, h, pitch, fb = 0;
	int ret, d = D_C0;
	uint64_t size;

	if (card0_master < 0)
		return;
	/* a local dumb buffer, or a dma-buf imported into vprime.0 */
	if (one_in(r, 2) && take_if(r, K_BO, on_dev, D_C0, false, &s) >= 0 && s.pitch) {
		pitch = s.pitch;
		size = s.size;
	} else {
		struct drm_prime_handle p = {};
		int idx = take(r, K_DMABUF, true, &s);

		if (idx < 0)
			return;
		p.fd = s.fd;
		ret = xioctl(devfd[d], DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);
		put(idx);
		if (ret)
			return;
		add(&(struct slot){ .kind = K_BO, .dev = d, .handle = p.handle, .size = s.size });
		s.handle = p.handle;
		size = s.size;
		pitch = 4 * (1 + below(r, 256));
	}
	if (!size)
		return;
	w = one_in(r, 4) ? 64 : 1 + below(r, pitch / 4);
	h = size / pitch;
	if (h > 256)
		h = 256;
	if (!h || w > pitch / 4)
		return;
	ret = drmModeAddFB2(devfd[d], w, h, DRM_FORMAT_XRGB8888, (uint32_t[4]){ s.handle },
			    (uint32_t[4]){ pitch }, (uint32_t[4]){ 0 }, &fb, 0);
	count(OP_ADDFB, ret);
	if (!ret)
		add(&(struct slot){ .kind = K_FB, .dev = d, .handle = fb, .size = w,
				    .pitch = h });
}

static bool has_cursor;
static int num_overlays;	/* of the CRTC, up to two used */

/* Give the overlays op_commit() used their default zpos (1, 2) again. */
static void restore_overlay_zpos(void)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();

	vt_assert(req);
	for (int i = 0; i < num_overlays; i++) {
		uint32_t id = kms_plane_id_nth(card0_master, kms_out.crtc_index,
					       KMS_PLANE_OVERLAY, i);

		vt_assert(drmModeAtomicAddProperty(req, id, kms_prop_id(card0_master, id,
						   DRM_MODE_OBJECT_PLANE, "zpos"), i + 1) > 0);
	}
	vt_assert_f(num_overlays == 0 || drmModeAtomicCommit(card0_master, req, 0, NULL) == 0,
		    "restoring the overlays' zpos: %m\n");
	drmModeAtomicFree(req);
}

/*
 * A commit of some of the CRTC's planes: the primary, up to two overlays
 * (the second one's setup goes to the second overlay), the cursor; an
 * overlay sometimes with a zpos, now and then one past the range.
 */
static void op_commit(struct rng *r)
{
	struct kms_plane_setup setups[4];
	struct slot fb;
	int n = 0, ret;
	uint32_t flags;

	if (card0_master < 0 || !kms_on)
		return;
	for (int type = 0; type < 4; type++) {
		enum kms_plane_type t = type == 0 ? KMS_PLANE_PRIMARY :
			type < 3 ? KMS_PLANE_OVERLAY : KMS_PLANE_CURSOR;

		if ((t == KMS_PLANE_OVERLAY && type > num_overlays) ||
		    (t == KMS_PLANE_CURSOR && !has_cursor) || one_in(r, 2))
			continue;
		if (take(r, K_FB, false, &fb) < 0)
			break;
		setups[n] = (struct kms_plane_setup){
			.type = t, .fb_id = one_in(r, 50) ? (uint32_t)rnd(r) : fb.handle,
			.x = (int32_t)below(r, KMS_W + 64) - 32,
			.y = (int32_t)below(r, KMS_H + 64) - 32,
			.w = fb.size, .h = fb.pitch,
		};
		if (t == KMS_PLANE_OVERLAY && one_in(r, 2))
			setups[n].props[0] = (struct kms_prop){
				.name = "zpos", .value = below(r, num_overlays + 2),
			};
		n++;
	}
	flags = (const uint32_t[]){ DRM_MODE_ATOMIC_TEST_ONLY, DRM_MODE_ATOMIC_NONBLOCK,
				    0 }[below(r, 3)];
	ret = kms_output_try_planes(card0_master, &kms_out, setups, n, flags);
	count(OP_COMMIT, ret ? -1 : 0);
}

/* ---------------------------------------------------------------------- */
/* Any vprime ioctl number with any bytes */

static void op_garbage_ioctl(struct rng *r)
{
	uint64_t buf[16];
	unsigned long nr = DRM_COMMAND_BASE + below(r, 8);
	unsigned int size = 8 * below(r, ARRAY_SIZE(buf) + 1);
	unsigned long req;
	int d = random_vprime_dev(r), ret;

	for (size_t i = 0; i < ARRAY_SIZE(buf); i++)
		buf[i] = garbage_u64(r);
	/* pointers in there must never name our own writable memory */
	for (size_t i = 0; i < ARRAY_SIZE(buf); i++)
		if (buf[i] >= 0x10000 && buf[i] < 0xffff800000000000ull)
			buf[i] |= 0xffff800000000000ull;
	switch (below(r, 3)) {
	case 0:
		req = DRM_IOWR(nr, uint64_t[16]);
		break;
	case 1:
		req = _IOC(_IOC_READ | _IOC_WRITE, DRM_IOCTL_BASE, nr, size);
		break;
	default:
		req = _IOC(_IOC_WRITE, DRM_IOCTL_BASE, nr, size);
		break;
	}
	/* a WAIT_IDLE or SUBMIT that parses: keep its waits short */
	if (nr == DRM_COMMAND_BASE + DRM_VPRIME_WAIT_IDLE)
		buf[1] = (int64_t)buf[1] > 100000000 ? 100000000 : buf[1];
	ret = ioctl(devfd[d], req, buf);
	count(OP_GARBAGE_IOCTL, ret);
}

/* ---------------------------------------------------------------------- */
/* The known-good round trip: vprime.0 -> vprime.1 and vprime.2 */

static void roundtrip(struct rng *r)
{
	const uint64_t size = 65536 + 4096 * below(r, 16);
	uint32_t seed = (uint32_t)rnd(r), h0, h[2];
	int fd0, fds[2], fd3, dmabuf;
	uint8_t *p, *ref;

	/* files of its own: nothing else in this process knows their handles */
	fd0 = vprime_open(0, VPRIME_NODE_RENDER);
	fds[0] = vprime_open(1, VPRIME_NODE_RENDER);
	fds[1] = vprime_open(2, VPRIME_NODE_RENDER);
	fd3 = vprime_open(3, VPRIME_NODE_RENDER);
	h0 = vprime_gem_create(fd0, size);
	p = vprime_gem_mmap(fd0, h0, size);
	pattern_fill(p, size, seed);
	ref = malloc(size);
	vt_assert(ref);
	memcpy(ref, p, size);
	dmabuf = prime_export(fd0, h0, DRM_CLOEXEC | DRM_RDWR);
	for (int i = 0; i < 2; i++) {
		uint8_t *q;

		h[i] = prime_import(fds[i], dmabuf);
		q = vprime_gem_mmap(fds[i], h[i], size);
		if (memcmp(p, q, size)) {
			char what[64];

			snprintf(what, sizeof(what), "round trip to vprime.%d", i + 1);
			fprintf(stderr, "vprime_fuzz: FAIL seed %" PRIu64 " worker %d op %" PRIu64
				": %s returned other bytes\n", run_seed, worker_id, my_index, what);
			pattern_check(q, size, seed, what);
			fuzz_fail("%s: memcmp differs, pattern_check does not", what);
		}
		munmap(q, size);
	}
	/* and through the dma-buf's own mmap */
	{
		uint8_t *q = mmap(NULL, size, PROT_READ, MAP_SHARED, dmabuf, 0);

		if (q == MAP_FAILED)
			fuzz_fail("round trip: mmap of the dma-buf: %m");
		if (memcmp(p, q, size))
			fuzz_fail("round trip: the dma-buf's mmap returned other bytes");
		munmap(q, size);
	}
	/*
	 * Move the storage: vprime.2 needs it below 4 GiB, vprime.3 in one
	 * block. The exporter's CPU mapping must follow every move.
	 */
	for (int i = 0; i < 2; i++) {
		int fd = i ? fd3 : fds[1];
		uint32_t h3 = i ? prime_import(fd3, dmabuf) : h[1];
		int err = vprime_gem_try_map(fd, h3, NULL, NULL, NULL);

		if (err && err != ENOMEM && err != EBUSY && err != ETIMEDOUT)
			fuzz_fail("round trip: GEM_MAP on vprime.%d: %s", i ? 3 : 2, strerror(err));
		if (!err)
			vprime_gem_unmap(fd, h3);
		if (memcmp(p, ref, size))
			fuzz_fail("round trip: the bytes changed after GEM_MAP on vprime.%d (%s)",
				  i ? 3 : 2, err ? strerror(err) : "mapped");
		if (i)
			gem_close(fd3, h3);
	}
	/* a job of vprime.1 writes, the exporter's mapping sees it */
	{
		struct vprime_job job;
		int fence, status;
		uint32_t b;

		vprime_job_init(&job);
		b = vprime_job_add_bo(&job, h[0], VPRIME_SUBMIT_BO_WRITE, 64, 64, 256,
				      DRM_FORMAT_XRGB8888);
		vprime_job_fill(&job, b, 0, 0, 64, 64, 0xff123456);
		vprime_job_out_fence(&job);
		fence = vprime_job_submit(fds[0], &job);
		if (vprime_try_wait_idle(fds[0], h[0], 10000000000ll))
			fuzz_fail("round trip: the fill of vprime.1 did not finish in 10 s");
		status = sync_file_status(fence);
		close(fence);
		if (status != 1)
			fuzz_fail("round trip: vprime.1's fill ended with status %d (%s)", status,
				  status < 0 ? strerror(-status) : "not signalled");
		for (size_t i = 0; i < 64 * 64; i++) {
			uint32_t v;

			memcpy(&v, p + 4 * i, 4);
			if ((v & 0xffffff) != 0x123456)
				fuzz_fail("round trip: pixel %zu after vprime.1's fill is %#x", i, v);
		}
		if (memcmp(p + 16384, ref + 16384, size - 16384))
			fuzz_fail("round trip: vprime.1's fill changed bytes outside its surface");
	}
	free(ref);
	munmap(p, size);
	gem_close(fds[0], h[0]);
	gem_close(fds[1], h[1]);
	close(dmabuf);
	gem_close(fd0, h0);
	close(fds[0]);
	close(fds[1]);
	close(fd3);
	close(fd0);
	count(OP_ROUNDTRIP, 0);
	atomic_fetch_add(&sh->roundtrips, 1);
}

/* ---------------------------------------------------------------------- */
/* Operations of the reaper thread */

static void op_gem_close(struct rng *r)
{
	struct slot s;
	int ret;

	if (one_in(r, 20)) {	/* garbage handles */
		ret = gem_close_ret(devfd[random_dev(r)], one_in(r, 2) ? 0 : (uint32_t)rnd(r));
	} else {
		if (!remove_slot(r, K_BO, &s))
			return;
		ret = gem_close_ret(devfd[s.dev], s.handle);
	}
	count(OP_GEM_CLOSE, ret);
}

static void op_fd_close(struct rng *r)
{
	struct slot s;

	if (!remove_slot(r, one_in(r, 3) ? K_SYNCFILE : K_DMABUF, &s))
		return;
	count(OP_FD_CLOSE, close(s.fd));
}

static void op_munmap(struct rng *r)
{
	struct slot s;

	if (!remove_slot(r, K_MAP, &s))
		return;
	/* sometimes only its first page: the rest goes back to the table */
	if (one_in(r, 8) && s.size > 4096) {
		int ret = munmap(s.addr, 4096);

		count(OP_MUNMAP, ret);
		if (!ret)
			add_map((uint8_t *)s.addr + 4096, s.size - 4096, s.prot);
	} else {
		count(OP_MUNMAP, munmap(s.addr, s.size));
	}
}

static void op_syncobj_destroy(struct rng *r)
{
	struct drm_syncobj_destroy d = {};
	struct slot s;

	if (!remove_slot(r, K_SYNCOBJ, &s))
		return;
	d.handle = s.handle;
	count(OP_SYNCOBJ_DESTROY, xioctl(devfd[s.dev], DRM_IOCTL_SYNCOBJ_DESTROY, &d));
}

static void op_rmfb(struct rng *r)
{
	struct slot s;

	if (!remove_slot(r, K_FB, &s))
		return;
	count(OP_RMFB, drmModeRmFB(devfd[s.dev], s.handle));
}

/*
 * Replace a vprime file by a fresh one at the same fd number (dup2 is
 * atomic): everything the old file held (handles, maps, syncobjs) goes at
 * once when its last in-flight ioctl returns, racing the other thread.
 */
static void op_reopen(struct rng *r)
{
	static const int devs[] = { D_VP0, D_VP1, D_VP2, D_VP3, D_C1, D_C2, D_C3 };
	int d = devs[below(r, ARRAY_SIZE(devs))], fresh, ret;
	char path[64], name[16];

	snprintf(name, sizeof(name), "vprime.%d",
		 d < D_C0 ? render_instance[d - D_VP0] : d - D_C0);
	if (!vprime_node_path(name, d < D_C0 ? VPRIME_NODE_RENDER : VPRIME_NODE_CARD, path,
			      sizeof(path)))
		return;
	fresh = open(path, O_RDWR | O_CLOEXEC);
	if (fresh < 0) {
		count(OP_REOPEN, -1);
		return;
	}
	/* the table forgets the old file's handles: they go with it */
	pthread_mutex_lock(&table_lock);
	for (int i = 0; i < NSLOTS; i++)
		if ((table[i].kind == K_BO || table[i].kind == K_SYNCOBJ) && table[i].dev == d)
			table[i].kind = K_FREE;
	ret = dup3(fresh, devfd[d], O_CLOEXEC);
	pthread_mutex_unlock(&table_lock);
	close(fresh);
	count(OP_REOPEN, ret);
}

/* ---------------------------------------------------------------------- */
/* The threads */

struct weighted {
	enum op op;
	int weight;
};

static const struct weighted user_ops[] = {
	{ OP_GEM_CREATE, 10 }, { OP_GEM_INFO, 5 }, { OP_GEM_MAP, 6 }, { OP_GEM_UNMAP, 3 },
	{ OP_SUBMIT, 12 }, { OP_HANG, 1 }, { OP_WAIT_IDLE, 3 }, { OP_DUMB_CREATE, 5 },
	{ OP_DUMB_MAP, 3 }, { OP_PRIME_EXPORT, 8 }, { OP_PRIME_IMPORT, 8 },
	{ OP_MMAP_GEM, 5 }, { OP_MMAP_DMABUF, 5 }, { OP_TOUCH, 12 }, { OP_DMABUF_SYNC, 4 },
	{ OP_DMABUF_SYNC_FILE, 2 }, { OP_POLL, 3 }, { OP_SYNCOBJ_CREATE, 2 },
	{ OP_SYNCOBJ_WAIT, 2 }, { OP_SYNCOBJ_SIGNAL, 1 }, { OP_SYNCOBJ_EXPORT, 2 },
	{ OP_SYNCOBJ_IMPORT, 1 }, { OP_SYNC_FILE, 2 }, { OP_SEND, 4 }, { OP_RECV, 4 },
	{ OP_FORK, 1 }, { OP_ADDFB, 2 }, { OP_COMMIT, 2 }, { OP_GARBAGE_IOCTL, 2 },
};

static const struct weighted reaper_ops[] = {
	{ OP_GEM_CLOSE, 12 }, { OP_FD_CLOSE, 10 }, { OP_MUNMAP, 8 }, { OP_GEM_UNMAP, 4 },
	{ OP_SYNCOBJ_DESTROY, 2 }, { OP_RMFB, 2 }, { OP_WAIT_IDLE, 2 }, { OP_GEM_INFO, 2 },
	{ OP_TOUCH, 6 }, { OP_RECV, 2 }, { OP_SYNCOBJ_SIGNAL, 1 }, { OP_POLL, 1 },
	{ OP_SUBMIT, 3 }, { OP_GEM_MAP, 2 }, { OP_REOPEN, 1 },
};

static enum op pick_op(struct rng *r, const struct weighted *w, size_t n)
{
	int total = 0, x;

	for (size_t i = 0; i < n; i++)
		total += w[i].weight;
	x = below(r, total);
	for (size_t i = 0; i < n; i++) {
		x -= w[i].weight;
		if (x < 0)
			return w[i].op;
	}
	return w[0].op;
}

static void run_op(struct rng *r, enum op op)
{
	switch (op) {
	case OP_GEM_CREATE: op_gem_create(r); break;
	case OP_GEM_INFO: op_gem_info(r); break;
	case OP_GEM_MAP: op_gem_map(r); break;
	case OP_GEM_UNMAP: op_gem_unmap(r); break;
	case OP_SUBMIT: op_submit(r, false); break;
	case OP_HANG:
		if (atomic_fetch_sub(&hangs_left, 1) > 0)
			op_submit(r, true);
		break;
	case OP_WAIT_IDLE: op_wait_idle(r); break;
	case OP_GEM_CLOSE: op_gem_close(r); break;
	case OP_DUMB_CREATE: op_dumb_create(r); break;
	case OP_DUMB_MAP: op_mmap_gem(r, true); break;
	case OP_PRIME_EXPORT: op_prime_export(r); break;
	case OP_PRIME_IMPORT: op_prime_import(r); break;
	case OP_MMAP_GEM: op_mmap_gem(r, false); break;
	case OP_MMAP_DMABUF: op_mmap_dmabuf(r); break;
	case OP_MUNMAP: op_munmap(r); break;
	case OP_TOUCH: op_touch(r); break;
	case OP_DMABUF_SYNC: op_dmabuf_sync(r); break;
	case OP_DMABUF_SYNC_FILE: op_dmabuf_sync_file(r); break;
	case OP_POLL: op_poll(r); break;
	case OP_SYNCOBJ_CREATE: op_syncobj_create(r); break;
	case OP_SYNCOBJ_DESTROY: op_syncobj_destroy(r); break;
	case OP_SYNCOBJ_WAIT: op_syncobj_wait(r); break;
	case OP_SYNCOBJ_SIGNAL: op_syncobj_signal(r); break;
	case OP_SYNCOBJ_EXPORT: op_syncobj_export(r); break;
	case OP_SYNCOBJ_IMPORT: op_syncobj_import(r); break;
	case OP_SYNC_FILE: op_sync_file(r); break;
	case OP_FD_CLOSE: op_fd_close(r); break;
	case OP_SEND: op_send(r); break;
	case OP_RECV: op_recv(r); break;
	case OP_FORK: op_fork(r); break;
	case OP_ADDFB: op_addfb(r); break;
	case OP_RMFB: op_rmfb(r); break;
	case OP_COMMIT: op_commit(r); break;
	case OP_GARBAGE_IOCTL: op_garbage_ioctl(r); break;
	case OP_REOPEN: op_reopen(r); break;
	case OP_ROUNDTRIP:
	case OP_COUNT: break;
	}
}

struct thread_arg {
	int thread;
	uint64_t ops;
};

static void *thread_main(void *p)
{
	const struct thread_arg *a = p;
	struct thread_state *ts = &sh->th[worker_id][a->thread];
	struct rng r;
	uint64_t seed = run_seed ^ ((uint64_t)(worker_id * 2 + a->thread + 1) << 48);

	my_thread = a->thread;
	rng_seed(&r, seed);
	atomic_store(&ts->running, 1);
	for (my_index = 0; my_index < a->ops; my_index++) {
		enum op op;

		if (a->thread == 0 && my_index % ROUNDTRIP_EVERY == ROUNDTRIP_EVERY - 1)
			op = OP_ROUNDTRIP;
		else if (a->thread == 0)
			op = pick_op(&r, user_ops, ARRAY_SIZE(user_ops));
		else
			op = pick_op(&r, reaper_ops, ARRAY_SIZE(reaper_ops));
		/* a full table: the user thread makes room too */
		if (a->thread == 0 && free_slots() < 4 && one_in(&r, 2))
			op = (const enum op[]){ OP_GEM_CLOSE, OP_FD_CLOSE, OP_MUNMAP }[below(&r, 3)];
		my_op = op;
		atomic_store(&ts->op, op);
		atomic_store(&ts->index, my_index);
		atomic_store(&ts->op_start_ms, now_ms());
		if (op == OP_ROUNDTRIP)
			roundtrip(&r);
		else
			run_op(&r, op);
		atomic_store(&ts->op_start_ms, 0);
		atomic_fetch_add_explicit(&sh->done_ops, 1, memory_order_relaxed);
	}
	atomic_store(&ts->running, 0);
	return NULL;
}

static void open_devices(void)
{
	int hang;

	for (int i = 4; i < vprime_num_devices(); i++) {
		if (vprime_limits(i).vram_mb) {
			render_instance[1] = i;
			break;
		}
	}
	for (int i = 4; i < vprime_num_devices(); i++) {
		if (vprime_limits(i).iommu) {
			render_instance[3] = i;
			break;
		}
	}
	hang = vprime_find_hang_instance(0);
	for (int i = 0; i < 4 && hang >= 0 && hang_dev < 0; i++)
		if (render_instance[i] == hang)
			hang_dev = D_VP0 + i;
	if (hang_dev < 0 && hang >= 0 && hang < 4)
		hang_dev = D_C0 + hang;
	for (int i = 0; i < 4; i++) {
		devfd[D_VP0 + i] = vprime_open(render_instance[i], VPRIME_NODE_RENDER);
		devfd[D_C0 + i] = i == 0 && card0_master >= 0 ? card0_master :
			vprime_open(i, VPRIME_NODE_CARD);
	}
	devfd[D_VGEM] = vprime_open_other("vgem");
	devfd[D_VKMS] = vprime_open_other("vkms");
}

__attribute__((noreturn))
static void worker_main(int id, uint64_t ops)
{
	struct thread_arg a[2] = { { 0, ops - ops / 3 }, { 1, ops / 3 } };
	struct rng r;
	pthread_t t;

	worker_id = id;
	rng_seed(&r, run_seed ^ (0xabcdull << 32) ^ id);
	install_fault_handler();
	open_devices();
	ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	vt_assert(ro_page != MAP_FAILED);
	if (pthread_create(&t, NULL, thread_main, &a[1]))
		fuzz_fail("pthread_create: %m");
	thread_main(&a[0]);
	pthread_join(t, NULL);
	/* half the workers exit with everything held, half clean up first */
	if (one_in(&r, 2)) {
		for (int i = 0; i < NSLOTS; i++)
			if (table[i].kind != K_FREE)
				release(&table[i]);
	}
	fflush(stdout);
	_exit(0);
}

/* ---------------------------------------------------------------------- */
/* The run's parent: baseline, workers, watchdog, counts */

/* The dma-bufs of the system, from debugfs ("Total N objects, ..."). */
static long dmabuf_count(void)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	char line[512];
	long n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Total %ld objects", &n) == 1)
			break;
	fclose(f);
	return n;
}

struct counts {
	long objects[4], bytes[4], storage[4], dmabufs;
};

static void read_counts(struct counts *c)
{
	for (int i = 0; i < 4; i++) {
		c->objects[i] = vprime_object_count(i);
		c->bytes[i] = vprime_debugfs_counter(i, "bytes");
		c->storage[i] = vprime_debugfs_counter(i, "storage");
	}
	c->dmabufs = dmabuf_count();
}

static bool counts_equal(const struct counts *a, const struct counts *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static void print_counts(const char *what, const struct counts *c)
{
	printf("%s: objects %ld/%ld/%ld/%ld bytes %ld/%ld/%ld/%ld storage %ld/%ld/%ld/%ld"
	       " dma-bufs %ld\n", what, c->objects[0], c->objects[1], c->objects[2],
	       c->objects[3], c->bytes[0], c->bytes[1], c->bytes[2], c->bytes[3],
	       c->storage[0], c->storage[1], c->storage[2], c->storage[3], c->dmabufs);
}

static void dump_stacks(pid_t pid)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "for t in /proc/%d/task/*; do echo \"== $t $(cat $t/wchan 2>/dev/null)\";"
		 " cat $t/stack 2>/dev/null; done >&2", pid);
	if (system(cmd) < 0)
		perror("system");
}

static void print_op_counts(void)
{
	printf("operations per call (calls / succeeded / the commonest errors):\n");
	for (int i = 0; i < OP_COUNT; i++) {
		bool shown[ERRNO_SLOTS] = {};

		printf("  %-18s %10" PRIu64 " %10" PRIu64, op_names[i],
		       (uint64_t)sh->ops[i].calls, (uint64_t)sh->ops[i].ok);
		for (int k = 0; k < 3; k++) {
			int best = -1;

			for (int e = 0; e < ERRNO_SLOTS; e++)
				if (!shown[e] && sh->ops[i].err[e] &&
				    (best < 0 || sh->ops[i].err[e] > sh->ops[i].err[best]))
					best = e;
			if (best < 0)
				break;
			shown[best] = true;
			printf("  %s %u", best ? strerrorname_np(best) : "other",
			       (unsigned int)sh->ops[i].err[best]);
		}
		printf("\n");
	}
	printf("  expected SIGSEGV/SIGBUS in mappings: %" PRIu64 "\n", (uint64_t)sh->signals);
	printf("  must-fail rules checked: %" PRIu64 ", round trips: %" PRIu64 "\n",
	       (uint64_t)sh->must_fail_checks, (uint64_t)sh->roundtrips);
	fflush(stdout);
}

static void kms_setup(void)
{
	uint32_t pitch, handle;
	uint64_t size;
	void *map;
	uint32_t fb;
	struct kms_plane_setup s = { .type = KMS_PLANE_PRIMARY, .w = KMS_W, .h = KMS_H };

	card0_master = vprime_open(0, VPRIME_NODE_CARD);
	if (!env_bool("VPRIME_FUZZ_KMS", true))
		return;
	handle = dumb_create_mapped(card0_master, KMS_W, KMS_H, &pitch, &size, &map);
	memset(map, 0x40, size);
	munmap(map, size);
	fb = kms_add_fb_xrgb8888(card0_master, handle, KMS_W, KMS_H, pitch);
	gem_close(card0_master, handle);
	s.fb_id = fb;
	kms_output_on(card0_master, &s, 1, KMS_W, KMS_H, &kms_out);
	num_overlays = 0;
	while (num_overlays < 2 &&
	       kms_plane_id_nth(card0_master, kms_out.crtc_index, KMS_PLANE_OVERLAY, num_overlays))
		num_overlays++;
	has_cursor = kms_plane_id(card0_master, kms_out.crtc_index, KMS_PLANE_CURSOR);
	kms_on = true;
}

/* One run of @ops operations from @seed; fails the subtest on any finding. */
static void fuzz_run(uint64_t seed, uint64_t ops)
{
	int64_t t0 = now_ms(), last_progress = t0, progress_s = env_long("VPRIME_FUZZ_PROGRESS", 0);
	struct counts before, after;
	pid_t pids[NPROC];
	int sv[NPROC][2], alive = NPROC, failed = 0, keep[2];
	struct sysinfo si;

	run_seed = seed;
	printf("vprime_fuzz: seed %" PRIu64 " ops %" PRIu64 " (replay: --seed %" PRIu64
	       " --ops %" PRIu64 ")\n", seed, ops, seed, ops);
	fflush(stdout);
	vt_assert_ok(sysinfo(&si));
	total_ram = (uint64_t)si.totalram * si.mem_unit;
	private_maps = env_bool("VPRIME_FUZZ_PRIVATE", true);
	atomic_store(&hangs_left, env_long("VPRIME_FUZZ_HANGS", ops >= 100000 ? 50 : 2));

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	vt_assert(sh != MAP_FAILED);
	memset(table, 0, sizeof(table));
	/*
	 * The last close of a card node restores the fbdev console, whose
	 * buffer gets its storage then, once: have that happen before the
	 * baseline, not at the run's own last close.
	 */
	for (int i = 0; i < 4; i++)
		close(vprime_open(i, VPRIME_NODE_CARD));
	read_counts(&before);
	vt_require_f(before.dmabufs >= 0, "no /sys/kernel/debug/dma_buf/bufinfo\n");
	print_counts("baseline", &before);
	kms_setup();
	/*
	 * The run holds vgem and vkms open until the end: the workers' files
	 * are then never the last ones, and closing them does not restore
	 * vkms's fbdev mode (a modeset, whose vblank wait can time out while
	 * the fuzzer loads the machine) in the middle of the run.
	 */
	keep[0] = vprime_open_other("vgem");
	keep[1] = vprime_open_other("vkms");

	for (int i = 0; i < NPROC; i++)
		vt_assert_ok(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv[i]));
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < NPROC; i++) {
		pids[i] = fork();
		vt_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			/* worker i sends to worker i+1 and receives from worker i-1 */
			sock_send = sv[i][0];
			sock_recv = sv[(i + NPROC - 1) % NPROC][1];
			for (int j = 0; j < NPROC; j++) {
				if (sv[j][0] != sock_send)
					close(sv[j][0]);
				if (sv[j][1] != sock_recv)
					close(sv[j][1]);
			}
			if (i != 0) {
				close(card0_master);
				card0_master = -1;
			}
			worker_main(i, ops / NPROC ? ops / NPROC : 1);
		}
	}
	for (int i = 0; i < NPROC; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}

	while (alive) {
		int64_t now = now_ms();

		for (int i = 0; i < NPROC; i++) {
			int status;

			if (pids[i] <= 0 || waitpid(pids[i], &status, WNOHANG) != pids[i])
				continue;
			pids[i] = 0;
			alive--;
			if (WIFSIGNALED(status)) {
				fprintf(stderr, "vprime_fuzz: worker %d died of signal %d (%s)\n", i,
					WTERMSIG(status), strsignal(WTERMSIG(status)));
				failed = 1;
			} else if (WEXITSTATUS(status)) {
				fprintf(stderr, "vprime_fuzz: worker %d exited with %d\n", i,
					WEXITSTATUS(status));
				failed = 1;
			}
			if (failed) {
				for (int t = 0; t < 2; t++)
					fprintf(stderr, "  worker %d thread %d was at op %" PRIu64
						" (%s)\n", i, t, (uint64_t)sh->th[i][t].index,
						op_names[sh->th[i][t].op]);
			}
		}
		for (int i = 0; i < NPROC && !failed; i++) {
			for (int t = 0; t < 2; t++) {
				int64_t start = atomic_load(&sh->th[i][t].op_start_ms);

				if (!start || now - start < WATCHDOG_S * 1000)
					continue;
				fprintf(stderr, "vprime_fuzz: HANG seed %" PRIu64 ": worker %d thread "
					"%d op %" PRIu64 " (%s) running for %" PRId64 " s\n", seed, i,
					t, (uint64_t)sh->th[i][t].index, op_names[sh->th[i][t].op],
					(now - start) / 1000);
				dump_stacks(pids[i]);
				failed = 1;
			}
		}
		if (failed) {
			for (int i = 0; i < NPROC; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			/* reap what can be reaped, within bounds: a hung task may not die */
			for (int k = 0; k < 100 && alive; k++) {
				for (int i = 0; i < NPROC; i++)
					if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == pids[i]) {
						pids[i] = 0;
						alive--;
					}
				usleep(100000);
			}
			print_op_counts();
			vt_fail("vprime_fuzz found something",
				"seed %" PRIu64 " (replay: --seed %" PRIu64 " --ops %" PRIu64 "): %s\n",
				seed, seed, ops, sh->failed ? sh->failure : "see above");
		}
		if (progress_s > 0 && now - last_progress >= progress_s * 1000) {
			uint64_t done = sh->done_ops;

			last_progress = now;
			printf("progress: seed %" PRIu64 " %" PRIu64 "/%" PRIu64 " ops, %.0f ops/s\n",
			       seed, done, ops, done * 1000.0 / (now - t0 + 1));
			fflush(stdout);
		}
		usleep(50000);
	}

	close(keep[0]);
	close(keep[1]);
	if (kms_on) {
		kms_output_off(card0_master, &kms_out);
		restore_overlay_zpos();
	}
	close(card0_master);
	card0_master = -1;
	kms_on = false;

	/* jobs finish, a HANG times out, delayed frees run: counts settle */
	for (int64_t end = now_ms() + SETTLE_S * 1000;;) {
		read_counts(&after);
		if (counts_equal(&before, &after) || now_ms() > end)
			break;
		usleep(200000);
	}
	print_op_counts();
	printf("vprime_fuzz: seed %" PRIu64 ": %" PRIu64 " ops in %.1f s\n", seed,
	       (uint64_t)sh->done_ops, (now_ms() - t0) / 1000.0);
	if (!counts_equal(&before, &after)) {
		print_counts("baseline", &before);
		print_counts("after", &after);
		if (system("cat /sys/kernel/debug/dri/[0-9]/vprime_objects >&2") < 0)
			perror("system");
		vt_fail("counts back to baseline",
			"seed %" PRIu64 " (replay: --seed %" PRIu64 " --ops %" PRIu64 "): objects,"
			" bytes or dma-bufs left after every process exited\n", seed, seed, ops);
	}
	munmap(sh, sizeof(*sh));
}

/* ---------------------------------------------------------------------- */
/* Subtests */

static uint64_t ops_or(uint64_t def)
{
	if (opt_ops_set)
		return opt_ops;
	return env_long("VPRIME_FUZZ_OPS", 0) > 0 ? (uint64_t)env_long("VPRIME_FUZZ_OPS", 0) : def;
}

/* The suite's bounded run: fixed seeds, and one from the time. */
#define SHORT_OPS	2000

static void seeded_run(void *arg)
{
	fuzz_run(*(uint64_t *)arg, ops_or(SHORT_OPS));
}

static void test_short(void)
{
	static uint64_t seeds[] = { 1, 0x5eed, 0 };
	char name[64];

	seeds[2] = (uint64_t)time(NULL);
	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
		snprintf(name, sizeof(name), "seed-%s", i == 2 ? "time" : i ? "5eed" : "1");
		vtest_dynamic(name, seeded_run, &seeds[i]);
	}
}

static void test_replay(void)
{
	const char *env = getenv("VPRIME_FUZZ_SEED");
	uint64_t seed;

	if (opt_seed_set)
		seed = opt_seed;
	else if (env && *env)
		seed = strtoull(env, NULL, 0);
	else
		vtest_skip("no seed given (--seed S or VPRIME_FUZZ_SEED)\n");
	fuzz_run(seed, ops_or(100000));
}

/*
 * Regressions: what the fuzzer found, as plain subtests. The kernel side of
 * each (a splat) is the harness's dmesg check; the subtest asserts the
 * calls' results.
 */

/*
 * Found by seed 1000 (./vprime-stress, 7.2 and 6.1, after the hardening
 * that attaches statically to static exporters): a vgem or vkms buffer
 * imported into vprime and shown on a plane. Scanout pinned the import
 * with dma_buf_pin() on its static attachment, which the core WARNs about
 * (dma_buf_pin and dma_buf_unpin want a dynamic importer).
 */
static void scanout_static_import(void *arg)
{
	const char *exporter = arg;
	int other = vprime_open_other(exporter), card = vprime_open(0, VPRIME_NODE_CARD);
	struct kms_plane_setup s = { .type = KMS_PLANE_PRIMARY, .w = KMS_W, .h = KMS_H };
	struct kms_output out;
	uint32_t pitch, h, imported;
	uint64_t size;
	int dmabuf;
	void *p;

	h = dumb_create_mapped(other, KMS_W, KMS_H, &pitch, &size, &p);
	memset(p, 0x5a, size);
	dmabuf = prime_export(other, h, DRM_CLOEXEC | DRM_RDWR);
	imported = prime_import(card, dmabuf);
	s.fb_id = kms_add_fb_xrgb8888(card, imported, KMS_W, KMS_H, pitch);
	kms_output_on(card, &s, 1, KMS_W, KMS_H, &out);	/* pins it for scanout */
	kms_output_off(card, &out);				/* unpins it */
	vt_assert_ok(drmModeRmFB(card, s.fb_id));
	gem_close(card, imported);
	close(dmabuf);
	munmap(p, size);
	gem_close(other, h);
	close(card);
	close(other);
}

static void test_scanout_static_import(void)
{
	vtest_dynamic("vgem", scanout_static_import, "vgem");
	vtest_dynamic("vkms", scanout_static_import, "vkms");
}

static const struct vtest tests[] = {
	VTEST("short", "A bounded seeded run: two fixed seeds and one from the time",
	      test_short),
	VTEST("replay", "The run of --seed S --ops N (or VPRIME_FUZZ_SEED/_OPS); skips without",
	      test_replay),
	VTEST("scanout-static-import", "A vgem or vkms buffer imported into vprime goes on "
	      "screen and off again (seed 1000: dma_buf_pin on a static attachment)",
	      test_scanout_static_import),
};

/* --seed S and --ops N are ours; everything else is vtest's. */
int main(int argc, char **argv)
{
	int n = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((!strcmp(a, "--seed") || !strcmp(a, "--ops")) && i + 1 < argc) {
			uint64_t v = strtoull(argv[++i], NULL, 0);

			if (!strcmp(a, "--seed")) {
				opt_seed = v;
				opt_seed_set = true;
			} else {
				opt_ops = v;
				opt_ops_set = true;
			}
		} else if (!strncmp(a, "--seed=", 7)) {
			opt_seed = strtoull(a + 7, NULL, 0);
			opt_seed_set = true;
		} else if (!strncmp(a, "--ops=", 6)) {
			opt_ops = strtoull(a + 6, NULL, 0);
			opt_ops_set = true;
		} else {
			argv[n++] = argv[i];
		}
	}
	argv[n] = NULL;
	return vtest_main(n, argv, "vprime_fuzz: a seeded fuzzer of vprime's uapi, PRIME,"
			  " sync and KMS paths", tests, ARRAY_SIZE(tests));
}
