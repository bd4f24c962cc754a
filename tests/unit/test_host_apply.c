// SPDX-License-Identifier: GPL-2.0
/*
 * apply, release and status against a FAKE host tree in a temporary
 * directory (cgroup root, /proc, /sys), never the real one. A small
 * simulated kernel (struct host_sim) does what the real one would: cgroupfs
 * fills a new cgroup with control files and empties it on rmdir, the cpuset
 * controller shows up in cgroup.subtree_control, some IRQs refuse a new
 * affinity; tests make it refuse or misbehave elsewhere on purpose.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/apply.h"
#include "host/cpuset.h"
#include "host/procstat.h"
#include "host/status.h"
#include "host/journal.h"
#include "lib/err.h"

struct sim {
	char root[64];
	char fail_path[128];	/* a write to a path ending so fails... */
	int fail_errno;		/* ...with this errno */
	bool no_isolated;	/* a kernel before "isolated" partitions */
	bool invalid_partition;	/* partitions read back invalid */
	char busy_dir[64];	/* rmdir of a path ending so fails with EBUSY */
	int writes, mkdirs, rmdirs;
	const char *claim_ledger;	/* at the first write, claim slice db through it */
	int claim_rc;
	char claim_msg[256];
};

struct fixture {
	struct sim sim;
	struct host_sim hooks;
	struct host_paths hp;
	char cg[96], proc[96], sys[96], ledger_path[128];
	struct ledger *l;
	struct plan plan;
	FILE *out;
	char *outbuf;
	size_t outlen;
};

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return b && a >= b && !strcmp(s + a - b, tail);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("cannot create %s", path);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* ---- The simulated kernel ----------------------------------------------- */

static const char *const cgroup_files[] = {
	"cgroup.type", "cgroup.procs", "cgroup.threads", "cpuset.cpus", "cpuset.mems",
	"cpuset.cpus.partition", "cpuset.cpus.effective", NULL,
};

static int sim_mkdir(const char *path, void *arg)
{
	char file[512];

	(void)arg;
	((struct sim *)arg)->mkdirs++;
	for (int i = 0; cgroup_files[i]; i++) {
		snprintf(file, sizeof(file), "%s/%s", path, cgroup_files[i]);
		put(file, !strcmp(cgroup_files[i], "cgroup.type") ? "domain\n" :
			  !strcmp(cgroup_files[i], "cpuset.cpus.partition") ? "member\n" : "");
	}
	return 0;
}

static int sim_rmdir(const char *path, void *arg)
{
	struct sim *s = arg;
	char file[512];

	s->rmdirs++;
	if (s->busy_dir[0] && ends_with(path, s->busy_dir))
		return -EBUSY;
	for (int i = 0; cgroup_files[i]; i++) {
		snprintf(file, sizeof(file), "%s/%s", path, cgroup_files[i]);
		unlink(file);
	}
	return 0;
}

/* A VM starting in the middle of something: claims db through its own connection. */
static void late_claim(struct sim *s)
{
	struct ledger *l;
	struct cpumask hk;
	struct slice sl;

	if (ledger_open_existing(&l, s->claim_ledger))
		fail_msg("ledger_open_existing: %s", err_msg());
	s->claim_rc = ledger_claim(l, "db", "late", getpid(), &sl, &hk);
	snprintf(s->claim_msg, sizeof(s->claim_msg), "%s", s->claim_rc ? err_msg() : "");
	ledger_close(l);
}

static int sim_write(const char *path, const char *val, void *arg)
{
	struct sim *s = arg;

	s->writes++;
	if (s->claim_ledger) {
		late_claim(s);
		s->claim_ledger = NULL;
	}
	if (s->fail_path[0] && ends_with(path, s->fail_path))
		return -s->fail_errno;
	/* The timer: an IRQ whose affinity cannot change. */
	if (ends_with(path, "/irq/0/smp_affinity"))
		return -EIO;
	if (ends_with(path, "/cgroup.subtree_control")) {
		put(path, !strcmp(val, "+cpuset") ? "cpuset\n" : "\n");
		return 1;
	}
	if (ends_with(path, "/cpuset.cpus.partition")) {
		if (s->no_isolated && !strcmp(val, "isolated"))
			return -EINVAL;
		if (s->invalid_partition && strcmp(val, "member")) {
			char text[128];

			snprintf(text, sizeof(text), "%s invalid (Cpu list in cpuset.cpus not exclusive)\n",
				 val);
			put(path, text);
			return 1;
		}
	}
	return 0;
}

/* ---- The fake tree ------------------------------------------------------ */

#define INTERRUPTS_AT_START \
	"           CPU0       CPU1       CPU2       CPU3       CPU4       CPU5\n" \
	"  0:         40          0          0          0          0          0   IO-APIC   2-edge      timer\n" \
	"  1:          0          9          0          0          0          0   IO-APIC   1-edge      i8042\n" \
	"  9:          0          0          5          0          0          0   IO-APIC   9-fasteoi   acpi\n" \
	" 24:          3          0          0          0          0          0   PCI-MSI 512000-edge      ahci\n" \
	"LOC:        100        100        100        100        100        100   Local timer interrupts\n" \
	"ERR:          0\n" \
	"MIS:          0\n"

static void mkdirs(struct fixture *f, const char *sub)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->sim.root, sub);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s", path);
}

static void fake_file(struct fixture *f, const char *rel, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->sim.root, rel);
	put(path, text);
}

