// SPDX-License-Identifier: GPL-2.0
/* Reserved ranges and hugepages at apply time, and the range file (see slicemem.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host/physmem.h"
#include "host/slicemem.h"
#include "lib/err.h"
#include "lib/size.h"

#define SZ_2M	(2ULL << 20)
#define SZ_1G	(1ULL << 30)

/* "memmap=256M$0x40000000" for slice @s. */
static void memmap_param(const struct slice *s, char *buf, size_t len)
{
	char size[32];

	snprintf(buf, len, "memmap=%s%c0x%llx", size_format(s->memory, size, sizeof(size)),
		 s->reserve_as == RESERVE_PMEM ? '!' : '$', (unsigned long long)s->phys_start);
}

static const char *reservation_name(enum slice_reserve r)
{
	return r == RESERVE_PMEM ? "Persistent Memory (legacy)" : "Reserved";
}

/* The first top-level line sharing a byte with [start, end]. */
static const struct iomem_entry *overlap(const struct iomem *io, uint64_t start, uint64_t end)
{
	for (int i = 0; i < io->n; i++)
		if (!io->e[i].depth && io->e[i].start <= end && start <= io->e[i].end)
			return &io->e[i];
	return NULL;
}

static int check_range(const struct iomem *io, const struct slice *s)
{
	uint64_t start = s->phys_start, end = s->phys_start + s->memory - 1;
	const struct iomem_entry *e = iomem_find(io, start, end), *o;
	char param[96];

	memmap_param(s, param, sizeof(param));
	if (!s->phys_start)
		return err_set("slice %s's physical range is not chosen: apply it with this "
			       "host's own topology (no --topology), or give it \"phys_start\"",
			       s->name);
	o = iomem_ram_overlap(io, start, end);
	if (o)
		return err_set("slice %s's range 0x%llx-0x%llx is System RAM now (%llx-%llx in "
			       "/proc/iomem): add '%s' to the kernel command line ('slicevm "
			       "host bootargs' prints it) and reboot", s->name,
			       (unsigned long long)start, (unsigned long long)end,
			       (unsigned long long)o->start, (unsigned long long)o->end, param);
	if (!e) {
		o = overlap(io, start, end);
		if (o)
			return err_set("slice %s's range 0x%llx-0x%llx is not what /proc/iomem "
				       "reserves (%llx-%llx : %s): boot with exactly '%s' "
				       "('slicevm host bootargs')", s->name,
				       (unsigned long long)start, (unsigned long long)end,
				       (unsigned long long)o->start, (unsigned long long)o->end,
				       o->name, param);
		return err_set("slice %s's range 0x%llx-0x%llx is not reserved: add '%s' to the "
			       "kernel command line ('slicevm host bootargs' prints it) and "
			       "reboot", s->name, (unsigned long long)start,
			       (unsigned long long)end, param);
	}
	if (strcmp(e->name, reservation_name(s->reserve_as)))
		return err_set("slice %s's range 0x%llx-0x%llx is '%s' in /proc/iomem, not '%s' "
			       "as \"reserve_as\": \"%s\" makes it: boot with '%s', or set "
			       "\"reserve_as\" to match", s->name, (unsigned long long)start,
			       (unsigned long long)end, e->name, reservation_name(s->reserve_as),
			       slice_reserve_name(s->reserve_as), param);
	return 0;
}

static int check_reserved(const struct host_paths *hp, const struct plan *plan)
{
	struct iomem io;
	char path[4096], *text;
	int ret = 0;

	if (hostfs_path(path, sizeof(path), "%s/iomem", hp->proc) ||
	    !(text = hostfs_read_all(path)))
		return -1;
	ret = iomem_parse(text, &io);
	free(text);
	if (ret)
		return -1;
	for (int i = 0; i < plan->nslices && !ret; i++)
		if (plan->slices[i].backing == BACKING_RESERVED)
			ret = check_range(&io, &plan->slices[i]);
	iomem_free(&io);
	return ret;
}

