// SPDX-License-Identifier: GPL-2.0
/* The ledger: SQLite record of the applied plan, slice holders and host changes. */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "host/ledger.h"
#include "host/procstat.h"
#include "lib/err.h"
#include "lib/json.h"

/* How long a command waits for another one holding the ledger's write lock. */
#define LEDGER_BUSY_MS	10000

/* Where holders' liveness and the boot id are read. */
#define LEDGER_PROC "/proc"

struct ledger {
	sqlite3 *db;
	char path[4096];
	char note[256];
};

/*
 * Version 2. Every table is small: one applied row, one row per slice, one
 * row per host value apply replaced (a few hundred IRQs at most).
 */
#define APPLIED_TABLE(name)						\
	"CREATE TABLE " name " ("					\
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"			\
	"  plan TEXT NOT NULL,"						\
	"  state TEXT NOT NULL"						\
	"    CHECK (state IN ('applying', 'applied', 'releasing')),"	\
	"  pid INTEGER NOT NULL,"					\
	"  pid_start INTEGER NOT NULL,"					\
	"  boot_id TEXT NOT NULL,"					\
	"  applied_at INTEGER NOT NULL,"				\
	"  interrupts TEXT,"						\
	"  notes TEXT NOT NULL DEFAULT ''"				\
	");"

static const char schema_v2[] =
	APPLIED_TABLE("applied")
	"CREATE TABLE slices ("
	"  name TEXT PRIMARY KEY,"
	"  position INTEGER NOT NULL,"
	"  cpus TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('free', 'held')),"
	"  vm TEXT,"
	"  pid INTEGER,"
	"  pid_start INTEGER,"
	"  claimed_at INTEGER,"
	"  CHECK ((state = 'held') = (pid IS NOT NULL))"
	");"
	"CREATE TABLE changes ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind TEXT NOT NULL CHECK (kind IN ('write', 'mkdir')),"
	"  path TEXT NOT NULL,"
	"  old TEXT,"
	"  what TEXT NOT NULL,"
	"  CHECK ((kind = 'write') = (old IS NOT NULL))"
	");"
	"PRAGMA user_version = 2;";

/*
 * Version 1 differs only in the states the applied table allows, and a
 * CHECK constraint cannot be altered: the table is copied into a new one.
 */
static const char upgrade_v1[] =
	APPLIED_TABLE("applied_v2")
	"INSERT INTO applied_v2 (id, plan, state, pid, pid_start, boot_id, applied_at,"
	"  interrupts, notes) SELECT id, plan, state, pid, pid_start, boot_id,"
	"  applied_at, interrupts, notes FROM applied;"
	"DROP TABLE applied;"
	"ALTER TABLE applied_v2 RENAME TO applied;"
	"PRAGMA user_version = 2;";

/*
 * Errors that are the user's to fix, in the user's words: a ledger another
 * user (root) owns, or a file that is no database. Returns 0 when the last
 * error was neither.
 */
static int user_error(struct ledger *l)
{
	int code = sqlite3_errcode(l->db) & 0xff;
	int sys = sqlite3_system_errno(l->db);

	if (code == SQLITE_READONLY || code == SQLITE_PERM || code == SQLITE_AUTH ||
	    (code == SQLITE_CANTOPEN && (sys == EACCES || sys == EPERM || sys == EROFS)))
		return err_set("cannot read ledger %s: run as root (or as the ledger's owner)",
			       l->path);
	if (code == SQLITE_NOTADB)
		return err_set("%s is not a slicevm ledger: give another --ledger", l->path);
	return 0;
}

static int db_fail(struct ledger *l, const char *doing)
{
	if (user_error(l))
		return -1;
	return err_set("ledger %s: %s failed: %s", l->path, doing, sqlite3_errmsg(l->db));
}

