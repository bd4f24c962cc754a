// SPDX-License-Identifier: GPL-2.0
/* A slice's PCI devices given to vfio-pci, and back (see vfiobind.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/topology.h"
#include "host/vfiobind.h"
#include "lib/err.h"
#include "lib/file.h"

/* A device to bind, and the slice it is bound for. */
struct bind_dev {
	char addr[PCI_ADDR_MAX];
	const char *slice;
};

struct bind_set {
	int n, cap;
	struct bind_dev *d;
};

/* What the host uses a device for, and the fix: a refusal's two halves. */
struct use {
	char why[1536];
	char fix[384];
};

/* The /proc files and /sys class lists the in-use checks read, read once. */
struct host_use {
	const struct host_paths *hp;
	char *mountinfo, *swaps, *route, *route6;	/* "" when the file is missing */
	char **blocks, **nets;	/* /sys/class/block, /sys/class/net entries, sorted */
	int nblocks, nnets;
};

/* ---- Reading sysfs ------------------------------------------------------ */

static int dev_path(const struct host_paths *hp, const char *addr, const char *file,
		    char *buf, size_t len)
{
	if (file)
		return hostfs_path(buf, len, "%s/bus/pci/devices/%s/%s", hp->sys, addr, file);
	return hostfs_path(buf, len, "%s/bus/pci/devices/%s", hp->sys, addr);
}

static bool dev_present(const struct host_paths *hp, const char *addr)
{
	char path[4096];

	return !dev_path(hp, addr, NULL, path, sizeof(path)) && access(path, F_OK) == 0;
}

int vfiobind_driver(const struct host_paths *hp, const char *addr, char *buf, size_t len)
{
	char path[4096];

	buf[0] = '\0';
	if (!dev_present(hp, addr))
		return err_set("device %s does not exist on this host (not in %s/bus/pci/devices): see 'slicevm host probe'",
			       addr, hp->sys);
	if (dev_path(hp, addr, "driver", path, sizeof(path)))
		return -1;
	if (file_link_name(path, buf, len) && errno != ENOENT)
		return err_set_errno("cannot read %s", path);
	return 0;
}

bool vfiobind_loaded(const struct host_paths *hp)
{
	char path[4096];

	return !hostfs_path(path, sizeof(path), "%s/bus/pci/drivers/" VFIO_PCI_DRIVER, hp->sys) &&
	       access(path, F_OK) == 0;
}

/* A driver name as sysfs shows them ("" too): nothing a record could abuse. */
static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* driver_override, "" for none: the kernel shows none as "(null)". */
static int read_override(const struct host_paths *hp, const char *addr, char *buf, size_t len)
{
	char path[4096], val[256];

	if (dev_path(hp, addr, "driver_override", path, sizeof(path)))
		return -1;
	if (hostfs_read(path, val, sizeof(val)))
		return err_set("device %s: %s: giving devices to vfio-pci needs driver_override (Linux 3.16 or later)",
			       addr, err_msg());
	if (!strcmp(val, "(null)"))
		val[0] = '\0';
	if (!name_ok(val, len))
		return err_set("device %s has driver_override '%s', which is no driver name: clear it (echo > %s), then apply again",
			       addr, val, path);
	strcpy(buf, val);
	return 0;
}

/* Class 0x06: a host, PCI or other bridge, which stays on the host. */
static int dev_is_bridge(const struct host_paths *hp, const char *addr, bool *bridge)
{
	char path[4096], val[64], *end;
	unsigned long class;

	if (dev_path(hp, addr, "class", path, sizeof(path)) || hostfs_read(path, val, sizeof(val)))
		return -1;
	errno = 0;
	class = strtoul(val, &end, 16);
	if (errno || end == val || *end)
		return err_set("%s holds '%s', not a PCI class: check the sysfs tree", path, val);
	*bridge = (class >> 16) == 0x06;
	return 0;
}

static int dev_group(const struct host_paths *hp, const char *addr, int *group)
{
	char path[4096], base[32], *end;
	long v;

	if (dev_path(hp, addr, "iommu_group", path, sizeof(path)))
		return -1;
	if (file_link_name(path, base, sizeof(base)))
		return -1;
	v = strtol(base, &end, 10);
	if (end == base || *end || v < 0 || v > INT_MAX)
		return -1;
	*group = (int)v;
	return 0;
}

