// SPDX-License-Identifier: GPL-2.0
/* Guest RAM from its backends, laid out as regions (see ram.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/size.h"
#include "mem/ram.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT		26
#endif

#define SZ_2M	(2ULL << 20)
#define SZ_1G	(1ULL << 30)

const char *ram_backing_name(enum ram_backing b)
{
	switch (b) {
	case RAM_ANON:		return "anon";
	case RAM_HUGETLB:	return "hugetlb";
	case RAM_RESERVED:	return "reserved";
	}
	return "?";
}

static int bind_to_node(void *p, uint64_t size, int node)
{
	unsigned long nodemask[16] = { 0 };

	if (node < 0)
		return 0;
	if (numa_available() < 0)
		return err_set("NUMA binding to node %d asked for, but this host has no NUMA support",
			       node);
	if (node >= (int)(sizeof(nodemask) * 8))
		return err_set("NUMA node %d is out of range", node);
	nodemask[node / (8 * sizeof(long))] |= 1UL << (node % (8 * sizeof(long)));
	/* MPOL_BIND: pages come from the slice's node or not at all. */
	if (mbind(p, size, MPOL_BIND, nodemask, sizeof(nodemask) * 8, 0))
		return err_set_errno("cannot bind guest memory to NUMA node %d", node);
	return 0;
}