static int exec(struct ledger *l, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (!user_error(l))
			err_set("ledger %s: %s", l->path, msg ? msg : sqlite3_errmsg(l->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *prepare(struct ledger *l, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(l, "a query");
		return NULL;
	}
	return st;
}

/* Runs a statement that returns no rows; finalizes it. */
static int step_done(struct ledger *l, sqlite3_stmt *st, const char *doing)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(l, doing);
	return 0;
}

/*
 * Writes take the lock up front (IMMEDIATE): a read-then-write transaction
 * that upgraded later could fail with SQLITE_BUSY without waiting, and two
 * claims could both read "free".
 */
static int tx_begin(struct ledger *l)
{
	if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(l, "taking the write lock (another slicevm holds it?)");
	return 0;
}

static int tx_commit(struct ledger *l)
{
	if (sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(l, "commit");
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* Keeps the error that made us roll back. */
static int tx_rollback(struct ledger *l)
{
	if (!sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

static void copy_col(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

static int make_parent_dir(const char *path)
{
	char copy[4096];
	struct stat sb;
	char *dir;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return err_set("ledger directory %s is not a directory: give another --ledger",
				       dir);
		return 0;
	}
	/* Only the ledger's own directory; a missing /var/lib is not ours to make. */
	if (errno != ENOENT || mkdir(dir, 0755) < 0)
		return err_set_errno("cannot create ledger directory %s (give --ledger PATH)",
				     dir);
	/* 0755 whatever the umask: status may be read by anyone. */
	if (chmod(dir, 0755) < 0)
		return err_set_errno("cannot set the mode of ledger directory %s", dir);
	return 0;
}

static int pragma_int(struct ledger *l, const char *sql, int *val)
{
	sqlite3_stmt *st = prepare(l, sql);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*val = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(l, sql);
}

static int no_ledger(const char *path)
{
	err_set("no plan is applied (no ledger at %s): run 'slicevm host apply CONFIG' first",
		path);
	return 1;
}

/*
 * Creates the schema in an empty database (unless @existing: then an empty
 * file means nothing is applied, and stays as it is), upgrades version 1,
 * or refuses the database. Returns 1 (no_ledger()) for that empty file.
 */
static int check_schema(struct ledger *l, bool existing)
{
	int version, tables;

	if (tx_begin(l))
		return -1;
	if (pragma_int(l, "PRAGMA user_version", &version) ||
	    pragma_int(l, "SELECT count(*) FROM sqlite_master", &tables))
		return tx_rollback(l);
	if (version == LEDGER_SCHEMA_VERSION)
		return tx_commit(l);
	if (version > LEDGER_SCHEMA_VERSION) {
		err_set("ledger %s has schema version %d, newer than this slicevm knows (%d): use a newer slicevm",
			l->path, version, LEDGER_SCHEMA_VERSION);
		return tx_rollback(l);
	}
	if (version == 1)
		return exec(l, upgrade_v1) ? tx_rollback(l) : tx_commit(l);
	if (version != 0 || tables != 0) {
		err_set("%s is not a slicevm ledger (schema version %d, %d tables): give another --ledger",
			l->path, version, tables);
		return tx_rollback(l);
	}
	if (existing) {
		/* An empty file (a ledger was never made in it) is no ledger either. */
		tx_rollback(l);
		return no_ledger(l->path);
	}
	if (exec(l, schema_v2))
		return tx_rollback(l);
	return tx_commit(l);
}

/* Only once check_schema() has said the database is ours. */
static int use_wal(struct ledger *l)
{
	sqlite3_stmt *st;
	bool wal;

	/*
	 * WAL: status readers never block a claim. synchronous=NORMAL may lose
	 * the last commits on power loss, but so does the host state the
	 * ledger describes (the boot id tells them apart).
	 */
	st = prepare(l, "PRAGMA journal_mode = WAL");
	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(l, "switching to WAL mode");
	}
	wal = !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	if (!wal)
		return err_set("ledger %s cannot use WAL mode (a network filesystem?): give a local --ledger",
			       l->path);
	return exec(l, "PRAGMA synchronous = NORMAL");
}

const char *ledger_resolve_path(const char *path)
{
	if (!path || !*path)
		path = getenv(LEDGER_ENV);
	if (!path || !*path)
		path = LEDGER_DEFAULT_PATH;
	return path;
}

/* Both opens; @existing: never create anything, 1 when there is no ledger. */
static int open_ledger(struct ledger **out, const char *path, bool existing)
{
	int flags = SQLITE_OPEN_READWRITE | (existing ? 0 : SQLITE_OPEN_CREATE);
	struct ledger *l;
	struct stat sb;
	int ret = -1;

	path = ledger_resolve_path(path);
	if (strlen(path) >= sizeof(l->path))
		return err_set("ledger path is too long: give a shorter --ledger");
	if (existing && stat(path, &sb) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return no_ledger(path);
		return err_set_errno("cannot read ledger %s", path);
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return err_set("out of memory opening the ledger");
	snprintf(l->path, sizeof(l->path), "%s", path);
	if (!existing && make_parent_dir(path))
		goto fail;
	if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
		if (!l->db)
			err_set("cannot open ledger %s: out of memory", path);
		else if (existing && stat(path, &sb) < 0 && errno == ENOENT)
			ret = no_ledger(path);	/* removed since the stat() */
		else
			db_fail(l, "opening");
		goto fail;
	}
	if (sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS) != SQLITE_OK) {
		db_fail(l, "setting the busy timeout");
		goto fail;
	}
	ret = check_schema(l, existing);
	if (ret || (ret = use_wal(l)))
		goto fail;
	*out = l;
	return 0;
fail:
	sqlite3_close(l->db);
	free(l);
	return ret;
}

int ledger_open(struct ledger **out, const char *path)
{
	return open_ledger(out, path, false);
}

int ledger_open_existing(struct ledger **out, const char *path)
{
	return open_ledger(out, path, true);
}

void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	sqlite3_close(l->db);
	free(l);
}

const char *ledger_path(const struct ledger *l)
{
	return l->path;
}

const char *ledger_note(const struct ledger *l)
{
	return l->note;
}

/* ---- The applied plan ---------------------------------------------------- */

static int read_applied(struct ledger *l, struct ledger_applied *a)
{
	sqlite3_stmt *st;
	const char *state;
	int rc;

	memset(a, 0, sizeof(*a));
	st = prepare(l, "SELECT plan, state, pid, pid_start, boot_id, applied_at, "
			"interrupts, notes FROM applied WHERE id = 1");
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		a->state = LEDGER_NONE;
		return 0;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(l, "reading the applied plan");
	}
	state = (const char *)sqlite3_column_text(st, 1);
	a->state = !state ? LEDGER_APPLYING :
		   !strcmp(state, "applied") ? LEDGER_APPLIED :
		   !strcmp(state, "releasing") ? LEDGER_RELEASING : LEDGER_APPLYING;
	a->plan_json = dup_col(st, 0);
	a->pid = (pid_t)sqlite3_column_int64(st, 2);
	a->pid_start = (uint64_t)sqlite3_column_int64(st, 3);
	copy_col(st, 4, a->boot_id, sizeof(a->boot_id));
	a->applied_at = sqlite3_column_int64(st, 5);
	a->interrupts = dup_col(st, 6);
	a->notes = dup_col(st, 7);
	sqlite3_finalize(st);
	if (!a->plan_json || !a->notes) {
		ledger_applied_free(a);
		return err_set("out of memory reading ledger %s", l->path);
	}
	return 0;
}

int ledger_get_applied(struct ledger *l, struct ledger_applied *a)
{
	return read_applied(l, a);
}

void ledger_applied_free(struct ledger_applied *a)
{
	free(a->plan_json);
	free(a->interrupts);
	free(a->notes);
	memset(a, 0, sizeof(*a));
}

static int parse_plan(struct ledger *l, const char *text, struct plan *plan)
{
	json_object *obj = json_parse_text(text, "stored plan");
	int ret;

	if (!obj)
		return err_set("ledger %s holds a damaged plan (%s): run 'slicevm host release --force'",
			       l->path, err_msg());
	ret = plan_from_json(obj, plan);
	json_object_put(obj);
	return ret;
}

int ledger_applied_plan(struct ledger *l, struct plan *plan)
{
	struct ledger_applied a;
	int ret;

	if (read_applied(l, &a))
		return -1;
	if (a.state == LEDGER_NONE)
		return err_set("no plan is applied: run 'slicevm host apply CONFIG' first");
	ret = parse_plan(l, a.plan_json, plan);
	ledger_applied_free(&a);
	return ret;
}

static int insert_slices(struct ledger *l, const struct plan *plan)
{
	for (int i = 0; i < plan->nslices; i++) {
		const struct slice *s = &plan->slices[i];
		sqlite3_stmt *st;
		char cpus[CPULIST_MAX];

		st = prepare(l, "INSERT INTO slices (name, position, cpus, state) "
				"VALUES (?, ?, ?, 'free')");
		if (!st)
			return -1;
		cpumask_format_list(&s->cpus, cpus, sizeof(cpus));
		sqlite3_bind_text(st, 1, s->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, i);
		sqlite3_bind_text(st, 3, cpus, -1, SQLITE_TRANSIENT);
		if (step_done(l, st, "recording a slice"))
			return err_set("ledger %s: cannot record slice '%s': %s",
				       l->path, s->name, sqlite3_errmsg(l->db));
	}
	return 0;
}

int ledger_begin_apply(struct ledger *l, const struct plan *plan, const char *boot_id,
		       pid_t pid, uint64_t pid_start)
{
	json_object *obj = plan_to_json(plan);
	struct ledger_applied a;
	sqlite3_stmt *st;
	const char *text;

	if (!obj)
		return -1;
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	if (tx_begin(l))
		goto fail;
	if (read_applied(l, &a))
		goto rollback;
	if (a.state != LEDGER_NONE) {
		ledger_applied_free(&a);
		err_set("ledger %s already records a plan (another apply?): run 'slicevm host status'",
			l->path);
		goto rollback;
	}
	st = prepare(l, "INSERT INTO applied (id, plan, state, pid, pid_start, boot_id, "
			"applied_at) VALUES (1, ?, 'applying', ?, ?, ?, ?)");
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)pid_start);
	sqlite3_bind_text(st, 4, boot_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	if (step_done(l, st, "recording the plan") || insert_slices(l, plan))
		goto rollback;
	json_object_put(obj);
	return tx_commit(l);
rollback:
	tx_rollback(l);
fail:
	json_object_put(obj);
	return -1;
}

