// SPDX-License-Identifier: GPL-2.0
/*
 * Topology discovery on synthetic and XML topologies (through hwloc) and PCI
 * discovery on a fake sysfs tree built in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "host/topology.h"
#include "lib/err.h"

#define GiB (1ULL << 30)
#define DATA "tests/unit/data/host/"

static struct topology *load(const char *source)
{
	struct topology *t = NULL;

	if (topology_load(&t, source))
		fail_msg("topology_load(%s): %s", source, err_msg());
	return t;
}

static void assert_mask(const struct cpumask *m, const char *list)
{
	char buf[1024];

	assert_string_equal(cpumask_format_list(m, buf, sizeof(buf)), list);
}

static int setup(void **state)
{
	unsetenv("SLICEVM_SYSFS_ROOT");
	return 0;
}

static void test_one_socket_two_cores(void **state)
{
	struct topology *t = load("synthetic:pack:1 [numa(memory=4GiB)] core:2 pu:1");

	assert_int_equal(t->npackages, 1);
	assert_int_equal(t->nnodes, 1);
	assert_int_equal(t->ncores, 2);
	assert_mask(&t->cpus, "0-1");
	assert_int_equal(t->nodes[0].id, 0);
	assert_int_equal(t->nodes[0].memory, 4 * GiB);
	assert_mask(&t->nodes[0].cpus, "0-1");
	assert_mask(&t->cores[1].cpus, "1");
	assert_int_equal(t->cores[1].first_cpu, 1);
	assert_int_equal(t->cores[1].node, 0);
	assert_int_equal(t->cores[1].package, 0);
	/* a test source never reads the real /sys */
	assert_int_equal(t->npci, 0);
	assert_string_equal(t->source, "synthetic:pack:1 [numa(memory=4GiB)] core:2 pu:1");
	topology_free(t);
}

static void test_two_sockets_smt(void **state)
{
	struct topology *t = load("synthetic:pack:2 [numa(memory=32GiB)] core:16 pu:2");
	const struct topo_core *c;

	assert_int_equal(t->npackages, 2);
	assert_int_equal(t->nnodes, 2);
	assert_int_equal(t->ncores, 32);
	assert_int_equal(cpumask_count(&t->cpus), 64);
	assert_mask(&t->nodes[1].cpus, "32-63");
	assert_int_equal(t->nodes[1].memory, 32 * GiB);
	assert_mask(&t->packages[1].cpus, "32-63");
	c = topology_core_of(t, 41);
	assert_non_null(c);
	assert_mask(&c->cpus, "40-41");
	assert_int_equal(c->first_cpu, 40);
	assert_int_equal(c->node, 1);
	assert_int_equal(c->package, 1);
	assert_int_equal(topology_cpu_node(t, 31), 0);
	assert_int_equal(topology_cpu_node(t, 32), 1);
	assert_int_equal(topology_cpu_node(t, 64), -1);
	assert_null(topology_core_of(t, 64));
	assert_non_null(topology_node(t, 1));
	assert_null(topology_node(t, 2));
	topology_free(t);
}

/* Hand-written XML: SMT siblings are N and N+16, node memory 8/4/16/2 GiB. */
static void test_xml_uneven_numa(void **state)
{
	struct topology *t = load(DATA "numa4-uneven.xml");
	static const uint64_t mem[] = { 8 * GiB, 4 * GiB, 16 * GiB, 2 * GiB };
	const struct topo_core *c;

	assert_int_equal(t->npackages, 2);
	assert_int_equal(t->nnodes, 4);
	assert_int_equal(t->ncores, 16);
	assert_int_equal(cpumask_count(&t->cpus), 32);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(t->nodes[i].id, i);
		assert_int_equal(t->nodes[i].memory, mem[i]);
	}
	assert_mask(&t->nodes[1].cpus, "4-7,20-23");
	c = topology_core_of(t, 21);
	assert_mask(&c->cpus, "5,21");
	assert_int_equal(c->node, 1);
	assert_int_equal(c->package, 0);
	c = topology_core_of(t, 8);
	assert_int_equal(c->node, 2);
	assert_int_equal(c->package, 1);
	/* cores sorted by first CPU */
	for (int i = 1; i < t->ncores; i++)
		assert_true(t->cores[i - 1].first_cpu < t->cores[i].first_cpu);
	topology_free(t);
}

