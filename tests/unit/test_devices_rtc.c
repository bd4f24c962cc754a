// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "devices/rtc.h"

#define REG_A	0x0A
#define REG_B	0x0B
#define REG_C	0x0C
#define REG_D	0x0D
#define CENTURY	0x32

static int64_t fake_now;

static int64_t fake_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

static int64_t utc(int year, int mon, int mday, int hour, int min, int sec)
{
	struct tm tm = {
		.tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = mday,
		.tm_hour = hour, .tm_min = min, .tm_sec = sec,
	};

	return timegm(&tm);
}

static int setup(void **state)
{
	/* A Thursday, in a leap year, in the afternoon. */
	fake_now = utc(2024, 2, 29, 13, 5, 9);
	*state = rtc_create(fake_clock, &fake_now);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	rtc_destroy(*state);
	return 0;
}

static uint8_t cmos_read(struct rtc *rtc, uint8_t index)
{
	uint8_t v = 0x5A;

	rtc_pio(rtc, 0, &index, 1, true);
	rtc_pio(rtc, 1, &v, 1, false);
	return v;
}

static void cmos_write(struct rtc *rtc, uint8_t index, uint8_t val)
{
	rtc_pio(rtc, 0, &index, 1, true);
	rtc_pio(rtc, 1, &val, 1, true);
}

static void test_status_registers(void **state)
{
	struct rtc *rtc = *state;

	assert_int_equal(cmos_read(rtc, REG_A), 0x26);
	assert_int_equal(cmos_read(rtc, REG_B), 0x02);
	assert_int_equal(cmos_read(rtc, REG_C), 0x00);
	assert_int_equal(cmos_read(rtc, REG_D), 0x80);
	/* UIP is read-only and never set; D cannot be changed. */
	cmos_write(rtc, REG_A, 0xA6);
	assert_int_equal(cmos_read(rtc, REG_A), 0x26);
	cmos_write(rtc, REG_D, 0x00);
	assert_int_equal(cmos_read(rtc, REG_D), 0x80);
}

static void test_bcd_24h(void **state)
{
	struct rtc *rtc = *state;

	assert_int_equal(cmos_read(rtc, 0x00), 0x09);
	assert_int_equal(cmos_read(rtc, 0x02), 0x05);
	assert_int_equal(cmos_read(rtc, 0x04), 0x13);
	assert_int_equal(cmos_read(rtc, 0x06), 0x05);	/* Thursday; Sunday = 1 */
	assert_int_equal(cmos_read(rtc, 0x07), 0x29);
	assert_int_equal(cmos_read(rtc, 0x08), 0x02);
	assert_int_equal(cmos_read(rtc, 0x09), 0x24);
	assert_int_equal(cmos_read(rtc, CENTURY), 0x20);
	/* The clock moves with the host's. */
	fake_now += 60 * 60 + 51;
	assert_int_equal(cmos_read(rtc, 0x00), 0x00);
	assert_int_equal(cmos_read(rtc, 0x02), 0x06);
	assert_int_equal(cmos_read(rtc, 0x04), 0x14);
}

static void test_binary(void **state)
{
	struct rtc *rtc = *state;

	cmos_write(rtc, REG_B, 0x06);
	assert_int_equal(cmos_read(rtc, 0x00), 9);
	assert_int_equal(cmos_read(rtc, 0x02), 5);
	assert_int_equal(cmos_read(rtc, 0x04), 13);
	assert_int_equal(cmos_read(rtc, 0x07), 29);
	assert_int_equal(cmos_read(rtc, 0x09), 24);
	assert_int_equal(cmos_read(rtc, CENTURY), 20);
}

static void test_12_hour(void **state)
{
	struct rtc *rtc = *state;

	cmos_write(rtc, REG_B, 0x00);			/* BCD, 12 hour */
	assert_int_equal(cmos_read(rtc, 0x04), 0x81);	/* 1 PM */
	cmos_write(rtc, REG_B, 0x04);			/* binary, 12 hour */
	assert_int_equal(cmos_read(rtc, 0x04), 0x81);
	fake_now = utc(2024, 3, 1, 0, 30, 0);
	assert_int_equal(cmos_read(rtc, 0x04), 12);	/* 12 AM */
	fake_now = utc(2024, 3, 1, 12, 30, 0);
	assert_int_equal(cmos_read(rtc, 0x04), 0x80 | 12);	/* 12 PM */
	cmos_write(rtc, REG_B, 0x00);
	fake_now = utc(2024, 3, 1, 23, 0, 0);
	assert_int_equal(cmos_read(rtc, 0x04), 0x91);	/* 11 PM */
	fake_now = utc(2024, 3, 1, 11, 0, 0);
	assert_int_equal(cmos_read(rtc, 0x04), 0x11);
}

