// SPDX-License-Identifier: GPL-2.0
/*
 * Host topology: hwloc for packages, NUMA nodes, cores and memory; sysfs for
 * PCI devices and their IOMMU groups (hwloc has no notion of IOMMU groups,
 * and sysfs is where VFIO itself looks).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hwloc.h>

#include "host/topology.h"
#include "lib/err.h"
#include "lib/file.h"

#define SYNTHETIC_PREFIX "synthetic:"

void topology_free(struct topology *t)
{
	if (!t)
		return;
	free(t->packages);
	free(t->nodes);
	free(t->cores);
	free(t->pci);
	free(t);
}

static int bitmap_to_mask(hwloc_const_bitmap_t set, struct cpumask *m)
{
	int last;

	cpumask_clear(m);
	if (!set)
		return 0;
	if (hwloc_bitmap_weight(set) < 0)
		return err_set("the topology has an infinite CPU set: give a real topology");
	last = hwloc_bitmap_last(set);
	if (last >= CPUMASK_MAX)
		return err_set("CPU %d is beyond the %d CPUs slicevm supports: "
			       "raise CPUMASK_MAX and rebuild", last, CPUMASK_MAX);
	for (int i = hwloc_bitmap_first(set); i >= 0; i = hwloc_bitmap_next(set, i))
		cpumask_set(m, i);
	return 0;
}

/* The kernel's number for an object, or its hwloc logical index if it has none. */
static int obj_id(hwloc_obj_t obj)
{
	if (obj->os_index == HWLOC_UNKNOWN_INDEX || obj->os_index > INT_MAX)
		return (int)obj->logical_index;
	return (int)obj->os_index;
}

static int load_packages(struct topology *t, hwloc_topology_t h)
{
	int n = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PACKAGE);

	if (n <= 0)
		return 0;
	t->packages = calloc(n, sizeof(*t->packages));
	if (!t->packages)
		return err_set("out of memory reading the topology");
	for (int i = 0; i < n; i++) {
		hwloc_obj_t obj = hwloc_get_obj_by_type(h, HWLOC_OBJ_PACKAGE, i);

		t->packages[i].id = obj_id(obj);
		if (bitmap_to_mask(obj->cpuset, &t->packages[i].cpus))
			return -1;
		cpumask_and(&t->packages[i].cpus, &t->packages[i].cpus, &t->cpus);
	}
	t->npackages = n;
	return 0;
}

static int load_nodes(struct topology *t, hwloc_topology_t h)
{
	int n = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);

	if (n <= 0)
		return err_set("the topology has no NUMA node: give a complete topology");
	t->nodes = calloc(n, sizeof(*t->nodes));
	if (!t->nodes)
		return err_set("out of memory reading the topology");
	for (int i = 0; i < n; i++) {
		hwloc_obj_t obj = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, i);

		t->nodes[i].id = obj_id(obj);
		t->nodes[i].memory = obj->attr->numanode.local_memory;
		if (bitmap_to_mask(obj->cpuset, &t->nodes[i].cpus))
			return -1;
		cpumask_and(&t->nodes[i].cpus, &t->nodes[i].cpus, &t->cpus);
	}
	t->nnodes = n;
	return 0;
}

static int cmp_package(const void *a, const void *b)
{
	return ((const struct topo_package *)a)->id - ((const struct topo_package *)b)->id;
}

static int cmp_node(const void *a, const void *b)
{
	return ((const struct topo_node *)a)->id - ((const struct topo_node *)b)->id;
}

static int cmp_core(const void *a, const void *b)
{
	return ((const struct topo_core *)a)->first_cpu -
	       ((const struct topo_core *)b)->first_cpu;
}

static int cmp_pci(const void *a, const void *b)
{
	return strcmp(((const struct topo_pci *)a)->addr, ((const struct topo_pci *)b)->addr);
}

/*
 * Cores are the hwloc Core objects; a PU without a Core above it (some
 * topologies have no Core level) is a core of its own.
 */
