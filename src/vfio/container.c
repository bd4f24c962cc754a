// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "lib/err.h"
#include "vfio/container.h"

static const char *vfio_dir(void)
{
	const char *dir = getenv("SLICEVM_VFIO_DIR");

	return dir && *dir ? dir : "/dev/vfio";
}

int vfio_container_open(struct vfio_container *c)
{
	char path[256];

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/vfio", vfio_dir());
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		if (errno == ENOENT)
			return err_set("%s is missing: VFIO is not loaded; run 'modprobe vfio-pci'",
				       path);
		return err_set_errno("cannot open %s (run as root, or give the user access to it)",
				     path);
	}
	if (ioctl(c->fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return err_set("%s speaks another VFIO API than version %d: this kernel is not "
			       "supported", path, VFIO_API_VERSION);
	if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		return err_set("VFIO has no type1 IOMMU driver: run 'modprobe vfio_iommu_type1'");
	return 0;
}

/* The IOMMU's page sizes and valid IOVA ranges, from the info's capability chain. */
static int read_limits(struct vfio_container *c)
{
	struct vfio_iommu_type1_info *info;
	size_t len = sizeof(*info);
	int ret = 0;

	info = calloc(1, len);
	for (int pass = 0; pass < 2 && info; pass++) {
		info->argsz = (uint32_t)len;
		if (ioctl(c->fd, VFIO_IOMMU_GET_INFO, info)) {
			free(info);
			return err_set_errno("VFIO_IOMMU_GET_INFO failed");
		}
		if (info->argsz <= len)
			break;
		len = info->argsz;	/* the capabilities need more room */
		free(info);
		info = calloc(1, len);
	}
	if (!info)
		return err_set("out of memory for the IOMMU's description");
	if (info->flags & VFIO_IOMMU_INFO_PGSIZES)
		c->limits.pgsizes = info->iova_pgsizes;
	if ((info->flags & VFIO_IOMMU_INFO_CAPS) && info->cap_offset) {
		uint32_t off = info->cap_offset;

		while (off && off + sizeof(struct vfio_info_cap_header) <= len) {
			struct vfio_info_cap_header *h = (void *)((char *)info + off);

			if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
				struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;

				if (r->nr_iovas > DMA_RANGES_MAX) {
					ret = err_set("the IOMMU has %u IOVA ranges, more than "
						      "slicevm handles (%d)", r->nr_iovas,
						      DMA_RANGES_MAX);
					break;
				}
				for (uint32_t i = 0; i < r->nr_iovas; i++)
					c->limits.ranges[i] = (struct dma_range){
						r->iova_ranges[i].start, r->iova_ranges[i].end };
				c->limits.nranges = (int)r->nr_iovas;
			}
			off = h->next;
		}
	}
	free(info);
	return ret;
}

static int add_group(struct vfio_container *c, int group, const char *addr)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[256];
	int fd;

	if (c->ngroups == VFIO_GROUPS_MAX)
		return err_set("more than %d IOMMU groups: give the VM fewer devices",
			       VFIO_GROUPS_MAX);
	snprintf(path, sizeof(path), "%s/%d", vfio_dir(), group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set("%s (IOMMU group %d of %s) is missing: bind it to vfio-pci "
				       "with 'slicevm host apply'", path, group, addr);
		if (errno == EBUSY)
			return err_set("IOMMU group %d of %s is in use by another program "
				       "(another VM?): stop it first", group, addr);
		return err_set_errno("cannot open %s (IOMMU group of %s)", path, addr);
	}
	c->group_ids[c->ngroups] = group;
	c->group_fds[c->ngroups++] = fd;
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st))
		return err_set_errno("VFIO_GROUP_GET_STATUS of group %d failed", group);
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return err_set("IOMMU group %d of %s is not viable: every device in "
			       "/sys/kernel/iommu_groups/%d/devices must be on vfio-pci (or "
			       "no driver); run 'slicevm host apply'", group, addr, group);
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &c->fd))
		return err_set_errno("cannot put IOMMU group %d in a VFIO container", group);
	if (c->ngroups > 1)
		return 0;
	if (ioctl(c->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return err_set_errno("cannot set up the type1 IOMMU for group %d", group);
	return read_limits(c);
}

int vfio_container_group(struct vfio_container *c, int group, const char *addr)
{
	for (int i = 0; i < c->ngroups; i++)
		if (c->group_ids[i] == group)
			return c->group_fds[i];
	if (add_group(c, group, addr))
		return -1;
	return c->group_fds[c->ngroups - 1];
}

int vfio_container_map_ram(struct vfio_container *c, const struct guest_mem *mem)
{
	struct dma_map maps[MEM_REGIONS_MAX];
	int n = dma_maps_build(mem, &c->limits, maps);

	for (int i = 0; i < n; i++) {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)maps[i].host,
			.iova = maps[i].iova,
			.size = maps[i].size,
		};

		if (ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &m))
			return err_set_errno("cannot map guest RAM %#llx-%#llx for DMA (is the "
					     "locked-memory limit, ulimit -l, large enough?)",
					     (unsigned long long)m.iova,
					     (unsigned long long)(m.iova + m.size - 1));
		c->nmaps++;
		c->mapped += maps[i].size;
		if (maps[i].page > c->max_page)
			c->max_page = maps[i].page;
	}
	return n < 0 ? -1 : 0;
}

void vfio_container_close(struct vfio_container *c)
{
	for (int i = 0; i < c->ngroups; i++)
		close(c->group_fds[i]);
	c->ngroups = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
