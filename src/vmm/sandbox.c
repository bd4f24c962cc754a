// SPDX-License-Identifier: GPL-2.0
/*
 * Per-thread seccomp filters for the VMM (see sandbox.h for the threat
 * model and the order of entry). Each class's allow-list is what its code
 * calls after set-up, through glibc: malloc (brk, mmap, munmap, madvise,
 * mremap, mprotect in thread arenas), stdio (write, fstat), pthread mutexes
 * and joins (futex), sleeps (clock_nanosleep), signals (rt_sigreturn,
 * rt_sigprocmask), thread exit (madvise, munmap, exit).
 */
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "lib/err.h"
#include "vmm/sandbox.h"

#define SELFTEST_ENV		"SLICEVM_SANDBOX_SELFTEST"
#define DISABLE_ENV		"SLICEVM_NO_SANDBOX"
#define SELFTEST_PATH		"/nonexistent/slicevm-sandbox-selftest"

#ifndef PR_SET_VMA
#define PR_SET_VMA		0x53564d41	/* glibc names its mappings (6.5+) */
#endif
#ifndef AUDIT_ARCH_X86_64
#define AUDIT_ARCH_X86_64	0xc000003eU
#endif

#define KVMIO_TYPE		0xAE		/* linux/kvm.h: the KVM ioctls' type byte */
#define IOCTL_TYPE_MASK		0xFFFFFFFF0000FF00ULL	/* the type byte, and no high bits */

#define MAIN	(1U << SANDBOX_MAIN)
#define VCPU	(1U << SANDBOX_VCPU)
#define IO	(1U << SANDBOX_IO)
#define ALL	(MAIN | VCPU | IO)

/* A rule's condition on one argument; ARG_NONE for none. */
enum cond {
	ARG_NONE,
	ARG_EQ,		/* args[arg] == val */
	ARG_MASKED,	/* (args[arg] & mask) == val */
	ARG_OWN_PID,	/* args[arg] == getpid() */
};

struct rule {
	int nr;
	unsigned int classes;
	enum cond cond;
	unsigned int arg;
	uint64_t mask, val;
};

#define R(name, cls)	{ .nr = SCMP_SYS(name), .classes = (cls) }
#define R_EQ(name, cls, a, v) \
	{ .nr = SCMP_SYS(name), .classes = (cls), .cond = ARG_EQ, .arg = (a), .val = (v) }
#define R_MASKED(name, cls, a, m, v) \
	{ .nr = SCMP_SYS(name), .classes = (cls), .cond = ARG_MASKED, .arg = (a), \
	  .mask = (m), .val = (v) }

/*
 * The allow-lists. Every class: memory, futexes, time, reading and writing
 * open fds, polling, signals to this process, thread exit. The main and
 * I/O threads: positioned and vectored I/O, syncing, epoll, sockets already
 * open, any ioctl (but the terminal's TIOCSTI/TIOCLINUX, see deny_rules).
 * The main thread also: opening files (SQLite), sockets it accepts, new
 * fds for its event loop, signal handlers, threads (CLONE_THREAD only).
 */
