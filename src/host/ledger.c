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
#include <unistd.h>

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
	int version;		/* schema version: 4, or older when read-only */
	uint64_t pidns;		/* this process's PID namespace (0: unknown) */
};

enum open_mode {
	OPEN_CREATE,		/* create the ledger (and its directory) if missing */
	OPEN_EXISTING,		/* never create; read and write */
	OPEN_READONLY,		/* never create, never write, never lock for writing */
};

/*
 * Version 2 (then upgrade_v2 and upgrade_v3 below). Every table is small:
 * one applied row, one row per slice, one row per host value apply
 * replaced (a few hundred IRQs at most).
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
 * Version 3: the PID namespace (inode of /proc/self/ns/pid) a holder's and
 * an apply's pid was recorded in; NULL when recorded by version 2.
 */
static const char upgrade_v2[] =
	"ALTER TABLE slices ADD COLUMN pidns INTEGER;"
	"ALTER TABLE applied ADD COLUMN pidns INTEGER;"
	"PRAGMA user_version = 3;";

/*
 * Version 4: a third kind of host change, 'pci-bind' (a PCI device given to
 * vfio-pci; its old value says how to give it back). The kinds are a CHECK
 * constraint, which cannot be altered: the journal is copied into a new
 * table, keeping each record's seq (undo goes by it, newest first). A
 * slicevm that knows only version 3 refuses the upgraded ledger rather
 * than misreading a record it cannot undo.
 */
static const char upgrade_v3[] =
	"CREATE TABLE changes_v4 ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind TEXT NOT NULL CHECK (kind IN ('write', 'mkdir', 'pci-bind')),"
	"  path TEXT NOT NULL,"
	"  old TEXT,"
	"  what TEXT NOT NULL,"
	"  CHECK ((kind = 'mkdir') = (old IS NULL))"
	");"
	"INSERT INTO changes_v4 (seq, kind, path, old, what)"
	"  SELECT seq, kind, path, old, what FROM changes;"
	"DROP TABLE changes;"
	"ALTER TABLE changes_v4 RENAME TO changes;"
	"PRAGMA user_version = 4;";

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
	if (code == SQLITE_CORRUPT)
		return err_set("ledger %s is damaged: keep a copy to inspect, then remove it "
			       "(what apply changed stays until undone by hand or a reboot)",
			       l->path);
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
/*
 * Read-only: the schema is read, never changed; versions 1 to the current
 * one are readable (the columns a version lacks read as NULL).
 */
static int check_schema_readonly(struct ledger *l)
{
	int version, tables;

	if (pragma_int(l, "PRAGMA user_version", &version) ||
	    pragma_int(l, "SELECT count(*) FROM sqlite_master", &tables))
		return -1;
	if (version > LEDGER_SCHEMA_VERSION)
		return err_set("ledger %s has schema version %d, newer than this slicevm knows (%d): use a newer slicevm",
			       l->path, version, LEDGER_SCHEMA_VERSION);
	if (version == 0 && tables == 0)
		return no_ledger(l->path);
	if (version < 1)
		return err_set("%s is not a slicevm ledger (schema version %d, %d tables): give another --ledger",
			       l->path, version, tables);
	l->version = version;
	return 0;
}

/* The statements that bring a version-@version schema to the current one. */
static int upgrade(struct ledger *l, int version)
{
	if (version == 0 && exec(l, schema_v2))
		return -1;
	if (version == 1 && exec(l, upgrade_v1))
		return -1;
	if (version <= 2 && exec(l, upgrade_v2))
		return -1;
	return exec(l, upgrade_v3);
}

/*
 * Creates the schema in an empty database (unless @existing: then an empty
 * file means nothing is applied, and stays as it is), upgrades older
 * versions, or refuses the database. Returns 1 (no_ledger()) for that
 * empty file.
 */
