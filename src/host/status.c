// SPDX-License-Identifier: GPL-2.0
/* `slicevm host status` (see status.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/cpuset.h"
#include "host/interrupts.h"
#include "host/procstat.h"
#include "host/status.h"
#include "host/vfiobind.h"
#include "lib/err.h"

/* Lines shown per slice in the table; JSON has them all. */
#define STATUS_TOP_IRQS	5

static json_object *mask_json(const struct cpumask *m)
{
	char buf[CPULIST_MAX];

	return json_object_new_string(cpumask_format_list(m, buf, sizeof(buf)));
}

static json_object *notes_json(const char *notes)
{
	json_object *arr = json_object_new_array();

	while (notes && *notes) {
		const char *end = strchr(notes, '\n');
		size_t n = end ? (size_t)(end - notes) : strlen(notes);

		json_object_array_add(arr, json_object_new_string_len(notes, (int)n));
		notes += n + (end ? 1 : 0);
	}
	return arr;
}

static json_object *holder_json(const struct ledger_holder *h)
{
	json_object *o;

	if (!h || !h->held)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "vm", json_object_new_string(h->vm));
	json_object_object_add(o, "pid", json_object_new_int(h->pid));
	json_object_object_add(o, "alive", json_object_new_boolean(h->alive));
	if (h->unsure)
		json_object_object_add(o, "unknown", json_object_new_string(h->why));
	json_object_object_add(o, "claimed_at", json_object_new_int64(h->claimed_at));
	return o;
}

static void add_interrupts(json_object *o, const struct irq_table *then,
			   const struct irq_table *now, const struct cpumask *cpus)
{
	json_object *arr;
	uint64_t total = 0;

	if (!then || !now || !(arr = interrupts_diff_json(then, now, cpus, &total)))
		return;
	json_object_object_add(o, "interrupts_since_apply", json_object_new_int64((int64_t)total));
	json_object_object_add(o, "interrupts", arr);
}

/* "backing" and, for reserved slices, the range ("end" inclusive, as /proc/iomem). */
static void add_memory(json_object *o, const struct slice *s)
{
	json_object_object_add(o, "memory", json_object_new_int64((int64_t)s->memory));
	json_object_object_add(o, "backing",
			       json_object_new_string(slice_backing_name(s->backing)));
	if (s->backing == BACKING_HUGETLB)
		json_object_object_add(o, "page_size",
				       json_object_new_int64((int64_t)slice_hugepage_size(s)));
	if (s->backing != BACKING_RESERVED || !s->phys_start)
		return;
	json_object_object_add(o, "start", json_object_new_int64((int64_t)s->phys_start));
	json_object_object_add(o, "end",
			       json_object_new_int64((int64_t)(s->phys_start + s->memory - 1)));
	json_object_object_add(o, "identity", json_object_new_boolean(s->identity));
}

/* The devices apply gave to vfio-pci, from the journal: what each was on. */
struct bound {
	int n;
	struct vfio_record *r;
};

static int load_bound(struct ledger *l, const struct host_paths *hp, struct bound *b)
{
	struct ledger_change *c;
	int n;

	memset(b, 0, sizeof(*b));
	if (ledger_changes(l, &c, &n))
		return -1;
	b->r = calloc((size_t)n + 1, sizeof(*b->r));
	if (!b->r) {
		ledger_changes_free(c, n);
		return err_set("out of memory");
	}
	for (int i = 0; i < n; i++)
		if (c[i].kind == CHANGE_PCI_BIND && vfiobind_parse(hp, &c[i], &b->r[b->n]) == 0)
			b->n++;
	ledger_changes_free(c, n);
	return 0;
}

/* "devices": [ { "addr", "driver" (null: none), "was" (when apply bound it) } ] */
static json_object *devices_json(const struct host_paths *hp, const struct slice *s,
				 const struct bound *b)
{
	json_object *arr = json_object_new_array();
	char driver[VFIO_NAME_MAX];

	for (int i = 0; i < s->ndevices; i++) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "addr", json_object_new_string(s->devices[i]));
		if (vfiobind_driver(hp, s->devices[i], driver, sizeof(driver)) == 0 && driver[0])
			json_object_object_add(d, "driver", json_object_new_string(driver));
		else
			json_object_object_add(d, "driver", NULL);
		for (int k = 0; k < b->n; k++)
			if (!strcmp(b->r[k].addr, s->devices[i]))
				json_object_object_add(d, "was", json_object_new_string(
						       b->r[k].driver[0] ? b->r[k].driver : "none"));
		json_object_array_add(arr, d);
	}
	return arr;
}

