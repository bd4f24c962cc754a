// SPDX-License-Identifier: GPL-2.0
/*
 * The sandbox, in forked children: what each thread class does after
 * set-up still works, and a forbidden system call ends the process with
 * SANDBOX_EXIT_STATUS and one line naming the call and the class.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/err.h"
#include "vmm/sandbox.h"

#define NOT_ENTERED	100	/* the child's status when sandbox_enter() failed */

struct outcome {
	int status;		/* exit status, or 128 + signal */
	int signo;		/* the signal that killed it, or 0 */
	char err[1024];		/* the child's standard error */
};

typedef int (*child_fn)(void);

static int exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return 128 + WTERMSIG(wstatus);
}

/* Runs @fn in a child confined to class @c; its exit status is fn's result. */
static void run_confined(enum sandbox_class c, child_fn fn, struct outcome *o)
{
	int fds[2], wstatus;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		if (sandbox_enter(c)) {
			fprintf(stderr, "%s\n", err_msg());
			_exit(NOT_ENTERED);
		}
		_exit(fn());
	}
	close(fds[1]);
	while ((n = read(fds[0], o->err + len, sizeof(o->err) - 1 - len)) > 0)
		len += (size_t)n;
	o->err[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	o->status = exit_code(wstatus);
	o->signo = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
}

/* ---- what every class does ---- */

static volatile sig_atomic_t got_signal;

static void on_usr2(int sig)
{
	got_signal = 1;
}

static int memory_works(void)
{
	char *small = malloc(100), *big = malloc(8 << 20), *bigger;

	if (!small || !big)
		return 1;
	memset(big, 1, 8 << 20);
	bigger = realloc(big, 16 << 20);	/* mremap */
	if (!bigger)
		return 2;
	free(bigger);
	free(small);
	return 0;
}

static int pipe_fds[2];

static int io_works(void)
{
	struct pollfd pfd = { .fd = pipe_fds[0], .events = POLLIN };
	char c = 'x';

	if (write(pipe_fds[1], &c, 1) != 1 || poll(&pfd, 1, 1000) != 1 ||
	    read(pipe_fds[0], &c, 1) != 1 || c != 'x')
		return 2;
	return 0;
}

static int time_and_futex_work(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct timespec t, nap = { 0, 1000000 };

	if (clock_gettime(CLOCK_MONOTONIC, &t) || nanosleep(&nap, NULL))
		return 3;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += 2000000;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m);
	if (pthread_cond_timedwait(&cv, &m, &t) != ETIMEDOUT)	/* futex */
		return 4;
	pthread_mutex_unlock(&m);
	return 0;
}

static int signals_work(void)
{
	/* the kick: a signal to one of our threads, handled and returned from */
	got_signal = 0;
	if (pthread_kill(pthread_self(), SIGUSR2) || !got_signal)
		return 5;
	return 0;
}

static int common_ops(void)
{
	int ret;

	/* clone3's flags are out of a filter's sight: glibc falls back to clone */
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 6;
	if ((ret = memory_works()) || (ret = io_works()) ||
	    (ret = time_and_futex_work()) || (ret = signals_work()))
		return ret;
	fprintf(stderr, "stdio works\n");
	return 0;
}

/*
 * The CMOS RTC reads the host clock from the vCPU thread: glibc loads the
 * time zone file at the first gmtime_r(), which must not happen there.
 */
static int rtc_clock_works(void)
{
	time_t t = time(NULL), back;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return 13;
	back = timegm(&tm);
	return back == t ? 0 : 14;
}

/* The terminal's settings and any KVM ioctl pass (on a pipe: ENOTTY, not death). */
static int vcpu_ops(void)
{
	char tio[64];
	int ret = common_ops();

	if (ret || (ret = rtc_clock_works()))
		return ret;
	if (ioctl(pipe_fds[0], TCGETS, tio) != -1 || errno != ENOTTY)
		return 10;
	if (ioctl(pipe_fds[0], KVM_RUN, 0) != -1 || errno != ENOTTY)
		return 11;
	if (ioctl(pipe_fds[0], KVM_IRQ_LINE, NULL) != -1)
		return 12;
	return 0;
}

