// SPDX-License-Identifier: GPL-2.0
/* `slicevm host check`: is this host ready for slices? (see check.h) */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "host/bootargs.h"
#include "host/check.h"
#include "host/physmem.h"
#include "host/vfiobind.h"
#include "lib/err.h"
#include "slicevm_kvm.h"

/* What the checks share: the paths, the options and the CPU's flags. */
struct ctx {
	const struct host_paths *hp;
	const struct host_check_opts *o;
	struct check_report *r;
	char *flags;		/* " fpu vme ... " of the first "flags" line, spaces around */
	char *vmx_flags;	/* the same of "vmx flags" (Intel, Linux 5.9+), or "" */
	int oom;		/* an item could not be added */
};

/* ---- The report -------------------------------------------------------------- */

int check_add(struct check_report *r, const char *name, enum check_level level,
	      const char *fix, const char *fmt, ...)
{
	struct check_item *it;
	va_list ap;

	if (r->n == r->cap) {
		int cap = r->cap ? 2 * r->cap : 32;
		struct check_item *ni = realloc(r->items, cap * sizeof(*ni));

		if (!ni)
			return err_set("out of memory for the check report");
		r->items = ni;
		r->cap = cap;
	}
	it = &r->items[r->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->level = level;
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
	if (fix)
		snprintf(it->fix, sizeof(it->fix), "%s", fix);
	return 0;
}

int check_count(const struct check_report *r, enum check_level level)
{
	int n = 0;

	for (int i = 0; i < r->n; i++)
		n += r->items[i].level == level;
	return n;
}

const char *check_level_name(enum check_level level)
{
	return level == CHECK_PASS ? "PASS" : level == CHECK_WARN ? "WARN" : "FAIL";
}

void check_report_print(const struct check_report *r, FILE *out)
{
	for (int i = 0; i < r->n; i++) {
		const struct check_item *it = &r->items[i];

		fprintf(out, "%s  %-20s %s%s%s\n", check_level_name(it->level), it->name,
			it->detail, it->fix[0] ? ": " : "", it->fix);
	}
	fprintf(out, "%d passed, %d warnings, %d failed\n", check_count(r, CHECK_PASS),
		check_count(r, CHECK_WARN), check_count(r, CHECK_FAIL));
}

json_object *check_report_json(const struct check_report *r)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	static const char *const lower[] = { "pass", "warn", "fail" };

	for (int i = 0; i < r->n; i++) {
		const struct check_item *it = &r->items[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(it->name));
		json_object_object_add(e, "result", json_object_new_string(lower[it->level]));
		json_object_object_add(e, "detail", json_object_new_string(it->detail));
		json_object_object_add(e, "fix", json_object_new_string(it->fix));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "items", arr);
	json_object_object_add(o, "pass", json_object_new_int(check_count(r, CHECK_PASS)));
	json_object_object_add(o, "warn", json_object_new_int(check_count(r, CHECK_WARN)));
	json_object_object_add(o, "fail", json_object_new_int(check_count(r, CHECK_FAIL)));
	return o;
}

void check_report_free(struct check_report *r)
{
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* ---- Helpers ----------------------------------------------------------------- */

#define add(c, name, level, fix, ...) \
	((c)->oom |= check_add((c)->r, (name), (level), (fix), __VA_ARGS__) ? 1 : 0)

static bool path_exists(const char *path)
{
	return !access(path, F_OK);
}

/* Reads <root>/<rel> into @buf; -1 when it cannot. */
static int read_at(const char *root, const char *rel, char *buf, size_t len)
{
	char path[512];

	if (hostfs_path(path, sizeof(path), "%s/%s", root, rel))
		return -1;
	return hostfs_read(path, buf, len);
}

static bool exists_at(const char *root, const char *rel)
{
	char path[512];

	return !hostfs_path(path, sizeof(path), "%s/%s", root, rel) && path_exists(path);
}

/* The last "KEY=VALUE" of @key in the command line @cmd (up to " -- "), in @val. */
static bool cmdline_value(const char *cmd, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);
	bool found = false;

	for (const char *p = cmd; *p;) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		n = strcspn(p, " \t\n");
		if (n == 2 && !strncmp(p, "--", 2))
			break;
		if (n > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(val, len, "%.*s", (int)(n - klen - 1), p + klen + 1);
			found = true;
		}
		p += n;
	}
	return found;
}

static bool has_flag(const struct ctx *c, const char *flag)
{
	char pat[64];

	snprintf(pat, sizeof(pat), " %s ", flag);
	return (c->flags && strstr(c->flags, pat)) ||
	       (c->vmx_flags && strstr(c->vmx_flags, pat));
}

/* " VALUE " of the first line "KEY<blanks>: VALUE" in /proc/cpuinfo text. */
static char *cpuinfo_field(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *q = p + klen, *end;
		char *v;

		if (strncmp(p, key, klen) || (*q != ' ' && *q != '\t' && *q != ':'))
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != ':')
			continue;
		q++;
		end = strchr(q, '\n');
		if (!end)
			end = q + strlen(q);
		v = malloc(end - q + 3);
		if (!v)
			return NULL;
		sprintf(v, " %.*s ", (int)(end - q), q);
		for (char *s = v; *s; s++)
			if (*s == '\t')
				*s = ' ';
		return v;
	}
	return strdup("");
}

