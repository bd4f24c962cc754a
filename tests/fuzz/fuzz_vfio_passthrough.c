// SPDX-License-Identifier: GPL-2.0
/*
 * A passed-through PCI function (vfio/passthrough.h) as a hostile guest
 * reaches it, on a real PCI bus: config space through ports 0xCF8/0xCFC,
 * any size at any offset, and accesses of 1, 2, 4 or 8 bytes anywhere in
 * and around the PCI window through pci_mmio(), as a vCPU's MMIO exits. The
 * real function is as odd as VFIO could describe it: the first bytes of the
 * input make its struct vfio_dev_info (capability chain, MSI-X layout, BARs,
 * mmappable areas, INTx), so passthrough_create()'s refusals run too. The
 * kernel side is faked and checks what it is asked: struct vfio_hw (config
 * space and BAR forwards, MSI-X and INTx set-ups), struct memslot_ops (KVM's
 * rules for memory slots), struct intx_ops and struct msi_ops. A fresh
 * machine per input, so inputs replay alike.
 *
 * The description (missing bytes read as 0):
 *   byte 0       bit 0 the status register's capability-list bit, bit 1
 *                VFIO has INTx, bit 2 the VMM has INTx lines (intx_ops),
 *                bits 3-7 fakes that fail once from the start (op 5.0)
 *   bytes 1-3    header type, interrupt pin, capabilities pointer
 *   bytes 4-15   four capabilities: offset, id, next (written last, in order)
 *   bytes 16-25  the body of the first one with id 0x11 (MSI-X): message
 *                control (2), table (4), PBA (4)
 *   bytes 26-27  the MSI-X vectors VFIO can enable (& 0xFFF; 0: unknown);
 *                bits 12-15 n: the MSI vectors it can enable, 2^(n-1) (0: none,
 *                and the function's MSI capability stays hidden)
 *   bytes 28-34  the body of the first one with id 0x10 (PCI Express):
 *                flags (1), device capabilities (4), device control (2)
 *   byte 35      n: the n-th route the VMM makes fails (0: none)
 *   bytes 36-47  BARs 0-5, two bytes each: a: bits 0-5 log2 of the size
 *                (0: none), bit 6 I/O, bit 7 64-bit (the next BAR is then
 *                its upper half, empty); b: bit 0 prefetchable, bit 1
 *                mmappable, bit 2 sparse, bits 3-5 its areas (at most 4),
 *                bit 6 half as large again (no power of two), bit 7 the
 *                mmap failed
 *   then each sparse BAR's areas: offset and size, a byte each, in 256ths
 *   of the BAR (size 0: to its end); then a byte n and n & 15 pokes
 *   (config offset, value) into the real config space.
 *
 * Then operations, each starting with one byte:
 *   bits 0-2  0 config read (a register byte), 1 config write (a register
 *             byte, the value), 2 BAR read, 3 BAR write (a target byte:
 *             bits 0-2 BAR 0-5, 6 the window, 7 any address; four offset
 *             bytes; for writes the value), 4 config write of a dword (a
 *             register byte, the dword), 5 by bits 3-4: 0 arm one-shot
 *             failures (a mask byte: 1 memory slot, 2 MSI-X, 4 VFIO INTx,
 *             8 INTx line, 16 config/BAR forward), 1 check what the guest
 *             sees, 2 read all of config space, 6 an MSI-X table write (two
 *             vector bytes, an offset byte, the value), 7 a config write
 *             into a capability the guest sees (an id byte, an offset
 *             byte, the value)
 *   bits 3-4  access size: 1, 2, 4 or 8 bytes (config: 8 means 4)
 *
 * Checked, besides the sanitizers: a read fills exactly its size; config
 * forwards stay in the 256 bytes and only write the command register's
 * memory, bus-master and INTx-disable bits (INTx disabled without a pin);
 * BAR forwards stay inside the real BAR and off the emulated MSI-X table;
 * memory slots are the function's own, page-aligned, inside a PCI window
 * and the BAR's current place, map the BAR's own bytes, never the MSI-X
 * table or PBA pages, and (as KVM requires) never overlap; until something
 * fails, the slots follow the BARs and the real decoding exactly; MSI-X
 * and INTx are never on together and use the vectors' and line's own
 * eventfds; the guest's capability list stays sane; after
 * passthrough_destroy() no slot, vector or INTx is left and the INTx
 * eventfds are closed.
 */
#include <fcntl.h>

#include "arch/x86/platform.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "fuzz.h"
#include "lib/err.h"
#include "lib/le.h"
#include "vfio/passthrough.h"

#define CANARY		0xA5
#define ADDR		"0000:03:00.0"
#define SLOT_BASE	8
#define FAKE_FD_BASE	1000		/* route n's eventfd, without real ones */
#define BAR_ROOM	(1ULL << 31)	/* each BAR's "mmap": reserved, never touched */
#define PAGE		4096ULL
#define WINDOW		(PCI_MMIO_END - PCI_MMIO_START)
#define WIN64_START	PCI_MMIO64_SIZE		/* the bus's 64-bit window */
#define WIN64_END	(2 * PCI_MMIO64_SIZE)

