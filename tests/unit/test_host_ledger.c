// SPDX-License-Identifier: GPL-2.0
/*
 * The ledger: schema creation and version checks, claims (a race between
 * two processes, dead holders, reused pids), unclaim, transaction rollback,
 * the journal of host changes, and process identity from /proc/PID/stat.
 * Every ledger lives in a temporary directory.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "host/ledger.h"
#include "host/procstat.h"
#include "lib/err.h"

struct fixture {
	char dir[64];
	char path[192];
	char boot[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/slicevm-ledger-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* A directory that does not exist yet: ledger_open must create it. */
	snprintf(f->path, sizeof(f->path), "%s/lib/ledger.db", f->dir);
	assert_int_equal(procstat_boot_id("/proc", f->boot, sizeof(f->boot)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

static void make_plan(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	cpumask_parse_list("0-1", &p->housekeeping);
	p->nslices = 2;
	snprintf(p->slices[0].name, SLICE_NAME_MAX, "db");
	cpumask_parse_list("2-3", &p->slices[0].cpus);
	p->slices[0].node = 0;
	p->slices[0].memory = 1ULL << 30;
	snprintf(p->slices[1].name, SLICE_NAME_MAX, "web");
	cpumask_parse_list("4-5", &p->slices[1].cpus);
	p->slices[1].node = 0;
	p->slices[1].memory = 512ULL << 20;
	p->slices[1].ndevices = 1;
	snprintf(p->slices[1].devices[0], PCI_ADDR_MAX, "0000:03:00.0");
}

/* The directory of @path (a static buffer). */
static const char *dirname_of(const char *path)
{
	static char dir[192];

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	return dir;
}

static struct ledger *open_ok(const char *path)
{
	struct ledger *l = NULL;

	if (ledger_open(&l, path))
		fail_msg("ledger_open(%s): %s", path ? path : "default", err_msg());
	return l;
}

/* A ledger at @path with the test plan applied (as far as the ledger knows). */
static struct ledger *applied_ledger(const struct fixture *f)
{
	struct ledger *l = open_ok(f->path);
	struct plan plan;
	uint64_t start;

	make_plan(&plan);
	assert_int_equal(procstat_start_time("/proc", getpid(), &start), 0);
	if (ledger_begin_apply(l, &plan, f->boot, getpid(), start) ||
	    ledger_finish_apply(l, "           CPU0\n  0:  1  timer\n", ""))
		fail_msg("recording the plan: %s", err_msg());
	return l;
}

/* Runs SQL straight on the database, as another tool (or a bug) would. */
static void raw_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
	sqlite3_close(db);
}

static int raw_int(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_open_creates_schema(void **state)
{
	struct fixture *f = *state;
	struct ledger_applied a;
	struct ledger *l;
	struct stat sb;
	char dir[128];

	l = open_ok(f->path);
	snprintf(dir, sizeof(dir), "%s/lib", f->dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0755);
	assert_string_equal(ledger_path(l), f->path);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_NONE);
	ledger_close(l);

	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), LEDGER_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
				 "AND name IN ('applied', 'slices', 'changes')"), 3);
	/* WAL is a property of the file: a fresh connection sees it. */
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	/* Opening again keeps it. */
	l = open_ok(f->path);
	ledger_close(l);
}

static void test_open_env_and_missing_parent(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = NULL;
	char path[160];

	setenv(LEDGER_ENV, f->path, 1);
	assert_string_equal(ledger_resolve_path(NULL), f->path);
	assert_string_equal(ledger_resolve_path(""), f->path);
	l = open_ok(NULL);
	assert_string_equal(ledger_path(l), f->path);
	ledger_close(l);
	unsetenv(LEDGER_ENV);
	assert_string_equal(ledger_resolve_path(NULL), LEDGER_DEFAULT_PATH);

	/* Only the ledger's own directory is created, not a whole tree. */
	snprintf(path, sizeof(path), "%s/a/b/ledger.db", f->dir);
	assert_int_equal(ledger_open(&l, path), -1);
	assert_non_null(strstr(err_msg(), "cannot create ledger directory"));
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = NULL;

	ledger_close(open_ok(f->path));
	raw_sql(f->path, "PRAGMA user_version = 7");
	assert_int_equal(ledger_open(&l, f->path), -1);
	assert_non_null(strstr(err_msg(), "schema version 7"));
	assert_non_null(strstr(err_msg(), "newer"));
	/* Refusing changed nothing. */
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 7);
}

