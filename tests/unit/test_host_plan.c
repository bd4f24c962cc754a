// SPDX-License-Identifier: GPL-2.0
/*
 * The planner on synthetic and XML topologies: defaults, every rule, every
 * refusal, the JSON round trip, and malformed-JSON positions. PCI devices
 * come from a fake sysfs tree in a temporary directory.
 */
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

#include "testutil.h"

#include "host/planner.h"
#include "lib/json.h"
#include "lib/err.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* 1 socket x 2 cores, 16 GiB */
#define T1 "synthetic:pack:1 [numa(memory=16GiB)] core:2 pu:1"
/* 2 sockets x 16 cores x 2 SMT threads (siblings 2k, 2k+1), 32 GiB per node */
#define T2 "synthetic:pack:2 [numa(memory=32GiB)] core:16 pu:2"
/* 4 nodes with 8, 4, 16, 2 GiB, 4 cores each, siblings N and N+16 */
#define T4 "tests/unit/data/host/numa4-uneven.xml"

static struct plan *plan_new(void)
{
	struct plan *p = malloc(sizeof(*p));

	assert_non_null(p);
	memset(p, 0xa5, sizeof(*p));
	return p;
}

static struct topology *load(const char *source)
{
	struct topology *t = NULL;

	if (topology_load(&t, source))
		fail_msg("topology_load(%s): %s", source, err_msg());
	return t;
}

/* Resolves @json on @t into @p; returns the planner's result. */
static int resolve_on(const struct topology *t, const char *json, struct plan *p)
{
	json_object *cfg = json_parse_text(json, "test");
	int ret;

	if (!cfg)
		fail_msg("bad test JSON %s: %s", json, err_msg());
	ret = plan_resolve_json(cfg, t, p);
	json_object_put(cfg);
	return ret;
}

static struct plan *plan_ok(const char *source, const char *json)
{
	struct topology *t = load(source);
	struct plan *p = plan_new();

	if (resolve_on(t, json, p))
		fail_msg("%s on %s refused: %s", json, source, err_msg());
	topology_free(t);
	return p;
}

/*
 * The configuration is refused with a message holding @want, and the plan
 * passed in is left exactly as it was.
 */
static void refused_on(const struct topology *t, const char *json, const char *want)
{
	struct plan *p = plan_new(), *before = plan_new();

	if (!resolve_on(t, json, p))
		fail_msg("%s was accepted, expected a refusal with '%s'", json, want);
	if (!strstr(err_msg(), want))
		fail_msg("%s: message '%s' lacks '%s'", json, err_msg(), want);
	assert_memory_equal(p, before, sizeof(*p));
	free(p);
	free(before);
}

static void refused(const char *source, const char *json, const char *want)
{
	struct topology *t = load(source);

	refused_on(t, json, want);
	topology_free(t);
}

static void assert_mask(const struct cpumask *m, const char *list)
{
	char buf[1024];

	assert_string_equal(cpumask_format_list(m, buf, sizeof(buf)), list);
}

/* @avail * @k / @n rounded down to 2M, as the planner shares memory */
static uint64_t share(uint64_t avail, int k, int n)
{
	uint64_t v = (uint64_t)((unsigned __int128)avail * k / n);

	return v / (2 * MiB) * (2 * MiB);
}

static int setup(void **state)
{
	unsetenv("SLICEVM_SYSFS_ROOT");
	return 0;
}

/* ---- defaults ---- */

static void test_defaults_one_socket(void **state)
{
	struct plan *p = plan_ok(T1, "{\"slices\": 1}");

	assert_mask(&p->housekeeping, "0");
	assert_int_equal(p->nslices, 1);
	assert_string_equal(p->slices[0].name, "slice0");
	assert_mask(&p->slices[0].cpus, "1");
	assert_int_equal(p->slices[0].node, 0);
	/* reserve: max(1G, 5% of 16G = 0.8G) = 1G */
	assert_int_equal(p->slices[0].memory, 15 * GiB);
	assert_int_equal(p->slices[0].ndevices, 0);
	free(p);
}

static void test_defaults_two_sockets_smt(void **state)
{
	struct plan *p = plan_ok(T2, "{\"slices\": 3}");
	uint64_t avail = 32 * GiB - 32 * GiB * 5 / 100;

	/* one whole core (both siblings) per node */
	assert_mask(&p->housekeeping, "0-1,32-33");
	assert_int_equal(p->nslices, 3);
	/* 15 free cores per node: slice0 and slice2 share node 0, 8 + 7 */
	assert_mask(&p->slices[0].cpus, "2-17");
	assert_int_equal(p->slices[0].node, 0);
	assert_mask(&p->slices[1].cpus, "34-63");
	assert_int_equal(p->slices[1].node, 1);
	assert_mask(&p->slices[2].cpus, "18-31");
	assert_int_equal(p->slices[2].node, 0);
	assert_string_equal(p->slices[2].name, "slice2");
	/* memory in proportion to cores, per node */
	assert_int_equal(p->slices[0].memory, share(avail, 8, 15));
	assert_int_equal(p->slices[2].memory, share(avail, 7, 15));
	assert_int_equal(p->slices[1].memory, share(avail, 15, 15));
	assert_true(p->slices[0].memory + p->slices[2].memory <= avail);
	free(p);
}

static void test_defaults_uneven_numa(void **state)
{
	struct plan *p = plan_ok(T4, "{\"slices\": 4}");

	assert_mask(&p->housekeeping, "0,4,8,12,16,20,24,28");
	/* one slice per node, 3 cores each, memory of its node minus reserve */
	assert_mask(&p->slices[0].cpus, "1-3,17-19");
	assert_int_equal(p->slices[0].node, 0);
	assert_int_equal(p->slices[0].memory, share(7 * GiB, 3, 3));
	/* then the node with the most free cores per slice, ties to the lowest id */
	assert_int_equal(p->slices[1].node, 1);
	assert_int_equal(p->slices[2].node, 2);
	assert_int_equal(p->slices[3].node, 3);
	assert_mask(&p->slices[2].cpus, "9-11,25-27");
	/* node 2: 16G - max(1G, 0.8G) */
	assert_int_equal(p->slices[2].memory, 15 * GiB);
	assert_int_equal(p->slices[1].memory, 3 * GiB);
	assert_int_equal(p->slices[3].memory, 1 * GiB);
	free(p);

	/* 8 slices: two per node, 2 + 1 cores */
	p = plan_ok(T4, "{\"slices\": 8}");
	assert_mask(&p->slices[0].cpus, "1-2,17-18");
	assert_mask(&p->slices[4].cpus, "3,19");
	assert_int_equal(p->slices[4].node, 0);
	assert_int_equal(p->slices[0].memory, share(7 * GiB, 2, 3));
	assert_int_equal(p->slices[4].memory, share(7 * GiB, 1, 3));
	free(p);
}

