/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_TESTS_TESTUTIL_H
#define SLICEVM_TESTS_TESTUTIL_H

/* Fixtures the unit tests share; include after <cmocka.h>. */

#include <stdio.h>
#include <stdlib.h>

/*
 * One scratch directory per test binary: test_dir is its path once
 * test_dir_setup() (a cmocka group setup) has made it.
 */
static char test_dir[] = "/tmp/slicevm-test-XXXXXX";

static inline int test_dir_setup(void **state)
{
	return mkdtemp(test_dir) ? 0 : -1;
}

static inline int test_dir_teardown(void **state)
{
	char cmd[sizeof(test_dir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
	return system(cmd);
}

/* Writes @text to @dir/@name, failing the test if it cannot; returns the path. */
static inline const char *test_put_file(const char *dir, const char *name,
					const char *text)
{
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

#endif
