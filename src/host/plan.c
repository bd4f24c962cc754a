// SPDX-License-Identifier: GPL-2.0
/*
 * The planner: a configuration plus a topology gives a plan, or one line
 * saying what is wrong and how to fix it. Nothing here changes the host.
 *
 * Configuration (a JSON object; every key is optional except "slices", and
 * unknown keys are refused at every level):
 *
 *   "housekeeping": {"cores_per_node": N}    the first N cores of each NUMA
 *                                            node that has CPUs (default 1)
 *                 | {"cpus": "0,16"}         exactly these CPUs (whole cores)
 *   "allow_spanning": false                  true lets one slice take CPUs
 *                                            (and so memory) of several nodes
 *   "host_reserve": "1G" | "5%"              memory per node that slices never
 *                                            get; default: 1G or 5% of the
 *                                            node, whichever is larger
 *   "slices": N                              N slices with every default
 *           | [ SLICE, ... ]
 *
 *   SLICE = {
 *     "name": "db",              1-31 of [A-Za-z0-9_.-], starting with a
 *                                letter or digit; default "slice<index>"
 *     "cpus": "2-5,18-21"        exactly these CPUs, whole cores only
 *           | 4                  this many CPUs (SMT threads), whole cores
 *     "cores": 2                 this many cores (instead of "cpus")
 *     "memory": "8G" | 8589934592   a multiple of 2M
 *     "node": 0                  the NUMA node for its CPUs and memory
 *     "devices": ["0000:03:00.0"]   PCI devices, each with its whole
 *                                IOMMU group
 *     "backing": "anon"          where its memory comes from (default):
 *                                anonymous memory bound to the node; works
 *                                without a reboot, but the host still owns
 *                                it (reclaim, compaction, THP, NUMA balancing)
 *              | "hugetlb"       hugepages the host reserves on the node at
 *                                boot (1G pages when "memory" is a multiple
 *                                of 1G, else 2M): never swapped or moved
 *              | "reserved"      one range of physical memory the host kernel
 *                                never uses (memmap= at boot): the slice's
 *                                alone. hugetlb and reserved are what make
 *                                slice memory really the slice's; both need
 *                                the boot parameters of 'slicevm host bootargs'
 *     "identity": true           reserved only (default true): the guest sees
 *                                its RAM at guest-physical == host-physical
 *     "phys_start": "0x100000000"   reserved only: pin the range's start
 *                                (a multiple of 2M; 1G recommended); by
 *                                default it is chosen on the host from the
 *                                firmware memory map (physmem.h)
 *     "reserve_as": "pmem"       reserved only: memmap=SIZE!START, legacy pmem
 *                                that apply puts in device-dax mode (default:
 *                                KVM maps it with 2M pages), or "memmap":
 *                                memmap=SIZE$START through /dev/mem (4K)
 *   }
 *
 * Resolution, in this order:
 *  1. housekeeping cores;
 *  2. slices with a CPU list take exactly those CPUs;
 *  3. slices with a count ("cpus": N or "cores": N) take the lowest free
 *     cores of their "node", or else of the node with the most free cores
 *     (ties: lowest id); with allow_spanning, a count no node can hold alone
 *     takes free cores in CPU order across nodes;
 *  4. slices with neither share every core still free: each goes to the
 *     node (its "node", else the one with the most free cores per slice
 *     already placed there), and a node's free cores are split evenly among
 *     its slices, the first ones getting one more when it does not divide;
 *  5. memory: per node, what it has minus the host reserve; slices with
 *     "memory" take theirs first; the rest is shared by the others in
 *     proportion to their cores there, rounded down to 2M. A spanning slice
 *     counts on each of its nodes in proportion to its cores there, for an
 *     explicit size and a default share alike (its default is the largest
 *     size whose share fits every one of its nodes).
 *  6. backing: hugetlb and reserved slices need one node that has memory;
 *     pinned reserved ranges may not overlap (unpinned ones are placed on
 *     the host by physmem_place(), which sees the memory map).
 *
 * Refused: overlapping slices (with each other or housekeeping); CPU lists
 * or counts that split a core; a slice on several nodes without
 * allow_spanning (or not on its "node"); memory beyond a node's share;
 * unknown CPUs, nodes or devices; a device without an IOMMU group (VFIO
 * cannot isolate it); a device whose IOMMU group has other devices not
 * listed in the same slice (PCI bridges in the group are exempt: they stay
 * with the host and VFIO accepts that); the same device twice; duplicate
 * names; zero slices; a slice with zero cores or zero memory; more slices
 * than free cores; malformed or zero sizes; empty housekeeping.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "host/planner.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/size.h"

#define MEM_ALIGN	(2ULL << 20)
#define GiB		(1ULL << 30)
#define DEFAULT_RESERVE_MIN	GiB
#define DEFAULT_RESERVE_PCT	5

/* What the configuration asks of one slice. */
struct slice_req {
	char name[SLICE_NAME_MAX];
	bool has_list;
	struct cpumask list;
	int want_cpus;		/* 0 when not given */
	int want_cores;		/* 0 when not given */
	int node;		/* -1 when not given */
	uint64_t memory;	/* 0 when not given */
	int ndevices;
	char devices[SLICE_DEV_MAX][PCI_ADDR_MAX];
	enum slice_backing backing;
	bool identity;
	uint64_t phys_start;	/* 0 when not given */
	enum slice_reserve reserve_as;
};

struct planner {
	const struct topology *topo;
	bool allow_spanning;
	bool reserve_pct;
	uint64_t reserve;		/* bytes, or percent when reserve_pct */
	int nreq;
	struct slice_req req[SLICE_MAX];
	struct cpumask taken;		/* housekeeping and slices so far */
	struct plan out;
};

/* ---- JSON helpers ---- */