static void test_housekeeping_options(void **state)
{
	struct plan *p = plan_ok(T2, "{\"housekeeping\": {\"cores_per_node\": 2}, "
				 "\"slices\": 2}");

	assert_mask(&p->housekeeping, "0-3,32-35");
	assert_mask(&p->slices[0].cpus, "4-31");
	assert_mask(&p->slices[1].cpus, "36-63");
	free(p);

	p = plan_ok(T4, "{\"housekeeping\": {\"cpus\": \"0,16\"}, \"slices\": 1}");
	assert_mask(&p->housekeeping, "0,16");
	/* node 1 has more free cores (4) than node 0 (3) */
	assert_mask(&p->slices[0].cpus, "4-7,20-23");
	assert_int_equal(p->slices[0].node, 1);
	free(p);

	refused(T2, "{\"housekeeping\": {\"cpus\": \"0\"}, \"slices\": 1}",
		"housekeeping cpus splits the core of CPUs 0-1: add its SMT siblings 1");
	refused(T2, "{\"housekeeping\": {\"cpus\": \"\"}, \"slices\": 1}",
		"housekeeping cpus is empty");
	refused(T2, "{\"housekeeping\": {\"cores_per_node\": 0}, \"slices\": 1}",
		"cores_per_node is 0");
	refused(T2, "{\"housekeeping\": {\"cores_per_node\": 1, \"cpus\": \"0-1\"}, "
		"\"slices\": 1}", "give one");
	refused(T2, "{\"housekeeping\": {\"cores\": 1}, \"slices\": 1}",
		"\"housekeeping\": unknown key \"cores\"");
	refused(T2, "{\"housekeeping\": 1, \"slices\": 1}", "must be an object");
	refused(T2, "{\"housekeeping\": {\"cpus\": \"64\"}, \"slices\": 1}",
		"names CPUs 64 that");
	/* housekeeping taking every core leaves nothing for slices */
	refused(T1, "{\"housekeeping\": {\"cores_per_node\": 2}, \"slices\": 1}",
		"only 0 free cores");
}

/* ---- explicit slices ---- */

static void test_explicit_mix(void **state)
{
	struct plan *p = plan_ok(T2,
		"{\"slices\": [{\"name\": \"db\", \"cpus\": \"2-9\", \"memory\": \"8G\"},"
		" {\"name\": \"web\", \"cores\": 4, \"node\": 1},"
		" {\"name\": \"batch\", \"cpus\": 4},"
		" {\"name\": \"rest\"}]}");
	uint64_t avail = 32 * GiB - 32 * GiB * 5 / 100;

	assert_int_equal(p->nslices, 4);
	assert_string_equal(p->slices[0].name, "db");
	assert_mask(&p->slices[0].cpus, "2-9");
	assert_int_equal(p->slices[0].node, 0);
	assert_int_equal(p->slices[0].memory, 8 * GiB);
	assert_mask(&p->slices[1].cpus, "34-41");
	assert_int_equal(p->slices[1].node, 1);
	/* node 0 has 11 free cores, node 1 has 11: tie goes to node 0 */
	assert_mask(&p->slices[2].cpus, "10-13");
	assert_int_equal(p->slices[2].node, 0);
	/* then node 1 has more free cores: rest takes all 11 */
	assert_mask(&p->slices[3].cpus, "42-63");
	assert_int_equal(p->slices[3].node, 1);
	/* node 0 free cores 14-31 stay unused: only "rest" shares, and it went to node 1 */
	assert_int_equal(p->slices[1].memory, share(avail, 4, 15));
	assert_int_equal(p->slices[3].memory, share(avail, 11, 15));
	assert_int_equal(p->slices[2].memory, share(avail - 8 * GiB, 2, 2));
	assert_non_null(plan_find_slice(p, "web"));
	assert_ptr_equal(plan_find_slice(p, "rest"), &p->slices[3]);
	assert_null(plan_find_slice(p, "nope"));
	free(p);
}

static void test_pinned_default_slices(void **state)
{
	struct plan *p = plan_ok(T2, "{\"slices\": [{\"node\": 1}, {\"node\": 1}, {}]}");

	assert_mask(&p->slices[0].cpus, "34-49");
	assert_mask(&p->slices[1].cpus, "50-63");
	assert_mask(&p->slices[2].cpus, "2-31");
	assert_int_equal(p->slices[2].node, 0);
	free(p);
	refused(T1, "{\"slices\": [{\"node\": 0}, {\"node\": 0}]}",
		"2 slices are without CPUs but only 1 free core is left");
}

static void test_whole_cores(void **state)
{
	refused(T2, "{\"slices\": [{\"cpus\": \"2-4\"}]}",
		"slice slice0 cpus splits the core of CPUs 4-5: add its SMT siblings 5");
	refused(T4, "{\"slices\": [{\"cpus\": \"5-6\"}]}",
		"splits the core of CPUs 5,21: add its SMT siblings 21");
	refused(T2, "{\"slices\": [{\"cpus\": 3}]}",
		"asks for 3 CPUs, which splits a core (cores here have 2 CPUs)");
	struct plan *p = plan_ok(T4, "{\"slices\": [{\"cpus\": \"5-6,21-22\"}]}");

	assert_mask(&p->slices[0].cpus, "5-6,21-22");
	assert_int_equal(p->slices[0].node, 1);
	free(p);
	p = plan_ok(T2, "{\"slices\": [{\"cpus\": 6}]}");
	assert_mask(&p->slices[0].cpus, "2-7");
	free(p);
}

static void test_overlap(void **state)
{
	refused(T2, "{\"slices\": [{\"name\": \"a\", \"cpus\": \"2-5\"}, "
		"{\"name\": \"b\", \"cpus\": \"4-7\"}]}", "slices a and b overlap");
	refused(T2, "{\"slices\": [{\"name\": \"a\", \"cpus\": \"0-3\"}]}",
		"slice a overlaps housekeeping CPUs 0-1,32-33");
	refused(T2, "{\"housekeeping\": {\"cpus\": \"0-3\"}, "
		"\"slices\": [{\"name\": \"a\", \"cpus\": \"2-3\"}]}",
		"slice a overlaps housekeeping CPUs 0-3");
}

