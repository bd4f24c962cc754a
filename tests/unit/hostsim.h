/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_TESTS_HOSTSIM_H
#define SLICEVM_TESTS_HOSTSIM_H

/*
 * A fake host for apply and release, shared by the tests that kill them
 * half way and feed them damaged ledgers; include after <cmocka.h>.
 *
 * One temp dir holds the fake tree (tree/: cgroup root, /proc, /sys) and
 * the ledger (ledger/ledger.db). The simulated kernel behaves as the real
 * one does where it matters for byte-exact restores: a control file reads
 * back what was written plus a newline, cgroup.subtree_control reads back
 * the controllers, a new cgroup directory comes with its control files and
 * loses them on rmdir, and the timer IRQ refuses a new affinity.
 *
 * Every host change the simulated kernel sees (each write, mkdir and rmdir)
 * has two points, before and after it; with kill_at = K the process raises
 * SIGKILL at the K-th point (forked children only).
 *
 * With pci set (then hs_fresh_tree()), the tree also has PCI devices, their
 * IOMMU groups and drivers (see hs_pci_tree()), and the simulated kernel
 * binds: driver_override reads back "(null)" once cleared, a driver's
 * unbind drops the device's driver link, and drivers_probe links an
 * unbound device to its driver_override or else its own driver. Each PCI
 * write is logged in pci_log ("REL=VAL\n", REL under sys/).
 */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/apply.h"
#include "host/procstat.h"
#include "lib/err.h"

struct hostsim {
	char dir[64];		/* the temp dir */
	char tree[96], cg[112], proc[112], sys[112];
	char ledger_dir[96], ledger_path[128];
	struct host_sim hooks;
	struct host_paths hp;
	int points;		/* change points passed */
	int kill_at;		/* SIGKILL at this point; 0: never */
	int kills_armed;	/* points at which a kill would have been possible */
	bool pci;		/* the tree has PCI devices (hs_pci_tree()) */
	char probe_refused[16];	/* vfio-pci will not take this device */
	char fail_path[128];	/* a write to a path ending so fails... */
	int fail_errno;		/* ...with this errno */
	char pci_log[8192];	/* the PCI writes, in order */
};

static inline bool hs_ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return b && a >= b && !strcmp(s + a - b, tail);
}

static inline void hs_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

/* ---- The simulated kernel ----------------------------------------------- */

static const char *const hs_cgroup_files[] = {
	"cgroup.type", "cgroup.procs", "cgroup.threads", "cpuset.cpus", "cpuset.mems",
	"cpuset.cpus.partition", "cpuset.cpus.effective", NULL,
};

/* One change point passed: the kill, if it is this one. */
static inline void hs_point(struct hostsim *hs)
{
	if (++hs->points == hs->kill_at)
		raise(SIGKILL);
}

/* Is the next point the kill? (For kills that first set the scene.) */
static inline bool hs_kill_next(const struct hostsim *hs)
{
	return hs->points + 1 == hs->kill_at;
}

/*
 * Is @path a file of the fake tree, the only place the simulated kernel
 * answers for? Anything else (a missing file, a path leading out through
 * ".." or a link) the hooks leave to hostfs and the real file system, as
 * they would be on a real host.
 */
static inline bool hs_in_tree(const struct hostsim *hs, const char *path)
{
	char real[PATH_MAX], tree[PATH_MAX];
	size_t n;

	if (!realpath(path, real) || !realpath(hs->tree, tree))
		return false;
	n = strlen(tree);
	return !strncmp(real, tree, n) && real[n] == '/';
}

/*
 * What the kernel keeps of a write: the value and a newline. Never creates
 * a file (the kernel's files exist or the write fails).
 */
static inline int hs_store(const char *path, const char *val)
{
	char text[4200];
	ssize_t n;
	int fd;

	if (hs_ends_with(path, "/cgroup.subtree_control"))
		snprintf(text, sizeof(text), "%s\n", !strcmp(val, "+cpuset") ? "cpuset" : "");
	else
		snprintf(text, sizeof(text), "%s\n", val);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* ---- The simulated PCI bus ---------------------------------------------- */

/* The driver each fake device's IDs match ("" none): what drivers_probe picks. */
static inline const char *hs_pci_own_driver(const char *addr)
{
	static const char *const own[][2] = {
		{ "0000:00:1c.0", "pcieport" }, { "0000:03:00.0", "nvme" },
		{ "0000:04:00.0", "e1000e" }, { "0000:04:00.1", "e1000e" },
		{ "0000:05:00.0", "e1000e" }, { "0000:07:00.0", "ahci" },
	};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(own[i][0], addr))
			return own[i][1];
	return "";
}