#define FAIL_SLOT	0x01
#define FAIL_MSIX	0x02
#define FAIL_VFIO_INTX	0x04
#define FAIL_LINE	0x08
#define FAIL_RW		0x10

#define CAP_ID_PCIE		0x10
#define CAP_ID_MSI		0x05
#define CMD_INTX_DISABLE	0x0400
#define PCIE_DEVCAP_FLR		(1u << 28)
#define PCIE_DEVCTL_FLR		0x8000

struct slot {
	bool live;
	uint64_t gpa, size;
	uint8_t *host;
};

struct machine {
	struct vfio_dev_info info;
	struct pci_bus *bus;
	struct passthrough *pt;
	struct pci_device *pdev;	/* once created */
	bool with_intx;

	/* the emulated MSI-X, as the guest is shown it */
	bool msix;
	unsigned int msix_cap, nvec;
	int tbar, pbar;
	uint64_t toff, poff;

	/* the fakes' state */
	uint8_t real_cmd[2];
	bool msix_on, vfio_intx_on;
	unsigned int msi_on;		/* real MSI vectors enabled */
	bool line_on;
	int line_gsi, line_fd, line_resample_fd;
	int intx_fds[2];		/* what the line was given, -1 none */
	struct slot slot[PT_SLOTS_PER_DEVICE];
	unsigned int routes, fail_route;
	unsigned int fail;		/* FAIL_*, armed */
	bool broken;			/* something failed: the VM is ending */
	int nslots, nmsix, nintx, nforwards, nerrors;	/* for the verbose summary */
	uint64_t max_mapped;
};

static struct machine m;
static uint8_t *bar_room;
static bool verbose;		/* SLICEVM_FUZZ_VERBOSE set: say what each input gave */

/* ---- reading the input ---- */

struct input {
	const uint8_t *p, *end;
};

static bool take(struct input *in, void *out, size_t n)
{
	if ((size_t)(in->end - in->p) < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	return true;
}

/* A description byte: 0 once the input ends. */
static uint8_t byte(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static uint32_t word(struct input *in, int n)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint32_t)byte(in) << (8 * i);
	return v;
}

/* ---- the fakes ---- */