static void test_spanning(void **state)
{
	struct plan *p;

	refused(T2, "{\"slices\": [{\"cpus\": \"30-31,34-35\"}]}",
		"slice slice0 spans NUMA nodes 0-1: keep its CPUs on one node or set "
		"\"allow_spanning\": true");
	refused(T2, "{\"slices\": [{\"cores\": 20}]}",
		"asks for 20 cores but no node has that many free (at most 15 cores, "
		"on node 0): ask for less or set \"allow_spanning\": true");
	refused(T2, "{\"slices\": [{\"cores\": 31}], \"allow_spanning\": true}",
		"asks for 31 cores but only 30 free cores are left on synthetic:");
	refused(T2, "{\"slices\": [{\"cpus\": \"2-3\", \"node\": 1}]}",
		"has \"node\": 1 but its CPUs 2-3 are not all on node 1");
	refused(T2, "{\"slices\": [{\"cores\": 16, \"node\": 1}], \"allow_spanning\": true}",
		"asks for 16 cores but node 1 has only 15 free cores: ask for less or use "
		"another node");
	refused(T2, "{\"slices\": 1, \"allow_spanning\": 1}", "must be true or false");

	p = plan_ok(T2, "{\"allow_spanning\": true, \"slices\": [{\"name\": \"big\", "
		    "\"cores\": 20, \"memory\": \"20G\"}, {\"name\": \"small\"}]}");
	assert_mask(&p->slices[0].cpus, "2-31,34-43");
	assert_int_equal(p->slices[0].node, -1);
	assert_int_equal(p->slices[0].memory, 20 * GiB);
	/* "small" shares node 1 with the 5 cores of "big": 20G * 5/20 = 5G there */
	assert_mask(&p->slices[1].cpus, "44-63");
	assert_int_equal(p->slices[1].memory,
			 share(32 * GiB - 32 * GiB * 5 / 100 - 5 * GiB, 10, 10));
	free(p);

	/* a spanning slice's memory counts on each node in proportion */
	refused(T4, "{\"allow_spanning\": true, \"slices\": [{\"cpus\": \"13-15,29-31,9,25\","
		"\"memory\": \"4G\"}]}",
		"slices on node 3 ask for 3G of memory but it has 1G after the host "
		"reserve of 1G");
}

static void test_memory_rules(void **state)
{
	struct plan *p;

	refused(T4, "{\"slices\": [{\"node\": 3, \"memory\": \"2G\"}]}",
		"slices on node 3 ask for 2G of memory but it has 1G after the host "
		"reserve of 1G: give them less \"memory\" or lower \"host_reserve\"");
	refused(T4, "{\"slices\": [{\"node\": 1, \"cores\": 1, \"memory\": \"2G\"}, "
		"{\"node\": 1, \"cores\": 1, \"memory\": \"2G\"}]}",
		"slices on node 1 ask for 4G of memory but it has 3G");
	/* explicit memory takes it all: the default slice on that node gets none */
	refused(T4, "{\"slices\": [{\"node\": 3, \"cores\": 1, \"memory\": \"1G\"}, "
		"{\"name\": \"x\", \"node\": 3}]}", "slice x gets no memory");
	p = plan_ok(T4, "{\"host_reserve\": \"512M\", "
		    "\"slices\": [{\"node\": 3, \"memory\": \"1536M\"}]}");
	assert_int_equal(p->slices[0].memory, 1536 * MiB);
	free(p);
	p = plan_ok(T4, "{\"host_reserve\": \"50%\", \"slices\": [{\"node\": 2}]}");
	assert_int_equal(p->slices[0].memory, 8 * GiB);
	free(p);
	p = plan_ok(T4, "{\"host_reserve\": 0, \"slices\": [{\"node\": 3}]}");
	assert_int_equal(p->slices[0].memory, 2 * GiB);
	free(p);
	p = plan_ok(T4, "{\"slices\": [{\"node\": 0, \"memory\": 1073741824}]}");
	assert_int_equal(p->slices[0].memory, GiB);
	free(p);
}

static void test_bad_sizes(void **state)
{
	refused(T1, "{\"slices\": [{\"memory\": \"8X\"}]}",
		"slice slice0 memory: size '8X' has an unknown unit");
	refused(T1, "{\"slices\": [{\"memory\": \"0\"}]}", "slice slice0 memory is zero");
	refused(T1, "{\"slices\": [{\"memory\": 0}]}", "slice slice0 memory is 0");
	refused(T1, "{\"slices\": [{\"memory\": -5}]}", "slice slice0 memory is -5");
	refused(T1, "{\"slices\": [{\"memory\": \"1.5G\"}]}", "has a fraction: write it in a smaller unit");
	refused(T1, "{\"slices\": [{\"memory\": \"3M\"}]}",
		"memory 3M is not a multiple of 2M: round it, e.g. to 4M");
	refused(T1, "{\"slices\": [{\"memory\": true}]}", "must be a size like");
	refused(T1, "{\"slices\": [{\"memory\": \"G\"}]}", "is not a number");
	refused(T1, "{\"host_reserve\": \"lots\", \"slices\": 1}", "\"host_reserve\"");
	refused(T1, "{\"host_reserve\": \"150%\", \"slices\": 1}",
		"not a percentage from 0% to 99%");
	refused(T1, "{\"host_reserve\": \"-1%\", \"slices\": 1}", "not a percentage");
	refused(T1, "{\"host_reserve\": \"99999999T\", \"slices\": 1}", "too large");
}

