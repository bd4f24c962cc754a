/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_TESTS_TESTUTIL_H
#define SLICEVM_TESTS_TESTUTIL_H

/* Fixtures the unit tests share; include after <cmocka.h>. */

#include <stdio.h>

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