/* Faults every page in, writable, so that KVM never waits for one later. */
static int populate(void *p, uint64_t size, uint64_t page)
{
	if (madvise(p, size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	/* kernels before 5.14: touch each page */
	for (uint64_t off = 0; off < size; off += page)
		((volatile uint8_t *)p)[off] = 0;
	return 0;
}

static int anon_map(struct ram_mapping *m, uint64_t size, int node, bool fill)
{
	char buf[32];
	void *p;

	/*
	 * Without @fill, pages are allocated when the guest first touches
	 * them, so a guest that never uses all of its RAM never costs all of it.
	 */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return err_set_errno("cannot map %s of guest memory",
				     size_format(size, buf, sizeof(buf)));
	*m = (struct ram_mapping){ .host = p, .size = size, .hpa = MEM_HPA_UNKNOWN,
				   .page_shift = 12 };
	/* Transparent huge pages cut nested page walks and TLB misses. */
	madvise(p, size, MADV_HUGEPAGE);
	if (bind_to_node(p, size, node))
		return -1;
	if (fill && populate(p, size, 4096))
		return err_set_errno("cannot allocate %s of guest memory%s",
				     size_format(size, buf, sizeof(buf)),
				     node >= 0 ? " on its node" : "");
	return 0;
}

/* Free hugepages of 2^@shift bytes on @node (or the whole host when -1). */
static long free_hugepages(int node, unsigned int shift)
{
	char path[160];
	long n = -1;
	FILE *f;

	if (node >= 0)
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/"
			 "hugepages-%llukB/free_hugepages", node, (1ULL << shift) >> 10);
	else
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB/"
			 "free_hugepages", (1ULL << shift) >> 10);
	f = fopen(path, "r");
	if (!f)
		return 0;	/* that page size is not configured */
	if (fscanf(f, "%ld", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

/* 1G pages when the size is made of them and enough are free, else 2M. */
static int hugepage_shift(uint64_t size, int node, unsigned int *shift)
{
	long g = free_hugepages(node, 30), m = free_hugepages(node, 21);
	char buf[32], where[32] = "this host";

	if (!(size % SZ_1G) && (uint64_t)g >= size / SZ_1G) {
		*shift = 30;
		return 0;
	}
	if (!(size % SZ_2M) && (uint64_t)m >= size / SZ_2M) {
		*shift = 21;
		return 0;
	}
	if (node >= 0)
		snprintf(where, sizeof(where), "node %d", node);
	size_format(size, buf, sizeof(buf));
	if (size % SZ_2M)
		return err_set("hugetlb memory %s is not a multiple of 2M: give a size like 2G", buf);
	if (size % SZ_1G)
		return err_set("%s of hugetlb memory needs %llu free 2M pages on %s, which has %ld: "
			       "boot with the hugepages= parameters 'slicevm host bootargs' prints",
			       buf, (unsigned long long)(size / SZ_2M), where, m);
	return err_set("%s of hugetlb memory needs %llu free 1G pages or %llu 2M pages on %s, which has %ld 1G and %ld 2M pages free: "
		       "boot with the hugepages= parameters 'slicevm host bootargs' prints",
		       buf, (unsigned long long)(size / SZ_1G), (unsigned long long)(size / SZ_2M),
		       where, g, m);
}

static int hugetlb_map(struct ram_mapping *m, uint64_t size, int node)
{
	unsigned int shift = 21;
	char buf[32];
	void *p;

	size_format(size, buf, sizeof(buf));
	if (hugepage_shift(size, node, &shift))
		return -1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (int)(shift << MAP_HUGE_SHIFT),
		 -1, 0);
	if (p == MAP_FAILED)
		return err_set_errno("cannot map %s of %s hugepages (are they reserved?)",
				     buf, shift == 30 ? "1G" : "2M");
	*m = (struct ram_mapping){ .host = p, .size = size, .hpa = MEM_HPA_UNKNOWN,
				   .page_shift = shift };
	if (bind_to_node(p, size, node))
		return -1;
	/* Another process may have taken pages since we counted them. */
	if (populate(p, size, 1ULL << shift))
		return err_set_errno("cannot get %s of %s hugepages%s: free more, or boot with more",
				     buf, shift == 30 ? "1G" : "2M",
				     node >= 0 ? " on the slice's node" : "");
	return 0;
}

/*
 * A reserved range through /dev/mem: MAP_SHARED at its physical address.
 * The kernel allows this only for memory it does not own (STRICT_DEVMEM),
 * which is what memmap=SIZE$START makes of the range.
 */
static int devmem_map(struct ram_mapping *m, uint64_t start, uint64_t size)
{
	char buf[32];
	void *p;
	int fd;

	fd = open("/dev/mem", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set("/dev/mem does not exist: a reserved slice needs it (CONFIG_DEVMEM)");
		return err_set_errno("cannot open /dev/mem for the reserved range (run as root)");
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)start);
	close(fd);
	if (p == MAP_FAILED) {
		if (errno == EPERM || errno == EINVAL)
			return err_set_errno("the kernel will not map the reserved range %#llx-%#llx through /dev/mem: "
					     "it must be kept from the host at boot (memmap=%s$%#llx) and unclaimed by any driver",
					     (unsigned long long)start,
					     (unsigned long long)(start + size - 1),
					     size_format(size, buf, sizeof(buf)),
					     (unsigned long long)start);
		return err_set_errno("cannot map the reserved range at %#llx",
				     (unsigned long long)start);
	}
	/* remap_pfn_range: 4K page table entries, populated now, never dumped */
	*m = (struct ram_mapping){ .host = p, .size = size, .hpa = start, .page_shift = 12,
				   .device = true };
	return 0;
}

/* A number from a one-line sysfs file (decimal or 0x hex); -1 on failure. */
static int sysfs_u64(const char *dir, const char *file, uint64_t *v)
{
	char path[512];
	unsigned long long x;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	/* sysfs writes sizes in decimal and addresses with 0x: never octal */
	ok = fscanf(f, "0x%llx", &x) == 1 || (rewind(f), fscanf(f, "%llu", &x) == 1);
	fclose(f);
	if (ok)
		*v = x;
	return ok ? 0 : -1;
}

/*
 * A device-dax instance (/dev/daxN.M) inside [start, start + size): a
 * memmap=SIZE!START range whose namespace is in devdax mode. It maps with
 * the device's alignment (2M or 1G) and KVM follows: what /dev/mem, whose
 * mappings are 4K page-table entries, cannot give. Its data starts past
 * the namespace's info block, so its physical start is read, not assumed.
 */
static bool find_devdax(uint64_t start, uint64_t size, char *dev, size_t len,
			uint64_t *dstart, uint64_t *dsize, unsigned int *shift)
{
	const char *root = "/sys/bus/dax/devices";
	struct dirent *e;
	bool found = false;
	DIR *d = opendir(root);

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char dir[300];
		uint64_t s, n, align = 0;

		if (strncmp(e->d_name, "dax", 3))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
		/* the instance made of the slice's range starts inside what is asked for */
		if (sysfs_u64(dir, "resource", &s) || sysfs_u64(dir, "size", &n) || !n ||
		    s < start || s >= start + size)
			continue;
		sysfs_u64(dir, "align", &align);
		snprintf(dev, len, "/dev/%s", e->d_name);
		*dstart = s;
		*dsize = n;
		*shift = align >= SZ_1G ? 30 : align >= SZ_2M ? 21 : 12;
		found = true;
	}
	closedir(d);
	return found;
}