static const struct rule allow_rules[] = {
	R(read, ALL), R(write, ALL), R(readv, ALL), R(writev, ALL), R(close, ALL),
	R(fstat, ALL), R(newfstatat, ALL), R(lseek, ALL),
	R(futex, ALL), R(brk, ALL), R(munmap, ALL), R(mremap, ALL), R(madvise, ALL),
	/* never executable memory: no code can be brought in */
	R_MASKED(mmap, ALL, 2, PROT_EXEC, 0),
	R_MASKED(mprotect, ALL, 2, PROT_EXEC, 0),
	R(rt_sigreturn, ALL), R(rt_sigprocmask, ALL), R(restart_syscall, ALL),
	R(sigaltstack, ALL),	/* sanitizers' threads set and clear one */
	R(exit, ALL), R(exit_group, ALL),
	R(clock_gettime, ALL), R(clock_getres, ALL), R(gettimeofday, ALL), R(time, ALL),
	R(clock_nanosleep, ALL), R(nanosleep, ALL), R(sched_yield, ALL),
	R(getpid, ALL), R(gettid, ALL), R(getrandom, ALL), R(sched_getaffinity, ALL),
	R(poll, ALL), R(ppoll, ALL),
	{ .nr = SCMP_SYS(tgkill), .classes = ALL, .cond = ARG_OWN_PID, .arg = 0 },
	R_EQ(prctl, ALL, 0, PR_SET_NAME), R_EQ(prctl, ALL, 0, PR_GET_NAME),
	R_EQ(prctl, ALL, 0, PR_SET_VMA),
	R(clone3, ALL),		/* fails with ENOSYS: see aux_filter() */

	/* vCPU: KVM's own ioctls (type 0xAE), and the terminal's settings */
	R_MASKED(ioctl, VCPU, 1, IOCTL_TYPE_MASK, KVMIO_TYPE << 8),
	/*
	 * and a passed-through device's, whose config space and trapped BAR
	 * pages the vCPU that exited reaches: VFIO's ioctls (type ';', the
	 * guest enabling MSI-X) and positioned reads and writes of its fd
	 */
	R_MASKED(ioctl, VCPU, 1, IOCTL_TYPE_MASK, VFIO_TYPE << 8),
	R_EQ(ioctl, VCPU, 1, TCGETS), R_EQ(ioctl, VCPU, 1, TCSETS),
	R_EQ(ioctl, VCPU, 1, TCSETSW),

	R(ioctl, MAIN | IO),
	R(pread64, ALL), R(pwrite64, ALL), R(preadv, MAIN | IO),
	R(pwritev, MAIN | IO), R(preadv2, MAIN | IO), R(pwritev2, MAIN | IO),
	R(fsync, MAIN | IO), R(fdatasync, MAIN | IO), R(fallocate, MAIN | IO),
	R(ftruncate, MAIN | IO), R(fcntl, MAIN | IO), R(io_uring_enter, MAIN | IO),
	R(epoll_wait, MAIN | IO), R(epoll_pwait, MAIN | IO), R(epoll_pwait2, MAIN | IO),
	R(epoll_ctl, MAIN | IO), R(select, MAIN | IO), R(pselect6, MAIN | IO),
	R(sendmsg, MAIN | IO), R(recvmsg, MAIN | IO), R(sendto, MAIN | IO),
	R(recvfrom, MAIN | IO), R(sendmmsg, MAIN | IO), R(recvmmsg, MAIN | IO),
	R(timerfd_settime, MAIN | IO), R(timerfd_gettime, MAIN | IO),
	R(rt_sigtimedwait, MAIN | IO), R(rt_sigpending, MAIN | IO),

	/* SQLite (the ledger at teardown) */
	R(open, MAIN), R(openat, MAIN), R(stat, MAIN), R(lstat, MAIN), R(statx, MAIN),
	R(fstatfs, MAIN), R(access, MAIN), R(faccessat, MAIN), R(faccessat2, MAIN),
	R(readlink, MAIN), R(readlinkat, MAIN), R(getcwd, MAIN), R(unlink, MAIN),
	R(unlinkat, MAIN), R(fchown, MAIN), R(fchmod, MAIN), R(flock, MAIN),
	/* the control socket's end: the exit record (rename), the run dir (rmdir) */
	R(rename, MAIN), R(renameat, MAIN), R(renameat2, MAIN), R(rmdir, MAIN),
	R(getuid, MAIN), R(geteuid, MAIN), R(getgid, MAIN), R(getegid, MAIN),
	R(getresuid, MAIN), R(getresgid, MAIN),
	/* the control socket and the event loop */
	R(accept, MAIN), R(accept4, MAIN), R(getsockopt, MAIN), R(setsockopt, MAIN),
	R(getsockname, MAIN), R(getpeername, MAIN), R(shutdown, MAIN),
	R(pipe2, MAIN), R(eventfd2, MAIN), R(signalfd4, MAIN), R(timerfd_create, MAIN),
	R(epoll_create1, MAIN),
	/* signals, kicking vCPUs, threads (zeroing memory at teardown) */
	R(rt_sigaction, MAIN),
	{ .nr = SCMP_SYS(kill), .classes = MAIN, .cond = ARG_OWN_PID, .arg = 0 },
	R_MASKED(clone, MAIN, 0, CLONE_THREAD, CLONE_THREAD),
	R(set_robust_list, MAIN), R(rseq, MAIN),
	R_EQ(prlimit64, MAIN, 2, 0),	/* reading limits only */
	R(sysinfo, MAIN), R(uname, MAIN), R(getrusage, MAIN), R(times, MAIN),
	/*
	 * Confining further, so that a thread created after the main thread
	 * entered can still enter its own class: each of these only ever
	 * takes privileges away (filters stack, the most restrictive wins;
	 * capabilities, already gone, cannot come back).
	 */
	R_EQ(prctl, MAIN, 0, PR_SET_NO_NEW_PRIVS), R_EQ(prctl, MAIN, 0, PR_CAPBSET_READ),
	R_EQ(prctl, MAIN, 0, PR_CAPBSET_DROP), R_EQ(prctl, MAIN, 0, PR_CAP_AMBIENT),
	R(capset, MAIN), R(seccomp, MAIN),
};

