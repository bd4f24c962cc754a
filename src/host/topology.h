/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_TOPOLOGY_H
#define SLICEVM_HOST_TOPOLOGY_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "lib/cpumask.h"
#include "host/plan.h"

/*
 * What the host is made of, as far as slicing it is concerned: packages,
 * NUMA nodes, cores (a core's cpus are its SMT siblings), and PCI devices
 * with their IOMMU groups. CPU numbers are Linux CPU numbers (hwloc PU
 * os_index); node and package ids are the kernel's numbers (os_index).
 *
 * CPUs, nodes and memory come from hwloc; PCI devices and IOMMU groups come
 * from sysfs (<root>/bus/pci/devices/<addr>/{vendor,device,class,numa_node,
 * iommu_group}), because hwloc does not know IOMMU groups.
 *
 * Arrays are sorted: packages and nodes by id, cores by their first CPU,
 * PCI devices by address.
 */

struct topo_package {
	int id;
	struct cpumask cpus;
};

struct topo_node {
	int id;
	uint64_t memory;		/* bytes of local memory */
	struct cpumask cpus;		/* may be empty (memory-only node) */
};

struct topo_core {
	struct cpumask cpus;		/* SMT siblings, at least one */
	int first_cpu;			/* lowest CPU of the core */
	int package;			/* package id, -1 when unknown */
	int node;			/* NUMA node id, -1 when unknown */
};

struct topo_pci {
	char addr[PCI_ADDR_MAX];	/* "0000:00:1f.3" */
	unsigned int vendor;		/* 0x8086 */
	unsigned int device;
	unsigned int class;		/* 24 bits: 0x020000 = Ethernet */
	int node;			/* NUMA node id, -1 when none */
	int iommu_group;		/* -1 when the device has none */
};

struct topology {
	char source[256];		/* "this host", "synthetic:...", or the XML path */
	struct cpumask cpus;		/* every CPU */
	int npackages;
	struct topo_package *packages;
	int nnodes;
	struct topo_node *nodes;
	int ncores;
	struct topo_core *cores;
	int npci;
	struct topo_pci *pci;
};

/*
 * @source: NULL for this host (hwloc, PCI from sysfs); "synthetic:<hwloc
 * synthetic description>" (e.g. "synthetic:pack:2 numa:1 core:16 pu:2") or
 * the path of an hwloc XML file (`lstopo --of xml`) for another machine.
 * Test sources never read the real /sys: they have PCI devices only when
 * the environment variable SLICEVM_SYSFS_ROOT names a (fake) sysfs tree.
 * For this host, SLICEVM_SYSFS_ROOT (default "/sys") is where PCI devices
 * are read. The environment variable SLICEVM_TOPOLOGY is not read here: the
 * CLI uses it as the default source.
 * Returns 0 and *out (free with topology_free()), or -1 with err_msg() set.
 */
int topology_load(struct topology **out, const char *source);
void topology_free(struct topology *t);

/*
 * Replaces @t's PCI devices with those found under @sysfs_root (the
 * directory that holds bus/pci/devices). A missing bus/pci/devices
 * directory means no PCI devices (0); unreadable entries fail (-1).
 */
int topology_load_pci(struct topology *t, const char *sysfs_root);

/* Lookups; NULL when absent. */
const struct topo_node *topology_node(const struct topology *t, int id);
const struct topo_core *topology_core_of(const struct topology *t, int cpu);
const struct topo_pci *topology_pci(const struct topology *t, const char *addr);

/* Node of a CPU, -1 when unknown. */
int topology_cpu_node(const struct topology *t, int cpu);

/* "0000:3:0.1" or "03:00.1" -> "0000:03:00.1" in @out. -1 if malformed. */
int topology_pci_normalize(const char *addr, char out[PCI_ADDR_MAX]);

/* `slicevm host probe` output. */
void topology_print_table(const struct topology *t, FILE *out);
json_object *topology_to_json(const struct topology *t);

#endif
