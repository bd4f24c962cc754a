// SPDX-License-Identifier: GPL-2.0
/*
 * Damaged and forged ledgers. A ledger is data that decides what release
 * writes as root, so reading it must never crash and undoing it must never
 * reach outside the places apply changes.
 *
 * The damage runs start from the ledger a real apply left on hostsim.h's
 * fake tree (checkpointed: the main file holds everything), then flip
 * random bits in it or cut it short, a few hundred times from a seeded
 * PRNG (the seed is printed; SLICEVM_CORRUPT_SEED=N repeats a run,
 * SLICEVM_CORRUPT_ONLY=I runs only its I-th case, SLICEVM_CORRUPT_RUNS=N
 * sets how many, SLICEVM_CORRUPT_VERBOSE=1 shows each refusal). A forked child opens the
 * result read-only as status does, reads the plan, the slices and the
 * journal, then opens it for writing, claims a slice and releases (forced, as it holds the slice). The child
 * must exit (a refusal with a one-line message is fine; a signal, a
 * sanitizer report or a silent failure is not), and nothing may change but
 * the ledger and, in the fake tree, the cgroup root, proc/irq and the
 * workqueue mask: sentinel files beside the tree and in a directory
 * outside it are checked after every run.
 *
 * The forged ledgers (valid, with a planted journal record) and the ledger
 * file permission cases encode the fix for defect 3 of issue 11; see the
 * comment above them.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "hostsim.h"
#include "host/status.h"

#define RUNS_DEFAULT	300
#define SEED_DEFAULT	0x51ce0011u
#define SENTINEL_BESIDE		"beside the fake tree: never written\n"
#define SENTINEL_OUTSIDE	"outside the temp dir: never written\n"

/* How a child ended (its exit status). */
enum {
	END_OK = 10,		/* every step worked */
	END_REFUSED,		/* some step refused, with a clean message */
	END_OPEN_REFUSED,	/* the ledger was refused on open */
	END_NO_LEDGER,		/* opened as "no ledger" (an empty database) */
	END_UNCLEAN,		/* a step failed without a clean message */
	END_COUNT
};

static struct hostsim hs;
static struct plan plan;
static char outside[64];		/* a directory outside the temp dir */
static char sentinel_beside[128], sentinel_outside[128], child_err[128];
static unsigned char *golden;		/* the applied, checkpointed ledger */
static size_t golden_len;
static struct hs_snap pristine;		/* the tree before apply */
static struct hs_snap applied;		/* the tree after apply */
static struct hs_snap outside_snap;	/* the outside directory */
/* A run's; also freed in teardown, as a failed run leaves the test early. */
static struct hs_snap before_run;
static unsigned char *damaged;

/* ---- A seeded PRNG (splitmix64) ------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
	return n ? (size_t)(rng_next(s) % n) : 0;
}

static unsigned long env_num(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

/* ---- The ledger file ----------------------------------------------------- */

static void side_path(char *buf, size_t len, const char *suffix)
{
	snprintf(buf, len, "%s%s", hs.ledger_path, suffix);
}

/* The ledger becomes exactly @len bytes of @data, mode 0644, no WAL beside it. */
static void put_ledger(const unsigned char *data, size_t len)
{
	char side[160];
	int fd;

	/* As slicevm makes it (a test may have left it otherwise). */
	if (chmod(hs.ledger_dir, 0755) < 0)
		fail_msg("chmod %s: %s", hs.ledger_dir, strerror(errno));
	side_path(side, sizeof(side), "-wal");
	unlink(side);
	side_path(side, sizeof(side), "-shm");
	unlink(side);
	unlink(hs.ledger_path);
	fd = open(hs.ledger_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, 0644) < 0)
		fail_msg("cannot write %s: %s", hs.ledger_path, strerror(errno));
	close(fd);
}

