// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime's command-line tools, run as a script would run them: their exit
 * status, what they print, and what they write. The tools' directory comes
 * from VPRIME_TOOLS (meson sets it).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "vprime_bo.h"
#include "vprime_test.h"
#include "vtest.h"

#define OUTPUT_MAX	(256 * 1024)

struct run {
	int status;		/* the exit status, or -1 when it did not exit */
	char output[OUTPUT_MAX];	/* stdout and stderr together */
};

/* Run tool @name with @argv (NULL-terminated, without argv[0]). */
static void run_tool(const char *name, const char *const *args, struct run *r)
{
	const char *dir = getenv("VPRIME_TOOLS");
	char path[512];
	const char *argv[16] = { path };
	int pipefd[2], status;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	vt_require_f(dir, "VPRIME_TOOLS names no directory (run through meson or ./vprime-test)\n");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	vt_require_f(access(path, X_OK) == 0, "%s: %m\n", path);
	for (int i = 0; args[i]; i++) {
		vt_assert(i + 2 < (int)ARRAY_SIZE(argv));
		argv[i + 1] = args[i];
	}
	vt_assert_ok(pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], r->output + used, sizeof(r->output) - 1 - used)) > 0)
		used += n;
	r->output[used] = '\0';
	close(pipefd[0]);
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	vtest_info("%s exited %d; its output:\n%s", name, r->status, r->output);
}

static void assert_output_has(const struct run *r, const char *text)
{
	vt_assert_f(strstr(r->output, text), "the output lacks \"%s\"\n", text);
}

/* The file at @path is a PNG of the demo's size: signature and IHDR. */
static void assert_png(const char *path, unsigned int width, unsigned int height)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char head[24];
	FILE *f = fopen(path, "rb");

	vt_assert_f(f, "%s: %m\n", path);
	vt_assert_eq(fread(head, 1, sizeof(head), f), sizeof(head));
	fclose(f);
	vt_assert_f(!memcmp(head, sig, sizeof(sig)), "%s is not a PNG\n", path);
	vt_assert_f(!memcmp(head + 12, "IHDR", 4), "%s has no IHDR first\n", path);
	vt_assert_eq((unsigned int)(head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19]),
		     width);
	vt_assert_eq((unsigned int)(head[20] << 24 | head[21] << 16 | head[22] << 8 | head[23]),
		     height);
}