static void test_bad_sources(void **state)
{
	struct topology *t = (struct topology *)0x1;
	char path[] = "/tmp/slicevm-topo-XXXXXX";
	int fd;

	assert_int_equal(topology_load(&t, "synthetic:pack:banana"), -1);
	assert_non_null(strstr(err_msg(), "bad synthetic topology"));
	assert_int_equal(topology_load(&t, DATA "does-not-exist.xml"), -1);
	assert_non_null(strstr(err_msg(), "cannot read topology file"));
	assert_int_equal(topology_load(&t, ""), -1);
	assert_non_null(strstr(err_msg(), "empty"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "<not hwloc/>\n", 13), 13);
	close(fd);
	assert_int_equal(topology_load(&t, path), -1);
	assert_non_null(strstr(err_msg(), path));
	unlink(path);
	assert_ptr_equal(t, (struct topology *)0x1);	/* untouched on failure */
}

static void test_pci_normalize(void **state)
{
	char out[PCI_ADDR_MAX];

	assert_int_equal(topology_pci_normalize("0000:03:00.0", out), 0);
	assert_string_equal(out, "0000:03:00.0");
	assert_int_equal(topology_pci_normalize("3:0.1", out), 0);
	assert_string_equal(out, "0000:03:00.1");
	assert_int_equal(topology_pci_normalize("10000:AF:1F.7", out), -1);
	assert_int_equal(topology_pci_normalize("1:AF:1F.7", out), 0);
	assert_string_equal(out, "0001:af:1f.7");
	assert_int_equal(topology_pci_normalize("00:20.0", out), -1);	/* dev > 31 */
	assert_int_equal(topology_pci_normalize("00:1f.8", out), -1);	/* fn > 7 */
	assert_int_equal(topology_pci_normalize("00:1f", out), -1);
	assert_int_equal(topology_pci_normalize("03.00.0", out), -1);
	assert_int_equal(topology_pci_normalize("0:0:0:0.0", out), -1);
	assert_int_equal(topology_pci_normalize("0000:03:00.0x", out), -1);
	assert_int_equal(topology_pci_normalize("", out), -1);
	assert_int_equal(topology_pci_normalize(NULL, out), -1);
}

/* ---- a fake sysfs tree ---- */

static void fake_device(const char *root, const char *addr, const char *vendor,
			const char *device, const char *class, const char *node, int group)
{
	char dir[512], link[600], target[512];

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s", root, addr);
	assert_int_equal(mkdir(dir, 0755), 0);
	test_put_file(dir, "vendor", vendor);
	test_put_file(dir, "device", device);
	test_put_file(dir, "class", class);
	if (node)
		test_put_file(dir, "numa_node", node);
	if (group >= 0) {
		snprintf(link, sizeof(link), "%s/iommu_group", dir);
		snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%d", group);
		assert_int_equal(symlink(target, link), 0);
	}
}

static void make_dirs(const char *root)
{
	static const char *const dirs[] = { "bus", "bus/pci", "bus/pci/devices" };
	char path[512];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(path, 0755), 0);
	}
}

