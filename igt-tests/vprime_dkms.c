// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * The module DKMS built and installed (scripts/dkms-check, on the host,
 * before the VM boots) in place of the harness's own build: it loads with
 * the suite's parameters, is the file DKMS installed, taints the kernel no
 * more than the harness's build, and works. The harness's module comes
 * back at the end.
 */

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>

#include "vprime_bo.h"
#include "vtest.h"
#include "vprime_test.h"

/*
 * Skips when the harness said DKMS does not apply to this kernel
 * (VPRIME_DKMS_SKIP: a kernel built here has no headers package).
 */
static void dkms_applies(void)
{
	const char *skip = getenv("VPRIME_DKMS_SKIP");

	vt_require_f(!skip || !*skip, "%s\n", skip);
}

/* The DKMS-built module, which the harness passes as VPRIME_DKMS_KO. */
static const char *dkms_module(void)
{
	const char *ko = getenv("VPRIME_DKMS_KO");
	const char *why = getenv("VPRIME_DKMS_WHY");

	dkms_applies();
	vt_assert_f(ko && *ko, "no DKMS-built module: %s\n",
		    why && *why ? why : "VPRIME_DKMS_KO is not set (run through ./vprime-test)");
	vt_assert_f(access(ko, R_OK) == 0, "%s: %m\n", ko);
	return ko;
}

/* The harness's own vprime.ko, which vm-run loaded, and its parameters. */
static const char *harness_module(const char **params)
{
	const char *ko = getenv("VM_KO_vprime");

	vt_assert_f(ko && access(ko, R_OK) == 0,
		    "VM_KO_vprime does not name vprime.ko (run through ./vprime-test)\n");
	*params = getenv("VM_KO_ARGS_vprime");
	if (!*params)
		*params = "";
	return ko;
}

/* A module file, read whole. */
struct elf_file {
	unsigned char *data;
	size_t size;
};

static struct elf_file elf_read(const char *path)
{
	struct elf_file f = {};
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	vt_assert_f(fd >= 0, "open %s: %m\n", path);
	vt_assert_ok(fstat(fd, &st));
	f.size = st.st_size;
	f.data = malloc(f.size);
	vt_assert(f.data);
	vt_assert_eq(read(fd, f.data, f.size), (long long)f.size);
	close(fd);
	vt_assert_f(f.size > sizeof(Elf64_Ehdr) && !memcmp(f.data, ELFMAG, SELFMAG) &&
		    f.data[EI_CLASS] == ELFCLASS64, "%s is not a 64-bit ELF file\n", path);
	return f;
}

/* The contents of section @name in @f, or NULL (with *@len 0) when it has none. */
static const unsigned char *elf_section(const struct elf_file *f, const char *name,
					size_t *len)
{
	const Elf64_Ehdr *eh = (const void *)f->data;
	const Elf64_Shdr *sh = (const void *)(f->data + eh->e_shoff);
	const char *names;

	vt_assert(eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(*sh) <= f->size);
	vt_assert(eh->e_shstrndx < eh->e_shnum);
	names = (const char *)f->data + sh[eh->e_shstrndx].sh_offset;
	for (int i = 0; i < eh->e_shnum; i++) {
		if (strcmp(names + sh[i].sh_name, name))
			continue;
		vt_assert(sh[i].sh_offset + sh[i].sh_size <= f->size);
		*len = sh[i].sh_size;
		return f->data + sh[i].sh_offset;
	}
	*len = 0;
	return NULL;
}

/* The value of @key in @f's .modinfo ("key=value" strings), in @buf; false if none. */
static bool elf_modinfo(const struct elf_file *f, const char *key, char *buf, size_t len)
{
	size_t size, klen = strlen(key);
	const char *p = (const char *)elf_section(f, ".modinfo", &size);
	const char *end = p + size;

	vt_assert_f(p, "no .modinfo section\n");
	for (; p < end; p += strnlen(p, end - p) + 1) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(buf, len, "%.*s", (int)strnlen(p + klen + 1, end - p - klen - 1),
				 p + klen + 1);
			return true;
		}
	}
	buf[0] = '\0';
	return false;
}

