// SPDX-License-Identifier: GPL-2.0
/* Slices as cgroup v2 cpuset partitions (layout and reasons in cpuset.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/cpuset.h"
#include "lib/err.h"

#define CGROUP_ROOT_DEFAULT	"/sys/fs/cgroup"

int cpuset_slice_dir(const char *cgroup_root, const char *name, char *buf, size_t len)
{
	return hostfs_path(buf, len, "%s/" CPUSET_DIR_PREFIX "%s",
			   cgroup_root ? cgroup_root : CGROUP_ROOT_DEFAULT, name);
}

/* Is @word one of the space-separated words of @list? */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' ||
						    p[n] == '\n'))
			return true;
	return false;
}

int cpuset_check_v2(const struct host_paths *hp)
{
	char path[4096], controllers[512];

	/* Only cgroup v2 has cgroup.controllers at the top of its mount. */
	if (hostfs_path(path, sizeof(path), "%s/cgroup.controllers", hp->cgroup))
		return -1;
	if (hostfs_read(path, controllers, sizeof(controllers)))
		return err_set("apply needs cgroup v2 mounted at %s (%s is missing): mount it, or boot with systemd.unified_cgroup_hierarchy=1",
			       hp->cgroup, path);
	if (!has_word(controllers, "cpuset"))
		return err_set("the cpuset controller is not available in cgroup v2 at %s (bound to a v1 hierarchy?): boot with cgroup_no_v1=all",
			       hp->cgroup);
	return 0;
}

static int read_mask(const char *path, struct cpumask *m)
{
	char buf[4096];

	if (hostfs_read(path, buf, sizeof(buf)))
		return -1;
	return cpumask_parse_list(buf, m);
}

int cpuset_available(const struct host_paths *hp, struct cpumask *cpus,
		     struct cpumask *mems)
{
	char path[4096];

	if (hostfs_path(path, sizeof(path), "%s/cpuset.cpus.effective", hp->cgroup))
		return -1;
	if (read_mask(path, cpus)) {
		if (hostfs_path(path, sizeof(path), "%s/devices/system/cpu/online", hp->sys) ||
		    read_mask(path, cpus))
			return -1;
	}
	if (hostfs_path(path, sizeof(path), "%s/cpuset.mems.effective", hp->cgroup))
		return -1;
	if (read_mask(path, mems)) {
		if (hostfs_path(path, sizeof(path), "%s/devices/system/node/online", hp->sys))
			return -1;
		if (read_mask(path, mems)) {
			/* A kernel without NUMA has node 0 only. */
			cpumask_clear(mems);
			cpumask_set(mems, 0);
		}
	}
	return 0;
}

/* The planner's rule for names, checked again: a name becomes a directory. */
static int check_name(const char *name)
{
	if (!isalnum((unsigned char)name[0]))
		return err_set("slice name '%s' must start with a letter or digit", name);
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return err_set("slice name '%s' has a '%c': use letters, digits, '.', '-' and '_'",
				       name, *p);
	return 0;
}

static int check_slice(const struct host_paths *hp, const struct plan *plan, int i,
		       const struct cpumask *cpus, const struct cpumask *mems)
{
	const struct slice *s = &plan->slices[i];
	char list[CPULIST_MAX], avail[CPULIST_MAX], dir[4096];
	struct stat sb;

	if (check_name(s->name))
		return -1;
	if (cpumask_empty(&s->cpus))
		return err_set("slice %s has no CPUs: give it some in the configuration", s->name);
	if (!cpumask_subset(&s->cpus, cpus))
		return err_set("slice %s wants CPUs %s, but only %s are free for partitions here (offline, or taken by another partition?)",
			       s->name, cpumask_format_list(&s->cpus, list, sizeof(list)),
			       cpumask_format_list(cpus, avail, sizeof(avail)));
	if (cpumask_intersects(&s->cpus, &plan->housekeeping))
		return err_set("slice %s shares CPUs with the housekeeping CPUs: fix the plan",
			       s->name);
	for (int k = 0; k < i; k++) {
		if (!strcmp(plan->slices[k].name, s->name))
			return err_set("two slices are named %s: rename one", s->name);
		if (cpumask_intersects(&plan->slices[k].cpus, &s->cpus))
			return err_set("slices %s and %s share CPUs: fix the plan",
				       plan->slices[k].name, s->name);
	}
	if (s->node >= 0 && !cpumask_test(mems, s->node))
		return err_set("slice %s wants memory node %d, which is not available here",
			       s->name, s->node);
	if (cpuset_slice_dir(hp->cgroup, s->name, dir, sizeof(dir)))
		return -1;
	if (stat(dir, &sb) == 0)
		return err_set("cgroup %s already exists and this ledger did not make it: remove it (rmdir), or use the ledger that did",
			       dir);
	return 0;
}

int cpuset_validate(const struct host_paths *hp, const struct plan *plan)
{
	struct cpumask cpus, mems;
	char list[CPULIST_MAX];

	if (plan->nslices < 1)
		return err_set("the plan has no slices: nothing to apply");
	if (cpumask_empty(&plan->housekeeping))
		return err_set("the plan leaves no housekeeping CPUs: keep at least one for the host");
	if (cpuset_available(hp, &cpus, &mems))
		return -1;
	if (!cpumask_subset(&plan->housekeeping, &cpus))
		return err_set("housekeeping CPUs %s are not all online and free here",
			       cpumask_format_list(&plan->housekeeping, list, sizeof(list)));
	for (int i = 0; i < plan->nslices; i++)
		if (check_slice(hp, plan, i, &cpus, &mems))
			return -1;
	return 0;
}

