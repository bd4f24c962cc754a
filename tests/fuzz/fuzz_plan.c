// SPDX-License-Identifier: GPL-2.0
/*
 * The planner: the input is a slices configuration (JSON), resolved with
 * plan_resolve_json() on several topologies, all with the PCI devices of
 * one fake sysfs tree. An input starting with a digit N resolves only on
 * topology N (the rest is the JSON; 0-3 synthetic, then the XML files of
 * tests/unit/data/host/ in name order); any other input on every topology.
 *
 * Every plan the planner gives must:
 *  - survive plan_to_json() -> text -> plan_from_json() unchanged, and
 *    serialise to the same text again;
 *  - pass plan_check() on the topology it was made for;
 *  - written back as a configuration with everything explicit (cpus,
 *    memory, node and devices per slice, housekeeping as resolved,
 *    "host_reserve": 0, allow_spanning when a slice spans nodes), resolve
 *    to the same plan.
 * Anything else aborts, so libFuzzer keeps the input.
 */
#include <ftw.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "host/planner.h"
#include "lib/err.h"
#include "lib/json.h"

#ifndef FUZZ_TOPO_DIR
#define FUZZ_TOPO_DIR "tests/unit/data/host"
#endif

#define MAX_TOPOS 16

static const char *const synthetic[] = {
	"synthetic:pack:2 [numa(memory=32GiB)] core:16 pu:2",
	"synthetic:pack:4 [numa(memory=4GiB)] core:4 pu:1",
	"synthetic:pack:1 [numa(memory=16GiB)] core:2 pu:1",
	"synthetic:pack:1 [numa(memory=2GiB)] core:4 pu:2",
};

static struct topology *topos[MAX_TOPOS];
static int ntopos;
static bool verbose;		/* SLICEVM_FUZZ_VERBOSE set: say what each input gave */

/* ---- the fake sysfs tree (like tests/unit/test_host_plan.c builds) ---- */

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		fuzz_fail("cannot write %s", path);
}

static void fake_device(const char *root, const char *addr, const char *class,
			const char *node, int group)
{
	char dir[512], link[600], target[128];

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s", root, addr);
	if (mkdir(dir, 0755))
		fuzz_fail("mkdir %s: %s", dir, strerror(errno));
	put_file(dir, "vendor", "0x8086\n");
	put_file(dir, "device", "0x1572\n");
	put_file(dir, "class", class);
	put_file(dir, "numa_node", node);
	if (group >= 0) {
		snprintf(link, sizeof(link), "%s/iommu_group", dir);
		snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%d",
			 group);
		if (symlink(target, link))
			fuzz_fail("symlink %s: %s", link, strerror(errno));
	}
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

/*
 * Group 1: a two-function NIC. Group 2: a GPU behind a PCIe bridge (the
 * bridge stays with the host). Group 3: an NVMe disk. Group 4: two disks
 * on no NUMA node. 06:00.0 has no IOMMU group.
 */
static void make_sysfs(char *root)
{
	static const char *const dirs[] = { "bus", "bus/pci", "bus/pci/devices" };
	char path[512];

	if (!mkdtemp(root))
		fuzz_fail("mkdtemp: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		if (mkdir(path, 0755))
			fuzz_fail("mkdir %s: %s", path, strerror(errno));
	}
	fake_device(root, "0000:03:00.0", "0x020000\n", "0\n", 1);
	fake_device(root, "0000:03:00.1", "0x020000\n", "0\n", 1);
	fake_device(root, "0000:00:01.0", "0x060400\n", "0\n", 2);
	fake_device(root, "0000:04:00.0", "0x030000\n", "0\n", 2);
	fake_device(root, "0000:05:00.0", "0x010802\n", "1\n", 3);
	fake_device(root, "0000:06:00.0", "0x020000\n", "1\n", -1);
	fake_device(root, "0000:81:00.0", "0x010802\n", "-1\n", 4);
	fake_device(root, "0000:81:00.1", "0x010802\n", "-1\n", 4);
}