static void build_tree(struct fixture *f)
{
	static const char *const dirs[] = {
		"cg", "proc", "proc/irq", "proc/irq/0", "proc/irq/1", "proc/irq/9",
		"proc/irq/24", "proc/sys", "proc/sys/kernel", "proc/sys/kernel/random",
		"sys", "sys/devices", "sys/devices/virtual", "sys/devices/virtual/workqueue",
		"sys/devices/system", "sys/devices/system/cpu", "sys/kernel", "sys/kernel/debug",
		"sys/kernel/debug/sched", "sys/kernel/debug/sched/fair_server", NULL,
	};
	char dir[64], rel[96];
	char boot[64], link[128], target[64];

	for (int i = 0; dirs[i]; i++)
		mkdirs(f, dirs[i]);
	fake_file(f, "cg/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	fake_file(f, "cg/cgroup.subtree_control", "\n");
	fake_file(f, "cg/cgroup.procs", "1\n");
	fake_file(f, "cg/cpuset.cpus.effective", "0-5\n");
	fake_file(f, "cg/cpuset.mems.effective", "0\n");
	fake_file(f, "proc/irq/default_smp_affinity", "3f\n");
	fake_file(f, "proc/irq/0/smp_affinity", "3f\n");
	fake_file(f, "proc/irq/1/smp_affinity", "3f\n");
	fake_file(f, "proc/irq/9/smp_affinity", "0c\n");	/* slice CPUs only */
	fake_file(f, "proc/irq/24/smp_affinity", "01\n");	/* housekeeping already */
	fake_file(f, "proc/interrupts", INTERRUPTS_AT_START);
	/* The real boot id, so that claims (which read the real /proc) agree. */
	assert_int_equal(procstat_boot_id("/proc", boot, sizeof(boot)), 0);
	strcat(boot, "\n");
	fake_file(f, "proc/sys/kernel/random/boot_id", boot);
	/* This process, as apply records who is applying. */
	snprintf(link, sizeof(link), "%s/proc/%d", f->sim.root, (int)getpid());
	snprintf(target, sizeof(target), "/proc/%d", (int)getpid());
	assert_int_equal(symlink(target, link), 0);
	fake_file(f, "sys/devices/virtual/workqueue/cpumask", "3f\n");
	fake_file(f, "sys/devices/system/cpu/online", "0-5\n");
	/* Linux 6.12's fair server, 50 ms a second on every CPU */
	for (int cpu = 0; cpu < 6; cpu++) {
		snprintf(dir, sizeof(dir), "sys/kernel/debug/sched/fair_server/cpu%d", cpu);
		mkdirs(f, dir);
		snprintf(rel, sizeof(rel), "%s/runtime", dir);
		fake_file(f, rel, "50000000\n");
	}
}

static void make_plan(struct plan *p, const char *second_cpus)
{
	memset(p, 0, sizeof(*p));
	cpumask_parse_list("0-1", &p->housekeeping);
	p->nslices = 2;
	snprintf(p->slices[0].name, SLICE_NAME_MAX, "db");
	cpumask_parse_list("2-3", &p->slices[0].cpus);
	p->slices[0].node = 0;
	p->slices[0].memory = 1ULL << 30;
	snprintf(p->slices[1].name, SLICE_NAME_MAX, "web");
	cpumask_parse_list(second_cpus, &p->slices[1].cpus);
	p->slices[1].node = -1;
	p->slices[1].memory = 1ULL << 30;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->sim.root, sizeof(f->sim.root), "/tmp/slicevm-apply-XXXXXX");
	assert_non_null(mkdtemp(f->sim.root));
	build_tree(f);
	snprintf(f->cg, sizeof(f->cg), "%s/cg", f->sim.root);
	snprintf(f->proc, sizeof(f->proc), "%s/proc", f->sim.root);
	snprintf(f->sys, sizeof(f->sys), "%s/sys", f->sim.root);
	snprintf(f->ledger_path, sizeof(f->ledger_path), "%s/ledger/ledger.db", f->sim.root);
	f->hooks = (struct host_sim){ sim_mkdir, sim_rmdir, sim_write, &f->sim };
	f->hp = (struct host_paths){ f->cg, f->proc, f->sys, &f->hooks };
	if (ledger_open(&f->l, f->ledger_path))
		fail_msg("ledger_open: %s", err_msg());
	make_plan(&f->plan, "4-5");
	f->out = open_memstream(&f->outbuf, &f->outlen);
	assert_non_null(f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	ledger_close(f->l);
	fclose(f->out);
	free(f->outbuf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->sim.root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->sim.root);
	free(f);
	return 0;
}

/* Everything apply may touch, as one comparable text: each path and content. */
static char *tree_text;
static size_t tree_len;

static int add_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	char buf[4096], line[8192];
	size_t n;

	(void)ftw;
	(void)sb;
	if (strstr(path, "/ledger") || type == FTW_SL)
		return 0;
	if (type == FTW_F) {
		/* Kernel files end in a newline whatever was written: ignore it. */
		get(path, buf, sizeof(buf));
		n = strlen(buf);
		while (n && buf[n - 1] == '\n')
			buf[--n] = '\0';
		snprintf(line, sizeof(line), "%s=%s|", path, buf);
	} else {
		snprintf(line, sizeof(line), "%s/|", path);
	}
	n = strlen(line);
	tree_text = realloc(tree_text, tree_len + n + 1);
	memcpy(tree_text + tree_len, line, n + 1);
	tree_len += n;
	return 0;
}

/* Host files only (the ledger is compared through its API). Free the result. */
static char *snapshot(struct fixture *f)
{
	tree_text = NULL;
	tree_len = 0;
	assert_int_equal(nftw(f->sim.root, add_entry, 16, FTW_PHYS), 0);
	return tree_text;
}

static const char *file(struct fixture *f, const char *rel)
{
	static char buf[4096];
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->sim.root, rel);
	return get(path, buf, sizeof(buf));
}

static bool exists(struct fixture *f, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->sim.root, rel);
	return access(path, F_OK) == 0;
}

static enum ledger_state ledger_state(struct fixture *f)
{
	struct ledger_applied a;
	enum ledger_state s;

	assert_int_equal(ledger_get_applied(f->l, &a), 0);
	s = a.state;
	ledger_applied_free(&a);
	return s;
}

static int nchanges(struct fixture *f)
{
	struct ledger_change *c;
	int n;

	assert_int_equal(ledger_changes(f->l, &c, &n), 0);
	ledger_changes_free(c, n);
	return n;
}

static const char *output(struct fixture *f)
{
	fflush(f->out);
	return f->outbuf ? f->outbuf : "";
}

static void apply_ok(struct fixture *f, const struct plan *plan)
{
	if (host_apply(f->l, &f->hp, plan, false, f->out))
		fail_msg("apply: %s\noutput:\n%s", err_msg(), output(f));
}

/* CPU @cpu's fair server runtime file, as the test tree has it. */
static const char *fair_server(struct fixture *f, int cpu)
{
	char rel[96];

	snprintf(rel, sizeof(rel), "sys/kernel/debug/sched/fair_server/cpu%d/runtime", cpu);
	return file(f, rel);
}

/* ---- Tests -------------------------------------------------------------- */

