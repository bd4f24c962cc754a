// SPDX-License-Identifier: GPL-2.0
/* Recorded, undoable changes to the host (see journal.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/cpuset.h"
#include "host/journal.h"
#include "host/vfiobind.h"
#include "lib/err.h"

void notes_add(struct notes *n, const char *fmt, ...)
{
	char line[512];
	size_t add;
	char *more;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	add = strlen(line);
	more = realloc(n->text, n->len + add + 2);
	if (!more)
		return;		/* a lost note is not worth failing apply */
	n->text = more;
	memcpy(n->text + n->len, line, add);
	n->len += add;
	n->text[n->len++] = '\n';
	n->text[n->len] = '\0';
}

void notes_free(struct notes *n)
{
	free(n->text);
	n->text = NULL;
	n->len = 0;
}

/*
 * The places apply changes, relative to a root. In a pattern component,
 * "#" stands for a number, "@" for a PCI address (0000:03:00.0) and a
 * trailing "*" for a slice name's characters; anything else is literal.
 * The journal accepts no other path, when it records a change and again
 * when it undoes one: a ledger is only data, and a tampered one must not
 * make release write elsewhere.
 */
static const char *const cgroup_places[] = {
	"cgroup.subtree_control",
	CPUSET_DIR_PREFIX "*/cpuset.cpus.partition",
	NULL
};
static const char *const cgroup_dirs[] = { CPUSET_DIR_PREFIX "*", NULL };
static const char *const proc_places[] = {
	"irq/default_smp_affinity", "irq/#/smp_affinity", NULL
};
static const char *const sys_places[] = { "devices/virtual/workqueue/cpumask", NULL };
static const char *const fair_server_places[] = {
	"kernel/debug/sched/fair_server/cpu#/runtime", NULL
};
/* A CHANGE_PCI_BIND record names the device; undo writes only its own files. */
static const char *const pci_places[] = { "bus/pci/devices/@", NULL };

/* "0000:03:00.0", as the kernel spells it: lower-case hex, function 0-7. */
static bool pci_addr_matches(const char *s, size_t slen)
{
	static const char shape[] = "xxxx:xx:xx.f";

	if (slen != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < slen; i++) {
		if (shape[i] == 'x' && !isdigit((unsigned char)s[i]) &&
		    (s[i] < 'a' || s[i] > 'f'))
			return false;
		if (shape[i] == 'f' && (s[i] < '0' || s[i] > '7'))
			return false;
		if ((shape[i] == ':' || shape[i] == '.') && s[i] != shape[i])
			return false;
	}
	return true;
}

static bool component_matches(const char *pat, size_t plen, const char *s, size_t slen)
{
	/* "#" is a number, "cpu#" one after "cpu" */
	if (plen && pat[plen - 1] == '#') {
		if (slen < plen || strncmp(pat, s, plen - 1))
			return false;
		for (size_t i = plen - 1; i < slen; i++)
			if (s[i] < '0' || s[i] > '9')
				return false;
		return true;
	}
	if (plen == 1 && *pat == '@')
		return pci_addr_matches(s, slen);
	if (plen && pat[plen - 1] == '*') {
		if (slen < plen || strncmp(pat, s, plen - 1))
			return false;
		for (size_t i = plen - 1; i < slen; i++)
			if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
				return false;
		/* a slice name starts with a letter or digit: never "." or ".." */
		return isalnum((unsigned char)s[plen - 1]);
	}
	return plen == slen && !strncmp(pat, s, plen);
}

static bool path_matches(const char *pat, const char *rel)
{
	for (;;) {
		size_t plen = strcspn(pat, "/"), slen = strcspn(rel, "/");

		if (!component_matches(pat, plen, rel, slen))
			return false;
		pat += plen;
		rel += slen;
		if (!*pat || !*rel)
			return !*pat && !*rel;
		pat++;
		rel++;
	}
}

static bool under(const char *root, const char *path, const char *const *places)
{
	size_t n = strlen(root);

	if (strncmp(path, root, n) || path[n] != '/')
		return false;
	for (; *places; places++)
		if (path_matches(*places, path + n + 1))
			return true;
	return false;
}

bool journal_place_allowed(const struct host_paths *hp, enum ledger_change_kind kind,
			   const char *path)
{
	if (kind == CHANGE_MKDIR)
		return under(hp->cgroup, path, cgroup_dirs);
	if (kind == CHANGE_PCI_BIND)
		return under(hp->sys, path, pci_places);
	return under(hp->cgroup, path, cgroup_places) || under(hp->proc, path, proc_places) ||
	       under(hp->sys, path, sys_places) || under(hp->sys, path, fair_server_places);
}

static int not_a_place(const struct host_paths *hp, const char *path)
{
	errno = EPERM;
	return err_set("refusing to change %s: apply changes only IRQ affinities, the "
		       "workqueue mask, the fair server of slice CPUs, slicevm's cgroups "
		       "under %s and the slices' PCI devices", path, hp->cgroup);
}