/*
 * Refused even where ioctl is allowed: pushing input into the terminal
 * (to the user's shell once the VMM exits), and the console's TIOCLINUX.
 * The kernel reads the request as 32 bits: the high bits are ignored here
 * too, so they cannot smuggle one past.
 */
static const uint64_t denied_ioctls[] = { TIOCSTI, TIOCLINUX };

/* Syscalls whose checked argument the violation line shows, and its name. */
static const struct {
	int nr;
	unsigned int arg;
	const char *what;
} shown_args[] = {
	{ SCMP_SYS(ioctl), 1, "request" },
	{ SCMP_SYS(clone), 0, "flags" },
	{ SCMP_SYS(mmap), 2, "prot" },
	{ SCMP_SYS(mprotect), 2, "prot" },
	{ SCMP_SYS(prctl), 0, "option" },
	{ SCMP_SYS(kill), 0, "pid" },
	{ SCMP_SYS(tgkill), 0, "pid" },
	{ SCMP_SYS(prlimit64), 2, "new limit" },
};

static const char *const class_env_names[SANDBOX_NR] = { "main", "vcpu", "io" };
static const char *const class_names[SANDBOX_NR] = { "main", "vCPU", "I/O" };

/* Names for the signal handler, resolved before any filter is loaded. */
#define NAMES_MAX	512
static const char *syscall_names[NAMES_MAX];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static __thread int thread_class = -1;
static __thread char thread_name[16];
static void (*volatile violation_hook)(void);

const char *sandbox_class_name(enum sandbox_class c)
{
	return c < SANDBOX_NR ? class_env_names[c] : "?";
}

bool sandbox_enabled(void)
{
	const char *off = getenv(DISABLE_ENV);

	return !off || strcmp(off, "1");
}

void sandbox_set_violation_hook(void (*fn)(void))
{
	violation_hook = fn;
}

static void resolve_names(void)
{
	for (int nr = 0; nr < NAMES_MAX; nr++)
		syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}

/* ---- the violation line (async-signal-safe: no stdio, no malloc) ---- */