static json_object *slice_json(const struct host_paths *hp, const struct slice *s,
			       const struct ledger_holder *h, const struct irq_table *then,
			       const struct irq_table *now, const struct bound *b)
{
	json_object *o = json_object_new_object();
	char dir[4096], state[256];

	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "cpus", mask_json(&s->cpus));
	json_object_object_add(o, "node", json_object_new_int(s->node));
	add_memory(o, s);
	if (cpuset_slice_dir(hp->cgroup, s->name, dir, sizeof(dir)) == 0)
		json_object_object_add(o, "cgroup", json_object_new_string(dir));
	if (cpuset_partition(hp, s->name, state, sizeof(state)))
		snprintf(state, sizeof(state), "missing");
	json_object_object_add(o, "partition", json_object_new_string(state));
	json_object_object_add(o, "holder", holder_json(h));
	json_object_object_add(o, "devices", devices_json(hp, s, b));
	add_interrupts(o, then, now, &s->cpus);
	return o;
}

static const struct ledger_holder *holder_of(const struct ledger_holder *h, int n,
					     const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(h[i].name, name))
			return &h[i];
	return NULL;
}

/* Both interrupt tables, or neither (status still works without them). */
static void load_tables(const struct host_paths *hp, const char *snapshot,
			struct irq_table *then, struct irq_table *now, bool *ok)
{
	char path[4096];
	char *text;

	*ok = false;
	if (!snapshot || interrupts_parse(snapshot, then))
		return;
	if (hostfs_path(path, sizeof(path), "%s/interrupts", hp->proc) ||
	    !(text = hostfs_read_all(path))) {
		interrupts_free(then);
		return;
	}
	if (interrupts_parse(text, now) == 0)
		*ok = true;
	else
		interrupts_free(then);
	free(text);
}

static int fill_applied(json_object *st, struct ledger *l, const struct host_paths *hp,
			const struct ledger_applied *a, const struct plan *plan)
{
	struct irq_table then, now;
	struct ledger_holder *h;
	json_object *slices;
	struct bound b;
	bool tables;
	int n;

	if (ledger_holders(l, &h, &n))
		return -1;
	if (load_bound(l, hp, &b)) {
		free(h);
		return -1;
	}
	load_tables(hp, a->interrupts, &then, &now, &tables);
	json_object_object_add(st, "applied_at", json_object_new_int64(a->applied_at));
	json_object_object_add(st, "housekeeping", mask_json(&plan->housekeeping));
	json_object_object_add(st, "notes", notes_json(a->notes));
	slices = json_object_new_array();
	for (int i = 0; i < plan->nslices; i++)
		json_object_array_add(slices, slice_json(hp, &plan->slices[i],
					holder_of(h, n, plan->slices[i].name),
					tables ? &then : NULL, tables ? &now : NULL, &b));
	json_object_object_add(st, "slices", slices);
	if (tables) {
		interrupts_free(&then);
		interrupts_free(&now);
	}
	free(b.r);
	free(h);
	return 0;
}

