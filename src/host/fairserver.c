// SPDX-License-Identifier: GPL-2.0
/* The scheduler's fair server off on slice CPUs (see fairserver.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "host/fairserver.h"
#include "lib/err.h"

/* Sets @cpu's fair server runtime to 0. 1: refused (noted), 0: done, -1: error. */
static int fair_server_off(struct journal *j, const char *dir, int cpu, struct notes *notes)
{
	char path[4096], what[64];

	if (hostfs_path(path, sizeof(path), "%s/cpu%d/runtime", dir, cpu))
		return -1;
	if (access(path, F_OK) < 0) {
		notes_add(notes, "no %s: CPU %d keeps its fair server", path, cpu);
		return 1;
	}
	snprintf(what, sizeof(what), "fair server of CPU %d", cpu);
	if (journal_write(j, path, "0", NULL, what)) {
		if (!j->refused)
			return -1;
		notes_add(notes, "CPU %d keeps its fair server: the kernel refused runtime 0 (%s)",
			  cpu, strerror(errno));
		return 1;
	}
	return 0;
}

int fair_server_apply(struct journal *j, const struct plan *plan, struct notes *notes,
		      FILE *out)
{
	char dir[4096], sched[4096], list[1024];
	struct cpumask cpus;
	int cpu, changes = j->changes, kept = 0, r;

	plan_slice_cpus(plan, &cpus);
	if (hostfs_path(sched, sizeof(sched), "%s/kernel/debug/sched", j->hp->sys) ||
	    hostfs_path(dir, sizeof(dir), "%s/fair_server", sched))
		return -1;
	if (access(dir, F_OK) < 0) {
		/* debugfs shows sched/ without fair_server/ on kernels before 6.12 */
		if (access(sched, F_OK) < 0)
			notes_add(notes, "no %s (debugfs not mounted?): on Linux 6.12+ the "
				  "scheduler's fair server restarts the tick of slice CPUs once a "
				  "second; mount debugfs and apply again", sched);
		return 0;
	}
	cpumask_for_each(cpu, &cpus) {
		r = fair_server_off(j, dir, cpu, notes);
		if (r < 0)
			return -1;
		kept += r;
	}
	cpumask_format_list(&cpus, list, sizeof(list));
	if (kept)
		fprintf(out, "fair server: off on %d of slice CPUs %s\n", cpumask_count(&cpus) - kept,
			list);
	else
		fprintf(out, "fair server: %s on slice CPUs %s\n",
			j->changes > changes ? "off" : "already off", list);
	return 0;
}