static int io_ops(void)
{
	int n, ret = common_ops();

	if (ret)
		return ret;
	if (ioctl(pipe_fds[0], FIONREAD, &n) || n != 0)
		return 20;
	if (fcntl(pipe_fds[0], F_GETFL) < 0 || fsync(pipe_fds[1]) != -1)
		return 21;
	return 0;
}

/* ---- the main thread: teardown's SQLite, threads, status ---- */

static sqlite3 *db;
static char db_path[64];

static int exec_sql(const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void *vcpu_like_thread(void *arg)
{
	/* created under the main filter: its own stacks on top */
	if (sandbox_enter(SANDBOX_VCPU))
		return (void *)1;
	return (void *)(intptr_t)vcpu_ops();
}

static int status_field(const char *name, char *val, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/thread-self/status", "r");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name))) {
			snprintf(val, len, "%s", line + strlen(name));
			found = 0;
		}
	fclose(f);
	return found;
}

static int confined_as_documented(void)
{
	char v[64];

	if (status_field("NoNewPrivs:\t", v, sizeof(v)) || strcmp(v, "1\n") ||
	    status_field("Seccomp:\t", v, sizeof(v)) || strcmp(v, "2\n") ||
	    status_field("CapEff:\t", v, sizeof(v)) || strcmp(v, "0000000000000000\n") ||
	    status_field("CapPrm:\t", v, sizeof(v)) || strcmp(v, "0000000000000000\n"))
		return 30;
	/* the bounding set can only be emptied with CAP_SETPCAP */
	if (!geteuid() && (status_field("CapBnd:\t", v, sizeof(v)) ||
			   strcmp(v, "0000000000000000\n")))
		return 31;
	return 0;
}

static int main_ops(void)
{
	pthread_t t;
	void *res;
	int ret = common_ops();

	if (ret)
		return ret;
	if ((ret = confined_as_documented()))
		return ret;
	/* the ledger's release at teardown: a write transaction, then close */
	if (exec_sql("BEGIN IMMEDIATE; UPDATE slices SET state = 'free'; COMMIT;"))
		return 32;
	if (sqlite3_close(db) != SQLITE_OK || unlink(db_path))
		return 33;
	if (pthread_create(&t, NULL, vcpu_like_thread, NULL) ||
	    pthread_join(t, &res) || res)
		return 34;
	return 0;
}

static int open_test_db(void)
{
	snprintf(db_path, sizeof(db_path), "/tmp/slicevm-sandbox-%d.db", (int)getpid());
	if (sqlite3_open(db_path, &db) != SQLITE_OK)
		return -1;
	return exec_sql("PRAGMA journal_mode = WAL; "
			"CREATE TABLE slices (name TEXT, state TEXT); "
			"INSERT INTO slices VALUES ('db', 'held');");
}

static void expect_ok_saying(enum sandbox_class c, child_fn fn, const char *said)
{
	struct outcome o;

	run_confined(c, fn, &o);
	if (o.status)
		fail_msg("class %s: status %d, stderr: %s", sandbox_class_name(c),
			 o.status, o.err);
	assert_string_equal(o.err, said);
}

static void expect_ok(enum sandbox_class c, child_fn fn)
{
	expect_ok_saying(c, fn, "stdio works\n");
}

static void vcpu_class_runs(void **state)
{
	expect_ok(SANDBOX_VCPU, vcpu_ops);
}

static void io_class_runs(void **state)
{
	expect_ok(SANDBOX_IO, io_ops);
}

static void main_class_runs_and_tears_down(void **state)
{
	char side[80];

	assert_int_equal(open_test_db(), 0);
	/* once from the main thread, once from the thread it made */
	expect_ok_saying(SANDBOX_MAIN, main_ops, "stdio works\nstdio works\n");
	/* the child closed it and removed it; this is the parent's copy */
	sqlite3_close(db);
	unlink(db_path);
	snprintf(side, sizeof(side), "%s-wal", db_path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db_path);
	unlink(side);
}

/* ---- forbidden calls ---- */

static int do_execve(void)
{
	char *argv[] = { "/bin/true", NULL };

	execve("/bin/true", argv, argv + 1);
	return 50;
}

static int do_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return 51;
}

static int do_ptrace(void)
{
	syscall(SYS_ptrace, 0xdead, 0, 0, 0);	/* EIO, were it let through */
	return 52;
}

