// SPDX-License-Identifier: GPL-2.0
/* Boot-time isolation parameters for a plan (see bootargs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/bootargs.h"
#include "lib/err.h"
#include "lib/size.h"

#define SZ_2M	(2ULL << 20)
#define SZ_1G	(1ULL << 30)

/* Appends to @buf (holding *@used bytes); -1 when it does not fit. */
static int append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return err_set("boot parameters do not fit in %zu bytes", len);
	*used += (size_t)n;
	return 0;
}

/* memmap=SIZE$START (or !START) for each reserved slice. */
static int format_memmap(const struct plan *plan, char *buf, size_t len, size_t *used)
{
	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];
		char size[32];

		if (s->backing != BACKING_RESERVED)
			continue;
		if (!s->phys_start)
			return err_set("slice %s's physical range is not chosen yet: run "
				       "'slicevm host bootargs' on the host itself (without "
				       "--topology), or give the slice a \"phys_start\"", s->name);
		if (append(buf, len, used, " memmap=%s%c0x%llx",
			   size_format(s->memory, size, sizeof(size)),
			   s->reserve_as == RESERVE_PMEM ? '!' : '$',
			   (unsigned long long)s->phys_start))
			return -1;
	}
	return 0;
}

/* hugepagesz=SIZE hugepages=NODE:COUNT,... for each page size hugetlb slices use. */
static int format_hugepages(const struct plan *plan, char *buf, size_t len, size_t *used)
{
	static const uint64_t sizes[] = { SZ_1G, SZ_2M };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		bool any = false;

		for (int node = 0; node < CPUMASK_MAX; node++) {
			uint64_t pages = 0;

			for (int i = 0; i < plan->nslices; i++) {
				const struct slice *s = &plan->slices[i];

				if (s->backing == BACKING_HUGETLB && s->node == node &&
				    slice_hugepage_size(s) == sizes[k])
					pages += s->memory / sizes[k];
			}
			if (!pages)
				continue;
			if (!any && append(buf, len, used, " hugepagesz=%s hugepages=",
					   sizes[k] == SZ_1G ? "1G" : "2M"))
				return -1;
			if (append(buf, len, used, "%s%d:%llu", any ? "," : "", node,
				   (unsigned long long)pages))
				return -1;
			any = true;
		}
	}
	return 0;
}

int bootargs_format(const struct plan *plan, char *buf, size_t len)
{
	char iso[CPULIST_MAX], hk[CPULIST_MAX];
	struct cpumask cpus;
	size_t used;
	int n;

	plan_slice_cpus(plan, &cpus);
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
	used = (size_t)n;
	return format_memmap(plan, buf, len, &used) ||
	       format_hugepages(plan, buf, len, &used) ? -1 : 0;
}

static bool has_backing(const struct plan *plan, enum slice_backing b)
{
	for (int i = 0; i < plan->nslices; i++)
		if (plan->slices[i].backing == b)
			return true;
	return false;
}

/* Why the memory parameters are there, one line per reserved range. */
static void memory_comments(const struct plan *plan, FILE *out)
{
	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];

		if (s->backing == BACKING_RESERVED)
			fprintf(out, "# memmap=SIZE%cSTART (slice %s, node %d): the kernel never uses "
				"0x%llx-0x%llx;\n#   %s\n", s->reserve_as == RESERVE_PMEM ? '!' : '$',
				s->name, s->node, (unsigned long long)s->phys_start,
				(unsigned long long)(s->phys_start + s->memory - 1),
				s->reserve_as == RESERVE_PMEM ?
				"'!' makes it legacy persistent memory (/dev/pmemN once nd_pmem loads)." :
				"'$' makes it a plain reserved range; the VMM maps it through /dev/mem.");
	}
	if (has_backing(plan, BACKING_RESERVED))
		fprintf(out, "#   In /etc/default/grub write each '$' as '\\\\\\$' (GRUB would read\n"
			"#   '$0x...' as a variable); --grub-dropin does that for you.\n");
	if (has_backing(plan, BACKING_HUGETLB))
		fprintf(out, "# hugepagesz=SIZE hugepages=NODE:COUNT,...: hugepages reserved at boot on\n"
			"#   each hugetlb slice's node (per-node counts need Linux 5.16 or later);\n"
			"#   1G pages for slices whose memory is a multiple of 1G, else 2M.\n");
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
	memory_comments(plan, out);
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

/*
 * The parameters as they must stand inside GRUB_CMDLINE_LINUX="...". The
 * value reaches grub.cfg verbatim (10_linux expands it into a here-document),
 * and GRUB's own script language would read "$0x40000000" as a variable, so
 * grub.cfg must hold "\$". Inside the shell's double quotes that is written
 * "\\\$": "\\" gives the backslash, "\$" the dollar.
 */
static int grub_quote(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (; *in; in++) {
		const char *rep = *in == '$' ? "\\\\\\$" : NULL;
		size_t k = rep ? strlen(rep) : 1;

		if (n + k >= len)
			return err_set("boot parameters do not fit in %zu bytes", len);
		memcpy(out + n, rep ? rep : in, k);
		n += k;
	}
	out[n] = '\0';
	return 0;
}

int bootargs_write_grub_dropin(const struct plan *plan, const char *path)
{
	char line[4096], quoted[8192], tmp[4096];
	FILE *f;
	int fd;

	if (bootargs_format(plan, line, sizeof(line)) ||
	    grub_quote(line, quoted, sizeof(quoted)))
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
	fprintf(f, "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX %s\"\n", quoted);
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
