// SPDX-License-Identifier: GPL-2.0
/*
 * A deliberately minimal 8042 keyboard controller. The guest has no PS/2
 * keyboard or mouse (input comes through the UART) and the ACPI tables do
 * not describe a PS/2 controller, so Linux's i8042 driver does not bind;
 * what is left is the legacy reset path ("reboot=k", and the fallback of
 * the default reboot order), which only needs an empty input buffer and the
 * pulse-reset command. A few controller commands are still answered so that
 * software that peeks at the controller byte or runs the self-test gets
 * sensible replies instead of waiting for a timeout.
 */
#include <pthread.h>
#include <stdlib.h>

#include "devices/i8042.h"
#include "lib/err.h"

#define STS_OBF		0x01	/* output buffer full: data port has a byte */
#define STS_IBF		0x02	/* input buffer full: never, we act at once */
#define STS_SYS		0x04	/* system flag, mirrors the controller byte */
#define STS_CMD		0x08	/* last byte written went to the command port */
#define STS_UNLOCKED	0x10	/* keyboard not inhibited */

#define CTR_SYS		0x04
#define CTR_KBD_OFF	0x10
#define CTR_AUX_OFF	0x20
/* No interrupts, system flag set (POST passed), both ports disabled. */
#define CTR_DEFAULT	(CTR_SYS | CTR_KBD_OFF | CTR_AUX_OFF)

#define CMD_READ_CTR	0x20
#define CMD_WRITE_CTR	0x60
#define CMD_AUX_OFF	0xA7
#define CMD_AUX_ON	0xA8
#define CMD_SELF_TEST	0xAA
#define CMD_KBD_OFF	0xAD
#define CMD_KBD_ON	0xAE
#define CMD_WRITE_OUTP	0xD1	/* next data byte: output port, bit 0 = !reset */
#define CMD_PULSE	0xF0	/* 0xF0-0xFF: pulse output lines whose bit is 0 */

#define SELF_TEST_OK	0x55

struct i8042 {
	pthread_mutex_t lock;
	uint8_t ctr;
	uint8_t out;		/* the output buffer, valid while STS_OBF */
	uint8_t status;
	uint8_t pending;	/* command waiting for its data byte, or 0 */
	vm_event_fn event;
	void *event_ctx;
};

static void reply(struct i8042 *kbc, uint8_t val)
{
	kbc->out = val;
	kbc->status |= STS_OBF;
}

/* Returns true if the command asks for a CPU reset. */
static bool command(struct i8042 *kbc, uint8_t cmd)
{
	kbc->status |= STS_CMD;
	kbc->pending = 0;
	if (cmd >= CMD_PULSE)
		return !(cmd & 0x01);	/* line 0 is the CPU reset line */
	switch (cmd) {
	case CMD_READ_CTR:
		reply(kbc, kbc->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
		kbc->pending = cmd;
		break;
	case CMD_SELF_TEST:
		reply(kbc, SELF_TEST_OK);
		break;
	case CMD_AUX_OFF:
		kbc->ctr |= CTR_AUX_OFF;
		break;
	case CMD_AUX_ON:
		kbc->ctr &= ~CTR_AUX_OFF;
		break;
	case CMD_KBD_OFF:
		kbc->ctr |= CTR_KBD_OFF;
		break;
	case CMD_KBD_ON:
		kbc->ctr &= ~CTR_KBD_OFF;
		break;
	default:	/* nothing is attached: accept and ignore */
		break;
	}
	return false;
}

/* Returns true if the byte asks for a CPU reset. */
static bool data_write(struct i8042 *kbc, uint8_t val)
{
	uint8_t cmd = kbc->pending;

	kbc->status &= ~STS_CMD;
	kbc->pending = 0;
	if (cmd == CMD_WRITE_CTR)
		kbc->ctr = val;
	else if (cmd == CMD_WRITE_OUTP)
		return !(val & 0x01);
	/* Otherwise a byte for the keyboard, which is not there. */
	return false;
}

static uint8_t data_read(struct i8042 *kbc)
{
	if (!(kbc->status & STS_OBF))
		return 0;
	kbc->status &= ~STS_OBF;
	return kbc->out;
}

static uint8_t status_read(struct i8042 *kbc)
{
	uint8_t sys = (kbc->ctr & CTR_SYS) ? STS_SYS : 0;

	return (kbc->status & ~(STS_SYS | STS_IBF)) | sys | STS_UNLOCKED;
}

static void port_access(struct i8042 *kbc, bool cmd_port, uint16_t offset,
			void *data, int size, bool is_write)
{
	uint8_t *bytes = data;
	bool reset = false;

	pthread_mutex_lock(&kbc->lock);
	for (int i = 0; i < size; i++) {
		if (offset + i != 0) {	/* each handler owns one port */
			if (!is_write)
				bytes[i] = 0xFF;
		} else if (is_write) {
			reset |= cmd_port ? command(kbc, bytes[i]) :
					    data_write(kbc, bytes[i]);
		} else {
			bytes[i] = cmd_port ? status_read(kbc) : data_read(kbc);
		}
	}
	pthread_mutex_unlock(&kbc->lock);
	if (reset && kbc->event)
		kbc->event(kbc->event_ctx, VM_EVENT_RESET);
}

void i8042_data_pio(void *dev, uint16_t offset, void *data, int size, bool is_write)
{
	port_access(dev, false, offset, data, size, is_write);
}

void i8042_cmd_pio(void *dev, uint16_t offset, void *data, int size, bool is_write)
{
	port_access(dev, true, offset, data, size, is_write);
}

struct i8042 *i8042_create(vm_event_fn event, void *event_ctx)
{
	struct i8042 *kbc = calloc(1, sizeof(*kbc));

	if (!kbc) {
		err_set("out of memory for the keyboard controller: free some host memory");
		return NULL;
	}
	pthread_mutex_init(&kbc->lock, NULL);
	kbc->ctr = CTR_DEFAULT;
	kbc->event = event;
	kbc->event_ctx = event_ctx;
	return kbc;
}

void i8042_destroy(struct i8042 *kbc)
{
	if (!kbc)
		return;
	pthread_mutex_destroy(&kbc->lock);
	free(kbc);
}
