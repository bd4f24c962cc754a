/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_LEDGER_H
#define SLICEVM_HOST_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/plan.h"
#include "lib/cpumask.h"

/*
 * The ledger: what `slicevm host apply` did to this host and who uses it.
 * An SQLite database (WAL mode, one transaction per change, BEGIN IMMEDIATE
 * for anything that reads then writes) holding
 *   - the applied plan (JSON text), the boot it was applied in, and the
 *     /proc/interrupts snapshot taken at the end of apply;
 *   - each slice's state: free, or held by a VM (name, pid, start time);
 *   - the journal of host changes apply made, with the values they replaced,
 *     so that release (or the rollback of a failed apply) can undo them.
 * The schema is versioned with PRAGMA user_version (LEDGER_SCHEMA_VERSION);
 * a ledger of a newer version, or not a slicevm ledger at all, is refused
 * before anything in it (its journal mode included) is changed. Versions 1
 * to 3 are upgraded in place. Every open refuses a ledger (or its
 * directory) that anyone but root or the caller owns or may write: its
 * journal tells release what to write as root.
 */

#define LEDGER_DEFAULT_PATH	"/var/lib/slicevm/ledger.db"
#define LEDGER_ENV		"SLICEVM_LEDGER"
/* 2: the 'releasing' state; 3: PID namespaces; 4: 'pci-bind' host changes */
#define LEDGER_SCHEMA_VERSION	4
#define LEDGER_VM_NAME_MAX	64

struct ledger;
struct ledger_holder;

/*
 * Opens (creating it, and its parent directory, if missing) the ledger at
 * @path; NULL means $SLICEVM_LEDGER, or LEDGER_DEFAULT_PATH when unset.
 */
int ledger_open(struct ledger **out, const char *path);

/*
 * Opens the ledger at @path (NULL as above) only if it exists: the VMM and
 * the commands that only read or undo use it, so that none of them leaves
 * a ledger behind. Returns 0 when opened; 1 when there is no ledger file
 * (nothing is applied: err_msg() says "no plan is applied (no ledger at
 * PATH): run 'slicevm host apply CONFIG' first"); -1 on any other error.
 * Never creates a file or directory.
 */
int ledger_open_existing(struct ledger **out, const char *path);

/*
 * Opens an existing ledger for reading only, as `host status` and
 * `host bootargs` do: no write lock, no journal-mode switch, no upgrade, so
 * a user who may only read the ledger (or a read-only file system) can.
 * Returns like ledger_open_existing(); only the reading calls may be used.
 */
int ledger_open_readonly(struct ledger **out, const char *path);

/* The path ledger_open() would use for @path (see above). */
const char *ledger_resolve_path(const char *path);
void ledger_close(struct ledger *l);
const char *ledger_path(const struct ledger *l);

/*
 * Atomically claims slice @name for (vm_name, pid): fills @slice and
 * @housekeeping from the applied plan. Fails with a clear one-line error if
 * no plan is applied, the slice does not exist, or it is held by a live
 * process ("slice db is held by VM web (pid 1234); stop it first"), or the
 * plan is being released ("slice db is being released: apply a plan again
 * first"). A holder
 * that died (pid gone, or pid reused: its start time differs) is taken over;
 * ledger_note() then says so. Claiming a slice the same process already
 * holds succeeds.
 */
int ledger_claim(struct ledger *l, const char *name, const char *vm_name, pid_t pid,
		 struct slice *slice, struct cpumask *housekeeping);

/*
 * Frees slice @name only if it is still held by @pid: 0 when it was freed,
 * 1 when @pid did not hold it (nothing changed), -1 on a ledger error.
 */
int ledger_unclaim(struct ledger *l, const char *name, pid_t pid);

/* "" or a remark about the last call worth showing the user (a takeover). */
const char *ledger_note(const struct ledger *l);

/* ---- For apply, release and status ------------------------------------ */

enum ledger_state {
	LEDGER_NONE,		/* nothing applied */
	LEDGER_APPLYING,	/* apply running, or died half way */
	LEDGER_APPLIED,
	LEDGER_RELEASING,	/* release running, or died half way */
};