static void test_apply_then_release(void **state)
{
	struct fixture *f = *state;
	char *before = snapshot(f), *after;

	apply_ok(f, &f->plan);
	assert_int_equal(ledger_state(f), LEDGER_APPLIED);

	/* cpuset partitions */
	assert_string_equal(file(f, "cg/cgroup.subtree_control"), "cpuset\n");
	assert_string_equal(file(f, "cg/slicevm-db/cgroup.type"), "threaded");
	assert_string_equal(file(f, "cg/slicevm-db/cpuset.cpus"), "2-3");
	assert_string_equal(file(f, "cg/slicevm-db/cpuset.mems"), "0");
	assert_string_equal(file(f, "cg/slicevm-db/cpuset.cpus.partition"), "isolated");
	assert_string_equal(file(f, "cg/slicevm-web/cpuset.cpus"), "4-5");
	/* A slice spanning nodes leaves cpuset.mems to its parent. */
	assert_string_equal(file(f, "cg/slicevm-web/cpuset.mems"), "");
	assert_string_equal(file(f, "cg/slicevm-web/cpuset.cpus.partition"), "isolated");

	/* IRQs: narrowed to housekeeping; already fine ones untouched. */
	assert_string_equal(file(f, "proc/irq/default_smp_affinity"), "3");
	assert_string_equal(file(f, "proc/irq/1/smp_affinity"), "3");
	assert_string_equal(file(f, "proc/irq/9/smp_affinity"), "3");
	assert_string_equal(file(f, "proc/irq/24/smp_affinity"), "01\n");
	/* The timer refused: listed, not fatal. */
	assert_string_equal(file(f, "proc/irq/0/smp_affinity"), "3f\n");
	assert_non_null(strstr(output(f), "note: irq 0: stays on CPU mask 3f"));
	assert_non_null(strstr(output(f), "irqs: 3 moved to housekeeping CPUs, 1 refused"));
	assert_string_equal(file(f, "sys/devices/virtual/workqueue/cpumask"), "3");
	assert_non_null(strstr(output(f), "slice db: "));
	assert_non_null(strstr(output(f), "partition isolated"));
	/* The fair server off on slice CPUs only. */
	assert_string_equal(fair_server(f, 1), "50000000\n");
	for (int cpu = 2; cpu <= 5; cpu++)
		assert_string_equal(fair_server(f, cpu), "0");
	assert_non_null(strstr(output(f), "fair server: off on slice CPUs 2-5"));

	/* subtree_control, wq, default, irq 1, irq 9, 4 fair servers, 2 x (mkdir, partition) */
	assert_int_equal(nchanges(f), 13);

	if (host_release(f->l, &f->hp, false, f->out))
		fail_msg("release: %s", err_msg());
	assert_int_equal(ledger_state(f), LEDGER_NONE);
	assert_int_equal(nchanges(f), 0);
	after = snapshot(f);
	/* Every value back as it was, to the byte (a trailing newline aside). */
	assert_string_equal(file(f, "proc/irq/9/smp_affinity"), "0c");
	assert_string_equal(file(f, "proc/irq/default_smp_affinity"), "3f");
	assert_false(exists(f, "cg/slicevm-db"));
	assert_false(exists(f, "cg/slicevm-web"));
	assert_string_equal(file(f, "cg/cgroup.subtree_control"), "\n");
	assert_string_equal(fair_server(f, 2), "50000000");
	assert_non_null(strstr(output(f), "released: 13 changes undone"));
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Release again: nothing to do. */
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), 0);
	assert_non_null(strstr(output(f), "nothing is applied"));
}

static void test_apply_twice_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char *once, *twice;

	apply_ok(f, &f->plan);
	once = snapshot(f);
	f->sim.writes = f->sim.mkdirs = 0;
	apply_ok(f, &f->plan);
	twice = snapshot(f);
	assert_int_equal(f->sim.writes, 0);
	assert_int_equal(f->sim.mkdirs, 0);
	assert_string_equal(once, twice);
	assert_non_null(strstr(output(f), "already applied: nothing changed"));
	assert_int_equal(nchanges(f), 13);
	free(once);
	free(twice);
}

static void test_different_plan_refused(void **state)
{
	struct fixture *f = *state;
	struct plan other;
	char *once, *after;

	apply_ok(f, &f->plan);
	once = snapshot(f);
	f->sim.writes = 0;
	make_plan(&other, "4");
	assert_int_equal(host_apply(f->l, &f->hp, &other, false, f->out), -1);
	assert_string_equal(err_msg(), "a different plan is applied: run 'slicevm host release' first");
	after = snapshot(f);
	assert_string_equal(once, after);
	assert_int_equal(f->sim.writes, 0);
	free(once);
	free(after);
}

/* A failure at @fail_path (after earlier changes succeeded) undoes them all. */
static void check_rollback(struct fixture *f, const char *fail_path, int err,
			   const char *msg)
{
	char *before = snapshot(f), *after;

	snprintf(f->sim.fail_path, sizeof(f->sim.fail_path), "%s", fail_path);
	f->sim.fail_errno = err;
	assert_int_equal(host_apply(f->l, &f->hp, &f->plan, false, f->out), -1);
	if (!strstr(err_msg(), "(apply undone: nothing changed)") || !strstr(err_msg(), msg))
		fail_msg("unexpected error: %s", err_msg());
	after = snapshot(f);
	assert_string_equal(before, after);
	assert_int_equal(ledger_state(f), LEDGER_NONE);
	assert_int_equal(nchanges(f), 0);
	free(before);
	free(after);

	/* And the same apply works once the kernel cooperates. */
	f->sim.fail_path[0] = '\0';
	apply_ok(f, &f->plan);
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), 0);
}

/* The kernel refusing one CPU's fair server is a note, not a failure. */
static void test_fair_server_refused(void **state)
{
	struct fixture *f = *state;

	snprintf(f->sim.fail_path, sizeof(f->sim.fail_path), "cpu3/runtime");
	f->sim.fail_errno = EBUSY;
	apply_ok(f, &f->plan);
	assert_string_equal(fair_server(f, 3), "50000000\n");
	assert_string_equal(fair_server(f, 4), "0");
	assert_non_null(strstr(output(f), "note: CPU 3 keeps its fair server: the kernel refused "
				"runtime 0 (Device or resource busy)"));
	assert_non_null(strstr(output(f), "fair server: off on 3 of slice CPUs 2-5"));
	assert_int_equal(nchanges(f), 12);
	f->sim.fail_path[0] = '\0';
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), 0);
	assert_string_equal(fair_server(f, 4), "50000000");
}

/* Slice CPUs whose fair server is off already: nothing to record or say. */
static void test_fair_server_already_off(void **state)
{
	struct fixture *f = *state;
	char rel[96];

	for (int cpu = 2; cpu <= 5; cpu++) {
		snprintf(rel, sizeof(rel), "sys/kernel/debug/sched/fair_server/cpu%d/runtime", cpu);
		fake_file(f, rel, "0\n");
	}
	apply_ok(f, &f->plan);
	assert_int_equal(nchanges(f), 9);
	assert_non_null(strstr(output(f), "fair server: already off on slice CPUs 2-5"));
}

/*
 * A kernel before 6.12 (debugfs has sched/ but no fair server) needs
 * nothing; without debugfs apply says what it could not do.
 */