static int load_cores(struct topology *t, hwloc_topology_t h)
{
	int npu = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU);
	hwloc_obj_t *keys;

	if (npu <= 0)
		return err_set("the topology has no CPU: give a complete topology");
	t->cores = calloc(npu, sizeof(*t->cores));
	keys = calloc(npu, sizeof(*keys));
	if (!t->cores || !keys) {
		free(keys);
		return err_set("out of memory reading the topology");
	}
	for (int i = 0; i < npu; i++) {
		hwloc_obj_t pu = hwloc_get_obj_by_type(h, HWLOC_OBJ_PU, i);
		hwloc_obj_t key = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_CORE, pu);
		int cpu = (int)pu->os_index, c;

		if (!cpumask_test(&t->cpus, cpu))
			continue;	/* offline */
		if (!key)
			key = pu;
		for (c = 0; c < t->ncores && keys[c] != key; c++)
			;
		if (c == t->ncores) {
			keys[c] = key;
			cpumask_clear(&t->cores[c].cpus);
			t->cores[c].first_cpu = cpu;
			t->ncores++;
		}
		cpumask_set(&t->cores[c].cpus, cpu);
		if (cpu < t->cores[c].first_cpu)
			t->cores[c].first_cpu = cpu;
	}
	free(keys);
	qsort(t->cores, t->ncores, sizeof(*t->cores), cmp_core);
	for (int c = 0; c < t->ncores; c++) {
		struct topo_core *core = &t->cores[c];

		core->package = -1;
		for (int p = 0; p < t->npackages; p++)
			if (cpumask_test(&t->packages[p].cpus, core->first_cpu))
				core->package = t->packages[p].id;
		core->node = topology_cpu_node(t, core->first_cpu);
	}
	return 0;
}

static int setup_source(hwloc_topology_t h, const char *source)
{
	if (!source) {
		if (hwloc_topology_set_flags(h, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED))
			return err_set_errno("hwloc refuses to include disallowed CPUs");
		return 0;
	}
	if (!strncmp(source, SYNTHETIC_PREFIX, strlen(SYNTHETIC_PREFIX))) {
		if (hwloc_topology_set_synthetic(h, source + strlen(SYNTHETIC_PREFIX)))
			return err_set("bad synthetic topology '%s': write it like "
				       "'synthetic:pack:2 numa:1 core:16 pu:2'", source);
		return 0;
	}
	if (access(source, R_OK))
		return err_set_errno("cannot read topology file %s", source);
	if (hwloc_topology_set_xml(h, source))
		return err_set("cannot use %s as a topology: give an hwloc XML file "
			       "(lstopo --of xml)", source);
	return 0;
}

static int load_hwloc(struct topology *t, const char *source)
{
	hwloc_topology_t h;
	int ret = -1;

	if (hwloc_topology_init(&h))
		return err_set_errno("hwloc cannot start");
	if (setup_source(h, source))
		goto out;
	if (hwloc_topology_load(h)) {
		err_set_errno("hwloc cannot load the topology of %s%s",
			      source ? source : "this host",
			      source ? ": check that it is an hwloc 2 XML file" : "");
		goto out;
	}
	/*
	 * The whole machine (cpuset), not only what this process may use:
	 * a plan covers CPUs that slices have already taken from us.
	 */
	if (bitmap_to_mask(hwloc_topology_get_topology_cpuset(h), &t->cpus))
		goto out;
	if (cpumask_empty(&t->cpus)) {
		err_set("the topology of %s has no online CPU: give a complete topology",
			source ? source : "this host");
		goto out;
	}
	if (load_packages(t, h) || load_nodes(t, h))
		goto out;
	/* Sorted first: a CPU's node is the lowest-numbered one holding it. */
	qsort(t->packages, t->npackages, sizeof(*t->packages), cmp_package);
	qsort(t->nodes, t->nnodes, sizeof(*t->nodes), cmp_node);
	ret = load_cores(t, h);
out:
	hwloc_topology_destroy(h);
	return ret;
}