/* Y/1 -> 1, N/0 -> 0, unreadable -> -1. */
static int read_bool_param(const char *sys, const char *rel)
{
	char buf[16];

	if (read_at(sys, rel, buf, sizeof(buf)))
		return -1;
	return buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
}

/* @m as a CPU list, "none" when empty. */
static const char *mask_str(const struct cpumask *m, char *buf, size_t len)
{
	cpumask_format_list(m, buf, len);
	return buf[0] ? buf : "none";
}

/* ---- KVM and the CPU -------------------------------------------------------------- */

static const char *kvm_vendor_module(const struct ctx *c)
{
	if (exists_at(c->hp->sys, "module/kvm_intel"))
		return "kvm_intel";
	if (exists_at(c->hp->sys, "module/kvm_amd"))
		return "kvm_amd";
	return NULL;
}

static void check_kvm(struct ctx *c)
{
	const char *dev = c->o->kvm_dev ? c->o->kvm_dev : "/dev/kvm";
	const char *mod = kvm_vendor_module(c);
	int fd, ver;

	if (exists_at(c->hp->sys, "module/kvm_pvm")) {
		add(c, "kvm", CHECK_FAIL,
		    "use the lab (tests/lab) to run VMs, or a host with kvm_intel or kvm_amd",
		    "this host's KVM is kvm_pvm (%s/module/kvm_pvm), which cannot run a stock guest",
		    c->hp->sys);
		return;
	}
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		add(c, "kvm", CHECK_FAIL,
		    "load KVM (modprobe kvm_intel or kvm_amd) and enable virtualization in the firmware",
		    "%s does not exist", dev);
		return;
	}
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		add(c, "kvm", CHECK_FAIL, "run as root or join the group that owns it (usually kvm)",
		    "%s: permission denied", dev);
		return;
	}
	if (fd < 0) {
		add(c, "kvm", CHECK_FAIL, "check the device node and the KVM module",
		    "cannot open %s: %s", dev, strerror(errno));
		return;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (ver != KVM_API_VERSION)
		add(c, "kvm", CHECK_FAIL, "point it at a KVM device or load KVM",
		    "%s does not answer as KVM API %d (got %d)", dev, KVM_API_VERSION, ver);
	else
		add(c, "kvm", CHECK_PASS, NULL, "%s answers KVM API %d%s%s%s", dev, ver,
		    mod ? " (" : "", mod ? mod : "", mod ? ")" : "");
}

/* The stage each ABI version this slicevm knows completes (kernel/README.md). */
static const int abi_stage[] = { 0, 1, 2, 5, 3, 4, 5, 3 };
_Static_assert(sizeof(abi_stage) / sizeof(abi_stage[0]) == SLICEVM_KVM_ABI_VERSION + 1,
	       "a stage for each version");

const char *check_pmu_counters(int answer, char *buf, size_t len)
{
	int gp = SLICEVM_KVM_PMU_GP(answer), fixed = SLICEVM_KVM_PMU_FIXED(answer);

	if (fixed)
		snprintf(buf, len, "%d general-purpose and %d fixed counters", gp, fixed);
	else
		snprintf(buf, len, "%d counters", gp);
	return buf;
}

/* Why the vendor module @vendor (NULL: unknown) answers 0 for the direct PMU. */
static const char *pmu_cannot(int version, const char *vendor)
{
	if (!vendor)
		return "its CPU lacks AMD's PerfCtrExtCore (perfctr_core) or an Intel architectural PMU the component can give";
	if (strcmp(vendor, "kvm_intel"))
		return "its CPU lacks PerfCtrExtCore (the perfctr_core flag)";
	if (version < 6)	/* v6 brings it to VMX */
		return "kvm_intel (VMX) has it from component v6 on: rebuild with 'make kernel'";
	return "kvm_intel was loaded with enable_pmu=0, or the CPU is hybrid, has no full-width counter writes or no VM-entry/exit control for IA32_PERF_GLOBAL_CTRL";
}

const char *check_direct_note(int version, int timer_ns, int pmu, int irq, const char *vendor,
			      char *buf, size_t len)
{
	char counters[64];
	int n, m;

	if (timer_ns > 0)
		n = snprintf(buf, len,
			     "the direct timer is available, APIC timer period %d ns: slicevm run --direct timer",
			     timer_ns);
	else
		n = snprintf(buf, len,
			     "this host cannot give the direct timer: its APIC is not in x2APIC mode, or %s has AVIC or APICv on",
			     vendor ? vendor : "the vendor module");
	if (version < 3 || n < 0 || (size_t)n >= len)	/* stage 5 (v3) brings the direct PMU */
		return buf;
	if (pmu > 0)
		m = snprintf(buf + n, len - n,
			     "; the direct PMU is available, %s: slicevm run --direct pmu",
			     check_pmu_counters(pmu, counters, sizeof(counters)));
	else
		m = snprintf(buf + n, len - n, "; this host cannot give the direct PMU: %s",
			     pmu_cannot(version, vendor));
	if (version < 4 || m < 0 || (size_t)(n + m) >= len)	/* stage 3 (v4): interrupts */
		return buf;
	n += m;
	if (irq > 0 && version >= 7)	/* v7: the devices' interrupts too */
		snprintf(buf + n, len - n,
			 "; direct interrupts (timer and devices) and IPIs are available: slicevm run --direct timer,irq,ipi");
	else if (irq > 0 && version >= 5)	/* stage 4 (v5): IPIs, with interrupts */
		snprintf(buf + n, len - n,
			 "; direct interrupts and IPIs are available: slicevm run --direct timer,irq,ipi");
	else if (irq > 0)
		snprintf(buf + n, len - n,
			 "; direct interrupts are available: slicevm run --direct timer,irq");
	else
		snprintf(buf + n, len - n, "; this host cannot give direct interrupts%s: %s",
			 version >= 5 ? " or IPIs" : "",
			 timer_ns <= 0 ? "they need the direct timer" :
			 "the vendor module does not offer them");
	return buf;
}