static int devdax_map(struct ram_mapping *m, const char *dev, uint64_t start, uint64_t size,
		      unsigned int shift)
{
	void *p;
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return err_set_errno("cannot open %s for the reserved range", dev);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return err_set_errno("cannot map %s (the reserved range at %#llx)", dev,
				     (unsigned long long)start);
	*m = (struct ram_mapping){ .host = p, .size = size, .hpa = start,
				   .page_shift = shift, .device = true };
	/* device-dax faults in pages: populate now so none reaches KVM later */
	if (populate(p, size, 1ULL << shift))
		return err_set_errno("cannot fault in %s", dev);
	return 0;
}

/* The reserved range: through device-dax when the host made one of it, else /dev/mem. */
static int reserved_map(struct ram_mapping *m, uint64_t start, uint64_t size)
{
	char dev[300];
	uint64_t ds, dn;
	unsigned int shift;

	uint64_t want, align;

	if (!find_devdax(start, size, dev, sizeof(dev), &ds, &dn, &shift))
		return devmem_map(m, start, size);
	/* what is asked for, from where the device's data begins, in whole device pages */
	align = 1ULL << shift;
	want = start + size - ds;
	want = (want < dn ? want : dn) & ~(align - 1);
	if (!want)
		return err_set("%s starts at %#llx, past the %#llx bytes asked for at %#llx: "
			       "give more --memory", dev, (unsigned long long)ds,
			       (unsigned long long)size, (unsigned long long)start);
	return devdax_map(m, dev, ds, want, shift);
}

static int check_spec(const struct ram_spec *spec)
{
	char buf[32];

	if (!spec->size || spec->size & 0xFFF)
		return err_set("guest memory %s is not a whole number of pages",
			       size_format(spec->size, buf, sizeof(buf)));
	if (spec->backing == RAM_RESERVED &&
	    (spec->phys_start & (SZ_2M - 1) || spec->phys_start + spec->size < spec->phys_start))
		return err_set("the reserved range at %#llx is not 2M-aligned: plan it again",
			       (unsigned long long)spec->phys_start);
	return 0;
}

static int map_all(struct guest_ram *ram, const struct ram_spec *spec)
{
	struct ram_mapping *m = &ram->map[0];

	switch (spec->backing) {
	case RAM_ANON:
		if (anon_map(m, spec->size, spec->numa_node, spec->populate))
			return -1;
		ram->nmaps = 1;
		return mem_layout_split(&ram->layout, m->host, m->size, MEM_HPA_UNKNOWN);
	case RAM_HUGETLB:
		if (hugetlb_map(m, spec->size, spec->numa_node))
			return -1;
		ram->nmaps = 1;
		return mem_layout_split(&ram->layout, m->host, m->size, MEM_HPA_UNKNOWN);
	case RAM_RESERVED:
		if (reserved_map(m, spec->phys_start, spec->size))
			return -1;
		ram->nmaps = 1;
		if (!spec->identity)
			return mem_layout_split(&ram->layout, m->host, m->size, m->hpa);
		if (anon_map(&ram->map[1], spec->boot_size, spec->numa_node, true))
			return -1;
		ram->nmaps = 2;
		return mem_layout_identity(&ram->layout, ram->map[1].host, spec->boot_size,
					   m->host, m->hpa, m->size);
	}
	return err_set("unknown memory backing %d", spec->backing);
}