static int check_schema(struct ledger *l, bool existing)
{
	int version, tables;

	if (tx_begin(l))
		return -1;
	if (pragma_int(l, "PRAGMA user_version", &version) ||
	    pragma_int(l, "SELECT count(*) FROM sqlite_master", &tables))
		return tx_rollback(l);
	l->version = LEDGER_SCHEMA_VERSION;
	if (version == LEDGER_SCHEMA_VERSION)
		return tx_commit(l);
	if (version > LEDGER_SCHEMA_VERSION) {
		err_set("ledger %s has schema version %d, newer than this slicevm knows (%d): use a newer slicevm",
			l->path, version, LEDGER_SCHEMA_VERSION);
		return tx_rollback(l);
	}
	if (version < 0 || (version == 0 && tables != 0)) {
		err_set("%s is not a slicevm ledger (schema version %d, %d tables): give another --ledger",
			l->path, version, tables);
		return tx_rollback(l);
	}
	if (version == 0 && existing) {
		/* An empty file (a ledger was never made in it) is no ledger either. */
		tx_rollback(l);
		return no_ledger(l->path);
	}
	if (upgrade(l, version))
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
	/*
	 * Keep the -wal and -shm files when the last writer closes: a reader
	 * that may not write the directory (status as a user, a read-only
	 * file system) can open a WAL database only while they exist.
	 */
	if (sqlite3_file_control(l->db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){ 1 }) !=
	    SQLITE_OK)
		return db_fail(l, "keeping the write-ahead log");
	return exec(l, "PRAGMA synchronous = NORMAL");
}

/*
 * The ledger decides what release writes as root: a ledger that someone
 * other than root (or the user running slicevm) owns or may write is
 * refused, and so is one in a directory they may write (they could
 * replace it). A sticky directory (/tmp) protects files of other owners.
 */
static int trusted(const char *path, const char *what, bool dir)
{
	uid_t me = geteuid();
	struct stat sb;

	if (stat(path, &sb) < 0)
		return errno == ENOENT && !dir ? 0 :
		       err_set_errno("cannot read ledger %s %s", what, path);
	if (sb.st_uid != 0 && sb.st_uid != me)
		return err_set("ledger %s %s is owned by uid %u, not root: its owner could make "
			       "release write host files; chown root %s, or give another --ledger",
			       what, path, (unsigned int)sb.st_uid, path);
	if ((sb.st_mode & (S_IWGRP | S_IWOTH)) && !(dir && (sb.st_mode & S_ISVTX)))
		return err_set("ledger %s %s may be written by others (mode %04o): "
			       "chmod go-w %s, or give another --ledger", what, path,
			       (unsigned int)(sb.st_mode & 07777), path);
	return 0;
}

static int check_trusted(const char *path)
{
	char dir[4096], side[4096 + 8];

	snprintf(dir, sizeof(dir), "%s", path);
	if (trusted(dirname(dir), "directory", true) || trusted(path, "file", false))
		return -1;
	snprintf(side, sizeof(side), "%s-wal", path);
	if (trusted(side, "file", false))
		return -1;
	snprintf(side, sizeof(side), "%s-shm", path);
	return trusted(side, "file", false);
}

const char *ledger_resolve_path(const char *path)
{
	if (!path || !*path)
		path = getenv(LEDGER_ENV);
	if (!path || !*path)
		path = LEDGER_DEFAULT_PATH;
	return path;
}

/*
 * A reader that may not create the WAL's -shm file cannot open a WAL
 * database whose -wal and -shm are gone (a ledger last closed by an older
 * slicevm or another SQLite client). With no -wal file no writer has it
 * open, and the database file alone is the whole ledger: read it as
 * immutable. A writer starting meanwhile writes its WAL, not that file.
 */
static int reopen_immutable(struct ledger *l)
{
	char wal[4096 + 8], uri[3 * 4096 + 32], *u = uri;
	struct stat sb;

	snprintf(wal, sizeof(wal), "%s-wal", l->path);
	if (stat(wal, &sb) == 0 || errno != ENOENT)
		return -1;
	u += sprintf(u, "file:");
	for (const char *c = l->path; *c; c++)
		u += strchr("%?#", *c) ? sprintf(u, "%%%02X", (unsigned char)*c) :
			sprintf(u, "%c", *c);
	sprintf(u, "?immutable=1");
	sqlite3_close(l->db);
	l->db = NULL;
	if (sqlite3_open_v2(uri, &l->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) !=
	    SQLITE_OK)
		return l->db ? db_fail(l, "opening") : err_set("cannot open ledger %s", l->path);
	return check_schema_readonly(l);
}