/* A value as the user would write it back: no "\/" for a slash. */
static const char *json_text(json_object *val)
{
	return json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

static int check_keys(json_object *obj, const char *where, const char *const *keys)
{
	json_object_object_foreach(obj, key, val) {
		const char *const *k;

		(void)val;
		for (k = keys; *k && strcmp(*k, key); k++)
			;
		if (!*k) {
			char allowed[256] = "";
			size_t used = 0;

			for (k = keys; *k && used < sizeof(allowed); k++)
				used += snprintf(allowed + used, sizeof(allowed) - used,
						 "%s%s", used ? ", " : "", *k);
			return err_set("%s: unknown key \"%s\": use only %s", where, key,
				       allowed);
		}
	}
	return 0;
}

static int get_int(json_object *val, const char *what, int min, int max, int *out)
{
	int64_t v;

	if (!json_object_is_type(val, json_type_int))
		return err_set("%s must be a whole number, not %s", what,
			       json_text(val));
	v = json_object_get_int64(val);
	if (v < min || v > max)
		return err_set("%s is %lld: give %d to %d", what, (long long)v, min, max);
	*out = (int)v;
	return 0;
}

/*
 * A size: "8G" or a whole number of bytes. Zero is refused, and so is
 * anything above PLAN_SIZE_MAX: plans are stored as JSON int64, and no sum
 * of at most SLICE_MAX such sizes can wrap a uint64.
 */
static int get_size(json_object *val, const char *what, uint64_t *out)
{
	char max[32];

	if (json_object_is_type(val, json_type_int)) {
		int64_t v = json_object_get_int64(val);

		if (v <= 0)
			return err_set("%s is %lld: give a size like \"8G\"", what,
				       (long long)v);
		*out = (uint64_t)v;
	} else if (json_object_is_type(val, json_type_string)) {
		if (size_parse(json_object_get_string(val), out))
			return err_set("%s: %s", what, err_msg());
		if (!*out)
			return err_set("%s is zero: give a size like \"8G\"", what);
	} else {
		return err_set("%s must be a size like \"8G\", not %s", what,
			       json_text(val));
	}
	if (*out > PLAN_SIZE_MAX)
		return err_set("%s is larger than any host (%s at most): give the "
			       "memory the slice really needs", what,
			       size_format(PLAN_SIZE_MAX, max, sizeof(max)));
	return 0;
}

static int get_cpulist(const struct topology *topo, json_object *val,
		       const char *what, struct cpumask *m)
{
	struct cpumask unknown;
	char list[CPULIST_MAX], known[CPULIST_MAX];

	if (cpumask_parse_list(json_object_get_string(val), m))
		return err_set("%s: %s", what, err_msg());
	if (cpumask_empty(m))
		return err_set("%s is an empty CPU list: name CPUs like \"2-5\"", what);
	cpumask_andnot(&unknown, m, &topo->cpus);
	if (!cpumask_empty(&unknown))
		return err_set("%s names CPUs %s that %s does not have: use CPUs in %s",
			       what, cpumask_format_list(&unknown, list, sizeof(list)),
			       topo->source,
			       cpumask_format_list(&topo->cpus, known, sizeof(known)));
	return 0;
}

/* Refuses a CPU set that holds only part of some core. */
static int check_whole_cores(const struct topology *topo, const struct cpumask *m,
			     const char *what)
{
	for (int i = 0; i < topo->ncores; i++) {
		const struct topo_core *c = &topo->cores[i];
		struct cpumask missing;
		char core[CPULIST_MAX], miss[CPULIST_MAX];

		if (!cpumask_intersects(m, &c->cpus) || cpumask_subset(&c->cpus, m))
			continue;
		cpumask_andnot(&missing, &c->cpus, m);
		return err_set("%s splits the core of CPUs %s: add its SMT siblings %s "
			       "or leave the core out",
			       what, cpumask_format_list(&c->cpus, core, sizeof(core)),
			       cpumask_format_list(&missing, miss, sizeof(miss)));
	}
	return 0;
}

/* ---- reading the configuration ---- */

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= SLICE_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int read_devices(struct slice_req *r, json_object *val, const char *what)
{
	size_t n;

	if (!json_object_is_type(val, json_type_array))
		return err_set("%s.devices must be a list like [\"0000:03:00.0\"]", what);
	n = json_object_array_length(val);
	if (n > SLICE_DEV_MAX)
		return err_set("%s has %zu devices: give at most %d", what, n, SLICE_DEV_MAX);
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(val, i);
		const char *s = json_object_get_string(d);

		if (!json_object_is_type(d, json_type_string) ||
		    topology_pci_normalize(s, r->devices[i]))
			return err_set("%s: device %s is not a PCI address: write it like "
				       "\"0000:03:00.0\"", what, json_object_to_json_string(d));
	}
	r->ndevices = (int)n;
	return 0;
}

/* "anon" | "hugetlb" | "reserved" -> *b; -1 when unknown. */
static int parse_backing(const char *s, enum slice_backing *b)
{
	static const enum slice_backing all[] = {
		BACKING_ANON, BACKING_HUGETLB, BACKING_RESERVED
	};

	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, slice_backing_name(all[i]))) {
			*b = all[i];
			return 0;
		}
	return -1;
}

static int parse_reserve(const char *s, enum slice_reserve *r)
{
	if (s && !strcmp(s, "memmap"))
		*r = RESERVE_MEMMAP;
	else if (s && !strcmp(s, "pmem"))
		*r = RESERVE_PMEM;
	else
		return -1;
	return 0;
}

/* A physical address: a whole number, "0x100000000" or a size like "4G". */
static int get_phys(json_object *val, const char *what, uint64_t *out)
{
	const char *s = json_object_get_string(val);

	if (json_object_is_type(val, json_type_int)) {
		if (json_object_get_int64(val) < 0)
			return err_set("%s is negative: give an address like \"0x100000000\"",
				       what);
		*out = (uint64_t)json_object_get_int64(val);
	} else if (json_object_is_type(val, json_type_string) &&
		   (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))) {
		char *end;

		errno = 0;
		*out = strtoull(s + 2, &end, 16);
		if (errno || end == s + 2 || *end)
			return err_set("%s \"%s\" is not a hexadecimal address: write it "
				       "like \"0x100000000\"", what, s);
	} else if (!json_object_is_type(val, json_type_string) || size_parse(s, out)) {
		return err_set("%s must be an address like \"0x100000000\" or \"4G\", not %s",
			       what, json_text(val));
	}
	if (!*out || *out % MEM_ALIGN || *out >= PHYS_ADDR_LIMIT)
		return err_set("%s 0x%llx is %s: give a multiple of 2M (1G recommended) "
			       "inside System RAM, or drop it to have one chosen", what,
			       (unsigned long long)*out, !*out ? "the BIOS's low memory" :
			       *out % MEM_ALIGN ? "not a multiple of 2M" :
			       "beyond x86's 52-bit physical addresses");
	return 0;
}

/* "backing" and the keys that only a reserved slice takes. */
static int read_backing(struct slice_req *r, json_object *obj, const char *what)
{
	static const char *const reserved_only[] = { "identity", "phys_start", "reserve_as" };
	json_object *val;
	char w[96];

	r->backing = BACKING_ANON;
	if (json_object_object_get_ex(obj, "backing", &val) &&
	    (!json_object_is_type(val, json_type_string) ||
	     parse_backing(json_object_get_string(val), &r->backing)))
		return err_set("%s: backing %s is unknown: give \"anon\", \"hugetlb\" or "
			       "\"reserved\"", what, json_text(val));
	for (size_t i = 0; i < sizeof(reserved_only) / sizeof(reserved_only[0]); i++)
		if (r->backing != BACKING_RESERVED &&
		    json_object_object_get_ex(obj, reserved_only[i], NULL))
			return err_set("%s: \"%s\" is only for \"backing\": \"reserved\": drop "
				       "it or reserve the slice's memory", what, reserved_only[i]);
	r->identity = r->backing == BACKING_RESERVED;
	/*
	 * pmem by default: kept from the host as legacy pmem and mapped
	 * through device-dax, KVM maps the range with 2M pages; through
	 * /dev/mem (memmap) only with 4K ones (measured in the lab).
	 */
	r->reserve_as = r->backing == BACKING_RESERVED ? RESERVE_PMEM : RESERVE_MEMMAP;
	if (json_object_object_get_ex(obj, "identity", &val)) {
		if (!json_object_is_type(val, json_type_boolean))
			return err_set("%s: identity must be true or false", what);
		r->identity = json_object_get_boolean(val);
	}
	snprintf(w, sizeof(w), "%s phys_start", what);
	if (json_object_object_get_ex(obj, "phys_start", &val) &&
	    get_phys(val, w, &r->phys_start))
		return -1;
	if (json_object_object_get_ex(obj, "reserve_as", &val) &&
	    (!json_object_is_type(val, json_type_string) ||
	     parse_reserve(json_object_get_string(val), &r->reserve_as)))
		return err_set("%s: reserve_as %s is unknown: give \"memmap\" or \"pmem\"",
			       what, json_text(val));
	return 0;
}

