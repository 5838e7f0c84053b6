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
};

VTEST_MAIN("vprime's command-line tools: exit status, output and files.", tests)
