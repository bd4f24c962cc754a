// SPDX-License-Identifier: GPL-2.0
/*
 * apply giving slices' PCI devices to vfio-pci and release giving them
 * back, on hostsim.h's fake tree with its PCI part: IOMMU group 5 (bridge
 * 00:1c.0, NVMe 03:00.0 with nvme0n1p1-2), group 6 (e1000e 04:00.0 eth0,
 * 04:00.1 eth1), group 7 (05:00.0, on vfio-pci already), group 8 (06:00.0,
 * no driver), 07:00.0 without a group. The simulated kernel binds on
 * drivers_probe and unbinds on a driver's unbind, and logs every PCI write,
 * so the tests check the exact writes, in order, and that every refusal
 * and every release leaves the tree as it was, byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hostsim.h"
#include "host/check.h"
#include "host/journal.h"
#include "host/status.h"
#include "host/vfiobind.h"

static struct hostsim hs;
static char *outbuf;
static size_t outlen;
static FILE *out;

static int setup(void **state)
{
	hs_init(&hs, "slicevm-vfiobind");
	hs.pci = true;
	hs_fresh_tree(&hs);
	out = open_memstream(&outbuf, &outlen);
	return out ? 0 : -1;
}

static int teardown(void **state)
{
	fclose(out);
	free(outbuf);
	outbuf = NULL;
	hs_fini(&hs);
	return 0;
}

static const char *output(void)
{
	fflush(out);
	return outbuf ? outbuf : "";
}

/* hostsim's two slices, db and web, with devices @db and @web (NULL-ended). */
static void make_plan(struct plan *p, const char *const *db, const char *const *web)
{
	hs_plan(p);
	for (int i = 0; db && db[i]; i++)
		snprintf(p->slices[0].devices[p->slices[0].ndevices++], PCI_ADDR_MAX, "%s", db[i]);
	for (int i = 0; web && web[i]; i++)
		snprintf(p->slices[1].devices[p->slices[1].ndevices++], PCI_ADDR_MAX, "%s", web[i]);
}

static const char *driver_of(const char *addr)
{
	static char buf[64];

	hs_pci_driver(&hs, addr, buf, sizeof(buf));
	return buf;
}