static void test_foreign_database_refused(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = NULL;
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/other.db", f->dir);
	raw_sql(path, "CREATE TABLE accounts (id INTEGER)");
	assert_int_equal(ledger_open(&l, path), -1);
	assert_non_null(strstr(err_msg(), "is not a slicevm ledger"));
	assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master"), 1);

	/* Not a database at all: one line naming the file, not SQLite's words. */
	snprintf(path, sizeof(path), "%s/text.db", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("these are not the pages you are looking for\n", fp);
	fclose(fp);
	assert_int_equal(ledger_open(&l, path), -1);
	assert_non_null(strstr(err_msg(), "text.db is not a slicevm ledger: give another --ledger"));
	assert_null(strstr(err_msg(), "file is not a database"));
	assert_int_equal(ledger_open_existing(&l, path), -1);
	assert_non_null(strstr(err_msg(), "text.db is not a slicevm ledger: give another --ledger"));
}

static void test_claim_without_plan(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = open_ok(f->path);
	struct cpumask hk;
	struct slice s;

	assert_int_equal(ledger_claim(l, "db", "vm1", getpid(), &s, &hk), -1);
	assert_non_null(strstr(err_msg(), "no plan is applied"));
	ledger_close(l);
}

static void test_claim_and_unclaim(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = applied_ledger(f);
	struct ledger_holder *h;
	struct cpumask hk, want;
	struct slice s;
	int n;

	assert_int_equal(ledger_claim(l, "nosuch", "vm1", getpid(), &s, &hk), -1);
	assert_non_null(strstr(err_msg(), "slice 'nosuch' is not in the applied plan"));

	if (ledger_claim(l, "web", "vm1", getpid(), &s, &hk))
		fail_msg("claim: %s", err_msg());
	assert_string_equal(s.name, "web");
	cpumask_parse_list("4-5", &want);
	assert_true(cpumask_equal(&s.cpus, &want));
	assert_int_equal(s.ndevices, 1);
	assert_string_equal(s.devices[0], "0000:03:00.0");
	cpumask_parse_list("0-1", &want);
	assert_true(cpumask_equal(&hk, &want));
	assert_string_equal(ledger_note(l), "");

	assert_int_equal(ledger_holders(l, &h, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(h[0].name, "db");
	assert_false(h[0].held);
	assert_string_equal(h[1].name, "web");
	assert_true(h[1].held);
	assert_true(h[1].alive);
	assert_string_equal(h[1].vm, "vm1");
	assert_int_equal(h[1].pid, getpid());
	free(h);

	/* The same process claiming again is fine (a retry). */
	assert_int_equal(ledger_claim(l, "web", "vm1", getpid(), &s, &hk), 0);
	/* Only the holder frees it. */
	assert_int_equal(ledger_unclaim(l, "web", getpid() + 1), 1);
	assert_int_equal(ledger_unclaim(l, "web", getpid()), 0);
	assert_int_equal(ledger_unclaim(l, "web", getpid()), 1);
	assert_int_equal(ledger_holders(l, &h, &n), 0);
	assert_false(h[1].held);
	free(h);
	ledger_close(l);
}

/* A child that stays alive until we write to (or close) @hold. */
static pid_t sleeper(int *hold)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;

		close(p[1]);
		if (read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	*hold = p[1];
	return pid;
}

static void reap(pid_t pid, int hold)
{
	int status;

	close(hold);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void test_claim_held_by_live_process(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = applied_ledger(f);
	struct cpumask hk;
	struct slice s;
	char want[128];
	int hold;
	pid_t vm = sleeper(&hold);

	if (ledger_claim(l, "db", "web", vm, &s, &hk))
		fail_msg("claim for the child: %s", err_msg());
	assert_int_equal(ledger_claim(l, "db", "other", getpid(), &s, &hk), -1);
	snprintf(want, sizeof(want), "slice db is held by VM web (pid %d): stop that VM first ('slicevm stop web')",
		 (int)vm);
	assert_string_equal(err_msg(), want);
	/* The refused claim left the holder as it was. */
	assert_int_equal(ledger_unclaim(l, "db", getpid()), 1);

	/* Once the holder is dead (and reaped), the slice is taken over. */
	reap(vm, hold);
	if (ledger_claim(l, "db", "other", getpid(), &s, &hk))
		fail_msg("takeover: %s", err_msg());
	assert_non_null(strstr(ledger_note(l), "which is gone"));
	ledger_close(l);
}

static void test_claim_dead_zombie_holder(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = applied_ledger(f);
	struct cpumask hk;
	struct slice s;
	int hold, status;
	pid_t vm = sleeper(&hold);

	assert_int_equal(ledger_claim(l, "db", "web", vm, &s, &hk), 0);
	close(hold);
	/* Exited but not reaped: /proc/PID still exists, in state Z. */
	for (int i = 0; i < 200; i++) {
		char path[64], buf[256];
		FILE *fp;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)vm);
		fp = fopen(path, "r");
		assert_non_null(fp);
		assert_non_null(fgets(buf, sizeof(buf), fp));
		fclose(fp);
		if (strstr(buf, ") Z "))
			break;
		usleep(10000);
	}
	assert_int_equal(ledger_claim(l, "db", "other", getpid(), &s, &hk), 0);
	assert_non_null(strstr(ledger_note(l), "which is gone"));
	assert_int_equal(waitpid(vm, &status, 0), vm);
	ledger_close(l);
}

static void test_claim_reused_pid(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = applied_ledger(f);
	struct ledger_holder *h;
	struct cpumask hk;
	struct slice s;
	int n, hold;
	pid_t other;

	assert_int_equal(ledger_claim(l, "db", "old", getpid(), &s, &hk), 0);
	/*
	 * The recorded holder had our pid but started at another time: the
	 * process that claimed is gone and its pid was reused (by us).
	 */
	raw_sql(f->path, "UPDATE slices SET pid_start = pid_start + 1 WHERE name = 'db'");
	assert_int_equal(ledger_holders(l, &h, &n), 0);
	assert_true(h[0].held);
	assert_false(h[0].alive);
	free(h);
	other = sleeper(&hold);
	if (ledger_claim(l, "db", "new", other, &s, &hk))
		fail_msg("claim over a reused pid: %s", err_msg());
	assert_non_null(strstr(ledger_note(l), "taking it over"));
	assert_int_equal(ledger_holders(l, &h, &n), 0);
	assert_string_equal(h[0].vm, "new");
	assert_int_equal(h[0].pid, other);
	assert_true(h[0].alive);
	free(h);
	reap(other, hold);

	/* The same for the claimer's own pid recorded with another start time. */
	raw_sql(f->path, "UPDATE slices SET pid = 0, pid_start = 0 WHERE name = 'db'");
	{
		char sql[128];

		snprintf(sql, sizeof(sql),
			 "UPDATE slices SET pid = %d, pid_start = 1 WHERE name = 'db'",
			 (int)getpid());
		raw_sql(f->path, sql);
	}
	assert_int_equal(ledger_claim(l, "db", "me", getpid(), &s, &hk), 0);
	assert_non_null(strstr(ledger_note(l), "taking it over"));
	ledger_close(l);
}

/*
 * In a child: wait for "go", claim db as @vm, report on @res '1' (claimed),
 * '0' (refused with a message holding @refused) or 'E', and stay alive
 * until @done closes.
 */
static void racer(const char *path, int go, int res, int done, const char *vm,
		  const char *refused)
{
	struct ledger *l = NULL;
	struct cpumask hk;
	struct slice s;
	char c = 0, r;

	if (ledger_open(&l, path))
		_exit(2);
	if (read(go, &c, 1) != 1)
		_exit(3);
	r = ledger_claim(l, "db", vm, getpid(), &s, &hk) == 0 ? '1' :
	    strstr(err_msg(), refused) ? '0' : 'E';
	if (write(res, &r, 1) != 1)
		_exit(4);
	if (read(done, &c, 1) < 0)
		_exit(5);
	ledger_close(l);
	_exit(0);
}

static void test_claim_race(void **state)
{
	struct fixture *f = *state;

	for (int round = 0; round < 8; round++) {
		int go[2], res[2], done[2], wins = 0, losses = 0, status;
		pid_t kids[2];
		struct ledger *l;
		char path[160];

		snprintf(path, sizeof(path), "%s/race%d.db", f->dir, round);
		snprintf(f->path, sizeof(f->path), "%s", path);
		l = applied_ledger(f);
		assert_int_equal(pipe(go), 0);
		assert_int_equal(pipe(res), 0);
		assert_int_equal(pipe(done), 0);
		for (int k = 0; k < 2; k++) {
			kids[k] = fork();
			assert_true(kids[k] >= 0);
			if (kids[k] == 0) {
				close(go[1]);
				close(res[0]);
				close(done[1]);
				racer(path, go[0], res[1], done[0], k ? "b" : "a",
				      "is held by VM");
			}
		}
		close(go[0]);
		close(res[1]);
		close(done[0]);
		/* Both start claiming at once. */
		assert_int_equal(write(go[1], "gg", 2), 2);
		for (int k = 0; k < 2; k++) {
			char r;

			assert_int_equal(read(res[0], &r, 1), 1);
			if (r == '1')
				wins++;
			else if (r == '0')
				losses++;
			else
				fail_msg("a racer failed for another reason");
		}
		assert_int_equal(wins, 1);
		assert_int_equal(losses, 1);
		close(done[1]);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		close(go[1]);
		close(res[0]);
		ledger_close(l);
	}
}

static void test_claim_while_applying_or_stale(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = open_ok(f->path);
	struct cpumask hk;
	struct plan plan;
	struct slice s;

	make_plan(&plan);
	assert_int_equal(ledger_begin_apply(l, &plan, f->boot, getpid(), 1), 0);
	assert_int_equal(ledger_claim(l, "db", "vm", getpid(), &s, &hk), -1);
	assert_non_null(strstr(err_msg(), "still being applied"));
	assert_int_equal(ledger_forget(l), 0);

	/* A plan applied in another boot: its cgroups are gone. */
	assert_int_equal(ledger_begin_apply(l, &plan, "not-this-boot", getpid(), 1), 0);
	assert_int_equal(ledger_finish_apply(l, "", ""), 0);
	assert_int_equal(ledger_claim(l, "db", "vm", getpid(), &s, &hk), -1);
	assert_non_null(strstr(err_msg(), "before the host rebooted"));
	ledger_close(l);
}

/* Only a plan from an earlier boot is forgotten, with its journal. */
static void test_forget_stale(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = applied_ledger(f);
	struct ledger_change *c;
	struct ledger_applied a;
	struct ledger_holder *h;
	struct plan plan;
	int64_t seq;
	int n;

	/* Nothing recorded: nothing to forget. */
	assert_int_equal(ledger_forget(l), 0);
	assert_int_equal(ledger_forget_stale(l, f->boot), 0);

	/* This boot's plan (a concurrent apply's fresh record) stays. */
	ledger_close(l);
	l = applied_ledger(f);
	assert_int_equal(ledger_record(l, CHANGE_MKDIR, "/x", NULL, "a slice", &seq), 0);
	assert_int_equal(ledger_forget_stale(l, f->boot), 0);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_APPLIED);
	ledger_applied_free(&a);
	assert_int_equal(ledger_changes(l, &c, &n), 0);
	assert_int_equal(n, 1);
	ledger_changes_free(c, n);

	/* Seen from another boot it is stale: plan, slices and journal go. */
	assert_int_equal(ledger_forget_stale(l, "another-boot"), 1);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_NONE);
	ledger_applied_free(&a);
	assert_int_equal(ledger_holders(l, &h, &n), 0);
	assert_int_equal(n, 0);
	free(h);
	assert_int_equal(ledger_changes(l, &c, &n), 0);
	assert_int_equal(n, 0);
	ledger_changes_free(c, n);

	/* A half-done apply of an earlier boot is stale too. */
	make_plan(&plan);
	assert_int_equal(ledger_begin_apply(l, &plan, "old-boot", getpid(), 1), 0);
	assert_int_equal(ledger_forget_stale(l, f->boot), 1);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_NONE);
	ledger_applied_free(&a);
	ledger_close(l);
}

