// SPDX-License-Identifier: GPL-2.0
/* `slicevm host apply` and `release`: making a plan real, and undoing it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/apply.h"
#include "host/cpuset.h"
#include "host/fairserver.h"
#include "host/irq.h"
#include "host/journal.h"
#include "host/physmem.h"
#include "host/planner.h"
#include "host/procstat.h"
#include "host/slicemem.h"
#include "host/vfiobind.h"
#include "lib/err.h"

static char *plan_text(const struct plan *plan)
{
	json_object *obj = plan_to_json(plan);
	char *text;

	if (!obj)
		return NULL;
	text = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	json_object_put(obj);
	if (!text)
		err_set("out of memory");
	return text;
}

/* The plan already applied is @plan: do its partitions still hold? */
static int check_still_applied(const struct host_paths *hp, const struct plan *plan)
{
	char state[256];

	for (int i = 0; i < plan->nslices; i++) {
		const char *name = plan->slices[i].name;

		if (cpuset_partition(hp, name, state, sizeof(state)))
			return err_set("the applied plan no longer holds (slice %s: %s): run 'slicevm host release', then apply again",
				       name, err_msg());
		if (!cpuset_partition_valid(state))
			return err_set("the applied plan no longer holds (slice %s's partition reads '%s'): run 'slicevm host release', then apply again",
				       name, state);
	}
	if (vfiobind_check(hp, plan))
		return err_set("the applied plan no longer holds (%s): run 'slicevm host release', then apply again",
			       err_msg());
	return 0;
}

/*
 * Something of this boot is recorded already. Returns 0 when it is @plan
 * and still in place (nothing to do), -1 to refuse.
 */
static int recorded_plan(const struct host_paths *hp, const struct plan *plan,
			 const struct ledger_applied *a)
{
	char *text;
	int same;

	if (a->state == LEDGER_APPLYING || a->state == LEDGER_RELEASING) {
		int alive = procstat_alive(hp->proc, a->pid, a->pid_start);

		if (alive < 0)
			return err_set("%s: the ledger is owned by an unfinished %s; try again once you know it has ended",
				       err_msg(), a->state == LEDGER_APPLYING ? "apply" : "release");
		if (alive && a->state == LEDGER_APPLYING)
			return err_set("another apply is running (pid %d): wait for it",
				       (int)a->pid);
		if (alive)
			return err_set("a release is running (pid %d): wait for it, then apply",
				       (int)a->pid);
	}
	if (a->state == LEDGER_APPLYING)
		return err_set("an earlier apply (pid %d) stopped half way: run 'slicevm host release' to undo it, then apply again",
			       (int)a->pid);
	if (a->state == LEDGER_RELEASING)
		return err_set("an earlier release (pid %d) stopped half way: run 'slicevm host release' to finish it, then apply again",
			       (int)a->pid);
	text = plan_text(plan);
	if (!text)
		return -1;
	same = !strcmp(text, a->plan_json);
	free(text);
	if (!same)
		return err_set("a different plan is applied: run 'slicevm host release' first");
	return check_still_applied(hp, plan);
}

/* Undoes a failed apply; keeps its error, saying what became of the host. */
static int roll_back(struct journal *j, FILE *out)
{
	char why[512];
	int r;

	snprintf(why, sizeof(why), "%s", err_msg());
	slicemem_file_remove(j->hp);
	r = journal_undo(j, out);
	if (r == 0 && ledger_forget(j->ledger) == 0)
		return err_set("%s (apply undone: nothing changed)", why);
	if (r > 0)
		return err_set("%s (apply partly undone: run 'slicevm host release')", why);
	return err_set("%s (undoing apply failed too: %s)", why, err_msg());
}

static int snapshot_interrupts(const struct host_paths *hp, char **text)
{
	char path[4096];

	if (hostfs_path(path, sizeof(path), "%s/interrupts", hp->proc))
		return -1;
	*text = hostfs_read_all(path);
	return *text ? 0 : -1;
}

