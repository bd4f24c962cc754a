// SPDX-License-Identifier: GPL-2.0
/*
 * Kill points: `host apply` and `host release` killed (SIGKILL, nothing
 * runs after it) at every change they make to the host, before it and
 * after it, on the fake tree of hostsim.h. Whatever point the kill hit, the
 * operator's next `slicevm host release` (not forced) must restore the
 * tree byte for byte (every path, mode and content, no extra directory) and
 * leave the ledger empty: no plan, no slices, no journal.
 *
 * Each run forks: the child applies (or releases) with hostsim's kill_at
 * set, the parent waits for the SIGKILL and then releases as the operator
 * would. K = 1, 2, ... until a child finishes without meeting its kill
 * point; K - 1 is then the number of points there are.
 *
 * The plan gives slices PCI devices (hostsim's PCI tree): db the NVMe
 * drive 03:00.0 (its group's bridge stays on the host), web 06:00.0, which
 * has no driver; so every step of binding to vfio-pci and giving back
 * (driver_override, unbind, drivers_probe) is a kill point too, and the
 * driver links must be back byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "hostsim.h"

/* More points than apply or release could have: a runaway loop stops here. */
#define POINTS_MAX	500

static struct hostsim hs;
static struct plan plan;
static struct hs_snap before;
static int total_runs;

enum end { KILLED, FINISHED };

static int child_apply(void)
{
	struct ledger *l;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int ret = 0;

	if (host_apply_open(&l, hs.ledger_path, &hs.hp, &plan, false))
		ret = 1;
	else if (host_apply(l, &hs.hp, &plan, false, out))
		ret = 1;
	else
		ledger_close(l);
	if (ret)
		fprintf(stderr, "child apply: %s\n", err_msg());
	return ret;
}

static int child_release(void)
{
	struct ledger *l;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (ledger_open_existing(&l, hs.ledger_path) ||
	    host_release(l, &hs.hp, false, out)) {
		fprintf(stderr, "child release: %s\n", err_msg());
		return 1;
	}
	ledger_close(l);
	return 0;
}

/* Runs @fn in a child that SIGKILLs itself at change point @k (0: never). */
static enum end run_child(int k, int (*fn)(void), const char *what)
{
	int status;
	pid_t pid;

	total_runs++;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The ledger records who applies: its fake /proc must know us. */
		hs_link_pid(&hs, getpid());
		hs.points = 0;
		hs.kill_at = k;
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	hs_unlink_pid(&hs, pid);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return KILLED;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return FINISHED;
	fail_msg("%s with kill point %d ended with status 0x%x instead of SIGKILL or success",
		 what, k, status);
	return FINISHED;
}

/* An apply in this process, with no kill, as a start for the release runs. */
static void apply_here(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct ledger *l;

	hs.kill_at = 0;
	if (host_apply_open(&l, hs.ledger_path, &hs.hp, &plan, false) ||
	    host_apply(l, &hs.hp, &plan, false, out))
		fail_msg("apply: %s", err_msg());
	ledger_close(l);
	fclose(out);
	free(text);
}

/*
 * The operator's release after the crash: not forced (nothing holds a
 * slice). Then the tree must be @before again and the ledger empty.
 */
static void release_and_check(const char *ctx)
{
	struct ledger_applied a;
	struct ledger_holder *h;
	struct ledger_change *c;
	struct hs_snap after;
	const char *diff;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct ledger *l;
	int n;

	hs.kill_at = 0;
	if (ledger_open_existing(&l, hs.ledger_path))
		fail_msg("%s: opening the ledger: %s", ctx, err_msg());
	if (host_release(l, &hs.hp, false, out)) {
		fflush(out);
		fail_msg("%s: release: %s\noutput:\n%s", ctx, err_msg(), text);
	}
	assert_int_equal(ledger_get_applied(l, &a), 0);
	if (a.state != LEDGER_NONE)
		fail_msg("%s: a plan is still recorded after release (state %d)", ctx, a.state);
	ledger_applied_free(&a);
	assert_int_equal(ledger_changes(l, &c, &n), 0);
	ledger_changes_free(c, n);
	if (n)
		fail_msg("%s: %d changes still journaled after release", ctx, n);
	assert_int_equal(ledger_holders(l, &h, &n), 0);
	free(h);
	if (n)
		fail_msg("%s: %d slices still recorded after release", ctx, n);
	ledger_close(l);
	fclose(out);
	free(text);

	hs_snap_take(&after, hs.tree);
	diff = hs_snap_differs(&before, &after);
	hs_snap_free(&after);
	if (diff)
		fail_msg("%s: the tree differs after release: %s", ctx, diff);
}