/*
 * From version 2 on: whether this host can give a slice's guest the direct
 * features of @version, as the KVM device answers KVM_CHECK_EXTENSION of
 * KVM_CAP_SLICEVM_TIMER (the host's APIC timer period) and, from v3,
 * KVM_CAP_SLICEVM_PMU (the guest's counters) and, from v4,
 * KVM_CAP_SLICEVM_IRQ; 0 when it cannot.
 */
static void direct_notes(const struct ctx *c, int version, char *buf, size_t len)
{
	const char *dev = c->o->kvm_dev ? c->o->kvm_dev : "/dev/kvm";
	const char *what = version >= 4 ? "the direct timer, PMU and interrupts" :
			   version >= 3 ? "the direct timer and the direct PMU" : "the direct timer";
	int fd = open(dev, O_RDWR | O_CLOEXEC), ns, pmu = 0, irq = 0;

	if (fd < 0) {
		snprintf(buf, len, "whether this host can give %s is unknown: cannot open %s: %s",
			 what, dev, strerror(errno));
		return;
	}
	ns = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SLICEVM_TIMER);
	if (version >= 3)
		pmu = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SLICEVM_PMU);
	if (version >= 4)
		irq = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SLICEVM_IRQ);
	close(fd);
	if (ns < 0 || pmu < 0 || irq < 0)
		snprintf(buf, len, "whether this host can give %s is unknown: %s does not answer as KVM",
			 what, dev);
	else
		check_direct_note(version, ns, pmu, irq, kvm_vendor_module(c), buf, len);
}

/*
 * slicevm's kernel component (kernel/README.md): kvm.ko built with
 * kernel/patches has the read-only parameter slicevm_abi, its ABI version.
 * Read from sysfs; from version 2 on, the KVM device (which the kvm item
 * opens too) says whether this host can give the direct timer, from v3
 * the direct PMU too.
 */
static void check_kvm_component(struct ctx *c)
{
	const char *rel = &SLICEVM_KVM_ABI_PARAM[sizeof("/sys/") - 1];	/* module/kvm/... */
	char buf[32], notes[400], *end;
	long version;

	if (!exists_at(c->hp->sys, "module/kvm")) {
		add(c, "kvm-component", CHECK_WARN,
		    "load KVM; for slices, build slicevm's kvm modules with 'make kernel' and load those (kernel/README.md)",
		    "kvm.ko is not loaded: neither stock KVM nor slicevm's kernel component");
		return;
	}
	if (read_at(c->hp->sys, rel, buf, sizeof(buf))) {
		add(c, "kvm-component", CHECK_WARN,
		    "build it with 'make kernel' and load it (kernel/README.md)",
		    "not loaded, stock KVM (no %s/%s)",
		    c->hp->sys, rel);
		return;
	}
	errno = 0;
	version = strtol(buf, &end, 10);
	if (errno || end == buf || *end || version < 1 || version > INT_MAX) {
		add(c, "kvm-component", CHECK_WARN,
		    "load slicevm's own kvm modules (kernel/README.md)",
		    "%s/%s reads '%s', not an ABI version", c->hp->sys, rel, buf);
		return;
	}
	if (version < 2) {	/* stage 2 brings the direct timer */
		add(c, "kvm-component", CHECK_PASS, NULL,
		    "slicevm's kernel component v%ld is loaded (stage 1: nothing yet beyond stock KVM; v2 adds the direct timer)",
		    version);
		return;
	}
	/* a newer version is used as far as this slicevm knows it */
	direct_notes(c, version > SLICEVM_KVM_ABI_VERSION ? SLICEVM_KVM_ABI_VERSION : (int)version,
		     notes, sizeof(notes));
	if (version > SLICEVM_KVM_ABI_VERSION)
		add(c, "kvm-component", CHECK_PASS, NULL,
		    "slicevm's kernel component v%ld is loaded (this slicevm knows up to v%d and uses that; %s)",
		    version, SLICEVM_KVM_ABI_VERSION, notes);
	else
		add(c, "kvm-component", CHECK_PASS, NULL,
		    "slicevm's kernel component v%ld is loaded (stage %d; %s)", version,
		    abi_stage[version], notes);
}

