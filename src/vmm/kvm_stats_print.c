// SPDX-License-Identifier: GPL-2.0
/* A VM's KVM statistics as JSON and as a kvm_stat-like table (see kvm_stats.h). */
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include "lib/err.h"
#include "vmm/kvm_stats.h"

/* One stat of the whole VM: the VM fd's, or a vCPU stat summed over vCPUs. */
struct vm_stat {
	const char *name;
	uint32_t flags;
	uint16_t size;
	bool from_vm;		/* the VM fd has it: vCPU stats of that name are ignored */
	uint64_t *val;		/* [size] */
};

struct vm_view {
	int n, cap;
	struct vm_stat *s;
};

static bool is_type(uint32_t flags, uint32_t type)
{
	return (flags & KVM_STATS_TYPE_MASK) == type;
}

static bool is_rate(const struct kvm_stat *s)
{
	return s->size == 1 && is_type(s->flags, KVM_STATS_TYPE_CUMULATIVE);
}

static void view_free(struct vm_view *v)
{
	for (int i = 0; i < v->n; i++)
		free(v->s[i].val);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

static struct vm_stat *view_find(const struct vm_view *v, const char *name)
{
	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->s[i].name, name))
			return &v->s[i];
	return NULL;
}

static struct vm_stat *view_add(struct vm_view *v, const struct kvm_stat *k, bool from_vm)
{
	struct vm_stat *s;

	if (v->n == v->cap) {
		int cap = v->cap ? 2 * v->cap : 64;
		struct vm_stat *ns = realloc(v->s, cap * sizeof(*ns));

		if (!ns)
			return NULL;
		v->s = ns;
		v->cap = cap;
	}
	s = &v->s[v->n];
	s->val = calloc(k->size, sizeof(uint64_t));
	if (!s->val)
		return NULL;
	s->name = k->name;
	s->flags = k->flags;
	s->size = k->size;
	s->from_vm = from_vm;
	v->n++;
	return s;
}

/* Adds one vCPU's stat into the VM's: peaks by maximum, everything else by sum. */
static int view_merge(struct vm_view *v, const struct kvm_stat *k)
{
	struct vm_stat *s = view_find(v, k->name);

	if (!s)
		s = view_add(v, k, false);
	if (!s)
		return -1;
	if (s->from_vm || s->size != k->size)
		return 0;
	for (int i = 0; i < k->size; i++) {
		if (is_type(k->flags, KVM_STATS_TYPE_PEAK))
			s->val[i] = k->value[i] > s->val[i] ? k->value[i] : s->val[i];
		else
			s->val[i] += k->value[i];
	}
	return 0;
}

/* The snapshot's per-VM stats (see kvm_stats_json). */
static int view_build(struct vm_view *v, const struct kvm_stats_snapshot *snap)
{
	const struct kvm_stat *k;
	struct vm_stat *s;

	memset(v, 0, sizeof(*v));
	if (snap->vm) {
		kvm_stats_for_each(k, snap->vm) {
			if (view_find(v, k->name))
				continue;
			s = view_add(v, k, true);
			if (!s)
				goto oom;
			memcpy(s->val, k->value, k->size * sizeof(uint64_t));
		}
	}
	for (int i = 0; i < snap->nvcpus; i++)
		kvm_stats_for_each(k, &snap->vcpus[i])
			if (view_merge(v, k))
				goto oom;
	return 0;
oom:
	view_free(v);
	return err_set("out of memory summing the KVM statistics of VM %s", snap->name);
}

/* (now - then) / dt, 0 when the counter went backwards (a new fd). */
static double rate(uint64_t now, uint64_t then, double dt)
{
	return now >= then ? (double)(now - then) / dt : 0.0;
}

static double interval(const struct kvm_stats_snapshot *cur,
		       const struct kvm_stats_snapshot *prev)
{
	return prev ? cur->time - prev->time : 0.0;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_object *values_json(const uint64_t *val, int size)
{
	json_object *arr;

	if (size == 1)
		return json_object_new_uint64(val[0]);
	arr = json_object_new_array_ext(size);
	for (int i = 0; i < size; i++)
		json_object_array_add(arr, json_object_new_uint64(val[i]));
	return arr;
}

static json_object *rate_json(double r)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.1f", r);
	return json_object_new_double_s(r, buf);
}

