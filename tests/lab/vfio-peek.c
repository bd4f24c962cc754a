/*
 * vfio-peek: what VFIO (legacy container + type1 IOMMU) lets user space do
 * with one IOMMU group in the lab's L1, without a VM: the facts a VMM's
 * passthrough rests on.
 *
 *   vfio-peek GROUP [DEVICE]
 *
 * Opens /dev/vfio/GROUP and asks whether the group is viable (every device
 * in it on vfio-pci or on no driver); if so, a type1 container, a 2 MiB DMA
 * mapping at IOVA 0 (unmapped again), and with DEVICE (a PCI address) the
 * device fd: its regions, its vendor:device read from the config region and
 * how many MSI-X vectors it offers. One line on stdout:
 *   vfio-peek: group 2 viable type1v2 dma-map=ok device=0000:00:02.0 id=1b36:0010 regions=9 msix=65
 * Exit 0 when all of it worked, 2 when the group is not viable
 * ("vfio-peek: group N not viable"), 1 on any other failure (a line on
 * stderr naming the step). Built static by l0.sh (lab_tool).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "vfio-peek: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[64];
	int container, group, type;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: vfio-peek GROUP [DEVICE]\n");
		return 1;
	}
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		return die("open /dev/vfio/vfio");
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return die("VFIO_GET_API_VERSION");
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		return die(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &gs))
		return die("VFIO_GROUP_GET_STATUS");
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		printf("vfio-peek: group %s not viable\n", argv[1]);
		return 2;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return die("VFIO_GROUP_SET_CONTAINER");
	type = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1 ?
	       VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
	if (ioctl(container, VFIO_SET_IOMMU, type))
		return die("VFIO_SET_IOMMU");

	size_t len = 2u << 20;
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return die("mmap");
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .vaddr = (uintptr_t)buf, .iova = 0, .size = len,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
		return die("VFIO_IOMMU_MAP_DMA");
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap), .iova = 0, .size = len };
	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return die("VFIO_IOMMU_UNMAP_DMA");
	printf("vfio-peek: group %s viable %s dma-map=ok", argv[1],
	       type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1");

	if (argc == 3) {
		struct vfio_device_info di = { .argsz = sizeof(di) };
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_CONFIG_REGION_INDEX };
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX };
		uint16_t id[2];
		int dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);

		if (dev < 0)
			return printf("\n"), die("VFIO_GROUP_GET_DEVICE_FD");
		if (ioctl(dev, VFIO_DEVICE_GET_INFO, &di) ||
		    ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
		    pread(dev, id, sizeof(id), (off_t)ri.offset) != sizeof(id) ||
		    ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii))
			return printf("\n"), die("reading the device");
		printf(" device=%s id=%04x:%04x regions=%u msix=%u", argv[2], id[0], id[1],
		       di.num_regions, ii.count);
		close(dev);
	}
	printf("\n");
	return 0;
}