/* Free hugepages of @size on @node, from sysfs. */
static int free_hugepages(const struct host_paths *hp, int node, uint64_t size, uint64_t *n)
{
	char path[4096], buf[64], *end;

	if (hostfs_path(path, sizeof(path),
			"%s/devices/system/node/node%d/hugepages/hugepages-%llukB/free_hugepages",
			hp->sys, node, (unsigned long long)(size >> 10)))
		return -1;
	if (hostfs_read(path, buf, sizeof(buf))) {
		if (errno != ENOENT)
			return -1;
		*n = 0;
		return 0;
	}
	errno = 0;
	*n = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return err_set("%s holds '%s', not a count", path, buf);
	return 0;
}

/* Hugepages of @size the hugetlb slices of @node need. */
static uint64_t pages_needed(const struct plan *plan, int node, uint64_t size)
{
	uint64_t n = 0;

	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];

		if (s->backing == BACKING_HUGETLB && s->node == node &&
		    slice_hugepage_size(s) == size)
			n += s->memory / size;
	}
	return n;
}

static int check_hugepages(const struct host_paths *hp, const struct plan *plan)
{
	static const uint64_t sizes[] = { SZ_1G, SZ_2M };

	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];

		for (size_t k = 0; k < 2 && s->backing == BACKING_HUGETLB; k++) {
			uint64_t need = pages_needed(plan, s->node, sizes[k]), have;
			const char *sz = sizes[k] == SZ_1G ? "1G" : "2M";

			if (!need)
				continue;
			if (free_hugepages(hp, s->node, sizes[k], &have))
				return -1;
			if (have < need)
				return err_set("node %d has %llu free %s hugepages but its hugetlb "
					       "slices need %llu: add 'hugepagesz=%s hugepages=%d:%llu' "
					       "to the kernel command line ('slicevm host bootargs' "
					       "prints it) and reboot", s->node,
					       (unsigned long long)have, sz,
					       (unsigned long long)need, sz, s->node,
					       (unsigned long long)need);
		}
	}
	return 0;
}

static bool has_memory_slices(const struct plan *plan)
{
	for (int i = 0; i < plan->nslices; i++)
		if (plan->slices[i].backing != BACKING_ANON)
			return true;
	return false;
}

int slicemem_validate(const struct host_paths *hp, const struct plan *plan)
{
	if (plan_has_reserved(plan) && check_reserved(hp, plan))
		return -1;
	return check_hugepages(hp, plan);
}

/* ---- device-dax for pmem ranges ---- */

