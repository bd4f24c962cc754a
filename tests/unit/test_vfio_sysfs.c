// SPDX-License-Identifier: GPL-2.0
/*
 * The /sys checks made before VFIO is asked for a device (vfio/sysfs.h),
 * against FAKE sysfs trees in a temporary directory, never the real one.
 * A tree is laid out as the kernel lays it out: the function's directory
 * under devices/, a bus/pci/devices/ link to it, its iommu_group and driver
 * links, and the group's devices/ links back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/err.h"
#include "testutil.h"
#include "vfio/sysfs.h"

#define NVME0		"0000:03:00.0"
#define NVME1		"0000:03:00.1"
#define PORT		"0000:00:1c.0"		/* the root port above them */
#define CLASS_NVME	"0x010802\n"
#define CLASS_PORT	"0x060400\n"
#define SLICE		"db"

/* The slice's devices, as the VMM passes them. */
static const char slice_one[][16] = { NVME0 };
static const char slice_two[][16] = { NVME0, NVME1 };

/* Makes <@root>/<@rel> a directory, and those on the way. */
static void mkdirs(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
}

/* <@root>/<@rel>, a symlink to @target. */
static void link_at(const char *root, const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (symlink(target, path))
		fail_msg("symlink %s: %s", path, strerror(errno));
}

/* A fresh tree: its root, the /sys of the tests. */
static const char *new_sys(void)
{
	static char sys[256];
	static int seq;

	snprintf(sys, sizeof(sys), "t%d/sys", seq++);
	mkdirs(test_dir, sys);
	snprintf(sys, sizeof(sys), "%s/t%d/sys", test_dir, seq - 1);
	mkdirs(sys, "bus/pci/devices");
	mkdirs(sys, "bus/pci/drivers/vfio-pci");
	mkdirs(sys, "bus/pci/drivers/nvme");
	mkdirs(sys, "bus/pci/drivers/pcieport");
	mkdirs(sys, "kernel/iommu_groups");
	return sys;
}

/*
 * Function @addr of class @cls: in IOMMU group @group (-1: none), on
 * @driver (NULL: none).
 */
static void add_dev(const char *sys, const char *addr, const char *cls, int group,
		    const char *driver)
{
	char rel[256], target[256], dir[512];

	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s", addr);
	mkdirs(sys, rel);
	snprintf(dir, sizeof(dir), "%s/%s", sys, rel);
	test_put_file(dir, "class", cls);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", addr);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", addr);
	link_at(sys, rel, target);
	if (group >= 0) {
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices", group);
		mkdirs(sys, rel);
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices/%s", group, addr);
		snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", addr);
		link_at(sys, rel, target);
		snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/iommu_group", addr);
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
		link_at(sys, rel, target);
	}
	if (driver) {
		snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/driver", addr);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		link_at(sys, rel, target);
	}
}

static void assert_msg_has(const char *needle)
{
	if (!strstr(err_msg(), needle))
		fail_msg("'%s' not in: %s", needle, err_msg());
}

static void assert_msg_lacks(const char *needle)
{
	if (strstr(err_msg(), needle))
		fail_msg("'%s' in: %s", needle, err_msg());
}

/* ---- tests ---- */

static void test_all_fine(void **state)
{
	const char *sys = new_sys();

	add_dev(sys, NVME0, CLASS_NVME, 12, "vfio-pci");
	add_dev(sys, NVME1, CLASS_NVME, 13, "nvme");	/* another group: not our business */
	assert_int_equal(vfio_sysfs_group(sys, NVME0), 12);
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), 12);
}

static void test_group_zero(void **state)
{
	const char *sys = new_sys();

	add_dev(sys, NVME0, CLASS_NVME, 0, "vfio-pci");
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), 0);
}