static void test_fair_server_absent(void **state)
{
	struct fixture *f = *state;
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -r '%s/kernel/debug/sched/fair_server'", f->sys);
	assert_int_equal(system(cmd), 0);
	apply_ok(f, &f->plan);
	assert_int_equal(nchanges(f), 9);
	assert_null(strstr(output(f), "fair server"));
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), 0);

	snprintf(cmd, sizeof(cmd), "rm -r '%s/kernel/debug/sched'", f->sys);
	assert_int_equal(system(cmd), 0);
	apply_ok(f, &f->plan);
	assert_int_equal(nchanges(f), 9);
	assert_non_null(strstr(output(f), "(debugfs not mounted?): on Linux 6.12+ the "
				"scheduler's fair server restarts the tick"));
}

/* The fair server's runtime of a CPU is a place apply changes; nothing near it is. */
static void test_fair_server_places(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *rel;
		bool allowed;
	} cases[] = {
		{ "kernel/debug/sched/fair_server/cpu12/runtime", true },
		{ "kernel/debug/sched/fair_server/cpu/runtime", false },
		{ "kernel/debug/sched/fair_server/cpu1x/runtime", false },
		{ "kernel/debug/sched/fair_server/cpu1/period", false },
		{ "kernel/debug/sched/fair_server/cpu1/../cpu2/runtime", false },
		{ "kernel/debug/sched/features", false },
	};
	char path[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->sys, cases[i].rel);
		if (journal_place_allowed(&f->hp, CHANGE_WRITE, path) != cases[i].allowed)
			fail_msg("%s: allowed should be %d", cases[i].rel, cases[i].allowed);
	}
}

static void test_rollback_second_partition(void **state)
{
	check_rollback(*state, "slicevm-web/cpuset.cpus.partition", EACCES,
		       "slicevm-web/cpuset.cpus.partition");
}

static void test_rollback_second_cgroup_files(void **state)
{
	check_rollback(*state, "slicevm-web/cgroup.type", EOPNOTSUPP, "slice web: ");
}

static void test_rollback_workqueue(void **state)
{
	check_rollback(*state, "workqueue/cpumask", EINVAL, "cannot limit unbound workqueues");
}

static void test_rollback_subtree_control(void **state)
{
	check_rollback(*state, "cgroup.subtree_control", EBUSY,
		       "cannot enable the cpuset controller");
}

static void test_invalid_partition_rolls_back(void **state)
{
	struct fixture *f = *state;
	char *before = snapshot(f), *after;

	f->sim.invalid_partition = true;
	assert_int_equal(host_apply(f->l, &f->hp, &f->plan, false, f->out), -1);
	assert_non_null(strstr(err_msg(), "reads 'isolated invalid (Cpu list"));
	assert_non_null(strstr(err_msg(), "apply undone"));
	after = snapshot(f);
	assert_string_equal(before, after);
	assert_int_equal(ledger_state(f), LEDGER_NONE);
	free(before);
	free(after);
}

static void test_no_isolated_falls_back_to_root(void **state)
{
	struct fixture *f = *state;
	struct ledger_applied a;

	f->sim.no_isolated = true;
	apply_ok(f, &f->plan);
	assert_string_equal(file(f, "cg/slicevm-db/cpuset.cpus.partition"), "root");
	assert_non_null(strstr(output(f), "note: slice db: the kernel refused an isolated partition"));
	assert_non_null(strstr(output(f), "partition root"));
	/* The note is kept for status. */
	assert_int_equal(ledger_get_applied(f->l, &a), 0);
	assert_non_null(strstr(a.notes, "made it a 'root' partition"));
	ledger_applied_free(&a);
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), 0);
	assert_false(exists(f, "cg/slicevm-db"));
}

/* Bad input: refused with nothing changed, the ledger included. */
static void check_refused(struct fixture *f, const struct plan *plan, const char *msg)
{
	char *before = snapshot(f), *after;

	f->sim.writes = f->sim.mkdirs = 0;
	assert_int_equal(host_apply(f->l, &f->hp, plan, false, f->out), -1);
	if (!strstr(err_msg(), msg))
		fail_msg("expected '%s' in: %s", msg, err_msg());
	after = snapshot(f);
	assert_string_equal(before, after);
	assert_int_equal(f->sim.writes, 0);
	assert_int_equal(f->sim.mkdirs, 0);
	assert_int_equal(ledger_state(f), LEDGER_NONE);
	free(before);
	free(after);
}

static void test_bad_input_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct plan p;
	char path[512];

	make_plan(&p, "6-7");
	check_refused(f, &p, "slice web wants CPUs 6-7, but only 0-5 are free");
	make_plan(&p, "3-4");
	check_refused(f, &p, "slices db and web share CPUs");
	make_plan(&p, "1,4");
	check_refused(f, &p, "slice web shares CPUs with the housekeeping CPUs");
	make_plan(&p, "4-5");
	p.slices[0].node = 1;
	check_refused(f, &p, "slice db wants memory node 1");
	make_plan(&p, "4-5");
	snprintf(p.slices[1].name, SLICE_NAME_MAX, "../x");
	check_refused(f, &p, "slice name '../x' must start with a letter or digit");
	make_plan(&p, "4-5");
	snprintf(p.slices[1].name, SLICE_NAME_MAX, "a/b");
	check_refused(f, &p, "slice name 'a/b' has a '/'");
	make_plan(&p, "4-5");
	cpumask_clear(&p.housekeeping);
	check_refused(f, &p, "no housekeeping CPUs");
	make_plan(&p, "4-5");
	p.nslices = 0;
	check_refused(f, &p, "the plan has no slices");

	/* A cgroup that is in the way is not ours to take. */
	snprintf(path, sizeof(path), "%s/slicevm-web", f->cg);
	assert_int_equal(mkdir(path, 0755), 0);
	check_refused(f, &f->plan, "already exists and this ledger did not make it");
	rmdir(path);

	/* Not cgroup v2 at all. */
	snprintf(path, sizeof(path), "%s/cgroup.controllers", f->cg);
	unlink(path);
	check_refused(f, &f->plan, "apply needs cgroup v2 mounted at ");
	put(path, "cpu io memory\n");
	check_refused(f, &f->plan, "the cpuset controller is not available");
}

