// SPDX-License-Identifier: GPL-2.0
/* Boot-time isolation parameters for a plan (see bootargs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/bootargs.h"
#include "lib/err.h"

static void slice_cpus(const struct plan *plan, struct cpumask *cpus)
{
	cpumask_clear(cpus);
	for (int i = 0; i < plan->nslices; i++)
		cpumask_or(cpus, cpus, &plan->slices[i].cpus);
}

int bootargs_format(const struct plan *plan, char *buf, size_t len)
{
	char iso[CPULIST_MAX], hk[CPULIST_MAX];
	struct cpumask cpus;
	int n;

	slice_cpus(plan, &cpus);
	if (cpumask_empty(&cpus) || cpumask_empty(&plan->housekeeping))
		return err_set("the plan needs slice CPUs and housekeeping CPUs for boot parameters");
	cpumask_format_list(&cpus, iso, sizeof(iso));
	cpumask_format_list(&plan->housekeeping, hk, sizeof(hk));
	/*
	 * No isolcpus=domain: apply's isolated cpuset partitions take the
	 * slice CPUs out of load balancing at run time, and Linux (6.12, seen
	 * in the lab) refuses an isolated partition over CPUs that boot-time
	 * domain isolation already took ("conflicts with housekeeping setup").
	 */
	n = snprintf(buf, len, "isolcpus=managed_irq,%s nohz_full=%s rcu_nocbs=%s irqaffinity=%s",
		     iso, iso, iso, hk);
	if (n < 0 || (size_t)n >= len)
		return err_set("boot parameters do not fit in %zu bytes", len);
	return 0;
}

/* Why each parameter is there; shared by the printout and the drop-in. */
static void comments(const struct plan *plan, FILE *out)
{
	fprintf(out,
		"# Boot-time isolation for slicevm slices");
	for (int i = 0; i < plan->nslices; i++)
		fprintf(out, "%s%s", i ? ", " : " (", plan->slices[i].name);
	fprintf(out, ").\n"
		"# isolcpus=managed_irq: drivers' managed interrupts (NVMe, virtio queues) avoid\n"
		"#   slice CPUs; their affinity cannot be changed after boot.\n"
		"# nohz_full: no periodic timer tick on a slice CPU that runs only its vCPU.\n"
		"# rcu_nocbs: RCU callbacks of slice CPUs run on housekeeping CPUs.\n"
		"# irqaffinity: interrupts start on housekeeping CPUs (apply moves them too).\n"
		"# Not isolcpus=domain: 'slicevm host apply' isolates the slice CPUs from the\n"
		"#   scheduler with cpuset partitions, which the kernel refuses over CPUs\n"
		"#   isolated that way at boot.\n");
}

int bootargs_print(const struct plan *plan, FILE *out)
{
	char line[4096];

	if (bootargs_format(plan, line, sizeof(line)))
		return -1;
	comments(plan, out);
	fprintf(out, "%s\n", line);
	return 0;
}

int bootargs_write_grub_dropin(const struct plan *plan, const char *path)
{
	char line[4096], tmp[4096];
	FILE *f;
	int fd;

	if (bootargs_format(plan, line, sizeof(line)))
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		return err_set("drop-in path %s is too long", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return err_set_errno("cannot write the drop-in next to %s", path);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return err_set_errno("cannot write %s", tmp);
	}
	fprintf(f, "# Written by 'slicevm host bootargs'; run update-grub after changing it.\n");
	comments(plan, f);
	fprintf(f, "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX %s\"\n", line);
	if (fchmod(fd, 0644) < 0 || fflush(f) || fsync(fd) < 0) {
		err_set_errno("cannot write %s", tmp);
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f)) {
		unlink(tmp);
		return err_set_errno("cannot write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		err_set_errno("cannot write %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}
