// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/cpumask.h"

static void list_round_trip(void **state)
{
	struct cpumask m;
	char buf[128];

	assert_int_equal(cpumask_parse_list("0-3,8,10-11\n", &m), 0);
	assert_int_equal(cpumask_count(&m), 7);
	assert_true(cpumask_test(&m, 3));
	assert_false(cpumask_test(&m, 4));
	assert_string_equal(cpumask_format_list(&m, buf, sizeof(buf)), "0-3,8,10-11");
	assert_int_equal(cpumask_parse_list("", &m), 0);
	assert_true(cpumask_empty(&m));
	assert_string_equal(cpumask_format_list(&m, buf, sizeof(buf)), "");
	assert_int_equal(cpumask_parse_list("1000-1023", &m), 0);
	assert_int_equal(cpumask_next(&m, -1), 1000);
	assert_int_equal(cpumask_next(&m, 1023), -1);
}

static void list_refuses_garbage(void **state)
{
	struct cpumask m;

	assert_int_equal(cpumask_parse_list("3-1", &m), -1);
	assert_int_equal(cpumask_parse_list("a", &m), -1);
	assert_int_equal(cpumask_parse_list("1,,2", &m), -1);
	assert_int_equal(cpumask_parse_list("1-", &m), -1);
	assert_int_equal(cpumask_parse_list("1024", &m), -1);
	assert_int_equal(cpumask_parse_list("1 2", &m), -1);
}

static void hex_round_trip(void **state)
{
	struct cpumask m;
	char buf[300];

	assert_int_equal(cpumask_parse_hex("f\n", &m), 0);
	assert_int_equal(cpumask_count(&m), 4);
	assert_string_equal(cpumask_format_hex(&m, buf, sizeof(buf)), "f");
	assert_int_equal(cpumask_parse_hex("00000001,00000000,00000003", &m), 0);
	assert_true(cpumask_test(&m, 0) && cpumask_test(&m, 1) && cpumask_test(&m, 64));
	assert_int_equal(cpumask_count(&m), 3);
	assert_string_equal(cpumask_format_hex(&m, buf, sizeof(buf)),
			    "1,00000000,00000003");
	cpumask_clear(&m);
	assert_string_equal(cpumask_format_hex(&m, buf, sizeof(buf)), "0");
	cpumask_set(&m, 35);
	assert_string_equal(cpumask_format_hex(&m, buf, sizeof(buf)), "8,00000000");
	assert_int_equal(cpumask_parse_hex("xyz", &m), -1);
	assert_int_equal(cpumask_parse_hex("", &m), -1);
}

static void set_operations(void **state)
{
	struct cpumask a, b, c;

	cpumask_parse_list("0-7", &a);
	cpumask_parse_list("4-11", &b);
	assert_true(cpumask_intersects(&a, &b));
	cpumask_and(&c, &a, &b);
	assert_int_equal(cpumask_count(&c), 4);
	cpumask_andnot(&c, &a, &b);
	assert_int_equal(cpumask_count(&c), 4);
	assert_true(cpumask_subset(&c, &a));
	assert_false(cpumask_subset(&a, &c));
	cpumask_or(&c, &a, &b);
	assert_int_equal(cpumask_count(&c), 12);
	cpumask_unset(&c, 0);
	assert_false(cpumask_test(&c, 0));
	assert_false(cpumask_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_round_trip),
		cmocka_unit_test(list_refuses_garbage),
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(set_operations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
