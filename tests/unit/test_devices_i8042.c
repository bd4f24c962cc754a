// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/i8042.h"

struct events {
	int resets;
	int poweroffs;
};

static void record_event(void *ctx, enum vm_event event)
{
	struct events *ev = ctx;

	if (event == VM_EVENT_RESET)
		ev->resets++;
	else
		ev->poweroffs++;
}

static struct events ev;

static int setup(void **state)
{
	ev = (struct events){ 0 };
	*state = i8042_create(record_event, &ev);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	i8042_destroy(*state);
	return 0;
}

static uint8_t status(struct i8042 *kbc)
{
	uint8_t v = 0;

	i8042_cmd_pio(kbc, 0, &v, 1, false);
	return v;
}

static uint8_t data_in(struct i8042 *kbc)
{
	uint8_t v = 0x5A;

	i8042_data_pio(kbc, 0, &v, 1, false);
	return v;
}

static void command(struct i8042 *kbc, uint8_t cmd)
{
	i8042_cmd_pio(kbc, 0, &cmd, 1, true);
}

static void data_out(struct i8042 *kbc, uint8_t val)
{
	i8042_data_pio(kbc, 0, &val, 1, true);
}

/* Linux's reboot=k: wait for an empty input buffer, then pulse reset. */
static void test_reboot_k(void **state)
{
	struct i8042 *kbc = *state;
	int tries = 0;

	while (status(kbc) & 0x02)
		assert_true(++tries < 10);
	assert_int_equal(ev.resets, 0);
	command(kbc, 0xFE);
	assert_int_equal(ev.resets, 1);
	assert_int_equal(ev.poweroffs, 0);
}

static void test_idle_controller(void **state)
{
	struct i8042 *kbc = *state;

	assert_int_equal(status(kbc) & 0x03, 0);	/* no output, no input */
	assert_true(status(kbc) & 0x04);		/* POST passed */
	assert_int_equal(data_in(kbc), 0);
	/* A byte for the (absent) keyboard is swallowed. */
	data_out(kbc, 0xF4);
	assert_int_equal(status(kbc) & 0x03, 0);
	assert_int_equal(data_in(kbc), 0);
	assert_int_equal(ev.resets, 0);
}

static void test_command_byte(void **state)
{
	struct i8042 *kbc = *state;

	command(kbc, 0x20);
	assert_true(status(kbc) & 0x01);
	assert_int_equal(data_in(kbc), 0x34);
	assert_false(status(kbc) & 0x01);
	assert_int_equal(data_in(kbc), 0);

	command(kbc, 0x60);
	data_out(kbc, 0x45);
	command(kbc, 0x20);
	assert_int_equal(data_in(kbc), 0x45);
	command(kbc, 0xA7);				/* disable aux port */
	command(kbc, 0x20);
	assert_int_equal(data_in(kbc), 0x65);
	command(kbc, 0x60);
	data_out(kbc, 0x00);				/* system flag off */
	assert_false(status(kbc) & 0x04);
}

static void test_self_test_and_others(void **state)
{
	struct i8042 *kbc = *state;

	command(kbc, 0xAA);
	assert_int_equal(data_in(kbc), 0x55);
	command(kbc, 0xC0);				/* unknown: ignored */
	assert_false(status(kbc) & 0x01);
	command(kbc, 0xFF);				/* pulses no line */
	assert_int_equal(ev.resets, 0);
	/* Writing the output port with the reset bit low also resets. */
	command(kbc, 0xD1);
	data_out(kbc, 0x01);
	assert_int_equal(ev.resets, 0);
	command(kbc, 0xD1);
	data_out(kbc, 0x00);
	assert_int_equal(ev.resets, 1);
}

static void test_no_callback(void **state)
{
	struct i8042 *kbc = i8042_create(NULL, NULL);
	uint8_t v = 0;

	assert_non_null(kbc);
	command(kbc, 0xFE);
	/* A one-port handler ignores neighbours. */
	i8042_cmd_pio(kbc, 1, &v, 1, false);
	assert_int_equal(v, 0xFF);
	i8042_destroy(kbc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reboot_k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_controller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_test_and_others, setup, teardown),
		cmocka_unit_test(test_no_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