static int open_ledger(struct ledger **out, const char *path, enum open_mode mode)
{
	int flags = mode == OPEN_READONLY ? SQLITE_OPEN_READONLY :
		    SQLITE_OPEN_READWRITE | (mode == OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
	struct ledger *l;
	struct stat sb;
	int ret = -1;

	path = ledger_resolve_path(path);
	if (strlen(path) >= sizeof(l->path))
		return err_set("ledger path is too long: give a shorter --ledger");
	if (mode != OPEN_CREATE && stat(path, &sb) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return no_ledger(path);
		return err_set_errno("cannot read ledger %s", path);
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return err_set("out of memory opening the ledger");
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->pidns = procstat_pidns(LEDGER_PROC);
	if ((mode == OPEN_CREATE && make_parent_dir(path)) || check_trusted(path))
		goto fail;
	if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
		if (!l->db)
			err_set("cannot open ledger %s: out of memory", path);
		else if (mode != OPEN_CREATE && stat(path, &sb) < 0 && errno == ENOENT)
			ret = no_ledger(path);	/* removed since the stat() */
		else
			db_fail(l, "opening");
		goto fail;
	}
	if (sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS) != SQLITE_OK) {
		db_fail(l, "setting the busy timeout");
		goto fail;
	}
	if (mode == OPEN_READONLY) {
		ret = check_schema_readonly(l);
		if (ret < 0 && ((sqlite3_errcode(l->db) & 0xff) == SQLITE_CANTOPEN ||
				(sqlite3_errcode(l->db) & 0xff) == SQLITE_READONLY))
			ret = reopen_immutable(l);
	} else if (!(ret = check_schema(l, mode == OPEN_EXISTING)))
		ret = use_wal(l);
	if (ret)
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
	return open_ledger(out, path, OPEN_CREATE);
}

int ledger_open_existing(struct ledger **out, const char *path)
{
	return open_ledger(out, path, OPEN_EXISTING);
}

