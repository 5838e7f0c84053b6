// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <fnmatch.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vtest.h"

#define EXIT_SKIP 77
#define EXIT_FAIL 98

/* The dynamic subtests of the running subtest that failed. */
static int dynamic_failures;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Print the message and end the subtest's process with @code. */
__attribute__((noreturn))
static void end_subtest(int code, const char *fmt, va_list ap)
{
	vfprintf(stderr, fmt, ap);
	fflush(stderr);
	_exit(code);
}

void vtest_fail_at(const char *file, int line, const char *func, const char *what,
		   const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "(%s:%d) %s:\n%s\n", file, line, func, what);
	va_start(ap, fmt);
	end_subtest(EXIT_FAIL, fmt, ap);
}

void vtest_skip(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	end_subtest(EXIT_SKIP, fmt, ap);
}

void vtest_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* Run @fn(@arg) in a child; returns IGT's word for how it ended. */
static const char *run_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return "FAIL";
	}
	if (pid == 0) {
		dynamic_failures = 0;
		fn(arg);
		fflush(stdout);
		_exit(dynamic_failures ? EXIT_FAIL : 0);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			return "FAIL";
		}
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "Received signal %d (%s)\n",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
		return "CRASH";
	}
	switch (WEXITSTATUS(status)) {
	case 0:
		return "SUCCESS";
	case EXIT_SKIP:
		return "SKIP";
	default:
		return "FAIL";
	}
}

void vtest_dynamic(const char *name, void (*fn)(void *arg), void *arg)
{
	const char *result;
	double t0 = now();

	printf("Starting dynamic subtest: %s\n", name);
	result = run_child(fn, arg);
	printf("Dynamic subtest %s: %s (%.3fs)\n", name, result, now() - t0);
	fflush(stdout);
	if (strcmp(result, "SUCCESS") && strcmp(result, "SKIP"))
		dynamic_failures++;
}

static void run_subtest_fn(void *arg)
{
	const struct vtest *t = arg;

	t->run();
}

static void usage(const char *prog, FILE *f)
{
	fprintf(f, "Usage: %s [OPTIONS]\n"
		"  --list-subtests\n"
		"  --run-subtest <pattern>\n"
		"  --describe[=<pattern>]\n"
		"  --help-description\n"
		"  --help\n", prog);
}

int vtest_main(int argc, char **argv, const char *description,
	       const struct vtest *tests, size_t count)
{
	enum { OPT_LIST = 1, OPT_RUN, OPT_DESCRIBE, OPT_HELP_DESC, OPT_HELP };
	static const struct option opts[] = {
		{ "list-subtests", no_argument, NULL, OPT_LIST },
		{ "run-subtest", required_argument, NULL, OPT_RUN },
		{ "describe", optional_argument, NULL, OPT_DESCRIBE },
		{ "help-description", no_argument, NULL, OPT_HELP_DESC },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 }
	};
	const char *pattern = "*";
	bool list = false, describe = false;
	int passed = 0, failed = 0, skipped = 0, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LIST:
			list = true;
			break;
		case OPT_RUN:
			pattern = optarg;
			break;
		case OPT_DESCRIBE:
			describe = true;
			if (optarg)
				pattern = optarg;
			break;
		case OPT_HELP_DESC:
			printf("%s\n", description);
			return 0;
		case OPT_HELP:
			usage(argv[0], stdout);
			return 0;
		default:
			usage(argv[0], stderr);
			return 79;	/* IGT_EXIT_INVALID */
		}
	}

	if (!list && !describe)
		printf("vtest: %s\n", description);
	for (size_t i = 0; i < count; i++) {
		const struct vtest *t = &tests[i];
		const char *result;
		double t0;

		if (fnmatch(pattern, t->name, 0))
			continue;
		if (list) {
			printf("%s\n", t->name);
			continue;
		}
		if (describe) {
			printf("SUB %s:\n  %s\n\n", t->name, t->describe);
			continue;
		}
		printf("Starting subtest: %s\n", t->name);
		t0 = now();
		result = run_child(run_subtest_fn, (void *)t);
		printf("Subtest %s: %s (%.3fs)\n", t->name, result, now() - t0);
		fflush(stdout);
		if (!strcmp(result, "SUCCESS"))
			passed++;
		else if (!strcmp(result, "SKIP"))
			skipped++;
		else
			failed++;
	}
	if (list || describe)
		return 0;
	if (failed)
		return EXIT_FAIL;
	if (!passed && skipped)
		return EXIT_SKIP;
	if (!passed) {
		fprintf(stderr, "No subtest matches '%s'\n", pattern);
		return 79;
	}
	return 0;
}
