// SPDX-License-Identifier: GPL-2.0
/* The strict JSON parser: duplicate keys, and what it still accepts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"

#include "lib/err.h"
#include "lib/json.h"

static void refused(const char *text, const char *needle)
{
	json_object *o = json_parse_text(text, "cfg.json");

	if (o)
		fail_msg("'%s' was accepted", text);
	if (!strstr(err_msg(), needle))
		fail_msg("'%s' lacks '%s'", err_msg(), needle);
}

static void accepted(const char *text)
{
	json_object *o = json_parse_text(text, "cfg.json");

	if (!o)
		fail_msg("'%s' was refused: %s", text, err_msg());
	json_object_put(o);
}

static void duplicate_key_named_with_place_and_fix(void **state)
{
	refused("{\"slices\": 2,\n \"slices\": 3}",
		"cfg.json:2:2: key \"slices\" is given twice in one object (first at 1:2");
	assert_non_null(strstr(err_msg(), "remove one of them"));
	assert_null(strchr(err_msg(), '\n'));
}

static void duplicate_key_in_nested_object_and_array(void **state)
{
	refused("{\"slices\": [{\"name\": \"a\"}, {\"memory\": \"1G\", \"memory\": \"2G\"}]}",
		"key \"memory\" is given twice");
	refused("[[{\"a\": 1, \"b\": {\"c\": 1, \"c\": 2}}]]", "1:26: key \"c\"");
}

static void duplicate_key_written_with_escapes(void **state)
{
	refused("{\"name\": 1, \"n\\u0061me\": 2}", "key \"name\" is given twice");
	refused("{\"a\\\"b\": 1, \"a\\u0022b\": 2}", "key \"a\"b\"");
}

static void earliest_repeat_is_reported(void **state)
{
	refused("{\"b\": 1, \"a\": 1, \"a\": 2, \"b\": 2}", "1:18: key \"a\"");
	refused("{\"x\": {\"k\": 1, \"k\": 2}, \"x\": 3}", "1:16: key \"k\"");
}

static void equal_keys_in_different_objects_are_fine(void **state)
{
	accepted("{\"a\": {\"a\": {\"a\": 1}}, \"b\": [{\"a\": 1}, {\"a\": 2}]}");
	accepted("{\"a\": \"a\", \"b\": \"a\", \"c\": [\"a\", \"a\"]}");
	accepted("{\"ab\": 1, \"a\": 2, \"a\\u0000\": 3, \"\": 4}");
	accepted("{\"k\\\\\": \"v,\\\"{\", \"k\": \"}\"}");
	accepted("[]");
	accepted("{}");
	accepted("42");
}

static void unprintable_key_is_shown_safely(void **state)
{
	refused("{\"a\\nb\": 1, \"a\\nb\": 2}", "key \"a?b\"");
	refused("{\"0123456789012345678901234567890123456789012345678901234\": 1,"
		" \"0123456789012345678901234567890123456789012345678901234\": 2}",
		"key \"01234567890123456789012345678901234567890123...\"");
}

static void many_keys_are_checked_quickly(void **state)
{
	size_t n = 20000, len = 0;
	char *text = malloc(n * 16 + 16);

	assert_non_null(text);
	len += (size_t)sprintf(text, "{");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "%s\"k%zu\": 1", i ? "," : "", i);
	strcpy(text + len, "}");
	accepted(text);
	sprintf(text + len, ",\"k7\": 2}");
	refused(text, "key \"k7\" is given twice");
	free(text);
}

static void duplicate_key_in_a_file(void **state)
{
	const char *p = test_put_file(test_dir, "dup.json", "{\"a\": 1, \"a\": 1}\n");

	assert_null(json_parse_file(p, "configuration"));
	assert_non_null(strstr(err_msg(), "dup.json:1:10: key \"a\""));
}

/*
 * json-c takes single-quoted strings even in strict mode, which is not
 * JSON; a quote inside one once sent the key scan past the text's end
 * (found by the config fuzzer).
 */
static void single_quotes_are_refused(void **state)
{
	json_object *o;

	assert_null(json_parse_text("{'\"': 1}", "q"));
	assert_string_equal(err_msg(), "q:1:2: a single-quoted string is not JSON: use double quotes");
	/* (single-quoted values json-c refuses itself) */
	assert_null(json_parse_text("{\"a\": 'b'}", "q"));
	assert_non_null(strstr(err_msg(), "q:1:7:"));
	o = json_parse_text("{\"a\": \"it's fine\"}", "q");
	assert_non_null(o);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duplicate_key_named_with_place_and_fix),
		cmocka_unit_test(duplicate_key_in_nested_object_and_array),
		cmocka_unit_test(duplicate_key_written_with_escapes),
		cmocka_unit_test(earliest_repeat_is_reported),
		cmocka_unit_test(equal_keys_in_different_objects_are_fine),
		cmocka_unit_test(unprintable_key_is_shown_safely),
		cmocka_unit_test(many_keys_are_checked_quickly),
		cmocka_unit_test(duplicate_key_in_a_file),
		cmocka_unit_test(single_quotes_are_refused),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
