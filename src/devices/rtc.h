/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_DEVICES_RTC_H
#define SLICEVM_DEVICES_RTC_H

#include <stdint.h>

#include "devices/iodev.h"

/*
 * The MC146818 CMOS real-time clock and its 128 bytes of CMOS RAM.
 *
 * Wiring, for the VMM: register rtc_pio for RTC_PORTS ports at
 * PORT_RTC_INDEX (index at offset 0, data at offset 1).
 *
 * The clock shows the host's UTC time (from @clock, or CLOCK_REALTIME when
 * @clock is NULL) plus whatever offset the guest set by writing the time
 * registers. Registers 0-9 hold the time and date in BCD or binary and 12 or
 * 24 hour format as register B asks; register 0x32 holds the century. The
 * periodic, alarm and update-ended interrupts are not delivered (IRQ_RTC is
 * never raised): register C only reports the update-ended flag, set once a
 * second as on the real chip, and clears on read.
 */

#define RTC_PORTS	2

/* Seconds since the epoch, UTC. */
typedef int64_t (*rtc_clock_fn)(void *ctx);

/* Returns NULL (with err_set()) when out of memory. */
struct rtc *rtc_create(rtc_clock_fn clock, void *clock_ctx);
void rtc_destroy(struct rtc *rtc);

void rtc_pio(void *dev, uint16_t offset, void *data, int size, bool is_write);

#endif