/* A number in sysfs file DIR/FILE (decimal or 0x hex). */
static int read_u64(const char *dir, const char *file, uint64_t *v)
{
	char path[4096], buf[64];
	char *end;

	if (hostfs_path(path, sizeof(path), "%s/%s", dir, file) ||
	    hostfs_read(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	return errno || end == buf ? -1 : 0;
}

/* The device-dax instance inside [start, end], if any: its name into @dax. */
static bool dax_in(const struct host_paths *hp, uint64_t start, uint64_t end, char *dax,
		   size_t len)
{
	char root[4096], dir[4600];
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (hostfs_path(root, sizeof(root), "%s/bus/dax/devices", hp->sys))
		return false;
	d = opendir(root);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		uint64_t s, n;

		if (strncmp(e->d_name, "dax", 3))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
		if (read_u64(dir, "resource", &s) || read_u64(dir, "size", &n) || !n ||
		    s < start || s + n - 1 > end)
			continue;
		snprintf(dax, len, "%s", e->d_name);
		found = true;
	}
	closedir(d);
	return found;
}

/* The nd namespace starting at @start ("namespace0.0") and its region's dax seed. */
static int pmem_namespace(const struct host_paths *hp, uint64_t start, char *ns, size_t nlen,
			  char *seed, size_t slen)
{
	char root[4096], dir[4600], region[64];
	struct dirent *e;
	DIR *d;

	if (hostfs_path(root, sizeof(root), "%s/bus/nd/devices", hp->sys))
		return -1;
	d = opendir(root);
	if (!d)
		return err_set("no pmem devices (%s is missing): load the pmem drivers "
			       "(modprobe nd_e820 nd_pmem dax_pmem device_dax)", root);
	ns[0] = '\0';
	while ((e = readdir(d))) {
		uint64_t s;
		int r, n;

		if (strncmp(e->d_name, "namespace", 9))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
		if (read_u64(dir, "resource", &s) || s != start ||
		    sscanf(e->d_name, "namespace%d.%d", &r, &n) != 2)
			continue;
		snprintf(ns, nlen, "%s", e->d_name);
		snprintf(region, sizeof(region), "region%d", r);
		break;
	}
	closedir(d);
	if (!ns[0])
		return err_set("no pmem namespace starts at 0x%llx in %s: load nd_e820 and nd_pmem "
			       "(modprobe nd_e820 nd_pmem)", (unsigned long long)start, root);
	if (hostfs_path(dir, sizeof(dir), "%s/%s/dax_seed", root, region) ||
	    hostfs_read(dir, seed, slen))
		return err_set("%s has no dax seed: load dax_pmem and device_dax "
			       "(modprobe dax_pmem device_dax)", region);
	return 0;
}

/* Writes @val to sysfs file ROOT/bus/nd/@rel. */
static int nd_write(const struct host_paths *hp, const char *rel, const char *val)
{
	char path[4096];

	if (hostfs_path(path, sizeof(path), "%s/bus/nd/%s", hp->sys, rel))
		return -1;
	return hostfs_write(hp, path, val);
}

/*
 * Puts slice @s's pmem namespace in device-dax mode, 2M aligned, its page
 * structures in RAM: what 'ndctl create-namespace -f -e NS -m devdax -a 2M
 * -M mem' does, through the same sysfs files. It writes an info block at
 * the start of the range, so the device's data begins 2M in; the VMM maps
 * what the device offers and the guest sees it at its physical address.
 * The mode persists in the range (it is the slice's memory alone) until
 * the boot parameter is taken away.
 */
static int make_devdax(const struct host_paths *hp, const struct slice *s, FILE *out)
{
	uint64_t end = s->phys_start + s->memory - 1;
	char ns[256], seed[256], rel[320], uuid[64], path[4096], dax[256];

	if (dax_in(hp, s->phys_start, end, dax, sizeof(dax)))
		return 0;
	if (pmem_namespace(hp, s->phys_start, ns, sizeof(ns), seed, sizeof(seed)))
		return -1;
	if (hostfs_path(path, sizeof(path), "%s/sys/kernel/random/uuid", hp->proc) ||
	    hostfs_read(path, uuid, sizeof(uuid)))
		return -1;
	/* a namespace that is not bound (already disabled) is fine */
	if (nd_write(hp, "drivers/nd_pmem/unbind", ns) && errno != ENODEV && errno != ENOENT)
		return err_set("slice %s: cannot take %s from the pmem driver: %s", s->name, ns,
			       err_msg());
	snprintf(rel, sizeof(rel), "devices/%s/uuid", seed);
	if (nd_write(hp, rel, uuid))
		return -1;
	snprintf(rel, sizeof(rel), "devices/%s/align", seed);
	if (nd_write(hp, rel, "2097152"))
		return -1;
	snprintf(rel, sizeof(rel), "devices/%s/mode", seed);
	if (nd_write(hp, rel, "ram"))
		return -1;
	snprintf(rel, sizeof(rel), "devices/%s/namespace", seed);
	if (nd_write(hp, rel, ns) || nd_write(hp, "drivers_probe", seed))
		return err_set("slice %s: cannot make %s device-dax: %s", s->name, ns, err_msg());
	if (!dax_in(hp, s->phys_start, end, dax, sizeof(dax)))
		return err_set("slice %s: %s was configured as device-dax but no /dev/dax device "
			       "appeared: load device_dax (modprobe device_dax)", s->name, ns);
	fprintf(out, "slice %s: pmem range 0x%llx-0x%llx is now device-dax /dev/%s\n", s->name,
		(unsigned long long)s->phys_start, (unsigned long long)end, dax);
	return 0;
}

int slicemem_prepare(const struct host_paths *hp, const struct plan *plan, FILE *out)
{
	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];

		if (s->backing == BACKING_RESERVED && s->reserve_as == RESERVE_PMEM &&
		    make_devdax(hp, s, out))
			return -1;
	}
	return 0;
}

