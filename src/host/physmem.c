// SPDX-License-Identifier: GPL-2.0
/* Host physical memory and the choice of reserved slice ranges (see physmem.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/hostfs.h"
#include "host/physmem.h"
#include "lib/err.h"
#include "lib/size.h"

#define SZ_2M		(2ULL << 20)
#define SZ_1G		(1ULL << 30)
#define SZ_4G		(4ULL << 30)

/* ---- /proc/iomem ---- */

static int parse_hex(const char **p, uint64_t *v)
{
	char *end;

	if (!isxdigit((unsigned char)**p))
		return -1;
	errno = 0;
	*v = strtoull(*p, &end, 16);
	if (errno)
		return -1;
	*p = end;
	return 0;
}

/* "  00100000-0009ffff : System RAM" -> @e; -1 when malformed. */
static int parse_iomem_line(const char *line, size_t len, struct iomem_entry *e)
{
	const char *p = line, *name;
	size_t indent = strspn(line, " "), n;

	p += indent;
	if (parse_hex(&p, &e->start) || *p++ != '-' || parse_hex(&p, &e->end) ||
	    strncmp(p, " : ", 3) || e->end < e->start)
		return -1;
	name = p + 3;
	n = len - (size_t)(name - line);
	if (n >= sizeof(e->name))
		n = sizeof(e->name) - 1;
	memcpy(e->name, name, n);
	e->name[n] = '\0';
	e->depth = (int)(indent / 2);
	return 0;
}

static int iomem_add(struct iomem *io, int *cap, const struct iomem_entry *e)
{
	if (io->n == *cap) {
		int ncap = *cap ? *cap * 2 : 64;
		struct iomem_entry *ne = realloc(io->e, (size_t)ncap * sizeof(*ne));

		if (!ne)
			return err_set("out of memory reading /proc/iomem");
		io->e = ne;
		*cap = ncap;
	}
	io->e[io->n++] = *e;
	return 0;
}

int iomem_parse(const char *text, struct iomem *io)
{
	bool nonzero = false;
	int cap = 0, line = 0;

	io->n = 0;
	io->e = NULL;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct iomem_entry e;

		line++;
		if (len && parse_iomem_line(p, len, &e)) {
			iomem_free(io);
			return err_set("/proc/iomem line %d '%.*s' is not 'START-END : NAME': "
				       "is this a Linux /proc?", line, (int)(len > 60 ? 60 : len), p);
		}
		if (len) {
			nonzero |= e.start || e.end;
			if (iomem_add(io, &cap, &e)) {
				iomem_free(io);
				return -1;
			}
		}
		p += len + (nl ? 1 : 0);
	}
	if (!io->n)
		return err_set("/proc/iomem is empty: is this a Linux /proc?");
	if (!nonzero) {
		iomem_free(io);
		return err_set("/proc/iomem shows every address as 0, as the kernel does for "
			       "users other than root: run as root");
	}
	return 0;
}

void iomem_free(struct iomem *io)
{
	free(io->e);
	io->e = NULL;
	io->n = 0;
}

bool iomem_is_ram(const struct iomem_entry *e)
{
	return e->depth == 0 && !strcmp(e->name, "System RAM");
}

bool iomem_is_reservation(const struct iomem_entry *e)
{
	return e->depth == 0 && (!strcmp(e->name, "Reserved") ||
				 !strcmp(e->name, "Persistent Memory (legacy)"));
}

const struct iomem_entry *iomem_find(const struct iomem *io, uint64_t start, uint64_t end)
{
	for (int i = 0; i < io->n; i++)
		if (!io->e[i].depth && io->e[i].start == start && io->e[i].end == end)
			return &io->e[i];
	return NULL;
}

const struct iomem_entry *iomem_ram_overlap(const struct iomem *io, uint64_t start,
					    uint64_t end)
{
	for (int i = 0; i < io->n; i++)
		if (iomem_is_ram(&io->e[i]) && io->e[i].start <= end && start <= io->e[i].end)
			return &io->e[i];
	return NULL;
}

