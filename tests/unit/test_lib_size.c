// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/err.h"
#include "lib/size.h"

static void parses_units(void **state)
{
	uint64_t v;

	assert_int_equal(size_parse("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(size_parse("512M", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(size_parse("3584m", &v), 0);
	assert_int_equal(v, 3584ULL << 20);
	assert_int_equal(size_parse("4G", &v), 0);
	assert_int_equal(v, 4ULL << 30);
	assert_int_equal(size_parse("2GiB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(size_parse("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(size_parse("64kb", &v), 0);
	assert_int_equal(v, 64ULL << 10);
	assert_int_equal(size_parse("0", &v), 0);
	assert_int_equal(v, 0);
}

static void refuses_garbage(void **state)
{
	uint64_t v = 7;

	assert_int_equal(size_parse("", &v), -1);
	assert_int_equal(size_parse("G", &v), -1);
	assert_int_equal(size_parse("-1G", &v), -1);
	assert_int_equal(size_parse("1.5G", &v), -1);
	assert_non_null(strstr(err_msg(), "has a fraction: write it in a smaller unit (1.5G is 1536M)"));
	assert_int_equal(size_parse("0x40000000", &v), -1);
	assert_non_null(strstr(err_msg(), "is hexadecimal: write it in decimal"));
	assert_int_equal(size_parse("12X", &v), -1);
	assert_non_null(strstr(err_msg(), "unknown unit"));
	assert_int_equal(size_parse("12GG", &v), -1);
	assert_int_equal(size_parse("99999999999999999999", &v), -1);
	assert_int_equal(size_parse("20000000000000T", &v), -1);
	assert_non_null(strstr(err_msg(), "too large"));
	assert_int_equal(size_parse(NULL, &v), -1);
	assert_int_equal(v, 7);
}

/* For the VMM a bare number is MiB, as QEMU's and lkvm's -m take it. */
static void bare_numbers_in_a_default_unit(void **state)
{
	uint64_t v = 7;

	assert_int_equal(size_parse_default("2048", 20, &v), 0);
	assert_int_equal(v, 2048ULL << 20);
	assert_int_equal(size_parse_default("2G", 20, &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(size_parse_default("4096K", 20, &v), 0);
	assert_int_equal(v, 4096ULL << 10);
	assert_int_equal(size_parse_default("20000000000000", 20, &v), -1);
	assert_non_null(strstr(err_msg(), "too large"));
}

static void formats_exact_units(void **state)
{
	char buf[32];

	assert_string_equal(size_format(512ULL << 20, buf, sizeof(buf)), "512M");
	assert_string_equal(size_format(3584ULL << 20, buf, sizeof(buf)), "3584M");
	assert_string_equal(size_format(4ULL << 30, buf, sizeof(buf)), "4G");
	assert_string_equal(size_format(1ULL << 40, buf, sizeof(buf)), "1T");
	assert_string_equal(size_format(1000, buf, sizeof(buf)), "1000");
	assert_string_equal(size_format(0, buf, sizeof(buf)), "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_units),
		cmocka_unit_test(bare_numbers_in_a_default_unit),
		cmocka_unit_test(refuses_garbage),
		cmocka_unit_test(formats_exact_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