static json_object *view_json(const struct vm_view *v)
{
	json_object *o = json_object_new_object();

	for (int i = 0; i < v->n; i++)
		json_object_object_add(o, v->s[i].name, values_json(v->s[i].val, v->s[i].size));
	return o;
}

static json_object *view_rates_json(const struct vm_view *cur, const struct vm_view *prev,
				    double dt)
{
	json_object *o = json_object_new_object();

	for (int i = 0; i < cur->n; i++) {
		const struct vm_stat *s = &cur->s[i], *p = view_find(prev, s->name);

		if (s->size != 1 || !is_type(s->flags, KVM_STATS_TYPE_CUMULATIVE) ||
		    !p || p->size != 1)
			continue;
		json_object_object_add(o, s->name, rate_json(rate(s->val[0], p->val[0], dt)));
	}
	return o;
}

static json_object *vcpu_json(const struct kvm_stats *st)
{
	json_object *o = json_object_new_object();
	const struct kvm_stat *k;

	kvm_stats_for_each(k, st)
		if (!json_object_object_get_ex(o, k->name, NULL))
			json_object_object_add(o, k->name, values_json(k->value, k->size));
	return o;
}

static json_object *vcpu_rates_json(const struct kvm_stats *cur, const struct kvm_stats *prev,
				    double dt)
{
	json_object *o = json_object_new_object();
	const struct kvm_stat *k, *p;

	kvm_stats_for_each(k, cur) {
		if (!is_rate(k) || json_object_object_get_ex(o, k->name, NULL))
			continue;
		p = prev ? kvm_stats_find(prev, k->name) : NULL;
		if (p && p->size == 1)
			json_object_object_add(o, k->name, rate_json(rate(k->value[0],
									  p->value[0], dt)));
	}
	return o;
}

static json_object *rates_json(const struct kvm_stats_snapshot *cur,
			       const struct kvm_stats_snapshot *prev,
			       const struct vm_view *vcur, const struct vm_view *vprev)
{
	double dt = interval(cur, prev);
	json_object *o = json_object_new_object(), *arr = json_object_new_array();

	json_object_object_add(o, "interval", rate_json(dt));
	json_object_object_add(o, "vm", view_rates_json(vcur, vprev, dt));
	for (int i = 0; i < cur->nvcpus; i++)
		json_object_array_add(arr, vcpu_rates_json(&cur->vcpus[i],
							   i < prev->nvcpus ? &prev->vcpus[i] : NULL,
							   dt));
	json_object_object_add(o, "vcpus", arr);
	return o;
}

json_object *kvm_stats_json(const struct kvm_stats_snapshot *cur,
			    const struct kvm_stats_snapshot *prev)
{
	struct vm_view vcur, vprev = { 0 };
	json_object *o, *arr;

	if (view_build(&vcur, cur))
		return NULL;
	if (prev && interval(cur, prev) > 0 && view_build(&vprev, prev)) {
		view_free(&vcur);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(cur->name ? cur->name : ""));
	json_object_object_add(o, "time", rate_json(cur->time));
	json_object_object_add(o, "vm", view_json(&vcur));
	arr = json_object_new_array();
	for (int i = 0; i < cur->nvcpus; i++)
		json_object_array_add(arr, vcpu_json(&cur->vcpus[i]));
	json_object_object_add(o, "vcpus", arr);
	if (prev && interval(cur, prev) > 0)
		json_object_object_add(o, "per_second", rates_json(cur, prev, &vcur, &vprev));
	view_free(&vcur);
	view_free(&vprev);
	return o;
}

/* ---- The table ----------------------------------------------------------- */

struct row {
	int idx;		/* in the view: KVM's order breaks ties */
	uint64_t total;
	double rate;
	bool has_rate;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->idx - y->idx;
}