/*
 * The change failed: forget its record, keeping the host's error and errno.
 * Forgetting succeeds without touching err_msg(); a ledger failure replaces
 * the error, which is then the one that matters.
 */
static int refused(struct journal *j, int64_t seq)
{
	int saved = errno;

	if (ledger_drop_change(j->ledger, seq))
		return -1;
	j->refused = true;
	errno = saved;
	return -1;
}

int journal_write(struct journal *j, const char *path, const char *val, const char *undo,
		  const char *what)
{
	char old[4096];
	int64_t seq;

	j->refused = false;
	if (!journal_place_allowed(j->hp, CHANGE_WRITE, path))
		return not_a_place(j->hp, path);
	if (!undo) {
		if (hostfs_read(path, old, sizeof(old))) {
			j->refused = true;
			return -1;
		}
		if (!strcmp(old, val))
			return 0;
		undo = old;
	}
	if (ledger_record(j->ledger, CHANGE_WRITE, path, undo, what, &seq))
		return -1;
	if (hostfs_write(j->hp, path, val))
		return refused(j, seq);
	j->changes++;
	return 0;
}

int journal_mkdir(struct journal *j, const char *path, const char *what)
{
	int64_t seq;

	j->refused = false;
	if (!journal_place_allowed(j->hp, CHANGE_MKDIR, path))
		return not_a_place(j->hp, path);
	if (ledger_record(j->ledger, CHANGE_MKDIR, path, NULL, what, &seq))
		return -1;
	if (hostfs_mkdir(j->hp, path))
		return refused(j, seq);
	j->changes++;
	return 0;
}

int journal_steps(struct journal *j, enum ledger_change_kind kind, const char *path,
		  const char *old, const char *what,
		  int (*make)(struct journal *j, void *arg), void *arg)
{
	int64_t seq;

	j->refused = false;
	if (!journal_place_allowed(j->hp, kind, path))
		return not_a_place(j->hp, path);
	if (ledger_record(j->ledger, kind, path, old, what, &seq))
		return -1;
	if (make(j, arg))
		return j->refused ? refused(j, seq) : -1;
	j->changes++;
	return 0;
}

/*
 * Undoes @c: 0 when done (or dropped), 1 when kept for a later attempt.
 * @dirs_kept: a slice cgroup newer than @c is still there.
 */
static int undo_one(struct journal *j, const struct ledger_change *c, bool dirs_kept,
		    FILE *out)
{
	if (!journal_place_allowed(j->hp, c->kind, c->path)) {
		fprintf(out, "refused: %s (%s): not a place apply changes; the ledger was "
			"altered, so nothing else in it is trusted either\n", c->path, c->what);
		j->forged++;
		return 0;
	}
	if (c->kind == CHANGE_MKDIR) {
		if (hostfs_rmdir(j->hp, c->path) == 0 || errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == EPERM || errno == EXDEV || errno == ELOOP) {
			/* apply made a directory there; something else is there now */
			fprintf(out, "refused: %s (%s): %s\n", c->path, c->what, err_msg());
			j->forged++;
			return 0;
		}
		fprintf(out, "kept: %s (%s): %s\n", c->path, c->what, err_msg());
		return 1;
	}
	if (c->kind == CHANGE_PCI_BIND)
		return vfiobind_undo(j, c, out);
	/*
	 * Linux 6.12 refuses a fair server's runtime, and corrupts its
	 * deadline accounting with a warning, for a CPU in an isolated
	 * partition: it waits until no slice partition is left.
	 */
	if (dirs_kept && under(j->hp->sys, c->path, fair_server_places)) {
		fprintf(out, "kept: %s (%s): restored once the slices' cgroups are gone\n",
			c->path, c->what);
		return 1;
	}
	if (hostfs_write(j->hp, c->path, c->old) == 0 || errno == ENOENT)
		return 0;
	/* Retrying later would not help: say so and move on. */
	fprintf(out, "not restored: %s (%s) to '%s': %s\n", c->path, c->what, c->old,
		err_msg());
	return 0;
}

int journal_undo(struct journal *j, FILE *out)
{
	struct ledger_change *c;
	int n, kept = 0, dirs_kept = 0;

	if (ledger_changes(j->ledger, &c, &n))
		return -1;
	for (int i = 0; i < n; i++) {
		int r = undo_one(j, &c[i], dirs_kept > 0, out);

		if (r > 0) {
			kept++;
			dirs_kept += c[i].kind == CHANGE_MKDIR;
			continue;
		}
		j->undone++;
		if (ledger_drop_change(j->ledger, c[i].seq)) {
			ledger_changes_free(c, n);
			return -1;
		}
	}
	ledger_changes_free(c, n);
	return kept ? 1 : 0;
}
