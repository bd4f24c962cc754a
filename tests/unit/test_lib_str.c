// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/str.h"

static void appends(void **state)
{
	char buf[32] = "left over";
	size_t used = 0;

	assert_int_equal(str_append(buf, sizeof(buf), &used, "%s", ""), 0);
	assert_string_equal(buf, "");
	assert_int_equal(used, 0);
	assert_int_equal(str_append(buf, sizeof(buf), &used, "CPU %d", 3), 0);
	assert_int_equal(str_append(buf, sizeof(buf), &used, "%s%s", used ? " and " : "", "x"), 0);
	assert_string_equal(buf, "CPU 3 and x");
	assert_int_equal(used, strlen("CPU 3 and x"));
}

/* Cut at the end of the buffer, terminated; later pieces add nothing. */
static void cuts(void **state)
{
	char buf[8];
	size_t used = 0;

	assert_int_equal(str_append(buf, sizeof(buf), &used, "%s", "1234567"), 0);
	assert_string_equal(buf, "1234567");		/* 7 bytes and the NUL: full */
	assert_int_equal(used, 7);
	assert_int_equal(str_append(buf, sizeof(buf), &used, "%s", "8"), -1);
	assert_string_equal(buf, "1234567");
	assert_true(used >= sizeof(buf));
	assert_int_equal(str_append(buf, sizeof(buf), &used, "%s", ""), -1);
	assert_string_equal(buf, "1234567");

	used = 0;
	assert_int_equal(str_append(buf, sizeof(buf), &used, "%s", "123"), 0);
	assert_int_equal(str_append(buf, sizeof(buf), &used, "%s", "456789"), -1);
	assert_string_equal(buf, "1234567");
	assert_int_equal(used, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appends),
		cmocka_unit_test(cuts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