/* A refused apply leaves no ledger behind; an existing one is reused. */
static void test_apply_open(void **state)
{
	struct fixture *f = *state;
	struct ledger *l;
	char path[320], dir[256];
	struct plan p;

	snprintf(dir, sizeof(dir), "%s/fresh", f->sim.root);
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	make_plan(&p, "6-7");
	assert_int_equal(host_apply_open(&l, path, &f->hp, &p, false), -1);
	assert_non_null(strstr(err_msg(), "slice web wants CPUs 6-7"));
	assert_int_not_equal(access(dir, F_OK), 0);
	fake_file(f, "cg/cgroup.controllers", "cpu io memory\n");
	assert_int_equal(host_apply_open(&l, path, &f->hp, &f->plan, false), -1);
	assert_non_null(strstr(err_msg(), "the cpuset controller is not available"));
	assert_int_not_equal(access(dir, F_OK), 0);
	fake_file(f, "cg/cgroup.controllers", "cpuset cpu io memory\n");

	/* A plan that fits: the ledger is made. */
	if (host_apply_open(&l, path, &f->hp, &f->plan, false))
		fail_msg("host_apply_open: %s", err_msg());
	assert_int_equal(access(path, F_OK), 0);
	ledger_close(l);

	/* Applied already (its CPUs no longer free): the ledger still opens. */
	apply_ok(f, &f->plan);
	fake_file(f, "cg/cpuset.cpus.effective", "0-1\n");
	if (host_apply_open(&l, f->ledger_path, &f->hp, &f->plan, false))
		fail_msg("host_apply_open on the applied ledger: %s", err_msg());
	assert_int_equal(host_apply(l, &f->hp, &f->plan, false, f->out), 0);
	assert_non_null(strstr(output(f), "already applied: nothing changed"));
	ledger_close(l);
}

static void test_release_refused_while_held(void **state)
{
	struct fixture *f = *state;
	struct cpumask hk;
	struct slice s;
	char want[160];

	apply_ok(f, &f->plan);
	if (ledger_claim(f->l, "web", "vm1", getpid(), &s, &hk))
		fail_msg("claim: %s", err_msg());
	f->sim.writes = 0;
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), -1);
	snprintf(want, sizeof(want), "slice web is held by VM vm1 (pid %d): stop it first ('slicevm stop vm1'), or give --force",
		 (int)getpid());
	assert_string_equal(err_msg(), want);
	assert_int_equal(f->sim.writes, 0);
	assert_int_equal(ledger_state(f), LEDGER_APPLIED);

	/* Forced, under a VM whose threads keep the cgroup busy: incomplete. */
	snprintf(f->sim.busy_dir, sizeof(f->sim.busy_dir), "slicevm-web");
	assert_int_equal(host_release(f->l, &f->hp, true, f->out), -1);
	assert_non_null(strstr(err_msg(), "release is incomplete"));
	assert_non_null(strstr(output(f), "kept: "));
	/* the web cgroup, and the fair servers until the partitions are gone */
	assert_int_equal(nchanges(f), 5);
	assert_true(exists(f, "cg/slicevm-web"));
	assert_false(exists(f, "cg/slicevm-db"));
	assert_string_equal(file(f, "proc/irq/9/smp_affinity"), "0c");
	assert_string_equal(fair_server(f, 2), "0");
	assert_non_null(strstr(output(f), "cpu2/runtime (fair server of CPU 2): restored once "
				"the slices' cgroups are gone"));
	/* The VM is gone: the next release finishes the job. */
	f->sim.busy_dir[0] = '\0';
	assert_int_equal(ledger_unclaim(f->l, "web", getpid()), 0);
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), 0);
	assert_false(exists(f, "cg/slicevm-web"));
	assert_string_equal(fair_server(f, 2), "50000000");
	assert_int_equal(ledger_state(f), LEDGER_NONE);
}

/*
 * A VM claiming a slice while release undoes the host changes: refused, so
 * that no VM runs in a partition release is taking apart.
 */
static void test_claim_during_release_refused(void **state)
{
	struct fixture *f = *state;
	struct ledger_holder *h;
	int n;

	apply_ok(f, &f->plan);
	f->sim.claim_ledger = f->ledger_path;
	if (host_release(f->l, &f->hp, false, f->out))
		fail_msg("release: %s", err_msg());
	assert_null(f->sim.claim_ledger);	/* the claim was tried */
	assert_int_equal(f->sim.claim_rc, -1);
	assert_string_equal(f->sim.claim_msg,
			    "slice db is being released: apply a plan again first");
	assert_int_equal(ledger_state(f), LEDGER_NONE);
	assert_int_equal(ledger_holders(f->l, &h, &n), 0);
	assert_int_equal(n, 0);
	free(h);
}

