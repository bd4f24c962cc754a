/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_PLANNER_H
#define SLICEVM_HOST_PLANNER_H

#include <stdio.h>

#include <json-c/json.h>

#include "host/plan.h"
#include "host/topology.h"

/*
 * Resolve a configuration (schema at the top of plan.c) against a topology
 * into a plan. Every rule is checked; the first violation fails with one
 * line in err_msg() naming the problem and the fix, and @plan is left
 * untouched. On success @plan is overwritten.
 */
int plan_resolve_file(const char *config_path, const struct topology *topo,
		      struct plan *plan);
int plan_resolve_json(json_object *config, const struct topology *topo,
		      struct plan *plan);

/*
 * Checks that a plan (say, from the ledger or made for another machine's
 * topology) holds on @topo: every rule of plan_resolve_json(), except that
 * memory need only fit in each node (no host reserve: that was the
 * planner's choice). 0, or -1 with err_msg() naming the first problem.
 */
int plan_check(const struct plan *plan, const struct topology *topo);


/* Human-readable plan: housekeeping and one line per slice. */
void plan_print_table(const struct plan *plan, FILE *out);

#endif