json_object *host_status(struct ledger *l, const struct host_paths *hp)
{
	static const char *const names[] = {
		[LEDGER_NONE] = "none", [LEDGER_APPLYING] = "applying",
		[LEDGER_APPLIED] = "applied", [LEDGER_RELEASING] = "releasing",
	};
	json_object *st = json_object_new_object();
	struct ledger_applied a;
	struct plan *plan = NULL;
	char boot[64];
	const char *state;

	if (ledger_get_applied(l, &a))
		goto fail;
	json_object_object_add(st, "ledger", json_object_new_string(ledger_path(l)));
	state = names[a.state];
	if (a.state != LEDGER_NONE && procstat_boot_id(hp->proc, boot, sizeof(boot)) == 0 &&
	    strcmp(boot, a.boot_id))
		state = "stale";	/* applied before the last reboot */
	json_object_object_add(st, "state", json_object_new_string(state));
	if (a.state != LEDGER_NONE) {
		plan = malloc(sizeof(*plan));
		if (!plan) {
			err_set("out of memory");
			goto fail_applied;
		}
		if (ledger_applied_plan(l, plan) || fill_applied(st, l, hp, &a, plan))
			goto fail_applied;
	}
	free(plan);
	ledger_applied_free(&a);
	return st;
fail_applied:
	free(plan);
	ledger_applied_free(&a);
fail:
	json_object_put(st);
	return NULL;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static void print_holder(json_object *holder, FILE *out)
{
	const char *unknown = str(holder, "unknown");

	fprintf(out, "held by VM %s (pid %s, %s%s)\n", str(holder, "vm"), str(holder, "pid"),
		*unknown ? "taken as running: " : !strcmp(str(holder, "alive"), "true") ?
		"running" : "gone: stale", unknown);
}

/* "    devices: 0000:03:00.0 vfio-pci (was nvme), 0000:04:00.0 e1000e" */
static void print_devices(json_object *s, FILE *out)
{
	json_object *devs, *was;

	if (!json_object_object_get_ex(s, "devices", &devs) || !json_object_array_length(devs))
		return;
	fprintf(out, "    devices:");
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i), *driver;

		fprintf(out, "%s %s %s", i ? "," : "", str(d, "addr"),
			json_object_object_get_ex(d, "driver", &driver) && driver ?
			json_object_get_string(driver) : "(no driver)");
		if (json_object_object_get_ex(d, "was", &was))
			fprintf(out, " (was %s)", json_object_get_string(was));
	}
	fputc('\n', out);
}

static void print_slice(json_object *s, FILE *out)
{
	json_object *holder, *irqs, *total, *start, *end;

	fprintf(out, "  %-12s cpus %-8s partition %-10s memory %-8s", str(s, "name"),
		str(s, "cpus"), str(s, "partition"), str(s, "backing"));
	if (json_object_object_get_ex(s, "start", &start) &&
	    json_object_object_get_ex(s, "end", &end))
		fprintf(out, " 0x%llx-0x%llx", (unsigned long long)json_object_get_int64(start),
			(unsigned long long)json_object_get_int64(end));
	fputc(' ', out);
	if (json_object_object_get_ex(s, "holder", &holder) && holder)
		print_holder(holder, out);
	else
		fprintf(out, "free\n");
	print_devices(s, out);
	if (!json_object_object_get_ex(s, "interrupts_since_apply", &total))
		return;
	fprintf(out, "    interrupts on its CPUs since apply: %s\n",
		json_object_get_string(total));
	json_object_object_get_ex(s, "interrupts", &irqs);
	for (size_t i = 0; i < json_object_array_length(irqs) && i < STATUS_TOP_IRQS; i++) {
		json_object *e = json_object_array_get_idx(irqs, i);

		fprintf(out, "      %8s  %-5s %s\n", str(e, "count"), str(e, "irq"),
			str(e, "desc"));
	}
}

void host_status_print(json_object *st, FILE *out)
{
	json_object *slices, *notes;
	const char *state = str(st, "state");

	fprintf(out, "ledger: %s\n", str(st, "ledger"));
	if (!strcmp(state, "none")) {
		fprintf(out, "no plan is applied\n");
		return;
	}
	if (!strcmp(state, "stale"))
		fprintf(out, "state: stale (applied before the last reboot): run 'slicevm host release'\n");
	else if (!strcmp(state, "applying"))
		fprintf(out, "state: applying (or an apply died half way: run 'slicevm host release')\n");
	else if (!strcmp(state, "releasing"))
		fprintf(out, "state: releasing (or a release stopped half way: run 'slicevm host release')\n");
	else {
		time_t t = (time_t)json_object_get_int64(json_object_object_get(st, "applied_at"));
		char when[64];

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
		fprintf(out, "state: applied at %s\n", when);
	}
	fprintf(out, "housekeeping cpus: %s\nslices:\n", str(st, "housekeeping"));
	if (json_object_object_get_ex(st, "slices", &slices))
		for (size_t i = 0; i < json_object_array_length(slices); i++)
			print_slice(json_object_array_get_idx(slices, i), out);
	if (json_object_object_get_ex(st, "notes", &notes))
		for (size_t i = 0; i < json_object_array_length(notes); i++)
			fprintf(out, "note: %s\n",
				json_object_get_string(json_object_array_get_idx(notes, i)));
}