static int read_slice(struct planner *p, int idx, json_object *obj)
{
	static const char *const keys[] = {
		"name", "cpus", "cores", "memory", "node", "devices", "backing",
		"identity", "phys_start", "reserve_as", NULL
	};
	const struct topology *topo = p->topo;
	struct slice_req *r = &p->req[idx];
	json_object *val;
	char what[64];

	snprintf(what, sizeof(what), "slice %d", idx);
	if (!json_object_is_type(obj, json_type_object))
		return err_set("%s must be an object like {\"name\": \"db\", \"cpus\": 4}",
			       what);
	if (json_object_object_get_ex(obj, "name", &val)) {
		const char *s = json_object_get_string(val);

		if (!json_object_is_type(val, json_type_string) || !valid_name(s))
			return err_set("%s: name %s is not valid: use 1-%d letters, digits, "
				       "'_', '.' or '-', starting with a letter or digit",
				       what, json_text(val),
				       SLICE_NAME_MAX - 1);
		snprintf(r->name, sizeof(r->name), "%s", s);
	} else {
		snprintf(r->name, sizeof(r->name), "slice%d", idx);
	}
	snprintf(what, sizeof(what), "slice %s", r->name);
	if (check_keys(obj, what, keys))
		return -1;

	r->node = -1;
	if (json_object_object_get_ex(obj, "cpus", &val)) {
		if (json_object_object_get_ex(obj, "cores", NULL))
			return err_set("%s has both \"cpus\" and \"cores\": give one", what);
		if (json_object_is_type(val, json_type_string)) {
			char w[96];

			snprintf(w, sizeof(w), "%s cpus", what);
			if (get_cpulist(topo, val, w, &r->list) ||
			    check_whole_cores(topo, &r->list, w))
				return -1;
			r->has_list = true;
		} else if (json_object_is_type(val, json_type_int)) {
			int64_t v = json_object_get_int64(val);

			if (v <= 0)
				return err_set("%s has %lld CPUs: give it at least one core",
					       what, (long long)v);
			if (v > CPUMASK_MAX)
				return err_set("%s asks for %lld CPUs: %s has %d", what,
					       (long long)v, topo->source,
					       cpumask_count(&topo->cpus));
			r->want_cpus = (int)v;
		} else {
			return err_set("%s: cpus must be a count like 4 or a list like "
				       "\"2-5\", not %s", what, json_text(val));
		}
	}
	if (json_object_object_get_ex(obj, "cores", &val)) {
		char w[96];

		snprintf(w, sizeof(w), "%s cores", what);
		if (json_object_is_type(val, json_type_int) && json_object_get_int64(val) <= 0)
			return err_set("%s has %lld cores: give it at least one", what,
				       (long long)json_object_get_int64(val));
		if (get_int(val, w, 1, CPUMASK_MAX, &r->want_cores))
			return -1;
	}
	if (json_object_object_get_ex(obj, "node", &val)) {
		char w[96];
		const struct topo_node *n;

		snprintf(w, sizeof(w), "%s node", what);
		if (get_int(val, w, 0, INT_MAX, &r->node))
			return -1;
		n = topology_node(topo, r->node);
		if (!n || cpumask_empty(&n->cpus))
			return err_set("%s: node %d %s: see 'slicevm host probe'", what,
				       r->node, n ? "has no CPUs" : "does not exist");
	}
	if (json_object_object_get_ex(obj, "memory", &val)) {
		char w[96], buf[32];

		snprintf(w, sizeof(w), "%s memory", what);
		if (get_size(val, w, &r->memory))
			return -1;
		if (r->memory % MEM_ALIGN)
			return err_set("%s memory %s is not a multiple of 2M: round it, "
				       "e.g. to %s", what, json_object_get_string(val),
				       size_format((r->memory / MEM_ALIGN + 1) * MEM_ALIGN,
						   buf, sizeof(buf)));
	}
	if (json_object_object_get_ex(obj, "devices", &val) &&
	    read_devices(r, val, what))
		return -1;
	return read_backing(r, obj, what);
}

static int read_slices(struct planner *p, json_object *val)
{
	if (json_object_is_type(val, json_type_int)) {
		int n;

		if (json_object_get_int64(val) <= 0)
			return err_set("\"slices\" is %lld: give at least 1",
				       (long long)json_object_get_int64(val));
		if (get_int(val, "\"slices\"", 1, SLICE_MAX, &n))
			return -1;
		for (int i = 0; i < n; i++) {
			snprintf(p->req[i].name, SLICE_NAME_MAX, "slice%d", i);
			p->req[i].node = -1;
		}
		p->nreq = n;
		return 0;
	}
	if (!json_object_is_type(val, json_type_array))
		return err_set("\"slices\" must be a count like 3 or a list of slices, not %s",
			       json_text(val));
	p->nreq = (int)json_object_array_length(val);
	if (!p->nreq)
		return err_set("\"slices\" is empty: give at least one slice");
	if (p->nreq > SLICE_MAX)
		return err_set("\"slices\" has %d slices: give at most %d", p->nreq, SLICE_MAX);
	for (int i = 0; i < p->nreq; i++)
		if (read_slice(p, i, json_object_array_get_idx(val, i)))
			return -1;
	for (int i = 0; i < p->nreq; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(p->req[i].name, p->req[j].name))
				return err_set("two slices are named %s: give each a different "
					       "name", p->req[i].name);
	return 0;
}

static int read_reserve(struct planner *p, json_object *val)
{
	const char *s = json_object_get_string(val);
	size_t n = s ? strlen(s) : 0;

	if (json_object_is_type(val, json_type_string) && n && s[n - 1] == '%') {
		char *end;
		long pct;

		errno = 0;
		pct = strtol(s, &end, 10);
		if (errno || end != s + n - 1 || !isdigit((unsigned char)*s) || pct > 99)
			return err_set("\"host_reserve\" %s is not a percentage from 0%% to "
				       "99%%: write it like \"5%%\" or \"1G\"", s);
		p->reserve_pct = true;
		p->reserve = (uint64_t)pct;
		return 0;
	}
	/* A host with nothing kept back is allowed, however it is spelled. */
	if ((json_object_is_type(val, json_type_int) && json_object_get_int64(val) == 0) ||
	    (json_object_is_type(val, json_type_string) &&
	     !size_parse(s, &p->reserve) && p->reserve == 0)) {
		p->reserve = 0;
		return 0;
	}
	return get_size(val, "\"host_reserve\"", &p->reserve);
}

/* ---- housekeeping ---- */

static int resolve_housekeeping(struct planner *p, json_object *cfg)
{
	static const char *const keys[] = { "cores_per_node", "cpus", NULL };
	const struct topology *topo = p->topo;
	struct cpumask *hk = &p->out.housekeeping;
	json_object *obj, *val;
	int per_node = 1;

	cpumask_clear(hk);
	if (json_object_object_get_ex(cfg, "housekeeping", &obj)) {
		if (!json_object_is_type(obj, json_type_object))
			return err_set("\"housekeeping\" must be an object like "
				       "{\"cores_per_node\": 1} or {\"cpus\": \"0\"}");
		if (check_keys(obj, "\"housekeeping\"", keys))
			return -1;
		if (json_object_object_get_ex(obj, "cpus", &val)) {
			if (json_object_object_get_ex(obj, "cores_per_node", NULL))
				return err_set("\"housekeeping\" has both \"cpus\" and "
					       "\"cores_per_node\": give one");
			if (!json_object_is_type(val, json_type_string))
				return err_set("housekeeping cpus must be a list like \"0,16\"");
			if (!*json_object_get_string(val))
				return err_set("housekeeping cpus is empty: the host needs at "
					       "least one core, e.g. \"0\"");
			if (get_cpulist(topo, val, "housekeeping cpus", hk) ||
			    check_whole_cores(topo, hk, "housekeeping cpus"))
				return -1;
			p->taken = *hk;
			return 0;
		}
		if (json_object_object_get_ex(obj, "cores_per_node", &val)) {
			if (json_object_is_type(val, json_type_int) &&
			    json_object_get_int64(val) == 0)
				return err_set("housekeeping cores_per_node is 0: the host needs "
					       "at least one core, give 1 or more");
			if (get_int(val, "housekeeping cores_per_node", 1, CPUMASK_MAX,
				    &per_node))
				return -1;
		}
	}
	for (int n = 0; n < topo->nnodes; n++) {
		int got = 0;

		for (int c = 0; c < topo->ncores && got < per_node; c++) {
			if (topo->cores[c].node != topo->nodes[n].id)
				continue;
			cpumask_or(hk, hk, &topo->cores[c].cpus);
			got++;
		}
	}
	/* Cores outside every node (no NUMA info): the first core then. */
	if (cpumask_empty(hk))
		*hk = topo->cores[0].cpus;
	p->taken = *hk;
	return 0;
}