static void fresh(void)
{
	hs_fresh_tree(&hs);
	hs_snap_free(&before);
	hs_snap_take(&before, hs.tree);
}

/* Apply killed at point @k (0: never); returns how it ended. */
static enum end killed_apply(int k)
{
	return run_child(k, child_apply, "apply");
}

static void test_kill_apply(void **state)
{
	char ctx[64];
	int k;

	for (k = 1; k < POINTS_MAX; k++) {
		enum end e;

		fresh();
		e = killed_apply(k);
		snprintf(ctx, sizeof(ctx), "apply killed at point %d", k);
		release_and_check(ctx);
		if (e == FINISHED)
			break;
	}
	/*
	 * 15 changes at least: workqueue, IRQs, subtree_control, two cgroups;
	 * and 5 device writes (override, unbind, probe; override, probe).
	 */
	assert_in_range(k - 1, 35, POINTS_MAX - 1);
	print_message("apply: %d kill points, each restored by one release\n", k - 1);
}

static void test_kill_release(void **state)
{
	char ctx[64];
	int k;

	for (k = 1; k < POINTS_MAX; k++) {
		enum end e;

		fresh();
		apply_here();
		e = run_child(k, child_release, "release");
		snprintf(ctx, sizeof(ctx), "release killed at point %d", k);
		release_and_check(ctx);
		if (e == FINISHED)
			break;
	}
	/*
	 * 9 changes to undo: 7 writes and 2 rmdirs; and the devices: 6 writes
	 * (unbind, override, probe; unbind, override).
	 */
	assert_in_range(k - 1, 28, POINTS_MAX - 1);
	print_message("release: %d kill points, each finished by one more release\n", k - 1);
}

/*
 * Both: apply killed at every point, then the release that undoes it killed
 * at every point of its own, then one more release. The host and ledger a
 * killed apply left are kept (a snapshot of the whole temp dir, the ledger's
 * WAL included) and put back for each release kill point.
 */
static void test_kill_apply_then_release(void **state)
{
	struct hs_snap crashed = { 0 };
	int k1, k2, pairs = 0;
	char ctx[96];

	for (k1 = 1; k1 < POINTS_MAX; k1++) {
		fresh();
		if (killed_apply(k1) == FINISHED)
			break;
		hs_snap_free(&crashed);
		hs_snap_take(&crashed, hs.dir);
		for (k2 = 1; k2 < POINTS_MAX; k2++) {
			enum end e;

			if (k2 > 1)
				hs_snap_restore(&crashed, hs.dir);
			e = run_child(k2, child_release, "release");
			snprintf(ctx, sizeof(ctx), "apply killed at %d, its release at %d", k1, k2);
			release_and_check(ctx);
			if (e == FINISHED)
				break;
			pairs++;
		}
	}
	hs_snap_free(&crashed);
	/* Every apply kill point leaves at least its own change to undo. */
	assert_true(pairs >= k1 - 1);
	print_message("apply then release: %d pairs of kill points\n", pairs);
}

static int setup(void **state)
{
	hs_init(&hs, "slicevm-killpoint");
	hs.pci = true;
	hs_fresh_tree(&hs);
	hs_plan(&plan);
	plan.slices[0].ndevices = 1;
	snprintf(plan.slices[0].devices[0], PCI_ADDR_MAX, "0000:03:00.0");
	plan.slices[1].ndevices = 1;
	snprintf(plan.slices[1].devices[0], PCI_ADDR_MAX, "0000:06:00.0");
	return 0;
}

static int teardown(void **state)
{
	hs_snap_free(&before);
	hs_fini(&hs);
	print_message("%d runs killed or finished in children\n", total_runs);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_apply),
		cmocka_unit_test(test_kill_release),
		cmocka_unit_test(test_kill_apply_then_release),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