/* ---- the range file ---- */

int slicemem_file_path(const struct host_paths *hp, char *buf, size_t len)
{
	size_t n = strlen(hp->proc);

	if (n >= 5 && !strcmp(hp->proc + n - 5, "/proc"))
		return hostfs_path(buf, len, "%.*s/run/slicevm/memory.json", (int)(n - 5),
				   hp->proc);
	return hostfs_path(buf, len, "%s/../run/slicevm/memory.json", hp->proc);
}

static json_object *slice_entry(const struct slice *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "backing",
			       json_object_new_string(slice_backing_name(s->backing)));
	json_object_object_add(o, "node", json_object_new_int(s->node));
	json_object_object_add(o, "memory", json_object_new_int64((int64_t)s->memory));
	if (s->backing == BACKING_HUGETLB) {
		json_object_object_add(o, "page_size",
				       json_object_new_int64((int64_t)slice_hugepage_size(s)));
		return o;
	}
	json_object_object_add(o, "start", json_object_new_int64((int64_t)s->phys_start));
	json_object_object_add(o, "end",
			       json_object_new_int64((int64_t)(s->phys_start + s->memory - 1)));
	json_object_object_add(o, "identity", json_object_new_boolean(s->identity));
	json_object_object_add(o, "reserve_as",
			       json_object_new_string(slice_reserve_name(s->reserve_as)));
	return o;
}

static char *file_text(const struct plan *plan)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	char *text;

	for (int i = 0; i < plan->nslices; i++)
		if (plan->slices[i].backing != BACKING_ANON)
			json_object_array_add(arr, slice_entry(&plan->slices[i]));
	json_object_object_add(o, "slices", arr);
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (!text)
		err_set("out of memory writing the range file");
	return text;
}

/* mkdir -p of @path's directory (two levels: run/ and run/slicevm/). */
static int make_dirs(const char *path)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	for (int level = 0; level < 2; level++) {
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return 0;
		*slash = '\0';
	}
	for (int level = 0; level < 2; level++) {
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return err_set_errno("cannot create %s", dir);
		dir[strlen(dir)] = '/';
	}
	return 0;
}

static int write_atomic(const char *path, const char *text)
{
	char tmp[4200];
	size_t len = strlen(text);
	int fd;

	if (hostfs_path(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path))
		return -1;
	fd = mkstemp(tmp);
	if (fd < 0)
		return err_set_errno("cannot write the range file next to %s", path);
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		err_set_errno("cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		err_set_errno("cannot write %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int slicemem_file_write(const struct host_paths *hp, const struct plan *plan)
{
	char path[4096], *text;
	int ret;

	if (!has_memory_slices(plan))
		return 0;
	if (slicemem_file_path(hp, path, sizeof(path)) || make_dirs(path))
		return -1;
	text = file_text(plan);
	if (!text)
		return -1;
	ret = write_atomic(path, text);
	free(text);
	return ret;
}

int slicemem_file_remove(const struct host_paths *hp)
{
	char path[4096];

	if (slicemem_file_path(hp, path, sizeof(path)))
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set_errno("cannot remove the range file %s", path);
	return 0;
}
