// SPDX-License-Identifier: GPL-2.0
/* Moving device interrupts to housekeeping CPUs (see irq.h). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/irq.h"
#include "lib/err.h"
#include "lib/str.h"

void irq_narrow(const struct cpumask *old, const struct cpumask *hk, struct cpumask *out)
{
	cpumask_and(out, old, hk);
	if (cpumask_empty(out))
		*out = *hk;
}

/*
 * Narrows the hex mask in @path. Returns 1 when the kernel refused (@why
 * filled), 0 when done or nothing to do, -1 on errors that must stop apply.
 */
static int narrow_file(struct journal *j, const char *path, const struct cpumask *hk,
		       const char *what, char *why, size_t len, int *moved)
{
	struct cpumask old, new;
	char buf[4096], hex[1100];

	if (hostfs_read(path, buf, sizeof(buf)) || cpumask_parse_hex(buf, &old)) {
		snprintf(why, len, "unreadable: %s", err_msg());
		return 1;
	}
	irq_narrow(&old, hk, &new);
	if (cpumask_equal(&old, &new))
		return 0;
	cpumask_format_hex(&new, hex, sizeof(hex));
	/* The recorded old value is the file's own text, restored verbatim. */
	if (journal_write(j, path, hex, buf, what)) {
		if (!j->refused)
			return -1;
		snprintf(why, len, "%s", strerror(errno));
		return 1;
	}
	(*moved)++;
	return 0;
}

static int is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int by_number(const struct dirent **a, const struct dirent **b)
{
	long x = atol((*a)->d_name), y = atol((*b)->d_name);

	return (x > y) - (x < y);
}

static int numbered(const struct dirent *d)
{
	return is_number(d->d_name);
}

static void note_refused(struct notes *notes, const char *irq, const char *path,
			 const char *why)
{
	char buf[4096];

	if (hostfs_read(path, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	notes_add(notes, "irq %s: stays on CPU mask %s (the kernel refused the move: %s)",
		  irq, buf, why);
}

int irq_apply(struct journal *j, const struct cpumask *housekeeping, struct notes *notes,
	      FILE *out)
{
	char dir[4096], path[4400], why[256], what[300];
	struct dirent **list;
	int n, moved = 0, refused = 0, r = 0;

	if (hostfs_path(dir, sizeof(dir), "%s/irq", j->hp->proc) ||
	    hostfs_path(path, sizeof(path), "%s/default_smp_affinity", dir))
		return -1;
	r = narrow_file(j, path, housekeeping, "default IRQ affinity", why, sizeof(why),
			&moved);
	if (r < 0)
		return -1;
	if (r > 0)
		return err_set("cannot set %s: %s", path, why);
	n = scandir(dir, &list, numbered, by_number);
	if (n < 0)
		return err_set_errno("cannot list %s", dir);
	for (int i = 0; i < n; i++) {
		if (hostfs_path(path, sizeof(path), "%s/%s/smp_affinity", dir,
				list[i]->d_name)) {
			r = -1;
			break;
		}
		snprintf(what, sizeof(what), "irq %s affinity", list[i]->d_name);
		r = narrow_file(j, path, housekeeping, what, why, sizeof(why), &moved);
		if (r > 0) {
			note_refused(notes, list[i]->d_name, path, why);
			refused++;
		}
		if (r < 0)
			break;
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	if (r < 0)
		return -1;
	fprintf(out, "irqs: %d moved to housekeeping CPUs, %d refused by the kernel%s\n",
		moved, refused, refused ? " (listed below)" : "");
	return 0;
}

/* The name of IRQ @irq's first handler (a directory in /proc/irq/N), or "". */
static void irq_action_name(const char *dir, char *name, size_t len)
{
	struct dirent *d;
	DIR *dp = opendir(dir);

	name[0] = '\0';
	if (!dp)
		return;
	while ((d = readdir(dp)))
		if (d->d_type == DT_DIR && d->d_name[0] != '.') {
			snprintf(name, len, "%s", d->d_name);
			break;
		}
	closedir(dp);
}

/* Reads @file of IRQ directory @dir into @buf; 0 on success. */
static int irq_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[4400];

	if (hostfs_path(path, sizeof(path), "%s/%s", dir, file))
		return -1;
	return hostfs_read(path, buf, len);
}

/* True when IRQ @irq has a handler and its effective affinity meets @cpus. */
static bool irq_meets(const char *irqdir, const char *irq, const struct cpumask *cpus,
		      char *name, size_t len)
{
	char dir[4200], buf[4096];
	struct cpumask m;

	if (hostfs_path(dir, sizeof(dir), "%s/%s", irqdir, irq))
		return false;
	irq_action_name(dir, name, len);
	if (!name[0])
		return false;	/* nobody asked for it: it never fires */
	/*
	 * effective_affinity_list is where it really goes (x86 has it:
	 * GENERIC_IRQ_EFFECTIVE_AFF_MASK); without it, where it may go.
	 */
	if (irq_read(dir, "effective_affinity_list", buf, sizeof(buf)) &&
	    irq_read(dir, "smp_affinity_list", buf, sizeof(buf)))
		return false;
	return !cpumask_parse_list(buf, &m) && cpumask_intersects(&m, cpus);
}

int irq_routed_to(const char *proc, const struct cpumask *cpus, char *list, size_t len)
{
	char dir[4096], name[256];
	struct dirent **irqs;
	size_t used = 0;
	int n, found = 0;

	list[0] = '\0';
	if (hostfs_path(dir, sizeof(dir), "%s/irq", proc))
		return 0;
	n = scandir(dir, &irqs, numbered, by_number);
	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (irq_meets(dir, irqs[i]->d_name, cpus, name, sizeof(name))) {
			if (found < IRQ_ROUTED_NAMED)
				str_append(list, len, &used, "%s%s (%s)", found ? ", " : "",
					   irqs[i]->d_name, name);
			found++;
		}
		free(irqs[i]);
	}
	free(irqs);
	if (found > IRQ_ROUTED_NAMED)
		str_append(list, len, &used, " and %d more", found - IRQ_ROUTED_NAMED);
	return found;
}

int workqueue_apply(struct journal *j, const struct cpumask *housekeeping,
		    struct notes *notes, FILE *out)
{
	char path[4096], why[256], list[1024];
	int moved = 0, r;

	if (hostfs_path(path, sizeof(path), "%s/devices/virtual/workqueue/cpumask",
			j->hp->sys))
		return -1;
	if (access(path, F_OK) < 0) {
		notes_add(notes, "no %s on this kernel: unbound kernel work may run on slice CPUs",
			  path);
		return 0;
	}
	r = narrow_file(j, path, housekeeping, "unbound workqueue CPUs", why, sizeof(why),
			&moved);
	if (r < 0)
		return -1;
	if (r > 0)
		return err_set("cannot limit unbound workqueues to CPUs %s (%s): %s",
			       cpumask_format_list(housekeeping, list, sizeof(list)), path, why);
	fprintf(out, "workqueues: unbound work %s\n",
		moved ? "limited to housekeeping CPUs" : "already on housekeeping CPUs");
	return 0;
}