static void test_absolute_links(void **state)
{
	const char *sys = new_sys();
	char rel[128], target[512];

	/* only the links' last components count, however they are written */
	add_dev(sys, NVME0, CLASS_NVME, -1, NULL);
	mkdirs(sys, "kernel/iommu_groups/27/devices");
	link_at(sys, "kernel/iommu_groups/27/devices/" NVME0, "/nonexistent");
	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/iommu_group", NVME0);
	snprintf(target, sizeof(target), "%s/kernel/iommu_groups/27", sys);
	link_at(sys, rel, target);
	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/driver", NVME0);
	link_at(sys, rel, "/sys/bus/pci/drivers/vfio-pci");
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), 27);
}

static void test_device_missing(void **state)
{
	const char *sys = new_sys();

	add_dev(sys, NVME1, CLASS_NVME, 12, "vfio-pci");
	err_clear();
	assert_int_equal(vfio_sysfs_group(sys, NVME0), -1);
	assert_msg_has(NVME0);
	assert_msg_has("does not exist");
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), -1);
	assert_msg_has("does not exist");
}

static void test_no_iommu(void **state)
{
	const char *sys = new_sys();

	/* no group anywhere: the host runs without an IOMMU */
	add_dev(sys, NVME0, CLASS_NVME, -1, "vfio-pci");
	err_clear();
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), -1);
	assert_msg_has("no IOMMU");
	assert_msg_has("intel_iommu=on");
	assert_msg_has("amd_iommu=on");
	assert_msg_has(NVME0);
}

static void test_no_iommu_groups_dir(void **state)
{
	const char *sys = new_sys();
	char path[512];

	add_dev(sys, NVME0, CLASS_NVME, -1, "vfio-pci");
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups", sys);
	assert_int_equal(rmdir(path), 0);
	err_clear();
	assert_int_equal(vfio_sysfs_group(sys, NVME0), -1);
	assert_msg_has("intel_iommu=on");
}

static void test_device_without_group(void **state)
{
	const char *sys = new_sys();

	/* the IOMMU is on, but does not cover this device */
	add_dev(sys, PORT, CLASS_PORT, 5, "pcieport");
	add_dev(sys, NVME0, CLASS_NVME, -1, "vfio-pci");
	err_clear();
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), -1);
	assert_msg_has("no IOMMU group");
	assert_msg_has(NVME0);
	assert_msg_lacks("intel_iommu=on");
}

static void test_group_not_a_number(void **state)
{
	const char *sys = new_sys();
	char rel[128];

	add_dev(sys, NVME0, CLASS_NVME, -1, "vfio-pci");
	mkdirs(sys, "kernel/iommu_groups/12");
	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/iommu_group", NVME0);
	link_at(sys, rel, "../../../kernel/iommu_groups/12x");
	err_clear();
	assert_int_equal(vfio_sysfs_group(sys, NVME0), -1);
	assert_msg_has("'12x'");
}

static void test_foreign_endpoint(void **state)
{
	const char *sys = new_sys();

	/* the other function of the controller shares the group, but is not the slice's */
	add_dev(sys, NVME0, CLASS_NVME, 12, "vfio-pci");
	add_dev(sys, NVME1, CLASS_NVME, 12, "vfio-pci");
	err_clear();
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), -1);
	assert_msg_has("group 12");
	assert_msg_has(NVME1);
	assert_msg_has("slice " SLICE);
	assert_msg_has("whole group");
	/* given the whole group, fine */
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_two, 2), 12);
	assert_int_equal(vfio_sysfs_check(sys, NVME1, SLICE, slice_two, 2), 12);
}

static void test_foreign_endpoint_on_host_driver(void **state)
{
	const char *sys = new_sys();

	/* the group's problem comes first, even when the device is on nvme too */
	add_dev(sys, NVME0, CLASS_NVME, 12, "nvme");
	add_dev(sys, NVME1, CLASS_NVME, 12, "nvme");
	err_clear();
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), -1);
	assert_msg_has(NVME1);
}

static void test_bridge_in_group(void **state)
{
	const char *sys = new_sys();

	/* a root port in the group stays with the host: no problem */
	add_dev(sys, PORT, CLASS_PORT, 12, "pcieport");
	add_dev(sys, NVME0, CLASS_NVME, 12, "vfio-pci");
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), 12);
}