static void test_demo(void)
{
	static struct run r;
	const char *png = "/tmp/vprime-demo-test.png";

	unlink(png);
	run_tool("vprime-demo", (const char *[]){ "--out", png, NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_has(&r, "verified: nothing is allocated before the buffer is used");
	assert_output_has(&r, "verified: the storage moved below 4 GiB");
	assert_output_has(&r, "pixels of the composed frame match");
	assert_output_has(&r, "== all verified");
	assert_png(png, 1024, 768);
	unlink(png);
}

/* A wrong expectation must be caught: exit 1, the mismatch named, no "all verified". */
static void test_demo_wrong_expectation(void)
{
	static struct run r;
	const char *png = "/tmp/vprime-demo-wrong.png";

	run_tool("vprime-demo", (const char *[]){ "--out", png, "--wrong-expectation", NULL },
		 &r);
	vt_assert_eq(r.status, 1);
	assert_output_has(&r, "MISMATCH in the composed frame");
	assert_output_has(&r, "verification failed");
	vt_assert_f(!strstr(r.output, "all verified"), "claims success\n");
	unlink(png);
}

static void test_demo_usage(void)
{
	static struct run r;

	run_tool("vprime-demo", (const char *[]){ "--no-such-option", NULL }, &r);
	vt_assert_eq(r.status, 2);
	assert_output_has(&r, "usage:");
	run_tool("vprime-demo", (const char *[]){ "--help", NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_has(&r, "--wrong-expectation");
}

static void test_info(void)
{
	static struct run r;

	run_tool("vprime-info", (const char *[]){ NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_has(&r, "vprime.0");
	assert_output_has(&r, "vprime 0.1.0");
	assert_output_has(&r, "vprime instances (module parameters");
	run_tool("vprime-info", (const char *[]){ "--bogus", NULL }, &r);
	vt_assert_eq(r.status, 2);
}

/* --objects shows an object of this process, with its placement, from debugfs. */
static void test_info_objects(void)
{
	static struct run r;
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	char devname[32], want[64];

	vprime_gem_mmap(fd, vprime_gem_create(fd, 3 * 4096), 3 * 4096);	/* stays mapped */
	*(volatile char *)vprime_gem_mmap(fd, vprime_gem_create(fd, 4096), 4096) = 1;
	run_tool("vprime-info", (const char *[]){ "--objects", NULL }, &r);
	vt_assert_eq(r.status, 0);
	snprintf(devname, sizeof(devname), "vprime.%d objects", 0);
	assert_output_has(&r, devname);
	snprintf(want, sizeof(want), "size %d placement system pages 1", 4096);
	assert_output_has(&r, want);
	assert_output_has(&r, "size 12288 placement none pages 0");
	close(fd);
}

/* vprime-share to every kind of importer; each must verify both views. */
static void share_to(void *arg)
{
	static struct run r;
	const char *to = arg;

	run_tool("vprime-share", (const char *[]){ "--from", "vprime.0", "--to", to,
		 "--size", "640x480", NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_has(&r, "verified: ");
	assert_output_has(&r, "sees what");
	assert_output_has(&r, "== all verified");
}

static void test_share(void)
{
	static const char *const importers[] = { "vprime.1", "vgem", "vkms" };

	for (size_t i = 0; i < ARRAY_SIZE(importers); i++)
		vtest_dynamic(importers[i], share_to, (void *)importers[i]);
}

/* Errors name the device and exit 3; bad usage exits 2. */
static void test_share_errors(void)
{
	static struct run r;

	run_tool("vprime-share", (const char *[]){ "--to", "vprime.9", NULL }, &r);
	vt_assert_eq(r.status, 3);
	assert_output_has(&r, "vprime.9: open: No such device");
	run_tool("vprime-share", (const char *[]){ "--size", "0x10", NULL }, &r);
	vt_assert_eq(r.status, 2);
	assert_output_has(&r, "--size 0x10");
}

static void test_scanout(void)
{
	static struct run r;
	const char *png = "/tmp/vprime-scanout-test.png";

	unlink(png);
	run_tool("vprime-scanout", (const char *[]){ "--from", "vgem", "--on", "vprime.0",
		 "--out", png, NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_has(&r, "verified: all 786432 pixels of the frame are the buffer's");
	assert_png(png, 1024, 768);
	unlink(png);
	run_tool("vprime-scanout", (const char *[]){ "--on", "vgem", NULL }, &r);
	vt_assert_eq(r.status, 3);
	assert_output_has(&r, "vgem: ADDFB2: Operation not supported");
}

/*
 * vprime-alloc: nothing is allocated at creation; the first map allocates
 * where vprime.0 can reach; a 32-bit importer's map moves it below 4 GiB.
 */
static void test_alloc(void)
{
	static struct run r;
	char strict_name[32];
	int strict = -1;

	for (int i = 1; i < vprime_num_devices() && strict < 0; i++)
		if (vprime_limits(i).dma_bits == 32 && !vprime_limits(i).contiguous)
			strict = i;
	vt_require_f(strict > 0, "no 32-bit vprime instance\n");
	snprintf(strict_name, sizeof(strict_name), "vprime.%d", strict);
	run_tool("vprime-alloc", (const char *[]){ "--size", "1M", "--import", strict_name,
		 "--map", "--expect", "dma32", NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_has(&r, "== vprime.0: allocate 1048576 bytes");
	assert_output_has(&r, "storage: none (no storage yet), 0 pages allocated");
	assert_output_has(&r, "storage: system pages, 256 pages allocated, 0 attachment(s), "
			  "0 mapped, 0 migration(s)");
	assert_output_has(&r, "import the dma-buf");
	assert_output_has(&r, "placement pages below 4 GiB;");
	assert_output_has(&r, "all below 4 GiB");
	assert_output_has(&r, "1 attachment(s), 0 mapped, 1 migration(s)");
	assert_output_has(&r, "verified: pages below 4 GiB");

	/* The same buffer expected elsewhere: exit 1, the difference named. */
	run_tool("vprime-alloc", (const char *[]){ "--size", "1M", "--import", strict_name,
		 "--map", "--expect", "system", NULL }, &r);
	vt_assert_eq(r.status, 1);
	assert_output_has(&r, "the storage is pages below 4 GiB, not system pages as expected");
}

/* --exec passes the dma-buf on, and its command's status back. */
static void test_alloc_exec(void)
{
	static struct run r;

	run_tool("vprime-alloc", (const char *[]){ "--size", "64K", "--import", "vgem", "--exec",
		 "sh", "-c", "readlink /proc/self/fd/$VPRIME_DMABUF_FD; exit 7", NULL }, &r);
	vt_assert_eq(r.status, 7);
	assert_output_has(&r, "vgem: import the dma-buf");
	assert_output_has(&r, "dmabuf:");
}

/* Errors name the device and exit 3; bad usage exits 2. */
static void test_alloc_errors(void)
{
	static struct run r;

	run_tool("vprime-alloc", (const char *[]){ "--device", "vprime.9", NULL }, &r);
	vt_assert_eq(r.status, 3);
	assert_output_has(&r, "vprime.9: open: No such device");
	run_tool("vprime-alloc", (const char *[]){ "--device", "vgem", NULL }, &r);
	vt_assert_eq(r.status, 2);
	assert_output_has(&r, "--device vgem: not a vprime instance");
	run_tool("vprime-alloc", (const char *[]){ "--size", "0", NULL }, &r);
	vt_assert_eq(r.status, 2);
	run_tool("vprime-alloc", (const char *[]){ "--expect", "gtt", NULL }, &r);
	vt_assert_eq(r.status, 2);
	assert_output_has(&r, "--expect gtt");
	run_tool("vprime-alloc", (const char *[]){ "--size", "64G", NULL }, &r);
	vt_assert_eq(r.status, 3);
	assert_output_has(&r, "vprime.0: GEM_CREATE: Invalid argument");
}

/* How the tools name VPRIME_PLACEMENT_VRAM. */
#define VRAM	"the exporter's device memory (VRAM)"

/* Device memory: the instance with VRAM, its peer and a non-peer, by their parameters. */

static bool has_vram(const struct vprime_limits *l)
{
	return l->vram_mb;
}

static unsigned int p2p_mask(int idx)
{
	char buf[32];

	return vprime_param("p2p", idx, buf, sizeof(buf)) ? strtoul(buf, NULL, 0) : 0;
}

struct devmem_instances {
	int vram, peer, other;	/* the owner of VRAM, a peer, a lenient non-peer */
};

static struct devmem_instances devmem_instances(void)
{
	struct devmem_instances d;
	unsigned int peers;

	d.vram = vprime_require_instance(has_vram, 0, "an instance with VRAM (vram_mb)");
	peers = p2p_mask(d.vram) & ~(1u << d.vram);
	vt_require_f(peers, "vprime.%d has no peer (its p2p parameter)\n", d.vram);
	d.peer = __builtin_ctz(peers);
	d.other = vprime_require_instance(vprime_is_lenient, peers | 1u << d.vram,
					  "a lenient instance that is not a peer of VRAM");
	return d;
}

/* The VRAM counters of instance @idx's debugfs header. */
struct vram_counters {
	long size, used, evictions, evicted_bytes, peer_mappings;
};

static struct vram_counters vram_counters(int idx)
{
	return (struct vram_counters){
		.size = vprime_debugfs_counter(idx, "vram_size"),
		.used = vprime_debugfs_counter(idx, "vram_used"),
		.evictions = vprime_debugfs_counter(idx, "evictions"),
		.evicted_bytes = vprime_debugfs_counter(idx, "evicted_bytes"),
		.peer_mappings = vprime_debugfs_counter(idx, "peer_mappings"),
	};
}

static void assert_output_hasf(const struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void assert_output_hasf(const struct run *r, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_output_has(r, text);
}

/*
 * vprime-info shows each instance's vram_mb and peers, and its VRAM use,
 * evictions and peer mappings as debugfs counts them; --objects shows a
 * buffer in VRAM as GEM_INFO places it.
 */
static void test_info_vram(void)
{
	static struct run r;
	struct devmem_instances d = devmem_instances();
	int fd = vprime_open(d.vram, VPRIME_NODE_RENDER);
	int fp = vprime_open(d.peer, VPRIME_NODE_RENDER);
	struct drm_vprime_gem_info info;
	struct vram_counters before, after;
	uint32_t h, imported, placement;
	int dmabuf;

	/* A 1 MiB buffer in VRAM (a size no other object here has), mapped by the peer. */
	h = vprime_gem_create(fd, 1 << 20);
	free(vprime_gem_map(fd, h, NULL, &placement));
	vprime_gem_unmap(fd, h);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);
	imported = prime_import(fp, dmabuf);
	free(vprime_gem_map(fp, imported, NULL, NULL));
	info = vprime_gem_info(fd, h);
	vt_assert_eq(info.placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(info.num_peer_mapped, 1);

	before = vram_counters(d.vram);
	vt_assert_lte(1 << 20, before.used);
	vt_assert_lte(1, before.peer_mappings);
	run_tool("vprime-info", (const char *[]){ NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_has(&r, "vram_mb");
	assert_output_hasf(&r, "vprime.%-3d %-8u", d.vram, vprime_limits(d.vram).dma_bits);
	assert_output_hasf(&r, " %-8u vprime.%d\n", vprime_limits(d.vram).vram_mb, d.peer);
	assert_output_has(&r, "VRAM (debugfs):");
	assert_output_hasf(&r, "vprime.%-3d size %ld used %ld free %ld evictions %ld "
			   "(%ld bytes) peer_mappings %ld\n", d.vram, before.size, before.used,
			   before.size - before.used, before.evictions, before.evicted_bytes,
			   before.peer_mappings);
	after = vram_counters(d.vram);
	vt_assert_f(!memcmp(&before, &after, sizeof(before)),
		    "VRAM counters changed while vprime-info ran\n");

	run_tool("vprime-info", (const char *[]){ "--objects", NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_hasf(&r, "vprime.%d objects", d.vram);
	assert_output_has(&r, "size 1048576 placement vram pages 256");

	vprime_gem_unmap(fp, imported);
	gem_close(fp, imported);
	close(dmabuf);
	gem_close(fd, h);
	close(fp);
	close(fd);
}

/* debugfs vprime_objects of instance @idx, for --exec. */
static void debugfs_objects_path(int idx, char *path, size_t len)
{
	char devname[32], node[64];

	snprintf(devname, sizeof(devname), "vprime.%d", idx);
	vt_assert(vprime_node_path(devname, VPRIME_NODE_CARD, node, sizeof(node)));
	snprintf(path, len, "/sys/kernel/debug/dri/%s/vprime_objects",
		 node + strlen("/dev/dri/card"));
}

/*
 * vprime-alloc on the instance with VRAM: its own map places the buffer in
 * VRAM, a peer maps it in place (peer mapped while it holds the map), a
 * non-peer's map moves it to system memory; each step's GEM_INFO and VRAM
 * line agree with debugfs, read by the test before and, through --exec,
 * while the tool holds the buffer.
 */
static void test_alloc_vram(void)
{
	static struct run r;
	struct devmem_instances d = devmem_instances();
	char dev[32], peer[32], other[32], path[128], *at;
	struct vram_counters c = vram_counters(d.vram);
	long migrations = vprime_debugfs_counter(d.vram, "migrations");
	unsigned long pages, moved;

	snprintf(dev, sizeof(dev), "vprime.%d", d.vram);
	snprintf(peer, sizeof(peer), "vprime.%d", d.peer);
	snprintf(other, sizeof(other), "vprime.%d", d.other);
	debugfs_objects_path(d.vram, path, sizeof(path));
	vt_require_f(c.size - c.used >= 1 << 20, "less than 1 MiB of VRAM free\n");

	run_tool("vprime-alloc", (const char *[]){ "--device", dev, "--size", "1M", "--map",
		 "--import", peer, "--import", other, "--expect", "system", "--exec", "cat",
		 path, NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_hasf(&r, "== %s: allocate 1048576 bytes", dev);
	assert_output_hasf(&r, "%s's VRAM: %ld of %ld bytes used, %ld eviction(s), %ld peer "
			   "mapping(s)", dev, c.used, c.size, c.evictions, c.peer_mappings);
	/* The owner's map: VRAM, which debugfs counts. */
	assert_output_hasf(&r, "%s's storage: %s, 256 pages allocated, 0 attachment(s), "
			   "0 mapped, 0 migration(s), 0 eviction(s), 0 peer-mapped", dev, VRAM);
	assert_output_hasf(&r, "%s's VRAM: %ld of %ld bytes used, %ld eviction(s), %ld peer "
			   "mapping(s)", dev, c.used + (1 << 20), c.size, c.evictions,
			   c.peer_mappings);
	/* The peer's map: in place, peer-mapped while held. */
	assert_output_hasf(&r, "== %s: map for DMA", peer);
	assert_output_hasf(&r, "placement %s; ", VRAM);
	assert_output_hasf(&r, "while %s holds the map: %s, 256 pages allocated, "
			   "1 attachment(s), 1 mapped, 0 migration(s), 0 eviction(s), "
			   "1 peer-mapped", peer, VRAM);
	assert_output_hasf(&r, "%s's VRAM: %ld of %ld bytes used, %ld eviction(s), %ld peer "
			   "mapping(s)", dev, c.used + (1 << 20), c.size, c.evictions,
			   c.peer_mappings + 1);
	/* The non-peer's map: moved to system memory, VRAM given back. */
	assert_output_hasf(&r, "while %s holds the map: system pages, 256 pages allocated, "
			   "2 attachment(s), 1 mapped, 1 migration(s), 0 eviction(s), "
			   "0 peer-mapped", other);
	assert_output_hasf(&r, "%s's storage: system pages, 256 pages allocated, 2 attachment(s), "
			   "0 mapped, 1 migration(s), 0 eviction(s), 0 peer-mapped", dev);
	assert_output_has(&r, "verified: system pages");

	/* What debugfs said while the tool held the buffer (its --exec). */
	at = strstr(r.output, "objects: ");
	vt_assert_f(at, "no debugfs output from --exec\n");
	vt_assert_f(strstr(at, "vram_used: ") &&
		    atol(strstr(at, "vram_used: ") + 11) == c.used,
		    "debugfs's vram_used is not back to %ld\n", c.used);
	vt_assert_f(strstr(at, "migrations: ") &&
		    atol(strstr(at, "migrations: ") + 12) == migrations + 1,
		    "debugfs counts no migration\n");
	at = strstr(at, "size 1048576 placement ");
	vt_assert_f(at, "debugfs shows no 1 MiB object\n");
	vt_assert_f(sscanf(at, "size 1048576 placement system pages %lu segments %*u pins %*u "
			   "vmaps %*u maps %*u migrations %lu", &pages, &moved) == 2,
		    "debugfs's object line: %.120s\n", at);
	vt_assert_eq(pages, 256);
	vt_assert_eq(moved, 1);

	/* A peer alone moves nothing: --expect vram holds. */
	run_tool("vprime-alloc", (const char *[]){ "--device", dev, "--size", "1M", "--map",
		 "--import", peer, "--expect", "vram", NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_hasf(&r, "verified: %s", VRAM);
	vt_assert_eq(vprime_debugfs_counter(d.vram, "vram_used"), c.used);
	vt_assert_eq(vprime_debugfs_counter(d.vram, "peer_mappings"), c.peer_mappings);
}

/* The PNG at @dir/@name is 1024x768; removed afterwards. */
static void assert_png_in(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_png(path, 1024, 768);
	unlink(path);
}

/*
 * The offload demo: frame 1, rendered in VRAM by the instance that has it,
 * moves to system memory when the non-peer scans it out; frame 2 stays in
 * VRAM for the peer. Besides what the demo says of itself, debugfs must
 * agree: one migration, no eviction, VRAM and peer mappings given back.
 */
static void test_demo_offload(void)
{
	static struct run r;
	struct devmem_instances d = devmem_instances();
	const char *dir = "/tmp/vprime-offload-test";
	struct vram_counters before = vram_counters(d.vram), after;
	long migrations = vprime_debugfs_counter(d.vram, "migrations");
	char dev[32], peer[32], other[32];

	snprintf(dev, sizeof(dev), "vprime.%d", d.vram);
	snprintf(peer, sizeof(peer), "vprime.%d", d.peer);
	snprintf(other, sizeof(other), "vprime.%d", d.other);
	vt_require_f(before.size - before.used >= 7 << 20, "less than 7 MiB of VRAM free\n");
	mkdir(dir, 0755);
	run_tool("vprime-offload", (const char *[]){ "--out-dir", dir, NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_hasf(&r, "discrete: %s", dev);
	assert_output_hasf(&r, "verified: frame 1 is in %s's VRAM", dev);
	assert_output_has(&r, "verified: importing moved nothing");
	assert_output_hasf(&r, "verified: frame 1 moved from VRAM to system memory before %s's "
			   "display read it", other);
	assert_output_hasf(&r, "verified: all 786432 pixels of %s's frame match", other);
	assert_output_hasf(&r, "verified: frame 2 is in %s's VRAM", dev);
	assert_output_hasf(&r, "verified: %s maps frame 2 in place", peer);
	assert_output_hasf(&r, "verified: frame 2 stayed in VRAM while %s's display read it",
			   peer);
	assert_output_hasf(&r, "verified: all 786432 pixels of %s's frame match", peer);
	assert_output_has(&r, "== verdict: all verified");
	vt_assert_f(!strstr(r.output, "FAILED"), "a check failed\n");
	assert_png_in(dir, "offload-integrated.png");
	assert_png_in(dir, "offload-peer.png");
	rmdir(dir);

	/* debugfs: frame 1 moved once, nothing was evicted, all was given back. */
	after = vram_counters(d.vram);
	vt_assert_eq(vprime_debugfs_counter(d.vram, "migrations"), migrations + 1);
	vt_assert_eq(after.evictions, before.evictions);
	vt_assert_eq(after.used, before.used);
	vt_assert_eq(after.peer_mappings, before.peer_mappings);
}

/* Wrong expectations are caught: a pixel, a placement; exit 1 and the verdict says so. */
static void test_demo_offload_wrong(void)
{
	static struct run r;
	const char *dir = "/tmp/vprime-offload-wrong";

	devmem_instances();
	mkdir(dir, 0755);
	/* Both in one run (each alone fails only its own check): two FAILED checks. */
	run_tool("vprime-offload", (const char *[]){ "--out-dir", dir, "--wrong-expectation",
		 "--wrong-expectation=placement", NULL }, &r);
	vt_assert_eq(r.status, 1);
	assert_output_has(&r, "MISMATCH in ");
	assert_output_has(&r, "FAILED, expected: all 786432 pixels of ");
	assert_output_has(&r, "FAILED, expected: frame 1 stayed in VRAM while ");
	assert_output_has(&r, "(it is in system pages)");
	assert_output_has(&r, "== verdict: FAILED: 2 of ");
	vt_assert_f(!strstr(r.output, "all verified"), "claims success\n");
	unlink("/tmp/vprime-offload-wrong/offload-integrated.png");
	unlink("/tmp/vprime-offload-wrong/offload-peer.png");
	rmdir(dir);

	run_tool("vprime-offload", (const char *[]){ "--wrong-expectation=colour", NULL }, &r);
	vt_assert_eq(r.status, 2);
	assert_output_has(&r, "usage:");
	run_tool("vprime-offload", (const char *[]){ "--help", NULL }, &r);
	vt_assert_eq(r.status, 0);
	assert_output_has(&r, "--wrong-expectation");
}

static const struct vtest tests[] = {
	VTEST("demo", "vprime-demo verifies every step, exits 0 and writes a 1024x768 PNG.",
	      test_demo),
	VTEST("demo-wrong-expectation", "vprime-demo with a wrong expected colour reports "
	      "the mismatch and exits 1.", test_demo_wrong_expectation),
	VTEST("demo-usage", "vprime-demo: --help exits 0, an unknown option exits 2 with "
	      "the usage.", test_demo_usage),
	VTEST("info", "vprime-info lists vprime's instances and exits 0.", test_info),
	VTEST("info-objects", "vprime-info --objects shows this process's objects, one with "
	      "storage and one without, with their placement.", test_info_objects),
	VTEST("share", "vprime-share from vprime.0 to vprime.1, vgem and vkms verifies both "
	      "views and exits 0.", test_share),
	VTEST("share-errors", "vprime-share names a missing device (exit 3) and a bad size "
	      "(exit 2).", test_share_errors),
	VTEST("scanout", "vprime-scanout shows vgem's buffer on vprime.0, verifies the frame "
	      "and writes a PNG; a device without a display fails with exit 3.",
	      test_scanout),
	VTEST("alloc", "vprime-alloc: no storage at creation, system pages at the first map, "
	      "below 4 GiB after a 32-bit importer's map (one migration); a wrong --expect "
	      "exits 1.", test_alloc),
	VTEST("alloc-exec", "vprime-alloc --exec runs a command with the dma-buf open and "
	      "exits with its status.", test_alloc_exec),
	VTEST("alloc-errors", "vprime-alloc names a missing device (exit 3), refuses a "
	      "non-vprime device, a zero size and an unknown placement (exit 2), and reports "
	      "GEM_CREATE's error on a too large size (exit 3).", test_alloc_errors),
	VTEST("info-vram", "vprime-info shows each instance's vram_mb and peers, and the VRAM "
	      "instance's size, use, evictions and peer mappings as debugfs counts them; "
	      "--objects shows a buffer in VRAM.", test_info_vram),
	VTEST("alloc-vram", "vprime-alloc on the VRAM instance: its map places the buffer in "
	      "VRAM, a peer maps it in place (peer-mapped), a non-peer's map moves it to "
	      "system memory; the printed GEM_INFO and VRAM counters match debugfs.",
	      test_alloc_vram),
	VTEST("demo-offload", "vprime-offload: frame 1 rendered in VRAM moves to system memory "
	      "for the non-peer's scanout, frame 2 stays in VRAM for the peer's; both "
	      "writeback frames match, two PNGs; debugfs counts one migration and gets "
	      "everything back.", test_demo_offload),
	VTEST("demo-offload-wrong-expectation", "vprime-offload catches a wrong pixel and a "
	      "wrong placement in one run (exit 1, two FAILED checks, the verdict FAILED); a "
	      "bad option exits 2.",
	      test_demo_offload_wrong),
};

VTEST_MAIN("vprime's command-line tools: exit status, output and files.", tests)