struct ledger_applied {
	enum ledger_state state;
	char *plan_json;	/* plan_to_json() text */
	pid_t pid;		/* the apply (or release) process */
	uint64_t pid_start;
	char boot_id[64];	/* boot the plan was applied in */
	int64_t applied_at;	/* unix time */
	char *interrupts;	/* /proc/interrupts after apply; NULL while applying */
	char *notes;		/* what apply could not do, one per line; "" if none */
	uint64_t pidns;		/* PID namespace of pid (0: unknown) */
};

/* Fills @a (state LEDGER_NONE when nothing is applied). */
int ledger_get_applied(struct ledger *l, struct ledger_applied *a);
void ledger_applied_free(struct ledger_applied *a);

/* Parses the applied plan; fails when none is applied. */
int ledger_applied_plan(struct ledger *l, struct plan *plan);

/*
 * The applied plan of the ledger at @path (NULL as for ledger_open()),
 * opened read-only and closed again: 0; 1 when there is no ledger, 2 when
 * it holds no plan (a release left it), err_msg() saying which; -1 on any
 * other error.
 */
int ledger_read_plan(const char *path, struct plan *plan);

/*
 * One transaction: records @plan as being applied by (pid, start) in boot
 * @boot_id, with a free row per slice. Fails, changing nothing, when a plan
 * is already recorded.
 */
int ledger_begin_apply(struct ledger *l, const struct plan *plan, const char *boot_id,
		       pid_t pid, uint64_t pid_start);
/* Marks the plan applied, with the interrupt snapshot and the notes. */
int ledger_finish_apply(struct ledger *l, const char *interrupts, const char *notes);
/*
 * One transaction (the only safe place for it: a claim may come at any
 * moment): checks that nothing else owns the record and that no running VM
 * holds a slice, then marks the plan 'releasing' by (pid, start), after
 * which claims are refused. Returns 0 when marked; 1 when nothing is
 * recorded (nothing to release); -1, changing nothing, when an apply or
 * another release is running, or a live VM holds a slice and !@force.
 * With @force, *@held (free() it) lists the live holders overridden, *@nheld
 * how many; otherwise both are NULL/0. A release that died half way left
 * the state 'releasing' under a dead pid: this takes it over.
 */
int ledger_begin_release(struct ledger *l, pid_t pid, uint64_t start, bool force,
			 struct ledger_holder **held, int *nheld);

/* One transaction: forgets the plan, the slices and the journal. */
int ledger_forget(struct ledger *l);
/*
 * One transaction: forgets them only if the plan was recorded in a boot
 * other than @boot_id (the host rebooted since, undoing what apply did).
 * Deciding and deleting in one transaction keeps a concurrent apply's
 * fresh record safe. Returns 1 when it forgot a plan, 0 when there was
 * nothing stale, -1 on error.
 */
int ledger_forget_stale(struct ledger *l, const char *boot_id);

/* The journal of host changes. */
enum ledger_change_kind {
	CHANGE_WRITE,	/* undo: write @old to @path */
	CHANGE_MKDIR,	/* undo: rmdir @path */
	CHANGE_PCI_BIND,	/* undo: give PCI device @path back (vfiobind.h); @old
				 * holds its slice, driver and driver_override */
};

struct ledger_change {
	int64_t seq;
	enum ledger_change_kind kind;
	char *path;
	char *old;	/* NULL for CHANGE_MKDIR */
	char *what;	/* what the change was for, for messages */
};

/* Records a change BEFORE it is made (so a crash leaves it undoable). */
int ledger_record(struct ledger *l, enum ledger_change_kind kind, const char *path,
		  const char *old, const char *what, int64_t *seq);
/* Forgets one change (it failed, or it has been undone). */
int ledger_drop_change(struct ledger *l, int64_t seq);
/* Every recorded change, newest first (the order to undo them). */
int ledger_changes(struct ledger *l, struct ledger_change **out, int *n);
void ledger_changes_free(struct ledger_change *c, int n);

/* Slice holders, in plan order. */
struct ledger_holder {
	char name[SLICE_NAME_MAX];
	bool held;
	char vm[LEDGER_VM_NAME_MAX];
	pid_t pid;
	uint64_t pid_start;
	int64_t claimed_at;
	bool alive;		/* held, and (pid, pid_start) runs or may run */
	bool unsure;		/* alive only because it cannot be told: see why */
	char why[160];
};

int ledger_holders(struct ledger *l, struct ledger_holder **out, int *n);

#endif