static void test_counts_and_names(void **state)
{
	refused(T1, "{\"slices\": 0}", "\"slices\" is 0: give at least 1");
	refused(T1, "{\"slices\": []}", "\"slices\" is empty");
	refused(T1, "{}", "the configuration has no slices");
	refused(T1, "{\"slices\": 65}", "give 1 to 64");
	refused(T1, "{\"slices\": \"2\"}", "must be a count like 3 or a list");
	refused(T1, "{\"slices\": 2}", "2 slices are without CPUs but only 1 free core");
	refused(T2, "{\"slices\": 31}", "31 slices are without CPUs but only 30 free");
	refused(T1, "{\"slices\": [{\"cpus\": 0}]}", "has 0 CPUs: give it at least one core");
	refused(T1, "{\"slices\": [{\"cores\": 0}]}", "has 0 cores: give it at least one");
	refused(T1, "{\"slices\": [{\"cpus\": \"\"}]}", "is an empty CPU list");
	refused(T1, "{\"slices\": [{\"cpus\": 2.5}]}", "cpus must be a count like 4");
	refused(T1, "{\"slices\": [{\"cpus\": 1, \"cores\": 1}]}", "both \"cpus\" and \"cores\"");
	refused(T1, "{\"slices\": [{\"cores\": \"1\"}]}", "must be a whole number");
	refused(T1, "{\"slices\": [{\"cpus\": \"1-7\"}]}",
		"slice slice0 cpus names CPUs 2-7 that");
	refused(T1, "{\"slices\": [{\"cpus\": \"1-\"}]}", "is malformed");
	refused(T1, "{\"slices\": [{\"name\": \"a\", \"cpus\": \"1\"}, "
		"{\"name\": \"a\", \"cpus\": \"0\"}], \"housekeeping\": {\"cpus\": \"0\"}}",
		"two slices are named a");
	/* a default name can collide with a given one */
	refused(T2, "{\"slices\": [{\"name\": \"slice1\"}, {}]}", "two slices are named slice1");
	refused(T1, "{\"slices\": [{\"name\": \"a b\"}]}", "name \"a b\" is not valid");
	refused(T1, "{\"slices\": [{\"name\": \"\"}]}", "is not valid");
	refused(T1, "{\"slices\": [{\"name\": \"-x\"}]}", "is not valid");
	refused(T1, "{\"slices\": [{\"name\": \"0123456789012345678901234567890123\"}]}",
		"is not valid");
	refused(T1, "{\"slices\": [{\"name\": 5}]}", "is not valid");
	refused(T1, "{\"slices\": [{\"node\": 1}]}", "slice slice0: node 1 does not exist");
	refused(T1, "{\"slices\": [{\"node\": -1}]}", "slice slice0 node is -1");
	refused(T1, "{\"slices\": [7]}", "slice 0 must be an object");
	refused(T1, "[1]", "must be a JSON object");
}

static void test_unknown_keys(void **state)
{
	refused(T1, "{\"slices\": 1, \"slice\": 2}",
		"the configuration: unknown key \"slice\": use only housekeeping, "
		"allow_spanning, host_reserve, slices");
	refused(T1, "{\"slices\": [{\"name\": \"db\", \"mem\": \"1G\"}]}",
		"slice db: unknown key \"mem\"");
	refused(T1, "{\"slices\": [{\"cpu\": 1}]}", "slice slice0: unknown key \"cpu\"");
	refused(T1, "{\"housekeeping\": {\"x\": 1}, \"slices\": 1}", "unknown key \"x\"");
}

/* ---- devices on a fake sysfs ---- */

static void fake_device(const char *root, const char *addr, const char *class,
			int node, int group)
{
	char dir[512], link[600], target[128], num[16];

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s", root, addr);
	assert_int_equal(mkdir(dir, 0755), 0);
	test_put_file(dir, "vendor", "0x8086\n");
	test_put_file(dir, "device", "0x1572\n");
	test_put_file(dir, "class", class);
	snprintf(num, sizeof(num), "%d\n", node);
	test_put_file(dir, "numa_node", num);
	if (group >= 0) {
		snprintf(link, sizeof(link), "%s/iommu_group", dir);
		snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%d", group);
		assert_int_equal(symlink(target, link), 0);
	}
}

struct fake_sysfs {
	char root[64];
	struct topology *topo;
};

/*
 * Group 1: a two-function NIC (03:00.0, 03:00.1). Group 2: a GPU (04:00.0)
 * behind a PCIe bridge (00:01.0). Group 3: a lone NVMe (05:00.0).
 * 06:00.0 has no IOMMU group.
 */