static const char *tree_file(const char *rel)
{
	static char buf[512];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", hs.tree, rel);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void apply_ok(const struct plan *p, bool force)
{
	struct ledger *l;

	if (host_apply_open(&l, hs.ledger_path, &hs.hp, p, force) ||
	    host_apply(l, &hs.hp, p, force, out))
		fail_msg("apply: %s\noutput:\n%s", err_msg(), output());
	ledger_close(l);
}

static void release_ok(void)
{
	struct ledger *l;

	if (ledger_open_existing(&l, hs.ledger_path) || host_release(l, &hs.hp, false, out))
		fail_msg("release: %s\noutput:\n%s", err_msg(), output());
	ledger_close(l);
}

static void assert_tree(const struct hs_snap *before, const char *ctx)
{
	struct hs_snap now;
	const char *diff;

	hs_snap_take(&now, hs.tree);
	diff = hs_snap_differs(before, &now);
	hs_snap_free(&now);
	if (diff)
		fail_msg("%s: the tree differs: %s", ctx, diff);
}

/* The journal's records, newest first. */
static int changes(struct ledger_change **c)
{
	struct ledger *l;
	int n = 0;

	if (ledger_open_existing(&l, hs.ledger_path) || ledger_changes(l, c, &n))
		fail_msg("ledger: %s", err_msg());
	ledger_close(l);
	return n;
}

static const struct ledger_change *find_change(const struct ledger_change *c, int n,
					       const char *addr)
{
	for (int i = 0; i < n; i++)
		if (c[i].kind == CHANGE_PCI_BIND && hs_ends_with(c[i].path, addr))
			return &c[i];
	return NULL;
}

/* ---- Binding and giving back -------------------------------------------------- */

static void test_bind_then_release(void **state)
{
	static const char *const db[] = { "0000:03:00.0", NULL };
	const struct ledger_change *rec;
	struct ledger_change *c;
	struct hs_snap before;
	char want[256];
	struct plan p;
	int n;

	make_plan(&p, db, NULL);
	hs_snap_take(&before, hs.tree);
	apply_ok(&p, false);
	/* driver_override first, so only vfio-pci can take it once nvme lets go */
	assert_string_equal(hs.pci_log,
			    "bus/pci/devices/0000:03:00.0/driver_override=vfio-pci\n"
			    "bus/pci/drivers/nvme/unbind=0000:03:00.0\n"
			    "bus/pci/drivers_probe=0000:03:00.0\n");
	assert_string_equal(driver_of("0000:03:00.0"), "vfio-pci");
	assert_string_equal(tree_file("sys/devices/pci0000:00/0000:03:00.0/driver_override"),
			    "vfio-pci\n");
	/* the bridge of its group stays on the host */
	assert_string_equal(driver_of("0000:00:1c.0"), "pcieport");
	assert_non_null(strstr(output(), "slice db: device 0000:03:00.0 bound to vfio-pci (was on nvme)\n"));

	n = changes(&c);
	rec = find_change(c, n, "0000:03:00.0");
	assert_non_null(rec);
	snprintf(want, sizeof(want), "%s/bus/pci/devices/0000:03:00.0", hs.sys);
	assert_string_equal(rec->path, want);
	assert_string_equal(rec->old, "slice=db driver=nvme override=");
	assert_string_equal(rec->what, "slice db's device 0000:03:00.0");
	/* devices come first: the oldest record */
	assert_ptr_equal(rec, &c[n - 1]);
	ledger_changes_free(c, n);

	/* The same plan again: still in place, nothing written. */
	hs.pci_log[0] = '\0';
	apply_ok(&p, false);
	assert_string_equal(hs.pci_log, "");
	assert_non_null(strstr(output(), "already applied: nothing changed"));

	/* Release: off vfio-pci, driver_override cleared, reprobed to nvme. */
	release_ok();
	assert_string_equal(hs.pci_log,
			    "bus/pci/drivers/vfio-pci/unbind=0000:03:00.0\n"
			    "bus/pci/devices/0000:03:00.0/driver_override=\n\n"
			    "bus/pci/drivers_probe=0000:03:00.0\n");
	assert_non_null(strstr(output(), "0000:03:00.0 is back on nvme\n"));
	/* "(null)" again, the driver links both ways: byte for byte */
	assert_tree(&before, "after release");
	hs_snap_free(&before);
}

/* A device that left vfio-pci behind apply's back: the plan no longer holds. */
static void test_unbound_behind_our_back(void **state)
{
	static const char *const db[] = { "0000:03:00.0", NULL };
	struct ledger *l;
	struct plan p;

	make_plan(&p, db, NULL);
	apply_ok(&p, false);
	hs_pci_unlink(&hs, "0000:03:00.0", "vfio-pci");
	hs_pci_link(&hs, "0000:03:00.0", "nvme");
	assert_int_equal(ledger_open_existing(&l, hs.ledger_path), 0);
	assert_int_equal(host_apply(l, &hs.hp, &p, false, out), -1);
	assert_string_equal(err_msg(), "the applied plan no longer holds (slice db's device 0000:03:00.0 is on nvme, not on vfio-pci): run 'slicevm host release', then apply again");
	/* release finds it on nvme already: only driver_override to put back */
	hs.pci_log[0] = '\0';
	assert_int_equal(host_release(l, &hs.hp, false, out), 0);
	ledger_close(l);
	assert_string_equal(hs.pci_log, "bus/pci/devices/0000:03:00.0/driver_override=\n\n");
	assert_string_equal(tree_file("sys/devices/pci0000:00/0000:03:00.0/driver_override"),
			    "(null)\n");
	assert_non_null(strstr(output(), "0000:03:00.0 is back on nvme\n"));
}

/* The whole IOMMU group goes, listed or not; a device without a driver is probed only. */
static void test_group_peers_and_driverless(void **state)
{
	static const char *const db[] = { "0000:06:00.0", NULL };
	static const char *const web[] = { "0000:04:00.0", NULL };
	struct ledger_change *c;
	struct hs_snap before;
	struct plan p;
	int n;

	make_plan(&p, db, web);
	hs_snap_take(&before, hs.tree);
	apply_ok(&p, false);
	assert_string_equal(hs.pci_log,
			    "bus/pci/devices/0000:06:00.0/driver_override=vfio-pci\n"
			    "bus/pci/drivers_probe=0000:06:00.0\n"
			    "bus/pci/devices/0000:04:00.0/driver_override=vfio-pci\n"
			    "bus/pci/drivers/e1000e/unbind=0000:04:00.0\n"
			    "bus/pci/drivers_probe=0000:04:00.0\n"
			    "bus/pci/devices/0000:04:00.1/driver_override=vfio-pci\n"
			    "bus/pci/drivers/e1000e/unbind=0000:04:00.1\n"
			    "bus/pci/drivers_probe=0000:04:00.1\n");
	assert_string_equal(driver_of("0000:04:00.1"), "vfio-pci");
	assert_string_equal(driver_of("0000:06:00.0"), "vfio-pci");
	assert_non_null(strstr(output(), "slice db: device 0000:06:00.0 bound to vfio-pci (had no driver)\n"));
	assert_non_null(strstr(output(), "slice web: device 0000:04:00.1 bound to vfio-pci (was on e1000e)\n"));
	n = changes(&c);
	assert_string_equal(find_change(c, n, "0000:04:00.1")->old, "slice=web driver=e1000e override=");
	assert_string_equal(find_change(c, n, "0000:06:00.0")->old, "slice=db driver= override=");
	ledger_changes_free(c, n);

	hs.pci_log[0] = '\0';
	release_ok();
	/* newest first; nothing reprobes the device that had no driver */
	assert_string_equal(hs.pci_log,
			    "bus/pci/drivers/vfio-pci/unbind=0000:04:00.1\n"
			    "bus/pci/devices/0000:04:00.1/driver_override=\n\n"
			    "bus/pci/drivers_probe=0000:04:00.1\n"
			    "bus/pci/drivers/vfio-pci/unbind=0000:04:00.0\n"
			    "bus/pci/devices/0000:04:00.0/driver_override=\n\n"
			    "bus/pci/drivers_probe=0000:04:00.0\n"
			    "bus/pci/drivers/vfio-pci/unbind=0000:06:00.0\n"
			    "bus/pci/devices/0000:06:00.0/driver_override=\n\n");
	assert_non_null(strstr(output(), "0000:06:00.0 is back without a driver, as before apply\n"));
	assert_non_null(strstr(output(), "0000:04:00.1 is back on e1000e\n"));
	assert_tree(&before, "after release");
	hs_snap_free(&before);
}

/* On vfio-pci already: not written, not recorded, so never given back; a listed bridge stays. */
static void test_already_bound_and_bridge(void **state)
{
	static const char *const db[] = { "0000:05:00.0", "0000:00:1c.0", NULL };
	struct ledger_change *c;
	struct plan p;
	int n;

	make_plan(&p, db, NULL);
	apply_ok(&p, false);
	assert_string_equal(hs.pci_log, "");
	assert_non_null(strstr(output(), "slice db: device 0000:05:00.0 is on vfio-pci already: left as it is\n"));
	assert_non_null(strstr(output(), "slice db: device 0000:00:1c.0 is a PCI bridge: left on the host (vfio-pci takes endpoints)\n"));
	n = changes(&c);
	for (int i = 0; i < n; i++)
		assert_int_not_equal(c[i].kind, CHANGE_PCI_BIND);
	ledger_changes_free(c, n);
	release_ok();
	assert_string_equal(hs.pci_log, "");
	assert_string_equal(driver_of("0000:05:00.0"), "vfio-pci");
}

/* A driver_override someone set is what release puts back. */
static void test_override_kept(void **state)
{
	static const char *const db[] = { "0000:03:00.0", NULL };
	struct ledger_change *c;
	struct plan p;
	int n;

	hs_file(&hs, "sys/devices/pci0000:00/0000:03:00.0/driver_override", "nvme\n");
	make_plan(&p, db, NULL);
	apply_ok(&p, false);
	n = changes(&c);
	assert_string_equal(find_change(c, n, "0000:03:00.0")->old, "slice=db driver=nvme override=nvme");
	ledger_changes_free(c, n);
	hs.pci_log[0] = '\0';
	release_ok();
	assert_string_equal(hs.pci_log,
			    "bus/pci/drivers/vfio-pci/unbind=0000:03:00.0\n"
			    "bus/pci/devices/0000:03:00.0/driver_override=nvme\n"
			    "bus/pci/drivers_probe=0000:03:00.0\n");
	assert_string_equal(tree_file("sys/devices/pci0000:00/0000:03:00.0/driver_override"),
			    "nvme\n");
	assert_string_equal(driver_of("0000:03:00.0"), "nvme");
}

/* ---- Refusals change nothing ------------------------------------------------------ */

/*
 * @p is refused with @want (a prefix when @prefix) both ways apply can meet
 * it: with no ledger yet (host_apply_open(), which then creates none) and
 * with one (host_apply(), which leaves it empty); the tree, byte for byte,
 * and the PCI files are as they were.
 */
static void refused(const struct plan *p, bool force, const char *want, bool prefix)
{
	struct ledger_applied a;
	struct ledger_change *c;
	struct hs_snap before;
	struct ledger *l = NULL;
	int n;

	hs_snap_take(&before, hs.tree);
	hs.pci_log[0] = '\0';
	assert_int_equal(host_apply_open(&l, hs.ledger_path, &hs.hp, p, force), -1);
	if (prefix ? strncmp(err_msg(), want, strlen(want)) : strcmp(err_msg(), want))
		fail_msg("refused with '%s', not '%s'", err_msg(), want);
	assert_null(strchr(err_msg(), '\n'));
	assert_int_equal(access(hs.ledger_dir, F_OK), -1);

	if (ledger_open(&l, hs.ledger_path))
		fail_msg("ledger_open: %s", err_msg());
	assert_int_equal(host_apply(l, &hs.hp, p, force, out), -1);
	if (prefix ? strncmp(err_msg(), want, strlen(want)) : strcmp(err_msg(), want))
		fail_msg("apply refused with '%s', not '%s'", err_msg(), want);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_NONE);
	ledger_applied_free(&a);
	assert_int_equal(ledger_changes(l, &c, &n), 0);
	ledger_changes_free(c, n);
	assert_int_equal(n, 0);
	ledger_close(l);
	assert_string_equal(hs.pci_log, "");
	assert_tree(&before, want);
	hs_snap_free(&before);
	hs_rm_rf(hs.ledger_dir);
}