static bool fails(unsigned int what)
{
	if (!(m.fail & what))
		return false;
	m.fail &= ~what;
	m.broken = true;
	return true;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int fake_rw(void *ctx, int region, uint64_t off, void *data, int size, bool is_write)
{
	uint8_t *d = data;

	m.nforwards++;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		fuzz_fail("a %d-byte forward", size);
	if (region == VFIO_REGION_CONFIG) {
		uint16_t v;

		if (off >= PCI_CONFIG_SIZE || off + (uint64_t)size > PCI_CONFIG_SIZE)
			fuzz_fail("a config forward at %#llx, %d bytes",
				  (unsigned long long)off, size);
		if (!is_write)
			fuzz_fail("a config read forwarded at %#llx", (unsigned long long)off);
		if (off != PCI_CFG_COMMAND || size != 2)
			fuzz_fail("a config write forwarded at %#llx, %d bytes: only the command "
				  "register is the guest's", (unsigned long long)off, size);
		v = get_le16(d);
		if (v & ~(PCI_CMD_MEM | PCI_CMD_MASTER | CMD_INTX_DISABLE))
			fuzz_fail("command %#x forwarded", v);
		if (!m.pdev->config[PCI_CFG_INT_PIN] && !(v & CMD_INTX_DISABLE))
			fuzz_fail("INTx enabled on a function shown without a pin");
		if (fails(FAIL_RW))
			return err_set("a write of the command register failed: Input/output error");
		/* the slots go before decoding stops */
		for (int i = 0; !m.broken && !(v & PCI_CMD_MEM) && i < PT_SLOTS_PER_DEVICE; i++)
			if (m.slot[i].live)
				fuzz_fail("decoding stops with slot %d still mapped", SLOT_BASE + i);
		put_le16(m.real_cmd, v);
		return 0;
	}
	if (region < 0 || region >= PCI_BARS || !m.info.bar[region].size ||
	    m.info.bar[region].io)
		fuzz_fail("a forward to region %d, no memory BAR", region);
	if (off >= m.info.bar[region].size || off + (uint64_t)size > m.info.bar[region].size)
		fuzz_fail("a forward past BAR %d's %#llx bytes: %#llx, %d bytes", region,
			  (unsigned long long)m.info.bar[region].size, (unsigned long long)off,
			  size);
	if (m.msix && region == m.tbar &&
	    overlaps(off, (uint64_t)size, m.toff, (uint64_t)m.nvec * MSIX_ENTRY_SIZE))
		fuzz_fail("a %s of the emulated MSI-X table forwarded to the device: %#llx, "
			  "%d bytes", is_write ? "write" : "read", (unsigned long long)off, size);
	if (fails(FAIL_RW))
		return err_set("a BAR access failed: Input/output error");
	for (int i = 0; !is_write && i < size; i++)
		d[i] = (uint8_t)(0xC0 ^ (off + (uint64_t)i));
	return 0;
}

static int fake_set_msix(void *ctx, const int *fds, unsigned int n)
{
	m.nmsix++;
	if (!m.msix)
		fuzz_fail("MSI-X set up on a function shown without it");
	if (n && n != m.nvec)
		fuzz_fail("%u MSI-X vectors enabled, the guest has %u", n, m.nvec);
	if (m.info.msix_irqs && n > m.info.msix_irqs)
		fuzz_fail("%u MSI-X vectors enabled, VFIO has %u", n, m.info.msix_irqs);
	if (n && m.vfio_intx_on)
		fuzz_fail("MSI-X enabled while INTx is on (VFIO refuses)");
	if (n && m.msi_on)
		fuzz_fail("MSI-X enabled while MSI is on (VFIO refuses)");
	/* its routes, made one after the other (after MSI's when that comes first) */
	for (unsigned int i = 0; i < n; i++)
		if (fds[i] != fds[0] + (int)i || fds[0] < FAKE_FD_BASE ||
		    fds[0] + (int)n > FAKE_FD_BASE + (int)m.routes)
			fuzz_fail("vector %u signals fd %d, not its route's", i, fds[i]);
	if (fails(FAIL_MSIX))
		return err_set("VFIO_DEVICE_SET_IRQS (%u MSI-X vectors) failed: No space", n);
	m.msix_on = n > 0;
	return 0;
}

static int fake_set_msi(void *ctx, const int *fds, unsigned int n)
{
	m.nmsix++;
	if (!m.info.msi_irqs)
		fuzz_fail("MSI set up on a function shown without it");
	if (n > 32 || (n & (n - 1)) || n > m.info.msi_irqs)
		fuzz_fail("%u MSI vectors enabled, VFIO has %u", n, m.info.msi_irqs);
	if (n && (m.vfio_intx_on || m.msix_on || m.msi_on))
		fuzz_fail("MSI enabled while INTx, MSI-X or MSI is on (VFIO refuses)");
	for (unsigned int i = 0; i < n; i++)
		if (fds[i] < FAKE_FD_BASE || fds[i] >= FAKE_FD_BASE + (int)m.routes ||
		    (i && fds[i] != fds[i - 1] + 1))
			fuzz_fail("MSI vector %u signals fd %d, not a route's", i, fds[i]);
	if (fails(FAIL_MSIX))
		return err_set("VFIO_DEVICE_SET_IRQS (%u MSI vectors) failed: No space", n);
	m.msi_on = n;
	return 0;
}

static int fake_set_intx(void *ctx, int fd, int unmask_fd)
{
	m.nintx++;
	if (fd >= 0) {
		if (!m.line_on || fd != m.line_fd || unmask_fd != m.line_resample_fd)
			fuzz_fail("INTx on with fds %d/%d, not the line's", fd, unmask_fd);
		if (m.msix_on || m.msi_on)
			fuzz_fail("INTx enabled while MSI-X or MSI is on (VFIO refuses)");
	}
	if (fails(FAIL_VFIO_INTX))
		return err_set("VFIO_DEVICE_SET_IRQS (INTx) failed: Device or resource busy");
	m.vfio_intx_on = fd >= 0;
	return 0;
}

static int fake_line(void *ctx, int gsi, int fd, int resample_fd, bool assign)
{
	if (gsi < IRQ_PCI_INTX_FIRST || gsi >= IRQ_PCI_INTX_FIRST + IRQ_PCI_INTX_LINES)
		fuzz_fail("INTx on GSI %d", gsi);
	if (gsi != m.pdev->config[PCI_CFG_INT_LINE] && assign)
		fuzz_fail("INTx on GSI %d, the guest was told %d", gsi,
			  m.pdev->config[PCI_CFG_INT_LINE]);
	if (assign) {
		if (m.line_on || fd < 0 || resample_fd < 0 || fd == resample_fd ||
		    fcntl(fd, F_GETFD) < 0 || fcntl(resample_fd, F_GETFD) < 0)
			fuzz_fail("a line assigned with fds %d/%d", fd, resample_fd);
		m.intx_fds[0] = fd;
		m.intx_fds[1] = resample_fd;
	} else if (!m.line_on || fd != m.line_fd || gsi != m.line_gsi) {
		fuzz_fail("a line deassigned that is not there (GSI %d, fd %d)", gsi, fd);
	} else if (m.vfio_intx_on) {
		fuzz_fail("the line deassigned while VFIO still signals it");
	}
	if (fails(FAIL_LINE))
		return err_set("KVM_IRQFD failed: Device or resource busy");
	m.line_on = assign;
	m.line_gsi = gsi;
	m.line_fd = fd;
	m.line_resample_fd = resample_fd;
	return 0;
}

static int fake_route_add(void *ctx, int *fd)
{
	if (m.fail_route && m.routes + 1 == m.fail_route)
		return err_set("KVM_SET_GSI_ROUTING failed: No space left on device");
	*fd = FAKE_FD_BASE + (int)m.routes;
	return (int)m.routes++;
}

static int fake_route_set(void *ctx, int handle, uint64_t addr, uint32_t data, bool masked)
{
	if (handle < 0 || (unsigned int)handle >= m.routes)
		fuzz_fail("route %d set, %u made", handle, m.routes);
	return 0;
}

/* KVM_SET_USER_MEMORY_REGION's rules, and the slot's BAR's. */
static int fake_slot(void *ctx, int slot, uint64_t gpa, uint64_t size, void *host)
{
	int i = slot - SLOT_BASE, b = i / 3;
	struct slot *s;
	uint64_t at, boff;
	uint8_t *map;

	m.nslots++;
	if (i < 0 || i >= PT_SLOTS_PER_DEVICE)
		fuzz_fail("slot %d is not the function's", slot);
	s = &m.slot[i];
	if (!size) {
		if (!s->live)
			fuzz_fail("slot %d removed, not there (KVM: EINVAL)", slot);
		s->live = false;
		return 0;
	}
	map = m.info.bar[b].map;
	if (gpa % PAGE || size % PAGE || (uintptr_t)host % PAGE)
		fuzz_fail("slot %d unaligned: %#llx, %#llx bytes, host %p", slot,
			  (unsigned long long)gpa, (unsigned long long)size, host);
	if ((gpa < PCI_MMIO_START || gpa + size > PCI_MMIO_END) &&
	    (!m.pdev->bar64[b] || gpa < WIN64_START || gpa + size > WIN64_END))
		fuzz_fail("slot %d outside the PCI windows: %#llx, %#llx bytes", slot,
			  (unsigned long long)gpa, (unsigned long long)size);
	at = pci_device_bar_addr(m.pdev, b);
	if (!at || gpa < at || gpa + size > at + m.pdev->bar_size[b])
		fuzz_fail("slot %d at %#llx (%#llx bytes) outside BAR %d at %#llx", slot,
			  (unsigned long long)gpa, (unsigned long long)size, b,
			  (unsigned long long)at);
	boff = gpa - at;
	if (!map || (uint8_t *)host != map + boff || boff + size > m.info.bar[b].size)
		fuzz_fail("slot %d maps %p for BAR %d's bytes %#llx-%#llx (its map %p)", slot,
			  host, b, (unsigned long long)boff, (unsigned long long)(boff + size),
			  (void *)map);
	if (m.msix && b == m.tbar &&
	    overlaps(boff, size, m.toff, (uint64_t)m.nvec * MSIX_ENTRY_SIZE))
		fuzz_fail("slot %d maps the MSI-X table", slot);
	if (m.msix && b == m.pbar && overlaps(boff, size, m.poff, (m.nvec + 63) / 64 * 8))
		fuzz_fail("slot %d maps the PBA", slot);
	if (!m.broken && !(get_le16(m.real_cmd) & PCI_CMD_MEM))
		fuzz_fail("slot %d mapped before the device decodes", slot);
	if (s->live) {
		if (s->size != size || s->host != host)
			fuzz_fail("slot %d changed size or host (KVM: EINVAL)", slot);
		if (s->gpa == gpa)
			return 0;
	}
	if (fails(FAIL_SLOT))
		return err_set("KVM refused a memory slot: Cannot allocate memory");
	for (int j = 0; j < PT_SLOTS_PER_DEVICE; j++) {
		if (j != i && m.slot[j].live && overlaps(gpa, size, m.slot[j].gpa, m.slot[j].size)) {
			m.broken = true;
			return err_set("KVM refused a memory slot: File exists");
		}
	}
	*s = (struct slot){ .live = true, .gpa = gpa, .size = size, .host = host };
	return 0;
}

static void on_error(void *ctx, const char *msg)
{
	if (!*msg)
		fuzz_fail("an error without a message");
	if (verbose)
		fprintf(stderr, "error: %s\n", msg);
	m.nerrors++;
	m.broken = true;
}

static const struct vfio_hw hw = {
	.rw = fake_rw, .set_msix = fake_set_msix, .set_msi = fake_set_msi,
	.set_intx = fake_set_intx,
};
static const struct msi_ops msi = { .route_add = fake_route_add, .route_set = fake_route_set };
static const struct intx_ops intx = { .set = fake_line };
static const struct memslot_ops slots = { .set = fake_slot };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	bar_room = mmap(NULL, PCI_BARS * BAR_ROOM, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bar_room == MAP_FAILED)
		fuzz_fail("cannot reserve room for the BARs: %s", strerror(errno));
	verbose = getenv("SLICEVM_FUZZ_VERBOSE") != NULL;
	return 0;
}