int guest_ram_map(struct guest_ram *ram, const struct ram_spec *spec)
{
	memset(ram, 0, sizeof(*ram));
	if (check_spec(spec))
		return -1;
	if (map_all(ram, spec))
		goto fail;
	for (int i = 0; i < ram->nmaps; i++) {
		struct ram_mapping *m = &ram->map[i];

		if (m->device)
			continue;
		/*
		 * A tenant's memory never goes to disk in a core dump of the
		 * VMM, and a forked helper never shares or copies it. Refused
		 * only by a kernel that cannot keep that promise: fail the start.
		 */
		if (madvise(m->host, m->size, MADV_DONTDUMP) ||
		    madvise(m->host, m->size, MADV_DONTFORK)) {
			err_set_errno("cannot keep guest memory out of core dumps and forks");
			goto fail;
		}
	}
	return 0;
fail:
	guest_ram_unmap(ram);
	return -1;
}

void guest_ram_unmap(struct guest_ram *ram)
{
	/* a mapping that failed half way may still be there: unmap all set */
	for (int i = 0; i < 2; i++)
		if (ram->map[i].host)
			munmap(ram->map[i].host, ram->map[i].size);
	memset(ram, 0, sizeof(*ram));
}

struct zero_part {
	uint8_t *p;
	uint64_t len;
	pthread_t thread;
};

static void *zero_thread(void *arg)
{
	struct zero_part *z = arg;

	memset(z->p, 0, z->len);
	return NULL;
}

/* Zeroes [p, p + len) in @n parts, one thread each (the caller does the first). */
static void zero_parallel(uint8_t *p, uint64_t len, int n)
{
	struct zero_part parts[16];
	uint64_t chunk;
	int started = 0;

	n = n < 1 ? 1 : n > 16 ? 16 : n;
	chunk = (len / (uint64_t)n + SZ_2M - 1) & ~(SZ_2M - 1);
	for (int i = 0; i < n; i++) {
		uint64_t off = chunk * (uint64_t)i;

		parts[i].p = p + off;
		parts[i].len = off >= len ? 0 : len - off < chunk ? len - off : chunk;
	}
	for (int i = 1; i < n; i++)
		if (parts[i].len &&
		    pthread_create(&parts[i].thread, NULL, zero_thread, &parts[i]) == 0)
			started |= 1 << i;
		else
			zero_thread(&parts[i]);	/* no thread: do it here */
	zero_thread(&parts[0]);
	for (int i = 1; i < n; i++)
		if (started & (1 << i))
			pthread_join(parts[i].thread, NULL);
}

uint64_t guest_ram_zero_physical(struct guest_ram *ram, int nthreads, double *seconds)
{
	struct timespec t0, t1;
	uint64_t bytes = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < ram->nmaps; i++) {
		if (ram->map[i].hpa == MEM_HPA_UNKNOWN)
			continue;
		zero_parallel(ram->map[i].host, ram->map[i].size, nthreads);
		bytes += ram->map[i].size;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return bytes;
}

int host_memory_total(uint64_t *bytes)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[128];

	if (!f)
		return err_set_errno("cannot read /proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	if (!kb)
		return err_set("cannot find MemTotal in /proc/meminfo");
	*bytes = kb * 1024;
	return 0;
}