static void test_register_c_clears(void **state)
{
	struct rtc *rtc = *state;

	assert_int_equal(cmos_read(rtc, REG_C), 0x00);
	fake_now++;
	assert_int_equal(cmos_read(rtc, REG_C), 0x10);	/* update ended */
	assert_int_equal(cmos_read(rtc, REG_C), 0x00);	/* cleared by the read */
	cmos_write(rtc, REG_B, 0x12);			/* UIE */
	fake_now++;
	assert_int_equal(cmos_read(rtc, REG_C), 0x90);
	assert_int_equal(cmos_read(rtc, REG_C), 0x00);
	cmos_write(rtc, REG_C, 0xFF);			/* read-only */
	assert_int_equal(cmos_read(rtc, REG_C), 0x00);
}

static void test_nmi_bit_ignored(void **state)
{
	struct rtc *rtc = *state;

	assert_int_equal(cmos_read(rtc, 0x80 | 0x00), 0x09);
	assert_int_equal(cmos_read(rtc, 0x80 | REG_D), 0x80);
	cmos_write(rtc, 0x80 | 0x40, 0x77);
	assert_int_equal(cmos_read(rtc, 0x40), 0x77);
}

static void test_nvram(void **state)
{
	struct rtc *rtc = *state;

	for (int i = 0x0E; i < 0x80; i++) {
		if (i != CENTURY)
			cmos_write(rtc, i, (uint8_t)(i * 7));
	}
	for (int i = 0x0E; i < 0x80; i++) {
		if (i != CENTURY)
			assert_int_equal(cmos_read(rtc, i), (uint8_t)(i * 7));
	}
	/* Alarm registers are storage too. */
	cmos_write(rtc, 0x01, 0x30);
	cmos_write(rtc, 0x03, 0x31);
	cmos_write(rtc, 0x05, 0x32);
	assert_int_equal(cmos_read(rtc, 0x01), 0x30);
	assert_int_equal(cmos_read(rtc, 0x03), 0x31);
	assert_int_equal(cmos_read(rtc, 0x05), 0x32);
	/* The time registers were not disturbed. */
	assert_int_equal(cmos_read(rtc, 0x00), 0x09);
}

/* How Linux sets the clock: SET, write every field, clear SET. */
static void test_guest_sets_time(void **state)
{
	struct rtc *rtc = *state;

	cmos_write(rtc, REG_B, 0x82);
	fake_now += 5;				/* halted: the time does not move */
	assert_int_equal(cmos_read(rtc, 0x00), 0x09);
	cmos_write(rtc, 0x00, 0x30);
	cmos_write(rtc, 0x02, 0x45);
	cmos_write(rtc, 0x04, 0x07);
	cmos_write(rtc, 0x07, 0x31);
	cmos_write(rtc, 0x08, 0x12);
	cmos_write(rtc, 0x09, 0x99);
	cmos_write(rtc, CENTURY, 0x19);
	assert_int_equal(cmos_read(rtc, 0x04), 0x07);
	cmos_write(rtc, REG_B, 0x02);
	fake_now += 10;
	assert_int_equal(cmos_read(rtc, 0x00), 0x40);
	assert_int_equal(cmos_read(rtc, 0x02), 0x45);
	assert_int_equal(cmos_read(rtc, 0x04), 0x07);
	assert_int_equal(cmos_read(rtc, 0x06), 0x06);	/* a Friday */
	assert_int_equal(cmos_read(rtc, 0x09), 0x99);
	assert_int_equal(cmos_read(rtc, CENTURY), 0x19);

	/* A single field written while running moves the clock too. */
	cmos_write(rtc, 0x09, 0x98);
	assert_int_equal(cmos_read(rtc, 0x09), 0x98);
	assert_int_equal(cmos_read(rtc, 0x00), 0x40);

	/* 12-hour binary writes are decoded as such. */
	cmos_write(rtc, REG_B, 0x80 | 0x04);
	cmos_write(rtc, 0x04, 0x80 | 12);		/* 12 PM */
	cmos_write(rtc, REG_B, 0x06);
	assert_int_equal(cmos_read(rtc, 0x04), 12);
}

static void test_host_clock(void **state)
{
	struct rtc *rtc = rtc_create(NULL, NULL);
	uint8_t year, century;

	assert_non_null(rtc);
	year = cmos_read(rtc, 0x09);
	century = cmos_read(rtc, CENTURY);
	assert_int_equal(century, 0x20);
	assert_true((year >> 4) <= 9 && (year & 0x0F) <= 9);
	assert_true(year >= 0x24);
	rtc_destroy(rtc);
}

static void test_index_port(void **state)
{
	struct rtc *rtc = *state;
	uint8_t v = 0x8D, two[2];

	rtc_pio(rtc, 0, &v, 1, true);
	rtc_pio(rtc, 0, &v, 1, false);
	assert_int_equal(v, 0x0D);
	/* A word read at the index port: index, then data. */
	rtc_pio(rtc, 0, two, 2, false);
	assert_int_equal(two[0], 0x0D);
	assert_int_equal(two[1], 0x80);
	rtc_pio(rtc, 2, &v, 1, false);
	assert_int_equal(v, 0xFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bcd_24h, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_12_hour, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_c_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nmi_bit_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nvram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_sets_time, setup, teardown),
		cmocka_unit_test(test_host_clock),
		cmocka_unit_test_setup_teardown(test_index_port, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