struct line {
	char buf[320];
	size_t len;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

static void put_num(struct line *l, uint64_t v, unsigned int base)
{
	char digits[24];
	int n = 0;

	if (base == 16)
		put(l, "0x");
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = digits[--n];
}

static bool arg_of(const ucontext_t *uc, unsigned int arg, uint64_t *val)
{
#ifdef __x86_64__
	static const int regs[] = { REG_RDI, REG_RSI, REG_RDX };

	if (arg < sizeof(regs) / sizeof(regs[0])) {
		*val = (uint64_t)uc->uc_mcontext.gregs[regs[arg]];
		return true;
	}
#endif
	return false;
}

static void put_call(struct line *l, const siginfo_t *si, const ucontext_t *uc)
{
	int nr = si->si_syscall;
	uint64_t val;

	put_num(l, (uint64_t)(unsigned int)nr, 10);
	if (si->si_arch != AUDIT_ARCH_X86_64 || nr < 0 || nr >= NAMES_MAX) {
		put(l, " (of another ABI)");
		return;
	}
	put(l, " (");
	put(l, syscall_names[nr] ? syscall_names[nr] : "unknown");
	for (size_t i = 0; i < sizeof(shown_args) / sizeof(shown_args[0]); i++)
		if (shown_args[i].nr == nr && arg_of(uc, shown_args[i].arg, &val)) {
			put(l, ", ");
			put(l, shown_args[i].what);
			put(l, " ");
			put_num(l, val, 16);
		}
	put(l, ")");
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	void (*hook)(void) = violation_hook;
	struct line l = { .len = 0 };
	int c = thread_class;

	put(&l, "slicevm: sandbox: forbidden system call ");
	put_call(&l, si, ctx);
	if (c >= 0 && c < SANDBOX_NR) {
		put(&l, " in the ");
		put(&l, class_names[c]);
		put(&l, " thread");
	} else {
		put(&l, " in a thread under its creator's filter");
	}
	/* a thread that did not enter: its name now (every class allows it) */
	if (!thread_name[0] && prctl(PR_GET_NAME, thread_name, 0, 0, 0))
		thread_name[0] = '\0';
	if (thread_name[0]) {
		put(&l, " (");
		put(&l, thread_name);
		put(&l, ")");
	}
	put(&l, ": this is a slicevm bug, please report it\n");
	if (write(STDERR_FILENO, l.buf, l.len) < 0) {
		/* nowhere else to say it */
	}
	if (hook)
		hook();
	syscall(SYS_exit_group, SANDBOX_EXIT_STATUS);
}

static int install_handler(void)
{
	struct sigaction sa = {
		.sa_sigaction = on_sigsys,
		.sa_flags = SA_SIGINFO,
	};

	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return err_set_errno("sandbox: cannot install the SIGSYS handler");
	return 0;
}

/* ---- privileges ---- */

/*
 * Capabilities are per thread: this drops the calling thread's. The
 * bounding set first, while CAP_SETPCAP is still there (without it, as
 * for a user's VMM, there is nothing to drop).
 */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EPERM)
			return err_set_errno("sandbox: cannot drop capability %d from the bounding set",
					     cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return err_set_errno("sandbox: cannot clear the ambient capabilities");
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data))
		return err_set_errno("sandbox: cannot drop the VMM's capabilities");
	return 0;
}

/* ---- filters ---- */

static int add_rule(scmp_filter_ctx ctx, const struct rule *r)
{
	uint32_t action = SCMP_ACT_ALLOW;
	struct scmp_arg_cmp cmp = { .arg = r->arg };

	switch (r->cond) {
	case ARG_NONE:
		return seccomp_rule_add(ctx, action, r->nr, 0);
	case ARG_EQ:
		cmp.op = SCMP_CMP_EQ;
		cmp.datum_a = r->val;
		break;
	case ARG_MASKED:
		cmp.op = SCMP_CMP_MASKED_EQ;
		cmp.datum_a = r->mask;
		cmp.datum_b = r->val;
		break;
	case ARG_OWN_PID:
		cmp.op = SCMP_CMP_EQ;
		cmp.datum_a = (uint64_t)getpid();
		break;
	}
	return seccomp_rule_add_array(ctx, action, r->nr, 1, &cmp);
}

static scmp_filter_ctx new_filter(uint32_t def_action, bool log)
{
	scmp_filter_ctx ctx = seccomp_init(def_action);

	if (!ctx)
		return NULL;
	/* one thread only; another ABI (int 0x80, x32) is reported too */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 0) ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP) ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) {
		seccomp_release(ctx);
		return NULL;
	}
	/* the kernel logs violations: the only trace when SIGSYS is blocked */
	if (log)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	/* a binary search: KVM_RUN's ioctl does not walk the whole list */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	return ctx;
}