/* A release that died half way: claims stay refused; the next release finishes. */
static void test_dead_release_finished(void **state)
{
	struct fixture *f = *state;
	char *before = snapshot(f), *after;
	struct ledger_holder *h;
	struct ledger_change *c;
	json_object *st, *v;
	struct cpumask hk;
	struct slice s;
	int n;

	apply_ok(f, &f->plan);
	/* It marked the plan (as pid 0, never alive) and undid the newest change. */
	assert_int_equal(ledger_begin_release(f->l, 0, 1, false, &h, &n), 0);
	assert_int_equal(ledger_changes(f->l, &c, &n), 0);
	assert_int_equal(c[0].kind, CHANGE_WRITE);
	assert_int_equal(hostfs_write(&f->hp, c[0].path, c[0].old), 0);
	assert_int_equal(ledger_drop_change(f->l, c[0].seq), 0);
	ledger_changes_free(c, n);

	assert_int_equal(ledger_claim(f->l, "db", "vm", getpid(), &s, &hk), -1);
	assert_string_equal(err_msg(), "slice db is being released: apply a plan again first");
	assert_int_equal(host_apply(f->l, &f->hp, &f->plan, false, f->out), -1);
	assert_string_equal(err_msg(), "an earlier release (pid 0) stopped half way: run 'slicevm host release' to finish it, then apply again");
	st = host_status(f->l, &f->hp);
	assert_non_null(st);
	assert_true(json_object_object_get_ex(st, "state", &v));
	assert_string_equal(json_object_get_string(v), "releasing");
	host_status_print(st, f->out);
	assert_non_null(strstr(output(f), "state: releasing (or a release stopped half way"));
	json_object_put(st);

	if (host_release(f->l, &f->hp, false, f->out))
		fail_msg("release: %s", err_msg());
	assert_int_equal(ledger_state(f), LEDGER_NONE);
	after = snapshot(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
	apply_ok(f, &f->plan);
	assert_int_equal(ledger_claim(f->l, "db", "vm", getpid(), &s, &hk), 0);
}

static void test_interrupted_apply(void **state)
{
	struct fixture *f = *state;
	char path[512], boot[64];
	int64_t seq;

	/* An apply that died after its first change (pid 0 is never alive). */
	assert_int_equal(procstat_boot_id(f->proc, boot, sizeof(boot)), 0);
	assert_int_equal(ledger_begin_apply(f->l, &f->plan, boot, 0, 1), 0);
	snprintf(path, sizeof(path), "%s/irq/9/smp_affinity", f->proc);
	assert_int_equal(ledger_record(f->l, CHANGE_WRITE, path, "0c", "irq 9", &seq), 0);
	put(path, "3\n");
	assert_int_equal(host_apply(f->l, &f->hp, &f->plan, false, f->out), -1);
	assert_non_null(strstr(err_msg(), "stopped half way: run 'slicevm host release'"));
	if (host_release(f->l, &f->hp, false, f->out))
		fail_msg("release: %s", err_msg());
	assert_string_equal(file(f, "proc/irq/9/smp_affinity"), "0c");
	assert_int_equal(ledger_state(f), LEDGER_NONE);
}

/*
 * A tampered journal: records pointing outside the places apply changes,
 * or through a link out of the tree, are refused at release; the files
 * they name are left untouched and release says so.
 */
static void test_forged_journal_refused(void **state)
{
	struct fixture *f = *state;
	char victim[256], path[512], boot[64], outside[256];
	int64_t seq;

	snprintf(victim, sizeof(victim), "%s/victim", f->sim.root);
	put(victim, "precious\n");
	snprintf(outside, sizeof(outside), "%s/outside", f->sim.root);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(path, sizeof(path), "%s/cpuset.cpus.partition", outside);
	put(path, "precious\n");
	/* a slice cgroup that is really a link out of the cgroup tree */
	snprintf(path, sizeof(path), "%s/slicevm-evil", f->cg);
	assert_int_equal(symlink(outside, path), 0);

	assert_int_equal(procstat_boot_id(f->proc, boot, sizeof(boot)), 0);
	assert_int_equal(ledger_begin_apply(f->l, &f->plan, boot, 0, 1), 0);
	assert_int_equal(ledger_record(f->l, CHANGE_WRITE, victim, "owned", "irq 9", &seq), 0);
	snprintf(path, sizeof(path), "%s/irq/../../victim", f->proc);
	assert_int_equal(ledger_record(f->l, CHANGE_WRITE, path, "owned", "irq 9", &seq), 0);
	snprintf(path, sizeof(path), "%s/slicevm-evil/cpuset.cpus.partition", f->cg);
	assert_int_equal(ledger_record(f->l, CHANGE_WRITE, path, "owned", "slice", &seq), 0);
	snprintf(path, sizeof(path), "%s/slicevm-evil", f->cg);
	assert_int_equal(ledger_record(f->l, CHANGE_MKDIR, path, NULL, "slice", &seq), 0);
	snprintf(path, sizeof(path), "%s/../outside", f->cg);
	assert_int_equal(ledger_record(f->l, CHANGE_MKDIR, path, NULL, "slice", &seq), 0);

	assert_int_equal(host_release(f->l, &f->hp, false, f->out), -1);
	assert_non_null(strstr(err_msg(), "the ledger recorded 4 changes outside the places"));
	fflush(f->out);
	assert_non_null(strstr(output(f), "refused: "));
	assert_non_null(strstr(output(f), "not restored: "));
	assert_string_equal(get(victim, boot, sizeof(boot)), "precious\n");
	snprintf(path, sizeof(path), "%s/cpuset.cpus.partition", outside);
	assert_string_equal(get(path, boot, sizeof(boot)), "precious\n");
	assert_true(exists(f, "outside"));
	assert_int_equal(ledger_state(f), LEDGER_NONE);

	/* and apply never records such a path in the first place */
	{
		struct journal j = { .ledger = f->l, .hp = &f->hp };

		assert_int_equal(journal_write(&j, victim, "x", "y", "test"), -1);
		assert_non_null(strstr(err_msg(), "refusing to change"));
		snprintf(path, sizeof(path), "%s/irq/1a/smp_affinity", f->proc);
		assert_int_equal(journal_write(&j, path, "x", "y", "test"), -1);
		snprintf(path, sizeof(path), "%s/other", f->cg);
		assert_int_equal(journal_mkdir(&j, path, "test"), -1);
		assert_int_equal(nchanges(f), 0);
	}
}

static void test_earlier_boot_forgotten(void **state)
{
	struct fixture *f = *state;

	apply_ok(f, &f->plan);
	/* Reboot: the kernel's state is fresh; the ledger's records are stale. */
	fake_file(f, "proc/sys/kernel/random/boot_id", "00000000-0000-0000-0000-000000000000\n");
	fake_file(f, "proc/irq/9/smp_affinity", "0c\n");
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/slicevm-db' '%s/slicevm-web'", f->cg, f->cg);
		assert_int_equal(system(cmd), 0);
	}
	f->sim.writes = 0;
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), 0);
	assert_non_null(strstr(output(f), "applied before the host rebooted"));
	/* Nothing written back: those values belonged to the earlier boot. */
	assert_int_equal(f->sim.writes, 0);
	assert_int_equal(ledger_state(f), LEDGER_NONE);

	/* apply after a reboot forgets the stale record by itself. */
	apply_ok(f, &f->plan);
	fake_file(f, "proc/sys/kernel/random/boot_id", "11111111-0000-0000-0000-000000000000\n");
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/slicevm-db' '%s/slicevm-web'", f->cg, f->cg);
		assert_int_equal(system(cmd), 0);
	}
	apply_ok(f, &f->plan);
	assert_non_null(strstr(output(f), "forgetting the plan applied before the host rebooted"));
	assert_int_equal(ledger_state(f), LEDGER_APPLIED);
}

static void test_drift_detected(void **state)
{
	struct fixture *f = *state;

	apply_ok(f, &f->plan);
	/* Someone turned a partition off behind our back. */
	fake_file(f, "cg/slicevm-web/cpuset.cpus.partition", "member\n");
	assert_int_equal(host_apply(f->l, &f->hp, &f->plan, false, f->out), -1);
	assert_non_null(strstr(err_msg(), "the applied plan no longer holds (slice web's partition reads 'member')"));
}

static json_object *slice_of(json_object *st, const char *name)
{
	json_object *slices;

	assert_true(json_object_object_get_ex(st, "slices", &slices));
	for (size_t i = 0; i < json_object_array_length(slices); i++) {
		json_object *s = json_object_array_get_idx(slices, i), *n;

		if (json_object_object_get_ex(s, "name", &n) &&
		    !strcmp(json_object_get_string(n), name))
			return s;
	}
	fail_msg("no slice %s in status", name);
	return NULL;
}