static int setup_sysfs(void **state)
{
	struct fake_sysfs *f = calloc(1, sizeof(*f));
	char path[128];

	unsetenv("SLICEVM_SYSFS_ROOT");
	snprintf(f->root, sizeof(f->root), "/tmp/slicevm-plan-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(path, sizeof(path), "%s/bus", f->root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bus/pci", f->root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bus/pci/devices", f->root);
	mkdir(path, 0755);
	fake_device(f->root, "0000:03:00.0", "0x020000\n", 0, 1);
	fake_device(f->root, "0000:03:00.1", "0x020000\n", 0, 1);
	fake_device(f->root, "0000:00:01.0", "0x060400\n", 0, 2);
	fake_device(f->root, "0000:04:00.0", "0x030000\n", 0, 2);
	fake_device(f->root, "0000:05:00.0", "0x010802\n", 1, 3);
	fake_device(f->root, "0000:06:00.0", "0x020000\n", 1, -1);
	setenv("SLICEVM_SYSFS_ROOT", f->root, 1);
	if (topology_load(&f->topo, T2))
		return -1;
	unsetenv("SLICEVM_SYSFS_ROOT");
	*state = f;
	return 0;
}

static int teardown_sysfs(void **state)
{
	struct fake_sysfs *f = *state;
	char cmd[128];

	topology_free(f->topo);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static void test_devices(void **state)
{
	struct fake_sysfs *f = *state;
	const struct topology *t = f->topo;
	struct plan *p = plan_new();

	assert_int_equal(t->npci, 6);
	assert_int_equal(resolve_on(t,
		"{\"slices\": [{\"name\": \"net\", \"devices\": [\"03:00.1\", \"0000:03:00.0\"]},"
		" {\"name\": \"gpu\", \"devices\": [\"0000:04:00.0\"]},"
		" {\"name\": \"disk\", \"devices\": [\"0000:05:00.0\"]}]}", p), 0);
	assert_int_equal(p->slices[0].ndevices, 2);
	assert_string_equal(p->slices[0].devices[0], "0000:03:00.1");
	assert_string_equal(p->slices[0].devices[1], "0000:03:00.0");
	/* the bridge in group 2 stays with the host */
	assert_int_equal(p->slices[1].ndevices, 1);
	assert_string_equal(p->slices[1].devices[0], "0000:04:00.0");
	assert_string_equal(p->slices[2].devices[0], "0000:05:00.0");
	free(p);

	refused_on(t, "{\"slices\": [{\"name\": \"net\", \"devices\": [\"0000:03:00.0\"]}]}",
		   "slice net: device 0000:03:00.0 shares IOMMU group 1 with 0000:03:00.1: "
		   "give the whole group to slice net");
	refused_on(t, "{\"slices\": [{\"name\": \"a\", \"devices\": [\"0000:03:00.0\"]}, "
		   "{\"name\": \"b\", \"devices\": [\"0000:03:00.1\"]}]}",
		   "shares IOMMU group 1");
	refused_on(t, "{\"slices\": [{\"name\": \"a\", \"devices\": [\"0000:06:00.0\"]}]}",
		   "slice a: device 0000:06:00.0 has no IOMMU group");
	refused_on(t, "{\"slices\": [{\"name\": \"a\", \"devices\": [\"0000:07:00.0\"]}]}",
		   "slice a: device 0000:07:00.0 does not exist");
	refused_on(t, "{\"slices\": [{\"name\": \"a\", \"devices\": [\"0000:05:00.0\"]}, "
		   "{\"name\": \"b\", \"devices\": [\"05:00.0\"]}]}",
		   "device 0000:05:00.0 is listed twice (slices a and b)");
	refused_on(t, "{\"slices\": [{\"name\": \"a\", \"devices\": [\"0000:05:00.0\", "
		   "\"0000:05:00.0\"]}]}", "device 0000:05:00.0 is listed twice (slice a)");
	refused_on(t, "{\"slices\": [{\"name\": \"a\", \"devices\": [\"eth0\"]}]}",
		   "device \"eth0\" is not a PCI address");
	refused_on(t, "{\"slices\": [{\"name\": \"a\", \"devices\": \"0000:05:00.0\"}]}",
		   "must be a list");
}

static void test_devices_without_sysfs(void **state)
{
	/* a test topology without SLICEVM_SYSFS_ROOT has no devices at all */
	refused(T2, "{\"slices\": [{\"name\": \"a\", \"devices\": [\"0000:03:00.0\"]}]}",
		"device 0000:03:00.0 does not exist on synthetic:");
}

/* ---- JSON ---- */

static void assert_same_plan(const struct plan *a, const struct plan *b)
{
	assert_true(cpumask_equal(&a->housekeeping, &b->housekeeping));
	assert_int_equal(a->nslices, b->nslices);
	for (int i = 0; i < a->nslices; i++) {
		const struct slice *x = &a->slices[i], *y = &b->slices[i];

		assert_string_equal(x->name, y->name);
		assert_true(cpumask_equal(&x->cpus, &y->cpus));
		assert_int_equal(x->node, y->node);
		assert_int_equal(x->memory, y->memory);
		assert_int_equal(x->ndevices, y->ndevices);
		for (int d = 0; d < x->ndevices; d++)
			assert_string_equal(x->devices[d], y->devices[d]);
		assert_int_equal(x->backing, y->backing);
		assert_int_equal(x->identity, y->identity);
		assert_int_equal(x->phys_start, y->phys_start);
		assert_int_equal(x->reserve_as, y->reserve_as);
	}
}

static void round_trip(const struct plan *p)
{
	json_object *o = plan_to_json(p), *back;
	char *text = strdup(json_object_to_json_string(o));
	struct plan *q = plan_new();

	back = json_parse_text(text, "stored");
	assert_non_null(back);
	assert_int_equal(plan_from_json(back, q), 0);
	assert_same_plan(p, q);
	json_object_put(o);
	o = plan_to_json(q);
	assert_string_equal(json_object_to_json_string(o), text);
	json_object_put(o);
	json_object_put(back);
	free(text);
	free(q);
}

static void test_json_round_trip(void **state)
{
	struct fake_sysfs *f = *state;
	struct plan *p = plan_new();

	assert_int_equal(resolve_on(f->topo,
		"{\"allow_spanning\": true, \"slices\": [{\"name\": \"net\", \"cores\": 20,"
		" \"devices\": [\"03:00.1\", \"0000:03:00.0\"]}, {\"name\": \"x.y-z_1\"}]}", p), 0);
	assert_int_equal(p->slices[0].node, -1);
	round_trip(p);
	free(p);
	p = plan_ok(T4, "{\"slices\": 8}");
	round_trip(p);
	free(p);
}

static void from_json_refused(const char *text, const char *want)
{
	json_object *o = json_parse_text(text, "stored");
	struct plan *p = plan_new(), *before = plan_new();

	assert_non_null(o);
	assert_int_equal(plan_from_json(o, p), -1);
	if (!strstr(err_msg(), want))
		fail_msg("%s: message '%s' lacks '%s'", text, err_msg(), want);
	assert_memory_equal(p, before, sizeof(*p));
	json_object_put(o);
	free(p);
	free(before);
}

#define SLICE_OK "\"name\": \"a\", \"cpus\": \"1\", \"node\": 0, \"memory\": 1024, " \
		 "\"devices\": []"

static void test_from_json_damaged(void **state)
{
	from_json_refused("[]", "not a JSON object");
	from_json_refused("{\"housekeeping\": \"0\"}", "lacks housekeeping or slices");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [], \"x\": 1}",
			  "unknown key \"x\"");
	from_json_refused("{\"housekeeping\": \"0-\", \"slices\": []}",
			  "stored plan housekeeping: CPU list '0-' is malformed");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{" SLICE_OK ", \"y\": 2}]}",
			  "stored plan slice 0: unknown key \"y\"");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{\"name\": \"a\"}]}",
			  "lacks name, cpus, node, memory or devices");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{" SLICE_OK "}, {"
			  SLICE_OK "}]}", "names two slices a");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{\"name\": \"a\", "
			  "\"cpus\": \"1\", \"node\": -2, \"memory\": 1, \"devices\": []}]}",
			  "bad node or memory");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{\"name\": \"a\", "
			  "\"cpus\": \"1\", \"node\": 0, \"memory\": 1, \"devices\": [\"x\"]}]}",
			  "bad device");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{\"name\": \"a b\", "
			  "\"cpus\": \"1\", \"node\": 0, \"memory\": 1, \"devices\": []}]}",
			  "bad name");
}

static void parse_fails(const char *text, const char *want)
{
	json_object *o = json_parse_text(text, "cfg.json");

	if (o)
		fail_msg("'%s' parsed", text);
	if (strncmp(err_msg(), want, strlen(want)))
		fail_msg("'%s': message '%s' does not start with '%s'", text, err_msg(), want);
}

static void test_malformed_json(void **state)
{
	parse_fails("{\n  \"slices\": 2,\n  \"x\": ]\n}\n", "cfg.json:3:8: malformed JSON");
	parse_fails("{\"slices\": 2,}", "cfg.json:1:14: malformed JSON");
	parse_fails("{\n\t\"slices\": 2\n", "cfg.json:3:1: the JSON ends too early");
	parse_fails("", "cfg.json has no JSON in it");
	parse_fails("{\"slices\": 2}\n\n  x", "cfg.json:3:3: ");
	parse_fails("{\"slices\": 2} {}", "cfg.json:1:15: ");
	parse_fails("{\"a\": 1 /* c */}", "cfg.json:1:9: malformed JSON");
}

static void test_resolve_file(void **state)
{
	char path[] = "/tmp/slicevm-cfg-XXXXXX";
	struct topology *t = load(T1);
	struct plan *p = plan_new();
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("{\n  \"slices\": [\n    {\"name\": \"db\", \"cpus\": \"1\"}\n  ]\n}\n", f);
	fclose(f);
	assert_int_equal(plan_resolve_file(path, t, p), 0);
	assert_string_equal(p->slices[0].name, "db");

	f = fopen(path, "w");
	fputs("{\n  \"slices\": [\n    {\"name\": \"db\" \"cpus\": \"1\"}\n  ]\n}\n", f);
	fclose(f);
	assert_int_equal(plan_resolve_file(path, t, p), -1);
	assert_non_null(strstr(err_msg(), ":3:19: malformed JSON"));
	assert_int_equal(strncmp(err_msg(), path, strlen(path)), 0);

	f = fopen(path, "w");
	fputs("{\"slices\": 3}", f);
	fclose(f);
	assert_int_equal(plan_resolve_file(path, t, p), -1);
	assert_int_equal(strncmp(err_msg(), path, strlen(path)), 0);
	assert_non_null(strstr(err_msg(), ": 3 slices are without CPUs"));
	assert_string_equal(p->slices[0].name, "db");	/* untouched */
	unlink(path);

	assert_int_equal(plan_resolve_file(path, t, p), -1);
	assert_non_null(strstr(err_msg(), "does not exist: give the path of a JSON file"));
	free(p);
	topology_free(t);
}

static void test_print_table(void **state)
{
	struct fake_sysfs *f = *state;
	struct plan *p = plan_new();
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	assert_int_equal(resolve_on(f->topo, "{\"slices\": [{\"name\": \"db\", "
		"\"cores\": 2, \"memory\": \"8G\", \"devices\": [\"0000:05:00.0\"]}]}", p), 0);
	out = open_memstream(&text, &len);
	plan_print_table(p, out);
	fclose(out);
	assert_non_null(strstr(text, "housekeeping: CPUs 0-1,32-33 (4)"));
	assert_non_null(strstr(text, "db               0     4     8G         anon      2-5"
			       "                0000:05:00.0"));
	free(text);
	free(p);
}

static void test_plan_check(void **state)
{
	struct topology *t2 = load(T2), *t4 = load(T4), *t1 = load(T1);
	struct plan *p = plan_ok(T2, "{\"allow_spanning\": true, \"slices\": "
				 "[{\"cores\": 20}, {}]}");

	assert_int_equal(plan_check(p, t2), 0);
	/* planned for a bigger machine: CPUs missing here */
	assert_int_equal(plan_check(p, t1), -1);
	assert_non_null(strstr(err_msg(), "that synthetic:pack:1"));
	/* same CPU count, other core layout: cores split */
	assert_int_equal(plan_check(p, t4), -1);
	free(p);

	p = plan_ok(T4, "{\"slices\": 4}");
	assert_int_equal(plan_check(p, t4), 0);
	p->slices[3].memory = 4 * GiB;	/* node 3 has 2G */
	assert_int_equal(plan_check(p, t4), -1);
	assert_non_null(strstr(err_msg(), "slices on node 3 ask for 4G"));
	p->slices[3].memory = 2 * GiB;
	p->slices[3].node = 1;
	assert_int_equal(plan_check(p, t4), -1);
	assert_non_null(strstr(err_msg(), "slice slice3 is recorded on node 1"));
	cpumask_clear(&p->housekeeping);
	assert_int_equal(plan_check(p, t4), -1);
	assert_non_null(strstr(err_msg(), "housekeeping cpus is empty"));
	free(p);
	topology_free(t1);
	topology_free(t2);
	topology_free(t4);
}

/* The overflow reports: refused with one line, nothing planned. */
static void test_memory_overflow(void **state)
{
	refused(T2, "{\"slices\":[{\"name\":\"a\",\"cpus\":\"2-3\",\"memory\":\"8388608T\"},"
		"{\"name\":\"b\",\"cpus\":\"4-5\",\"memory\":\"8388608T\"}]}",
		"slice a memory is larger than any host (1024T at most)");
	refused(T2, "{\"slices\":[{\"name\":\"a\",\"cpus\":\"2-3\",\"memory\":6148914691237216256},"
		"{\"name\":\"b\",\"cpus\":\"4-5\",\"memory\":6148914691237216256},"
		"{\"name\":\"c\",\"cpus\":\"6-7\",\"memory\":6148914691237216256},"
		"{\"name\":\"d\",\"cpus\":\"8-9\"}]}",
		"slice a memory is larger than any host");
	/* just under the cap: the sum is refused against the node, not wrapped */
	refused(T2, "{\"slices\":[{\"cpus\":\"2-3\",\"memory\":\"1024T\"},"
		"{\"cpus\":\"4-5\",\"memory\":\"1024T\"},{\"cpus\":\"6-7\",\"memory\":\"1024T\"}]}",
		"slices on node 0 ask for 3072T of memory but it has");
	refused(T2, "{\"host_reserve\": \"1025T\", \"slices\": 1}",
		"\"host_reserve\" is larger than any host");
}

/*
 * The planner's own output, written back as a configuration (every CPU and
 * size explicit, no host reserve), is accepted and gives the same plan.
 */
static void assert_fed_back(const struct topology *t, const struct plan *p)
{
	json_object *stored = plan_to_json(p), *cfg = json_object_new_object();
	json_object *hk = json_object_new_object(), *slices, *hks;
	struct plan *again = plan_new();
	bool span = false;

	assert_true(json_object_object_get_ex(stored, "housekeeping", &hks));
	json_object_object_add(hk, "cpus", json_object_get(hks));
	json_object_object_add(cfg, "housekeeping", hk);
	assert_true(json_object_object_get_ex(stored, "slices", &slices));
	for (size_t i = 0; i < json_object_array_length(slices); i++) {
		json_object *js = json_object_array_get_idx(slices, i), *node;

		assert_true(json_object_object_get_ex(js, "node", &node));
		if (json_object_get_int(node) < 0) {
			span = true;
			json_object_object_del(js, "node");
		}
	}
	json_object_object_add(cfg, "slices", json_object_get(slices));
	json_object_object_add(cfg, "allow_spanning", json_object_new_boolean(span));
	json_object_object_add(cfg, "host_reserve", json_object_new_int(0));
	if (plan_resolve_json(cfg, t, again))
		fail_msg("the plan written back as %s is refused on %s: %s",
			 json_object_to_json_string(cfg), t->source, err_msg());
	assert_same_plan(p, again);
	assert_int_equal(plan_check(p, t), 0);
	json_object_put(cfg);
	json_object_put(stored);
	free(again);
}

static void test_plans_fed_back(void **state)
{
	static const char *const sources[] = {
		T1, T2, T4,
		"synthetic:pack:4 [numa(memory=4GiB)] core:4 pu:1",
		"synthetic:pack:2 [numa(memory=3GiB)] core:3 pu:2",
		"synthetic:pack:8 [numa(memory=1500MiB)] core:2 pu:1",
	};
	static const char *const configs[] = {
		"{\"slices\": 1}", "{\"slices\": 2}", "{\"slices\": 3}", "{\"slices\": 7}",
		"{\"allow_spanning\": true, \"slices\": [{\"cores\": 4}, {\"name\": \"x\"}]}",
		"{\"allow_spanning\": true, \"slices\": [{\"cores\": 5}, {}, {}]}",
		"{\"allow_spanning\": true, \"slices\": [{\"cores\": 3, \"memory\": \"1G\"}, {}]}",
		"{\"allow_spanning\": true, \"slices\": [{\"cores\": 6}, {\"cores\": 1}]}",
		"{\"allow_spanning\": true, \"host_reserve\": \"0\", \"slices\": [{\"cores\": 7}]}",
		"{\"allow_spanning\": true, \"host_reserve\": \"10%\", \"slices\": [{\"cores\": 2}, {}]}",
		"{\"host_reserve\": \"512M\", \"slices\": [{\"node\": 1}, {\"node\": 1}, {}]}",
		"{\"housekeeping\": {\"cores_per_node\": 2}, \"slices\": [{\"memory\": \"2M\"}, {}]}",
		"{\"slices\": [{\"cpus\": 2}, {\"cores\": 1}, {}]}",
		"{\"slices\": [{\"backing\": \"reserved\", \"memory\": \"1G\"}, "
		"{\"backing\": \"hugetlb\"}, {\"backing\": \"anon\"}]}",
		"{\"slices\": [{\"backing\": \"reserved\", \"memory\": \"1G\", "
		"\"phys_start\": \"0x40000000\", \"identity\": false, \"reserve_as\": \"pmem\"},"
		" {\"backing\": \"reserved\", \"memory\": \"512M\", \"phys_start\": \"2G\"}]}",
		"{\"slices\": [{\"backing\": \"reserved\"}, {\"backing\": \"reserved\"}]}",
	};
	int accepted = 0;

	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		struct topology *t = load(sources[i]);

		for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
			struct plan *p = plan_new();

			if (resolve_on(t, configs[c], p) == 0) {
				assert_fed_back(t, p);
				accepted++;
			}
			free(p);
		}
		topology_free(t);
	}
	/* most pairs plan; the ones that do not are refusals tested elsewhere */
	assert_true(accepted >= 50);
}