/* Writes @val to device @addr's @file (driver_override). */
static int dev_write(const struct host_paths *hp, const char *addr, const char *file,
		     const char *val)
{
	char path[4096];

	return dev_path(hp, addr, file, path, sizeof(path)) || hostfs_write(hp, path, val);
}

/* Writes device @addr to <sys>/bus/pci/drivers/@driver/@file, or bus/pci/@file. */
static int bus_write(const struct host_paths *hp, const char *driver, const char *file,
		     const char *addr)
{
	char path[4096];

	if (driver ? hostfs_path(path, sizeof(path), "%s/bus/pci/drivers/%s/%s", hp->sys,
				 driver, file) :
		     hostfs_path(path, sizeof(path), "%s/bus/pci/%s", hp->sys, file))
		return -1;
	return hostfs_write(hp, path, addr);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The entries of @dir (no dot files), sorted; a missing directory has none. */
static int list_dir(const char *dir, char ***out, int *n)
{
	struct dirent *e;
	char **v = NULL;
	int cap = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_set_errno("cannot list %s", dir);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			char **more = realloc(v, (size_t)(cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!more)
				goto nomem;
			v = more;
		}
		v[*n] = strdup(e->d_name);
		if (!v[*n])
			goto nomem;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, (size_t)*n, sizeof(*v), cmp_str);
	*out = v;
	return 0;
nomem:
	closedir(d);
	names_free(v, *n);
	*n = 0;
	return err_set("out of memory listing %s", dir);
}

/* ---- Which devices -------------------------------------------------------- */

static bool plan_has_devices(const struct plan *plan)
{
	for (int i = 0; i < plan->nslices; i++)
		if (plan->slices[i].ndevices)
			return true;
	return false;
}

static int set_add(struct bind_set *set, const char *addr, const char *slice)
{
	for (int i = 0; i < set->n; i++)
		if (!strcmp(set->d[i].addr, addr))
			return 0;	/* listed by its slice, or a peer already in */
	if (set->n == set->cap) {
		int cap = set->cap ? set->cap * 2 : 8;
		struct bind_dev *more = realloc(set->d, (size_t)cap * sizeof(*more));

		if (!more)
			return err_set("out of memory");
		set->d = more;
		set->cap = cap;
	}
	snprintf(set->d[set->n].addr, PCI_ADDR_MAX, "%s", addr);
	set->d[set->n++].slice = slice;
	return 0;
}

/* Every device of IOMMU group @group but bridges, bound for @slice. */
static int add_group(const struct host_paths *hp, struct bind_set *set, int group,
		     const char *slice)
{
	char dir[4096], norm[PCI_ADDR_MAX];
	char **names;
	int n, ret = 0;

	if (hostfs_path(dir, sizeof(dir), "%s/kernel/iommu_groups/%d/devices", hp->sys, group) ||
	    list_dir(dir, &names, &n))
		return -1;
	for (int i = 0; i < n && !ret; i++) {
		bool bridge;

		/* only PCI devices are bound (and asked for their class) */
		if (topology_pci_normalize(names[i], norm) || strcmp(norm, names[i]))
			continue;
		ret = dev_is_bridge(hp, names[i], &bridge);
		if (!ret && !bridge)
			ret = set_add(set, names[i], slice);
	}
	names_free(names, n);
	return ret;
}

/*
 * The devices to bind for @plan, each slice's devices and their group
 * peers, in plan order. A listed bridge stays on the host: said on @out
 * when not NULL.
 */
static int collect(const struct host_paths *hp, const struct plan *plan,
		   struct bind_set *set, FILE *out)
{
	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];

		for (int k = 0; k < s->ndevices; k++) {
			const char *addr = s->devices[k];
			bool bridge;
			int group;

			if (!dev_present(hp, addr))
				return err_set("slice %s: device %s does not exist on this host (not in %s/bus/pci/devices): see 'slicevm host probe'",
					       s->name, addr, hp->sys);
			if (dev_is_bridge(hp, addr, &bridge))
				return -1;
			if (bridge) {
				if (out)
					fprintf(out, "slice %s: device %s is a PCI bridge: left on the host (vfio-pci takes endpoints)\n",
						s->name, addr);
				continue;
			}
			if (dev_group(hp, addr, &group))
				return err_set("slice %s: device %s has no IOMMU group, so it cannot be given to a VM safely: enable the IOMMU (intel_iommu=on or amd_iommu=on) or drop the device",
					       s->name, addr);
			if (set_add(set, addr, s->name) || add_group(hp, set, group, s->name))
				return -1;
		}
	}
	return 0;
}