/* ---- CPUs ---- */

static int node_index(const struct topology *topo, int id)
{
	for (int i = 0; i < topo->nnodes; i++)
		if (topo->nodes[i].id == id)
			return i;
	return -1;
}

static bool core_free(const struct planner *p, const struct topo_core *c)
{
	return !cpumask_intersects(&p->taken, &c->cpus);
}

/* Cores with a CPU in @m. */
static int cores_in(const struct planner *p, const struct cpumask *m)
{
	int k = 0;

	for (int c = 0; c < p->topo->ncores; c++)
		k += cpumask_intersects(&p->topo->cores[c].cpus, m);
	return k;
}

static int free_cores_on(const struct planner *p, int node)
{
	int n = 0;

	for (int c = 0; c < p->topo->ncores; c++)
		n += p->topo->cores[c].node == node && core_free(p, &p->topo->cores[c]);
	return n;
}

/* The one node of a CPU set, or -1 if it spans several (or none). */
static int mask_node(const struct topology *topo, const struct cpumask *m)
{
	int node = -2, cpu;

	cpumask_for_each(cpu, m) {
		int n = topology_cpu_node(topo, cpu);

		if (node == -2)
			node = n;
		else if (n != node)
			return -1;
	}
	return node < 0 ? -1 : node;
}

/* Sets slice @i's CPUs, checking overlap, nodes and spanning. */
static int place_cpus(struct planner *p, int i, const struct cpumask *cpus)
{
	const struct slice_req *r = &p->req[i];
	struct slice *s = &p->out.slices[i];
	char list[CPULIST_MAX], nodes[CPULIST_MAX];

	if (cpumask_intersects(cpus, &p->out.housekeeping))
		return err_set("slice %s overlaps housekeeping CPUs %s: give it other CPUs "
			       "or change \"housekeeping\"", r->name,
			       cpumask_format_list(&p->out.housekeeping, list, sizeof(list)));
	for (int j = 0; j < p->out.nslices; j++)
		if (j != i && cpumask_intersects(cpus, &p->out.slices[j].cpus))
			return err_set("slices %s and %s overlap: give them different CPUs",
				       p->out.slices[j].name, r->name);
	s->cpus = *cpus;
	s->node = mask_node(p->topo, cpus);
	if (r->node >= 0 && s->node != r->node)
		return err_set("slice %s has \"node\": %d but its CPUs %s are not all on "
			       "node %d: give CPUs of node %d or drop \"node\"",
			       r->name, r->node, cpumask_format_list(cpus, list, sizeof(list)),
			       r->node, r->node);
	if (s->node < 0 && !p->allow_spanning) {
		struct cpumask nm;
		int cpu;

		cpumask_clear(&nm);
		cpumask_for_each(cpu, cpus)
			if (topology_cpu_node(p->topo, cpu) >= 0)
				cpumask_set(&nm, topology_cpu_node(p->topo, cpu));
		return err_set("slice %s spans NUMA nodes %s: keep its CPUs on one node or "
			       "set \"allow_spanning\": true", r->name,
			       cpumask_format_list(&nm, nodes, sizeof(nodes)));
	}
	cpumask_or(&p->taken, &p->taken, cpus);
	return 0;
}

/*
 * Takes free cores of @node (-1: any node, in CPU order) until @cores cores
 * or @cpus CPUs are reached. Fails (-1, no message) when there are too few.
 */
static int take_cores(const struct planner *p, int node, int cores, int cpus,
		      struct cpumask *out)
{
	int got_cores = 0, got_cpus = 0;

	cpumask_clear(out);
	for (int c = 0; c < p->topo->ncores; c++) {
		const struct topo_core *core = &p->topo->cores[c];

		if ((cores && got_cores >= cores) || (cpus && got_cpus >= cpus))
			break;
		if ((node >= 0 && core->node != node) || !core_free(p, core))
			continue;
		cpumask_or(out, out, &core->cpus);
		got_cores++;
		got_cpus += cpumask_count(&core->cpus);
	}
	return (cores && got_cores >= cores) || (cpus && got_cpus >= cpus) ? 0 : -1;
}

/* Free cores of the node with the most of them (ties: lowest id) in *node. */
static int best_node(const struct planner *p, int *node)
{
	int best = -1;

	*node = -1;
	for (int n = 0; n < p->topo->nnodes; n++) {
		int f = free_cores_on(p, p->topo->nodes[n].id);

		if (f > best) {
			best = f;
			*node = p->topo->nodes[n].id;
		}
	}
	return best;
}

static int place_count(struct planner *p, int i)
{
	const struct slice_req *r = &p->req[i];
	struct cpumask m;
	int node = r->node, avail, cpu;
	char count[48];

	if (r->want_cores)
		snprintf(count, sizeof(count), "%d core%s", r->want_cores,
			 r->want_cores == 1 ? "" : "s");
	else
		snprintf(count, sizeof(count), "%d CPUs", r->want_cpus);
	avail = node >= 0 ? free_cores_on(p, node) : best_node(p, &node);
	if (!take_cores(p, node, r->want_cores, r->want_cpus, &m))
		goto got;
	if (r->node >= 0)
		return err_set("slice %s asks for %s but node %d has only %d free core%s: "
			       "ask for less or use another node", r->name, count, node,
			       avail, avail == 1 ? "" : "s");
	if (!p->allow_spanning)
		return err_set("slice %s asks for %s but no node has that many free (at "
			       "most %d core%s, on node %d): ask for less or set "
			       "\"allow_spanning\": true", r->name, count, avail,
			       avail == 1 ? "" : "s", node);
	if (take_cores(p, -1, r->want_cores, r->want_cpus, &m)) {
		avail = 0;
		for (int c = 0; c < p->topo->ncores; c++)
			avail += core_free(p, &p->topo->cores[c]);
		return err_set("slice %s asks for %s but only %d free core%s left on "
			       "%s: ask for less", r->name, count, avail,
			       avail == 1 ? " is" : "s are", p->topo->source);
	}
got:
	if (r->want_cpus && cpumask_count(&m) != r->want_cpus) {
		cpu = cpumask_next(&m, -1);
		return err_set("slice %s asks for %d CPU%s, which splits a core (cores here "
			       "have %d CPUs): give a multiple of that, or \"cores\"",
			       r->name, r->want_cpus, r->want_cpus == 1 ? "" : "s",
			       cpumask_count(&topology_core_of(p->topo, cpu)->cpus));
	}
	return place_cpus(p, i, &m);
}

/*
 * Slices without CPUs share what is left: each goes to a node (its own, or
 * the one with the most free cores per slice already there), then a node's
 * free cores are dealt out evenly.
 */