static int do_mount(void)
{
	mount(NULL, NULL, NULL, 0, NULL);	/* EFAULT, were it let through */
	return 53;
}

static int do_init_module(void)
{
	syscall(SYS_init_module, NULL, 0, "");
	return 54;
}

static int do_exec_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? 55 : 56;
}

static int do_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 57;
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return 58;
}

static int do_kill_parent(void)
{
	kill(1, 0);	/* only probes, were it let through */
	return 59;
}

static int do_open(void)
{
	int fd = open("/dev/null", O_RDONLY);

	return fd < 0 ? 60 : 61;
}

static int do_fionread(void)
{
	int n;

	ioctl(pipe_fds[0], FIONREAD, &n);
	return 62;
}

static void *nothing(void *arg)
{
	return NULL;
}

static int do_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, nothing, NULL))
		return 63;
	pthread_join(t, NULL);
	return 64;
}

static int do_tiocsti(void)
{
	char c = 'x';

	ioctl(pipe_fds[0], TIOCSTI, &c);	/* ENOTTY on a pipe, were it let through */
	return 65;
}

static int do_tiocsti_high_bits(void)
{
	char c = 'x';

	/* the kernel reads the request as 32 bits: this is TIOCSTI too */
	syscall(SYS_ioctl, pipe_fds[0], (1UL << 32) | TIOCSTI, &c);
	return 66;
}

static void *violating_thread(void *arg)
{
	prctl(PR_SET_NAME, "zero-1", 0, 0, 0);
	syscall(SYS_ptrace, 0xdead, 0, 0, 0);
	return NULL;
}

static int do_inherited_violation(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, violating_thread, NULL))
		return 67;
	pthread_join(t, NULL);
	return 68;
}

static int do_selftest(void)
{
	return 69;	/* sandbox_enter() did not return 0 to get here */
}

struct forbidden {
	enum sandbox_class c;
	child_fn fn;
	const char *call;	/* how the line names the call, up to ")" */
};

static const struct forbidden forbidden[] = {
	{ SANDBOX_VCPU, do_execve, "59 (execve)" },
	{ SANDBOX_IO, do_execve, "59 (execve)" },
	{ SANDBOX_MAIN, do_execve, "59 (execve)" },
	{ SANDBOX_VCPU, do_fork, "56 (clone, flags 0x1200011)" },
	{ SANDBOX_IO, do_fork, "56 (clone, flags 0x1200011)" },
	{ SANDBOX_MAIN, do_fork, "56 (clone, flags 0x1200011)" },
	{ SANDBOX_VCPU, do_ptrace, "101 (ptrace)" },
	{ SANDBOX_MAIN, do_ptrace, "101 (ptrace)" },
	{ SANDBOX_MAIN, do_mount, "165 (mount)" },
	{ SANDBOX_VCPU, do_init_module, "175 (init_module)" },
	{ SANDBOX_MAIN, do_init_module, "175 (init_module)" },
	{ SANDBOX_VCPU, do_exec_memory, "9 (mmap, prot 0x5)" },
	{ SANDBOX_MAIN, do_exec_memory, "9 (mmap, prot 0x5)" },
	{ SANDBOX_IO, do_mprotect_exec, "10 (mprotect, prot 0x5)" },
	{ SANDBOX_MAIN, do_kill_parent, "62 (kill, pid 0x1)" },
	{ SANDBOX_VCPU, do_open, "257 (openat)" },
	{ SANDBOX_IO, do_open, "257 (openat)" },
	{ SANDBOX_VCPU, do_fionread, "16 (ioctl, request 0x541b)" },
	{ SANDBOX_MAIN, do_tiocsti, "16 (ioctl, request 0x5412)" },
	{ SANDBOX_IO, do_tiocsti, "16 (ioctl, request 0x5412)" },
	{ SANDBOX_MAIN, do_tiocsti_high_bits, "16 (ioctl, request 0x100005412)" },
};

static const char *const shown_class[] = { "main", "vCPU", "I/O" };