/* Device @addr's directory: sys/devices/pci0000:00/ADDR. */
static inline void hs_pci_dir(const struct hostsim *hs, const char *addr, char *buf, size_t len)
{
	snprintf(buf, len, "%s/devices/pci0000:00/%s", hs->sys, addr);
}

/* The device's driver now ("" none). */
static inline void hs_pci_driver(const struct hostsim *hs, const char *addr, char *buf,
				 size_t len)
{
	char path[512], target[512];
	ssize_t n;

	hs_pci_dir(hs, addr, path, sizeof(path));
	strcat(path, "/driver");
	n = readlink(path, target, sizeof(target) - 1);
	buf[0] = '\0';
	if (n > 0) {
		target[n] = '\0';
		snprintf(buf, len, "%s", strrchr(target, '/') + 1);
	}
}

/* Links device @addr and driver @drv both ways, as the kernel's bind does. */
static inline void hs_pci_link(const struct hostsim *hs, const char *addr, const char *drv)
{
	char link[512], target[512];

	hs_pci_dir(hs, addr, link, sizeof(link));
	strcat(link, "/driver");
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", drv);
	if (symlink(target, link) < 0)
		fail_msg("symlink %s: %s", link, strerror(errno));
	snprintf(link, sizeof(link), "%s/bus/pci/drivers/%s/%s", hs->sys, drv, addr);
	snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", addr);
	if (symlink(target, link) < 0)
		fail_msg("symlink %s: %s", link, strerror(errno));
}

static inline void hs_pci_unlink(const struct hostsim *hs, const char *addr, const char *drv)
{
	char link[512];

	hs_pci_dir(hs, addr, link, sizeof(link));
	strcat(link, "/driver");
	unlink(link);
	snprintf(link, sizeof(link), "%s/bus/pci/drivers/%s/%s", hs->sys, drv, addr);
	unlink(link);
}

/* "ADDR" or "ADDR\n", as written, into @buf. */
static inline void hs_chomp(const char *val, char *buf, size_t len)
{
	snprintf(buf, len, "%s", val);
	buf[strcspn(buf, "\n")] = '\0';
}

/* drivers/DRV/unbind: only a device bound to DRV (else -ENODEV). */
static inline int hs_pci_unbind(struct hostsim *hs, const char *path, const char *val)
{
	char addr[64], drv[64], now[64];
	const char *end = path + strlen(path) - strlen("/unbind"), *start = end;

	while (start > path && start[-1] != '/')
		start--;
	snprintf(drv, sizeof(drv), "%.*s", (int)(end - start), start);
	hs_chomp(val, addr, sizeof(addr));
	hs_pci_driver(hs, addr, now, sizeof(now));
	if (strcmp(now, drv))
		return -ENODEV;
	hs_pci_unlink(hs, addr, drv);
	return 0;
}

/* drivers_probe: an unbound device goes to its driver_override, or its own driver. */
static inline int hs_pci_probe(struct hostsim *hs, const char *val)
{
	char addr[64], dir[512], path[600], now[64], over[128] = "";
	const char *drv;
	FILE *f;

	hs_chomp(val, addr, sizeof(addr));
	hs_pci_dir(hs, addr, dir, sizeof(dir));
	if (access(dir, F_OK) < 0)
		return -ENODEV;
	hs_pci_driver(hs, addr, now, sizeof(now));
	if (now[0])
		return 0;
	snprintf(path, sizeof(path), "%s/driver_override", dir);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(over, sizeof(over), f))
			over[0] = '\0';
		fclose(f);
	}
	over[strcspn(over, "\n")] = '\0';
	drv = strcmp(over, "(null)") ? over : hs_pci_own_driver(addr);
	if (!strcmp(drv, "vfio-pci") && !strcmp(addr, hs->probe_refused))
		return 0;
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s", hs->sys, drv);
	if (drv[0] && access(path, F_OK) == 0)
		hs_pci_link(hs, addr, drv);
	return 0;
}

/*
 * The PCI files' part of a write: 1 when it was one (and done), 0 when
 * not a PCI file, -ERRNO when refused.
 */