int ledger_finish_apply(struct ledger *l, const char *interrupts, const char *notes)
{
	sqlite3_stmt *st;

	if (tx_begin(l))
		return -1;
	st = prepare(l, "UPDATE applied SET state = 'applied', interrupts = ?, notes = ?, "
			"applied_at = ? WHERE id = 1 AND state = 'applying'");
	if (!st)
		return tx_rollback(l);
	sqlite3_bind_text(st, 1, interrupts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, notes ? notes : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	if (step_done(l, st, "marking the plan applied"))
		return tx_rollback(l);
	if (sqlite3_changes(l->db) != 1) {
		err_set("ledger %s: the plan being applied vanished (a concurrent release?)",
			l->path);
		return tx_rollback(l);
	}
	return tx_commit(l);
}

/*
 * Inside the release transaction: may (pid, start) take the record over
 * from the apply or release that owns it?
 */
static int check_owner(struct ledger *l, const struct ledger_applied *a, pid_t pid,
		       uint64_t start)
{
	bool alive;

	if (a->state == LEDGER_APPLIED || (a->pid == pid && a->pid_start == start))
		return 0;
	alive = procstat_alive(LEDGER_PROC, a->pid, a->pid_start);
	if (alive && a->state == LEDGER_APPLYING)
		return err_set("an apply is running (pid %d): wait for it, then release",
			       (int)a->pid);
	if (alive)
		return err_set("another release is running (pid %d): wait for it",
			       (int)a->pid);
	return 0;
}

/* Inside the release transaction: the live holders; refused unless @force. */
static int live_holders(struct ledger *l, bool force, struct ledger_holder **held,
			int *nheld)
{
	struct ledger_holder *h;
	int n, live = 0;

	if (ledger_holders(l, &h, &n))
		return -1;
	for (int i = 0; i < n; i++) {
		if (!h[i].alive)
			continue;
		if (!force) {
			err_set("slice %s is held by VM %s (pid %d): stop it first, or give --force",
				h[i].name, h[i].vm, (int)h[i].pid);
			free(h);
			return -1;
		}
		if (live != i)
			h[live] = h[i];
		live++;
	}
	if (!live) {
		free(h);
		h = NULL;
	}
	*held = h;
	*nheld = live;
	return 0;
}

int ledger_begin_release(struct ledger *l, pid_t pid, uint64_t start, bool force,
			 struct ledger_holder **held, int *nheld)
{
	struct ledger_applied a;
	sqlite3_stmt *st;
	int r;

	*held = NULL;
	*nheld = 0;
	if (tx_begin(l))
		return -1;
	if (read_applied(l, &a))
		return tx_rollback(l);
	if (a.state == LEDGER_NONE) {
		tx_rollback(l);
		return 1;
	}
	r = check_owner(l, &a, pid, start);
	ledger_applied_free(&a);
	if (r || live_holders(l, force, held, nheld))
		return tx_rollback(l);
	st = prepare(l, "UPDATE applied SET state = 'releasing', pid = ?, pid_start = ? "
			"WHERE id = 1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)start);
	if (step_done(l, st, "marking the plan as being released") || tx_commit(l))
		goto fail;
	return 0;
fail:
	tx_rollback(l);
	free(*held);
	*held = NULL;
	*nheld = 0;
	return -1;
}

int ledger_forget(struct ledger *l)
{
	if (tx_begin(l))
		return -1;
	if (exec(l, "DELETE FROM changes; DELETE FROM slices; DELETE FROM applied"))
		return tx_rollback(l);
	return tx_commit(l);
}

int ledger_forget_stale(struct ledger *l, const char *boot_id)
{
	struct ledger_applied a;
	bool stale;

	if (tx_begin(l))
		return -1;
	if (read_applied(l, &a))
		return tx_rollback(l);
	stale = a.state != LEDGER_NONE && strcmp(a.boot_id, boot_id);
	ledger_applied_free(&a);
	if (!stale) {
		tx_rollback(l);
		return 0;
	}
	if (exec(l, "DELETE FROM changes; DELETE FROM slices; DELETE FROM applied"))
		return tx_rollback(l);
	return tx_commit(l) ? -1 : 1;
}

/* ---- The journal of host changes ----------------------------------------- */

int ledger_record(struct ledger *l, enum ledger_change_kind kind, const char *path,
		  const char *old, const char *what, int64_t *seq)
{
	sqlite3_stmt *st;

	if (tx_begin(l))
		return -1;
	st = prepare(l, "INSERT INTO changes (kind, path, old, what) VALUES (?, ?, ?, ?)");
	if (!st)
		return tx_rollback(l);
	sqlite3_bind_text(st, 1, kind == CHANGE_WRITE ? "write" : "mkdir", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	if (kind == CHANGE_WRITE)
		sqlite3_bind_text(st, 3, old, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, what, -1, SQLITE_TRANSIENT);
	if (step_done(l, st, "recording a host change"))
		return tx_rollback(l);
	*seq = sqlite3_last_insert_rowid(l->db);
	return tx_commit(l);
}

int ledger_drop_change(struct ledger *l, int64_t seq)
{
	sqlite3_stmt *st;

	if (tx_begin(l))
		return -1;
	st = prepare(l, "DELETE FROM changes WHERE seq = ?");
	if (!st)
		return tx_rollback(l);
	sqlite3_bind_int64(st, 1, seq);
	if (step_done(l, st, "forgetting a host change"))
		return tx_rollback(l);
	return tx_commit(l);
}

void ledger_changes_free(struct ledger_change *c, int n)
{
	for (int i = 0; i < n; i++) {
		free(c[i].path);
		free(c[i].old);
		free(c[i].what);
	}
	free(c);
}

int ledger_changes(struct ledger *l, struct ledger_change **out, int *n)
{
	struct ledger_change *c = NULL;
	int count = 0, cap = 0, rc;
	sqlite3_stmt *st;

	st = prepare(l, "SELECT seq, kind, path, old, what FROM changes ORDER BY seq DESC");
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ledger_change *e;
		const char *kind;

		if (count == cap) {
			struct ledger_change *more;

			cap = cap ? cap * 2 : 64;
			more = realloc(c, (size_t)cap * sizeof(*c));
			if (!more)
				goto nomem;
			c = more;
		}
		e = &c[count++];
		memset(e, 0, sizeof(*e));
		e->seq = sqlite3_column_int64(st, 0);
		kind = (const char *)sqlite3_column_text(st, 1);
		e->kind = kind && !strcmp(kind, "mkdir") ? CHANGE_MKDIR : CHANGE_WRITE;
		e->path = dup_col(st, 2);
		e->old = dup_col(st, 3);
		e->what = dup_col(st, 4);
		if (!e->path || !e->what || (e->kind == CHANGE_WRITE && !e->old))
			goto nomem;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ledger_changes_free(c, count);
		return db_fail(l, "reading the host changes");
	}
	*out = c;
	*n = count;
	return 0;
nomem:
	sqlite3_finalize(st);
	ledger_changes_free(c, count);
	return err_set("out of memory reading ledger %s", l->path);
}

/* ---- Slices and their holders --------------------------------------------- */

static void read_holder(struct ledger *l, sqlite3_stmt *st, int col, struct ledger_holder *h)
{
	const char *state = (const char *)sqlite3_column_text(st, col);

	h->held = state && !strcmp(state, "held");
	copy_col(st, col + 1, h->vm, sizeof(h->vm));
	h->pid = (pid_t)sqlite3_column_int64(st, col + 2);
	h->pid_start = (uint64_t)sqlite3_column_int64(st, col + 3);
	h->claimed_at = sqlite3_column_int64(st, col + 4);
	h->alive = h->held && procstat_alive(LEDGER_PROC, h->pid, h->pid_start);
}

int ledger_holders(struct ledger *l, struct ledger_holder **out, int *n)
{
	struct ledger_holder *h;
	sqlite3_stmt *st;
	int count = 0, rc;

	h = calloc(SLICE_MAX, sizeof(*h));
	if (!h)
		return err_set("out of memory reading ledger %s", l->path);
	st = prepare(l, "SELECT name, state, vm, pid, pid_start, claimed_at FROM slices "
			"ORDER BY position");
	if (!st) {
		free(h);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && count < SLICE_MAX) {
		copy_col(st, 0, h[count].name, sizeof(h[count].name));
		read_holder(l, st, 1, &h[count]);
		count++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		free(h);
		return db_fail(l, "reading the slices");
	}
	*out = h;
	*n = count;
	return 0;
}

/* Inside the claim transaction: may @pid (started at @start) take slice @name? */
static int check_holder(struct ledger *l, const char *name, pid_t pid, uint64_t start)
{
	struct ledger_holder h = { 0 };
	sqlite3_stmt *st;
	int rc;

	st = prepare(l, "SELECT state, vm, pid, pid_start, claimed_at FROM slices WHERE name = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_holder(l, st, 0, &h);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return err_set("ledger %s has no row for slice %s: run 'slicevm host release', then apply",
			       l->path, name);
	if (!h.held || (h.pid == pid && h.pid_start == start))
		return 0;
	if (h.alive)
		return err_set("slice %s is held by VM %s (pid %d); stop it first",
			       name, h.vm, (int)h.pid);
	snprintf(l->note, sizeof(l->note),
		 "slice %s was held by VM %s (pid %d), which is gone: taking it over",
		 name, h.vm, (int)h.pid);
	return 0;
}

static int check_boot(struct ledger *l, const struct ledger_applied *a)
{
	char boot[64];

	if (procstat_boot_id(LEDGER_PROC, boot, sizeof(boot)))
		return -1;
	if (strcmp(boot, a->boot_id))
		return err_set("the plan in ledger %s was applied before the host rebooted: run 'slicevm host apply CONFIG' again",
			       l->path);
	return 0;
}

/* Inside the claim transaction: the applied plan, and slice @name in it. */
static int find_slice(struct ledger *l, const char *name, struct plan *plan)
{
	struct ledger_applied a;
	int ret = -1;

	if (read_applied(l, &a))
		return -1;
	if (a.state == LEDGER_NONE) {
		err_set("no plan is applied: run 'slicevm host apply CONFIG' first");
	} else if (a.state == LEDGER_APPLYING) {
		err_set("the plan is still being applied, or its apply died: wait, or run 'slicevm host release'");
	} else if (a.state == LEDGER_RELEASING) {
		err_set("slice %s is being released: apply a plan again first", name);
	} else if (!check_boot(l, &a) && !parse_plan(l, a.plan_json, plan)) {
		if (plan_find_slice(plan, name))
			ret = 0;
		else
			err_set("slice '%s' is not in the applied plan: see 'slicevm host status'",
				name);
	}
	ledger_applied_free(&a);
	return ret;
}

int ledger_claim(struct ledger *l, const char *name, const char *vm_name, pid_t pid,
		 struct slice *slice, struct cpumask *housekeeping)
{
	struct plan *plan;
	sqlite3_stmt *st;
	uint64_t start;
	int rc;

	l->note[0] = '\0';
	rc = procstat_start_time(LEDGER_PROC, pid, &start);
	if (rc)
		return rc < 0 ? -1 : err_set("cannot claim slice %s: process %d is not running",
					      name, (int)pid);
	plan = malloc(sizeof(*plan));
	if (!plan)
		return err_set("out of memory claiming slice %s", name);
	if (tx_begin(l))
		goto fail;
	if (find_slice(l, name, plan) || check_holder(l, name, pid, start))
		goto rollback;
	st = prepare(l, "UPDATE slices SET state = 'held', vm = ?, pid = ?, pid_start = ?, "
			"claimed_at = ? WHERE name = ?");
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, vm_name ? vm_name : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)start);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 5, name, -1, SQLITE_TRANSIENT);
	if (step_done(l, st, "claiming the slice") || tx_commit(l))
		goto rollback;
	*slice = *plan_find_slice(plan, name);
	*housekeeping = plan->housekeeping;
	free(plan);
	return 0;
rollback:
	tx_rollback(l);
fail:
	l->note[0] = '\0';
	free(plan);
	return -1;
}

int ledger_unclaim(struct ledger *l, const char *name, pid_t pid)
{
	sqlite3_stmt *st;
	int changed;

	l->note[0] = '\0';
	if (tx_begin(l))
		return -1;
	st = prepare(l, "UPDATE slices SET state = 'free', vm = NULL, pid = NULL, "
			"pid_start = NULL, claimed_at = NULL "
			"WHERE name = ? AND state = 'held' AND pid = ?");
	if (!st)
		return tx_rollback(l);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, pid);
	if (step_done(l, st, "freeing the slice"))
		return tx_rollback(l);
	changed = sqlite3_changes(l->db);
	if (tx_commit(l))
		return -1;
	return changed ? 0 : 1;
}
