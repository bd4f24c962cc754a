// SPDX-License-Identifier: GPL-2.0
/* Reserved ranges and hugepages at apply time, and the range file (see slicemem.h). */
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