static inline int hs_pci_write(struct hostsim *hs, const char *path, const char *val)
{
	char text[256];
	size_t n = strlen(hs->pci_log);
	int r;

	if (!hs_ends_with(path, "/driver_override") && !hs_ends_with(path, "/unbind") &&
	    !hs_ends_with(path, "/drivers_probe"))
		return 0;
	snprintf(hs->pci_log + n, sizeof(hs->pci_log) - n, "%s=%s\n",
		 !strncmp(path, hs->sys, strlen(hs->sys)) ? path + strlen(hs->sys) + 1 : path,
		 val);
	if (hs->fail_path[0] && hs_ends_with(path, hs->fail_path))
		return -hs->fail_errno;
	if (hs_ends_with(path, "/unbind"))
		r = hs_pci_unbind(hs, path, val);
	else if (hs_ends_with(path, "/drivers_probe"))
		r = hs_pci_probe(hs, val);
	else {
		/* a newline (or nothing) clears it: it reads back "(null)" */
		hs_chomp(val, text, sizeof(text));
		r = hs_store(path, text[0] ? text : "(null)");
	}
	return r < 0 ? r : 1;
}

/*
 * Before a write to a file of the tree: the point before it, the kernel's
 * store (the hook writes the file itself and returns 1), then the point
 * after it. A refused write changes nothing and has no point after it.
 */
static inline int hs_write(const char *path, const char *val, void *arg)
{
	struct hostsim *hs = arg;
	int r;

	if (!hs_in_tree(hs, path))
		return 0;
	hs_point(hs);
	/* The timer: an IRQ whose affinity cannot change. */
	if (hs_ends_with(path, "/irq/0/smp_affinity"))
		return -EIO;
	r = hs_pci_write(hs, path, val);
	if (r < 0)
		return r;
	if (r == 0)
		r = hs_store(path, val);
	if (r < 0)
		return r;
	hs_point(hs);
	return 1;
}

/*
 * After hostfs_mkdir()'s bare mkdir(): the kernel makes the directory and
 * its control files in one step. The point "before the mkdir" lies between
 * the journal's record and that step, after which hostfs calls us: to be
 * killed there, the bare directory is taken away again first, leaving the
 * host exactly as a kill before mkdir() would.
 */
static inline int hs_mkdir(const char *path, void *arg)
{
	struct hostsim *hs = arg;
	char file[512];

	if (!hs_in_tree(hs, path))
		return 0;
	if (hs_kill_next(hs))
		rmdir(path);
	hs_point(hs);
	for (int i = 0; hs_cgroup_files[i]; i++) {
		snprintf(file, sizeof(file), "%s/%s", path, hs_cgroup_files[i]);
		hs_put(file, !strcmp(hs_cgroup_files[i], "cgroup.type") ? "domain\n" :
		       !strcmp(hs_cgroup_files[i], "cpuset.cpus.partition") ? "member\n" : "");
	}
	hs_point(hs);
	return 0;
}

/*
 * Before hostfs_rmdir()'s rmdir(): the point before it, then the kernel's
 * rmdir (control files and directory go together). hostfs's own rmdir()
 * then finds the directory empty and removes it. To be killed at the point
 * after the rmdir (gone from the host, still in the journal), the hook
 * removes the directory itself before the kill.
 */
static inline int hs_rmdir(const char *path, void *arg)
{
	struct hostsim *hs = arg;
	char file[512];

	if (!hs_in_tree(hs, path))
		return 0;
	hs_point(hs);
	for (int i = 0; hs_cgroup_files[i]; i++) {
		snprintf(file, sizeof(file), "%s/%s", path, hs_cgroup_files[i]);
		unlink(file);
	}
	if (hs_kill_next(hs))
		rmdir(path);
	hs_point(hs);
	return 0;
}

/* ---- The fake tree ------------------------------------------------------ */

#define HS_INTERRUPTS \
	"           CPU0       CPU1       CPU2       CPU3       CPU4       CPU5\n" \
	"  0:         40          0          0          0          0          0   IO-APIC   2-edge      timer\n" \
	"  1:          0          9          0          0          0          0   IO-APIC   1-edge      i8042\n" \
	"  9:          0          0          5          0          0          0   IO-APIC   9-fasteoi   acpi\n" \
	" 24:          3          0          0          0          0          0   PCI-MSI 512000-edge      ahci\n" \
	"LOC:        100        100        100        100        100        100   Local timer interrupts\n" \
	"ERR:          0\n" \
	"MIS:          0\n"