/* ---- Is the host using it? -------------------------------------------------- */

/* A /proc file's text; "" when the kernel has none (no IPv6, no swap). */
static char *read_optional(const char *proc, const char *rel)
{
	char path[4096];
	char *text;

	if (hostfs_path(path, sizeof(path), "%s/%s", proc, rel))
		return NULL;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		text = strdup("");
		if (!text)
			err_set("out of memory");
		return text;
	}
	return hostfs_read_all(path);
}

static void use_free(struct host_use *u)
{
	free(u->mountinfo);
	free(u->swaps);
	free(u->route);
	free(u->route6);
	names_free(u->blocks, u->nblocks);
	names_free(u->nets, u->nnets);
	memset(u, 0, sizeof(*u));
}

static int use_load(struct host_use *u, const struct host_paths *hp)
{
	char dir[4096];

	memset(u, 0, sizeof(*u));
	u->hp = hp;
	if (!(u->mountinfo = read_optional(hp->proc, "self/mountinfo")) ||
	    !(u->swaps = read_optional(hp->proc, "swaps")) ||
	    !(u->route = read_optional(hp->proc, "net/route")) ||
	    !(u->route6 = read_optional(hp->proc, "net/ipv6_route")) ||
	    hostfs_path(dir, sizeof(dir), "%s/class/block", hp->sys) ||
	    list_dir(dir, &u->blocks, &u->nblocks) ||
	    hostfs_path(dir, sizeof(dir), "%s/class/net", hp->sys) ||
	    list_dir(dir, &u->nets, &u->nnets)) {
		use_free(u);
		return -1;
	}
	return 0;
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && path[n] == '/';
}

/* Does directory @dir hold a symbolic link into @devreal? */
static bool links_into(const char *dir, const char *devreal)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path) &&
		    realpath(path, real))
			found = path_under(real, devreal);
	}
	closedir(d);
	return found;
}

/*
 * Is entry @name of <sys>/class/@class on the device at @devreal? Below its
 * directory (nvme/nvme0/nvme0n1, net/eth0), or for an NVMe multipath disk
 * (and its partitions) under nvme-subsystem/nvme-subsysN, which links the
 * controllers that reach it.
 */
static bool class_below(const struct host_paths *hp, const char *class, const char *name,
			const char *devreal)
{
	char path[PATH_MAX], real[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/class/%s/%s", hp->sys, class, name) >=
	    (int)sizeof(path) || !realpath(path, real))
		return false;
	if (path_under(real, devreal))
		return true;
	for (int up = 0; up < 2 && !strcmp(class, "block"); up++) {
		char *slash = strrchr(real, '/');

		if (!slash || slash == real)
			return false;
		*slash = '\0';
		if (links_into(real, devreal))
			return true;
	}
	return false;
}

/* mountinfo's octal escapes (\040 for a space) undone, into @out. */
static void unescape(const char *s, char *out, size_t len)
{
	size_t k = 0;

	for (; *s && k + 1 < len; k++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			out[k] = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			out[k] = *s++;
		}
	}
	out[k] = '\0';
}

/* Line by line over @text: @fn(line, arg) until it returns true. */
static bool each_line(const char *text, bool (*fn)(const char *line, void *arg), void *arg)
{
	char line[4096];

	while (*text) {
		const char *end = strchrnul(text, '\n');
		size_t n = (size_t)(end - text);

		if (n < sizeof(line)) {
			memcpy(line, text, n);
			line[n] = '\0';
			if (fn(line, arg))
				return true;
		}
		text = *end ? end + 1 : end;
	}
	return false;
}

struct mount_query {
	const char *dev;	/* "259:1" */
	char src[300];		/* "/dev/nvme0n1p1" */
	char point[1024];	/* found: where */
};