static void test_host_driver(void **state)
{
	const char *sys = new_sys();

	add_dev(sys, NVME0, CLASS_NVME, 12, "nvme");
	err_clear();
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), -1);
	assert_msg_has("bound to nvme");
	assert_msg_has(NVME0);
	assert_msg_has("'slicevm host apply'");
	assert_msg_has("vfio-pci");
}

static void test_driver_named_like_vfio(void **state)
{
	const char *sys = new_sys();

	/* a driver whose name starts like vfio-pci's is another driver */
	add_dev(sys, NVME0, CLASS_NVME, 12, "vfio-pci-core");
	err_clear();
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), -1);
	assert_msg_has("vfio-pci-core");
}

static void test_no_driver(void **state)
{
	const char *sys = new_sys();

	add_dev(sys, NVME0, CLASS_NVME, 12, NULL);
	err_clear();
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), -1);
	assert_msg_has("no driver");
	assert_msg_has(NVME0);
	assert_msg_has("'slicevm host apply'");
}

/* Unloading vfio-pci unbinds its devices: the line names the module, not apply alone. */
static void test_vfio_pci_not_loaded(void **state)
{
	const char *sys = new_sys();
	char path[512];

	add_dev(sys, NVME0, CLASS_NVME, 12, NULL);
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/vfio-pci", sys);
	assert_int_equal(rmdir(path), 0);
	err_clear();
	assert_int_equal(vfio_sysfs_check(sys, NVME0, SLICE, slice_one, 1), -1);
	assert_msg_has("vfio-pci is not loaded");
	assert_msg_has("'modprobe vfio-pci'");
	assert_msg_has(NVME0);
	assert_msg_has("no driver");
}

static void test_is_bridge(void **state)
{
	const char *sys = new_sys();

	add_dev(sys, PORT, CLASS_PORT, 5, "pcieport");
	add_dev(sys, NVME0, CLASS_NVME, 12, "vfio-pci");
	add_dev(sys, "0000:00:00.0", "0x060000\n", 1, NULL);	/* a host bridge */
	add_dev(sys, "0000:00:1f.0", "0x060100\n", 1, NULL);	/* an ISA bridge */
	add_dev(sys, "0000:00:02.0", "0x030000\n", 1, NULL);	/* VGA */
	add_dev(sys, "0000:00:1f.3", "0x000604\n", 1, NULL);	/* 06 elsewhere */
	assert_true(vfio_sysfs_is_bridge(sys, PORT));
	assert_true(vfio_sysfs_is_bridge(sys, "0000:00:00.0"));
	assert_true(vfio_sysfs_is_bridge(sys, "0000:00:1f.0"));
	assert_false(vfio_sysfs_is_bridge(sys, NVME0));
	assert_false(vfio_sysfs_is_bridge(sys, "0000:00:02.0"));
	assert_false(vfio_sysfs_is_bridge(sys, "0000:00:1f.3"));
	assert_false(vfio_sysfs_is_bridge(sys, "0000:09:00.0"));	/* absent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_fine),
		cmocka_unit_test(test_vfio_pci_not_loaded),
		cmocka_unit_test(test_group_zero),
		cmocka_unit_test(test_absolute_links),
		cmocka_unit_test(test_device_missing),
		cmocka_unit_test(test_no_iommu),
		cmocka_unit_test(test_no_iommu_groups_dir),
		cmocka_unit_test(test_device_without_group),
		cmocka_unit_test(test_group_not_a_number),
		cmocka_unit_test(test_foreign_endpoint),
		cmocka_unit_test(test_foreign_endpoint_on_host_driver),
		cmocka_unit_test(test_bridge_in_group),
		cmocka_unit_test(test_host_driver),
		cmocka_unit_test(test_driver_named_like_vfio),
		cmocka_unit_test(test_no_driver),
		cmocka_unit_test(test_is_bridge),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