static int place_rest(struct planner *p, const bool *rest)
{
	const struct topology *topo = p->topo;
	int count[SLICE_MAX], where[SLICE_MAX];
	int *fr, *per, nrest = 0, total = 0;
	int ret = -1;

	fr = calloc(topo->nnodes, sizeof(*fr));
	per = calloc(topo->nnodes, sizeof(*per));
	if (!fr || !per) {
		err_set("out of memory planning");
		goto out;
	}
	for (int n = 0; n < topo->nnodes; n++) {
		fr[n] = free_cores_on(p, topo->nodes[n].id);
		total += fr[n];
	}
	for (int i = 0; i < p->nreq; i++) {
		if (!rest[i])
			continue;
		nrest++;
		where[i] = -1;
		if (p->req[i].node >= 0)
			per[where[i] = node_index(topo, p->req[i].node)]++;
	}
	if (!nrest) {
		ret = 0;
		goto out;
	}
	if (nrest > total) {
		int hk = cores_in(p, &p->out.housekeeping);

		err_set("%d slice%s without CPUs but only %d free core%s left after "
			"housekeeping (%d core%s) and the other slices (%d): give fewer "
			"slices, or fewer cores to %s", nrest, nrest == 1 ? " is" : "s are",
			total, total == 1 ? " is" : "s are", hk, hk == 1 ? "" : "s",
			cores_in(p, &p->taken) - hk,
			cores_in(p, &p->taken) == hk ? "housekeeping (\"housekeeping\": "
			"{\"cores_per_node\": 1})" : "housekeeping or the other slices");
		goto out;
	}
	for (int i = 0; i < p->nreq; i++) {
		int best = -1;

		if (!rest[i] || where[i] >= 0)
			continue;
		for (int n = 0; n < topo->nnodes; n++) {
			/* fr[n]/(per[n]+1) > fr[best]/(per[best]+1), in integers */
			if (fr[n] <= per[n])
				continue;
			if (best < 0 || (long)fr[n] * (per[best] + 1) >
					(long)fr[best] * (per[n] + 1))
				best = n;
		}
		if (best < 0) {
			err_set("slice %s gets no core: every free core is taken by the "
				"slices pinned with \"node\": give fewer slices", p->req[i].name);
			goto out;
		}
		where[i] = best;
		per[best]++;
	}
	for (int n = 0; n < topo->nnodes; n++)
		if (per[n] > fr[n]) {
			err_set("%d slices on node %d but it has only %d free core%s: give "
				"fewer slices \"node\": %d", per[n], topo->nodes[n].id, fr[n],
				fr[n] == 1 ? "" : "s", topo->nodes[n].id);
			goto out;
		}
	/* Deal: the k-th slice of a node gets fr/per, plus one while r lasts. */
	memset(count, 0, sizeof(count));
	for (int i = 0; i < p->nreq; i++) {
		int n, k = 0;
		struct cpumask m;

		if (!rest[i])
			continue;
		n = where[i];
		for (int j = 0; j < i; j++)
			k += rest[j] && where[j] == n;
		count[i] = fr[n] / per[n] + (k < fr[n] % per[n]);
		if (take_cores(p, topo->nodes[n].id, count[i], 0, &m)) {
			err_set("slice %s: node %d ran out of cores while planning: "
				"report this", p->req[i].name, topo->nodes[n].id);
			goto out;
		}
		if (place_cpus(p, i, &m))
			goto out;
	}
	ret = 0;
out:
	free(fr);
	free(per);
	return ret;
}

static int resolve_cpus(struct planner *p)
{
	bool rest[SLICE_MAX];

	p->out.nslices = p->nreq;
	for (int i = 0; i < p->nreq; i++) {
		memcpy(p->out.slices[i].name, p->req[i].name, SLICE_NAME_MAX);
		cpumask_clear(&p->out.slices[i].cpus);
		p->out.slices[i].node = -1;
	}
	for (int i = 0; i < p->nreq; i++)
		if (p->req[i].has_list && place_cpus(p, i, &p->req[i].list))
			return -1;
	for (int i = 0; i < p->nreq; i++)
		if ((p->req[i].want_cpus || p->req[i].want_cores) && place_count(p, i))
			return -1;
	for (int i = 0; i < p->nreq; i++)
		rest[i] = !p->req[i].has_list && !p->req[i].want_cpus &&
			  !p->req[i].want_cores;
	return place_rest(p, rest);
}

/* ---- memory ---- */

static uint64_t node_reserve(const struct planner *p, uint64_t memory)
{
	uint64_t r;

	if (p->reserve_pct)
		return (uint64_t)((unsigned __int128)memory * p->reserve / 100);
	if (p->reserve != UINT64_MAX)
		return p->reserve;
	r = (uint64_t)((unsigned __int128)memory * DEFAULT_RESERVE_PCT / 100);
	return r > DEFAULT_RESERVE_MIN ? r : DEFAULT_RESERVE_MIN;
}

/* Cores of slice @s on node index @n. */
static int cores_on(const struct planner *p, const struct slice *s, int n)
{
	int k = 0;

	for (int c = 0; c < p->topo->ncores; c++)
		k += p->topo->cores[c].node == p->topo->nodes[n].id &&
		     cpumask_intersects(&p->topo->cores[c].cpus, &s->cpus);
	return k;
}

static int cores_of(const struct planner *p, const struct slice *s)
{
	int k = 0;

	for (int n = 0; n < p->topo->nnodes; n++)
		k += cores_on(p, s, n);
	return k;
}

/* The part of @s's explicit memory that node index @n carries. */
static uint64_t explicit_share(const struct planner *p, const struct slice *s,
			       uint64_t memory, int n)
{
	int total = cores_of(p, s), before = 0, here = cores_on(p, s, n);

	if (!here || !total)
		return 0;
	for (int m = 0; m < n; m++)
		before += cores_on(p, s, m);
	if (before + here == total)	/* the last node takes the remainder */
		return memory - (uint64_t)((unsigned __int128)memory * before / total);
	return (uint64_t)((unsigned __int128)memory * here / total);
}

/*
 * What default slice @s may take of node index @n's @free bytes, which the
 * default slices there share by cores: its part, scaled to the whole slice.
 * A spanning slice's memory is carried by its nodes in proportion to its
 * cores there (explicit_share), so its total is the smallest of these: the
 * same rule as for an explicit size, which the plan written back as a
 * configuration must pass.
 */
static uint64_t default_limit(const struct planner *p, const struct slice *s, int n,
			      uint64_t free, int dcores)
{
	int here = cores_on(p, s, n), total = cores_of(p, s);
	unsigned __int128 part = (unsigned __int128)free * here / dcores;

	return (uint64_t)(part * total / here);
}

/* Sum of the explicit sizes carried by node index @n; UINT64_MAX on overflow. */
static uint64_t explicit_on_node(const struct planner *p, int n, int *dcores)
{
	uint64_t used = 0;

	*dcores = 0;
	for (int i = 0; i < p->out.nslices; i++) {
		const struct slice *s = &p->out.slices[i];

		if (!p->req[i].memory)
			*dcores += cores_on(p, s, n);
		else if (__builtin_add_overflow(used, explicit_share(p, s, p->req[i].memory, n),
						&used))
			return UINT64_MAX;
	}
	return used;
}

/* A synthetic topology has only the memory its description gives its nodes. */
static const char *synthetic_hint(const struct topology *topo)
{
	if (strncmp(topo->source, "synthetic:", 10) || strstr(topo->source, "memory="))
		return "";
	return " (a synthetic topology's nodes have only the memory its description "
	       "gives them: write it like 'synthetic:pack:1 [numa(memory=16GiB)] core:4 pu:2')";
}

