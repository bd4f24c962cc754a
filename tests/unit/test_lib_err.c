// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "lib/err.h"

static void message_can_quote_itself(void **state)
{
	assert_int_equal(err_set("size 'x' is not a number"), -1);
	assert_int_equal(err_set("--memory: %s", err_msg()), -1);
	assert_string_equal(err_msg(), "--memory: size 'x' is not a number");
}

static void errno_text_is_appended(void **state)
{
	errno = ENOENT;
	assert_int_equal(err_set_errno("cannot open %s", "/nowhere"), -1);
	assert_string_equal(err_msg(), "cannot open /nowhere: No such file or directory");
	assert_int_equal(errno, ENOENT);
	err_clear();
	assert_string_equal(err_msg(), "unknown error");
}

/* One line on a terminal, whatever a damaged input put into the message. */
static void control_characters_are_shown_as_question_marks(void **state)
{
	err_set("CPU list '%s' is bad", "\x12-3\n\x1b[2J");
	assert_string_equal(err_msg(), "CPU list '?-3??[2J' is bad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(message_can_quote_itself),
		cmocka_unit_test(errno_text_is_appended),
		cmocka_unit_test(control_characters_are_shown_as_question_marks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