bool cpuset_partition_valid(const char *state)
{
	return (!strcmp(state, "isolated") || !strcmp(state, "root"));
}

int cpuset_partition(const struct host_paths *hp, const char *name, char *buf, size_t len)
{
	char dir[4096], path[4096];

	if (cpuset_slice_dir(hp->cgroup, name, dir, sizeof(dir)) ||
	    hostfs_path(path, sizeof(path), "%s/cpuset.cpus.partition", dir))
		return -1;
	return hostfs_read(path, buf, len);
}

static int enable_cpuset(struct journal *j)
{
	char path[4096], control[512];

	if (hostfs_path(path, sizeof(path), "%s/cgroup.subtree_control", j->hp->cgroup) ||
	    hostfs_read(path, control, sizeof(control)))
		return -1;
	if (has_word(control, "cpuset"))
		return 0;
	if (journal_write(j, path, "+cpuset", "-cpuset",
			  "the cpuset controller for the root's children"))
		return err_set("cannot enable the cpuset controller (%s): %s", path, err_msg());
	return 0;
}

/* Writes one control file of a cgroup we just made (rmdir undoes it). */
static int set_file(struct journal *j, const char *dir, const char *file, const char *val)
{
	char path[4096];

	if (hostfs_path(path, sizeof(path), "%s/%s", dir, file))
		return -1;
	return hostfs_write(j->hp, path, val);
}

static int make_partition(struct journal *j, const struct slice *s, const char *dir,
			  struct notes *notes, char *state, size_t len)
{
	char path[4096], what[128];

	if (hostfs_path(path, sizeof(path), "%s/cpuset.cpus.partition", dir))
		return -1;
	snprintf(what, sizeof(what), "slice %s's partition", s->name);
	if (journal_write(j, path, "isolated", "member", what)) {
		/* "isolated" came with Linux 6.1; "root" still gives exclusive CPUs. */
		if (!j->refused || errno != EINVAL)
			return -1;
		notes_add(notes, "slice %s: the kernel refused an isolated partition (%s): made it a 'root' partition (the scheduler still balances load inside the slice)",
			  s->name, err_msg());
		if (journal_write(j, path, "root", "member", what))
			return -1;
	}
	if (hostfs_read(path, state, len))
		return -1;
	if (!cpuset_partition_valid(state))
		return err_set("slice %s's partition %s reads '%s': its CPUs must be free of other cgroups (cpuset.cpus, cpuset.cpus.exclusive) and of boot-time isolcpus without an isolated partition",
			       s->name, dir, state);
	return 0;
}

static int apply_slice(struct journal *j, const struct slice *s, struct notes *notes,
		       FILE *out)
{
	char dir[4096], what[128], list[CPULIST_MAX], node[16], state[256];

	if (cpuset_slice_dir(j->hp->cgroup, s->name, dir, sizeof(dir)))
		return -1;
	snprintf(what, sizeof(what), "slice %s's cgroup", s->name);
	if (journal_mkdir(j, dir, what))
		return -1;
	cpumask_format_list(&s->cpus, list, sizeof(list));
	snprintf(node, sizeof(node), "%d", s->node);
	if (set_file(j, dir, "cgroup.type", "threaded") ||
	    set_file(j, dir, "cpuset.cpus", list) ||
	    (s->node >= 0 && set_file(j, dir, "cpuset.mems", node)))
		return err_set("slice %s: %s", s->name, err_msg());
	if (make_partition(j, s, dir, notes, state, sizeof(state)))
		return -1;
	fprintf(out, "slice %s: %s, CPUs %s, node %s, partition %s\n", s->name, dir, list,
		s->node >= 0 ? node : "any", state);
	return 0;
}

int cpuset_apply(struct journal *j, const struct plan *plan, struct notes *notes,
		 FILE *out)
{
	if (enable_cpuset(j))
		return -1;
	for (int i = 0; i < plan->nslices; i++)
		if (apply_slice(j, &plan->slices[i], notes, out))
			return -1;
	return 0;
}

int cpuset_enter_root(const char *cgroup_root)
{
	struct host_paths hp;
	char path[4096], pid[32];

	host_paths_default(&hp);
	if (hostfs_path(path, sizeof(path), "%s/cgroup.procs",
			cgroup_root ? cgroup_root : hp.cgroup))
		return -1;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (hostfs_write(&hp, path, pid))
		return err_set("cannot move slicevm into the root cgroup (%s): %s; slices need root privileges",
			       path, err_msg());
	return 0;
}

int cpuset_attach_thread(const char *cgroup_root, const char *name, pid_t tid)
{
	struct host_paths hp;
	char dir[4096], path[4096], val[32];

	host_paths_default(&hp);
	if (cpuset_slice_dir(cgroup_root, name, dir, sizeof(dir)) ||
	    hostfs_path(path, sizeof(path), "%s/cgroup.threads", dir))
		return -1;
	snprintf(val, sizeof(val), "%d", (int)(tid ? tid : gettid()));
	if (hostfs_write(&hp, path, val))
		return err_set("cannot move thread %s into slice %s's cgroup: %s (is the process in the root cgroup? is the slice applied?)",
			       val, name, err_msg());
	return 0;
}