static void check_cpu_virt(struct ctx *c)
{
	if (has_flag(c, "vmx") || has_flag(c, "svm")) {
		add(c, "cpu-virt", CHECK_PASS, NULL, "the CPU has %s",
		    has_flag(c, "vmx") ? "VT-x (vmx)" : "AMD-V (svm)");
		return;
	}
	if (has_flag(c, "hypervisor"))
		add(c, "cpu-virt", CHECK_FAIL,
		    "enable nested virtualization in the hypervisor below this host",
		    "the CPU has neither vmx nor svm (this host is a VM)");
	else
		add(c, "cpu-virt", CHECK_FAIL, "enable VT-x or AMD-V (SVM) in the firmware",
		    "the CPU has neither vmx nor svm");
}

static void check_tdp(struct ctx *c)
{
	if (has_flag(c, "ept") || has_flag(c, "npt"))
		add(c, "cpu-tdp", CHECK_PASS, NULL, "second-level paging (%s)",
		    has_flag(c, "ept") ? "EPT" : "NPT");
	else
		add(c, "cpu-tdp", CHECK_WARN,
		    "use a CPU (or a hypervisor below) with EPT or NPT; KVM shadows guest page tables without it, slowly",
		    "no ept or npt in /proc/cpuinfo");
}

/* A CPU flag that should be there: PASS, or WARN with @fix. */
static void check_flag(struct ctx *c, const char *name, const char *flag, const char *what,
		       const char *fix)
{
	if (has_flag(c, flag))
		add(c, name, CHECK_PASS, NULL, "the CPU has %s (%s)", what, flag);
	else
		add(c, name, CHECK_WARN, fix, "the CPU lacks %s (no %s flag)", what, flag);
}

static bool plan_needs_1g(const struct plan *p)
{
	for (int i = 0; p && i < p->nslices; i++)
		if (p->slices[i].backing == BACKING_HUGETLB &&
		    slice_hugepage_size(&p->slices[i]) == (1ULL << 30))
			return true;
	return false;
}

static void check_1g(struct ctx *c)
{
	if (has_flag(c, "pdpe1gb"))
		add(c, "cpu-1g-pages", CHECK_PASS, NULL, "the CPU has 1G pages (pdpe1gb)");
	else
		add(c, "cpu-1g-pages", plan_needs_1g(c->o->plan) ? CHECK_FAIL : CHECK_WARN,
		    "give hugetlb slices memory that is not a multiple of 1G (2M pages), or use a CPU with pdpe1gb",
		    "the CPU has no 1G pages (no pdpe1gb)%s",
		    plan_needs_1g(c->o->plan) ? " and a hugetlb slice needs them" : "");
}

static void check_apicv(struct ctx *c)
{
	int intel = read_bool_param(c->hp->sys, "module/kvm_intel/parameters/enable_apicv");
	int amd = read_bool_param(c->hp->sys, "module/kvm_amd/parameters/avic");

	if (intel > 0 || amd > 0) {
		add(c, "apicv", CHECK_PASS, NULL, "%s is on%s", intel > 0 ? "APICv" : "AVIC",
		    has_flag(c, "posted_intr") ? ", with posted interrupts" : "");
	} else if (intel == 0) {
		add(c, "apicv", CHECK_WARN,
		    "load kvm_intel with enable_apicv=1 (options kvm_intel enable_apicv=1 in /etc/modprobe.d)",
		    "APICv is off: every guest interrupt and EOI costs an exit");
	} else if (amd == 0 && has_flag(c, "avic")) {
		add(c, "apicv", CHECK_WARN,
		    "load kvm_amd with avic=1 (options kvm_amd avic=1 in /etc/modprobe.d)",
		    "AVIC is off: every guest interrupt and EOI costs an exit");
	} else if (amd == 0) {
		add(c, "apicv", CHECK_WARN,
		    "nothing to turn on: posted interrupts need a CPU with AVIC",
		    "this CPU has no AVIC (no avic flag): every guest interrupt and EOI costs an exit");
	} else {
		add(c, "apicv", CHECK_WARN, "load kvm_intel or kvm_amd to use it",
		    "cannot tell whether APICv/AVIC is on: neither kvm_intel nor kvm_amd is loaded");
	}
}

/* Distinct physical_package_id values of the CPUs in sysfs (0 when unknown). */
static int count_packages(const struct ctx *c)
{
	char dir[512], rel[320], id[32];
	bool seen[64] = { false };
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (hostfs_path(dir, sizeof(dir), "%s/devices/system/cpu", c->hp->sys))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *end;
		long v;

		if (strncmp(e->d_name, "cpu", 3) || !isdigit((unsigned char)e->d_name[3]))
			continue;
		snprintf(rel, sizeof(rel), "devices/system/cpu/%s/topology/physical_package_id",
			 e->d_name);
		if (read_at(c->hp->sys, rel, id, sizeof(id)))
			continue;
		v = strtol(id, &end, 10);
		if (*end || v < 0)
			continue;
		/* more than 64 distinct packages: the answer is "more than four" anyway */
		if (v >= 64) {
			n = 64;
			break;
		}
		if (!seen[v]) {
			seen[v] = true;
			n++;
		}
	}
	closedir(d);
	return n;
}

/*
 * Whether the kernel checks its TSC clock source with the clocksource
 * watchdog, a timer that visits every online CPU in turn: on a slice CPU
 * an interrupt about once a second, and for a guest with the direct timer
 * an exit. Linux trusts the TSC, and runs no watchdog on it, when the CPU
 * says it is reliable, when it is constant and nonstop with TSC_ADJUST on
 * at most four sockets (packages in sysfs; none readable counts as one) or
 * when booted with tsc=reliable or tsc=nowatchdog (arch/x86/kernel/tsc.c).
 */
