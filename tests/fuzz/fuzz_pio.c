// SPDX-License-Identifier: GPL-2.0
/*
 * The port I/O devices behind the VMM's I/O bus, wired as vm_devices.c
 * wires them: COM1, the i8042, the CMOS RTC (on a clock the input moves),
 * PCI configuration space (host bridge plus one device with BARs) and the
 * ACPI power registers. A fresh set per input, so every input replays alike.
 *
 * The input is a sequence of operations, each starting with one byte:
 *   bits 0-2  target: 0 COM1, 1 i8042 data, 2 i8042 command, 3 RTC,
 *             4 PCI, 5 ACPI PM, 6 any port (two more bytes, little-endian),
 *             7 a host-side operation (below)
 *   bits 3-4  access size: 0 or 3 byte, 1 word, 2 dword
 *   bit 5     write (else read)
 *   bits 6-7  added to the offset byte's high bits (so ports past a
 *             device's range are reached too)
 * then, for targets 0-5, an offset byte (port = base + offset % 16 + 16 *
 * bits 6-7), and for writes the value, little-endian, of the access size.
 * Host-side operations (target 7, bits 3-5 choose): 0 host input to the
 * UART (a length byte, then that many bytes), 1 ask the UART's free space,
 * 2 move the clock (a byte, times 1000 s, signed), 3 drain the UART's
 * wait eventfd.
 *
 * A read must fill exactly the bytes of its size: the bytes after it are
 * checked untouched.
 */
#include <string.h>

#include "devices/acpi_pm.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/rtc.h"
#include "devices/uart.h"
#include "fuzz.h"
#include "vmm/iobus.h"
#include "arch/x86/platform.h"

#define CANARY	0xA5

struct machine {
	struct iobus bus;
	struct uart *uart;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct pci_bus *pci;
	struct acpi_pm *acpi_pm;
	struct pci_device nic;
	int64_t now;
	int irq_level[16];
	int events;
};

static const uint16_t bases[6] = {
	PORT_COM1, PORT_I8042_DATA, PORT_I8042_CMD, PORT_RTC_INDEX,
	PORT_PCI_CONFIG_ADDR, PORT_ACPI_SLEEP_CONTROL,
};

static int64_t fake_clock(void *ctx)
{
	return ((struct machine *)ctx)->now;
}

static void irq_line(void *ctx, int irq, int level)
{
	struct machine *m = ctx;

	if (irq < 0 || irq >= 16 || (level != 0 && level != 1))
		fuzz_fail("IRQ %d driven to %d", irq, level);
	m->irq_level[irq] = level;
}

static void vm_event(void *ctx, enum vm_event event)
{
	if (event != VM_EVENT_POWEROFF && event != VM_EVENT_RESET)
		fuzz_fail("unknown VM event %d", event);
	((struct machine *)ctx)->events++;
}

static void machine_create(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	m->now = 1700000000;
	m->uart = uart_create(-1, IRQ_COM1, irq_line, m);
	m->i8042 = i8042_create(vm_event, m);
	m->rtc = rtc_create(fake_clock, m);
	m->pci = pci_create(vm_event, m);
	m->acpi_pm = acpi_pm_create(vm_event, m);
	if (!m->uart || !m->i8042 || !m->rtc || !m->pci || !m->acpi_pm)
		fuzz_fail("cannot create the devices");
	pci_device_init(&m->nic, 0x1af4, 0x1000, 0x020000, 1);
	m->nic.devfn = PCI_DEVFN_AUTO;
	if (pci_device_set_bar(&m->nic, 0, 32, true) ||
	    pci_device_set_bar(&m->nic, 1, 4096, false) ||
	    pci_register_device(m->pci, &m->nic))
		fuzz_fail("cannot add the PCI device");
	if (iobus_register(&m->bus, PORT_COM1, UART_PORTS, uart_pio, m->uart, "COM1") ||
	    iobus_register(&m->bus, PORT_I8042_DATA, 1, i8042_data_pio, m->i8042, "kbd") ||
	    iobus_register(&m->bus, PORT_I8042_CMD, 1, i8042_cmd_pio, m->i8042, "kbd cmd") ||
	    iobus_register(&m->bus, PORT_RTC_INDEX, RTC_PORTS, rtc_pio, m->rtc, "RTC") ||
	    iobus_register(&m->bus, PORT_PCI_CONFIG_ADDR, PCI_PORTS, pci_pio, m->pci, "PCI") ||
	    iobus_register(&m->bus, PORT_ACPI_SLEEP_CONTROL, ACPI_PM_PORTS, acpi_pm_pio,
			   m->acpi_pm, "ACPI PM"))
		fuzz_fail("cannot register the ports");
}

static void machine_destroy(struct machine *m)
{
	uart_destroy(m->uart);
	i8042_destroy(m->i8042);
	rtc_destroy(m->rtc);
	pci_destroy(m->pci);
	acpi_pm_destroy(m->acpi_pm);
}

static void host_op(struct machine *m, int op, const uint8_t **p, const uint8_t *end)
{
	uint8_t len;
	uint64_t count;

	switch (op) {
	case 0:
		if (*p >= end)
			return;
		len = **p;
		(*p)++;
		if (len > end - *p)
			len = (uint8_t)(end - *p);
		if (uart_receive(m->uart, *p, len) > len)
			fuzz_fail("uart_receive took more than it was given");
		*p += len;
		break;
	case 1:
		if (uart_rx_space(m->uart) > UART_RX_BUF_SIZE)
			fuzz_fail("UART free space beyond its buffer");
		break;
	case 2:
		if (*p >= end)
			return;
		m->now += (int8_t)**p * 1000LL;
		(*p)++;
		break;
	case 3:
		if (read(uart_rx_wait_fd(m->uart), &count, sizeof(count)) < 0 &&
		    errno != EAGAIN)
			fuzz_fail("reading the UART wait fd: %s", strerror(errno));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	static struct machine m;

	machine_create(&m);
	while (p < end) {
		uint8_t op = *p++, buf[8];
		int target = op & 7, size_bits = (op >> 3) & 3;
		int len = size_bits == 1 ? 2 : size_bits == 2 ? 4 : 1;
		bool write = op & 0x20;
		uint16_t port;

		if (target == 7) {
			host_op(&m, (op >> 3) & 7, &p, end);
			continue;
		}
		if (target == 6) {
			if (end - p < 2)
				break;
			port = (uint16_t)(p[0] | p[1] << 8);
			p += 2;
		} else {
			if (p >= end)
				break;
			port = (uint16_t)(bases[target] + (*p++ & 15) + 16 * (op >> 6));
		}
		memset(buf, CANARY, sizeof(buf));
		if (write) {
			if (end - p < len)
				break;
			memcpy(buf, p, (size_t)len);
			p += len;
		}
		iobus_access(&m.bus, port, buf, len, write);
		for (int i = len; i < (int)sizeof(buf); i++)
			if (buf[i] != CANARY)
				fuzz_fail("a %d-byte %s of port 0x%x changed byte %d",
					  len, write ? "write" : "read", port, i);
	}
	machine_destroy(&m);
	return 0;
}