/* The report: a spanning slice's default share fits its own rule. */
static void test_spanning_default_share(void **state)
{
	struct plan *p = plan_ok("synthetic:pack:4 [numa(memory=4GiB)] core:4 pu:1",
				 "{\"allow_spanning\":true,\"slices\":[{\"cores\":4},{\"name\":\"x\"}]}");

	/* 3 cores on node 0 and 1 on node 1, each node has 3G after the reserve:
	 * node 0 limits it to 3G * 4/3 */
	assert_int_equal(p->slices[0].node, -1);
	assert_int_equal(p->slices[0].memory, 4 * GiB);
	assert_int_equal(p->slices[1].memory, 3 * GiB);
	free(p);
}

/* ---- backing ---- */

static void test_backing_defaults(void **state)
{
	struct plan *p = plan_ok(T2, "{\"slices\": [{\"node\": 0}, "
		"{\"backing\": \"reserved\", \"memory\": \"4G\", \"node\": 1}, "
		"{\"backing\": \"hugetlb\", \"memory\": \"3G\", \"node\": 1}, "
		"{\"backing\": \"hugetlb\", \"memory\": \"1026M\", \"node\": 0}, "
		"{\"backing\": \"reserved\", \"memory\": \"2G\", \"node\": 0, "
		"\"identity\": false, \"phys_start\": \"0x100000000\", \"reserve_as\": \"pmem\"}]}");

	assert_int_equal(p->slices[0].backing, BACKING_ANON);
	assert_false(p->slices[0].identity);
	assert_int_equal(p->slices[1].backing, BACKING_RESERVED);
	assert_true(p->slices[1].identity);		/* the default for reserved */
	assert_int_equal(p->slices[1].phys_start, 0);	/* chosen on the host */
	assert_int_equal(p->slices[1].reserve_as, RESERVE_PMEM);	/* 2M mappings */
	assert_int_equal(p->slices[2].backing, BACKING_HUGETLB);
	assert_int_equal(slice_hugepage_size(&p->slices[2]), GiB);
	assert_int_equal(slice_hugepage_size(&p->slices[3]), 2 * MiB);
	assert_false(p->slices[4].identity);
	assert_int_equal(p->slices[4].phys_start, 4 * GiB);
	assert_int_equal(p->slices[4].reserve_as, RESERVE_PMEM);
	assert_string_equal(slice_backing_name(BACKING_HUGETLB), "hugetlb");
	assert_string_equal(slice_reserve_name(RESERVE_PMEM), "pmem");
	round_trip(p);
	free(p);
	p = plan_ok(T1, "{\"slices\": [{\"backing\": \"reserved\", \"memory\": \"256M\", "
		    "\"phys_start\": 1073741824}]}");
	assert_int_equal(p->slices[0].phys_start, GiB);
	free(p);
}