static void print_notes(const struct notes *notes, FILE *out)
{
	const char *p = notes_text(notes);

	while (*p) {
		const char *end = strchr(p, '\n');

		fprintf(out, "note: %.*s\n", (int)(end - p), p);
		p = end + 1;
	}
}

static int make_real(struct journal *j, const struct plan *plan, bool force,
		     struct notes *notes, FILE *out)
{
	char *snap = NULL;
	int ret;

	/*
	 * Devices first: the IRQs of the drivers they leave go with them, so
	 * irq_apply() neither journals nor moves IRQs about to vanish, and
	 * release (newest first) gives the devices back last, once the
	 * default affinity is the host's again for their drivers' new IRQs.
	 * It is also the step most likely to be refused, so little is undone.
	 * Workqueues and the fair server before partitions: the first must be
	 * read, the second changed, before those exist.
	 */
	if (vfiobind_apply(j, plan, force, notes, out) ||
	    workqueue_apply(j, &plan->housekeeping, notes, out) ||
	    irq_apply(j, &plan->housekeeping, notes, out) ||
	    fair_server_apply(j, plan, notes, out) ||
	    cpuset_apply(j, plan, notes, out) ||
	    slicemem_file_write(j->hp, plan) ||
	    snapshot_interrupts(j->hp, &snap))
		return -1;
	ret = ledger_finish_apply(j->ledger, snap, notes_text(notes));
	free(snap);
	return ret;
}

int host_apply_open(struct ledger **l, const char *path, const struct host_paths *hp,
		    const struct plan *plan, bool force)
{
	char boot[64];
	int r;

	if (cpuset_check_v2(hp) || procstat_boot_id(hp->proc, boot, sizeof(boot)))
		return -1;
	r = ledger_open_existing(l, path);
	if (r <= 0)
		return r;
	/*
	 * No ledger yet, so no plan is applied: the plan must fit the host as
	 * it is. (With a ledger, host_apply() checks once it knows whether
	 * this plan is the one applied, whose CPUs are no longer free.)
	 */
	if (cpuset_validate(hp, plan) || slicemem_validate(hp, plan) ||
	    vfiobind_validate(hp, plan, force))
		return -1;
	return ledger_open(l, path);
}

int host_apply(struct ledger *l, const struct host_paths *hp, const struct plan *plan,
	       bool force, FILE *out)
{
	struct journal j = { .ledger = l, .hp = hp };
	struct notes notes = { 0 };
	struct ledger_applied a;
	char boot[64];
	uint64_t start;
	int r;

	if (cpuset_check_v2(hp) || procstat_boot_id(hp->proc, boot, sizeof(boot)))
		return -1;
	/* Decided and done in one transaction: a concurrent apply's record is safe. */
	r = ledger_forget_stale(l, boot);
	if (r < 0)
		return -1;
	if (r)
		fprintf(out, "note: forgetting the plan applied before the host rebooted\n");
	if (ledger_get_applied(l, &a))
		return -1;
	if (a.state != LEDGER_NONE) {
		r = recorded_plan(hp, plan, &a);
		ledger_applied_free(&a);
		if (!r)
			fprintf(out, "this plan is already applied: nothing changed\n");
		return r;
	}
	ledger_applied_free(&a);
	/* device-dax is set up before anything is journalled: it is no host value to undo */
	if (cpuset_validate(hp, plan) || slicemem_validate(hp, plan) ||
	    vfiobind_validate(hp, plan, force) || slicemem_prepare(hp, plan, out))
		return -1;
	if (procstat_start_time(hp->proc, getpid(), &start))
		return err_set("cannot read this process's start time under %s", hp->proc);
	if (ledger_begin_apply(l, plan, boot, getpid(), start))
		return -1;
	if (make_real(&j, plan, force, &notes, out)) {
		notes_free(&notes);
		return roll_back(&j, out);
	}
	print_notes(&notes, out);
	notes_free(&notes);
	fprintf(out, "applied %d slice%s (%d host values changed), recorded in %s\n",
		plan->nslices, plan->nslices == 1 ? "" : "s", j.changes, ledger_path(l));
	return 0;
}