/* A mountinfo line: "36 35 259:1 / /data rw,relatime - ext4 /dev/nvme0n1p1 rw". */
static bool mount_line(const char *line, void *arg)
{
	struct mount_query *q = arg;
	char majmin[32], point[1024], source[1024] = "";
	const char *sep = strstr(line, " - ");

	if (sscanf(line, "%*s %*s %31s %*s %1023s", majmin, point) != 2)
		return false;
	if (sep)
		sscanf(sep + 3, "%*s %1023s", source);
	/* btrfs shows an anonymous device number: its source still names the disk */
	if (strcmp(majmin, q->dev) && strcmp(source, q->src))
		return false;
	unescape(point, q->point, sizeof(q->point));
	return true;
}

/* A /proc/swaps line: "/dev/nvme0n1p2 partition 8388604 0 -2". */
static bool swap_line(const char *line, void *arg)
{
	char name[1024];

	return sscanf(line, "%1023s", name) == 1 && !strcmp(name, arg);
}

/* Block device @name (a disk or partition on the device): mounted, swap, held? */
static int block_use(const struct host_use *u, const char *name, struct use *out)
{
	struct mount_query q;
	char path[4096], dev[32], **holders;
	int n;

	if (hostfs_path(path, sizeof(path), "%s/class/block/%s/dev", u->hp->sys, name))
		return -1;
	/*
	 * A hidden path of an NVMe multipath disk (nvme0c0n1) has no device
	 * number: the host reaches the disk through its head (nvme0n1, under
	 * nvme-subsystem), which the caller checks in its own right.
	 */
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	if (hostfs_read(path, dev, sizeof(dev)))
		return -1;
	q.dev = dev;
	snprintf(q.src, sizeof(q.src), "/dev/%s", name);
	if (each_line(u->mountinfo, mount_line, &q)) {
		snprintf(out->why, sizeof(out->why), "holds %s, mounted on %s", q.src, q.point);
		snprintf(out->fix, sizeof(out->fix), "unmount it");
		return 1;
	}
	if (each_line(u->swaps, swap_line, q.src)) {
		snprintf(out->why, sizeof(out->why), "holds %s, used as swap", q.src);
		snprintf(out->fix, sizeof(out->fix), "run 'swapoff %s'", q.src);
		return 1;
	}
	if (hostfs_path(path, sizeof(path), "%s/class/block/%s/holders", u->hp->sys, name) ||
	    list_dir(path, &holders, &n))
		return -1;
	if (n) {
		snprintf(out->why, sizeof(out->why), "holds %s, in use by %s", q.src, holders[0]);
		snprintf(out->fix, sizeof(out->fix),
			 "stop %s first (dmsetup remove, vgchange -an or mdadm --stop)", holders[0]);
	}
	names_free(holders, n);
	return n ? 1 : 0;
}

struct route_query {
	const char *ifname;
	bool up;		/* found */
};

/* /proc/net/route: "eth0 00000000 0102A8C0 0003 0 0 100 00000000 0 0 0". */
static bool route_line(const char *line, void *arg)
{
	struct route_query *q = arg;
	char iface[64], dest[16], mask[16];
	unsigned int flags;

	if (sscanf(line, "%63s %15s %*s %x %*s %*s %*s %15s", iface, dest, &flags, mask) != 4)
		return false;
	/* RTF_UP */
	q->up = !strcmp(iface, q->ifname) && !strcmp(dest, "00000000") &&
		!strcmp(mask, "00000000") && (flags & 0x1);
	return q->up;
}

/* /proc/net/ipv6_route: "DEST PLEN SRC SPLEN NEXTHOP METRIC REF USE FLAGS IFACE". */
static bool route6_line(const char *line, void *arg)
{
	struct route_query *q = arg;
	char dest[40], plen[4], iface[64];
	unsigned int flags;

	if (sscanf(line, "%39s %3s %*s %*s %*s %*s %*s %*s %x %63s", dest, plen, &flags,
		   iface) != 4)
		return false;
	/* up (RTF_UP), and not the kernel's "unreachable" default (RTF_REJECT) */
	q->up = !strcmp(iface, q->ifname) && !strcmp(plen, "00") &&
		!strcmp(dest, "00000000000000000000000000000000") && (flags & 0x1) &&
		!(flags & 0x200);
	return q->up;
}

