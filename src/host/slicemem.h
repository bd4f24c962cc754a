/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_SLICEMEM_H
#define SLICEVM_HOST_SLICEMEM_H

#include <stddef.h>
#include <stdio.h>

#include "host/hostfs.h"
#include "host/plan.h"

/*
 * What apply checks and records of slice memory that only a boot can set
 * up: reserved ranges (memmap=) and hugepages.
 */

/*
 * Refuses @plan, with one line naming the boot parameter to add, unless
 * every reserved slice's range is exactly a top-level iomem reservation of
 * the kind its reserve_as makes ("Reserved" for memmap, "Persistent Memory
 * (legacy)" for pmem) sharing no byte with System RAM, and each node has
 * the free hugepages of each size its hugetlb slices need.
 */
int slicemem_validate(const struct host_paths *hp, const struct plan *plan);

/*
 * Gets each reserved slice kept as pmem ready for the VMM: its namespace
 * in device-dax mode (done once; it persists in the range). A note per
 * change on @out. Idempotent; refused with the module to load.
 */
int slicemem_prepare(const struct host_paths *hp, const struct plan *plan, FILE *out);

/*
 * The range file: <run>/memory.json, where <run> is /run/slicevm on a real
 * host and <root>/run/slicevm when @hp's /proc is <root>/proc (a test tree).
 */
int slicemem_file_path(const struct host_paths *hp, char *buf, size_t len);

/*
 * Writes the range file atomically (temp file, fsync, rename; mode 0644)
 * when @plan has hugetlb or reserved slices; changes nothing otherwise:
 *   {"slices": [{"name": "db", "backing": "reserved", "node": 0,
 *                "memory": 8589934592, "start": 4294967296,
 *                "end": 12884901887, "identity": true, "reserve_as": "memmap"},
 *               {"name": "web", "backing": "hugetlb", "node": 1,
 *                "memory": 4294967296, "page_size": 1073741824}]}
 * "end" is the last byte (inclusive), as in /proc/iomem.
 */
int slicemem_file_write(const struct host_paths *hp, const struct plan *plan);

/* Removes the range file; a missing one is no error. */
int slicemem_file_remove(const struct host_paths *hp);

#endif
