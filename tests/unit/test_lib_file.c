// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"

#include "lib/err.h"
#include "lib/file.h"

#define HINT "give the path of an initramfs"


static void expect_error(const char *p, uint64_t max, const char *needle)
{
	uint8_t *data = NULL;
	size_t size = 0;

	assert_int_equal(file_read_all("initrd", p, HINT, max, &data, &size), -1);
	assert_null(data);
	if (!strstr(err_msg(), needle))
		fail_msg("'%s' lacks '%s'", err_msg(), needle);
	assert_non_null(strstr(err_msg(), p));
}

static void reads_whole_file(void **state)
{
	uint8_t *data = NULL;
	size_t size = 0;

	assert_int_equal(file_read_all("initrd", test_put_file(test_dir, "ok", "hello"), HINT, 1024,
				       &data, &size), 0);
	assert_int_equal(size, 5);
	assert_memory_equal(data, "hello", 5);
	free(data);
}

static void refuses_what_cannot_be_loaded(void **state)
{
	char missing[320];

	snprintf(missing, sizeof(missing), "%s/missing", test_dir);
	expect_error(missing, 1024, "does not exist: " HINT);
	expect_error(test_dir, 1024, "is not a regular file: " HINT);
	expect_error(test_put_file(test_dir, "empty", ""), 1024, "is empty: " HINT);
	expect_error(test_put_file(test_dir, "big", "0123456789"), 4, "larger than slicevm loads");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_whole_file),
		cmocka_unit_test(refuses_what_cannot_be_loaded),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