static inline int hs_rm_entry(const char *path, const struct stat *sb, int type,
			      struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	if (remove(path) < 0)
		fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* rm -rf @path (nothing when it is missing). */
static inline void hs_rm_rf(const char *path)
{
	if (access(path, F_OK) == 0)
		nftw(path, hs_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void hs_file(struct hostsim *hs, const char *rel, const char *text)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", hs->tree, rel);
	hs_put(path, text);
}

/* Links @pid into the fake /proc (apply and release read their own stat). */
static inline void hs_link_pid(struct hostsim *hs, pid_t pid)
{
	char link[160], target[64];

	snprintf(link, sizeof(link), "%s/%d", hs->proc, (int)pid);
	snprintf(target, sizeof(target), "/proc/%d", (int)pid);
	if (symlink(target, link) < 0 && errno != EEXIST)
		fail_msg("symlink %s: %s", link, strerror(errno));
}

static inline void hs_unlink_pid(struct hostsim *hs, pid_t pid)
{
	char link[160];

	snprintf(link, sizeof(link), "%s/%d", hs->proc, (int)pid);
	unlink(link);
}

static inline void hs_mkdir_p(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", buf, strerror(errno));
}

/* A symbolic link @rel (under the tree) to @target. */
static inline void hs_symlink(struct hostsim *hs, const char *target, const char *rel)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", hs->tree, rel);
	if (symlink(target, path) < 0)
		fail_msg("symlink %s: %s", path, strerror(errno));
}

/* PCI device @addr of @class in IOMMU group @group (-1: none), on its own driver. */
static inline void hs_pci_dev(struct hostsim *hs, const char *addr, const char *class,
			      int group, const char *drv)
{
	char rel[256], target[256];

	snprintf(rel, sizeof(rel), "%s/devices/pci0000:00/%s", hs->sys, addr);
	hs_mkdir_p(rel);
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/class", addr);
	hs_file(hs, rel, class);
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver_override", addr);
	hs_file(hs, rel, "(null)\n");
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", addr);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", addr);
	hs_symlink(hs, target, rel);
	if (group >= 0) {
		snprintf(rel, sizeof(rel), "%s/kernel/iommu_groups/%d/devices", hs->sys, group);
		hs_mkdir_p(rel);
		snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", addr);
		snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices/%s", group, addr);
		hs_symlink(hs, target, rel);
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/iommu_group", addr);
		hs_symlink(hs, target, rel);
	}
	if (drv[0])
		hs_pci_link(hs, addr, drv);
}

/* A disk or partition @name (dev @dev) at @rel under the tree, with /sys/class/block/@name. */
static inline void hs_block(struct hostsim *hs, const char *rel, const char *name,
			    const char *dev)
{
	char path[512], target[256];

	snprintf(path, sizeof(path), "%s/%s/holders", hs->tree, rel);
	hs_mkdir_p(path);
	snprintf(path, sizeof(path), "%s/dev", rel);
	hs_file(hs, path, dev);
	snprintf(target, sizeof(target), "../../%s", rel + strlen("sys/"));
	snprintf(path, sizeof(path), "sys/class/block/%s", name);
	hs_symlink(hs, target, path);
}

#define HS_NVME "sys/devices/pci0000:00/0000:03:00.0/nvme/nvme0/nvme0n1"

/*
 * The PCI part of the tree: IOMMU group 5 holds bridge 00:1c.0 (pcieport)
 * and 03:00.0 (nvme: nvme0n1, partitions p1 and p2); group 6 two e1000e
 * functions 04:00.0 (eth0) and 04:00.1 (eth1); group 7 05:00.0, on
 * vfio-pci already; group 8 06:00.0, without a driver; 07:00.0 (ahci, sda
 * with the root file system) has no group. The default routes go through
 * eth9, which no device of the tree has.
 */