static void test_begin_apply_rolls_back(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = open_ok(f->path);
	struct ledger_applied a;
	struct ledger_holder *h;
	struct plan plan;
	int n;

	/*
	 * The second slice row violates the primary key, after the applied
	 * row and the first slice went in: the whole transaction must go.
	 */
	make_plan(&plan);
	snprintf(plan.slices[1].name, SLICE_NAME_MAX, "db");
	assert_int_equal(ledger_begin_apply(l, &plan, f->boot, getpid(), 1), -1);
	assert_non_null(strstr(err_msg(), "cannot record slice 'db'"));
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_NONE);
	assert_int_equal(ledger_holders(l, &h, &n), 0);
	assert_int_equal(n, 0);
	free(h);

	/* A second plan on top of one is refused, leaving the first. */
	make_plan(&plan);
	assert_int_equal(ledger_begin_apply(l, &plan, f->boot, getpid(), 1), 0);
	snprintf(plan.slices[0].name, SLICE_NAME_MAX, "other");
	assert_int_equal(ledger_begin_apply(l, &plan, f->boot, getpid(), 1), -1);
	assert_non_null(strstr(err_msg(), "already records a plan"));
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_APPLYING);
	assert_non_null(strstr(a.plan_json, "\"db\""));
	assert_null(strstr(a.plan_json, "\"other\""));
	ledger_applied_free(&a);
	/* finish_apply without a plan being applied fails and changes nothing. */
	assert_int_equal(ledger_forget(l), 0);
	assert_int_equal(ledger_finish_apply(l, "", ""), -1);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_NONE);
	ledger_close(l);
}