static void test_backing_refused(void **state)
{
	refused(T2, "{\"slices\": [{\"backing\": \"hugepages\"}]}",
		"slice slice0: backing \"hugepages\" is unknown: give \"anon\", \"hugetlb\" or "
		"\"reserved\"");
	refused(T2, "{\"slices\": [{\"backing\": 1}]}", "backing 1 is unknown");
	refused(T2, "{\"slices\": [{\"identity\": true}]}",
		"slice slice0: \"identity\" is only for \"backing\": \"reserved\": drop it");
	refused(T2, "{\"slices\": [{\"backing\": \"hugetlb\", \"phys_start\": \"4G\"}]}",
		"\"phys_start\" is only for \"backing\": \"reserved\"");
	refused(T2, "{\"slices\": [{\"backing\": \"anon\", \"reserve_as\": \"pmem\"}]}",
		"\"reserve_as\" is only for");
	refused(T2, "{\"slices\": [{\"backing\": \"reserved\", \"identity\": 1}]}",
		"identity must be true or false");
	refused(T2, "{\"slices\": [{\"backing\": \"reserved\", \"reserve_as\": \"e820\"}]}",
		"reserve_as \"e820\" is unknown: give \"memmap\" or \"pmem\"");
	refused(T2, "{\"slices\": [{\"backing\": \"reserved\", \"phys_start\": \"0x40100000\"}]}",
		"phys_start 0x40100000 is not a multiple of 2M");
	refused(T2, "{\"slices\": [{\"backing\": \"reserved\", \"phys_start\": 0}]}",
		"phys_start 0x0 is the BIOS's low memory");
	refused(T2, "{\"slices\": [{\"backing\": \"reserved\", \"phys_start\": -2097152}]}",
		"phys_start is negative");
	refused(T2, "{\"slices\": [{\"backing\": \"reserved\", \"phys_start\": \"0x1g\"}]}",
		"is not a hexadecimal address");
	refused(T2, "{\"slices\": [{\"backing\": \"reserved\", \"phys_start\": true}]}",
		"must be an address like");
	refused(T2, "{\"slices\": [{\"backing\": \"reserved\", \"phys_start\": \"4096T\"}]}",
		"beyond x86's 52-bit physical addresses");
	refused(T2, "{\"slices\": [{\"backing\": \"reserved\", \"memory\": \"4G\", "
		"\"phys_start\": \"0xfffff80000000\"}]}", "ends beyond x86's 52-bit");
	refused(T2, "{\"allow_spanning\": true, \"slices\": [{\"cores\": 20, "
		"\"backing\": \"reserved\"}]}",
		"slice slice0 spans NUMA nodes, but \"backing\": \"reserved\" memory lies on one "
		"node: keep its CPUs on one node or use \"anon\"");
	refused(T2, "{\"allow_spanning\": true, \"slices\": [{\"cores\": 20, "
		"\"backing\": \"hugetlb\"}]}", "\"backing\": \"hugetlb\" memory lies on one node");
	refused(T2, "{\"slices\": [{\"name\": \"a\", \"backing\": \"reserved\", \"memory\": \"2G\","
		" \"phys_start\": \"4G\"}, {\"name\": \"b\", \"backing\": \"reserved\", "
		"\"memory\": \"2G\", \"phys_start\": \"5G\"}]}",
		"slices a and b reserve overlapping physical memory (phys_start 0x100000000 and "
		"0x140000000)");
}