static inline void hs_pci_tree(struct hostsim *hs)
{
	static const char *const drivers[] = { "pcieport", "nvme", "e1000e", "ahci", "vfio-pci", NULL };
	char path[512];

	for (int i = 0; drivers[i]; i++) {
		snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s", hs->sys, drivers[i]);
		hs_mkdir_p(path);
		snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/unbind", drivers[i]);
		hs_file(hs, path, "");
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices", hs->sys);
	hs_mkdir_p(path);
	hs_file(hs, "sys/bus/pci/drivers_probe", "");
	hs_pci_dev(hs, "0000:00:1c.0", "0x060400\n", 5, "pcieport");
	hs_pci_dev(hs, "0000:03:00.0", "0x010802\n", 5, "nvme");
	hs_pci_dev(hs, "0000:04:00.0", "0x020000\n", 6, "e1000e");
	hs_pci_dev(hs, "0000:04:00.1", "0x020000\n", 6, "e1000e");
	hs_pci_dev(hs, "0000:05:00.0", "0x020000\n", 7, "vfio-pci");
	hs_pci_dev(hs, "0000:06:00.0", "0x0c0330\n", 8, "");
	hs_pci_dev(hs, "0000:07:00.0", "0x010601\n", -1, "ahci");
	snprintf(path, sizeof(path), "%s/class/block", hs->sys);
	hs_mkdir_p(path);
	hs_block(hs, HS_NVME, "nvme0n1", "259:0\n");
	hs_block(hs, HS_NVME "/nvme0n1p1", "nvme0n1p1", "259:1\n");
	hs_block(hs, HS_NVME "/nvme0n1p2", "nvme0n1p2", "259:2\n");
	hs_block(hs, "sys/devices/pci0000:00/0000:07:00.0/ata1/block/sda", "sda", "8:0\n");
	hs_block(hs, "sys/devices/pci0000:00/0000:07:00.0/ata1/block/sda/sda1", "sda1", "8:1\n");
	snprintf(path, sizeof(path), "%s/class/net", hs->sys);
	hs_mkdir_p(path);
	snprintf(path, sizeof(path), "%s/devices/pci0000:00/0000:04:00.0/net/eth0", hs->sys);
	hs_mkdir_p(path);
	snprintf(path, sizeof(path), "%s/devices/pci0000:00/0000:04:00.1/net/eth1", hs->sys);
	hs_mkdir_p(path);
	hs_symlink(hs, "../../devices/pci0000:00/0000:04:00.0/net/eth0", "sys/class/net/eth0");
	hs_symlink(hs, "../../devices/pci0000:00/0000:04:00.1/net/eth1", "sys/class/net/eth1");
	snprintf(path, sizeof(path), "%s/self", hs->proc);
	hs_mkdir_p(path);
	snprintf(path, sizeof(path), "%s/net", hs->proc);
	hs_mkdir_p(path);
	hs_file(hs, "proc/self/mountinfo",
		"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		"23 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n");
	hs_file(hs, "proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	hs_file(hs, "proc/net/route",
		"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
		"eth9\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
		"eth9\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n");
	hs_file(hs, "proc/net/ipv6_route",
		"00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth9\n"
		"00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n");
}

/* A fresh tree (and no ledger), as the host is before apply. */
static inline void hs_fresh_tree(struct hostsim *hs)
{
	static const char *const dirs[] = {
		"cg", "proc", "proc/irq", "proc/irq/0", "proc/irq/1", "proc/irq/9",
		"proc/irq/24", "proc/sys", "proc/sys/kernel", "proc/sys/kernel/random",
		"sys", "sys/devices", "sys/devices/virtual", "sys/devices/virtual/workqueue",
		"sys/devices/system", "sys/devices/system/cpu", NULL,
	};
	char path[512], boot[64];

	hs_rm_rf(hs->tree);
	hs_rm_rf(hs->ledger_dir);
	if (mkdir(hs->tree, 0755) < 0)
		fail_msg("mkdir %s: %s", hs->tree, strerror(errno));
	for (int i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", hs->tree, dirs[i]);
		if (mkdir(path, 0755) < 0)
			fail_msg("mkdir %s: %s", path, strerror(errno));
	}
	hs_file(hs, "cg/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	hs_file(hs, "cg/cgroup.subtree_control", "\n");
	hs_file(hs, "cg/cgroup.procs", "1\n");
	hs_file(hs, "cg/cpuset.cpus.effective", "0-5\n");
	hs_file(hs, "cg/cpuset.mems.effective", "0\n");
	hs_file(hs, "proc/irq/default_smp_affinity", "3f\n");
	hs_file(hs, "proc/irq/0/smp_affinity", "3f\n");
	hs_file(hs, "proc/irq/1/smp_affinity", "3f\n");
	hs_file(hs, "proc/irq/9/smp_affinity", "0c\n");	/* slice CPUs only */
	hs_file(hs, "proc/irq/24/smp_affinity", "01\n");	/* housekeeping already */
	hs_file(hs, "proc/interrupts", HS_INTERRUPTS);
	/* The real boot id: claims read the real /proc. */
	if (procstat_boot_id("/proc", boot, sizeof(boot)))
		fail_msg("boot id: %s", err_msg());
	strcat(boot, "\n");
	hs_file(hs, "proc/sys/kernel/random/boot_id", boot);
	hs_file(hs, "sys/devices/virtual/workqueue/cpumask", "3f\n");
	hs_file(hs, "sys/devices/system/cpu/online", "0-5\n");
	hs_link_pid(hs, getpid());
	hs->pci_log[0] = '\0';
	if (hs->pci)
		hs_pci_tree(hs);
}

/*
 * Where temp dirs go: /dev/shm when there is one, as fsync() is free on
 * tmpfs and these tests commit to fresh ledgers some thousands of times.
 */
static inline const char *hs_tmp(void)
{
	return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

/* Paths and hooks under a new temp dir @prefix-XXXXXX, with a fresh tree. */
static inline void hs_init(struct hostsim *hs, const char *prefix)
{
	memset(hs, 0, sizeof(*hs));
	snprintf(hs->dir, sizeof(hs->dir), "%s/%s-XXXXXX", hs_tmp(), prefix);
	if (!mkdtemp(hs->dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	snprintf(hs->tree, sizeof(hs->tree), "%s/tree", hs->dir);
	snprintf(hs->cg, sizeof(hs->cg), "%s/cg", hs->tree);
	snprintf(hs->proc, sizeof(hs->proc), "%s/proc", hs->tree);
	snprintf(hs->sys, sizeof(hs->sys), "%s/sys", hs->tree);
	snprintf(hs->ledger_dir, sizeof(hs->ledger_dir), "%s/ledger", hs->dir);
	snprintf(hs->ledger_path, sizeof(hs->ledger_path), "%s/ledger.db", hs->ledger_dir);
	hs->hooks = (struct host_sim){ hs_mkdir, hs_rmdir, hs_write, hs };
	hs->hp = (struct host_paths){ hs->cg, hs->proc, hs->sys, &hs->hooks };
	hs_fresh_tree(hs);
}

static inline void hs_fini(struct hostsim *hs)
{
	hs_rm_rf(hs->dir);
}

/* Two slices: db on CPUs 2-3 (node 0), web on 4-5 (any node); 0-1 for the host. */
static inline void hs_plan(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	cpumask_parse_list("0-1", &p->housekeeping);
	p->nslices = 2;
	snprintf(p->slices[0].name, SLICE_NAME_MAX, "db");
	cpumask_parse_list("2-3", &p->slices[0].cpus);
	p->slices[0].node = 0;
	p->slices[0].memory = 1ULL << 30;
	snprintf(p->slices[1].name, SLICE_NAME_MAX, "web");
	cpumask_parse_list("4-5", &p->slices[1].cpus);
	p->slices[1].node = -1;
	p->slices[1].memory = 1ULL << 30;
}

/* ---- Snapshots: every entry's path, type, mode and bytes ------------------ */

struct hs_entry {
	char *rel;		/* path under the snapshot's root; "" is the root */
	char type;		/* 'd', 'f', 'l' (symlink: data is the target), '?' */
	mode_t mode;
	char *data;
	size_t len;
};

struct hs_snap {
	struct hs_entry *e;
	int n, cap;
};

static struct hs_snap *hs_snap_cur;
static size_t hs_snap_root_len;

static inline char *hs_slurp(const char *path, size_t *len)
{
	size_t cap = 256, used = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!buf || fd < 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	while ((n = read(fd, buf + used, cap - used)) > 0) {
		used += (size_t)n;
		if (used == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				fail_msg("out of memory");
		}
	}
	close(fd);
	*len = used;
	return buf;
}

static inline int hs_snap_add(const char *path, const struct stat *sb, int type,
			      struct FTW *ftw)
{
	struct hs_snap *s = hs_snap_cur;
	struct hs_entry *e;

	(void)ftw;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->e = realloc(s->e, (size_t)s->cap * sizeof(*s->e));
		if (!s->e)
			fail_msg("out of memory");
	}
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	e->rel = strdup(path + hs_snap_root_len);
	e->mode = sb->st_mode & 07777;
	if (S_ISDIR(sb->st_mode)) {
		e->type = 'd';
	} else if (S_ISREG(sb->st_mode)) {
		e->type = 'f';
		e->data = hs_slurp(path, &e->len);
	} else if (S_ISLNK(sb->st_mode)) {
		char target[512];
		ssize_t n = readlink(path, target, sizeof(target));

		e->type = 'l';
		e->mode = 0;	/* a symlink's mode means nothing */
		e->len = n > 0 ? (size_t)n : 0;
		e->data = malloc(e->len + 1);
		memcpy(e->data, target, e->len);
	} else {
		e->type = '?';
	}
	(void)type;
	return 0;
}

static inline int hs_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hs_entry *)a)->rel, ((const struct hs_entry *)b)->rel);
}

/* Everything under @root, sorted by path (a parent before its children). */
static inline void hs_snap_take(struct hs_snap *s, const char *root)
{
	memset(s, 0, sizeof(*s));
	hs_snap_cur = s;
	hs_snap_root_len = strlen(root);
	if (nftw(root, hs_snap_add, 16, FTW_PHYS) < 0)
		fail_msg("cannot walk %s: %s", root, strerror(errno));
	qsort(s->e, (size_t)s->n, sizeof(*s->e), hs_entry_cmp);
}

static inline void hs_snap_free(struct hs_snap *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->e[i].rel);
		free(s->e[i].data);
	}
	free(s->e);
	memset(s, 0, sizeof(*s));
}