static char *raw_text(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	char *v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void assert_journal_mode(const char *path, const char *want)
{
	char *mode = raw_text(path, "PRAGMA journal_mode");

	assert_string_equal(mode, want);
	free(mode);
}

/* A database that is not ours is refused before anything in it changes. */
static void test_refused_database_keeps_journal_mode(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/other.db", f->dir);
	raw_sql(path, "CREATE TABLE accounts (id INTEGER)");
	assert_journal_mode(path, "delete");
	assert_int_equal(ledger_open(&l, path), -1);
	assert_non_null(strstr(err_msg(), "is not a slicevm ledger"));
	assert_journal_mode(path, "delete");
	assert_int_equal(ledger_open_existing(&l, path), -1);
	assert_journal_mode(path, "delete");

	snprintf(path, sizeof(path), "%s/newer.db", f->dir);
	raw_sql(path, "PRAGMA user_version = 9");
	assert_int_equal(ledger_open(&l, path), -1);
	assert_non_null(strstr(err_msg(), "schema version 9"));
	assert_journal_mode(path, "delete");
}

static void test_open_existing(void **state)
{
	struct fixture *f = *state;
	struct ledger_applied a;
	struct ledger *l = NULL;
	struct stat sb;
	char want[512], path[160], dir[128];

	/* No ledger: nothing is created, not even its directory. */
	snprintf(dir, sizeof(dir), "%s/lib", f->dir);
	assert_int_equal(ledger_open_existing(&l, f->path), 1);
	snprintf(want, sizeof(want),
		 "no plan is applied (no ledger at %s): run 'slicevm host apply CONFIG' first",
		 f->path);
	assert_string_equal(err_msg(), want);
	assert_null(l);
	assert_int_equal(stat(dir, &sb), -1);
	setenv(LEDGER_ENV, f->path, 1);
	assert_int_equal(ledger_open_existing(&l, NULL), 1);
	assert_string_equal(err_msg(), want);
	unsetenv(LEDGER_ENV);
	assert_int_equal(stat(dir, &sb), -1);

	/* An empty file is no ledger either, and stays empty. */
	snprintf(path, sizeof(path), "%s/empty.db", f->dir);
	close(creat(path, 0644));
	assert_int_equal(ledger_open_existing(&l, path), 1);
	assert_non_null(strstr(err_msg(), "no plan is applied (no ledger at "));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);

	/* A ledger apply made opens. */
	ledger_close(open_ok(f->path));
	/* holding no plan, it reads as none (2), not as an error */
	{
		struct plan p;

		assert_int_equal(ledger_read_plan(f->path, &p), 2);
		assert_non_null(strstr(err_msg(), "no plan is applied (the ledger at "));
		assert_int_equal(ledger_read_plan(path, &p), 1);
	}
	assert_int_equal(ledger_open_existing(&l, f->path), 0);
	assert_non_null(l);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_NONE);
	ledger_close(l);
}