int ledger_open_readonly(struct ledger **out, const char *path)
{
	return open_ledger(out, path, OPEN_READONLY);
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

/* The pidns column, or NULL in a version 2 ledger opened read-only. */
static const char *pidns_col(const struct ledger *l)
{
	return l->version >= 3 ? "pidns" : "NULL";
}

/*
 * Does (pid, start), recorded from PID namespace @ns (0: unknown), run now?
 * 1, 0, or -1 with err_msg() saying why it cannot be told.
 */
static int recorded_alive(const struct ledger *l, pid_t pid, uint64_t start, uint64_t ns)
{
	if (ns && l->pidns && ns != l->pidns)
		return err_set("pid %d was recorded in another PID namespace, where this "
			       "slicevm cannot see", (int)pid);
	return procstat_alive(LEDGER_PROC, pid, start);
}

static int read_applied(struct ledger *l, struct ledger_applied *a)
{
	sqlite3_stmt *st;
	const char *state;
	int rc;

	char sql[256];

	memset(a, 0, sizeof(*a));
	snprintf(sql, sizeof(sql), "SELECT plan, state, pid, pid_start, boot_id, applied_at, "
		 "interrupts, notes, %s FROM applied WHERE id = 1", pidns_col(l));
	st = prepare(l, sql);
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
	a->pidns = (uint64_t)sqlite3_column_int64(st, 8);
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

int ledger_read_plan(const char *path, struct plan *plan)
{
	struct ledger_applied a;
	struct ledger *l;
	int ret = ledger_open_readonly(&l, path);

	if (ret)
		return ret;
	if (ledger_get_applied(l, &a)) {
		ret = -1;
	} else if (a.state == LEDGER_NONE) {
		/* a ledger left by a release: as good as none */
		err_set("no plan is applied (the ledger at %s holds none)", ledger_resolve_path(path));
		ret = 2;
	} else {
		ret = ledger_applied_plan(l, plan) ? -1 : 0;
	}
	ledger_applied_free(&a);
	ledger_close(l);
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
			"applied_at, pidns) VALUES (1, ?, 'applying', ?, ?, ?, ?, ?)");
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)pid_start);
	sqlite3_bind_text(st, 4, boot_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 6, (sqlite3_int64)l->pidns);
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
	int alive;

	if (a->state == LEDGER_APPLIED || (a->pid == pid && a->pid_start == start))
		return 0;
	alive = recorded_alive(l, a->pid, a->pid_start, a->pidns);
	if (alive < 0)
		return err_set("%s: the ledger is owned by an unfinished %s; release once "
			       "you know it has ended", err_msg(),
			       a->state == LEDGER_APPLYING ? "apply" : "release");
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
		if (!force && h[i].unsure) {
			err_set("slice %s is held by VM %s (pid %d), and %s: stop it, or give --force",
				h[i].name, h[i].vm, (int)h[i].pid, h[i].why);
			free(h);
			return -1;
		}
		if (!force) {
			err_set("slice %s is held by VM %s (pid %d): stop it first ('slicevm stop %s'), or give --force",
				h[i].name, h[i].vm, (int)h[i].pid, h[i].vm);
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
	st = prepare(l, "UPDATE applied SET state = 'releasing', pid = ?, pid_start = ?, "
			"pidns = ? WHERE id = 1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)start);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)l->pidns);
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

/* The kind column, by enum ledger_change_kind. */
static const char *const change_kind_names[] = {
	[CHANGE_WRITE] = "write", [CHANGE_MKDIR] = "mkdir", [CHANGE_PCI_BIND] = "pci-bind",
};

/* The kind named @name; -1 for none (a damaged record). */
static int change_kind(const char *name)
{
	size_t n = sizeof(change_kind_names) / sizeof(change_kind_names[0]);

	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(name, change_kind_names[i]))
			return (int)i;
	return -1;
}

int ledger_record(struct ledger *l, enum ledger_change_kind kind, const char *path,
		  const char *old, const char *what, int64_t *seq)
{
	sqlite3_stmt *st;

	if (tx_begin(l))
		return -1;
	st = prepare(l, "INSERT INTO changes (kind, path, old, what) VALUES (?, ?, ?, ?)");
	if (!st)
		return tx_rollback(l);
	sqlite3_bind_text(st, 1, change_kind_names[kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	if (kind != CHANGE_MKDIR)
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
		int kind;

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
		kind = change_kind((const char *)sqlite3_column_text(st, 1));
		e->kind = kind < 0 ? CHANGE_WRITE : (enum ledger_change_kind)kind;
		if (sqlite3_column_type(st, 2) == SQLITE_NULL ||
		    sqlite3_column_type(st, 4) == SQLITE_NULL ||
		    (e->kind != CHANGE_MKDIR && sqlite3_column_type(st, 3) == SQLITE_NULL) ||
		    kind < 0) {
			long long seq = (long long)e->seq;

			sqlite3_finalize(st);
			ledger_changes_free(c, count);
			return err_set("ledger %s has a damaged host change (record %lld): "
				       "undo what apply changed by hand, then remove the ledger",
				       l->path, seq);
		}
		e->path = dup_col(st, 2);
		e->old = dup_col(st, 3);
		e->what = dup_col(st, 4);
		if (!e->path || !e->what || (e->kind != CHANGE_MKDIR && !e->old))
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
	h->alive = false;
	h->unsure = false;
	h->why[0] = '\0';
	if (h->held) {
		int alive = recorded_alive(l, h->pid, h->pid_start,
					   (uint64_t)sqlite3_column_int64(st, col + 5));

		/* what cannot be told is taken as running: never free a live VM's slice */
		h->alive = alive != 0;
		h->unsure = alive < 0;
		if (h->unsure)
			snprintf(h->why, sizeof(h->why), "%s", err_msg());
	}
}

int ledger_holders(struct ledger *l, struct ledger_holder **out, int *n)
{
	struct ledger_holder *h;
	sqlite3_stmt *st;
	int count = 0, rc;
	char sql[256];

	h = calloc(SLICE_MAX, sizeof(*h));
	if (!h)
		return err_set("out of memory reading ledger %s", l->path);

	snprintf(sql, sizeof(sql), "SELECT name, state, vm, pid, pid_start, claimed_at, %s "
		 "FROM slices ORDER BY position", pidns_col(l));
	st = prepare(l, sql);
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

	st = prepare(l, "SELECT state, vm, pid, pid_start, claimed_at, pidns FROM slices "
			"WHERE name = ?");
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
	if (h.unsure)
		return err_set("slice %s is held by VM %s (pid %d), and %s: stop it there, "
			       "or run 'slicevm host release --force'", name, h.vm, (int)h.pid,
			       h.why);
	if (h.alive)
		return err_set("slice %s is held by VM %s (pid %d): stop that VM first ('slicevm stop %s')",
			       name, h.vm, (int)h.pid, h.vm);
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
			"claimed_at = ?, pidns = ? WHERE name = ?");
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, vm_name ? vm_name : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)start);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 5, (sqlite3_int64)l->pidns);
	sqlite3_bind_text(st, 6, name, -1, SQLITE_TRANSIENT);
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
			"pid_start = NULL, claimed_at = NULL, pidns = NULL "
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