static scmp_filter_ctx allow_filter(enum sandbox_class c)
{
	scmp_filter_ctx ctx = new_filter(SCMP_ACT_TRAP, true);

	if (!ctx) {
		err_set("sandbox: cannot start the %s filter: out of memory, or libseccomp too old",
			class_names[c]);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(allow_rules) / sizeof(allow_rules[0]); i++) {
		const struct rule *r = &allow_rules[i];
		int ret;

		if (!(r->classes & (1U << c)))
			continue;
		ret = add_rule(ctx, r);
		if (ret) {
			err_set("sandbox: cannot add system call %d to the %s filter (%s): "
				"update libseccomp, or run with %s=1",
				r->nr, class_names[c], strerror(-ret), DISABLE_ENV);
			seccomp_release(ctx);
			return NULL;
		}
	}
	return ctx;
}

/*
 * The second filter, unlogged, allowing everything but: clone3, which
 * fails with ENOSYS so that glibc falls back to clone(), whose flags the
 * allow-list can check; and, where ioctl is allowed, denied_ioctls.
 * Filters stack and the most restrictive answer wins; syscalls this one
 * always allows cost nothing (the kernel caches them).
 */
static scmp_filter_ctx aux_filter(enum sandbox_class c)
{
	scmp_filter_ctx ctx = new_filter(SCMP_ACT_ALLOW, false);
	int ret;

	if (!ctx)
		return NULL;
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	for (size_t i = 0; !ret && c != SANDBOX_VCPU &&
	     i < sizeof(denied_ioctls) / sizeof(denied_ioctls[0]); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFULL,
					       denied_ioctls[i]));
	if (ret) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

/* The auxiliary filter first: it still lets the allow-list be loaded. */
static int load_filters(enum sandbox_class c)
{
	scmp_filter_ctx allow = allow_filter(c), aux;
	int ret = -1;

	if (!allow)
		return -1;
	aux = aux_filter(c);
	if (!aux) {
		err_set("sandbox: cannot build the %s thread's second filter: update libseccomp, or run with %s=1",
			class_names[c], DISABLE_ENV);
		goto out;
	}
	if ((ret = seccomp_load(aux)) || (ret = seccomp_load(allow))) {
		err_set("sandbox: the kernel refused the %s thread's seccomp filter (%s): "
			"use a kernel with CONFIG_SECCOMP_FILTER, or run with %s=1",
			class_names[c], strerror(-ret), DISABLE_ENV);
		ret = -1;
	}
	seccomp_release(aux);
out:
	seccomp_release(allow);
	return ret;
}

/*
 * What glibc does lazily, the first time, with calls a confined thread may
 * not make: the first gmtime_r() (the CMOS RTC, in a vCPU thread) reads
 * the time zone file, so read it now.
 */
static void warm_up(void)
{
	time_t t = 0;
	struct tm tm;

	tzset();
	gmtime_r(&t, &tm);
}

/* Test-only (SLICEVM_SANDBOX_SELFTEST=class): a forbidden call, once confined. */
static int selftest(enum sandbox_class c)
{
	const char *want = getenv(SELFTEST_ENV);
	char *const argv[] = { (char *)SELFTEST_PATH, NULL };

	if (!want || strcmp(want, class_env_names[c]))
		return 0;
	syscall(SYS_execve, SELFTEST_PATH, argv, argv + 1);
	return err_set("sandbox self-test: execve was not stopped in the %s thread: "
		       "the sandbox does not work", class_names[c]);
}

int sandbox_enter(enum sandbox_class c)
{
	if (c >= SANDBOX_NR)
		return err_set("sandbox: unknown thread class %d", c);
	pthread_once(&names_once, resolve_names);
	warm_up();
	if (install_handler())
		return -1;
	thread_class = c;
	if (prctl(PR_GET_NAME, thread_name, 0, 0, 0))
		thread_name[0] = '\0';
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_set_errno("sandbox: cannot set no_new_privs");
	if (drop_capabilities() || load_filters(c))
		return -1;
	return selftest(c);
}
