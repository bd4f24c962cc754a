// SPDX-License-Identifier: GPL-2.0
/*
 * MC146818 RTC. The time registers are not ticked by a timer: they are
 * computed from the host clock whenever the guest reads them, which also
 * means the update cycle is never in progress (register A's UIP reads 0)
 * and a reader never sees a half-updated time. No periodic, alarm or
 * update interrupts are generated; Linux uses the RTC only to read (and,
 * with NTP, to set) the wall clock, and keeps time with the TSC/kvmclock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "devices/rtc.h"
#include "lib/err.h"

#define CMOS_SIZE	128
#define INDEX_MASK	0x7F	/* bit 7 of the index port masks NMIs: ignored */

#define REG_SEC		0x00
#define REG_SEC_ALARM	0x01
#define REG_MIN		0x02
#define REG_MIN_ALARM	0x03
#define REG_HOUR	0x04
#define REG_HOUR_ALARM	0x05
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MONTH	0x08
#define REG_YEAR	0x09
#define REG_A		0x0A
#define REG_B		0x0B
#define REG_C		0x0C
#define REG_D		0x0D
#define REG_CENTURY	0x32

#define A_UIP		0x80
#define A_DEFAULT	0x26	/* 32.768 kHz time base, 1024 Hz periodic rate */
#define B_SET		0x80	/* updates halted while the time is set */
#define B_UIE		0x10
#define B_DM_BINARY	0x04
#define B_24H		0x02
#define B_DEFAULT	B_24H	/* BCD, 24 hour */
#define C_IRQF		0x80
#define C_UF		0x10
#define D_VRT		0x80	/* RAM and time are valid */
#define HOUR_PM		0x80

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[CMOS_SIZE];	/* time registers hold the last snapshot */
	int64_t offset;		/* guest time minus clock time, seconds */
	int64_t uf_since;	/* clock second when register C was last read */
	rtc_clock_fn clock;
	void *clock_ctx;
};

