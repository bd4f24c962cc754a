// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/acpi_pm.h"
#include "arch/x86/platform.h"

#define CONTROL	(PORT_ACPI_SLEEP_CONTROL - PORT_ACPI_SLEEP_CONTROL)
#define STATUS	(PORT_ACPI_SLEEP_STATUS - PORT_ACPI_SLEEP_CONTROL)
#define RESET	(PORT_ACPI_RESET - PORT_ACPI_SLEEP_CONTROL)

struct events {
	int resets;
	int poweroffs;
};

static struct events ev;

static void record_event(void *ctx, enum vm_event event)
{
	struct events *e = ctx;

	if (event == VM_EVENT_RESET)
		e->resets++;
	else
		e->poweroffs++;
}

static int setup(void **state)
{
	ev = (struct events){ 0 };
	*state = acpi_pm_create(record_event, &ev);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	acpi_pm_destroy(*state);
	return 0;
}

static void out8(struct acpi_pm *pm, uint16_t reg, uint8_t v)
{
	acpi_pm_pio(pm, reg, &v, 1, true);
}

static uint8_t in8(struct acpi_pm *pm, uint16_t reg)
{
	uint8_t v = 0x5A;

	acpi_pm_pio(pm, reg, &v, 1, false);
	return v;
}

static void test_poweroff(void **state)
{
	struct acpi_pm *pm = *state;

	/* What Linux does for S5: clear WAK_STS, then SLP_TYP | SLP_EN. */
	out8(pm, STATUS, ACPI_WAK_STS);
	out8(pm, CONTROL, ACPI_S5_SLP_TYP << ACPI_SLP_TYP_SHIFT);
	assert_int_equal(ev.poweroffs, 0);
	out8(pm, CONTROL, ACPI_S5_SLP_TYP << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN);
	assert_int_equal(ev.poweroffs, 1);
	assert_int_equal(ev.resets, 0);
	assert_int_equal(ACPI_S5_SLP_TYP << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN, 0x34);
}

static void test_other_sleep_states_ignored(void **state)
{
	struct acpi_pm *pm = *state;

	for (int typ = 0; typ < 8; typ++) {
		if (typ == ACPI_S5_SLP_TYP)
			continue;
		out8(pm, CONTROL, typ << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN);
	}
	/* Reserved bits do not hide a valid request. */
	out8(pm, CONTROL, 0xC3 | ACPI_S5_SLP_TYP << ACPI_SLP_TYP_SHIFT);
	assert_int_equal(ev.poweroffs, 0);
	out8(pm, CONTROL, 0xC3 | ACPI_S5_SLP_TYP << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN);
	assert_int_equal(ev.poweroffs, 1);
}

static void test_reset(void **state)
{
	struct acpi_pm *pm = *state;

	out8(pm, RESET, ACPI_RESET_VALUE + 1);
	out8(pm, RESET, 0);
	assert_int_equal(ev.resets, 0);
	out8(pm, RESET, ACPI_RESET_VALUE);
	assert_int_equal(ev.resets, 1);
	assert_int_equal(ev.poweroffs, 0);
}

static void test_reads(void **state)
{
	struct acpi_pm *pm = *state;
	uint8_t four[4];

	assert_int_equal(in8(pm, STATUS), 0);
	assert_int_equal(in8(pm, CONTROL), 0);
	assert_int_equal(in8(pm, RESET), 0);
	acpi_pm_pio(pm, 0, four, 4, false);
	assert_int_equal(four[0] | four[1] | four[2], 0);
	assert_int_equal(four[3], 0xFF);		/* not ours */
}

static void test_wide_write(void **state)
{
	struct acpi_pm *pm = *state;
	uint8_t two[2] = { 0x00, ACPI_RESET_VALUE };

	/* A word write at the status port reaches the reset register too. */
	acpi_pm_pio(pm, STATUS, two, 2, true);
	assert_int_equal(ev.resets, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_poweroff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_sleep_states_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_write, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