static int64_t int_of(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

static void test_status(void **state)
{
	struct fixture *f = *state;
	json_object *st, *db, *web, *holder, *irqs, *first, *v;
	struct cpumask hk;
	struct slice s;

	st = host_status(f->l, &f->hp);
	assert_non_null(st);
	assert_true(json_object_object_get_ex(st, "state", &v));
	assert_string_equal(json_object_get_string(v), "none");
	json_object_put(st);

	apply_ok(f, &f->plan);
	assert_int_equal(ledger_claim(f->l, "db", "vm1", getpid(), &s, &hk), 0);
	/*
	 * Since apply: 7 more timer ticks on CPU2 and 2 on CPU3, irq 9 fired
	 * twice on CPU2, CPU4 is offline now (no column), and a new IRQ 30
	 * appeared with 4 on CPU3.
	 */
	fake_file(f, "proc/interrupts",
		  "           CPU0       CPU1       CPU2       CPU3       CPU5\n"
		  "  0:         50          0          0          0          0   IO-APIC   2-edge      timer\n"
		  "  9:          0          0          7          0          0   IO-APIC   9-fasteoi   acpi\n"
		  " 30:          0          0          0          4          0   PCI-MSI 1-edge   virtio0\n"
		  "LOC:        150        150        107        102        190   Local timer interrupts\n"
		  "ERR:          0\n"
		  "MIS:          0\n");
	st = host_status(f->l, &f->hp);
	assert_non_null(st);
	assert_true(json_object_object_get_ex(st, "state", &v));
	assert_string_equal(json_object_get_string(v), "applied");
	db = slice_of(st, "db");
	assert_int_equal(int_of(db, "interrupts_since_apply"), 7 + 2 + 2 + 4);
	assert_true(json_object_object_get_ex(db, "interrupts", &irqs));
	assert_int_equal(json_object_array_length(irqs), 3);
	first = json_object_array_get_idx(irqs, 0);
	assert_true(json_object_object_get_ex(first, "irq", &v));
	assert_string_equal(json_object_get_string(v), "LOC");
	assert_int_equal(int_of(first, "count"), 9);
	assert_true(json_object_object_get_ex(db, "holder", &holder));
	assert_non_null(holder);
	assert_int_equal(int_of(holder, "pid"), getpid());
	assert_true(json_object_object_get_ex(holder, "alive", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(db, "partition", &v));
	assert_string_equal(json_object_get_string(v), "isolated");
	/* web: CPU5 got 90 timer ticks; CPU4 is gone and counts nothing. */
	web = slice_of(st, "web");
	assert_int_equal(int_of(web, "interrupts_since_apply"), 90);
	assert_true(json_object_object_get_ex(web, "holder", &holder));
	assert_null(holder);

	host_status_print(st, f->out);
	assert_non_null(strstr(output(f), "held by VM vm1"));
	assert_non_null(strstr(output(f), "interrupts on its CPUs since apply: 15"));
	assert_non_null(strstr(output(f), "note: irq 0: stays on CPU mask 3f"));
	json_object_put(st);
}

/* ---- slice memory: reserved ranges and hugepages ---- */

/* db: 1G reserved at 1G (memmap); web stays spanning and anon. */
static void make_memory_plan(struct plan *p)
{
	make_plan(p, "4-5");
	p->slices[0].backing = BACKING_RESERVED;
	p->slices[0].identity = true;
	p->slices[0].phys_start = 1ULL << 30;
}

static void mkdir_p(struct fixture *f, const char *rel)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", f->sim.root, rel);
	assert_int_equal(system(cmd), 0);
}

#define IOMEM_RAM "00001000-0009fbff : System RAM\n00100000-bffdffff : System RAM\n"
#define IOMEM_RESERVED "00001000-0009fbff : System RAM\n00100000-3fffffff : System RAM\n" \
		       "40000000-7fffffff : Reserved\n80000000-bffdffff : System RAM\n"

static void test_reserved_range_checked(void **state)
{
	struct fixture *f = *state;
	struct plan p;

	make_memory_plan(&p);
	fake_file(f, "proc/iomem", IOMEM_RAM);
	check_refused(f, &p, "slice db's range 0x40000000-0x7fffffff is System RAM now "
		      "(100000-bffdffff in /proc/iomem): add 'memmap=1G$0x40000000' to the "
		      "kernel command line");
	fake_file(f, "proc/iomem", "00100000-3fffffff : System RAM\n"
		  "40000000-5fffffff : Reserved\n60000000-bffdffff : Reserved\n");
	check_refused(f, &p, "slice db's range 0x40000000-0x7fffffff is not what /proc/iomem "
		      "reserves (40000000-5fffffff : Reserved): boot with exactly "
		      "'memmap=1G$0x40000000'");
	fake_file(f, "proc/iomem", "00100000-3fffffff : System RAM\n");
	check_refused(f, &p, "slice db's range 0x40000000-0x7fffffff is not reserved: add "
		      "'memmap=1G$0x40000000'");
	fake_file(f, "proc/iomem", "00100000-3fffffff : System RAM\n"
		  "40000000-7fffffff : Persistent Memory (legacy)\n");
	check_refused(f, &p, "is 'Persistent Memory (legacy)' in /proc/iomem, not 'Reserved'");
	fake_file(f, "proc/iomem", "00000000-00000000 : System RAM\n"
		  "00000000-00000000 : Reserved\n");
	check_refused(f, &p, "run as root");
	fake_file(f, "proc/iomem", IOMEM_RESERVED);
	p.slices[0].phys_start = 0;
	check_refused(f, &p, "slice db's physical range is not chosen");
	/* pmem as asked, already device-dax: nothing to prepare */
	make_memory_plan(&p);
	p.slices[0].reserve_as = RESERVE_PMEM;
	fake_file(f, "proc/iomem", "40000000-7fffffff : Persistent Memory (legacy)\n"
		  "    40000000-7fffffff : namespace0.0\n");
	mkdir_p(f, "sys/bus/dax/devices/dax0.0");
	fake_file(f, "sys/bus/dax/devices/dax0.0/resource", "0x40200000\n");
	fake_file(f, "sys/bus/dax/devices/dax0.0/size", "1071644672\n");
	apply_ok(f, &p);
	assert_non_null(strstr(file(f, "run/slicevm/memory.json"), "\"reserve_as\": \"pmem\""));
}

/*
 * A pmem range not yet device-dax: apply configures its namespace through
 * sysfs as ndctl would (unbind, uuid, 2M align, page structures in RAM,
 * namespace, probe). The fake kernel makes no device, which is refused.
 */
static void test_pmem_made_devdax(void **state)
{
	struct fixture *f = *state;
	struct plan p;

	make_memory_plan(&p);
	p.slices[0].reserve_as = RESERVE_PMEM;
	fake_file(f, "proc/iomem", "40000000-7fffffff : Persistent Memory (legacy)\n");
	check_refused(f, &p, "no pmem devices (");
	check_refused(f, &p, "load the pmem drivers (modprobe nd_e820 nd_pmem dax_pmem device_dax)");
	mkdir_p(f, "sys/bus/nd/devices/namespace0.0");
	mkdir_p(f, "sys/bus/nd/devices/region0");
	mkdir_p(f, "sys/bus/nd/devices/dax0.0");
	mkdir_p(f, "sys/bus/nd/drivers/nd_pmem");
	mkdir_p(f, "proc/sys/kernel/random");
	fake_file(f, "sys/bus/nd/devices/namespace0.0/resource", "0x40000000\n");
	fake_file(f, "sys/bus/nd/devices/region0/dax_seed", "dax0.0\n");
	fake_file(f, "proc/sys/kernel/random/uuid", "8a1e2c4d-0000-4000-8000-000000000001\n");
	for (const char *const *n = (const char *const[]){ "uuid", "align", "mode", "namespace",
							    NULL }; *n; n++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "sys/bus/nd/devices/dax0.0/%s", *n);
		fake_file(f, rel, "\n");
	}
	fake_file(f, "sys/bus/nd/drivers/nd_pmem/unbind", "");
	fake_file(f, "sys/bus/nd/drivers_probe", "");
	/* the device configuration is made (it is not undone: it is the slice's range's) */
	assert_int_equal(host_apply(f->l, &f->hp, &p, false, f->out), -1);
	assert_non_null(strstr(err_msg(), "namespace0.0 was configured as device-dax but no "
			       "/dev/dax device appeared: load device_dax"));
	assert_int_equal(ledger_state(f), LEDGER_NONE);
	assert_string_equal(file(f, "sys/bus/nd/devices/dax0.0/align"), "2097152");
	assert_string_equal(file(f, "sys/bus/nd/devices/dax0.0/mode"), "ram");
	assert_string_equal(file(f, "sys/bus/nd/devices/dax0.0/namespace"), "namespace0.0");
	assert_string_equal(file(f, "sys/bus/nd/devices/dax0.0/uuid"),
			    "8a1e2c4d-0000-4000-8000-000000000001");
	assert_string_equal(file(f, "sys/bus/nd/drivers/nd_pmem/unbind"), "namespace0.0");
	assert_string_equal(file(f, "sys/bus/nd/drivers_probe"), "dax0.0");
}