static void test_backing_from_json_damaged(void **state)
{
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{" SLICE_OK
			  ", \"backing\": \"x\"}]}", "bad backing");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{" SLICE_OK
			  ", \"backing\": \"anon\", \"identity\": true}]}",
			  "has range keys but is not reserved");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{" SLICE_OK
			  ", \"backing\": \"reserved\"}]}", "bad identity, reserve_as or phys_start");
	from_json_refused("{\"housekeeping\": \"0\", \"slices\": [{" SLICE_OK
			  ", \"backing\": \"reserved\", \"identity\": true, \"reserve_as\": "
			  "\"memmap\", \"phys_start\": 4097}]}", "bad identity, reserve_as or phys_start");
}

static void test_backing_table(void **state)
{
	struct plan *p = plan_ok(T2, "{\"slices\": [{\"name\": \"db\", \"node\": 0, "
		"\"backing\": \"reserved\", \"memory\": \"4G\", \"phys_start\": \"0x100000000\"},"
		" {\"name\": \"odd\", \"node\": 0, \"backing\": \"reserved\", \"memory\": \"3584M\"},"
		" {\"name\": \"mis\", \"node\": 1, \"backing\": \"reserved\", \"memory\": \"1G\","
		" \"phys_start\": \"0x900200000\"},"
		" {\"name\": \"web\", \"node\": 1, \"backing\": \"hugetlb\", \"memory\": \"3G\"}]}");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	plan_print_table(p, out);
	fclose(out);
	assert_non_null(strstr(text, "db               0     16    4G         reserved  2-17"));
	assert_non_null(strstr(text, "web              1     "));
	assert_non_null(strstr(text, "slice db memory: reserved 0x100000000-0x1ffffffff on "
			       "node 0 (4G, end inclusive), guest-physical == host-physical\n"));
	assert_non_null(strstr(text, "slice odd memory: reserved 3584M on node 0, range "
			       "chosen on the host"));
	assert_non_null(strstr(text, "note: slice odd reserves 3584M, not a multiple of 1G"));
	assert_non_null(strstr(text, "note: slice mis's range starts at 0x900200000, not 1G "
			       "aligned"));
	assert_non_null(strstr(text, "slice web memory: 3 hugepages of 1G on node 1\n"));
	assert_null(strstr(text, "note: slice db"));
	free(text);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults_one_socket, setup),
		cmocka_unit_test_setup(test_defaults_two_sockets_smt, setup),
		cmocka_unit_test_setup(test_defaults_uneven_numa, setup),
		cmocka_unit_test_setup(test_housekeeping_options, setup),
		cmocka_unit_test_setup(test_explicit_mix, setup),
		cmocka_unit_test_setup(test_pinned_default_slices, setup),
		cmocka_unit_test_setup(test_whole_cores, setup),
		cmocka_unit_test_setup(test_overlap, setup),
		cmocka_unit_test_setup(test_spanning, setup),
		cmocka_unit_test_setup(test_memory_rules, setup),
		cmocka_unit_test_setup(test_bad_sizes, setup),
		cmocka_unit_test_setup(test_counts_and_names, setup),
		cmocka_unit_test_setup(test_unknown_keys, setup),
		cmocka_unit_test_setup_teardown(test_devices, setup_sysfs, teardown_sysfs),
		cmocka_unit_test_setup(test_devices_without_sysfs, setup),
		cmocka_unit_test_setup_teardown(test_json_round_trip, setup_sysfs,
						teardown_sysfs),
		cmocka_unit_test_setup(test_from_json_damaged, setup),
		cmocka_unit_test_setup(test_malformed_json, setup),
		cmocka_unit_test_setup(test_resolve_file, setup),
		cmocka_unit_test_setup_teardown(test_print_table, setup_sysfs, teardown_sysfs),
		cmocka_unit_test_setup(test_plan_check, setup),
		cmocka_unit_test_setup(test_memory_overflow, setup),
		cmocka_unit_test_setup(test_plans_fed_back, setup),
		cmocka_unit_test_setup(test_spanning_default_share, setup),
		cmocka_unit_test_setup(test_backing_defaults, setup),
		cmocka_unit_test_setup(test_backing_refused, setup),
		cmocka_unit_test_setup(test_backing_from_json_damaged, setup),
		cmocka_unit_test_setup(test_backing_table, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