static void test_refused_no_vfio(void **state)
{
	static const char *const db[] = { "0000:03:00.0", NULL };
	char path[256];
	struct plan p;

	snprintf(path, sizeof(path), "%s/bus/pci/drivers/vfio-pci", hs.sys);
	hs_pci_unlink(&hs, "0000:05:00.0", "vfio-pci");
	hs_rm_rf(path);
	make_plan(&p, db, NULL);
	refused(&p, false, "vfio-pci is not loaded, and apply gives the slices' PCI devices to it: run 'modprobe vfio-pci', then apply again",
		false);
	/* --force is about devices in use, not about a missing driver */
	refused(&p, true, "vfio-pci is not loaded", true);
	/* A plan without devices needs no vfio-pci. */
	make_plan(&p, NULL, NULL);
	apply_ok(&p, false);
}

static void test_refused_no_group_or_device(void **state)
{
	static const char *const noiommu[] = { "0000:07:00.0", NULL };
	static const char *const missing[] = { "0000:09:00.0", NULL };
	static const char *const override[] = { "0000:03:00.0", NULL };
	char want[512];
	struct plan p;

	make_plan(&p, NULL, noiommu);
	refused(&p, false, "slice web: device 0000:07:00.0 has no IOMMU group, so it cannot be given to a VM safely: enable the IOMMU (intel_iommu=on or amd_iommu=on) or drop the device",
		false);
	make_plan(&p, missing, NULL);
	snprintf(want, sizeof(want), "slice db: device 0000:09:00.0 does not exist on this host (not in %s/bus/pci/devices): see 'slicevm host probe'",
		 hs.sys);
	refused(&p, false, want, false);
	make_plan(&p, override, NULL);
	hs_file(&hs, "sys/devices/pci0000:00/0000:03:00.0/driver_override", "not a driver\n");
	refused(&p, true, "device 0000:03:00.0 has driver_override 'not a driver', which is no driver name: clear it (echo > ",
		true);
}