static inline bool hs_entry_same(const struct hs_entry *a, const struct hs_entry *b)
{
	return a->type == b->type && a->mode == b->mode && a->len == b->len &&
	       (!a->len || !memcmp(a->data, b->data, a->len));
}

/*
 * Walks the differences between @a and @b: calls @fn(rel, what, arg) for
 * each path added, removed or changed; stops when it returns non-zero.
 * Returns how many differences it saw.
 */
static inline int hs_snap_diff(const struct hs_snap *a, const struct hs_snap *b,
			       int (*fn)(const char *rel, const char *what, void *arg),
			       void *arg)
{
	int i = 0, k = 0, n = 0;

	while (i < a->n || k < b->n) {
		int c = i == a->n ? 1 : k == b->n ? -1 : strcmp(a->e[i].rel, b->e[k].rel);
		const char *rel, *what;

		if (c < 0) {
			rel = a->e[i++].rel;
			what = "gone";
		} else if (c > 0) {
			rel = b->e[k++].rel;
			what = "new";
		} else if (!hs_entry_same(&a->e[i], &b->e[k])) {
			rel = a->e[i].rel;
			what = a->e[i].type != b->e[k].type ? "changed type" :
			       a->e[i].mode != b->e[k].mode ? "changed mode" : "changed bytes";
			i++;
			k++;
		} else {
			i++;
			k++;
			continue;
		}
		n++;
		if (fn && fn(rel, what, arg))
			break;
	}
	return n;
}

