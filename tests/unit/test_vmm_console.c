// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/iodev.h"
#include "vmm/console.h"
#include "vmm/iobus.h"

static size_t filter(struct console *con, const char *in, uint8_t *out)
{
	return console_filter(con, (const uint8_t *)in, strlen(in), out);
}

static void escape_sequences(void **state)
{
	struct console con;
	uint8_t out[16];
	size_t n;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	console_open(&con, fds[0]);		/* not a TTY: left alone */
	assert_false(con.raw);

	n = filter(&con, "ls\r", out);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "ls\r", 3);

	n = filter(&con, "a\001\001b", out);		/* Ctrl-A Ctrl-A sends one */
	assert_int_equal(n, 3);
	assert_memory_equal(out, "a\001b", 3);

	n = filter(&con, "c\001", out);		/* escape split across reads */
	assert_int_equal(n, 1);
	n = filter(&con, "z", out);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\001z", 2);
	assert_false(con.quit);

	n = filter(&con, "q\001xrest", out);
	assert_int_equal(n, 1);
	assert_true(con.quit);
	console_close(&con);
	close(fds[0]);
	close(fds[1]);
}

static uint32_t last_value;
static uint16_t last_offset;

static void fake_dev(void *dev, uint16_t offset, void *data, int size, bool is_write)
{
	last_offset = offset;
	if (is_write)
		memcpy(&last_value, data, size);
	else
		memset(data, 0x5A, size);
}

static void io_bus(void **state)
{
	struct iobus bus = { .nranges = 0 };
	uint32_t v = 0;

	assert_int_equal(iobus_register(&bus, 0x3F8, 8, fake_dev, NULL, "uart"), 0);
	assert_int_equal(iobus_register(&bus, 0x3FC, 8, fake_dev, NULL, "clash"), -1);
	assert_int_equal(iobus_register(&bus, 0x3F0, 8, fake_dev, NULL, "below"), 0);

	v = 0x41;
	assert_true(iobus_access(&bus, 0x3F8, &v, 1, true));
	assert_int_equal(last_value & 0xFF, 0x41);
	assert_true(iobus_access(&bus, 0x3FD, &v, 1, false));
	assert_int_equal(last_offset, 5);
	assert_int_equal(v & 0xFF, 0x5A);
	v = 0;
	assert_false(iobus_access(&bus, 0x2F8, &v, 4, false));
	assert_int_equal(v, 0xFFFFFFFF);		/* nobody home */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_sequences),
		cmocka_unit_test(io_bus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