/*
 * Marks the plan as being released (claims are refused from then on), in
 * the same transaction that checks no running VM holds a slice: checking
 * first and marking later would let a VM claim a slice in between, whose
 * partition release would then take apart under it. Returns 1 when nothing
 * is applied any more.
 */
static int begin_release(struct journal *j, bool force, struct ledger_holder **h,
			 FILE *out)
{
	uint64_t start;
	int r;

	if (procstat_start_time(j->hp->proc, getpid(), &start))
		return err_set("cannot read this process's start time under %s", j->hp->proc);
	r = ledger_begin_release(j->ledger, getpid(), start, force, h, &j->nheld);
	if (r)
		return r;
	for (int i = 0; i < j->nheld; i++)
		fprintf(out, "note: releasing slice %s under running VM %s (pid %d)\n",
			(*h)[i].name, (*h)[i].vm, (int)(*h)[i].pid);
	/* their devices stay on vfio-pci (journal.h) */
	j->held = *h;
	return 0;
}

static int finish_release(struct journal *j, FILE *out)
{
	struct ledger *l = j->ledger;
	int r = journal_undo(j, out);

	if (r < 0)
		return -1;
	if (r > 0)
		return err_set("release is incomplete (see 'kept' above): stop the VMs in those slices and run 'slicevm host release' again");
	if (ledger_forget(l) || slicemem_file_remove(j->hp))
		return -1;
	fprintf(out, "released: %d changes undone, the plan forgotten\n", j->undone);
	if (j->forged)
		return err_set("the ledger recorded %d change%s outside the places apply "
			       "changes (see 'refused' above): they were not undone; find "
			       "out who can write %s", j->forged, j->forged == 1 ? "" : "s",
			       ledger_path(l));
	return 0;
}

int host_release(struct ledger *l, const struct host_paths *hp, bool force, FILE *out)
{
	struct journal j = { .ledger = l, .hp = hp };
	struct ledger_holder *held = NULL;
	char boot[64];
	int r;

	if (procstat_boot_id(hp->proc, boot, sizeof(boot)))
		return -1;
	/* The recorded values belong to the earlier boot: never write them back. */
	r = ledger_forget_stale(l, boot);
	if (r < 0)
		return -1;
	if (r) {
		fprintf(out, "the plan was applied before the host rebooted, which reset what apply changed: forgot it\n");
		return 0;
	}
	r = begin_release(&j, force, &held, out);
	if (r < 0)
		return -1;
	if (r > 0) {
		fprintf(out, "nothing is applied: nothing to release\n");
		return 0;
	}
	r = finish_release(&j, out);
	free(held);
	return r;
}

/*
 * Gives this host's reserved slices their ranges (physmem.h). hwloc counts
 * a node's memory without what memmap= reserved at boot, so the plan is
 * resolved again with those reservations given back to their nodes: the
 * same configuration then gives the same plan before and after the reboot
 * that reserves its ranges.
 */
int host_place_reserved(const char *config, struct topology *topo, struct plan *plan)
{
	int only = topo->nnodes == 1 ? topo->nodes[0].id : -1;
	struct physmem pm;
	bool grown = false;
	int ret;

	if (physmem_load(&pm, "/sys", "/proc", only))
		return -1;
	for (int n = 0; n < topo->nnodes; n++) {
		uint64_t r = physmem_reserved_on_node(&pm, topo->nodes[n].id);

		topo->nodes[n].memory += r;
		grown |= r != 0;
	}
	ret = (grown && plan_resolve_file(config, topo, plan)) ||
	      physmem_place(&pm, plan) ? -1 : 0;
	physmem_free(&pm);
	return ret;
}

int host_resolve_plan(const char *config, const char *source, struct plan *plan)
{
	struct topology *topo;
	int ret;

	if (topology_load(&topo, source))
		return -1;
	ret = plan_resolve_file(config, topo, plan);
	/* Another machine's topology: its ranges are chosen on it. */
	if (!ret && !source && plan_has_reserved(plan))
		ret = host_place_reserved(config, topo, plan);
	topology_free(topo);
	return ret;
}