static void expect_killed(const struct forbidden *f, const char *where)
{
	char want[256];
	struct outcome o;

	run_confined(f->c, f->fn, &o);
	snprintf(want, sizeof(want), "slicevm: sandbox: forbidden system call %s", f->call);
	if (o.status != SANDBOX_EXIT_STATUS || o.signo || strncmp(o.err, want, strlen(want)) ||
	    !strstr(o.err, where) ||
	    !strstr(o.err, ": this is a slicevm bug, please report it\n") ||
	    strchr(o.err, '\n') != o.err + strlen(o.err) - 1)
		fail_msg("class %s, expected status %d and \"%s ...%s...\", got status %d and: %s",
			 sandbox_class_name(f->c), SANDBOX_EXIT_STATUS, want, where,
			 o.status, o.err);
}

static void forbidden_calls_end_the_vmm(void **state)
{
	char where[64];

	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		snprintf(where, sizeof(where), ") in the %s thread", shown_class[forbidden[i].c]);
		expect_killed(&forbidden[i], where);
	}
}

/*
 * glibc blocks every signal around clone(): the handler cannot run, so the
 * kernel kills with SIGSYS itself, with no line (a shell shows 159 too).
 */
static void threads_only_from_the_main_thread(void **state)
{
	for (int c = SANDBOX_VCPU; c <= SANDBOX_IO; c++) {
		struct outcome o;

		run_confined((enum sandbox_class)c, do_thread, &o);
		if (o.signo != SIGSYS || o.status != SANDBOX_EXIT_STATUS)
			fail_msg("class %s: status %d, signal %d, stderr: %s",
				 sandbox_class_name(c), o.status, o.signo, o.err);
	}
}

static void a_thread_under_the_main_filter_is_named(void **state)
{
	const struct forbidden f = { SANDBOX_MAIN, do_inherited_violation, "101 (ptrace)" };

	expect_killed(&f, " in a thread under its creator's filter (zero-1): ");
}

static void selftest_trigger_ends_the_vmm(void **state)
{
	for (int c = 0; c < SANDBOX_NR; c++) {
		struct forbidden f = { (enum sandbox_class)c, do_selftest, "59 (execve)" };
		char where[64];

		setenv("SLICEVM_SANDBOX_SELFTEST", sandbox_class_name(c), 1);
		snprintf(where, sizeof(where), " in the %s thread", shown_class[c]);
		expect_killed(&f, where);
	}
	/* another class's trigger does nothing here */
	setenv("SLICEVM_SANDBOX_SELFTEST", "io", 1);
	expect_ok(SANDBOX_VCPU, vcpu_ops);
	unsetenv("SLICEVM_SANDBOX_SELFTEST");
}

static void hook(void)
{
	static const char msg[] = "hook ran\n";

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
}

static void violation_hook_runs_after_the_line(void **state)
{
	struct outcome o;

	sandbox_set_violation_hook(hook);
	run_confined(SANDBOX_VCPU, do_ptrace, &o);
	sandbox_set_violation_hook(NULL);
	assert_int_equal(o.status, SANDBOX_EXIT_STATUS);
	assert_non_null(strstr(o.err, "please report it\nhook ran\n"));
}

static void disabled_only_by_one(void **state)
{
	unsetenv("SLICEVM_NO_SANDBOX");
	assert_true(sandbox_enabled());
	setenv("SLICEVM_NO_SANDBOX", "0", 1);
	assert_true(sandbox_enabled());
	setenv("SLICEVM_NO_SANDBOX", "1", 1);
	assert_false(sandbox_enabled());
	unsetenv("SLICEVM_NO_SANDBOX");
}

static int setup(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr2 };
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	unsetenv("SLICEVM_SANDBOX_SELFTEST");
	/* as in the VMM: glibc's first pthread_create() is done before entering */
	if (pthread_create(&t, NULL, nothing, NULL) || pthread_join(t, NULL))
		return -1;
	return pipe(pipe_fds) || sigaction(SIGUSR2, &sa, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vcpu_class_runs),
		cmocka_unit_test(io_class_runs),
		cmocka_unit_test(main_class_runs_and_tears_down),
		cmocka_unit_test(forbidden_calls_end_the_vmm),
		cmocka_unit_test(threads_only_from_the_main_thread),
		cmocka_unit_test(a_thread_under_the_main_filter_is_named),
		cmocka_unit_test(selftest_trigger_ends_the_vmm),
		cmocka_unit_test(violation_hook_runs_after_the_line),
		cmocka_unit_test(disabled_only_by_one),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