static int64_t host_clock(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static bool is_time_reg(unsigned int reg)
{
	switch (reg) {
	case REG_SEC:
	case REG_MIN:
	case REG_HOUR:
	case REG_WDAY:
	case REG_MDAY:
	case REG_MONTH:
	case REG_YEAR:
	case REG_CENTURY:
		return true;
	}
	return false;
}

static uint8_t encode(const struct rtc *r, unsigned int val)
{
	if (r->ram[REG_B] & B_DM_BINARY)
		return val;
	return (val / 10) << 4 | val % 10;
}

static unsigned int decode(const struct rtc *r, uint8_t val)
{
	if (r->ram[REG_B] & B_DM_BINARY)
		return val;
	return (val >> 4) * 10 + (val & 0x0F);
}

static uint8_t encode_hour(const struct rtc *r, unsigned int hour)
{
	unsigned int h12 = hour % 12 ? hour % 12 : 12;

	if (r->ram[REG_B] & B_24H)
		return encode(r, hour);
	return encode(r, h12) | (hour >= 12 ? HOUR_PM : 0);
}

static unsigned int decode_hour(const struct rtc *r, uint8_t val)
{
	unsigned int h;

	if (r->ram[REG_B] & B_24H)
		return decode(r, val);
	h = decode(r, val & ~HOUR_PM) % 12;
	return (val & HOUR_PM) ? h + 12 : h;
}

/* Fills the time registers from @tm, in the format register B asks for. */
static void put_fields(struct rtc *r, const struct tm *tm)
{
	int year = tm->tm_year + 1900;

	r->ram[REG_SEC] = encode(r, tm->tm_sec);
	r->ram[REG_MIN] = encode(r, tm->tm_min);
	r->ram[REG_HOUR] = encode_hour(r, tm->tm_hour);
	r->ram[REG_WDAY] = encode(r, tm->tm_wday + 1);	/* Sunday is 1 */
	r->ram[REG_MDAY] = encode(r, tm->tm_mday);
	r->ram[REG_MONTH] = encode(r, tm->tm_mon + 1);
	r->ram[REG_YEAR] = encode(r, year % 100);
	r->ram[REG_CENTURY] = encode(r, year / 100);
}

static void get_fields(const struct rtc *r, struct tm *tm)
{
	*tm = (struct tm){
		.tm_sec = decode(r, r->ram[REG_SEC]),
		.tm_min = decode(r, r->ram[REG_MIN]),
		.tm_hour = decode_hour(r, r->ram[REG_HOUR]),
		.tm_wday = (int)decode(r, r->ram[REG_WDAY]) - 1,
		.tm_mday = decode(r, r->ram[REG_MDAY]),
		.tm_mon = (int)decode(r, r->ram[REG_MONTH]) - 1,
		.tm_year = (int)(decode(r, r->ram[REG_CENTURY]) * 100 +
				 decode(r, r->ram[REG_YEAR])) - 1900,
	};
}

/* Loads the time registers with the current guest time. */
static void snapshot(struct rtc *r)
{
	time_t t = r->clock(r->clock_ctx) + r->offset;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		put_fields(r, &tm);
}

/* Makes the time registers (as the guest wrote them) the current time. */
static void commit(struct rtc *r)
{
	struct tm tm;

	get_fields(r, &tm);
	/* timegm() normalises nonsense such as month 0; it cannot fail here. */
	r->offset = (int64_t)timegm(&tm) - r->clock(r->clock_ctx);
}

static uint8_t read_c(struct rtc *r)
{
	int64_t now = r->clock(r->clock_ctx);
	uint8_t c = 0;

	/* An update cycle ends every second unless the guest halted them. */
	if (now != r->uf_since && !(r->ram[REG_B] & B_SET))
		c |= C_UF;
	if ((c & C_UF) && (r->ram[REG_B] & B_UIE))
		c |= C_IRQF;
	r->uf_since = now;
	return c;
}

static uint8_t read_reg(struct rtc *r, unsigned int reg)
{
	if (is_time_reg(reg) && !(r->ram[REG_B] & B_SET))
		snapshot(r);
	switch (reg) {
	case REG_A:
		return r->ram[REG_A] & ~A_UIP;
	case REG_C:
		return read_c(r);
	case REG_D:
		return D_VRT;
	}
	return r->ram[reg];
}

static void write_b(struct rtc *r, uint8_t val)
{
	uint8_t old = r->ram[REG_B];
	struct tm tm;

	/* Freeze (or refresh) the time, then re-encode it in the new format. */
	if (!(old & B_SET))
		snapshot(r);
	get_fields(r, &tm);
	if (val & B_SET)
		val &= ~B_UIE;		/* SET clears UIE on the real chip */
	r->ram[REG_B] = val;
	put_fields(r, &tm);
	if ((old & B_SET) && !(val & B_SET))
		commit(r);
}

static void write_reg(struct rtc *r, unsigned int reg, uint8_t val)
{
	bool halted = r->ram[REG_B] & B_SET;

	switch (reg) {
	case REG_A:
		r->ram[REG_A] = val & ~A_UIP;
		return;
	case REG_B:
		write_b(r, val);
		return;
	case REG_C:
	case REG_D:
		return;			/* read-only */
	}
	if (!is_time_reg(reg)) {
		r->ram[reg] = val;	/* alarms and plain CMOS RAM */
		return;
	}
	if (!halted)
		snapshot(r);
	r->ram[reg] = val;
	if (!halted)
		commit(r);
}

void rtc_pio(void *dev, uint16_t offset, void *data, int size, bool is_write)
{
	struct rtc *r = dev;
	uint8_t *bytes = data;

	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < size; i++) {
		unsigned int port = offset + i;

		if (port == 0 && is_write)
			r->index = bytes[i] & INDEX_MASK;
		else if (port == 0)
			bytes[i] = r->index;
		else if (port == 1 && is_write)
			write_reg(r, r->index, bytes[i]);
		else if (port == 1)
			bytes[i] = read_reg(r, r->index);
		else if (!is_write)
			bytes[i] = 0xFF;
	}
	pthread_mutex_unlock(&r->lock);
}

struct rtc *rtc_create(rtc_clock_fn clock, void *clock_ctx)
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r) {
		err_set("out of memory for the RTC: free some host memory");
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->clock = clock ? clock : host_clock;
	r->clock_ctx = clock_ctx;
	r->ram[REG_A] = A_DEFAULT;
	r->ram[REG_B] = B_DEFAULT;
	r->ram[REG_D] = D_VRT;
	r->uf_since = r->clock(r->clock_ctx);
	return r;
}

void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}