static void check_tsc_watchdog(struct ctx *c)
{
	char cmd[8192], val[64];
	int packages = count_packages(c);

	if (!read_at(c->hp->proc, "cmdline", cmd, sizeof(cmd)) &&
	    cmdline_value(cmd, "tsc", val, sizeof(val)) &&
	    (!strcmp(val, "reliable") || !strcmp(val, "nowatchdog")))
		add(c, "tsc-watchdog", CHECK_PASS, NULL, "tsc=%s: no clocksource watchdog", val);
	else if (has_flag(c, "tsc_reliable") ||
		 (has_flag(c, "constant_tsc") && has_flag(c, "nonstop_tsc") &&
		  has_flag(c, "tsc_adjust") && packages <= 4))
		add(c, "tsc-watchdog", CHECK_PASS, NULL,
		    "the kernel trusts this TSC: no clocksource watchdog");
	else
		add(c, "tsc-watchdog", CHECK_WARN,
		    "if this TSC is known to be stable, boot with tsc=nowatchdog",
		    "the clocksource watchdog checks the TSC from every CPU in turn, slice CPUs "
		    "too, about once a second each (%s)", packages > 4 ?
		    "the kernel does not trust a TSC across more than four sockets" :
		    "the CPU lacks constant_tsc, nonstop_tsc or tsc_adjust");
}

static void check_tsc(struct ctx *c)
{
	char cs[64];

	if (has_flag(c, "constant_tsc") && has_flag(c, "nonstop_tsc"))
		add(c, "tsc", CHECK_PASS, NULL, "the TSC is constant and does not stop");
	else
		add(c, "tsc", CHECK_WARN, "use a CPU with an invariant TSC for guests' timekeeping",
		    "the TSC is not invariant (constant_tsc %s, nonstop_tsc %s)",
		    has_flag(c, "constant_tsc") ? "yes" : "no",
		    has_flag(c, "nonstop_tsc") ? "yes" : "no");
	if (read_at(c->hp->sys, "devices/system/clocksource/clocksource0/current_clocksource",
		    cs, sizeof(cs)))
		add(c, "clocksource", CHECK_WARN, "check that sysfs is mounted",
		    "cannot read the current clock source");
	else if (!strcmp(cs, "tsc")) {
		add(c, "clocksource", CHECK_PASS, NULL, "the clock source is tsc");
		check_tsc_watchdog(c);
	} else {
		add(c, "clocksource", CHECK_WARN,
		    "see dmesg for why the kernel left tsc (a 'clocksource=' or 'tsc=' boot parameter, an unstable TSC)",
		    "the clock source is %s, not tsc", cs);
	}
}

static void check_cpu(struct ctx *c)
{
	check_cpu_virt(c);
	check_tdp(c);
	check_flag(c, "cpu-x2apic", "x2apic", "x2APIC",
		   "enable x2APIC in the firmware: without it guests' APIC accesses are MMIO exits");
	check_flag(c, "cpu-tsc-deadline", "tsc_deadline_timer", "the TSC deadline timer",
		   "use a CPU with it: guests' timers then cost fewer exits");
	check_1g(c);
	check_apicv(c);
	check_tsc(c);
}

/* ---- cgroups and the kernel ------------------------------------------------------ */

static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || isspace((unsigned char)p[-1])) &&
		    (!p[n] || isspace((unsigned char)p[n])))
			return true;
	return false;
}