static int resolve_memory(struct planner *p)
{
	const struct topology *topo = p->topo;
	char a[32], b[32], c[32];

	for (int i = 0; i < p->out.nslices; i++)
		p->out.slices[i].memory = p->req[i].memory ? p->req[i].memory : UINT64_MAX;
	for (int n = 0; n < topo->nnodes; n++) {
		uint64_t have = topo->nodes[n].memory, reserve = node_reserve(p, have);
		uint64_t avail = have > reserve ? have - reserve : 0;
		int dcores;
		uint64_t used = explicit_on_node(p, n, &dcores);

		if (used > avail)
			return err_set("slices on node %d ask for %s of memory but it has %s "
				       "after the host reserve of %s: give them less \"memory\" "
				       "or lower \"host_reserve\"%s", topo->nodes[n].id,
				       used == UINT64_MAX ? "more than 16E" :
				       size_format(used, a, sizeof(a)),
				       size_format(avail, b, sizeof(b)),
				       size_format(reserve, c, sizeof(c)), synthetic_hint(topo));
		for (int i = 0; i < p->out.nslices && dcores; i++) {
			struct slice *s = &p->out.slices[i];
			uint64_t limit;

			if (p->req[i].memory || !cores_on(p, s, n))
				continue;
			limit = default_limit(p, s, n, avail - used, dcores);
			if (limit < s->memory)
				s->memory = limit;
		}
	}
	for (int i = 0; i < p->out.nslices; i++) {
		struct slice *s = &p->out.slices[i];

		if (!p->req[i].memory)
			s->memory = s->memory == UINT64_MAX ? 0 : s->memory / MEM_ALIGN * MEM_ALIGN;
		if (!s->memory)
			return err_set("slice %s gets no memory: its node has none left after "
				       "the host reserve and the other slices: give it "
				       "\"memory\", give others less, or lower \"host_reserve\"%s",
				       s->name, synthetic_hint(topo));
	}
	return 0;
}

/* ---- devices ---- */

static bool is_bridge(const struct topo_pci *d)
{
	return (d->class >> 16) == 0x06;
}

/* Was device @addr already listed, before slice @i's device @d? */
static const char *listed_before(const struct planner *p, int i, int d, const char *addr)
{
	for (int j = 0; j <= i; j++)
		for (int e = 0; e < (j == i ? d : p->req[j].ndevices); e++)
			if (!strcmp(p->req[j].devices[e], addr))
				return p->req[j].name;
	return NULL;
}

static int check_device(const struct planner *p, int i, int d)
{
	const struct slice_req *r = &p->req[i];
	const struct topo_pci *dev = topology_pci(p->topo, r->devices[d]);
	const char *other;

	if (!dev)
		return err_set("slice %s: device %s does not exist on %s: see "
			       "'slicevm host probe'", r->name, r->devices[d], p->topo->source);
	if (dev->iommu_group < 0)
		return err_set("slice %s: device %s has no IOMMU group, so it cannot be "
			       "given to a VM safely: enable the IOMMU (intel_iommu=on or "
			       "amd_iommu=on) or drop the device", r->name, dev->addr);
	other = listed_before(p, i, d, dev->addr);
	if (other && !strcmp(other, r->name))
		return err_set("device %s is listed twice (slice %s): list it once",
			       dev->addr, r->name);
	if (other)
		return err_set("device %s is listed twice (slices %s and %s): list it once",
			       dev->addr, other, r->name);
	return 0;
}

/* Every non-bridge member of a used IOMMU group must be in the same slice. */
static int check_group(const struct planner *p, const struct slice *s,
		       const struct topo_pci *dev)
{
	for (int k = 0; k < p->topo->npci; k++) {
		const struct topo_pci *o = &p->topo->pci[k];
		bool listed = false;

		if (o->iommu_group != dev->iommu_group || is_bridge(o))
			continue;
		for (int e = 0; e < s->ndevices; e++)
			listed |= !strcmp(s->devices[e], o->addr);
		if (!listed)
			return err_set("slice %s: device %s shares IOMMU group %d with %s: "
				       "give the whole group to slice %s (add %s to its "
				       "devices)", s->name, dev->addr, dev->iommu_group,
				       o->addr, s->name, o->addr);
	}
	return 0;
}

static int resolve_devices(struct planner *p)
{
	for (int i = 0; i < p->nreq; i++) {
		struct slice *s = &p->out.slices[i];

		for (int d = 0; d < p->req[i].ndevices; d++) {
			if (check_device(p, i, d))
				return -1;
			memcpy(s->devices[d], p->req[i].devices[d], PCI_ADDR_MAX);
		}
		s->ndevices = p->req[i].ndevices;
	}
	for (int i = 0; i < p->out.nslices; i++) {
		const struct slice *s = &p->out.slices[i];

		for (int d = 0; d < s->ndevices; d++)
			if (check_group(p, s, topology_pci(p->topo, s->devices[d])))
				return -1;
	}
	return 0;
}

/* ---- backing ---- */

static int check_backing(const struct planner *p, int i)
{
	const struct slice *s = &p->out.slices[i];
	const struct topo_node *n = topology_node(p->topo, s->node);
	const char *b = slice_backing_name(s->backing);
	char a[32];

	if (s->backing == BACKING_ANON)
		return 0;
	if (s->node < 0)
		return err_set("slice %s spans NUMA nodes, but \"backing\": \"%s\" memory "
			       "lies on one node: keep its CPUs on one node or use \"anon\"",
			       s->name, b);
	if (!n || !n->memory)
		return err_set("slice %s: node %d has no memory to give as \"%s\": use "
			       "\"anon\" (memory from other nodes) or a node with memory",
			       s->name, s->node, b);
	if (s->backing == BACKING_RESERVED && s->phys_start &&
	    s->memory > PHYS_ADDR_LIMIT - s->phys_start)
		return err_set("slice %s: the range from phys_start 0x%llx for %s ends beyond "
			       "x86's 52-bit physical addresses: give a lower phys_start",
			       s->name, (unsigned long long)s->phys_start,
			       size_format(s->memory, a, sizeof(a)));
	return 0;
}

/* Two pinned reserved ranges may not share a byte. */
static int check_pinned_overlap(const struct planner *p, int i)
{
	const struct slice *s = &p->out.slices[i];

	for (int j = 0; j < i; j++) {
		const struct slice *o = &p->out.slices[j];

		if (o->backing != BACKING_RESERVED || !o->phys_start ||
		    s->backing != BACKING_RESERVED || !s->phys_start)
			continue;
		if (s->phys_start < o->phys_start + o->memory &&
		    o->phys_start < s->phys_start + s->memory)
			return err_set("slices %s and %s reserve overlapping physical memory "
				       "(phys_start 0x%llx and 0x%llx): give them ranges apart, "
				       "or drop phys_start to have them chosen", o->name,
				       s->name, (unsigned long long)o->phys_start,
				       (unsigned long long)s->phys_start);
	}
	return 0;
}

static int resolve_backing(struct planner *p)
{
	for (int i = 0; i < p->out.nslices; i++) {
		struct slice *s = &p->out.slices[i];
		const struct slice_req *r = &p->req[i];

		s->backing = r->backing;
		s->identity = r->identity;
		s->phys_start = r->phys_start;
		s->reserve_as = r->reserve_as;
		if (check_backing(p, i) || check_pinned_overlap(p, i))
			return -1;
	}
	return 0;
}

/* ---- entry points ---- */

int plan_resolve_json(json_object *cfg, const struct topology *topo, struct plan *plan)
{
	static const char *const keys[] = {
		"housekeeping", "allow_spanning", "host_reserve", "slices", NULL
	};
	struct planner *p;
	json_object *val;
	int ret = -1;

	if (!json_object_is_type(cfg, json_type_object))
		return err_set("the configuration must be a JSON object like "
			       "{\"slices\": 2}");
	if (check_keys(cfg, "the configuration", keys))
		return -1;
	p = calloc(1, sizeof(*p));
	if (!p)
		return err_set("out of memory planning");
	p->topo = topo;
	p->reserve = UINT64_MAX;	/* the default */
	if (json_object_object_get_ex(cfg, "allow_spanning", &val)) {
		if (!json_object_is_type(val, json_type_boolean)) {
			err_set("\"allow_spanning\" must be true or false");
			goto out;
		}
		p->allow_spanning = json_object_get_boolean(val);
	}
	if (json_object_object_get_ex(cfg, "host_reserve", &val) && read_reserve(p, val))
		goto out;
	if (!json_object_object_get_ex(cfg, "slices", &val)) {
		err_set("the configuration has no slices: add \"slices\": N or a list");
		goto out;
	}
	if (read_slices(p, val) || resolve_housekeeping(p, cfg) ||
	    resolve_cpus(p) || resolve_memory(p) || resolve_devices(p) ||
	    resolve_backing(p))
		goto out;
	*plan = p->out;
	ret = 0;
out:
	free(p);
	return ret;
}