/* ---- which node owns which firmware RAM ---- */

static int ram_add(struct physmem *pm, int *cap, uint64_t start, uint64_t end, int node)
{
	struct phys_ram *last = pm->nram ? &pm->ram[pm->nram - 1] : NULL;

	if (last && last->node == node && last->end + 1 == start) {
		last->end = end;
		return 0;
	}
	if (pm->nram == *cap) {
		int ncap = *cap ? *cap * 2 : 16;
		struct phys_ram *r = realloc(pm->ram, (size_t)ncap * sizeof(*r));

		if (!r)
			return err_set("out of memory reading the memory map");
		pm->ram = r;
		*cap = ncap;
	}
	pm->ram[pm->nram++] = (struct phys_ram){ start, end, node };
	return 0;
}

static int block_cmp(const void *a, const void *b)
{
	const struct mem_block *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* Node of the block holding @addr, -1 when no block does. */
static int block_node(const struct mem_block *blocks, int n, uint64_t bs, uint64_t addr)
{
	struct mem_block key = { addr / bs, 0 };
	const struct mem_block *b = bsearch(&key, blocks, (size_t)n, sizeof(*b), block_cmp);

	return b ? b->node : -1;
}

/*
 * Splits one firmware range into pieces by block node (-1: no block) in
 * @piece, then gives block-less pieces the node below, else above.
 */
static int tag_range(const struct phys_range *r, const struct mem_block *blocks, int nb,
		     uint64_t bs, struct physmem *pm, int *cap)
{
	struct phys_ram *piece = NULL;
	int np = 0, pcap = 0, ret = 0;

	for (uint64_t a = r->start; a <= r->end;) {
		uint64_t blk_end = (a / bs + 1) * bs - 1;
		uint64_t end = blk_end < r->end ? blk_end : r->end;
		int node = block_node(blocks, nb, bs, a);

		if (np && piece[np - 1].node == node) {
			piece[np - 1].end = end;
		} else {
			if (np == pcap) {
				struct phys_ram *p;

				pcap = pcap ? pcap * 2 : 16;
				p = realloc(piece, (size_t)pcap * sizeof(*p));
				if (!p) {
					free(piece);
					return err_set("out of memory reading the memory map");
				}
				piece = p;
			}
			piece[np++] = (struct phys_ram){ a, end, node };
		}
		if (end == r->end)
			break;
		a = end + 1;
	}
	for (int i = 1; i < np; i++)
		if (piece[i].node < 0)
			piece[i].node = piece[i - 1].node;
	for (int i = np - 2; i >= 0; i--)
		if (piece[i].node < 0)
			piece[i].node = piece[i + 1].node;
	for (int i = 0; i < np && !ret; i++)
		if (piece[i].node >= 0)
			ret = ram_add(pm, cap, piece[i].start, piece[i].end, piece[i].node);
	free(piece);
	return ret;
}

int physmem_tag(const struct phys_range *fw, int nfw, const struct mem_block *blocks,
		int nblocks, uint64_t block_size, int only_node, struct physmem *pm)
{
	struct mem_block *sorted = NULL;
	int cap = 0, ret = 0;

	memset(pm, 0, sizeof(*pm));	/* no /proc/iomem yet */
	if (only_node < 0 && (!block_size || !nblocks))
		return err_set("this host has several NUMA nodes but no memory blocks "
			       "under /sys/devices/system/node: give each reserved slice a "
			       "\"phys_start\"");
	if (only_node < 0) {
		sorted = malloc((size_t)nblocks * sizeof(*sorted));
		if (!sorted)
			return err_set("out of memory reading the memory map");
		memcpy(sorted, blocks, (size_t)nblocks * sizeof(*sorted));
		qsort(sorted, (size_t)nblocks, sizeof(*sorted), block_cmp);
	}
	for (int i = 0; i < nfw && !ret; i++)
		ret = only_node >= 0 ? ram_add(pm, &cap, fw[i].start, fw[i].end, only_node) :
		      tag_range(&fw[i], sorted, nblocks, block_size, pm, &cap);
	free(sorted);
	if (ret)
		physmem_free(pm);
	return ret;
}

/* ---- reading the host ---- */

static int read_hex_file(const char *path, uint64_t *v)
{
	char buf[64], *end;

	if (hostfs_read(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	*v = strtoull(buf, &end, 16);
	if (errno || end == buf || *end)
		return err_set("%s holds '%s', not a hexadecimal number", path, buf);
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct phys_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* One /sys/firmware/memmap/N entry; 1 when it is not System RAM. */
static int read_fw_entry(const char *dir, const char *name, struct phys_range *r)
{
	char path[4096], type[64];

	if (hostfs_path(path, sizeof(path), "%s/%s/type", dir, name) ||
	    hostfs_read(path, type, sizeof(type)))
		return -1;
	if (strcmp(type, "System RAM"))
		return 1;
	if (hostfs_path(path, sizeof(path), "%s/%s/start", dir, name) ||
	    read_hex_file(path, &r->start) ||
	    hostfs_path(path, sizeof(path), "%s/%s/end", dir, name) ||
	    read_hex_file(path, &r->end))
		return -1;
	if (r->end < r->start)
		return err_set("%s/%s ends before it starts: the firmware memory map is odd; "
			       "give \"phys_start\"", dir, name);
	return 0;
}

static int load_firmware(const char *sys, struct phys_range **out, int *n)
{
	char dir[4096];
	struct dirent *d;
	int cap = 0, ret = 0;
	DIR *dp;

	*out = NULL;
	*n = 0;
	if (hostfs_path(dir, sizeof(dir), "%s/firmware/memmap", sys))
		return -1;
	dp = opendir(dir);
	if (!dp)
		return err_set_errno("cannot read the firmware memory map %s (a kernel "
				     "with CONFIG_FIRMWARE_MEMMAP has it): give each reserved "
				     "slice a \"phys_start\"", dir);
	while (!ret && (d = readdir(dp))) {
		struct phys_range r;
		int k;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		k = read_fw_entry(dir, d->d_name, &r);
		if (k < 0) {
			ret = -1;
		} else if (k == 0) {
			if (*n == cap) {
				struct phys_range *nr;

				cap = cap ? cap * 2 : 16;
				nr = realloc(*out, (size_t)cap * sizeof(*nr));
				if (!nr) {
					ret = err_set("out of memory reading %s", dir);
					break;
				}
				*out = nr;
			}
			(*out)[(*n)++] = r;
		}
	}
	closedir(dp);
	if (!ret && !*n)
		ret = err_set("the firmware memory map %s lists no System RAM: give each "
			      "reserved slice a \"phys_start\"", dir);
	if (ret) {
		free(*out);
		*out = NULL;
		return -1;
	}
	qsort(*out, (size_t)*n, sizeof(**out), range_cmp);
	return 0;
}

static int add_block(struct mem_block **b, int *n, int *cap, uint64_t index, int node)
{
	if (*n == *cap) {
		int ncap = *cap ? *cap * 2 : 256;
		struct mem_block *nb = realloc(*b, (size_t)ncap * sizeof(*nb));

		if (!nb)
			return err_set("out of memory reading memory blocks");
		*b = nb;
		*cap = ncap;
	}
	(*b)[(*n)++] = (struct mem_block){ index, node };
	return 0;
}

/* The memoryM entries of every nodeN directory. */
static int load_blocks(const char *sys, struct mem_block **b, int *n, uint64_t *bs)
{
	char dir[4096], path[4096];
	struct dirent *d;
	int cap = 0, ret = 0;
	DIR *dp;

	*b = NULL;
	*n = 0;
	if (hostfs_path(path, sizeof(path), "%s/devices/system/memory/block_size_bytes", sys) ||
	    read_hex_file(path, bs))
		return -1;
	if (hostfs_path(dir, sizeof(dir), "%s/devices/system/node", sys))
		return -1;
	dp = opendir(dir);
	if (!dp)
		return err_set_errno("cannot read %s", dir);
	while (!ret && (d = readdir(dp))) {
		struct dirent *m;
		DIR *np;
		int node;

		if (sscanf(d->d_name, "node%d", &node) != 1 || node < 0 ||
		    hostfs_path(path, sizeof(path), "%s/%s", dir, d->d_name))
			continue;
		np = opendir(path);
		if (!np)
			continue;
		while (!ret && (m = readdir(np))) {
			unsigned long long idx;
			char tail;

			if (sscanf(m->d_name, "memory%llu%c", &idx, &tail) == 1)
				ret = add_block(b, n, &cap, idx, node);
		}
		closedir(np);
	}
	closedir(dp);
	return ret;
}

int physmem_load(struct physmem *pm, const char *sys, const char *proc, int only_node)
{
	struct phys_range *fw;
	struct mem_block *blocks = NULL;
	char path[4096], *text;
	uint64_t bs = 0;
	int nfw, nb = 0, ret;

	memset(pm, 0, sizeof(*pm));
	if (load_firmware(sys, &fw, &nfw))
		return -1;
	if (only_node < 0 && load_blocks(sys, &blocks, &nb, &bs)) {
		free(fw);
		return -1;
	}
	ret = physmem_tag(fw, nfw, blocks, nb, bs, only_node, pm);
	free(fw);
	free(blocks);
	if (ret)
		return -1;
	if (hostfs_path(path, sizeof(path), "%s/iomem", proc) ||
	    !(text = hostfs_read_all(path))) {
		physmem_free(pm);
		return -1;
	}
	ret = iomem_parse(text, &pm->io);
	free(text);
	if (ret)
		physmem_free(pm);
	return ret;
}

void physmem_free(struct physmem *pm)
{
	free(pm->ram);
	pm->ram = NULL;
	pm->nram = 0;
	iomem_free(&pm->io);
}

/* ---- choosing ---- */

/* Is [start, end] covered by @node's firmware RAM (pieces are sorted)? */
static bool on_node(const struct physmem *pm, int node, uint64_t start, uint64_t end)
{
	uint64_t at = start;

	for (int i = 0; i < pm->nram; i++) {
		const struct phys_ram *r = &pm->ram[i];

		if (r->node != node || r->end < at || r->start > at)
			continue;
		if (r->end >= end)
			return true;
		at = r->end + 1;
	}
	return false;
}

int physmem_check(const struct physmem *pm, int node, uint64_t start, uint64_t size)
{
	char sz[32];

	if (!size || size - 1 > UINT64_MAX - start || !on_node(pm, node, start, start + size - 1))
		return err_set("the range 0x%llx-0x%llx (%s) is not all System RAM of node %d "
			       "in the firmware memory map: give a phys_start inside it (see "
			       "/sys/firmware/memmap), or drop phys_start to have one chosen",
			       (unsigned long long)start,
			       (unsigned long long)(start + size - 1),
			       size_format(size, sz, sizeof(sz)), node);
	return 0;
}

/* The taken range sharing a byte with [start, end] that starts lowest; NULL if none. */
static const struct phys_range *clash(const struct phys_range *taken, int n,
				      uint64_t start, uint64_t end)
{
	const struct phys_range *low = NULL;

	for (int i = 0; i < n; i++)
		if (taken[i].start <= end && start <= taken[i].end &&
		    (!low || taken[i].start < low->start))
			low = &taken[i];
	return low;
}

/* The highest @align-ed start at or above @lo of @size bytes in @r, free of @taken. */
static bool fit_in(const struct phys_ram *r, uint64_t size, uint64_t align, uint64_t lo,
		   const struct phys_range *taken, int ntaken, uint64_t *start)
{
	uint64_t top = r->end + 1;	/* exclusive; 0 only for a range ending at 2^64 */
	uint64_t floor = r->start > lo ? r->start : lo;

	while (top >= size && top - size >= floor) {
		uint64_t cand = (top - size) / align * align;
		const struct phys_range *t;

		if (cand < floor)
			return false;
		t = clash(taken, ntaken, cand, cand + size - 1);
		if (!t) {
			*start = cand;
			return true;
		}
		top = t->start;
	}
	return false;
}

/* Step 1: a reservation the host already has for a range of this size. */
static bool reserved_before(const struct physmem *pm, int node, uint64_t size,
			    const struct phys_range *taken, int ntaken, uint64_t *start)
{
	bool found = false;

	for (int i = 0; i < pm->io.n; i++) {
		const struct iomem_entry *e = &pm->io.e[i];

		if (!iomem_is_reservation(e) || e->end - e->start + 1 != size ||
		    !on_node(pm, node, e->start, e->end) ||
		    clash(taken, ntaken, e->start, e->end) || (found && e->start < *start))
			continue;
		*start = e->start;
		found = true;
	}
	return found;
}

int physmem_choose(const struct physmem *pm, const char *what, int node, uint64_t size,
		   const struct phys_range *taken, int ntaken, uint64_t *start)
{
	static const struct { uint64_t lo, align; } pref[] = {
		{ SZ_4G, SZ_1G }, { SZ_4G, SZ_2M }, { 0, SZ_1G }, { 0, SZ_2M },
	};
	char sz[32];

	if (!size)
		return err_set("slice %s reserves no memory: give it \"memory\"", what);
	if (reserved_before(pm, node, size, taken, ntaken, start))
		return 0;
	for (size_t p = 0; p < sizeof(pref) / sizeof(pref[0]); p++)
		for (int i = pm->nram - 1; i >= 0; i--)
			if (pm->ram[i].node == node &&
			    fit_in(&pm->ram[i], size, pref[p].align, pref[p].lo, taken,
				   ntaken, start))
				return 0;
	return err_set("slice %s: node %d has no free range of %s in its System RAM (2M "
		       "aligned, apart from other reserved slices): give it less \"memory\" "
		       "or another node", what, node, size_format(size, sz, sizeof(sz)));
}

uint64_t physmem_reserved_on_node(const struct physmem *pm, int node)
{
	uint64_t sum = 0;

	for (int i = 0; i < pm->io.n; i++) {
		const struct iomem_entry *e = &pm->io.e[i];

		if (iomem_is_reservation(e) && on_node(pm, node, e->start, e->end))
			sum += e->end - e->start + 1;
	}
	return sum;
}

bool plan_has_reserved(const struct plan *plan)
{
	for (int i = 0; i < plan->nslices; i++)
		if (plan->slices[i].backing == BACKING_RESERVED)
			return true;
	return false;
}

int physmem_place(const struct physmem *pm, struct plan *plan)
{
	struct phys_range taken[SLICE_MAX];
	int n = 0;

	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];

		if (s->backing != BACKING_RESERVED || !s->phys_start)
			continue;
		if (physmem_check(pm, s->node, s->phys_start, s->memory))
			return err_set("slice %s: %s", s->name, err_msg());
		taken[n++] = (struct phys_range){ s->phys_start, s->phys_start + s->memory - 1 };
	}
	for (int i = 0; i < plan->nslices; i++) {
		struct slice *s = &plan->slices[i];

		if (s->backing != BACKING_RESERVED || s->phys_start)
			continue;
		if (physmem_choose(pm, s->name, s->node, s->memory, taken, n, &s->phys_start))
			return -1;
		taken[n++] = (struct phys_range){ s->phys_start, s->phys_start + s->memory - 1 };
	}
	return 0;
}