static void check_cgroup(struct ctx *c)
{
	char ctl[512];
	int major = 0, minor = 0;

	if (read_at(c->hp->cgroup, "cgroup.controllers", ctl, sizeof(ctl))) {
		add(c, "cgroup2", CHECK_FAIL,
		    "mount cgroup v2 there (boot with systemd.unified_cgroup_hierarchy=1, or mount -t cgroup2 none /sys/fs/cgroup)",
		    "no cgroup v2 at %s (no cgroup.controllers)", c->hp->cgroup);
		return;
	}
	if (!word_in(ctl, "cpuset"))
		add(c, "cgroup2", CHECK_FAIL,
		    "free it from cgroup v1 (boot with cgroup_no_v1=cpuset, or unmount the v1 cpuset hierarchy)",
		    "cgroup v2 at %s has no cpuset controller", c->hp->cgroup);
	else
		add(c, "cgroup2", CHECK_PASS, NULL, "cgroup v2 at %s with the cpuset controller",
		    c->hp->cgroup);
	if (read_at(c->hp->proc, "sys/kernel/osrelease", ctl, sizeof(ctl)) ||
	    sscanf(ctl, "%d.%d", &major, &minor) != 2)
		add(c, "cpuset-isolated", CHECK_WARN, "check that /proc is mounted",
		    "cannot read the kernel version");
	else if (major > 6 || (major == 6 && minor >= 1))
		add(c, "cpuset-isolated", CHECK_PASS, NULL,
		    "Linux %d.%d has isolated cpuset partitions", major, minor);
	else
		add(c, "cpuset-isolated", CHECK_WARN,
		    "use Linux 6.1 or newer; apply makes 'root' partitions, which the scheduler still balances",
		    "Linux %d.%d has no isolated cpuset partitions", major, minor);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static bool plan_has_devices(const struct plan *p)
{
	for (int i = 0; p && i < p->nslices; i++)
		if (p->slices[i].ndevices)
			return true;
	return false;
}

static void check_iommu(struct ctx *c)
{
	char dir[512], fix[160];
	bool need = plan_has_devices(c->o->plan);
	int n;

	snprintf(dir, sizeof(dir), "%s/kernel/iommu_groups", c->hp->sys);
	n = count_entries(dir);
	if (n > 0) {
		add(c, "iommu", CHECK_PASS, NULL, "the IOMMU is on: %d groups", n);
		return;
	}
	snprintf(fix, sizeof(fix), "enable VT-d/AMD-Vi in the firmware and boot with %s",
		 has_flag(c, "vmx") ? "intel_iommu=on" : has_flag(c, "svm") ? "amd_iommu=on" :
		 "intel_iommu=on or amd_iommu=on");
	add(c, "iommu", need ? CHECK_FAIL : CHECK_WARN, fix, "no IOMMU groups in %s%s", dir,
	    need ? ": the plan passes devices through" : ": no PCI passthrough");
}

/* With slice devices: is vfio-pci there for apply, and which devices are on it? */
static void check_vfio(struct ctx *c)
{
	const struct plan *p = c->o->plan;
	char driver[VFIO_NAME_MAX];
	int n = 0, on = 0;

	if (!plan_has_devices(p))
		return;
	if (!vfiobind_loaded(c->hp)) {
		add(c, "vfio-pci", CHECK_FAIL, "run 'modprobe vfio-pci'",
		    "vfio-pci is not loaded: apply gives the slices' devices to it");
		return;
	}
	for (int i = 0; i < p->nslices; i++)
		for (int k = 0; k < p->slices[i].ndevices; k++, n++)
			on += vfiobind_driver(c->hp, p->slices[i].devices[k], driver,
					      sizeof(driver)) == 0 &&
			      !strcmp(driver, VFIO_PCI_DRIVER);
	add(c, "vfio-pci", CHECK_PASS, NULL, "vfio-pci is loaded; %d of the plan's %d device%s on it%s",
	    on, n, n == 1 ? " is" : "s are", on < n ? " (apply binds the rest)" : "");
}

/* ---- The plan's boot parameters ---------------------------------------------------- */

/* isolcpus' value: leading flags ("managed_irq,domain,") and a CPU list. */
static int split_isolcpus(const char *val, char *flags, size_t flen, struct cpumask *m)
{
	const char *p = val;

	flags[0] = '\0';
	while (isalpha((unsigned char)*p)) {
		size_t n = strcspn(p, ",");

		snprintf(flags + strlen(flags), flen - strlen(flags), "%s%.*s",
			 flags[0] ? "," : "", (int)n, p);
		p += n + (p[n] == ',');
	}
	return cpumask_parse_list(p, m);
}

static bool flag_listed(const char *flags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += n)
		if ((p == flags || p[-1] == ',') && (!p[n] || p[n] == ','))
			return true;
	return false;
}

/* One parameter: the same CPUs (and isolcpus flags) as bootargs prints? */
static void check_param(struct ctx *c, const char *cmd, const char *key, const char *want)
{
	char name[48], have[CPULIST_MAX], wf[64], hf[64], fix[256];
	struct cpumask wm, hm;
	bool isol = !strcmp(key, "isolcpus");
	int bad;

	snprintf(name, sizeof(name), "boot-%s", key);
	snprintf(fix, sizeof(fix),
		 "boot with %s=%s ('slicevm host bootargs --grub-dropin' writes it; update-grub, reboot)",
		 key, want);
	if (!cmdline_value(cmd, key, have, sizeof(have))) {
		add(c, name, CHECK_WARN, fix, "%s= is not on the kernel command line", key);
		return;
	}
	if (isol) {
		bad = split_isolcpus(want, wf, sizeof(wf), &wm) |
		      split_isolcpus(have, hf, sizeof(hf), &hm);
	} else {
		bad = cpumask_parse_list(want, &wm) | cpumask_parse_list(have, &hm);
		wf[0] = hf[0] = '\0';
	}
	if (bad || !cpumask_equal(&wm, &hm)) {
		add(c, name, CHECK_WARN, fix, "%s=%s is in effect, the plan wants %s=%s", key, have,
		    key, want);
		return;
	}
	for (char *f = strtok(wf, ","); f; f = strtok(NULL, ","))
		if (!flag_listed(hf, f)) {
			add(c, name, CHECK_WARN, fix, "%s=%s lacks the %s flag", key, have, f);
			return;
		}
	add(c, name, CHECK_PASS, NULL, "%s=%s", key, have);
}

/*
 * The CPU parameters bootargs_format() prints for the plan, one item each
 * (the memory ones are checked by their effect, below).
 */