static inline int hs_first_diff(const char *rel, const char *what, void *arg)
{
	snprintf(arg, 512, "%s: %s", rel[0] ? rel : "(root)", what);
	return 1;
}

/* NULL when equal, or (static) the first difference. */
static inline const char *hs_snap_differs(const struct hs_snap *a, const struct hs_snap *b)
{
	static char buf[512];

	return hs_snap_diff(a, b, hs_first_diff, buf) ? buf : NULL;
}

/* Makes @root exactly what @s recorded (the tree is removed first). */
static inline void hs_snap_restore(const struct hs_snap *s, const char *root)
{
	char path[1024];

	hs_rm_rf(root);
	for (int i = 0; i < s->n; i++) {
		const struct hs_entry *e = &s->e[i];
		int fd;

		snprintf(path, sizeof(path), "%s%s", root, e->rel);
		if (e->type == 'd') {
			if (mkdir(path, e->mode) < 0 || chmod(path, e->mode) < 0)
				fail_msg("mkdir %s: %s", path, strerror(errno));
		} else if (e->type == 'f') {
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, e->mode);
			if (fd < 0 || write(fd, e->data, e->len) != (ssize_t)e->len ||
			    fchmod(fd, e->mode) < 0)
				fail_msg("cannot restore %s: %s", path, strerror(errno));
			close(fd);
		} else if (e->type == 'l') {
			char target[512];

			snprintf(target, sizeof(target), "%.*s", (int)e->len, e->data);
			if (symlink(target, path) < 0)
				fail_msg("symlink %s: %s", path, strerror(errno));
		}
	}
}

#endif