int plan_resolve_file(const char *config_path, const struct topology *topo,
		      struct plan *plan)
{
	json_object *cfg = json_parse_file(config_path, "configuration");
	int ret;

	if (!cfg)
		return -1;
	ret = plan_resolve_json(cfg, topo, plan);
	if (ret)
		err_set("%s: %s", config_path, err_msg());
	json_object_put(cfg);
	return ret;
}

/* "backing" and, for a reserved slice, its range keys, as the config has them. */
static void backing_to_json(const struct slice *s, json_object *js)
{
	json_object_object_add(js, "backing",
			       json_object_new_string(slice_backing_name(s->backing)));
	if (s->backing != BACKING_RESERVED)
		return;
	json_object_object_add(js, "identity", json_object_new_boolean(s->identity));
	if (s->phys_start)
		json_object_object_add(js, "phys_start",
				       json_object_new_int64((int64_t)s->phys_start));
	json_object_object_add(js, "reserve_as",
			       json_object_new_string(slice_reserve_name(s->reserve_as)));
}

/*
 * A plan is valid on @topo when resolving it back, as a configuration with
 * every CPU, memory size and device spelled out (and no host reserve),
 * gives the same plan.
 */
int plan_check(const struct plan *plan, const struct topology *topo)
{
	json_object *cfg = json_object_new_object(), *hk = json_object_new_object();
	json_object *slices = json_object_new_array();
	struct plan *again = calloc(1, sizeof(*again));
	char list[CPULIST_MAX];
	bool span = false;
	int ret = -1;

	if (!again) {
		json_object_put(cfg);
		json_object_put(hk);
		json_object_put(slices);
		return err_set("out of memory checking the plan");
	}
	json_object_object_add(hk, "cpus", json_object_new_string(
		cpumask_format_list(&plan->housekeeping, list, sizeof(list))));
	json_object_object_add(cfg, "housekeeping", hk);
	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];
		json_object *js = json_object_new_object(), *devs = json_object_new_array();

		span |= s->node < 0;
		json_object_object_add(js, "name", json_object_new_string(s->name));
		json_object_object_add(js, "cpus", json_object_new_string(
			cpumask_format_list(&s->cpus, list, sizeof(list))));
		json_object_object_add(js, "memory", json_object_new_int64((int64_t)s->memory));
		for (int d = 0; d < s->ndevices; d++)
			json_object_array_add(devs, json_object_new_string(s->devices[d]));
		json_object_object_add(js, "devices", devs);
		backing_to_json(s, js);
		json_object_array_add(slices, js);
	}
	json_object_object_add(cfg, "allow_spanning", json_object_new_boolean(span));
	/* the reserve was the planner's choice; here memory need only exist */
	json_object_object_add(cfg, "host_reserve", json_object_new_int(0));
	json_object_object_add(cfg, "slices", slices);
	if (plan_resolve_json(cfg, topo, again))
		goto out;
	for (int i = 0; i < plan->nslices; i++)
		if (again->slices[i].node != plan->slices[i].node) {
			err_set("slice %s is recorded on node %d but its CPUs are on node %d "
				"of %s: plan again for this host", plan->slices[i].name,
				plan->slices[i].node, again->slices[i].node, topo->source);
			goto out;
		}
	ret = 0;
out:
	json_object_put(cfg);
	free(again);
	return ret;
}

/* ---- the plan as JSON and as a table ---- */

json_object *plan_to_json(const struct plan *plan)
{
	json_object *o = json_object_new_object();
	json_object *slices = json_object_new_array();
	char list[CPULIST_MAX];

	json_object_object_add(o, "housekeeping", json_object_new_string(
		cpumask_format_list(&plan->housekeeping, list, sizeof(list))));
	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];
		json_object *js = json_object_new_object();
		json_object *devs = json_object_new_array();

		json_object_object_add(js, "name", json_object_new_string(s->name));
		json_object_object_add(js, "cpus", json_object_new_string(
			cpumask_format_list(&s->cpus, list, sizeof(list))));
		json_object_object_add(js, "node", json_object_new_int(s->node));
		json_object_object_add(js, "memory", json_object_new_int64((int64_t)s->memory));
		for (int d = 0; d < s->ndevices; d++)
			json_object_array_add(devs, json_object_new_string(s->devices[d]));
		json_object_object_add(js, "devices", devs);
		backing_to_json(s, js);
		json_object_array_add(slices, js);
	}
	json_object_object_add(o, "slices", slices);
	return o;
}

/*
 * The stored backing keys. A plan stored before slices had a backing has
 * none: it is anon.
 */
static int backing_from_json(json_object *js, const char *what, struct slice *s)
{
	json_object *b, *id, *ps, *ra;

	s->backing = BACKING_ANON;
	s->identity = false;
	s->phys_start = 0;
	s->reserve_as = RESERVE_MEMMAP;
	if (json_object_object_get_ex(js, "backing", &b) &&
	    (!json_object_is_type(b, json_type_string) ||
	     parse_backing(json_object_get_string(b), &s->backing)))
		return err_set("%s has a bad backing: the stored plan is damaged", what);
	if (!json_object_object_get_ex(js, "phys_start", &ps))
		ps = NULL;
	if (s->backing != BACKING_RESERVED) {
		if (json_object_object_get_ex(js, "identity", NULL) ||
		    json_object_object_get_ex(js, "reserve_as", NULL) || ps)
			return err_set("%s has range keys but is not reserved: the stored "
				       "plan is damaged", what);
		return 0;
	}
	if (!json_object_object_get_ex(js, "identity", &id) ||
	    !json_object_is_type(id, json_type_boolean) ||
	    !json_object_object_get_ex(js, "reserve_as", &ra) ||
	    !json_object_is_type(ra, json_type_string) ||
	    parse_reserve(json_object_get_string(ra), &s->reserve_as) ||
	    (ps && (!json_object_is_type(ps, json_type_int) ||
		    json_object_get_int64(ps) <= 0 ||
		    (uint64_t)json_object_get_int64(ps) % MEM_ALIGN ||
		    (uint64_t)json_object_get_int64(ps) >= PHYS_ADDR_LIMIT ||
		    s->memory > PHYS_ADDR_LIMIT - (uint64_t)json_object_get_int64(ps))))
		return err_set("%s has a bad identity, reserve_as or phys_start: the "
			       "stored plan is damaged", what);
	s->identity = json_object_get_boolean(id);
	s->phys_start = ps ? (uint64_t)json_object_get_int64(ps) : 0;
	return 0;
}