static void check_bootargs(struct ctx *c)
{
	char cmd[8192], line[8192];
	struct plan *cpu_only;
	int ret;

	if (read_at(c->hp->proc, "cmdline", cmd, sizeof(cmd))) {
		add(c, "boot", CHECK_WARN, "check that /proc is mounted",
		    "cannot read the kernel command line");
		return;
	}
	cpu_only = malloc(sizeof(*cpu_only));
	if (!cpu_only) {
		c->oom = 1;
		return;
	}
	*cpu_only = *c->o->plan;
	for (int i = 0; i < cpu_only->nslices; i++)
		cpu_only->slices[i].backing = BACKING_ANON;
	ret = bootargs_format(cpu_only, line, sizeof(line));
	free(cpu_only);
	if (ret) {
		add(c, "boot", CHECK_WARN, "see 'slicevm host bootargs'",
		    "no boot parameters for this plan: %s", err_msg());
		return;
	}
	for (char *save, *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = '\0';
		check_param(c, cmd, tok, eq + 1);
	}
}

/* The kernel's own view: /sys/devices/system/cpu/{nohz_full,isolated}. */
static void check_cpu_lists(struct ctx *c)
{
	char buf[CPULIST_MAX], s1[CPULIST_MAX], s2[CPULIST_MAX];
	struct cpumask slices, m, missing;

	plan_slice_cpus(c->o->plan, &slices);
	if (read_at(c->hp->sys, "devices/system/cpu/nohz_full", buf, sizeof(buf)))
		buf[0] = '\0';
	if (!strcmp(buf, "(null)"))
		buf[0] = '\0';
	if (cpumask_parse_list(buf, &m))
		cpumask_clear(&m);
	cpumask_andnot(&missing, &slices, &m);
	if (cpumask_empty(&missing))
		add(c, "nohz_full", CHECK_PASS, NULL, "slice CPUs %s are tickless",
		    mask_str(&slices, s1, sizeof(s1)));
	else
		add(c, "nohz_full", CHECK_WARN,
		    "boot with the nohz_full= of 'slicevm host bootargs'",
		    "slice CPUs %s have the periodic tick (the kernel's nohz_full: %s)",
		    mask_str(&missing, s1, sizeof(s1)), buf[0] ? buf : "none");
	if (read_at(c->hp->sys, "devices/system/cpu/isolated", buf, sizeof(buf)))
		buf[0] = '\0';
	if (cpumask_parse_list(buf, &m))
		cpumask_clear(&m);
	cpumask_and(&m, &m, &slices);
	if (cpumask_empty(&m))
		add(c, "isolated", CHECK_PASS, NULL,
		    "no slice CPU is isolated at boot from scheduler domains");
	else
		add(c, "isolated", CHECK_WARN,
		    "drop 'domain' from isolcpus= ('slicevm host bootargs' leaves it out)",
		    "slice CPUs %s are isolated at boot (isolcpus=domain): the kernel refuses isolated cpuset partitions over them (cpuset.cpus %s)",
		    mask_str(&m, s1, sizeof(s1)), mask_str(&slices, s2, sizeof(s2)));
}

/* ---- Slice memory ------------------------------------------------------------------ */

static int read_u64_at(const char *root, const char *rel, uint64_t *v)
{
	char buf[32], *end;

	if (read_at(root, rel, buf, sizeof(buf)))
		return -1;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	return errno || end == buf ? -1 : 0;
}

/* Hugepages of @size the hugetlb slices on @node need together. */
static uint64_t pages_needed(const struct plan *p, int node, uint64_t size)
{
	uint64_t n = 0;

	for (int i = 0; i < p->nslices; i++) {
		const struct slice *s = &p->slices[i];

		if (s->backing == BACKING_HUGETLB && s->node == node &&
		    slice_hugepage_size(s) == size)
			n += s->memory / size;
	}
	return n;
}

/* Was (node, size) already checked for an earlier slice? */
static bool seen_before(const struct plan *p, int upto, int node, uint64_t size)
{
	for (int i = 0; i < upto; i++)
		if (p->slices[i].backing == BACKING_HUGETLB && p->slices[i].node == node &&
		    slice_hugepage_size(&p->slices[i]) == size)
			return true;
	return false;
}

static void check_hugepages_node(struct ctx *c, int node, uint64_t size)
{
	uint64_t need = pages_needed(c->o->plan, node, size), have, nfree = 0;
	char rel[160], fix[200], sz[24];
	const char *label = size == (1ULL << 30) ? "1G" : "2M";

	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)(size >> 10));
	if (node >= 0)
		snprintf(rel, sizeof(rel), "devices/system/node/node%d/hugepages/hugepages-%skB/",
			 node, sz);
	else
		snprintf(rel, sizeof(rel), "kernel/mm/hugepages/hugepages-%skB/", sz);
	snprintf(fix, sizeof(fix),
		 "boot with hugepagesz=%s hugepages=%d:%llu (see 'slicevm host bootargs')",
		 label, node < 0 ? 0 : node, (unsigned long long)need);
	strcat(rel, "nr_hugepages");
	if (read_u64_at(c->hp->sys, rel, &have)) {
		add(c, "hugepages", CHECK_FAIL, fix, "node %d has no %s hugepages (no %s/%s)",
		    node, label, c->hp->sys, rel);
		return;
	}
	strcpy(strrchr(rel, '/') + 1, "free_hugepages");
	if (read_u64_at(c->hp->sys, rel, &nfree))
		nfree = have;
	if (have < need)
		add(c, "hugepages", CHECK_FAIL, fix,
		    "node %d has %llu %s hugepages, its hugetlb slices need %llu", node,
		    (unsigned long long)have, label, (unsigned long long)need);
	else
		add(c, "hugepages", CHECK_PASS, NULL,
		    "node %d has %llu %s hugepages (%llu free) for the %llu its slices need",
		    node, (unsigned long long)have, label, (unsigned long long)nfree,
		    (unsigned long long)need);
}

