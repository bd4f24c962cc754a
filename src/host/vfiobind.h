/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_VFIOBIND_H
#define SLICEVM_HOST_VFIOBIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "host/hostfs.h"
#include "host/journal.h"
#include "host/ledger.h"
#include "host/plan.h"

/*
 * A slice's PCI devices given to vfio-pci, so that a VM can own them.
 *
 * What is bound: every device a slice lists and every other device of
 * their IOMMU groups (VFIO hands out whole groups), except PCI bridges
 * (class 0x06), which the planner also lets a group keep on the host
 * (plan.c, check_group) and vfio-pci would not take.
 *
 * How, through sysfs (<sys>/bus/pci): "vfio-pci" into the device's
 * driver_override, the device's address into drivers/<its driver>/unbind,
 * then into drivers_probe, after which its driver link must name vfio-pci.
 * A device already on vfio-pci is left alone (and so is never given back).
 * One journal record (CHANGE_PCI_BIND, path <sys>/bus/pci/devices/<addr>)
 * is made before the first write, holding the slice, the driver and the
 * driver_override the device had; undoing it works from whatever state a
 * kill left: unbind from vfio-pci if bound there, driver_override back,
 * drivers_probe if the device had a driver and has none, then say whether
 * that driver took it back.
 */

#define VFIO_PCI_DRIVER	"vfio-pci"
#define VFIO_NAME_MAX	64	/* a driver name, with its NUL */

/* What undoing a binding needs: the CHANGE_PCI_BIND record's contents. */
struct vfio_record {
	char addr[PCI_ADDR_MAX];
	char slice[SLICE_NAME_MAX];
	char driver[VFIO_NAME_MAX];	/* the driver before apply; "" for none */
	char override[VFIO_NAME_MAX];	/* driver_override before; "" for "(null)" */
};

/*
 * Checks, changing nothing, that @plan's devices can be bound: vfio-pci is
 * loaded, each device exists and has an IOMMU group, its driver_override
 * is a driver name, and (unless @force) the host is not using it: a block
 * device below it mounted, used as swap or held (device mapper, md), or a
 * network interface below it (or a bridge or bond it is in) carrying the
 * IPv4 or IPv6 default route. Each refusal is one line with the fix. A
 * plan without devices passes whatever the host has.
 */
int vfiobind_validate(const struct host_paths *hp, const struct plan *plan, bool force);

/*
 * Binds @plan's devices through @j, one line each on @out; what --force
 * overrode goes to @notes. Fails when a device does not end up on vfio-pci
 * (the caller undoes the journal).
 */
int vfiobind_apply(struct journal *j, const struct plan *plan, bool force,
		   struct notes *notes, FILE *out);

/* For a plan applied already: fails, naming it, if a device left vfio-pci. */
int vfiobind_check(const struct host_paths *hp, const struct plan *plan);

/*
 * Undoes one CHANGE_PCI_BIND record @c (journal_undo()): 0 when done or
 * forgotten (a step the kernel refused is reported on @out, as is a record
 * apply never makes, counted in j->forged), 1 when kept: its slice is in
 * j->held.
 */
int vfiobind_undo(struct journal *j, const struct ledger_change *c, FILE *out);

/* Reads a CHANGE_PCI_BIND record back; -1 when it is not one apply makes. */
int vfiobind_parse(const struct host_paths *hp, const struct ledger_change *c,
		   struct vfio_record *r);

/*
 * The driver device @addr is bound to now, in @buf ("" for none). -1 when
 * the device does not exist (err_msg() says so).
 */
int vfiobind_driver(const struct host_paths *hp, const char *addr, char *buf, size_t len);

/* Is the vfio-pci driver loaded (<sys>/bus/pci/drivers/vfio-pci)? */
bool vfiobind_loaded(const struct host_paths *hp);

#endif