static void test_hugepages_checked(void **state)
{
	struct fixture *f = *state;
	struct plan p;

	make_plan(&p, "4-5");
	p.slices[0].backing = BACKING_HUGETLB;	/* 1G: one 1G page on node 0 */
	check_refused(f, &p, "node 0 has 0 free 1G hugepages but its hugetlb slices need 1: "
		      "add 'hugepagesz=1G hugepages=0:1' to the kernel command line");
	mkdir_p(f, "sys/devices/system/node/node0/hugepages/hugepages-1048576kB");
	mkdir_p(f, "sys/devices/system/node/node0/hugepages/hugepages-2048kB");
	fake_file(f, "sys/devices/system/node/node0/hugepages/hugepages-1048576kB/free_hugepages",
		  "0\n");
	fake_file(f, "sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages",
		  "600\n");
	check_refused(f, &p, "node 0 has 0 free 1G hugepages");
	p.slices[0].memory = 1026ULL << 20;	/* 513 2M pages */
	apply_ok(f, &p);
	assert_non_null(strstr(file(f, "run/slicevm/memory.json"), "\"page_size\": 2097152"));
}

static void test_range_file(void **state)
{
	struct fixture *f = *state;
	struct plan p;
	struct stat sb;
	json_object *o, *arr, *e, *v;
	char path[512];

	/* anon only: no range file, nothing under run/ */
	apply_ok(f, &f->plan);
	assert_false(exists(f, "run"));
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), 0);

	make_memory_plan(&p);
	fake_file(f, "proc/iomem", IOMEM_RESERVED);
	apply_ok(f, &p);
	snprintf(path, sizeof(path), "%s/run/slicevm/memory.json", f->sim.root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	o = json_object_from_file(path);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "slices", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	e = json_object_array_get_idx(arr, 0);
	assert_true(json_object_object_get_ex(e, "name", &v));
	assert_string_equal(json_object_get_string(v), "db");
	assert_true(json_object_object_get_ex(e, "backing", &v));
	assert_string_equal(json_object_get_string(v), "reserved");
	assert_int_equal(int_of(e, "node"), 0);
	assert_int_equal(int_of(e, "start"), 0x40000000);
	assert_int_equal(int_of(e, "end"), 0x7fffffff);
	json_object_put(o);

	/* status shows the range and backing */
	o = host_status(f->l, &f->hp);
	e = slice_of(o, "db");
	assert_int_equal(int_of(e, "start"), 0x40000000);
	assert_int_equal(int_of(e, "end"), 0x7fffffff);
	assert_true(json_object_object_get_ex(e, "backing", &v));
	assert_string_equal(json_object_get_string(v), "reserved");
	e = slice_of(o, "web");
	assert_false(json_object_object_get_ex(e, "start", &v));
	host_status_print(o, f->out);
	assert_non_null(strstr(output(f), "memory reserved 0x40000000-0x7fffffff"));
	assert_non_null(strstr(output(f), "memory anon"));
	json_object_put(o);

	/* applied again: nothing changes; release removes the file */
	apply_ok(f, &p);
	assert_int_equal(host_release(f->l, &f->hp, false, f->out), 0);
	assert_false(exists(f, "run/slicevm/memory.json"));
	assert_true(exists(f, "run/slicevm"));
}

static void unlink_interrupts(struct fixture *f)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/proc/interrupts", f->sim.root);
	assert_int_equal(unlink(path), 0);
}

/* A failure after the range file is written takes it away again. */
static void test_range_file_rolled_back(void **state)
{
	struct fixture *f = *state;
	struct plan p;

	make_memory_plan(&p);
	fake_file(f, "proc/iomem", IOMEM_RESERVED);
	unlink_interrupts(f);
	assert_int_equal(host_apply(f->l, &f->hp, &p, false, f->out), -1);
	assert_false(exists(f, "run/slicevm/memory.json"));
	assert_int_equal(ledger_state(f), LEDGER_NONE);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_apply_then_release),
		T(test_apply_twice_changes_nothing),
		T(test_different_plan_refused),
		T(test_rollback_second_partition),
		T(test_rollback_second_cgroup_files),
		T(test_rollback_workqueue),
		T(test_fair_server_refused),
		T(test_fair_server_already_off),
		T(test_fair_server_absent),
		T(test_fair_server_places),
		T(test_rollback_subtree_control),
		T(test_invalid_partition_rolls_back),
		T(test_no_isolated_falls_back_to_root),
		T(test_bad_input_changes_nothing),
		T(test_apply_open),
		T(test_release_refused_while_held),
		T(test_claim_during_release_refused),
		T(test_dead_release_finished),
		T(test_interrupted_apply),
		T(test_forged_journal_refused),
		T(test_pmem_made_devdax),
		T(test_earlier_boot_forgotten),
		T(test_drift_detected),
		T(test_status),
		T(test_reserved_range_checked),
		T(test_hugepages_checked),
		T(test_range_file),
		T(test_range_file_rolled_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