/* Scalar stats, busiest first (by rate, then total). */
static int table_rows(const struct vm_view *cur, const struct vm_view *prev, double dt,
		      bool all, struct row *rows)
{
	int n = 0;

	for (int i = 0; i < cur->n; i++) {
		const struct vm_stat *s = &cur->s[i];
		const struct vm_stat *p = prev ? view_find(prev, s->name) : NULL;
		struct row r = { .idx = i, .total = s->val[0] };

		if (s->size != 1)
			continue;
		if (p && p->size == 1 && is_type(s->flags, KVM_STATS_TYPE_CUMULATIVE)) {
			r.rate = rate(s->val[0], p->val[0], dt);
			r.has_rate = true;
		}
		if (!all && !r.total && !r.rate)
			continue;
		rows[n++] = r;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	return n;
}

/* One vCPU's cell: its rate with @prev, else its value. */
static void vcpu_cell(const struct kvm_stats_snapshot *cur,
		      const struct kvm_stats_snapshot *prev, int i, const char *name,
		      double dt, FILE *out)
{
	const struct kvm_stat *k = kvm_stats_find(&cur->vcpus[i], name), *p = NULL;

	if (!k || k->size != 1) {
		fprintf(out, " %10s", "-");
		return;
	}
	if (prev && i < prev->nvcpus)
		p = kvm_stats_find(&prev->vcpus[i], name);
	if (p && p->size == 1 && is_rate(k))
		fprintf(out, " %10.1f", rate(k->value[0], p->value[0], dt));
	else
		fprintf(out, " %10llu", (unsigned long long)k->value[0]);
}

static void table_print(const struct kvm_stats_snapshot *cur,
			const struct kvm_stats_snapshot *prev, const struct vm_view *v,
			const struct row *rows, int n, bool per_vcpu, FILE *out)
{
	double dt = interval(cur, prev);

	fprintf(out, "VM %s: %d vCPU%s", cur->name ? cur->name : "?", cur->nvcpus,
		cur->nvcpus == 1 ? "" : "s");
	if (prev)
		fprintf(out, ", rates over %.1f s", dt);
	fprintf(out, "\n %-32s %16s", "Event", "Total");
	if (prev)
		fprintf(out, " %12s", "Current/s");
	for (int i = 0; per_vcpu && i < cur->nvcpus; i++) {
		char col[16];

		snprintf(col, sizeof(col), "vcpu%d", i);
		fprintf(out, " %10s", col);
	}
	fputc('\n', out);
	for (int r = 0; r < n; r++) {
		fprintf(out, " %-32s %16llu", v->s[rows[r].idx].name,
			(unsigned long long)rows[r].total);
		if (rows[r].has_rate)
			fprintf(out, " %12.1f", rows[r].rate);
		else if (prev)
			fprintf(out, " %12s", "");
		for (int i = 0; per_vcpu && i < cur->nvcpus; i++)
			vcpu_cell(cur, prev, i, v->s[rows[r].idx].name, dt, out);
		fputc('\n', out);
	}
}

int kvm_stats_print(const struct kvm_stats_snapshot *cur,
		    const struct kvm_stats_snapshot *prev, bool per_vcpu, bool all,
		    FILE *out)
{
	struct vm_view vcur, vprev = { 0 };
	struct row *rows = NULL;
	int n, ret = -1;

	if (prev && interval(cur, prev) <= 0)
		prev = NULL;
	if (view_build(&vcur, cur))
		return -1;
	if (prev && view_build(&vprev, prev))
		goto out;
	rows = calloc(vcur.n ? vcur.n : 1, sizeof(*rows));
	if (!rows) {
		err_set("out of memory for the KVM statistics table");
		goto out;
	}
	n = table_rows(&vcur, prev ? &vprev : NULL, interval(cur, prev), all, rows);
	table_print(cur, prev, &vcur, rows, n, per_vcpu, out);
	ret = 0;
out:
	free(rows);
	view_free(&vcur);
	view_free(&vprev);
	return ret;
}
