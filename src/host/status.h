/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_STATUS_H
#define SLICEVM_HOST_STATUS_H

#include <stdio.h>

#include <json-c/json.h>

#include "host/hostfs.h"
#include "host/ledger.h"

/*
 * `slicevm host status`: the applied plan, each slice's partition as the
 * kernel reports it now, the VM holding it (alive or stale), and the
 * interrupts that landed on its CPUs since apply (the /proc/interrupts
 * snapshot apply recorded against the current one).
 *
 * Returns a JSON object (free with json_object_put), NULL on failure:
 * { "ledger", "state": "none"|"applying"|"applied"|"stale", "applied_at",
 *   "housekeeping", "notes": [..], "slices": [ { "name", "cpus", "node",
 *   "memory", "backing": "anon"|"hugetlb"|"reserved", "page_size" (hugetlb),
 *   "start", "end", "identity" (reserved; "end" is the last byte, inclusive,
 *   as in /proc/iomem),
 *   "cgroup", "partition", "holder": null | { "vm", "pid", "alive" },
 *   "devices": [ { "addr", "driver" (null: none), "was" (the driver apply
 *   took it from, "none" for none; only when apply bound it) } ],
 *   "interrupts_since_apply", "interrupts": [ { "irq", "desc", "count" } ]
 *   } ] }
 */
json_object *host_status(struct ledger *l, const struct host_paths *hp);

/* The same, for people. */
void host_status_print(json_object *status, FILE *out);

#endif