/* Version 1 ledgers (no 'releasing' state) are upgraded to 4, keeping their rows. */
static void test_upgrade_v1(void **state)
{
	struct fixture *f = *state;
	struct ledger_change *c;
	struct ledger_holder *h;
	int64_t seq;
	struct ledger_applied a;
	struct ledger *l = NULL;
	char sql[512];
	int n;

	assert_int_equal(mkdir(dirname_of(f->path), 0755), 0);
	raw_sql(f->path,
		"CREATE TABLE applied (id INTEGER PRIMARY KEY CHECK (id = 1),"
		" plan TEXT NOT NULL,"
		" state TEXT NOT NULL CHECK (state IN ('applying', 'applied')),"
		" pid INTEGER NOT NULL, pid_start INTEGER NOT NULL, boot_id TEXT NOT NULL,"
		" applied_at INTEGER NOT NULL, interrupts TEXT, notes TEXT NOT NULL DEFAULT '');"
		"CREATE TABLE slices (name TEXT PRIMARY KEY, position INTEGER NOT NULL,"
		" cpus TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('free', 'held')),"
		" vm TEXT, pid INTEGER, pid_start INTEGER, claimed_at INTEGER,"
		" CHECK ((state = 'held') = (pid IS NOT NULL)));"
		"CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		" kind TEXT NOT NULL CHECK (kind IN ('write', 'mkdir')), path TEXT NOT NULL,"
		" old TEXT, what TEXT NOT NULL, CHECK ((kind = 'write') = (old IS NOT NULL)));"
		"INSERT INTO slices VALUES ('db', 0, '2-3', 'free', NULL, NULL, NULL, NULL);"
		"INSERT INTO changes (kind, path, old, what) VALUES ('write', '/x', '1', 'x');"
		"PRAGMA user_version = 1;");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO applied VALUES (1, '{\"housekeeping\":\"0-1\",\"slices\":[{\"name\":\"db\","
		 "\"cpus\":\"2-3\",\"node\":0,\"memory\":1024,\"devices\":[]}]}', 'applied', 1, 2,"
		 " '%s', 3, 'snap', 'a note')", f->boot);
	raw_sql(f->path, sql);

	assert_int_equal(ledger_open_existing(&l, f->path), 0);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), LEDGER_SCHEMA_VERSION);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_APPLIED);
	assert_string_equal(a.notes, "a note");
	assert_string_equal(a.interrupts, "snap");
	ledger_applied_free(&a);
	assert_int_equal(ledger_holders(l, &h, &n), 0);
	assert_int_equal(n, 1);
	free(h);
	assert_int_equal(ledger_begin_release(l, getpid(), 1, false, &h, &n), 0);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_RELEASING);
	ledger_applied_free(&a);

	/* The journal survived the copy (version 4), and new records come after it. */
	assert_int_equal(ledger_record(l, CHANGE_PCI_BIND, "/sys/bus/pci/devices/0000:03:00.0",
				       "slice=db driver=nvme override=", "bind", &seq), 0);
	assert_int_equal(ledger_changes(l, &c, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].kind, CHANGE_PCI_BIND);
	assert_int_equal(c[0].seq, seq);
	assert_string_equal(c[0].old, "slice=db driver=nvme override=");
	assert_int_equal(c[1].kind, CHANGE_WRITE);
	assert_string_equal(c[1].path, "/x");
	assert_string_equal(c[1].old, "1");
	assert_true(c[1].seq < seq);
	ledger_changes_free(c, n);
	/* A bind record holds what undo needs: never without it. */
	assert_int_equal(ledger_record(l, CHANGE_PCI_BIND, "/y", NULL, "bad", &seq), -1);
	ledger_close(l);
}

static void test_claim_refused_while_releasing(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = applied_ledger(f);
	struct ledger_holder *h;
	struct ledger_applied a;
	struct cpumask hk;
	struct slice s;
	uint64_t start;
	char want[160];
	int n, hold;
	pid_t vm = sleeper(&hold);

	assert_int_equal(procstat_start_time("/proc", getpid(), &start), 0);
	/* A running VM holds db: refused in the same transaction, nothing marked. */
	assert_int_equal(ledger_claim(l, "db", "web", vm, &s, &hk), 0);
	assert_int_equal(ledger_begin_release(l, getpid(), start, false, &h, &n), -1);
	snprintf(want, sizeof(want),
		 "slice db is held by VM web (pid %d): stop it first ('slicevm stop web'), or give --force",
		 (int)vm);
	assert_string_equal(err_msg(), want);
	assert_null(h);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_APPLIED);
	ledger_applied_free(&a);

	/* Forced: marked, and the VM overridden is reported. */
	assert_int_equal(ledger_begin_release(l, getpid(), start, true, &h, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].name, "db");
	assert_int_equal(h[0].pid, vm);
	free(h);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_RELEASING);
	assert_int_equal(a.pid, getpid());
	ledger_applied_free(&a);

	/* From now on every claim is refused, whoever asks. */
	assert_int_equal(ledger_claim(l, "web", "late", getpid(), &s, &hk), -1);
	assert_string_equal(err_msg(), "slice web is being released: apply a plan again first");
	assert_int_equal(ledger_claim(l, "db", "web", vm, &s, &hk), -1);
	assert_non_null(strstr(err_msg(), "slice db is being released"));
	/* Its holder may still let go of it. */
	assert_int_equal(ledger_unclaim(l, "db", vm), 0);

	/* The same release marking again (a retry) is fine... */
	assert_int_equal(ledger_begin_release(l, getpid(), start, false, &h, &n), 0);
	/* ...another one is refused while the first is alive. */
	assert_int_equal(procstat_start_time("/proc", vm, &start), 0);
	assert_int_equal(ledger_begin_release(l, vm, start, false, &h, &n), -1);
	snprintf(want, sizeof(want), "another release is running (pid %d): wait for it",
		 (int)getpid());
	assert_string_equal(err_msg(), want);
	ledger_close(l);
	reap(vm, hold);
}