static int slice_from_json(json_object *js, int idx, struct slice *s)
{
	static const char *const keys[] = {
		"name", "cpus", "node", "memory", "devices", "backing", "identity",
		"phys_start", "reserve_as", NULL
	};
	json_object *name, *cpus, *node, *mem, *devs;
	char what[48];

	snprintf(what, sizeof(what), "stored plan slice %d", idx);
	if (!json_object_is_type(js, json_type_object))
		return err_set("%s is not an object: the stored plan is damaged", what);
	if (check_keys(js, what, keys))
		return -1;
	if (!json_object_object_get_ex(js, "name", &name) ||
	    !json_object_object_get_ex(js, "cpus", &cpus) ||
	    !json_object_object_get_ex(js, "node", &node) ||
	    !json_object_object_get_ex(js, "memory", &mem) ||
	    !json_object_object_get_ex(js, "devices", &devs) ||
	    !json_object_is_type(name, json_type_string) ||
	    !json_object_is_type(cpus, json_type_string) ||
	    !json_object_is_type(node, json_type_int) ||
	    !json_object_is_type(mem, json_type_int) ||
	    !json_object_is_type(devs, json_type_array))
		return err_set("%s lacks name, cpus, node, memory or devices, or has the "
			       "wrong types: the stored plan is damaged", what);
	if (!valid_name(json_object_get_string(name)))
		return err_set("%s has a bad name: the stored plan is damaged", what);
	snprintf(s->name, sizeof(s->name), "%s", json_object_get_string(name));
	if (cpumask_parse_list(json_object_get_string(cpus), &s->cpus))
		return err_set("%s: %s", what, err_msg());
	if (json_object_get_int64(node) < -1 || json_object_get_int64(node) > INT_MAX ||
	    json_object_get_int64(mem) < 0 ||
	    (uint64_t)json_object_get_int64(mem) > PLAN_SIZE_MAX)
		return err_set("%s has a bad node or memory: the stored plan is damaged",
			       what);
	s->node = (int)json_object_get_int64(node);
	s->memory = (uint64_t)json_object_get_int64(mem);
	if (json_object_array_length(devs) > SLICE_DEV_MAX)
		return err_set("%s has too many devices: the stored plan is damaged", what);
	s->ndevices = (int)json_object_array_length(devs);
	for (int d = 0; d < s->ndevices; d++) {
		json_object *dv = json_object_array_get_idx(devs, d);

		if (!json_object_is_type(dv, json_type_string) ||
		    topology_pci_normalize(json_object_get_string(dv), s->devices[d]))
			return err_set("%s has a bad device: the stored plan is damaged", what);
	}
	return backing_from_json(js, what, s);
}

int plan_from_json(json_object *obj, struct plan *plan)
{
	static const char *const keys[] = { "housekeeping", "slices", NULL };
	json_object *hk, *slices;
	struct plan *tmp;
	int ret = -1;

	if (!json_object_is_type(obj, json_type_object))
		return err_set("the stored plan is not a JSON object: it is damaged");
	if (check_keys(obj, "stored plan", keys))
		return -1;
	if (!json_object_object_get_ex(obj, "housekeeping", &hk) ||
	    !json_object_object_get_ex(obj, "slices", &slices) ||
	    !json_object_is_type(hk, json_type_string) ||
	    !json_object_is_type(slices, json_type_array))
		return err_set("the stored plan lacks housekeeping or slices: it is damaged");
	if (json_object_array_length(slices) > SLICE_MAX)
		return err_set("the stored plan has more than %d slices: it is damaged",
			       SLICE_MAX);
	tmp = calloc(1, sizeof(*tmp));
	if (!tmp)
		return err_set("out of memory reading the stored plan");
	if (cpumask_parse_list(json_object_get_string(hk), &tmp->housekeeping)) {
		err_set("stored plan housekeeping: %s", err_msg());
		goto out;
	}
	tmp->nslices = (int)json_object_array_length(slices);
	for (int i = 0; i < tmp->nslices; i++)
		if (slice_from_json(json_object_array_get_idx(slices, i), i,
				    &tmp->slices[i]))
			goto out;
	for (int i = 0; i < tmp->nslices; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(tmp->slices[i].name, tmp->slices[j].name)) {
				err_set("the stored plan names two slices %s: it is damaged",
					tmp->slices[i].name);
				goto out;
			}
	*plan = *tmp;
	ret = 0;
out:
	free(tmp);
	return ret;
}

const char *slice_backing_name(enum slice_backing b)
{
	switch (b) {
	case BACKING_ANON:	return "anon";
	case BACKING_HUGETLB:	return "hugetlb";
	case BACKING_RESERVED:	return "reserved";
	}
	return "?";
}

const char *slice_reserve_name(enum slice_reserve r)
{
	return r == RESERVE_PMEM ? "pmem" : "memmap";
}

uint64_t slice_hugepage_size(const struct slice *s)
{
	return s->memory % GiB ? MEM_ALIGN : GiB;
}

const struct slice *plan_find_slice(const struct plan *plan, const char *name)
{
	for (int i = 0; i < plan->nslices; i++)
		if (!strcmp(plan->slices[i].name, name))
			return &plan->slices[i];
	return NULL;
}

void plan_slice_cpus(const struct plan *plan, struct cpumask *cpus)
{
	cpumask_clear(cpus);
	for (int i = 0; i < plan->nslices; i++)
		cpumask_or(cpus, cpus, &plan->slices[i].cpus);
}

/* Where a hugetlb or reserved slice's memory is, and advice on its size. */
static void print_memory(const struct slice *s, FILE *out)
{
	char mem[32], page[32];
	uint64_t ps = slice_hugepage_size(s);

	size_format(s->memory, mem, sizeof(mem));
	if (s->backing == BACKING_HUGETLB) {
		fprintf(out, "slice %s memory: %llu hugepages of %s on node %d\n", s->name,
			(unsigned long long)(s->memory / ps), size_format(ps, page, sizeof(page)),
			s->node);
		return;
	}
	if (s->phys_start)
		fprintf(out, "slice %s memory: reserved 0x%llx-0x%llx on node %d (%s, end "
			"inclusive)%s\n", s->name, (unsigned long long)s->phys_start,
			(unsigned long long)(s->phys_start + s->memory - 1), s->node, mem,
			s->identity ? ", guest-physical == host-physical" : "");
	else
		fprintf(out, "slice %s memory: reserved %s on node %d, range chosen on the "
			"host from its memory map\n", s->name, mem, s->node);
	if (s->memory % GiB)
		fprintf(out, "note: slice %s reserves %s, not a multiple of 1G: KVM maps it "
			"with 2M pages at best; a multiple of 1G allows 1G pages\n",
			s->name, mem);
	else if (s->phys_start % GiB)
		fprintf(out, "note: slice %s's range starts at 0x%llx, not 1G aligned: KVM "
			"maps it with 2M pages at best; a 1G aligned phys_start allows 1G "
			"pages\n", s->name, (unsigned long long)s->phys_start);
}

void plan_print_table(const struct plan *plan, FILE *out)
{
	char list[CPULIST_MAX], mem[32];
	bool first = true;

	fprintf(out, "housekeeping: CPUs %s (%d)\n",
		cpumask_format_list(&plan->housekeeping, list, sizeof(list)),
		cpumask_count(&plan->housekeeping));
	fprintf(out, "\n%-16s %-5s %-5s %-10s %-9s %-18s %s\n", "SLICE", "NODE", "CPUS",
		"MEMORY", "BACKING", "CPU LIST", "DEVICES");
	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];
		char node[16];

		if (s->node < 0)
			snprintf(node, sizeof(node), "span");
		else
			snprintf(node, sizeof(node), "%d", s->node);
		fprintf(out, "%-16s %-5s %-5d %-10s %-9s %-18s", s->name, node,
			cpumask_count(&s->cpus), size_format(s->memory, mem, sizeof(mem)),
			slice_backing_name(s->backing),
			cpumask_format_list(&s->cpus, list, sizeof(list)));
		for (int d = 0; d < s->ndevices; d++)
			fprintf(out, "%s%s", d ? "," : " ", s->devices[d]);
		if (!s->ndevices)
			fprintf(out, " -");
		fputc('\n', out);
	}
	for (int i = 0; i < plan->nslices; i++) {
		if (plan->slices[i].backing == BACKING_ANON)
			continue;
		if (first)
			fputc('\n', out);
		first = false;
		print_memory(&plan->slices[i], out);
	}
}