/* A small sysfs file of the loaded vprime, its trailing newline dropped; false if none. */
static bool module_attr(const char *attr, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/vprime/%s", attr);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/*
 * Whether the loaded vprime is the module file @f, by its GNU build ID (the
 * note the kernel shows in /sys/module/vprime/notes): -1 when either has
 * none, so that it cannot be told.
 */
static int loaded_is(const struct elf_file *f)
{
	unsigned char sysfs[256];
	const unsigned char *note;
	size_t len;
	ssize_t n;
	int fd;

	note = elf_section(f, ".note.gnu.build-id", &len);
	fd = open("/sys/module/vprime/notes/.note.gnu.build-id", O_RDONLY | O_CLOEXEC);
	if (!note || fd < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = read(fd, sysfs, sizeof(sysfs));
	close(fd);
	return n == (ssize_t)len && !memcmp(sysfs, note, len);
}

static bool vprime_loaded(void)
{
	struct stat st;

	return stat("/sys/module/vprime", &st) == 0;
}

/*
 * Unload the harness's vprime and load the DKMS-built one with the same
 * parameters. The file is DKMS's, for this kernel (vermagic); the loaded
 * module is that file (its GNU build ID, and its srcversion, a hash of the
 * sources, where it has one); it taints the kernel as the harness's build
 * does (O, out-of-tree, and E where the kernel checks
 * signatures, as Debian's does: the harness signs neither), nothing else.
 */
static void test_load(void)
{
	const char *ko = dkms_module(), *hparams;
	const char *hko = harness_module(&hparams);
	struct elf_file dkms = elf_read(ko), harness = elf_read(hko);
	char params[512], taint[32], dkms_taint[32], vermagic[128], want[128];
	char srcversion[64], loaded_src[64];
	struct utsname u;
	bool has_src;
	int is;

	vt_assert_ok(uname(&u));
	vt_assert_f(elf_modinfo(&dkms, "vermagic", vermagic, sizeof(vermagic)),
		    "%s has no vermagic\n", ko);
	snprintf(want, sizeof(want), "%s ", u.release);
	vt_assert_f(!strncmp(vermagic, want, strlen(want)),
		    "%s is for '%s', this kernel is %s\n", ko, vermagic, u.release);

	vt_assert_f(vprime_loaded(), "the harness's vprime is not loaded\n");
	vt_assert_f(loaded_is(&harness) != 0, "the loaded vprime is not %s\n", hko);
	vprime_loaded_params(params, sizeof(params));
	vt_assert(module_attr("taint", taint, sizeof(taint)));
	vt_assert_eq(vprime_unload(), 0);

	vprime_load(ko, params);
	vprime_assert_devices_answer(vprime_num_devices());

	is = loaded_is(&dkms);
	vt_assert_f(is >= 0, "no build ID to compare: none in %s or in "
		    "/sys/module/vprime/notes\n", ko);
	vt_assert_f(is == 1, "the loaded vprime's build ID is not that of %s\n", ko);
	if (loaded_is(&harness) == 1)
		vtest_info("the DKMS build and the harness's have the same build ID\n");
	/* A srcversion only with MODULE_VERSION() or CONFIG_MODULE_SRCVERSION_ALL. */
	has_src = elf_modinfo(&dkms, "srcversion", srcversion, sizeof(srcversion));
	vt_assert_eq(module_attr("srcversion", loaded_src, sizeof(loaded_src)), has_src);
	vt_assert_f(!strcmp(srcversion, loaded_src), "the loaded vprime's srcversion is %s, "
		    "%s's %s\n", loaded_src, ko, srcversion);

	vt_assert(module_attr("taint", dkms_taint, sizeof(dkms_taint)));
	vtest_info("taint: harness's build '%s', DKMS's '%s'\n", taint, dkms_taint);
	vt_assert_f(!strcmp(taint, dkms_taint),
		    "the DKMS module taints '%s', the harness's '%s'\n", dkms_taint, taint);
	vt_assert_f(strspn(dkms_taint, "OE") == strlen(dkms_taint) && strchr(dkms_taint, 'O'),
		    "taint '%s': only O (out-of-tree) and E (unsigned) are expected\n", dkms_taint);
	free(dkms.data);
	free(harness.data);
}

/*
 * Instance @index fills a buffer with a job, exports it; vgem imports it
 * and hands back the same dma-buf, whose mapping shows the job's bytes.
 */
static void smoke_instance(void *arg)
{
	int index = (int)(long)arg;
	const uint32_t w = 256, h = 64, argb = 0xff3366ccu ^ (uint32_t)index;
	int fd = vprime_open(index, VPRIME_NODE_RENDER);
	int vgem = vprime_open_other("vgem");
	uint32_t handle, vgem_handle, dst;
	struct vprime_job job;
	int fence, dmabuf, again;
	uint32_t *p;

	handle = vprime_gem_create(fd, w * h * 4);
	vprime_job_init(&job);
	dst = vprime_job_add_bo(&job, handle, VPRIME_SUBMIT_BO_WRITE, w, h, w * 4,
				DRM_FORMAT_XRGB8888);
	vprime_job_fill(&job, dst, 0, 0, w, h, argb);
	vprime_job_out_fence(&job);
	fence = vprime_job_submit(fd, &job);
	vt_assert_f(fd_poll(fence, POLLIN, 20000) == POLLIN, "the job did not complete\n");
	vt_assert_eq(sync_file_status(fence), 1);
	close(fence);
	/*
	 * The fence says the job is done; WAIT_IDLE that it let go of the
	 * buffer, which vgem's import may have to move (out of VRAM on an
	 * instance that has it): until then that import gets EBUSY.
	 */
	vprime_wait_idle(fd, handle, 20ll * 1000 * 1000 * 1000);

	dmabuf = prime_export(fd, handle, DRM_CLOEXEC | DRM_RDWR);
	vgem_handle = prime_import(vgem, dmabuf);
	again = prime_export(vgem, vgem_handle, DRM_CLOEXEC | DRM_RDWR);
	vt_assert_eq(fd_inode(again), fd_inode(dmabuf));
	p = mmap(NULL, w * h * 4, PROT_READ, MAP_SHARED, again, 0);
	vt_assert_f(p != MAP_FAILED, "mmap of vgem's dma-buf: %m\n");
	for (uint32_t i = 0; i < w * h; i++)
		vt_assert_f(p[i] == argb, "word %u is %#x, not %#x\n", i, p[i], argb);
	munmap(p, w * h * 4);
	close(again);
	gem_close(vgem, vgem_handle);
	close(dmabuf);
	gem_close(fd, handle);
	close(vgem);
	close(fd);
}

/*
 * The DKMS-built module works: every instance answers DRM_IOCTL_VERSION as
 * "vprime", and on each a job's bytes reach vgem through PRIME.
 */
static void test_smoke(void)
{
	struct elf_file dkms = elf_read(dkms_module());
	int num_devices;

	vt_assert_f(vprime_loaded() && loaded_is(&dkms) != 0,
		    "the DKMS-built vprime is not loaded (see the load subtest)\n");
	num_devices = vprime_num_devices();
	vprime_assert_devices_answer(num_devices);
	for (int i = 0; i < num_devices; i++) {
		char name[32];

		snprintf(name, sizeof(name), "vprime-%d", i);
		vtest_dynamic(name, smoke_instance, (void *)(long)i);
	}
	free(dkms.data);
}

/* The harness's module is loaded again, with its parameters, and answers. */
static void test_restore(void)
{
	const char *params, *ko;
	struct elf_file harness;

	dkms_applies();
	ko = harness_module(&params);
	harness = elf_read(ko);

	if (vprime_loaded())
		vt_assert_eq(vprime_unload(), 0);
	vprime_load(ko, params);
	vt_assert_f(loaded_is(&harness) != 0, "the loaded vprime is not %s\n", ko);
	vprime_assert_devices_answer(vprime_num_devices());
	free(harness.data);
}

static const struct vtest tests[] = {
	VTEST("load", "The module DKMS installed is for this kernel and loads in place of "
	      "the harness's with the same parameters; the loaded module is that file, "
	      "from the same sources, and taints the kernel no more.", test_load),
	VTEST("smoke", "With the DKMS-built module every instance answers as vprime, and a "
	      "buffer a job filled on each reads back through vgem.", test_smoke),
	VTEST("restore", "The harness's module loads again with its parameters and answers.",
	      test_restore),
};

VTEST_MAIN("vprime as DKMS builds and installs it (scripts/dkms-check) loads and works "
	   "in place of the harness's build.", tests)