static void test_refused_disk_in_use(void **state)
{
	static const char *const db[] = { "0000:03:00.0", NULL };
	char path[512];
	struct plan p;

	make_plan(&p, db, NULL);
	/* The host's own root disk (07:00.0's sda1) is no concern of this plan. */
	hs_file(&hs, "proc/self/mountinfo",
		"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		"40 22 259:1 / /data rw,relatime shared:30 - ext4 /dev/nvme0n1p1 rw\n");
	refused(&p, false, "slice db: device 0000:03:00.0 holds /dev/nvme0n1p1, mounted on /data: unmount it, or give --force",
		false);
	/* btrfs: an anonymous device number, the source names the disk; \040 is a space */
	hs_file(&hs, "proc/self/mountinfo",
		"41 22 0:52 /@ /srv/my\\040data rw - btrfs /dev/nvme0n1p2 rw\n");
	refused(&p, false, "slice db: device 0000:03:00.0 holds /dev/nvme0n1p2, mounted on /srv/my data: unmount it, or give --force",
		false);
	hs_file(&hs, "proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
	hs_file(&hs, "proc/swaps",
		"Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
		"/dev/nvme0n1p2                          partition\t8388604\t\t0\t\t-2\n");
	refused(&p, false, "slice db: device 0000:03:00.0 holds /dev/nvme0n1p2, used as swap: run 'swapoff /dev/nvme0n1p2', or give --force",
		false);
	hs_file(&hs, "proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	snprintf(path, sizeof(path), "%s/%s/nvme0n1p1/holders/dm-0", hs.tree, HS_NVME);
	hs_mkdir_p(path);
	refused(&p, false, "slice db: device 0000:03:00.0 holds /dev/nvme0n1p1, in use by dm-0: stop dm-0 first (dmsetup remove, vgchange -an or mdadm --stop), or give --force",
		false);
}

/* An NVMe multipath disk lives under nvme-subsystem, which links its controllers. */
static void test_refused_multipath_disk(void **state)
{
	static const char *const db[] = { "0000:03:00.0", NULL };
	char path[512];
	struct plan p;

	snprintf(path, sizeof(path), "%s/devices/virtual/nvme-subsystem/nvme-subsys0", hs.sys);
	hs_mkdir_p(path);
	hs_symlink(&hs, "../../../pci0000:00/0000:03:00.0/nvme/nvme0",
		   "sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0");
	hs_block(&hs, "sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n2", "nvme0n2",
		 "259:5\n");
	hs_block(&hs, "sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n2/nvme0n2p1",
		 "nvme0n2p1", "259:6\n");
	/* The disk's hidden path below the controller has no device number. */
	snprintf(path, sizeof(path), "%s/devices/pci0000:00/0000:03:00.0/nvme/nvme0/nvme0c0n2",
		 hs.sys);
	hs_mkdir_p(path);
	hs_symlink(&hs, "../../devices/pci0000:00/0000:03:00.0/nvme/nvme0/nvme0c0n2",
		   "sys/class/block/nvme0c0n2");
	hs_file(&hs, "proc/self/mountinfo", "50 22 259:6 / /home rw - xfs /dev/nvme0n2p1 rw\n");
	make_plan(&p, db, NULL);
	refused(&p, false, "slice db: device 0000:03:00.0 holds /dev/nvme0n2p1, mounted on /home: unmount it, or give --force",
		false);
	/* Mounted elsewhere: another device's disk is not this one's. */
	hs_file(&hs, "proc/self/mountinfo", "50 22 8:1 / / rw - ext4 /dev/sda1 rw\n");
	apply_ok(&p, false);
}

#define ROUTE_HEADER \
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

static void test_refused_default_route(void **state)
{
	static const char *const web[] = { "0000:04:00.0", "0000:04:00.1", NULL };
	struct plan p;

	make_plan(&p, NULL, web);
	hs_file(&hs, "proc/net/route", ROUTE_HEADER
		"eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
	refused(&p, false, "slice web: device 0000:04:00.0 is network interface eth0, which carries the default route: move the default route to another interface, or give --force",
		false);
	/* A route that is down (no RTF_UP) carries nothing. */
	hs_file(&hs, "proc/net/route", ROUTE_HEADER
		"eth0\t00000000\t0102A8C0\t0002\t0\t0\t100\t00000000\t0\t0\t0\n"
		"eth1\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n");
	/* IPv6, on the group peer; lo's "unreachable" default is no route */
	hs_file(&hs, "proc/net/ipv6_route",
		"00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
		"00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth1\n");
	refused(&p, false, "slice web: device 0000:04:00.1 is network interface eth1, which carries the IPv6 default route: move the IPv6 default route to another interface, or give --force",
		false);
	/* In a bridge that carries it. */
	hs_file(&hs, "proc/net/ipv6_route", "");
	hs_file(&hs, "proc/net/route", ROUTE_HEADER
		"br0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
	hs_symlink(&hs, "../../../../virtual/net/br0",
		   "sys/devices/pci0000:00/0000:04:00.0/net/eth0/upper_br0");
	refused(&p, false, "slice web: device 0000:04:00.0 is network interface eth0, under br0, which carries the default route: move the default route to another interface, or give --force",
		false);
}

/* --force: bound all the same, with a note; release gives it back. */
static void test_force_in_use(void **state)
{
	static const char *const db[] = { "0000:03:00.0", NULL };
	static const char *const web[] = { "0000:04:00.0", "0000:04:00.1", NULL };
	struct hs_snap before;
	struct plan p;

	hs_file(&hs, "proc/self/mountinfo",
		"40 22 259:1 / /data rw,relatime shared:30 - ext4 /dev/nvme0n1p1 rw\n");
	hs_file(&hs, "proc/net/route", ROUTE_HEADER
		"eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
	make_plan(&p, db, web);
	hs_snap_take(&before, hs.tree);
	apply_ok(&p, true);
	assert_string_equal(driver_of("0000:03:00.0"), "vfio-pci");
	assert_string_equal(driver_of("0000:04:00.0"), "vfio-pci");
	assert_non_null(strstr(output(), "note: slice db: device 0000:03:00.0 holds /dev/nvme0n1p1, mounted on /data: given to vfio-pci all the same (--force)\n"));
	assert_non_null(strstr(output(), "note: slice web: device 0000:04:00.0 is network interface eth0, which carries the default route: given to vfio-pci all the same (--force)\n"));
	release_ok();
	assert_tree(&before, "after release");
	hs_snap_free(&before);
}

/* ---- Failing half way ---------------------------------------------------------- */

/* @p's apply fails with @want (a prefix) and is undone, to the byte. */
static void rolled_back(const struct plan *p, const char *want)
{
	struct hs_snap before;
	struct ledger_change *c;
	struct ledger *l;
	int n;

	hs_snap_take(&before, hs.tree);
	assert_int_equal(host_apply_open(&l, hs.ledger_path, &hs.hp, p, false), 0);
	assert_int_equal(host_apply(l, &hs.hp, p, false, out), -1);
	if (strncmp(err_msg(), want, strlen(want)) ||
	    !strstr(err_msg(), "(apply undone: nothing changed)"))
		fail_msg("failed with '%s', not '%s... (apply undone: nothing changed)'",
			 err_msg(), want);
	assert_int_equal(ledger_changes(l, &c, &n), 0);
	ledger_changes_free(c, n);
	assert_int_equal(n, 0);
	ledger_close(l);
	assert_tree(&before, want);
	hs_snap_free(&before);
}

static void test_rollback(void **state)
{
	static const char *const db[] = { "0000:06:00.0", NULL };
	static const char *const web[] = { "0000:03:00.0", NULL };
	char want[512];
	struct plan p;

	make_plan(&p, db, web);
	/* vfio-pci does not take 03:00.0: 06:00.0, bound before it, is undone too. */
	snprintf(hs.probe_refused, sizeof(hs.probe_refused), "0000:03:00.0");
	rolled_back(&p, "slice web: device 0000:03:00.0 did not bind to vfio-pci (it has no driver): see the kernel log ('dmesg') for why");
	assert_non_null(strstr(output(), "0000:03:00.0 is back on nvme\n"));
	assert_non_null(strstr(output(), "0000:06:00.0 is back without a driver, as before apply\n"));
	hs.probe_refused[0] = '\0';

	/* nvme will not let go: driver_override was set and is put back. */
	hs.pci_log[0] = '\0';
	snprintf(hs.fail_path, sizeof(hs.fail_path), "/nvme/unbind");
	hs.fail_errno = EBUSY;
	snprintf(want, sizeof(want), "slice web: cannot write '0000:03:00.0' to %s/bus/pci/drivers/nvme/unbind: Device or resource busy",
		 hs.sys);
	rolled_back(&p, want);
	assert_non_null(strstr(hs.pci_log, "bus/pci/devices/0000:03:00.0/driver_override=\n\n"));
	assert_non_null(strstr(output(), "0000:03:00.0 is back on nvme\n"));

	/* driver_override refused: nothing changed, the record is dropped at once. */
	snprintf(hs.fail_path, sizeof(hs.fail_path), "/0000:06:00.0/driver_override");
	hs.fail_errno = EACCES;
	snprintf(want, sizeof(want), "slice db: cannot write 'vfio-pci' to %s/bus/pci/devices/0000:06:00.0/driver_override: Permission denied",
		 hs.sys);
	rolled_back(&p, want);
	hs.fail_path[0] = '\0';
}

/* A forced release leaves the devices of a slice a running VM holds on vfio-pci. */
static void test_release_keeps_held_devices(void **state)
{
	static const char *const db[] = { "0000:03:00.0", NULL };
	static const char *const web[] = { "0000:06:00.0", NULL };
	struct hs_snap before;
	struct ledger *l;
	struct cpumask hk;
	struct slice s;
	char want[256];
	struct plan p;

	make_plan(&p, db, web);
	hs_snap_take(&before, hs.tree);
	apply_ok(&p, false);
	assert_int_equal(ledger_open_existing(&l, hs.ledger_path), 0);
	if (ledger_claim(l, "db", "vm1", getpid(), &s, &hk))
		fail_msg("claim: %s", err_msg());
	assert_int_equal(host_release(l, &hs.hp, true, out), -1);
	assert_non_null(strstr(err_msg(), "release is incomplete"));
	assert_non_null(strstr(output(), "kept: 0000:03:00.0 on vfio-pci (slice db's device 0000:03:00.0): VM vm1 still holds slice db\n"));
	assert_string_equal(driver_of("0000:03:00.0"), "vfio-pci");
	/* web's device went back */
	assert_string_equal(driver_of("0000:06:00.0"), "");
	/* the VM is gone: the next release finishes */
	assert_int_equal(ledger_unclaim(l, "db", getpid()), 0);
	assert_int_equal(host_release(l, &hs.hp, false, out), 0);
	ledger_close(l);
	snprintf(want, sizeof(want), "0000:03:00.0 is back on nvme\n");
	assert_non_null(strstr(output(), want));
	assert_tree(&before, "after the second release");
	hs_snap_free(&before);
}

/* ---- The journal's part ------------------------------------------------------ */

static void test_places(void **state)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:03:00.0", hs.sys);
	assert_true(journal_place_allowed(&hs.hp, CHANGE_PCI_BIND, path));
	/* a bind record names a device; a write record may not touch PCI files */
	assert_false(journal_place_allowed(&hs.hp, CHANGE_WRITE, path));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:03:00.0/driver_override", hs.sys);
	assert_false(journal_place_allowed(&hs.hp, CHANGE_PCI_BIND, path));
	assert_false(journal_place_allowed(&hs.hp, CHANGE_WRITE, path));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:3:00.0", hs.sys);
	assert_false(journal_place_allowed(&hs.hp, CHANGE_PCI_BIND, path));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:03:00.8", hs.sys);
	assert_false(journal_place_allowed(&hs.hp, CHANGE_PCI_BIND, path));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:0A:00.0", hs.sys);
	assert_false(journal_place_allowed(&hs.hp, CHANGE_PCI_BIND, path));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/..", hs.sys);
	assert_false(journal_place_allowed(&hs.hp, CHANGE_PCI_BIND, path));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:03:00.0", hs.proc);
	assert_false(journal_place_allowed(&hs.hp, CHANGE_PCI_BIND, path));
}

/* Forged bind records: refused, named, and nothing written. */
static void test_forged_records(void **state)
{
	static const char *const forged[][2] = {
		{ "/bus/pci/devices/0000:03:00.0", "slice=db driver=../../x override=" },
		{ "/bus/pci/devices/0000:03:00.0", "slice=db driver=nvme override=a b" },
		{ "/bus/pci/devices/0000:03:00.0", "driver=nvme override=" },
		{ "/bus/pci/devices/0000:03:00.0", "slice=db driver=nvme override= more=1" },
		{ "/bus/pci/devices/0000:03:00.0/../../../../x", "slice=db driver=nvme override=" },
		{ "/bus/pci/drivers/nvme", "slice=db driver=nvme override=" },
	};
	struct plan p;

	make_plan(&p, NULL, NULL);
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		struct hs_snap before;
		struct ledger *l;
		char path[256];
		int64_t seq;

		apply_ok(&p, false);
		hs_snap_take(&before, hs.tree);
		snprintf(path, sizeof(path), "%s%s", hs.sys, forged[i][0]);
		assert_int_equal(ledger_open_existing(&l, hs.ledger_path), 0);
		assert_int_equal(ledger_record(l, CHANGE_PCI_BIND, path, forged[i][1], "forged",
					       &seq), 0);
		hs.pci_log[0] = '\0';
		assert_int_equal(host_release(l, &hs.hp, false, out), -1);
		ledger_close(l);
		assert_non_null(strstr(err_msg(), "the ledger recorded 1 change outside the places apply changes"));
		assert_string_equal(hs.pci_log, "");
		assert_string_equal(driver_of("0000:03:00.0"), "nvme");
		fflush(out);
		if (!strstr(output(), "refused: ") || !strstr(output(), path))
			fail_msg("case %zu: no refusal naming %s in:\n%s", i, path, output());
		/* the cgroups and IRQs were restored all the same */
		hs_snap_free(&before);
	}
}

/* ---- What status and check say ------------------------------------------------- */

static void test_status_and_check(void **state)
{
	static const char *const db[] = { "0000:03:00.0", NULL };
	static const char *const web[] = { "0000:05:00.0", NULL };
	struct host_check_opts o = { .kvm_dev = "/nonexistent/kvm" };
	json_object *st, *slices, *devs, *d, *v;
	const struct check_item *it = NULL;
	struct check_report r;
	struct ledger *l;
	struct plan p;

	make_plan(&p, db, web);
	o.plan = &p;
	assert_int_equal(host_check(&hs.hp, &o, &r), 0);
	for (int i = 0; i < r.n; i++)
		if (!strcmp(r.items[i].name, "vfio-pci"))
			it = &r.items[i];
	assert_non_null(it);
	assert_int_equal(it->level, CHECK_PASS);
	assert_string_equal(it->detail, "vfio-pci is loaded; 1 of the plan's 2 devices are on it (apply binds the rest)");
	check_report_free(&r);

	apply_ok(&p, false);
	assert_int_equal(ledger_open_readonly(&l, hs.ledger_path), 0);
	st = host_status(l, &hs.hp);
	ledger_close(l);
	assert_non_null(st);
	assert_true(json_object_object_get_ex(st, "slices", &slices));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(slices, 0), "devices", &devs));
	assert_int_equal(json_object_array_length(devs), 1);
	d = json_object_array_get_idx(devs, 0);
	assert_true(json_object_object_get_ex(d, "addr", &v));
	assert_string_equal(json_object_get_string(v), "0000:03:00.0");
	assert_true(json_object_object_get_ex(d, "driver", &v));
	assert_string_equal(json_object_get_string(v), "vfio-pci");
	assert_true(json_object_object_get_ex(d, "was", &v));
	assert_string_equal(json_object_get_string(v), "nvme");
	/* on vfio-pci before apply: no "was" */
	assert_true(json_object_object_get_ex(json_object_array_get_idx(slices, 1), "devices", &devs));
	assert_false(json_object_object_get_ex(json_object_array_get_idx(devs, 0), "was", &v));
	host_status_print(st, out);
	json_object_put(st);
	assert_non_null(strstr(output(), "    devices: 0000:03:00.0 vfio-pci (was nvme)\n"));
	assert_non_null(strstr(output(), "    devices: 0000:05:00.0 vfio-pci\n"));

	assert_int_equal(host_check(&hs.hp, &o, &r), 0);
	for (int i = 0; i < r.n; i++)
		if (!strcmp(r.items[i].name, "vfio-pci"))
			assert_string_equal(r.items[i].detail, "vfio-pci is loaded; 2 of the plan's 2 devices are on it");
	check_report_free(&r);

	/* vfio-pci gone: check fails, with the fix */
	release_ok();
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/bus/pci/drivers/vfio-pci", hs.sys);
		hs_pci_unlink(&hs, "0000:05:00.0", "vfio-pci");
		hs_rm_rf(path);
	}
	assert_int_equal(host_check(&hs.hp, &o, &r), 0);
	for (int i = 0; i < r.n; i++)
		if (!strcmp(r.items[i].name, "vfio-pci")) {
			assert_int_equal(r.items[i].level, CHECK_FAIL);
			assert_string_equal(r.items[i].fix, "run 'modprobe vfio-pci'");
		}
	check_report_free(&r);
}

/* hostfs's own writes (no simulation) reach driver_override through sysfs's links. */
static void test_real_write_path(void **state)
{
	struct host_paths plain = hs.hp;
	char path[256];

	plain.sim = NULL;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:03:00.0/driver_override", hs.sys);
	assert_int_equal(hostfs_write(&plain, path, "vfio-pci"), 0);
	assert_string_equal(tree_file("sys/devices/pci0000:00/0000:03:00.0/driver_override"),
			    "vfio-pci");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_bind_then_release),
		T(test_unbound_behind_our_back),
		T(test_group_peers_and_driverless),
		T(test_already_bound_and_bridge),
		T(test_override_kept),
		T(test_refused_no_vfio),
		T(test_refused_no_group_or_device),
		T(test_refused_disk_in_use),
		T(test_refused_multipath_disk),
		T(test_refused_default_route),
		T(test_force_in_use),
		T(test_rollback),
		T(test_release_keeps_held_devices),
		T(test_places),
		T(test_forged_records),
		T(test_status_and_check),
		T(test_real_write_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