static void remove_tree(const char *root)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void test_pci_from_fake_sysfs(void **state)
{
	char root[] = "/tmp/slicevm-sysfs-XXXXXX", path[512];
	const struct topo_pci *p;
	struct topology *t;

	assert_non_null(mkdtemp(root));
	make_dirs(root);
	fake_device(root, "0000:03:00.1", "0x8086\n", "0x1572\n", "0x020000\n", "1\n", 7);
	fake_device(root, "0000:03:00.0", "0x8086\n", "0x1572\n", "0x020000\n", "1\n", 7);
	fake_device(root, "0000:00:01.0", "0x8086\n", "0x1901\n", "0x060400\n", "-1\n", 2);
	fake_device(root, "0000:05:00.0", "0x1af4\n", "0x1000\n", "0x020000\n", NULL, -1);

	setenv("SLICEVM_SYSFS_ROOT", root, 1);
	t = load("synthetic:pack:2 [numa(memory=8GiB)] core:2 pu:1");
	unsetenv("SLICEVM_SYSFS_ROOT");
	assert_int_equal(t->npci, 4);
	/* sorted by address */
	assert_string_equal(t->pci[0].addr, "0000:00:01.0");
	assert_string_equal(t->pci[1].addr, "0000:03:00.0");
	assert_string_equal(t->pci[3].addr, "0000:05:00.0");
	p = topology_pci(t, "03:00.1");
	assert_non_null(p);
	assert_int_equal(p->vendor, 0x8086);
	assert_int_equal(p->device, 0x1572);
	assert_int_equal(p->class, 0x020000);
	assert_int_equal(p->node, 1);
	assert_int_equal(p->iommu_group, 7);
	p = topology_pci(t, "0000:00:01.0");
	assert_int_equal(p->node, -1);
	assert_int_equal(p->iommu_group, 2);
	p = topology_pci(t, "0000:05:00.0");
	assert_int_equal(p->node, -1);
	assert_int_equal(p->iommu_group, -1);
	assert_null(topology_pci(t, "0000:06:00.0"));
	assert_null(topology_pci(t, "garbage"));

	/* a device with an unreadable vendor fails the whole load */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:05:00.0/vendor", root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(topology_load_pci(t, root), -1);
	assert_non_null(strstr(err_msg(), "0000:05:00.0/vendor"));
	assert_int_equal(t->npci, 4);	/* unchanged on failure */
	test_put_file(root, "bus/pci/devices/0000:05:00.0/vendor", "zz\n");
	assert_int_equal(topology_load_pci(t, root), -1);
	assert_non_null(strstr(err_msg(), "not a hex number"));
	topology_free(t);
	remove_tree(root);
}

static void test_pci_no_bus(void **state)
{
	char root[] = "/tmp/slicevm-sysfs-XXXXXX";
	struct topology *t = load("synthetic:pack:1 core:1 pu:1");

	assert_non_null(mkdtemp(root));
	assert_int_equal(topology_load_pci(t, root), 0);
	assert_int_equal(t->npci, 0);
	topology_free(t);
	rmdir(root);
}

static void test_json_and_table(void **state)
{
	char root[] = "/tmp/slicevm-sysfs-XXXXXX";
	struct topology *t = load(DATA "numa4-uneven.xml");
	json_object *o, *nodes, *cores, *pci;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(mkdtemp(root));
	make_dirs(root);
	fake_device(root, "0000:03:00.0", "0x8086\n", "0x1572\n", "0x020000\n", "2\n", 7);
	assert_int_equal(topology_load_pci(t, root), 0);

	o = topology_to_json(t);
	assert_true(json_object_object_get_ex(o, "nodes", &nodes));
	assert_int_equal(json_object_array_length(nodes), 4);
	assert_int_equal(json_object_get_int64(json_object_object_get(
		json_object_array_get_idx(nodes, 2), "memory")), (int64_t)(16 * GiB));
	assert_true(json_object_object_get_ex(o, "cores", &cores));
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(cores, 0), "cpus")), "0,16");
	assert_true(json_object_object_get_ex(o, "pci", &pci));
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(pci, 0), "class")), "0x020000");
	assert_int_equal(json_object_get_int(json_object_object_get(
		json_object_array_get_idx(pci, 0), "iommu_group")), 7);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "cpus")),
			    "0-31");
	json_object_put(o);

	f = open_memstream(&text, &len);
	topology_print_table(t, f);
	fclose(f);
	assert_non_null(strstr(text, "2 packages, 4 NUMA nodes, 16 cores, 32 CPUs (0-31)"));
	assert_non_null(strstr(text, "16G"));
	assert_non_null(strstr(text, "5,21"));
	assert_non_null(strstr(text, "0000:03:00.0  8086:1572  020000  2     7"));
	free(text);
	topology_free(t);
	remove_tree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_one_socket_two_cores, setup),
		cmocka_unit_test_setup(test_two_sockets_smt, setup),
		cmocka_unit_test_setup(test_xml_uneven_numa, setup),
		cmocka_unit_test_setup(test_bad_sources, setup),
		cmocka_unit_test_setup(test_pci_normalize, setup),
		cmocka_unit_test_setup(test_pci_from_fake_sysfs, setup),
		cmocka_unit_test_setup(test_pci_no_bus, setup),
		cmocka_unit_test_setup(test_json_and_table, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