static void test_dead_release_taken_over(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = open_ok(f->path);
	struct ledger_holder *h;
	struct ledger_applied a;
	struct plan plan;
	uint64_t start;
	int n, hold;
	pid_t other = sleeper(&hold);

	assert_int_equal(procstat_start_time("/proc", other, &start), 0);
	/* Nothing recorded: nothing to release. */
	assert_int_equal(ledger_begin_release(l, getpid(), 1, false, &h, &n), 1);
	/* A live apply owns the record. */
	make_plan(&plan);
	assert_int_equal(ledger_begin_apply(l, &plan, f->boot, other, start), 0);
	assert_int_equal(ledger_begin_release(l, getpid(), 1, false, &h, &n), -1);
	assert_non_null(strstr(err_msg(), "an apply is running"));
	/* A release that died (pid 0 never runs) is taken over. */
	assert_int_equal(ledger_forget(l), 0);
	assert_int_equal(ledger_begin_apply(l, &plan, f->boot, getpid(), 1), 0);
	assert_int_equal(ledger_finish_apply(l, "", ""), 0);
	assert_int_equal(ledger_begin_release(l, 0, 1, false, &h, &n), 0);
	assert_int_equal(ledger_begin_release(l, other, start, false, &h, &n), 0);
	assert_int_equal(ledger_get_applied(l, &a), 0);
	assert_int_equal(a.state, LEDGER_RELEASING);
	assert_int_equal(a.pid, other);
	ledger_applied_free(&a);
	ledger_close(l);
	reap(other, hold);
}

