/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vtest: the test framework of vprime's tests. It speaks IGT's protocol, so
 * that IGT's runners and ours read both alike:
 *   --list-subtests, --run-subtest GLOB, --describe[=GLOB], --help;
 *   "Starting subtest: NAME" and "Subtest NAME: SUCCESS|FAIL|SKIP|CRASH (Ts)",
 *   and the same for dynamic subtests;
 *   exit status 0 (all run passed), 77 (everything skipped), 98 (a failure).
 * Each subtest runs in its own child process: a failed assertion ends that
 * subtest only, and whatever it opened is closed by the kernel.
 *
 * (vprime's tests would link IGT's library if IGT could be built here; see
 * docs/harness.md for why it cannot, and why this small stand-in exists.)
 */

#ifndef VTEST_H
#define VTEST_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#define SWAP(a, b) do { __typeof__(a) _t = (a); (a) = (b); (b) = _t; } while (0)

struct vtest {
	const char *name;
	const char *describe;
	void (*run)(void);
};

/* One subtest: VTEST("name", "what it shows", function). */
#define VTEST(n, d, fn) { .name = (n), .describe = (d), .run = (fn) }

int vtest_main(int argc, char **argv, const char *description,
	       const struct vtest *tests, size_t count);

#define VTEST_MAIN(description, tests)					\
	int main(int argc, char **argv)					\
	{								\
		return vtest_main(argc, argv, description, tests,	\
				  ARRAY_SIZE(tests));			\
	}

/*
 * Run @fn(@arg) as the dynamic subtest @name of the running subtest (IGT's
 * igt_dynamic): it is reported on its own line and a failure there does not
 * stop the other dynamic subtests. The parent subtest fails if one did.
 */
void vtest_dynamic(const char *name, void (*fn)(void *arg), void *arg);

__attribute__((noreturn, format(printf, 5, 6)))
void vtest_fail_at(const char *file, int line, const char *func, const char *what,
		   const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2)))
void vtest_skip(const char *fmt, ...);
__attribute__((format(printf, 1, 2)))
void vtest_info(const char *fmt, ...);

#define vt_fail(what, ...) vtest_fail_at(__FILE__, __LINE__, __func__, what, __VA_ARGS__)

/* @expr must hold; the message (printf-style) says what was seen. */
#define vt_assert_f(expr, ...) do {					\
	if (!(expr))							\
		vt_fail("Failed assertion: " #expr, __VA_ARGS__);	\
} while (0)

#define vt_assert(expr) vt_assert_f(expr, "%s", "")

#define vt_assert_cmp(a, op, b) do {					\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (!(_a op _b))						\
		vt_fail("Failed assertion: " #a " " #op " " #b,		\
			"error: %lld %s %lld is false\n", _a, #op, _b);	\
} while (0)

#define vt_assert_eq(a, b)	vt_assert_cmp(a, ==, b)
#define vt_assert_neq(a, b)	vt_assert_cmp(a, !=, b)
#define vt_assert_lte(a, b)	vt_assert_cmp(a, <=, b)
#define vt_assert_lt(a, b)	vt_assert_cmp(a, <, b)

/* @expr must fail (return -1) with errno @err. */
#define vt_assert_errno(expr, err) do {					\
	long _r;							\
	errno = 0;							\
	_r = (long)(expr);						\
	if (_r != -1 || errno != (err))					\
		vt_fail("Failed assertion: " #expr " fails with " #err,	\
			"error: returned %ld, errno %d (%s)\n",		\
			_r, errno, strerror(errno));			\
} while (0)

/* @expr must succeed (return anything but -1). */
#define vt_assert_ok(expr) do {						\
	long _r;							\
	errno = 0;							\
	_r = (long)(expr);						\
	if (_r == -1)							\
		vt_fail("Failed: " #expr, "error: errno %d (%s)\n",	\
			errno, strerror(errno));			\
} while (0)

#define vt_require_f(expr, ...) do {					\
	if (!(expr))							\
		vtest_skip(__VA_ARGS__);				\
} while (0)

#define vt_require(expr) vt_require_f(expr, "Test requirement not met: %s\n", #expr)

#endif /* VTEST_H */
