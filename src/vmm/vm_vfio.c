// SPDX-License-Identifier: GPL-2.0
/*
 * The slice's PCI functions, opened for the VM: which ones (--device, or
 * all the slice holds but bridges), the checks that give each mistake its
 * own line (vfio/sysfs.h), the VFIO container and devices, and guest RAM
 * mapped for their DMA. The devices themselves join the guest's bus in
 * vm_devices.c.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/size.h"
#include "vfio/container.h"
#include "vfio/device.h"
#include "vfio/sysfs.h"
#include "vmm/vm.h"

#define SYSFS	"/sys"

static bool in_slice(const struct vm *vm, const char *addr)
{
	for (int i = 0; i < vm->nslice_devices; i++)
		if (!strcmp(vm->slice_devices[i], addr))
			return true;
	return false;
}

/* The VM's devices: those --device names, each the slice's, else all of the slice's endpoints. */
static int choose_devices(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	for (int i = 0; i < cfg->ndevices; i++) {
		if (!in_slice(vm, cfg->devices[i]))
			return err_set("PCI device %s is not in slice %s: give one of its devices "
				       "(%s%s) or add it to the slice's \"devices\" and apply the "
				       "plan again", cfg->devices[i], cfg->slice,
				       vm->nslice_devices ? vm->slice_devices[0] : "it has none",
				       vm->nslice_devices > 1 ? ", ..." : "");
		memcpy(vm->passthrough[vm->npassthrough++], cfg->devices[i], VM_PCI_ADDR_MAX);
	}
	if (cfg->ndevices)
		return 0;
	for (int i = 0; i < vm->nslice_devices; i++)
		if (!vfio_sysfs_is_bridge(SYSFS, vm->slice_devices[i]))
			memcpy(vm->passthrough[vm->npassthrough++], vm->slice_devices[i],
			       VM_PCI_ADDR_MAX);
	return 0;
}

int vm_vfio_open(struct vm *vm)
{
	int groups[VM_MAX_DEVICES];

	if (!vm->in_slice)
		return 0;
	if (choose_devices(vm))
		return -1;
	if (!vm->npassthrough)
		return 0;
	/* every device checked before VFIO is asked for any */
	for (int i = 0; i < vm->npassthrough; i++) {
		groups[i] = vfio_sysfs_check(SYSFS, vm->passthrough[i], vm->cfg->slice,
					     (const char (*)[16])vm->slice_devices,
					     vm->nslice_devices);
		if (groups[i] < 0)
			return -1;
	}
	vm->vfio = calloc(1, sizeof(*vm->vfio));
	if (!vm->vfio)
		return err_set("out of memory for VFIO");
	vm->vfio->fd = -1;
	if (vfio_container_open(vm->vfio))
		return -1;
	for (int i = 0; i < vm->npassthrough; i++) {
		vm->vfio_devs[i] = vfio_device_open(vm->vfio, groups[i], vm->passthrough[i]);
		if (!vm->vfio_devs[i])
			return -1;
	}
	return 0;
}

int vm_vfio_map(struct vm *vm)
{
	const struct guest_mem *mem = &vm->ram.layout;
	char size[32], page[32];

	if (!vm->vfio)
		return 0;
	if (vfio_container_map_ram(vm->vfio, mem))
		return -1;
	fprintf(stderr, "slicevm: guest RAM mapped for DMA: %d IOMMU mapping%s of %s in all, "
		"pages up to %s, IOVA = guest-physical%s\n", vm->vfio->nmaps,
		vm->vfio->nmaps == 1 ? "" : "s", size_format(vm->vfio->mapped, size, sizeof(size)),
		size_format(vm->vfio->max_page, page, sizeof(page)),
		guest_mem_identity_bytes(mem) ? " (= host-physical for the reserved range)" : "");
	return 0;
}

void vm_vfio_close(struct vm *vm)
{
	for (int i = 0; i < vm->npassthrough; i++) {
		vfio_device_close(vm->vfio_devs[i]);
		vm->vfio_devs[i] = NULL;
	}
	if (vm->vfio) {
		vfio_container_close(vm->vfio);
		free(vm->vfio);
		vm->vfio = NULL;
	}
}