/* Which default route interface @ifname carries: NULL for none. */
static const char *default_route(const struct host_use *u, const char *ifname)
{
	struct route_query q = { .ifname = ifname };

	if (each_line(u->route, route_line, &q))
		return "the default route";
	if (each_line(u->route6, route6_line, &q))
		return "the IPv6 default route";
	return NULL;
}

/*
 * @ifname, or an interface above it (a bridge, bond or VLAN: upper_*
 * links, a few levels up), that carries a default route: its name in @via.
 */
static const char *route_via(const struct host_use *u, const char *ifname, char *via,
			     size_t len, int depth)
{
	const char *r = default_route(u, ifname);
	char dir[4096], **names;
	int n;

	if (r) {
		snprintf(via, len, "%s", ifname);
		return r;
	}
	if (depth == 4 || hostfs_path(dir, sizeof(dir), "%s/class/net/%s", u->hp->sys, ifname) ||
	    list_dir(dir, &names, &n))
		return NULL;
	for (int i = 0; i < n && !r; i++)
		if (!strncmp(names[i], "upper_", 6))
			r = route_via(u, names[i] + 6, via, len, depth + 1);
	names_free(names, n);
	return r;
}

/* What the host uses device @addr for: 1 (said in @out), 0 nothing, -1 error. */
static int device_use(const struct host_use *u, const char *addr, struct use *out)
{
	char path[4096], devreal[PATH_MAX], via[64];

	if (dev_path(u->hp, addr, NULL, path, sizeof(path)))
		return -1;
	if (!realpath(path, devreal))
		return err_set_errno("cannot resolve %s", path);
	for (int i = 0; i < u->nblocks; i++) {
		int r;

		if (!class_below(u->hp, "block", u->blocks[i], devreal))
			continue;
		r = block_use(u, u->blocks[i], out);
		if (r)
			return r;
	}
	for (int i = 0; i < u->nnets; i++) {
		const char *route;

		if (!class_below(u->hp, "net", u->nets[i], devreal) ||
		    !(route = route_via(u, u->nets[i], via, sizeof(via), 0)))
			continue;
		if (!strcmp(via, u->nets[i]))
			snprintf(out->why, sizeof(out->why),
				 "is network interface %s, which carries %s", via, route);
		else
			snprintf(out->why, sizeof(out->why),
				 "is network interface %s, under %s, which carries %s",
				 u->nets[i], via, route);
		snprintf(out->fix, sizeof(out->fix), "move %s to another interface", route);
		return 1;
	}
	return 0;
}

/* ---- Checking, binding, giving back ---------------------------------------- */

int vfiobind_validate(const struct host_paths *hp, const struct plan *plan, bool force)
{
	struct bind_set set = { 0 };
	struct host_use u = { 0 };
	int ret = 0;

	if (!plan_has_devices(plan))
		return 0;
	if (!vfiobind_loaded(hp))
		return err_set("vfio-pci is not loaded, and apply gives the slices' PCI devices to it: run 'modprobe vfio-pci', then apply again");
	if (collect(hp, plan, &set, NULL) || (!force && use_load(&u, hp))) {
		free(set.d);
		return -1;
	}
	for (int i = 0; i < set.n && !ret; i++) {
		const struct bind_dev *d = &set.d[i];
		char driver[VFIO_NAME_MAX], override[VFIO_NAME_MAX];
		struct use use;
		int r;

		ret = vfiobind_driver(hp, d->addr, driver, sizeof(driver)) ||
		      read_override(hp, d->addr, override, sizeof(override)) ? -1 : 0;
		if (ret || force || !strcmp(driver, VFIO_PCI_DRIVER))
			continue;
		r = device_use(&u, d->addr, &use);
		if (r > 0)
			ret = err_set("slice %s: device %s %s: %s, or give --force", d->slice,
				      d->addr, use.why, use.fix);
		else if (r < 0)
			ret = -1;
	}
	use_free(&u);
	free(set.d);
	return ret;
}

/*
 * The binding itself, once recorded: driver_override first, so that
 * nothing but vfio-pci can take the device once its driver lets go.
 */