/* Everything in the main file: no frame left in the WAL. */
static void checkpoint(void)
{
	sqlite3 *db;

	if (sqlite3_open_v2(hs.ledger_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("checkpoint: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
}

static void sql(const char *text)
{
	sqlite3 *db;

	if (sqlite3_open_v2(hs.ledger_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, text, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", text, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* ---- Setup: a real apply on a fresh tree, then its ledger kept aside ------- */

static int setup(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	struct ledger *l;

	hs_init(&hs, "slicevm-corrupt");
	hs_plan(&plan);
	hs_snap_take(&pristine, hs.tree);
	snprintf(outside, sizeof(outside), "/tmp/slicevm-outside-XXXXXX");
	if (!mkdtemp(outside))
		fail_msg("mkdtemp: %s", strerror(errno));
	snprintf(sentinel_beside, sizeof(sentinel_beside), "%s/sentinel", hs.dir);
	snprintf(sentinel_outside, sizeof(sentinel_outside), "%s/sentinel", outside);
	snprintf(child_err, sizeof(child_err), "%s/child.err", hs.dir);
	hs_put(sentinel_beside, SENTINEL_BESIDE);
	hs_put(sentinel_outside, SENTINEL_OUTSIDE);

	out = open_memstream(&text, &len);
	if (host_apply_open(&l, hs.ledger_path, &hs.hp, &plan, false) ||
	    host_apply(l, &hs.hp, &plan, false, out))
		fail_msg("apply: %s", err_msg());
	ledger_close(l);
	fclose(out);
	free(text);
	checkpoint();
	golden = (unsigned char *)hs_slurp(hs.ledger_path, &golden_len);
	hs_snap_take(&applied, hs.tree);
	hs_snap_take(&outside_snap, outside);
	print_message("ledger after apply: %zu bytes\n", golden_len);
	return 0;
}

static int teardown(void **state)
{
	free(golden);
	free(damaged);
	hs_snap_free(&before_run);
	hs_snap_free(&pristine);
	hs_snap_free(&applied);
	hs_snap_free(&outside_snap);
	hs_fini(&hs);
	hs_rm_rf(outside);
	return 0;
}

/* ---- The child: every read and write path ------------------------------- */

static int unclean;

static bool clean(const char *msg)
{
	return msg[0] && strcmp(msg, "unknown error") && !strchr(msg, '\n');
}

/* One step's result: a refusal is fine, if it says why in one line. */
static void step(int r, const char *what, int *failed)
{
	if (!r)
		return;
	*failed = 1;
	if (getenv("SLICEVM_CORRUPT_VERBOSE"))
		fprintf(stderr, "%s: %s\n", what, err_msg());
	if (clean(err_msg()))
		return;
	fprintf(stderr, "%s failed without a clean message: '%s'\n", what, err_msg());
	unclean = 1;
}

static int child(void)
{
	struct ledger_applied a;
	struct ledger_holder *h;
	struct ledger_change *c;
	struct cpumask hk;
	struct slice s;
	struct plan p;
	json_object *st;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct ledger *l;
	int r, n, failed = 0;

	alarm(30);	/* a hang ends in SIGALRM: a failure */

	/* What status reads, through the read-only open status uses. */
	err_clear();
	r = ledger_open_readonly(&l, hs.ledger_path);
	if (r) {
		step(r, "open read-only", &failed);
		return unclean ? END_UNCLEAN : r > 0 ? END_NO_LEDGER : END_OPEN_REFUSED;
	}
	err_clear();
	st = host_status(l, &hs.hp);
	if (st) {
		host_status_print(st, out);
		json_object_put(st);
	}
	step(!st, "status", &failed);
	err_clear();
	r = ledger_get_applied(l, &a);
	if (!r)
		ledger_applied_free(&a);
	step(r, "reading the applied plan", &failed);
	err_clear();
	step(ledger_applied_plan(l, &p), "parsing the plan", &failed);
	err_clear();
	r = ledger_holders(l, &h, &n);
	if (!r)
		free(h);
	step(r, "reading the slices", &failed);
	err_clear();
	r = ledger_changes(l, &c, &n);
	if (!r)
		ledger_changes_free(c, n);
	step(r, "reading the journal", &failed);
	ledger_close(l);

	/* What a VM does, then what release does (forced: this VM holds db). */
	err_clear();
	r = ledger_open_existing(&l, hs.ledger_path);
	if (r) {
		step(r, "open", &failed);
		return unclean ? END_UNCLEAN : END_REFUSED;
	}
	err_clear();
	step(ledger_claim(l, "db", "corrupt", getpid(), &s, &hk), "claim", &failed);
	err_clear();
	step(host_release(l, &hs.hp, true, out), "release", &failed);
	ledger_close(l);
	return unclean ? END_UNCLEAN : failed ? END_REFUSED : END_OK;
}

static const char *const end_names[] = {
	[END_OK] = "every step worked",
	[END_REFUSED] = "some step refused",
	[END_OPEN_REFUSED] = "refused on open",
	[END_NO_LEDGER] = "no ledger (empty database)",
	[END_UNCLEAN] = "unclean failure",
};

/* What a child wrote to stderr (sanitizer reports go there). */
static char *child_stderr(void)
{
	size_t len;
	char *text = hs_slurp(child_err, &len);

	text = realloc(text, len + 1);
	text[len] = '\0';
	return text;
}

/* Runs child() on the ledger as it is now; returns its END_*. */
static int run_child(const char *ctx)
{
	static char why[16384];
	int status, fd, end;
	char *err;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(child_err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		hs_link_pid(&hs, getpid());
		_exit(child());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	hs_unlink_pid(&hs, pid);
	err = child_stderr();
	end = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	why[0] = '\0';
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "%s: the child died of signal %d (%s)\n%s", ctx,
			 WTERMSIG(status), strsignal(WTERMSIG(status)), err);
	else if (strstr(err, "Sanitizer") || strstr(err, "runtime error"))
		snprintf(why, sizeof(why), "%s: sanitizer report:\n%s", ctx, err);
	else if (end < END_OK || end >= END_COUNT || end == END_UNCLEAN)
		snprintf(why, sizeof(why), "%s: the child exited with %d\n%s", ctx, end, err);
	else if (getenv("SLICEVM_CORRUPT_VERBOSE") && err[0])
		print_message("%s:\n%s", ctx, err);
	free(err);
	if (why[0])
		fail_msg("%s", why);
	return end;
}

/* ---- Where changes may land ----------------------------------------------- */

static bool allowed(const char *rel)
{
	static const char *const places[] = {
		"/tree/cg/", "/tree/proc/irq/", "/tree/sys/devices/virtual/workqueue/",
		"/ledger/", NULL,
	};

	if (!strcmp(rel, "/child.err"))
		return true;
	for (int i = 0; places[i]; i++)
		if (!strncmp(rel, places[i], strlen(places[i])))
			return true;
	return false;
}

static int not_allowed(const char *rel, const char *what, void *arg)
{
	if (allowed(rel))
		return 0;
	snprintf(arg, 512, "%s: %s", rel[0] ? rel : "(temp dir)", what);
	return 1;
}

/*
 * Checks that only allowed places changed since @before (a snapshot of the
 * whole temp dir) and that the outside directory is untouched; then puts
 * the tree back as apply left it.
 */
static void check_and_reset(const struct hs_snap *before, const char *ctx)
{
	struct hs_snap now;
	const char *diff;
	char why[512];

	hs_snap_take(&now, hs.dir);
	why[0] = '\0';
	hs_snap_diff(before, &now, not_allowed, why);
	hs_snap_free(&now);
	if (why[0])
		fail_msg("%s: changed outside the allowed places: %s", ctx, why);
	hs_snap_take(&now, outside);
	diff = hs_snap_differs(&outside_snap, &now);
	hs_snap_free(&now);
	if (diff)
		fail_msg("%s: the directory outside changed: %s", ctx, diff);
	hs_snap_restore(&applied, hs.tree);
}

/* The host as apply left it, the sentinels as they were. */
static void reset(void)
{
	hs_snap_restore(&applied, hs.tree);
	hs_put(sentinel_beside, SENTINEL_BESIDE);
	hs_put(sentinel_outside, SENTINEL_OUTSIDE);
	hs_snap_free(&outside_snap);
	hs_snap_take(&outside_snap, outside);
}

/* ---- Damage ------------------------------------------------------------- */

/* Flips 1..@max bits, mostly in bytes that hold something. */
static void flip_bits(uint64_t *rng, unsigned char *buf, size_t len, int max)
{
	int flips = 1 + (int)rng_below(rng, (size_t)max);

	for (int i = 0; i < flips; i++) {
		size_t at = rng_below(rng, len);

		/* Zeros are mostly free space: try a few times for a used byte. */
		for (int tries = 0; tries < 8 && !buf[at]; tries++)
			at = rng_below(rng, len);
		buf[at] ^= (unsigned char)(1u << rng_below(rng, 8));
	}
}

/* Damages a copy of the golden ledger; returns its length, says how in @how. */
static size_t damage(uint64_t *rng, unsigned char *buf, char *how, size_t howlen)
{
	size_t len = golden_len;
	unsigned int kind = (unsigned int)rng_below(rng, 10);

	memcpy(buf, golden, golden_len);
	if (kind < 3) {
		flip_bits(rng, buf, len, 4);
		snprintf(how, howlen, "a few bits flipped");
	} else if (kind < 7) {
		/*
		 * Past page 1 (the file header and the schema, where most
		 * damage ends in a refusal on open): the tables' own pages.
		 */
		flip_bits(rng, buf + 4096, len - 4096, 16);
		snprintf(how, howlen, "up to 16 bits flipped past page 1");
	} else if (kind < 9) {
		len = rng_below(rng, golden_len);
		snprintf(how, howlen, "cut at %zu bytes", len);
	} else {
		/* Cut at a page boundary, some bits flipped too. */
		len = rng_below(rng, golden_len / 4096 + 1) * 4096;
		if (len > 100)
			flip_bits(rng, buf + 100, len - 100, 8);
		snprintf(how, howlen, "cut at page boundary %zu, bits flipped", len);
	}
	return len;
}

static void test_damaged_ledgers(void **state)
{
	unsigned long seed = env_num("SLICEVM_CORRUPT_SEED", SEED_DEFAULT);
	unsigned long runs = env_num("SLICEVM_CORRUPT_RUNS", RUNS_DEFAULT);
	long only = (long)env_num("SLICEVM_CORRUPT_ONLY", (unsigned long)-1);
	int ends[END_COUNT] = { 0 };
	char ctx[256], how[96];

	reset();
	damaged = malloc(golden_len);
	assert_non_null(damaged);
	assert_true(golden_len > 4096);
	print_message("seed 0x%lx, %lu runs (SLICEVM_CORRUPT_SEED=0x%lx repeats them)\n",
		      seed, runs, seed);
	for (unsigned long i = 0; i < runs; i++) {
		uint64_t rng = seed ^ (i * 0x2545f4914f6cdd1dULL);
		size_t len;

		if (only >= 0 && (unsigned long)only != i)
			continue;
		rng_next(&rng);
		len = damage(&rng, damaged, how, sizeof(how));
		put_ledger(damaged, len);
		hs_snap_free(&before_run);
		hs_snap_take(&before_run, hs.dir);
		snprintf(ctx, sizeof(ctx), "seed 0x%lx case %lu (SLICEVM_CORRUPT_ONLY=%lu), %s",
			 seed, i, i, how);
		ends[run_child(ctx)]++;
		check_and_reset(&before_run, ctx);
		hs_snap_free(&before_run);
	}
	free(damaged);
	damaged = NULL;
	for (int e = END_OK; e < END_COUNT; e++)
		if (ends[e])
			print_message("  %4d %s\n", ends[e], end_names[e]);
}

/* The undamaged ledger goes through every step: the child above is sound. */
static void test_golden_ledger_works(void **state)
{
	struct hs_snap now;
	const char *diff;

	put_ledger(golden, golden_len);
	hs_snap_free(&before_run);
	hs_snap_take(&before_run, hs.dir);
	assert_int_equal(run_child("the undamaged ledger"), END_OK);
	/* Its release restored the tree as it was before apply. */
	hs_snap_take(&now, hs.tree);
	diff = hs_snap_differs(&pristine, &now);
	hs_snap_free(&now);
	if (diff)
		fail_msg("release of the undamaged ledger left the tree different: %s", diff);
	check_and_reset(&before_run, "the undamaged ledger");
	hs_snap_free(&before_run);
}

/* ---- Forged journal records (defect 3 of issue 11) -------------------------
 *
 * These encode the fix for defect 3 of issue 11 (commit 19ce9e9 "host:
 * release writes only where apply writes; ledgers must be trusted"): release
 * refuses a journal record of a path apply never changes (outside the
 * cgroup root, proc/irq and the workqueue mask, or leading out of them
 * through ".." or a link), leaving the target untouched and naming it in one
 * line; and a ledger (file, directory or WAL) that someone other than root
 * or the user running slicevm owns, or that group or others may write, is
 * refused on every open. Before that commit, test_forged_* and
 * test_ledger_* (but test_ledger_trusted_opens) failed.
 */

/* Plants one journal record in the golden ledger (newest, so undone first). */
static void forge(const char *kind, const char *path, const char *old)
{
	char text[1024];

	put_ledger(golden, golden_len);
	if (old)
		snprintf(text, sizeof(text),
			 "INSERT INTO changes (kind, path, old, what) VALUES ('%s', '%s', '%s', 'forged')",
			 kind, path, old);
	else
		snprintf(text, sizeof(text),
			 "INSERT INTO changes (kind, path, old, what) VALUES ('%s', '%s', NULL, 'forged')",
			 kind, path);
	sql(text);
	checkpoint();
}

/*
 * Releases the forged ledger: @target (a file, or a directory when @dir)
 * must be as it was, nothing outside the allowed places may change, and
 * the refusal must name @path in one line.
 */
static void release_forged(const char *path, const char *target, bool dir)
{
	struct hs_snap before, now, out_before, out_now;
	char *text = NULL, *t = NULL, *n = NULL, msg[512], why[1024] = "";
	size_t len = 0, tlen = 0, nlen = 0;
	FILE *out = open_memstream(&text, &len);
	struct ledger *l;
	struct stat sb;
	int r;

	if (!dir)
		t = hs_slurp(target, &tlen);
	hs_snap_take(&before, hs.dir);
	hs_snap_take(&out_before, outside);
	if (ledger_open_existing(&l, hs.ledger_path))
		fail_msg("open: %s", err_msg());
	err_clear();
	r = host_release(l, &hs.hp, false, out);
	snprintf(msg, sizeof(msg), "%s", r ? err_msg() : "");
	ledger_close(l);
	fflush(out);
	if (!dir)
		n = hs_slurp(target, &nlen);
	hs_snap_take(&now, hs.dir);
	hs_snap_take(&out_now, outside);
	if (dir && (stat(target, &sb) < 0 || !S_ISDIR(sb.st_mode))) {
		snprintf(why, sizeof(why), "release removed directory %s (recorded as %s)",
			 target, path);
	} else if (!dir && (nlen != tlen || memcmp(n, t, tlen))) {
		snprintf(why, sizeof(why), "release wrote %s (recorded as %s): now '%.*s'",
			 target, path, (int)nlen, n);
	} else if (!strstr(msg, path) && !strstr(text, path)) {
		/* The refusal names the path, on a line of its own or as the error. */
		snprintf(why, sizeof(why), "release did not say it refused %s: error '%s', output:\n%s",
			 path, msg, text);
	} else if (r && !clean(msg)) {
		snprintf(why, sizeof(why), "release failed without a clean message: '%s'", msg);
	} else {
		char diff[512] = "";

		/* Nothing else outside the places apply changes either. */
		hs_snap_diff(&before, &now, not_allowed, diff);
		if (diff[0])
			snprintf(why, sizeof(why), "release of a forged ledger changed %s", diff);
		else if (hs_snap_differs(&out_before, &out_now))
			snprintf(why, sizeof(why), "release of a forged ledger changed %s%s",
				 outside, hs_snap_differs(&out_before, &out_now));
	}
	hs_snap_free(&now);
	hs_snap_free(&before);
	hs_snap_free(&out_now);
	hs_snap_free(&out_before);
	free(t);
	free(n);
	fclose(out);
	free(text);
	reset();
	if (why[0])
		fail_msg("%s", why);
}

/* A write to a file in /tmp, far from any root. */
static void test_forged_write_outside(void **state)
{
	forge("write", sentinel_outside, "forged");
	release_forged(sentinel_outside, sentinel_outside, false);
}

/* A path under the cgroup root that leaves it through "..". */
static void test_forged_write_dotdot(void **state)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/../../sentinel", hs.cg);
	forge("write", path, "forged");
	release_forged(path, sentinel_beside, false);
}

/*
 * A link inside the cgroup root, named as slicevm's own cgroups are, to a
 * directory outside: the recorded path looks like a partition file.
 */
static void test_forged_write_through_dir_link(void **state)
{
	char link[160], path[256], target[160];

	snprintf(target, sizeof(target), "%s/cpuset.cpus.partition", outside);
	hs_put(target, "member\n");
	snprintf(link, sizeof(link), "%s/slicevm-evil", hs.cg);
	assert_int_equal(symlink(outside, link), 0);
	snprintf(path, sizeof(path), "%s/cpuset.cpus.partition", link);
	forge("write", path, "isolated");
	release_forged(path, target, false);
}

/* An IRQ's smp_affinity that is a link to a file outside. */
static void test_forged_write_through_file_link(void **state)
{
	char dir[160], path[256];

	snprintf(dir, sizeof(dir), "%s/irq/77", hs.proc);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/smp_affinity", dir);
	assert_int_equal(symlink(sentinel_outside, path), 0);
	forge("write", path, "ff");
	release_forged(path, sentinel_outside, false);
}

/* An empty directory outside, recorded as a cgroup apply made. */
static void test_forged_mkdir_outside(void **state)
{
	char dir[160];

	snprintf(dir, sizeof(dir), "%s/keep", outside);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", dir, strerror(errno));
	forge("mkdir", dir, NULL);
	release_forged(dir, dir, true);
}

/* An empty directory beside the tree, reached from the cgroup root by "..". */
static void test_forged_mkdir_dotdot(void **state)
{
	char dir[160], path[256];

	snprintf(dir, sizeof(dir), "%s/keep", hs.dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/../../keep", hs.cg);
	forge("mkdir", path, NULL);
	release_forged(path, dir, true);
	rmdir(dir);
}

/* ---- Ledger file ownership and mode (defect 3 of issue 11) ----------------- */

/*
 * Every open of the ledger is refused, with a message naming it (or its
 * directory); nothing changes.
 */
static void check_refused_open(const char *why)
{
	size_t len, alen;
	char *before = hs_slurp(hs.ledger_path, &len), *after, fail[768] = "";
	struct ledger *l;

	err_clear();
	if (ledger_open_existing(&l, hs.ledger_path) == 0) {
		ledger_close(l);
		snprintf(fail, sizeof(fail), "a ledger %s was opened (for status and release)", why);
	} else if (!clean(err_msg()) || !strstr(err_msg(), hs.ledger_dir)) {
		snprintf(fail, sizeof(fail), "refusing a ledger %s: unclear message '%s'", why,
			 err_msg());
	}
	err_clear();
	if (fail[0]) {
		/* already failed */
	} else if (ledger_open_readonly(&l, hs.ledger_path) == 0) {
		ledger_close(l);
		snprintf(fail, sizeof(fail), "a ledger %s was opened (read-only, for status)", why);
	} else if (ledger_open(&l, hs.ledger_path) == 0) {
		ledger_close(l);
		snprintf(fail, sizeof(fail), "a ledger %s was opened (for apply)", why);
	} else if (!clean(err_msg())) {
		snprintf(fail, sizeof(fail), "refusing a ledger %s: unclear message '%s'", why,
			 err_msg());
	}
	after = hs_slurp(hs.ledger_path, &alen);
	if (!fail[0] && (alen != len || memcmp(before, after, len)))
		snprintf(fail, sizeof(fail), "refusing a ledger %s changed it", why);
	free(before);
	free(after);
	if (fail[0])
		fail_msg("%s", fail);
}

static void check_opens(const char *why)
{
	struct ledger *l;

	if (ledger_open_existing(&l, hs.ledger_path))
		fail_msg("a ledger %s was refused: %s", why, err_msg());
	ledger_close(l);
}

static void test_ledger_writable_by_others(void **state)
{
	put_ledger(golden, golden_len);
	assert_int_equal(chmod(hs.ledger_path, 0646), 0);
	check_refused_open("writable by others (0646)");
	assert_int_equal(chmod(hs.ledger_path, 0666), 0);
	check_refused_open("writable by anyone (0666)");
}

static void test_ledger_writable_by_group(void **state)
{
	put_ledger(golden, golden_len);
	assert_int_equal(chmod(hs.ledger_path, 0664), 0);
	check_refused_open("writable by its group (0664)");
}

/* Whoever may write the directory can put another ledger in its place. */
static void test_ledger_dir_writable_by_others(void **state)
{
	put_ledger(golden, golden_len);
	assert_int_equal(chmod(hs.ledger_dir, 0777), 0);
	check_refused_open("in a directory anyone may write (0777)");
	assert_int_equal(chmod(hs.ledger_dir, 0775), 0);
	check_refused_open("in a directory its group may write (0775)");
	/* Sticky, as /tmp: others cannot replace our files. */
	assert_int_equal(chmod(hs.ledger_dir, 01777), 0);
	check_opens("in a sticky directory (1777)");
	assert_int_equal(chmod(hs.ledger_dir, 0755), 0);
}

/* The WAL holds the newest commits: writing it is writing the ledger. */
static void test_ledger_wal_writable_by_others(void **state)
{
	char wal[160];
	struct ledger *l;

	put_ledger(golden, golden_len);
	if (ledger_open_existing(&l, hs.ledger_path))
		fail_msg("open: %s", err_msg());
	ledger_close(l);
	side_path(wal, sizeof(wal), "-wal");
	if (access(wal, F_OK) < 0)
		hs_put(wal, "");
	assert_int_equal(chmod(wal, 0666), 0);
	check_refused_open("whose WAL anyone may write (0666)");
	assert_int_equal(chmod(wal, 0644), 0);
}

static void test_ledger_other_owner(void **state)
{
	if (geteuid() != 0) {
		/* Only root can give a file away; the rule then is "owned by us". */
		print_message("not root: cannot chown the ledger to another user\n");
		skip();
	}
	put_ledger(golden, golden_len);
	assert_int_equal(chown(hs.ledger_path, 65534, 65534), 0);
	check_refused_open("owned by uid 65534");
	assert_int_equal(chown(hs.ledger_path, 0, 0), 0);
}

/* The control: ours and not writable by others, it opens. */
static void test_ledger_trusted_opens(void **state)
{
	put_ledger(golden, golden_len);
	assert_int_equal(chmod(hs.ledger_path, 0644), 0);
	check_opens("owned by us, mode 0644");
	put_ledger(golden, golden_len);
	assert_int_equal(chmod(hs.ledger_path, 0600), 0);
	check_opens("owned by us, mode 0600");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_ledger_works),
		cmocka_unit_test(test_damaged_ledgers),
		cmocka_unit_test(test_ledger_trusted_opens),
		/* Defect 3 of issue 11: these failed before its fix, 19ce9e9. */
		cmocka_unit_test(test_forged_write_outside),
		cmocka_unit_test(test_forged_write_dotdot),
		cmocka_unit_test(test_forged_write_through_dir_link),
		cmocka_unit_test(test_forged_write_through_file_link),
		cmocka_unit_test(test_forged_mkdir_outside),
		cmocka_unit_test(test_forged_mkdir_dotdot),
		cmocka_unit_test(test_ledger_writable_by_others),
		cmocka_unit_test(test_ledger_writable_by_group),
		cmocka_unit_test(test_ledger_dir_writable_by_others),
		cmocka_unit_test(test_ledger_wal_writable_by_others),
		cmocka_unit_test(test_ledger_other_owner),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