/* ---- the real function ---- */

static void put_cfg(uint8_t *c, unsigned int off, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		if (off + i < PCI_CONFIG_SIZE)
			c[off + i] = (uint8_t)(v >> (8 * i));
}

static void describe(struct input *in)
{
	struct vfio_dev_info *info = &m.info;
	uint8_t *c = info->config, caps[12], msix[10], pcie[7], bars[12];
	uint8_t flags = byte(in);
	int npokes;
	uint32_t w;

	memset(info, 0, sizeof(*info));
	snprintf(info->addr, sizeof(info->addr), "%s", ADDR);
	put_le16(c + PCI_CFG_VENDOR_ID, 0x1B36);
	put_le16(c + PCI_CFG_DEVICE_ID, 0x0010);
	put_le16(c + PCI_CFG_COMMAND, 0x0406);
	put_le16(c + PCI_CFG_STATUS, flags & 1 ? PCI_STATUS_CAP_LIST : 0);
	put_le32(c + PCI_CFG_REVISION, 0x01080202);
	put_le16(c + PCI_CFG_SUBSYS_VENDOR, 0x1AF4);
	c[PCI_CFG_HEADER_TYPE] = byte(in);
	c[PCI_CFG_INT_PIN] = byte(in);
	c[PCI_CFG_CAP_PTR] = byte(in);
	info->intx = flags & 2;
	m.with_intx = flags & 4;
	m.fail = flags >> 3;
	for (size_t i = 0; i < sizeof(caps); i++)
		caps[i] = byte(in);
	for (size_t i = 0; i < sizeof(msix); i++)
		msix[i] = byte(in);
	w = word(in, 2);
	info->msix_irqs = w & 0xFFF;
	info->msi_irqs = w >> 12 ? 1u << ((w >> 12) - 1) : 0;
	for (size_t i = 0; i < sizeof(pcie); i++)
		pcie[i] = byte(in);
	m.fail_route = byte(in);
	for (size_t i = 0; i < sizeof(bars); i++)
		bars[i] = byte(in);

	/* the bodies of the first MSI-X and PCI Express capabilities, then the chain */
	for (int i = 3; i >= 0; i--) {
		unsigned int at = caps[3 * i];

		if (caps[3 * i + 1] == PCI_CAP_ID_MSIX) {
			put_cfg(c, at + 2, get_le16(msix), 2);
			put_cfg(c, at + 4, get_le32(msix + 2), 4);
			put_cfg(c, at + 8, get_le32(msix + 6), 4);
		} else if (caps[3 * i + 1] == CAP_ID_PCIE) {
			put_cfg(c, at + 2, pcie[0], 1);
			put_cfg(c, at + 4, get_le32(pcie + 1), 4);
			put_cfg(c, at + 8, get_le16(pcie + 5), 2);
			put_cfg(c, at + 0x24, 0x00000810, 4);
		}
	}
	for (int i = 0; i < 4; i++) {
		put_cfg(c, caps[3 * i], caps[3 * i + 1], 1);
		put_cfg(c, caps[3 * i] + 1u, caps[3 * i + 2], 1);
	}

	/* the BARs, as vfio/device.c reads them */
	for (int b = 0; b < PCI_BARS; b++) {
		struct vfio_bar_info *bi = &info->bar[b];
		uint8_t a = bars[2 * b], f = bars[2 * b + 1];

		if (!(a & 0x3F))
			continue;
		bi->size = 1ULL << (a & 0x3F);
		if (f & 0x40)
			bi->size += bi->size / 2;
		bi->io = a & 0x40;
		bi->mem64 = !bi->io && (a & 0x80);
		bi->prefetch = !bi->io && (f & 1);
		put_le32(c + PCI_CFG_BAR0 + 4 * b,
			 bi->io ? PCI_BAR_IO : (bi->mem64 ? 4 : 0) | (bi->prefetch ? 8 : 0));
		if (!bi->io && (f & 2)) {
			if (f & 4) {
				bi->nareas = (f >> 3) & 7;
				if (bi->nareas > VFIO_AREAS_MAX)
					bi->nareas = VFIO_AREAS_MAX;
			} else {
				bi->nareas = 1;
				bi->areas[0].size = bi->size;
			}
		}
		if (bi->nareas && !(f & 0x80) && bi->size <= BAR_ROOM)
			bi->map = bar_room + b * BAR_ROOM;
		if (bi->mem64)
			b++;	/* its upper half: no BAR of its own */
	}
	for (int b = 0; b < PCI_BARS; b++) {
		struct vfio_bar_info *bi = &info->bar[b];
		uint64_t unit = bi->size / 256 ? bi->size / 256 : 1;

		if (!(bars[2 * b + 1] & 4) || !(bars[2 * b + 1] & 2) || bi->io)
			continue;
		for (int a = 0; a < bi->nareas; a++) {
			uint8_t o = byte(in), s = byte(in);

			bi->areas[a].off = o * unit;
			if (s)
				bi->areas[a].size = s * unit;
			else if (bi->areas[a].off < bi->size)
				bi->areas[a].size = bi->size - bi->areas[a].off;
		}
	}
	npokes = byte(in) & 15;
	for (int i = 0; i < npokes; i++) {
		uint8_t off = byte(in);

		c[off] = byte(in);
	}
}