static int bind_steps(struct journal *j, void *arg)
{
	const struct vfio_record *r = arg;
	char now[VFIO_NAME_MAX];

	if (dev_write(j->hp, r->addr, "driver_override", VFIO_PCI_DRIVER)) {
		j->refused = true;	/* the first step: nothing changed */
		return -1;
	}
	if ((r->driver[0] && bus_write(j->hp, r->driver, "unbind", r->addr)) ||
	    bus_write(j->hp, NULL, "drivers_probe", r->addr) ||
	    vfiobind_driver(j->hp, r->addr, now, sizeof(now)))
		return -1;
	/* drivers_probe succeeds whether or not a driver took the device */
	if (strcmp(now, VFIO_PCI_DRIVER))
		return err_set("device %s did not bind to vfio-pci (%s%s): see the kernel log ('dmesg') for why",
			       r->addr, now[0] ? "it is on " : "it has no driver", now);
	return 0;
}

static void record_format(const struct vfio_record *r, char *buf, size_t len)
{
	snprintf(buf, len, "slice=%s driver=%s override=%s", r->slice, r->driver, r->override);
}

static int bind_one(struct journal *j, const struct bind_dev *d, const struct host_use *u,
		    struct notes *notes, FILE *out)
{
	struct vfio_record r = { 0 };
	char path[4096], old[256], what[128];
	struct use use;

	snprintf(r.addr, sizeof(r.addr), "%s", d->addr);
	snprintf(r.slice, sizeof(r.slice), "%s", d->slice);
	if (vfiobind_driver(j->hp, d->addr, r.driver, sizeof(r.driver)) ||
	    read_override(j->hp, d->addr, r.override, sizeof(r.override)))
		return -1;
	if (!strcmp(r.driver, VFIO_PCI_DRIVER)) {
		fprintf(out, "slice %s: device %s is on vfio-pci already: left as it is\n",
			d->slice, d->addr);
		return 0;
	}
	/* With --force, validation did not look: say what the host loses. */
	if (u && device_use(u, d->addr, &use) > 0)
		notes_add(notes, "slice %s: device %s %s: given to vfio-pci all the same (--force)",
			  d->slice, d->addr, use.why);
	record_format(&r, old, sizeof(old));
	snprintf(what, sizeof(what), "slice %s's device %s", d->slice, d->addr);
	if (dev_path(j->hp, d->addr, NULL, path, sizeof(path)))
		return -1;
	if (journal_steps(j, CHANGE_PCI_BIND, path, old, what, bind_steps, &r))
		return err_set("slice %s: %s", d->slice, err_msg());
	fprintf(out, "slice %s: device %s bound to vfio-pci (%s%s)\n", d->slice, d->addr,
		r.driver[0] ? "was on " : "had no driver", r.driver);
	return 0;
}

int vfiobind_apply(struct journal *j, const struct plan *plan, bool force,
		   struct notes *notes, FILE *out)
{
	struct bind_set set = { 0 };
	struct host_use u = { 0 };
	int ret = 0;

	if (!plan_has_devices(plan))
		return 0;
	if (collect(j->hp, plan, &set, out) || (force && use_load(&u, j->hp))) {
		free(set.d);
		return -1;
	}
	for (int i = 0; i < set.n && !ret; i++)
		ret = bind_one(j, &set.d[i], force ? &u : NULL, notes, out);
	use_free(&u);
	free(set.d);
	return ret;
}

int vfiobind_check(const struct host_paths *hp, const struct plan *plan)
{
	struct bind_set set = { 0 };
	char driver[VFIO_NAME_MAX];
	int ret;

	ret = collect(hp, plan, &set, NULL);
	for (int i = 0; i < set.n && !ret; i++) {
		ret = vfiobind_driver(hp, set.d[i].addr, driver, sizeof(driver));
		if (!ret && strcmp(driver, VFIO_PCI_DRIVER))
			ret = err_set("slice %s's device %s is %s%s, not on vfio-pci",
				      set.d[i].slice, set.d[i].addr,
				      driver[0] ? "on " : "without a driver", driver);
	}
	free(set.d);
	return ret;
}