static void check_hugepages(struct ctx *c)
{
	const struct plan *p = c->o->plan;

	for (int i = 0; i < p->nslices; i++) {
		const struct slice *s = &p->slices[i];
		uint64_t size = slice_hugepage_size(s);

		if (s->backing == BACKING_HUGETLB && !seen_before(p, i, s->node, size))
			check_hugepages_node(c, s->node, size);
	}
}

static const char *reserve_kind(const struct slice *s)
{
	return s->reserve_as == RESERVE_PMEM ? "Persistent Memory (legacy)" : "Reserved";
}

static void check_reserved_slice(struct ctx *c, const struct iomem *io, const struct slice *s)
{
	uint64_t start = s->phys_start, end = s->phys_start + s->memory - 1;
	const struct iomem_entry *e;
	char fix[200], name[48];

	snprintf(name, sizeof(name), "reserved-%s", s->name);
	if (!s->phys_start) {
		add(c, name, CHECK_FAIL,
		    "run 'slicevm host bootargs' as root to choose it, then reboot with its memmap=",
		    "slice %s has no physical range yet", s->name);
		return;
	}
	snprintf(fix, sizeof(fix), "boot with memmap=0x%llx%c0x%llx (see 'slicevm host bootargs')",
		 (unsigned long long)s->memory, s->reserve_as == RESERVE_PMEM ? '!' : '$',
		 (unsigned long long)start);
	e = iomem_find(io, start, end);
	if (e && !strcmp(e->name, reserve_kind(s)))
		add(c, name, CHECK_PASS, NULL, "%llx-%llx is '%s' in /proc/iomem",
		    (unsigned long long)start, (unsigned long long)end, e->name);
	else if (iomem_ram_overlap(io, start, end))
		add(c, name, CHECK_FAIL, fix, "%llx-%llx is still System RAM",
		    (unsigned long long)start, (unsigned long long)end);
	else
		add(c, name, CHECK_FAIL, fix, "%llx-%llx is not one '%s' range in /proc/iomem",
		    (unsigned long long)start, (unsigned long long)end, reserve_kind(s));
}

/*
 * Reserved slices against /proc/iomem (physmem.h). Only the ranges are
 * checked, not that they lie in the slice's node.
 */
static void check_reserved(struct ctx *c)
{
	const struct plan *p = c->o->plan;
	char path[512];
	struct iomem io;
	char *text;

	if (!plan_has_reserved(p))
		return;
	if (hostfs_path(path, sizeof(path), "%s/iomem", c->hp->proc))
		return;
	text = hostfs_read_all(path);
	if (!text || iomem_parse(text, &io)) {
		add(c, "reserved", CHECK_WARN, "run as root", "cannot tell: %s", err_msg());
		free(text);
		return;
	}
	free(text);
	for (int i = 0; i < p->nslices; i++)
		if (p->slices[i].backing == BACKING_RESERVED)
			check_reserved_slice(c, &io, &p->slices[i]);
	iomem_free(&io);
}

static void check_plan(struct ctx *c)
{
	if (!c->o->plan) {
		add(c, "plan", CHECK_PASS, NULL,
		    "no plan given or applied: the slice checks are left out (give CONFIG)");
		return;
	}
	add(c, "plan", CHECK_PASS, NULL, "%d slice%s, from %s", c->o->plan->nslices,
	    c->o->plan->nslices == 1 ? "" : "s",
	    c->o->plan_source ? c->o->plan_source : "the caller");
	check_bootargs(c);
	check_cpu_lists(c);
	check_hugepages(c);
	check_reserved(c);
}

/* ---- All of it --------------------------------------------------------------------- */

static void load_cpuinfo(struct ctx *c)
{
	char path[512], *text = NULL;

	if (!hostfs_path(path, sizeof(path), "%s/cpuinfo", c->hp->proc))
		text = hostfs_read_all(path);
	c->flags = cpuinfo_field(text ? text : "", "flags");
	c->vmx_flags = cpuinfo_field(text ? text : "", "vmx flags");
	if (!c->flags || !c->vmx_flags)
		c->oom = 1;
	if (!text)
		add(c, "cpuinfo", CHECK_WARN, "check that /proc is mounted",
		    "cannot read %s: the CPU checks below see no flags", path);
	free(text);
}

int host_check(const struct host_paths *hp, const struct host_check_opts *o,
	       struct check_report *r)
{
	struct ctx c = { .hp = hp, .o = o, .r = r };

	memset(r, 0, sizeof(*r));
	load_cpuinfo(&c);
	check_kvm(&c);
	check_kvm_component(&c);
	check_cpu(&c);
	check_cgroup(&c);
	check_iommu(&c);
	check_vfio(&c);
	check_plan(&c);
	free(c.flags);
	free(c.vmx_flags);
	if (c.oom) {
		check_report_free(r);
		return err_set("out of memory checking the host");
	}
	return 0;
}