/* ---- the guest ---- */

static void cfg_access(unsigned int reg, uint8_t *buf, int len, bool write)
{
	uint8_t addr[4];

	put_le32(addr, 0x80000000u | (uint32_t)m.pdev->devfn << 8 | (reg & 0xFC));
	pci_pio(m.bus, 0, addr, 4, true);
	pci_pio(m.bus, (uint16_t)(4 + (reg & 3)), buf, len, write);
}

static uint32_t cfg_read(unsigned int reg, int len)
{
	uint8_t buf[4] = { 0 };

	cfg_access(reg, buf, len, false);
	return get_le32(buf);
}

static void check_canary(const uint8_t *buf, int len, const char *what)
{
	for (int i = len; i < 8; i++)
		if (buf[i] != CANARY)
			fuzz_fail("a %d-byte %s changed byte %d", len, what, i);
}

/* A capability the guest sees (walked in config[] itself, without the bus). */
static unsigned int shown_cap(uint8_t id)
{
	unsigned int at = m.pdev->config[PCI_CFG_CAP_PTR] & ~3u;

	for (int n = 0; at >= PCI_CAP_START && at <= PCI_CONFIG_SIZE - 4 && n < 48; n++) {
		if (m.pdev->config[at] == id)
			return at;
		at = m.pdev->config[at + 1] & ~3u;
	}
	return 0;
}

