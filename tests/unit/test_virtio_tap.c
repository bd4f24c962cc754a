// SPDX-License-Identifier: GPL-2.0
/*
 * Taps (virtio/tap.h) without a tap device: only the errors found before
 * /dev/net/tun is opened (so nothing is created even when the tests run as
 * root), and tap_from_fd() over a socketpair. Opening real taps is the
 * lab's (tests/lab/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/err.h"
#include "virtio/tap.h"

static void assert_refused(const char *name, const char *what)
{
	err_clear();
	assert_null(tap_open(name));
	if (!strstr(err_msg(), what))
		fail_msg("tap_open(\"%s\"): \"%s\" does not say \"%s\"", name, err_msg(), what);
}

static void test_name_too_long(void **state)
{
	assert_refused("abcdefghijklmnop", "longer than 15 characters");	/* 16 */
	assert_refused("slicevm-tap-0123456789", "choose a shorter one");
	/* the length is checked before the characters */
	assert_refused("a bad name, and a long one", "longer than 15");
}

static void test_name_bad_characters(void **state)
{
	static const char *const bad[] = {
		"tap 0", "tap/0", "tap:0", "tap%d", "tap\t0", "tap\n", "t\xc3\xa9", "tap*", "$(x)",
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(bad[i], "characters other than");
	assert_refused("", "empty");
	assert_refused(".", "not a valid interface name");
	assert_refused("..", "not a valid interface name");
}

static void test_from_fd(void **state)
{
	int sv[2], fl;
	struct tap *t;
	char buf[8];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	t = tap_from_fd(sv[0], "test0");
	assert_non_null(t);
	assert_int_equal(tap_fd(t), sv[0]);
	assert_string_equal(tap_name(t), "test0");
	assert_false(tap_is_tun(t));
	/* non-blocking: a read with nothing to read fails at once */
	fl = fcntl(sv[0], F_GETFL);
	assert_true(fl & O_NONBLOCK);
	assert_int_equal(read(sv[0], buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	/* offloads: nothing to set on a socket */
	assert_int_equal(tap_set_offloads(t, TAP_F_CSUM | TAP_F_TSO4 | TAP_F_TSO6 |
					      TAP_F_TSO_ECN), 0);
	assert_int_equal(tap_set_offloads(t, 0), 0);
	tap_close(t);
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);
	close(sv[1]);
	tap_close(NULL);
}

static void test_from_fd_long_name_and_bad_fd(void **state)
{
	int sv[2];
	struct tap *t;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	t = tap_from_fd(sv[0], "a-name-longer-than-fifteen");
	assert_non_null(t);
	assert_string_equal(tap_name(t), "a-name-longer-t");
	tap_close(t);
	close(sv[1]);
	assert_null(tap_from_fd(-1, "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_too_long),
		cmocka_unit_test(test_name_bad_characters),
		cmocka_unit_test(test_from_fd),
		cmocka_unit_test(test_from_fd_long_name_and_bad_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
