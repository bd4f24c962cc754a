/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_JOURNAL_H
#define SLICEVM_HOST_JOURNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "host/hostfs.h"
#include "host/ledger.h"

/*
 * Every change apply makes to the host goes through here: the value it
 * replaces is recorded in the ledger BEFORE the change is made (a crash
 * leaves an undoable record, never an unrecorded change), and forgotten
 * again when the kernel refuses the change. Undo (release, or rolling back
 * a failed apply) replays the records newest first.
 */
struct journal {
	struct ledger *ledger;
	const struct host_paths *hp;
	bool refused;	/* the last failure was the kernel refusing the change */
	int changes;	/* changes made through this journal */
	int undone;	/* changes undone by journal_undo() */
	int forged;	/* records journal_undo() refused: not a place apply changes */
	/*
	 * A forced release: the slices a running VM still holds. Their PCI
	 * devices are kept on vfio-pci (taking a device from under its VM
	 * would block in the kernel until the VM lets it go).
	 */
	const struct ledger_holder *held;
	int nheld;
};

/*
 * Is @path a place apply changes (IRQ affinities, the workqueue mask, the
 * fair server's runtime of a CPU, the cpuset controller switch, slicevm's
 * own cgroups and their partitions, PCI devices given to vfio-pci)? Checked when a change is recorded and
 * again before it is undone.
 */
bool journal_place_allowed(const struct host_paths *hp, enum ledger_change_kind kind,
			   const char *path);

/* What apply could not do, to print and to keep in the ledger. */
struct notes {
	char *text;	/* lines, each ending in '\n'; NULL when empty */
	size_t len;
};

void notes_add(struct notes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void notes_free(struct notes *n);
static inline const char *notes_text(const struct notes *n)
{
	return n->text ? n->text : "";
}

/*
 * Writes @val to @path, first recording what undoes it: @undo, or when NULL
 * the file's current value. A file that already reads @val is left alone
 * (returns 0, nothing recorded). On failure j->refused tells a refusal by
 * the kernel (errno kept, nothing recorded) from a ledger failure.
 */
int journal_write(struct journal *j, const char *path, const char *val, const char *undo,
		  const char *what);

/* Creates directory @path, recording that undo removes it. */
int journal_mkdir(struct journal *j, const char *path, const char *what);

/*
 * A change made in several steps (a PCI device given to vfio-pci): records
 * @kind at @path with @old, all that undoing it needs, then runs
 * @make(@j, @arg). When @make fails having changed nothing, it sets
 * j->refused and the record is forgotten, as journal_write() does; when it
 * fails part way the record stays, for the caller's rollback to undo.
 */
int journal_steps(struct journal *j, enum ledger_change_kind kind, const char *path,
		  const char *old, const char *what,
		  int (*make)(struct journal *j, void *arg), void *arg);

/*
 * Undoes every recorded change, newest first, forgetting each one done.
 * A file or directory that no longer exists counts as undone; a value the
 * kernel refuses to take back is reported on @out and forgotten; a directory
 * that cannot be removed (tasks still in it), a PCI device of a slice in
 * j->held and, while such a directory is kept, every fair server's runtime
 * (older than the directories) are kept for a later attempt. A PCI device
 * is given back as
 * vfiobind.h says, and @out says whether its driver took it back.
 * A record of a path apply never changes (journal_place_allowed()) is
 * reported on @out, left alone on the host, forgotten and counted in
 * j->forged.
 * Returns 0 when everything was undone, 1 when something was kept, -1 on a
 * ledger error.
 */
int journal_undo(struct journal *j, FILE *out);

#endif