/* Takes "KEY=VALUE" (VALUE up to a space) from *@p into @buf. */
static bool take(const char **p, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key), n;

	if (strncmp(*p, key, klen))
		return false;
	*p += klen;
	n = strcspn(*p, " ");
	if (n >= len)
		return false;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p += n;
	if (**p == ' ')
		(*p)++;
	return true;
}

int vfiobind_parse(const struct host_paths *hp, const struct ledger_change *c,
		   struct vfio_record *r)
{
	char prefix[4096], norm[PCI_ADDR_MAX];
	const char *p = c->old, *addr;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (c->kind != CHANGE_PCI_BIND || !p ||
	    hostfs_path(prefix, sizeof(prefix), "%s/bus/pci/devices/", hp->sys))
		return -1;
	n = strlen(prefix);
	addr = c->path + n;
	if (strncmp(c->path, prefix, n) || strlen(addr) >= PCI_ADDR_MAX ||
	    topology_pci_normalize(addr, norm) || strcmp(norm, addr))
		return -1;
	strcpy(r->addr, addr);
	if (!take(&p, "slice=", r->slice, sizeof(r->slice)) ||
	    !take(&p, "driver=", r->driver, sizeof(r->driver)) ||
	    !take(&p, "override=", r->override, sizeof(r->override)) || *p)
		return -1;
	return r->slice[0] && name_ok(r->slice, sizeof(r->slice)) &&
	       name_ok(r->driver, sizeof(r->driver)) &&
	       name_ok(r->override, sizeof(r->override)) ? 0 : -1;
}

/*
 * Gives device @r->addr back, from whatever state apply (or a kill) left:
 * off vfio-pci if it is there, driver_override as it was, and a reprobe
 * when it had a driver and has none. Its driver now in @now.
 */
static int give_back(const struct host_paths *hp, const struct vfio_record *r, char *now,
		     size_t len)
{
	if (vfiobind_driver(hp, r->addr, now, len))
		return -1;
	if (!strcmp(now, VFIO_PCI_DRIVER) && bus_write(hp, VFIO_PCI_DRIVER, "unbind", r->addr))
		return -1;
	/* A newline clears driver_override (an empty write() may never reach it). */
	if (dev_write(hp, r->addr, "driver_override", r->override[0] ? r->override : "\n") ||
	    vfiobind_driver(hp, r->addr, now, len))
		return -1;
	if (r->driver[0] && !now[0] &&
	    (bus_write(hp, NULL, "drivers_probe", r->addr) ||
	     vfiobind_driver(hp, r->addr, now, len)))
		return -1;
	return 0;
}

int vfiobind_undo(struct journal *j, const struct ledger_change *c, FILE *out)
{
	char now[VFIO_NAME_MAX];
	struct vfio_record r;

	if (vfiobind_parse(j->hp, c, &r)) {
		fprintf(out, "refused: %s (%s): '%s' is no record apply makes; the ledger was altered, so nothing else in it is trusted either\n",
			c->path, c->what, c->old ? c->old : "");
		j->forged++;
		return 0;
	}
	for (int i = 0; i < j->nheld; i++) {
		if (strcmp(j->held[i].name, r.slice))
			continue;
		fprintf(out, "kept: %s on vfio-pci (%s): VM %s still holds slice %s\n", r.addr,
			c->what, j->held[i].vm, r.slice);
		return 1;
	}
	if (!dev_present(j->hp, r.addr)) {
		fprintf(out, "not restored: %s (%s): the device is gone\n", r.addr, c->what);
		return 0;
	}
	if (give_back(j->hp, &r, now, sizeof(now))) {
		fprintf(out, "not restored: %s (%s): %s\n", r.addr, c->what, err_msg());
		return 0;
	}
	if (!strcmp(now, r.driver))
		fprintf(out, "%s is back %s%s\n", r.addr,
			r.driver[0] ? "on " : "without a driver, as before apply", r.driver);
	else
		fprintf(out, "not restored: %s (%s) is %s%s, not %s%s: see the kernel log ('dmesg'), then 'echo %s > /sys/bus/pci/drivers_probe'\n",
			r.addr, c->what, now[0] ? "on " : "without a driver", now,
			r.driver[0] ? "on " : "without a driver", r.driver, r.addr);
	return 0;
}