/* A claim and a release at once: exactly one of them wins, never both. */
static void test_claim_release_race(void **state)
{
	struct fixture *f = *state;
	int claims = 0, releases = 0;
	uint64_t start;

	assert_int_equal(procstat_start_time("/proc", getpid(), &start), 0);
	for (int round = 0; round < 16; round++) {
		int go[2], res[2], done[2], status, n, rel;
		struct ledger_holder *h;
		struct ledger *l;
		char r;
		pid_t kid;

		snprintf(f->path, sizeof(f->path), "%s/rr%d.db", f->dir, round);
		l = applied_ledger(f);
		assert_int_equal(pipe(go), 0);
		assert_int_equal(pipe(res), 0);
		assert_int_equal(pipe(done), 0);
		kid = fork();
		assert_true(kid >= 0);
		if (kid == 0) {
			close(go[1]);
			close(res[0]);
			close(done[1]);
			racer(f->path, go[0], res[1], done[0], "vm", "is being released");
		}
		close(go[0]);
		close(res[1]);
		close(done[0]);
		assert_int_equal(write(go[1], "g", 1), 1);
		/* Give the claim a growing head start, so that both orders happen. */
		usleep((useconds_t)round * 40);
		rel = ledger_begin_release(l, getpid(), start, false, &h, &n);
		if (rel)
			assert_non_null(strstr(err_msg(), "is held by VM vm"));
		assert_int_equal(read(res[0], &r, 1), 1);
		if (r == 'E')
			fail_msg("the claim failed for another reason");
		/* Claimed, so the release was refused; or released, so the claim was. */
		assert_int_equal(r == '1', rel != 0);
		claims += r == '1';
		releases += rel == 0;
		close(done[1]);
		assert_int_equal(waitpid(kid, &status, 0), kid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(go[1]);
		close(res[0]);
		ledger_close(l);
	}
	print_message("claims won %d, releases won %d\n", claims, releases);
}

/* A slice's CPU list is stored whole, however long it is. */
static void test_long_cpu_list_stored(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = open_ok(f->path);
	char list[CPULIST_MAX], *stored;
	struct plan plan;

	make_plan(&plan);
	cpumask_clear(&plan.slices[1].cpus);
	for (int cpu = 6; cpu < CPUMASK_MAX; cpu += 2)
		cpumask_set(&plan.slices[1].cpus, cpu);
	cpumask_format_list(&plan.slices[1].cpus, list, sizeof(list));
	assert_true(strlen(list) > 1024);
	assert_int_equal(ledger_begin_apply(l, &plan, f->boot, getpid(), 1), 0);
	stored = raw_text(f->path, "SELECT cpus FROM slices WHERE name = 'web'");
	assert_string_equal(stored, list);
	free(stored);
	ledger_close(l);
}

static void test_journal_records(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = applied_ledger(f);
	struct ledger_change *c;
	int64_t s1, s2, s3;
	int n;

	assert_int_equal(ledger_record(l, CHANGE_WRITE, "/x/a", "f", "first", &s1), 0);
	assert_int_equal(ledger_record(l, CHANGE_MKDIR, "/x/dir", NULL, "second", &s2), 0);
	assert_int_equal(ledger_record(l, CHANGE_WRITE, "/x/b", "", "third", &s3), 0);
	assert_true(s1 < s2 && s2 < s3);
	assert_int_equal(ledger_drop_change(l, s3), 0);
	assert_int_equal(ledger_changes(l, &c, &n), 0);
	assert_int_equal(n, 2);
	/* Newest first: the order to undo them. */
	assert_int_equal(c[0].kind, CHANGE_MKDIR);
	assert_string_equal(c[0].path, "/x/dir");
	assert_null(c[0].old);
	assert_int_equal(c[1].kind, CHANGE_WRITE);
	assert_string_equal(c[1].old, "f");
	assert_string_equal(c[1].what, "first");
	ledger_changes_free(c, n);

	/* A write without an old value breaks the schema's rule: refused. */
	assert_int_equal(ledger_record(l, CHANGE_WRITE, "/x/c", NULL, "bad", &s3), -1);
	assert_int_equal(ledger_changes(l, &c, &n), 0);
	assert_int_equal(n, 2);
	ledger_changes_free(c, n);

	assert_int_equal(ledger_forget(l), 0);
	assert_int_equal(ledger_changes(l, &c, &n), 0);
	assert_int_equal(n, 0);
	ledger_changes_free(c, n);
	ledger_close(l);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_procstat(void **state)
{
	struct fixture *f = *state;
	uint64_t start, again;
	char path[160], buf[128];

	assert_int_equal(procstat_start_time("/proc", getpid(), &start), 0);
	assert_true(start > 0);
	assert_int_equal(procstat_start_time("/proc", getpid(), &again), 0);
	assert_true(start == again);
	assert_true(procstat_alive("/proc", getpid(), start));
	assert_false(procstat_alive("/proc", getpid(), start + 1));
	assert_int_equal(procstat_start_time("/proc", 0, &again), 1);

	/* A command name with spaces and parentheses, in a fake /proc. */
	snprintf(path, sizeof(path), "%s/proc/4242", f->dir);
	snprintf(buf, sizeof(buf), "%s/proc", f->dir);
	assert_int_equal(mkdir(buf, 0755), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	strcat(path, "/stat");
	write_file(path, "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 "
			 "20 0 1 0 987654 1000 10\n");
	assert_int_equal(procstat_start_time(buf, 4242, &start), 0);
	assert_true(start == 987654);
	write_file(path, "4242 (vm) Z 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 "
			 "20 0 1 0 987654 0 0\n");
	assert_int_equal(procstat_start_time(buf, 4242, &start), 1);
	write_file(path, "4242 (vm) S 1 2 3\n");
	assert_int_equal(procstat_start_time(buf, 4242, &start), -1);
	assert_int_equal(procstat_start_time(buf, 4243, &start), 1);
	/* a stat file that cannot be read or parsed: not dead, not alive */
	assert_int_equal(procstat_alive(buf, 4242, 987654), -1);
	assert_non_null(strstr(err_msg(), "cannot tell whether pid 4242 runs"));
	assert_int_equal(procstat_alive(buf, 4243, 987654), 0);
}

/* A ledger (or its directory, or its WAL) that others own or may write is refused. */
static void test_untrusted_ledger_refused(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = NULL;
	char wal[256], dir[192];

	ledger_close(applied_ledger(f));
	snprintf(dir, sizeof(dir), "%s", dirname_of(f->path));
	snprintf(wal, sizeof(wal), "%s-wal", f->path);

	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(ledger_open_existing(&l, f->path), -1);
	assert_non_null(strstr(err_msg(), "may be written by others (mode 0666): chmod go-w"));
	assert_int_equal(ledger_open_readonly(&l, f->path), -1);
	assert_int_equal(ledger_open(&l, f->path), -1);
	assert_int_equal(chmod(f->path, 0644), 0);

	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(ledger_open_existing(&l, f->path), -1);
	assert_non_null(strstr(err_msg(), "ledger directory"));
	/* a sticky directory (like /tmp) keeps others from replacing the file */
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(ledger_open_existing(&l, f->path), 0);
	ledger_close(l);
	assert_int_equal(chmod(dir, 0755), 0);

	/* the write-ahead log, kept between runs, holds the latest changes too */
	assert_int_equal(access(wal, F_OK), 0);
	assert_int_equal(chmod(wal, 0646), 0);
	assert_int_equal(ledger_open_existing(&l, f->path), -1);
	assert_non_null(strstr(err_msg(), "-wal may be written by others"));
	assert_int_equal(chmod(wal, 0644), 0);

	if (geteuid() == 0) {
		assert_int_equal(chown(f->path, 4321, 4321), 0);
		assert_int_equal(ledger_open_existing(&l, f->path), -1);
		assert_non_null(strstr(err_msg(), "is owned by uid 4321, not root"));
		assert_int_equal(chown(f->path, 0, 0), 0);
	}
	assert_int_equal(ledger_open_existing(&l, f->path), 0);
	ledger_close(l);
}

/* In a child running as nobody: status reads work, writes say "run as root". */
static int reads_as_user(const struct fixture *f)
{
	struct ledger_holder *h;
	struct cpumask hk;
	struct ledger *u = NULL;
	int n, status;
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		struct slice s;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (ledger_open_readonly(&u, f->path)) {
			fprintf(stderr, "read-only open as a user: %s\n", err_msg());
			_exit(11);
		}
		if (ledger_holders(u, &h, &n) || n != 2 || !h[0].held) {
			fprintf(stderr, "holders as a user: %s\n", err_msg());
			_exit(12);
		}
		free(h);
		ledger_close(u);
		err_set("-");
		if (ledger_open_existing(&u, f->path) == 0) {
			if (ledger_claim(u, "web", "user", getpid(), &s, &hk) != -1)
				_exit(13);
			ledger_close(u);
		}
		if (!strstr(err_msg(), "run as root")) {
			fprintf(stderr, "writing as a user: %s\n", err_msg());
			_exit(14);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * Reading needs no write access: a user who may only read the ledger gets
 * status, and a reader never waits for (or takes) the write lock.
 */
static void test_readonly_open(void **state)
{
	struct fixture *f = *state;
	struct ledger_holder *h;
	struct ledger *l = applied_ledger(f), *ro = NULL;
	struct slice s;
	struct cpumask hk;
	sqlite3 *writer;
	struct plan plan;
	char side[256];
	int n;

	assert_int_equal(ledger_claim(l, "db", "web", getpid(), &s, &hk), 0);
	ledger_close(l);

	/* another process holds the write lock: a reader is not blocked */
	assert_int_equal(sqlite3_open(f->path, &writer), SQLITE_OK);
	assert_int_equal(sqlite3_exec(writer, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(ledger_open_readonly(&ro, f->path), 0);
	assert_int_equal(ledger_holders(ro, &h, &n), 0);
	assert_int_equal(n, 2);
	assert_true(h[0].held && h[0].alive && !h[0].unsure);
	free(h);
	assert_int_equal(ledger_applied_plan(ro, &plan), 0);
	assert_int_equal(plan.nslices, 2);
	ledger_close(ro);
	sqlite3_exec(writer, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(writer);
	/* that foreign writer removed the WAL files as it closed; slicevm keeps them */
	ledger_close(open_ok(f->path));

	if (geteuid() != 0)
		return;
	/* as a user, on root's 0644 ledger in a 0755 directory */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(reads_as_user(f), 0);
	/* WAL files gone (another SQLite client closed it last): read all the same */
	assert_int_equal(sqlite3_open(f->path, &writer), SQLITE_OK);
	assert_int_equal(sqlite3_exec(writer, "SELECT count(*) FROM slices", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(writer);
	snprintf(side, sizeof(side), "%s-wal", f->path);
	assert_int_equal(access(side, F_OK), -1);
	assert_int_equal(reads_as_user(f), 0);
	assert_int_equal(chmod(f->dir, 0700), 0);
}

/*
 * A holder whose liveness cannot be told (recorded in another PID
 * namespace) is never taken for dead: no takeover, no release without
 * --force, and status says why.
 */
static void test_unknown_liveness_is_not_dead(void **state)
{
	struct fixture *f = *state;
	struct ledger *l = applied_ledger(f);
	struct ledger_holder *h;
	struct slice s;
	struct cpumask hk;
	uint64_t start;
	char sql[256];
	int n;

	/* pid 999999 is not running here, but it was recorded in another namespace */
	snprintf(sql, sizeof(sql), "UPDATE slices SET state = 'held', vm = 'far', pid = 999999, "
		 "pid_start = 5, claimed_at = 1, pidns = %llu WHERE name = 'db'",
		 (unsigned long long)procstat_pidns("/proc") + 1);
	raw_sql(f->path, sql);
	assert_int_equal(ledger_holders(l, &h, &n), 0);
	assert_true(h[0].alive && h[0].unsure);
	assert_non_null(strstr(h[0].why, "another PID namespace"));
	free(h);
	assert_int_equal(ledger_claim(l, "db", "mine", getpid(), &s, &hk), -1);
	assert_non_null(strstr(err_msg(), "slice db is held by VM far (pid 999999), and pid "
			       "999999 was recorded in another PID namespace"));
	assert_int_equal(procstat_start_time("/proc", getpid(), &start), 0);
	assert_int_equal(ledger_begin_release(l, getpid(), start, false, &h, &n), -1);
	assert_non_null(strstr(err_msg(), "or give --force"));
	assert_int_equal(ledger_begin_release(l, getpid(), start, true, &h, &n), 0);
	assert_int_equal(n, 1);
	free(h);

	/* recorded in this namespace and gone: that one is dead, and taken over */
	ledger_close(l);
	raw_sql(f->path, "DELETE FROM slices; DELETE FROM applied");
	l = applied_ledger(f);
	snprintf(sql, sizeof(sql), "UPDATE slices SET state = 'held', vm = 'gone', pid = 999999, "
		 "pid_start = 5, claimed_at = 1, pidns = %llu WHERE name = 'db'",
		 (unsigned long long)procstat_pidns("/proc"));
	raw_sql(f->path, sql);
	assert_int_equal(ledger_claim(l, "db", "mine", getpid(), &s, &hk), 0);
	assert_non_null(strstr(ledger_note(l), "which is gone: taking it over"));
	ledger_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_env_and_missing_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_database_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_without_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_and_unclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_held_by_live_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_dead_zombie_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_reused_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_while_applying_or_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_begin_apply_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_database_keeps_journal_mode, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_refused_while_releasing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_release_taken_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_release_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_cpu_list_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_procstat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_ledger_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_liveness_is_not_dead, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