/* The real function's first capability @id, walked as passthrough.c's rules allow. */
static unsigned int real_cap(uint8_t id)
{
	const uint8_t *c = m.info.config;
	unsigned int at = c[PCI_CFG_CAP_PTR] & ~3u;

	if (!(get_le16(c + PCI_CFG_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	for (int n = 0; at >= PCI_CAP_START && at <= PCI_CONFIG_SIZE - 4 && n < 48; n++) {
		if (c[at] == id)
			return at;
		at = c[at + 1] & ~3u;
	}
	return 0;
}

/* What the guest is shown of MSI-X: the real table size (as VFIO allows) and layout. */
static void learn_msix(void)
{
	unsigned int cap = shown_cap(PCI_CAP_ID_MSIX), real = real_cap(PCI_CAP_ID_MSIX);
	const uint8_t *c = m.pdev->config;
	unsigned int nvec;

	m.msix = cap != 0;
	if (!m.msix) {
		if (real)
			fuzz_fail("MSI-X at %#x not shown", real);
		return;
	}
	if (!real)
		fuzz_fail("MSI-X shown, the function has none");
	if (real + MSIX_CAP_SIZE > PCI_CONFIG_SIZE)
		fuzz_fail("an MSI-X capability at %#x accepted: it runs past config space, "
			  "its table and PBA registers are not the function's", real);
	m.msix_cap = cap;
	m.nvec = (get_le16(c + cap + 2) & 0x7FF) + 1u;
	m.tbar = get_le32(c + cap + 4) & 7;
	m.toff = get_le32(c + cap + 4) & ~7u;
	m.pbar = get_le32(c + cap + 8) & 7;
	m.poff = get_le32(c + cap + 8) & ~7u;
	nvec = (get_le16(m.info.config + real + 2) & 0x7FF) + 1u;
	if (m.info.msix_irqs && m.info.msix_irqs < nvec)
		nvec = m.info.msix_irqs;
	if (m.nvec != nvec || get_le32(c + cap + 4) != get_le32(m.info.config + real + 4) ||
	    get_le32(c + cap + 8) != get_le32(m.info.config + real + 8))
		fuzz_fail("MSI-X shown with %u vectors, table %#x, PBA %#x: not the function's",
			  m.nvec, get_le32(c + cap + 4), get_le32(c + cap + 8));
	/* (MSI's routes, if shown, come after MSI-X's) */
	if (m.routes < m.nvec || m.routes > m.nvec + 32)
		fuzz_fail("%u routes for %u vectors", m.routes, m.nvec);
}

/* What the guest reads of config space, as an OS walks it. */
static void check_shown(void)
{
	unsigned int at, n = 0;
	bool msix = false, has_msi = false;
	uint32_t pin = cfg_read(PCI_CFG_INT_PIN, 1);

	if (cfg_read(PCI_CFG_HEADER_TYPE, 1) != 0)
		fuzz_fail("header type %#x shown", cfg_read(PCI_CFG_HEADER_TYPE, 1));
	if (pin > 4 || (pin && (!m.info.intx || !m.with_intx)))
		fuzz_fail("interrupt pin %u shown", pin);
	if (cfg_read(0x30, 4))
		fuzz_fail("an expansion ROM shown");
	for (int b = 0; b < PCI_BARS; b++)
		if (!m.pdev->bar_size[b] && !(b && m.pdev->bar64[b - 1]) &&
		    cfg_read(PCI_CFG_BAR0 + 4 * b, 4))
			fuzz_fail("BAR %d shown, not a memory BAR", b);
	if (!(cfg_read(PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return;
	for (at = cfg_read(PCI_CFG_CAP_PTR, 1); at; at = cfg_read(at + 1, 1)) {
		uint8_t id = (uint8_t)cfg_read(at, 1);

		/* MSI-X and MSI once; PCI Express once per real one (a broken device's repeats) */
		if (++n > 5 || at % 4 || at < PCI_CAP_START || at > PCI_CONFIG_SIZE - 4)
			fuzz_fail("capability %u at %#x shown", n, at);
		if ((id != PCI_CAP_ID_MSIX && id != CAP_ID_PCIE && id != CAP_ID_MSI) ||
		    (id == PCI_CAP_ID_MSIX && msix) || (id == CAP_ID_MSI && (has_msi || !m.info.msi_irqs)))
			fuzz_fail("capability %#x at %#x shown", id, at);
		msix |= id == PCI_CAP_ID_MSIX;
		has_msi |= id == CAP_ID_MSI;
		if (id == CAP_ID_PCIE && ((cfg_read(at + 4, 4) & PCIE_DEVCAP_FLR) ||
				   (cfg_read(at + 8, 2) & PCIE_DEVCTL_FLR)))
			fuzz_fail("FLR shown");
	}
}

/* Until something fails, the slots are where the BARs are, and only there. */
static void check_slots(void)
{
	uint64_t mapped = 0;

	if (m.broken)
		return;
	for (int i = 0; i < PT_SLOTS_PER_DEVICE; i++) {
		const struct slot *s = &m.slot[i];
		uint64_t at = pci_device_bar_addr(m.pdev, i / 3);

		if (!s->live)
			continue;
		if (!at || s->gpa < at || s->gpa + s->size > at + m.pdev->bar_size[i / 3] ||
		    s->host != m.info.bar[i / 3].map + (s->gpa - at))
			fuzz_fail("slot %d left at %#llx, BAR %d is at %#llx", SLOT_BASE + i,
				  (unsigned long long)s->gpa, i / 3, (unsigned long long)at);
		mapped += s->size;
	}
	if (mapped > m.max_mapped)
		m.max_mapped = mapped;
	if (mapped != passthrough_mapped_bytes(m.pt))
		fuzz_fail("%#llx bytes in slots, the function says %#llx",
			  (unsigned long long)mapped,
			  (unsigned long long)passthrough_mapped_bytes(m.pt));
}

static bool config_op(struct input *in, int len, bool write)
{
	uint8_t reg, buf[8];

	if (len == 8)
		len = 4;
	if (!take(in, &reg, 1))
		return false;
	memset(buf, CANARY, sizeof(buf));
	if (write && !take(in, buf, (size_t)len))
		return false;
	cfg_access(reg, buf, len, write);
	check_canary(buf, len, write ? "config write" : "config read");
	return true;
}

static void mmio(uint64_t gpa, uint8_t *buf, int len, bool write)
{
	pci_mmio(m.bus, gpa, buf, len, write);
	check_canary(buf, len, write ? "BAR write" : "BAR read");
}

static bool bar_op(struct input *in, int len, bool write)
{
	uint8_t target, off[4], buf[8];
	uint32_t o;
	uint64_t gpa;

	if (!take(in, &target, 1) || !take(in, off, 4))
		return false;
	memset(buf, CANARY, sizeof(buf));
	if (write && !take(in, buf, (size_t)len))
		return false;
	o = get_le32(off);
	if ((target & 7) < PCI_BARS) {
		int b = target & 7;
		uint64_t span = m.pdev->bar_size[b];

		/* where the guest put it, decoding or not (a 64-bit BAR: both halves) */
		gpa = (get_le32(m.pdev->config + PCI_CFG_BAR0 + 4 * b) & PCI_BAR_MEM_MASK) +
		      (span ? o % (span + 16) : o % PAGE);
		if (m.pdev->bar64[b])
			gpa += (uint64_t)get_le32(m.pdev->config + PCI_CFG_BAR0 + 4 * b + 4) << 32;
	} else if ((target & 7) == 6) {
		gpa = PCI_MMIO_START + o % WINDOW;
	} else {
		gpa = o;
	}
	mmio(gpa, buf, len, write);
	return true;
}

static bool msix_op(struct input *in, int len)
{
	uint8_t vec[2], off, buf[8];
	uint64_t base;

	if (!take(in, vec, 2) || !take(in, &off, 1))
		return false;
	memset(buf, CANARY, sizeof(buf));
	if (!take(in, buf, (size_t)len))
		return false;
	if (!m.msix)
		return true;
	base = get_le32(m.pdev->config + PCI_CFG_BAR0 + 4 * m.tbar) & PCI_BAR_MEM_MASK;
	mmio(base + m.toff + (get_le16(vec) % (m.nvec + 1)) * MSIX_ENTRY_SIZE + (off & 15), buf,
	     len, true);
	return true;
}

static bool cap_op(struct input *in, int len)
{
	uint8_t id, off, buf[8];

	if (len == 8)
		len = 4;
	if (!take(in, &id, 1) || !take(in, &off, 1))
		return false;
	memset(buf, CANARY, sizeof(buf));
	if (!take(in, buf, (size_t)len))
		return false;
	cfg_access(shown_cap(id) + (off & 0x3F), buf, len, true);
	check_canary(buf, len, "capability write");
	return true;
}

static bool misc_op(struct input *in, int sub)
{
	uint8_t mask;

	switch (sub) {
	case 0:
		if (!take(in, &mask, 1))
			return false;
		m.fail |= mask & 0x1F;
		break;
	case 1:
		check_shown();
		break;
	case 2:
		for (unsigned int reg = 0; reg < PCI_CONFIG_SIZE; reg += 4)
			cfg_read(reg, 4);
		break;
	}
	return true;
}

static void run(struct input *in)
{
	bool more = true;

	check_shown();
	check_slots();
	while (more && in->p < in->end) {
		uint8_t op = *in->p++;
		int len = 1 << ((op >> 3) & 3);

		switch (op & 7) {
		case 0:
		case 1:
			more = config_op(in, len, op & 1);
			break;
		case 2:
		case 3:
			more = bar_op(in, len, op & 1);
			break;
		case 4:
			more = config_op(in, 4, true);
			break;
		case 5:
			more = misc_op(in, (op >> 3) & 3);
			break;
		case 6:
			more = msix_op(in, len);
			break;
		case 7:
			more = cap_op(in, len);
			break;
		}
		check_slots();
	}
	check_shown();
}

/* passthrough_destroy() leaves nothing on. */
static void finish(void)
{
	m.fail = 0;
	passthrough_destroy(m.pt);
	for (int i = 0; i < PT_SLOTS_PER_DEVICE; i++)
		if (m.slot[i].live)
			fuzz_fail("slot %d left after destroy", SLOT_BASE + i);
	if (m.msix_on)
		fuzz_fail("MSI-X left on after destroy");
	if (m.msi_on)
		fuzz_fail("MSI left on after destroy");
	if (m.vfio_intx_on)
		fuzz_fail("INTx left on after destroy");
	if (m.line_on)
		fuzz_fail("the INTx line left assigned after destroy");
	for (int i = 0; i < 2; i++)
		if (m.intx_fds[i] >= 0 && fcntl(m.intx_fds[i], F_GETFD) >= 0)
			fuzz_fail("INTx eventfd %d left open after destroy", m.intx_fds[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };

	memset(&m, 0, sizeof(m));
	m.intx_fds[0] = m.intx_fds[1] = -1;
	describe(&in);
	m.bus = pci_create(NULL, NULL);
	if (!m.bus || pci_set_mmio_window(m.bus, PCI_MMIO_START, PCI_MMIO_END) ||
	    pci_set_mmio64_window(m.bus, WIN64_START, WIN64_END))
		fuzz_fail("cannot create the bus");
	err_clear();
	m.pt = passthrough_create(&m.info, &hw, &msi, m.with_intx ? &intx : NULL, &slots,
				  SLOT_BASE, on_error, NULL);
	if (!m.pt) {
		if (!*err_msg())
			fuzz_fail("refused without a message");
		if (verbose)
			fprintf(stderr, "refused: %s\n", err_msg());
		pci_destroy(m.bus);
		return 0;
	}
	m.pdev = passthrough_pci(m.pt);
	learn_msix();
	if (!passthrough_attach(m.pt, m.bus))
		run(&in);
	else if (!*err_msg())
		fuzz_fail("not attached, without a message");
	else if (verbose)
		fprintf(stderr, "not attached: %s\n", err_msg());
	finish();
	if (verbose)
		fprintf(stderr, "%u vectors, %#llx bytes mapped at most; %d slot, %d MSI-X, "
			"%d INTx calls, %d forwards, %d errors%s\n", m.nvec,
			(unsigned long long)m.max_mapped, m.nslots, m.nmsix, m.nintx,
			m.nforwards, m.nerrors, m.broken ? " (broken)" : "");
	pci_destroy(m.bus);
	return 0;
}