int topology_load(struct topology **out, const char *source)
{
	const char *sysfs = getenv("SLICEVM_SYSFS_ROOT");
	struct topology *t;

	if (source && !*source)
		return err_set("the topology source is empty: give an hwloc XML file "
			       "or synthetic:<description>");
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set("out of memory reading the topology");
	snprintf(t->source, sizeof(t->source), "%s", source ? source : "this host");
	if (sysfs && !*sysfs)
		sysfs = NULL;
	if (!source && !sysfs)
		sysfs = "/sys";
	if (load_hwloc(t, source) || (sysfs && topology_load_pci(t, sysfs))) {
		topology_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

/* "@dir/@name" in @buf; -1 (ENAMETOOLONG) if it does not fit. */
static int join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Reads a one-line sysfs attribute into @buf; -1 (errno set) on failure. */
static int read_attr(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	char *nl;

	if (join(path, sizeof(path), dir, name))
		return -1;
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		errno = EINVAL;
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

static int read_hex_attr(const char *dir, const char *name, unsigned int max,
			 unsigned int *value)
{
	char buf[64], *end;
	unsigned long v;

	if (read_attr(dir, name, buf, sizeof(buf)))
		return err_set_errno("cannot read %s/%s", dir, name);
	errno = 0;
	v = strtoul(buf, &end, 16);
	if (errno || end == buf || *end || v > max)
		return err_set("%s/%s holds '%s', not a hex number: check the sysfs tree",
			       dir, name, buf);
	*value = (unsigned int)v;
	return 0;
}

/* Group number from the iommu_group symlink (".../iommu_groups/7"), or -1. */
static int read_iommu_group(const char *dir)
{
	char path[PATH_MAX], base[32], *end;
	long v;

	if (join(path, sizeof(path), dir, "iommu_group") ||
	    file_link_name(path, base, sizeof(base)))
		return -1;
	v = strtol(base, &end, 10);
	if (end == base || *end || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

static int read_pci_device(const char *devices, const char *name, struct topo_pci *p)
{
	char dir[PATH_MAX], buf[32];

	if (topology_pci_normalize(name, p->addr))
		return err_set("%s/%s is not a PCI address: check the sysfs tree",
			       devices, name);
	if (join(dir, sizeof(dir), devices, name))
		return err_set_errno("%s/%s", devices, name);
	if (read_hex_attr(dir, "vendor", 0xffff, &p->vendor) ||
	    read_hex_attr(dir, "device", 0xffff, &p->device) ||
	    read_hex_attr(dir, "class", 0xffffff, &p->class))
		return -1;
	p->node = -1;
	if (!read_attr(dir, "numa_node", buf, sizeof(buf))) {
		char *end;
		long v = strtol(buf, &end, 10);

		if (end != buf && !*end && v >= 0 && v <= INT_MAX)
			p->node = (int)v;
	}
	p->iommu_group = read_iommu_group(dir);
	return 0;
}

int topology_load_pci(struct topology *t, const char *sysfs_root)
{
	char devices[PATH_MAX];
	struct topo_pci *pci = NULL;
	struct dirent *de;
	int n = 0, cap = 0;
	DIR *d;

	if (join(devices, sizeof(devices), sysfs_root, "bus/pci/devices"))
		return err_set_errno("sysfs root %s", sysfs_root);
	d = opendir(devices);
	if (!d) {
		if (errno != ENOENT)
			return err_set_errno("cannot list PCI devices in %s", devices);
		goto done;	/* no PCI bus at all */
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			struct topo_pci *bigger;

			cap = cap ? 2 * cap : 32;
			bigger = realloc(pci, cap * sizeof(*pci));
			if (!bigger) {
				err_set("out of memory listing PCI devices");
				goto fail;
			}
			pci = bigger;
		}
		memset(&pci[n], 0, sizeof(pci[n]));
		if (read_pci_device(devices, de->d_name, &pci[n]))
			goto fail;
		n++;
	}
	closedir(d);
	qsort(pci, n, sizeof(*pci), cmp_pci);
done:
	free(t->pci);
	t->pci = pci;
	t->npci = n;
	return 0;
fail:
	closedir(d);
	free(pci);
	return -1;
}

const struct topo_node *topology_node(const struct topology *t, int id)
{
	for (int i = 0; i < t->nnodes; i++)
		if (t->nodes[i].id == id)
			return &t->nodes[i];
	return NULL;
}

const struct topo_core *topology_core_of(const struct topology *t, int cpu)
{
	for (int i = 0; i < t->ncores; i++)
		if (cpumask_test(&t->cores[i].cpus, cpu))
			return &t->cores[i];
	return NULL;
}

const struct topo_pci *topology_pci(const struct topology *t, const char *addr)
{
	char norm[PCI_ADDR_MAX];

	if (topology_pci_normalize(addr, norm))
		return NULL;
	for (int i = 0; i < t->npci; i++)
		if (!strcmp(t->pci[i].addr, norm))
			return &t->pci[i];
	return NULL;
}

/*
 * A CPU belongs to the lowest-numbered node whose CPU set holds it. Nodes
 * with the same CPUs as another (HBM, CXL memory) are memory-only for us.
 */
int topology_cpu_node(const struct topology *t, int cpu)
{
	for (int i = 0; i < t->nnodes; i++)
		if (cpumask_test(&t->nodes[i].cpus, cpu))
			return t->nodes[i].id;
	return -1;
}

static int parse_hex_field(const char **s, char stop, unsigned long max,
			   unsigned long *v)
{
	const char *p = *s;
	char *end;

	if (!isxdigit((unsigned char)*p))
		return -1;
	*v = strtoul(p, &end, 16);
	if (*end != stop || *v > max || end - p > 8)
		return -1;
	*s = stop ? end + 1 : end;
	return 0;
}

int topology_pci_normalize(const char *addr, char out[PCI_ADDR_MAX])
{
	unsigned long dom = 0, bus, dev, fn;
	const char *s = addr;
	int colons = 0;

	if (!addr)
		return -1;
	for (const char *c = addr; *c; c++)
		colons += *c == ':';
	if ((colons == 2 && parse_hex_field(&s, ':', 0xffff, &dom)) ||
	    colons < 1 || colons > 2 ||
	    parse_hex_field(&s, ':', 0xff, &bus) ||
	    parse_hex_field(&s, '.', 0x1f, &dev) ||
	    parse_hex_field(&s, '\0', 0x7, &fn))
		return -1;
	snprintf(out, PCI_ADDR_MAX, "%04lx:%02lx:%02lx.%lx", dom, bus, dev, fn);
	return 0;
}

/* "15.5G", "512M": what a person reads; JSON keeps exact bytes. */
static const char *human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else if (v == (double)(uint64_t)v)
		snprintf(buf, len, "%llu%c", (unsigned long long)v, units[u]);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

static const char *id_or_dash(int id, char *buf, size_t len)
{
	if (id < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%d", id);
	return buf;
}

void topology_print_table(const struct topology *t, FILE *out)
{
	char list[CPULIST_MAX], a[16], b[16];
	uint64_t total = 0;

	for (int i = 0; i < t->nnodes; i++)
		total += t->nodes[i].memory;
	fprintf(out, "topology of %s: %d package%s, %d NUMA node%s, %d cores, "
		"%d CPUs (%s), %s memory\n", t->source,
		t->npackages, t->npackages == 1 ? "" : "s",
		t->nnodes, t->nnodes == 1 ? "" : "s", t->ncores,
		cpumask_count(&t->cpus), cpumask_format_list(&t->cpus, list, sizeof(list)),
		human_size(total, a, sizeof(a)));

	fprintf(out, "\n%-8s %-8s %s\n", "PACKAGE", "CORES", "CPUS");
	for (int i = 0; i < t->npackages; i++) {
		int cores = 0;

		for (int c = 0; c < t->ncores; c++)
			cores += t->cores[c].package == t->packages[i].id;
		fprintf(out, "%-8d %-8d %s\n", t->packages[i].id, cores,
			cpumask_format_list(&t->packages[i].cpus, list, sizeof(list)));
	}

	fprintf(out, "\n%-8s %-8s %-8s %s\n", "NODE", "MEMORY", "CORES", "CPUS");
	for (int i = 0; i < t->nnodes; i++) {
		int cores = 0;

		for (int c = 0; c < t->ncores; c++)
			cores += t->cores[c].node == t->nodes[i].id;
		fprintf(out, "%-8d %-8s %-8d %s\n", t->nodes[i].id,
			human_size(t->nodes[i].memory, a, sizeof(a)), cores,
			cpumask_empty(&t->nodes[i].cpus) ? "-" :
			cpumask_format_list(&t->nodes[i].cpus, list, sizeof(list)));
	}

	fprintf(out, "\n%-8s %-8s %-8s %s\n", "CORE", "PACKAGE", "NODE", "CPUS (SMT siblings)");
	for (int i = 0; i < t->ncores; i++)
		fprintf(out, "%-8d %-8s %-8s %s\n", i,
			id_or_dash(t->cores[i].package, a, sizeof(a)),
			id_or_dash(t->cores[i].node, b, sizeof(b)),
			cpumask_format_list(&t->cores[i].cpus, list, sizeof(list)));

	if (!t->npci) {
		fprintf(out, "\nno PCI devices%s\n", strcmp(t->source, "this host") ?
			" (not part of this topology source)" : "");
		return;
	}
	fprintf(out, "\n%-13s %-10s %-7s %-5s %s\n", "PCI DEVICE", "ID", "CLASS",
		"NODE", "IOMMU GROUP");
	for (int i = 0; i < t->npci; i++) {
		const struct topo_pci *p = &t->pci[i];

		fprintf(out, "%-13s %04x:%04x  %06x  %-5s %s\n", p->addr, p->vendor,
			p->device, p->class, id_or_dash(p->node, a, sizeof(a)),
			id_or_dash(p->iommu_group, b, sizeof(b)));
	}
}

static json_object *mask_json(const struct cpumask *m)
{
	char list[CPULIST_MAX];

	return json_object_new_string(cpumask_format_list(m, list, sizeof(list)));
}

static json_object *hex_json(unsigned int v, int digits)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%0*x", digits, v);
	return json_object_new_string(buf);
}

json_object *topology_to_json(const struct topology *t)
{
	json_object *o = json_object_new_object();
	json_object *pkgs = json_object_new_array();
	json_object *nodes = json_object_new_array();
	json_object *cores = json_object_new_array();
	json_object *pci = json_object_new_array();

	json_object_object_add(o, "source", json_object_new_string(t->source));
	json_object_object_add(o, "cpus", mask_json(&t->cpus));
	for (int i = 0; i < t->npackages; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "id", json_object_new_int(t->packages[i].id));
		json_object_object_add(p, "cpus", mask_json(&t->packages[i].cpus));
		json_object_array_add(pkgs, p);
	}
	for (int i = 0; i < t->nnodes; i++) {
		json_object *n = json_object_new_object();

		json_object_object_add(n, "id", json_object_new_int(t->nodes[i].id));
		json_object_object_add(n, "memory",
				       json_object_new_int64((int64_t)t->nodes[i].memory));
		json_object_object_add(n, "cpus", mask_json(&t->nodes[i].cpus));
		json_object_array_add(nodes, n);
	}
	for (int i = 0; i < t->ncores; i++) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "cpus", mask_json(&t->cores[i].cpus));
		json_object_object_add(c, "package", json_object_new_int(t->cores[i].package));
		json_object_object_add(c, "node", json_object_new_int(t->cores[i].node));
		json_object_array_add(cores, c);
	}
	for (int i = 0; i < t->npci; i++) {
		const struct topo_pci *p = &t->pci[i];
		json_object *d = json_object_new_object();

		json_object_object_add(d, "address", json_object_new_string(p->addr));
		json_object_object_add(d, "vendor", hex_json(p->vendor, 4));
		json_object_object_add(d, "device", hex_json(p->device, 4));
		json_object_object_add(d, "class", hex_json(p->class, 6));
		json_object_object_add(d, "node", json_object_new_int(p->node));
		json_object_object_add(d, "iommu_group", json_object_new_int(p->iommu_group));
		json_object_array_add(pci, d);
	}
	json_object_object_add(o, "packages", pkgs);
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "cores", cores);
	json_object_object_add(o, "pci", pci);
	return o;
}
