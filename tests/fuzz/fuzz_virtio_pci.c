// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci transport as the guest's driver reaches it: PCI
 * configuration space through ports 0xCF8/0xCFC, BAR 0 (common, ISR,
 * device and notification structures, the MSI-X table) through MMIO, and
 * the queues in guest memory, behind a real device (virtio-rng, whose
 * worker thread is never started, so its work runs here, inline). A fresh
 * machine per input, so inputs replay alike.
 *
 * The input is a sequence of operations, each starting with one byte:
 *   bits 0-2  0 config read, 1 config write (a register byte), 2 BAR read,
 *             3 BAR write (two offset bytes), 4 guest memory write (two
 *             offset bytes, a length byte, the data), 5 run the device
 *             thread's loop once (kicks), 6 drain the interrupt eventfd,
 *             7 a config-space write of a BAR-moving dword (a register
 *             byte, the dword)
 *   bits 3-4  access size: 1, 2, 4, or 8 bytes (config: 8 means 4)
 * then the operation's bytes and, for writes, the value, little-endian.
 *
 * Checked: a read fills exactly its size (bytes past it untouched); a
 * doorbell is only ever armed inside the PCI window; nothing the guest
 * does crashes, reaches outside guest memory or leaks (the sanitizers).
 */
#include <sys/eventfd.h>

#include "arch/x86/platform.h"
#include "devices/pci.h"
#include "fuzz.h"
#include "lib/le.h"
#include "mem/region.h"
#include "virtio/pci.h"
#include "virtio/rng.h"
#include "virtio/worker.h"

#define CANARY		0xA5
#define GUEST_SIZE	(64 * 1024)
#define DEVFN		PCI_DEVFN(1, 0)

struct machine {
	struct pci_bus *pci;
	struct worker *w;
	struct virtio_rng *rng;
	struct virtio_pci *vp;
	struct guest_mem mem;
};

static uint8_t *guest;
static int irq_fd = -1;
static struct msi_ops msi;
static struct doorbell_ops doorbells;

static int route_add(void *ctx, int *fd)
{
	static int handle;

	*fd = irq_fd;
	return handle++ & 0x7FFF;
}

static int route_set(void *ctx, int handle, uint64_t addr, uint32_t data, bool masked)
{
	return 0;
}

static int doorbell_set(void *ctx, uint64_t addr, unsigned int len, int fd, bool assign)
{
	if (assign && (addr < PCI_MMIO_START || addr >= PCI_MMIO_END))
		fuzz_fail("a doorbell armed outside the PCI window: %#llx",
			  (unsigned long long)addr);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (guest == MAP_FAILED || irq_fd < 0)
		fuzz_fail("cannot set up: %s", strerror(errno));
	msi = (struct msi_ops){ .route_add = route_add, .route_set = route_set };
	doorbells = (struct doorbell_ops){ .set = doorbell_set };
	return 0;
}

static void vm_event(void *ctx, enum vm_event event)
{
}

static void machine_create(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	memset(guest, 0, GUEST_SIZE);
	if (guest_mem_add(&m->mem, 0, GUEST_SIZE, guest, MEM_HPA_UNKNOWN, MEM_KIND_RAM))
		fuzz_fail("guest memory");
	m->pci = pci_create(vm_event, m);
	m->w = worker_create("fuzz");
	if (!m->pci || !m->w)
		fuzz_fail("cannot create the bus");
	if (pci_set_mmio_window(m->pci, PCI_MMIO_START, PCI_MMIO_END))
		fuzz_fail("cannot set the PCI window");
	m->rng = virtio_rng_create(m->w);
	if (!m->rng)
		fuzz_fail("cannot create virtio-rng");
	m->vp = virtio_pci_create(virtio_rng_desc(m->rng), &m->mem, &msi, &doorbells);
	if (!m->vp || virtio_pci_attach(m->vp, m->pci))
		fuzz_fail("cannot create the transport");
}

static void machine_destroy(struct machine *m)
{
	virtio_pci_destroy(m->vp);
	worker_destroy(m->w);
	virtio_rng_destroy(m->rng);
	pci_destroy(m->pci);
}

static void config_access(struct machine *m, uint8_t reg, uint8_t *buf, int len, bool write)
{
	uint8_t addr[4];

	put_le32(addr, 0x80000000u | DEVFN << 8 | (reg & 0xFC));
	pci_pio(m->pci, 0, addr, 4, true);
	pci_pio(m->pci, (uint16_t)(4 + (reg & 3)), buf, len, write);
}

static void check_canary(const uint8_t *buf, int len, const char *what)
{
	for (int i = len; i < 8; i++)
		if (buf[i] != CANARY)
			fuzz_fail("a %d-byte %s changed byte %d", len, what, i);
}

static bool take(const uint8_t **p, const uint8_t *end, void *out, size_t n)
{
	if ((size_t)(end - *p) < n)
		return false;
	memcpy(out, *p, n);
	*p += n;
	return true;
}

static bool guest_write(const uint8_t **p, const uint8_t *end)
{
	uint8_t off[2], len;

	if (!take(p, end, off, 2) || !take(p, end, &len, 1))
		return false;
	if (len > end - *p)
		len = (uint8_t)(end - *p);
	memcpy(guest + (get_le16(off) % (GUEST_SIZE - 256)), *p, len);
	*p += len;
	return true;
}

static bool bar_access(struct machine *m, const uint8_t **p, const uint8_t *end, int len,
		       bool write)
{
	uint64_t base = pci_device_bar_addr(virtio_pci_device(m->vp), 0);
	uint8_t off[2], buf[8];

	if (!take(p, end, off, 2))
		return false;
	memset(buf, CANARY, sizeof(buf));
	if (write && !take(p, end, buf, (size_t)len))
		return false;
	/* through the bus, as a vCPU's MMIO exit: a moved or disabled BAR gets nothing */
	pci_mmio(m->pci, (base ? base : PCI_MMIO_START) + (get_le16(off) & 0x7FFF), buf, len,
		 write);
	check_canary(buf, len, write ? "BAR write" : "BAR read");
	return true;
}

static bool config_op(struct machine *m, const uint8_t **p, const uint8_t *end, int len,
		      bool write)
{
	uint8_t reg, buf[8];

	if (len == 8)
		len = 4;
	if (!take(p, end, &reg, 1))
		return false;
	memset(buf, CANARY, sizeof(buf));
	if (write && !take(p, end, buf, (size_t)len))
		return false;
	config_access(m, reg, buf, len, write);
	check_canary(buf, len, write ? "config write" : "config read");
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	static struct machine m;
	uint64_t n;
	bool more = true;

	machine_create(&m);
	while (more && p < end) {
		uint8_t op = *p++;
		int len = 1 << ((op >> 3) & 3);

		switch (op & 7) {
		case 0:
		case 1:
			more = config_op(&m, &p, end, len, op & 1);
			break;
		case 2:
		case 3:
			more = bar_access(&m, &p, end, len, op & 1);
			break;
		case 4:
			more = guest_write(&p, end);
			break;
		case 5:
			evloop_run_once(worker_loop(m.w), 0);
			break;
		case 6:
			if (read(irq_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
				fuzz_fail("reading the interrupt eventfd: %s", strerror(errno));
			break;
		case 7:
			more = config_op(&m, &p, end, 4, true);
			break;
		}
	}
	machine_destroy(&m);
	return 0;
}