static void add_topology(const char *source)
{
	if (ntopos == MAX_TOPOS)
		fuzz_fail("more than %d topologies", MAX_TOPOS);
	if (topology_load(&topos[ntopos], source))
		fuzz_fail("topology %s: %s", source, err_msg());
	ntopos++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char root[] = "/tmp/slicevm-fuzz-sysfs-XXXXXX";
	glob_t g;

	make_sysfs(root);
	setenv("SLICEVM_SYSFS_ROOT", root, 1);
	for (size_t i = 0; i < sizeof(synthetic) / sizeof(synthetic[0]); i++)
		add_topology(synthetic[i]);
	if (glob(FUZZ_TOPO_DIR "/*.xml", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			add_topology(g.gl_pathv[i]);
		globfree(&g);
	} else {
		fuzz_fail("no XML topologies in %s", FUZZ_TOPO_DIR);
	}
	unsetenv("SLICEVM_SYSFS_ROOT");
	verbose = getenv("SLICEVM_FUZZ_VERBOSE") != NULL;
	nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- the properties ---- */

static const char *mask_text(const struct cpumask *m)
{
	static char buf[CPULIST_MAX];

	return cpumask_format_list(m, buf, sizeof(buf));
}

/* NULL when the plans are the same, else what differs. */
static const char *plan_diff(const struct plan *a, const struct plan *b)
{
	if (!cpumask_equal(&a->housekeeping, &b->housekeeping))
		return "housekeeping";
	if (a->nslices != b->nslices)
		return "slice count";
	for (int i = 0; i < a->nslices; i++) {
		const struct slice *x = &a->slices[i], *y = &b->slices[i];

		if (strcmp(x->name, y->name))
			return "a slice name";
		if (!cpumask_equal(&x->cpus, &y->cpus))
			return "a slice's cpus";
		if (x->node != y->node)
			return "a slice's node";
		if (x->memory != y->memory)
			return "a slice's memory";
		if (x->ndevices != y->ndevices)
			return "a slice's device count";
		for (int d = 0; d < x->ndevices; d++)
			if (strcmp(x->devices[d], y->devices[d]))
				return "a slice's devices";
	}
	return NULL;
}

static void check_stored(const struct plan *p, const char *source)
{
	json_object *o = plan_to_json(p), *back, *again;
	char *text = strdup(json_object_to_json_string(o));
	struct plan *q = calloc(1, sizeof(*q));
	const char *diff;

	if (!text || !q)
		fuzz_fail("out of memory");
	back = json_parse_text(text, "stored plan");
	if (!back)
		fuzz_fail("%s: the stored plan does not parse: %s\n%s", source, err_msg(),
			  text);
	if (plan_from_json(back, q))
		fuzz_fail("%s: plan_from_json refused the stored plan: %s\n%s", source,
			  err_msg(), text);
	diff = plan_diff(p, q);
	if (diff)
		fuzz_fail("%s: the stored plan reads back with another %s\n%s", source,
			  diff, text);
	again = plan_to_json(q);
	if (strcmp(json_object_to_json_string(again), text))
		fuzz_fail("%s: the plan read back is stored differently:\n%s\n%s", source,
			  text, json_object_to_json_string(again));
	json_object_put(again);
	json_object_put(back);
	json_object_put(o);
	free(text);
	free(q);
}

/* The plan as a configuration with every choice spelled out. */
static json_object *plan_as_config(const struct plan *p)
{
	json_object *cfg = json_object_new_object(), *hk = json_object_new_object();
	json_object *slices = json_object_new_array();
	bool span = false;

	json_object_object_add(hk, "cpus", json_object_new_string(mask_text(&p->housekeeping)));
	json_object_object_add(cfg, "housekeeping", hk);
	json_object_object_add(cfg, "host_reserve", json_object_new_int(0));
	for (int i = 0; i < p->nslices; i++) {
		const struct slice *s = &p->slices[i];
		json_object *js = json_object_new_object(), *devs = json_object_new_array();

		json_object_object_add(js, "name", json_object_new_string(s->name));
		json_object_object_add(js, "cpus", json_object_new_string(mask_text(&s->cpus)));
		json_object_object_add(js, "memory", json_object_new_int64((int64_t)s->memory));
		if (s->node >= 0)
			json_object_object_add(js, "node", json_object_new_int(s->node));
		else
			span = true;
		for (int d = 0; d < s->ndevices; d++)
			json_object_array_add(devs, json_object_new_string(s->devices[d]));
		json_object_object_add(js, "devices", devs);
		json_object_array_add(slices, js);
	}
	if (span)
		json_object_object_add(cfg, "allow_spanning", json_object_new_boolean(true));
	json_object_object_add(cfg, "slices", slices);
	return cfg;
}

static void check_as_config(const struct plan *p, const struct topology *t)
{
	json_object *cfg = plan_as_config(p);
	struct plan *q = calloc(1, sizeof(*q));
	const char *diff;

	if (!q)
		fuzz_fail("out of memory");
	if (plan_resolve_json(cfg, t, q))
		fuzz_fail("%s: the plan written as a configuration is refused: %s\n%s",
			  t->source, err_msg(), json_object_to_json_string(cfg));
	diff = plan_diff(p, q);
	if (diff)
		fuzz_fail("%s: the plan written as a configuration resolves with another "
			  "%s\n%s", t->source, diff, json_object_to_json_string(cfg));
	json_object_put(cfg);
	free(q);
}

static void resolve(json_object *cfg, const struct topology *t)
{
	struct plan *p = calloc(1, sizeof(*p));

	if (!p)
		fuzz_fail("out of memory");
	if (plan_resolve_json(cfg, t, p)) {
		if (verbose)
			fprintf(stderr, "%s: refused: %s\n", t->source, err_msg());
	} else {
		if (verbose)
			fprintf(stderr, "%s: %d slices\n", t->source, p->nslices);
		check_stored(p, t->source);
		if (plan_check(p, t))
			fuzz_fail("%s: plan_check refuses the planner's own plan: %s",
				  t->source, err_msg());
		check_as_config(p, t);
	}
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int only = -1;
	json_object *cfg;
	char *text;

	if (size && data[0] >= '0' && data[0] <= '9') {
		only = data[0] - '0';
		data++;
		size--;
		if (only >= ntopos)
			return 0;
	}
	text = fuzz_strndup(data, size);
	cfg = json_parse_text(text, "fuzz");
	free(text);
	if (!cfg)
		return 0;
	for (int i = 0; i < ntopos; i++)
		if (only < 0 || only == i)
			resolve(cfg, topos[i]);
	json_object_put(cfg);
	return 0;
}
