// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/file.h"
#include "vfio/sysfs.h"

#define PCI_CLASS_BRIDGE	0x06	/* base class: bridges are left on their drivers */

static bool host_has_iommu(const char *sys)
{
	char path[PATH_MAX];
	struct dirent *e;
	bool any = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups", sys);
	d = opendir(path);
	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		any = e->d_name[0] != '.';
	closedir(d);
	return any;
}

int vfio_sysfs_group(const char *sys, const char *addr)
{
	char path[PATH_MAX], name[64], *end;
	long group;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sys, addr);
	if (access(path, F_OK))
		return err_set("PCI device %s does not exist on this host: fix the slice's "
			       "devices and run 'slicevm host apply' again", addr);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", sys, addr);
	if (file_link_name(path, name, sizeof(name))) {
		if (!host_has_iommu(sys))
			return err_set("this host has no IOMMU, so %s cannot be passed through: "
				       "boot it with intel_iommu=on (Intel) or amd_iommu=on (AMD) "
				       "and VT-d/AMD-Vi enabled in the firmware", addr);
		return err_set("%s is in no IOMMU group: the IOMMU does not cover it, so it "
			       "cannot be passed through", addr);
	}
	errno = 0;
	group = strtol(name, &end, 10);
	if (errno || *end || group < 0 || group > INT_MAX)
		return err_set("%s has IOMMU group '%s', not a number", addr, name);
	return (int)group;
}

bool vfio_sysfs_is_bridge(const char *sys, const char *addr)
{
	char path[PATH_MAX], buf[32];
	FILE *f;
	unsigned long cls = 0;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/class", sys, addr);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		cls = strtoul(buf, NULL, 16);
	fclose(f);
	return (cls >> 16) == PCI_CLASS_BRIDGE;
}

static int check_driver(const char *sys, const char *addr)
{
	char path[PATH_MAX], drv[64];
	bool bound;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sys, addr);
	bound = !file_link_name(path, drv, sizeof(drv));
	if (bound && !strcmp(drv, "vfio-pci"))
		return 0;
	/* unloading vfio-pci unbinds its devices: the module is what is missing */
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/vfio-pci", sys);
	if (access(path, F_OK))
		return err_set("vfio-pci is not loaded (%s is on %s): run 'modprobe vfio-pci', "
			       "then 'slicevm host apply' to bind it", addr, bound ? drv : "no driver");
	if (!bound)
		return err_set("%s has no driver: run 'slicevm host apply' to bind it to vfio-pci",
			       addr);
	return err_set("%s is bound to %s, a host driver: run 'slicevm host apply' to give it "
		       "to vfio-pci", addr, drv);
}

static bool listed(const char *addr, const char (*devices)[16], int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(devices[i], addr))
			return true;
	return false;
}

/* Every endpoint of the group is the slice's. */
static int check_group(const char *sys, int group, const char *addr, const char *slice,
		       const char (*devices)[16], int n)
{
	char path[PATH_MAX];
	struct dirent *e;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", sys, group);
	d = opendir(path);
	if (!d)
		return err_set_errno("cannot list IOMMU group %d (%s)", group, path);
	while (!ret && (e = readdir(d))) {
		if (e->d_name[0] == '.' || listed(e->d_name, devices, n) ||
		    vfio_sysfs_is_bridge(sys, e->d_name))
			continue;
		ret = err_set("IOMMU group %d of %s also holds %s, which is not in slice %s: "
			      "the IOMMU cannot keep them apart; give the slice the whole group",
			      group, addr, e->d_name, slice);
	}
	closedir(d);
	return ret;
}

int vfio_sysfs_check(const char *sys, const char *addr, const char *slice,
		     const char (*devices)[16], int n)
{
	int group = vfio_sysfs_group(sys, addr);

	if (group < 0 || check_group(sys, group, addr, slice, devices, n) ||
	    check_driver(sys, addr))
		return -1;
	return group;
}
