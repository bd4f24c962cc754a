// SPDX-License-Identifier: GPL-2.0
/*
 * `slicevm host check` against FAKE host trees in a temporary directory
 * (/proc, /sys, the cgroup root), never the real one: a ready host, a
 * kvm_pvm host, a host missing each feature, and plans whose boot
 * parameters, hugepages and reserved ranges are or are not in place.
 */
#include <errno.h>
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

#include "host/check.h"
#include "lib/err.h"
#include "testutil.h"

#define GiB	(1ULL << 30)

struct tree {
	char root[128], proc[160], sys[160], cg[160], kvm[160];
	struct host_paths hp;
};

/* Writes @text to <@root>/<@rel>, making the directories on the way. */
static void mk(const char *root, const char *rel, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	if (text)
		test_put_file(root, rel, text);
	else if (mkdir(path, 0755) && errno != EEXIST)
		fail_msg("mkdir %s: %s", path, strerror(errno));
}

/* Removes the file or empty directory <@root>/<@rel>. */
static void rm(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (remove(path))
		fail_msg("remove %s: %s", path, strerror(errno));
}

static const char good_flags[] =
	"processor\t: 0\n"
	"vendor_id\t: GenuineIntel\n"
	"flags\t\t: fpu vme tsc msr pae constant_tsc nonstop_tsc x2apic tsc_deadline_timer "
	"tsc_adjust vmx pdpe1gb lm\n"
	"vmx flags\t: vnmi preemption_timer posted_intr invvpid ept_x_only ept ept_ad "
	"flexpriority\n"
	"\n"
	"processor\t: 1\n"
	"flags\t\t: fpu\n";

static const char iomem[] =
	"00000000-00000fff : Reserved\n"
	"00001000-0009ffff : System RAM\n"
	"00100000-3fffffff : System RAM\n"
	"  01000000-01ffffff : Kernel code\n"
	"40000000-7fffffff : Reserved\n"
	"80000000-bfffffff : Persistent Memory (legacy)\n"
	"100000000-13fffffff : System RAM\n";

/* A ready Intel host, but no KVM device (a unit test cannot fake its ioctls). */
static void ready_host(struct tree *t)
{
	static int seq;

	snprintf(t->root, sizeof(t->root), "%s/t%d", test_dir, seq++);
	snprintf(t->proc, sizeof(t->proc), "%s/proc", t->root);
	snprintf(t->sys, sizeof(t->sys), "%s/sys", t->root);
	snprintf(t->cg, sizeof(t->cg), "%s/sys/fs/cgroup", t->root);
	snprintf(t->kvm, sizeof(t->kvm), "%s/dev/kvm", t->root);
	t->hp = (struct host_paths){ .cgroup = t->cg, .proc = t->proc, .sys = t->sys };
	assert_int_equal(mkdir(t->root, 0755), 0);
	mk(t->root, "proc/cpuinfo", good_flags);
	mk(t->root, "proc/sys/kernel/osrelease", "6.12.9-amd64\n");
	mk(t->root, "proc/cmdline",
	   "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=managed_irq,2-5 nohz_full=2,3,4,5 "
	   "rcu_nocbs=2-5 irqaffinity=0-1,6-7 quiet -- nohz_full=9\n");
	mk(t->root, "proc/iomem", iomem);
	mk(t->root, "sys/module/kvm_intel/parameters/enable_apicv", "Y\n");
	mk(t->root, "sys/module/kvm/parameters/slicevm_abi", "1\n");
	mk(t->root, "sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc\n");
	mk(t->root, "sys/devices/system/cpu/nohz_full", "2-5\n");
	mk(t->root, "sys/devices/system/cpu/isolated", "\n");
	mk(t->root, "sys/kernel/iommu_groups/0", NULL);
	mk(t->root, "sys/kernel/iommu_groups/1", NULL);
	mk(t->root, "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
	   "1024\n");
	mk(t->root, "sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages",
	   "1000\n");
	mk(t->root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
}

/* Housekeeping 0-1,6-7; slice db 2-3 on node 0, web 4-5 on node 0. */
static void make_plan(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	cpumask_parse_list("0-1,6-7", &p->housekeeping);
	p->nslices = 2;
	snprintf(p->slices[0].name, SLICE_NAME_MAX, "db");
	cpumask_parse_list("2-3", &p->slices[0].cpus);
	p->slices[0].memory = GiB;
	snprintf(p->slices[1].name, SLICE_NAME_MAX, "web");
	cpumask_parse_list("4-5", &p->slices[1].cpus);
	p->slices[1].memory = GiB;
}

static void run(const struct tree *t, const struct plan *plan, struct check_report *r)
{
	struct host_check_opts o = { .kvm_dev = t->kvm, .plan = plan, .plan_source = "test" };

	if (host_check(&t->hp, &o, r))
		fail_msg("host_check: %s", err_msg());
}

static const struct check_item *item(const struct check_report *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->items[i].name, name))
			return &r->items[i];
	fail_msg("no item %s", name);
	return NULL;
}

/* Item @name is at @level, and its detail or fix holds @needle. */
static void expect(const struct check_report *r, const char *name, enum check_level level,
		   const char *needle)
{
	const struct check_item *it = item(r, name);

	if (it->level != level)
		fail_msg("%s is %s, not %s: %s: %s", name, check_level_name(it->level),
			 check_level_name(level), it->detail, it->fix);
	if (needle && !strstr(it->detail, needle) && !strstr(it->fix, needle))
		fail_msg("%s: no '%s' in: %s: %s", name, needle, it->detail, it->fix);
	if (level != CHECK_PASS && !it->fix[0])
		fail_msg("%s is %s without a fix", name, check_level_name(level));
	assert_null(strchr(it->detail, '\n'));
	assert_null(strchr(it->fix, '\n'));
}

static void test_ready_host(void **state)
{
	struct check_report r;
	struct plan p;
	struct tree t;

	ready_host(&t);
	make_plan(&p);
	p.slices[0].backing = BACKING_HUGETLB;
	p.slices[0].memory = 512ULL << 20;	/* 256 2M pages */
	run(&t, &p, &r);
	/* Everything but the KVM device, which the fake tree has not. */
	expect(&r, "kvm", CHECK_FAIL, "does not exist");
	expect(&r, "kvm", CHECK_FAIL, "modprobe kvm_intel");
	for (int i = 0; i < r.n; i++)
		if (strcmp(r.items[i].name, "kvm") && r.items[i].level != CHECK_PASS)
			fail_msg("%s: %s: %s", r.items[i].name, r.items[i].detail, r.items[i].fix);
	expect(&r, "kvm-component", CHECK_PASS, "v1 is loaded");
	expect(&r, "cpu-virt", CHECK_PASS, "vmx");
	expect(&r, "cpu-tdp", CHECK_PASS, "EPT");
	expect(&r, "apicv", CHECK_PASS, "posted interrupts");
	expect(&r, "cgroup2", CHECK_PASS, "cpuset");
	expect(&r, "cpuset-isolated", CHECK_PASS, "6.12");
	expect(&r, "iommu", CHECK_PASS, "2 groups");
	/* nohz_full=2,3,4,5 is the plan's 2-5; the nohz_full=9 after "--" is init's. */
	expect(&r, "boot-nohz_full", CHECK_PASS, "2,3,4,5");
	expect(&r, "boot-isolcpus", CHECK_PASS, NULL);
	expect(&r, "boot-rcu_nocbs", CHECK_PASS, NULL);
	expect(&r, "boot-irqaffinity", CHECK_PASS, NULL);
	expect(&r, "nohz_full", CHECK_PASS, "2-5");
	expect(&r, "isolated", CHECK_PASS, NULL);
	expect(&r, "hugepages", CHECK_PASS, "1024 2M");
	expect(&r, "tsc-watchdog", CHECK_PASS, "trusts this TSC");
	assert_int_equal(check_count(&r, CHECK_FAIL), 1);
	check_report_free(&r);
}

/* host check of tree @t, without a plan: its tsc-watchdog item is @level. */
static void expect_watchdog(const struct tree *t, enum check_level level, const char *needle)
{
	struct check_report r;

	run(t, NULL, &r);
	expect(&r, "tsc-watchdog", level, needle);
	check_report_free(&r);
}

/*
 * The clocksource watchdog visits slice CPUs unless the kernel trusts the
 * TSC: by its flags (on at most four sockets), or by tsc=reliable or
 * tsc=nowatchdog at boot.
 */
static void test_tsc_watchdog(void **state)
{
	static const struct {
		const char *flags, *cmdline;
		enum check_level level;
		const char *needle;
	} cases[] = {
		{ "constant_tsc nonstop_tsc", "", CHECK_WARN, "from every CPU in turn, slice CPUs too" },
		{ "constant_tsc nonstop_tsc", "", CHECK_WARN, "boot with tsc=nowatchdog" },
		{ "tsc_reliable", "", CHECK_PASS, "trusts this TSC" },
		{ "", "tsc=nowatchdog", CHECK_PASS, "tsc=nowatchdog" },
		{ "", "tsc=reliable", CHECK_PASS, "tsc=reliable" },
		{ "", "tsc=unstable", CHECK_WARN, "tsc=nowatchdog" },
	};
	struct check_report r;
	struct tree t;
	char text[256];

	ready_host(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "flags\t\t: fpu tsc %s vmx ept\n", cases[i].flags);
		mk(t.root, "proc/cpuinfo", text);
		snprintf(text, sizeof(text), "root=/dev/sda1 %s quiet\n", cases[i].cmdline);
		mk(t.root, "proc/cmdline", text);
		expect_watchdog(&t, cases[i].level, cases[i].needle);
	}

	/* The flags, on five sockets: Linux keeps the watchdog; on four it does not. */
	mk(t.root, "proc/cpuinfo", "flags\t\t: fpu tsc constant_tsc nonstop_tsc tsc_adjust vmx\n");
	mk(t.root, "proc/cmdline", "root=/dev/sda1\n");
	for (int cpu = 0; cpu < 10; cpu++) {
		snprintf(text, sizeof(text), "sys/devices/system/cpu/cpu%d/topology/physical_package_id",
			 cpu);
		mk(t.root, text, cpu % 5 == 4 ? "7\n" : cpu % 4 == 1 ? "1\n" : "0\n");
	}
	mk(t.root, "sys/devices/system/cpu/cpu3/topology/physical_package_id", "2\n");
	mk(t.root, "sys/devices/system/cpu/cpu6/topology/physical_package_id", "3\n");
	expect_watchdog(&t, CHECK_WARN, "more than four sockets");
	mk(t.root, "sys/devices/system/cpu/cpu4/topology/physical_package_id", "0\n");
	mk(t.root, "sys/devices/system/cpu/cpu9/topology/physical_package_id", "0\n");
	expect_watchdog(&t, CHECK_PASS, "trusts this TSC");

	/* Another clock source: no watchdog item (the clocksource item warns). */
	mk(t.root, "sys/devices/system/clocksource/clocksource0/current_clocksource", "hpet\n");
	run(&t, NULL, &r);
	for (int i = 0; i < r.n; i++)
		assert_string_not_equal(r.items[i].name, "tsc-watchdog");
	check_report_free(&r);
}

static void test_kvm(void **state)
{
	struct check_report r;
	struct tree t;

	ready_host(&t);
	/* Not a KVM device: ioctls fail. */
	mk(t.root, "dev/kvm", "");
	run(&t, NULL, &r);
	expect(&r, "kvm", CHECK_FAIL, "does not answer as KVM API 12");
	expect(&r, "plan", CHECK_PASS, "no plan");
	check_report_free(&r);

	/* kvm_pvm: refused whatever the device says, with the lab as the fix. */
	mk(t.root, "sys/module/kvm_pvm", NULL);
	run(&t, NULL, &r);
	expect(&r, "kvm", CHECK_FAIL, "kvm_pvm");
	expect(&r, "kvm", CHECK_FAIL, "tests/lab");
	check_report_free(&r);
}

/* slicevm's kernel component, seen through kvm.ko's slicevm_abi parameter. */
static void test_kvm_component(void **state)
{
	struct check_report r;
	char want[512];
	struct tree t;

	ready_host(&t);
	run(&t, NULL, &r);
	expect(&r, "kvm-component", CHECK_PASS, "kernel component v1 is loaded");
	expect(&r, "kvm-component", CHECK_PASS, "stage 1");
	expect(&r, "kvm-component", CHECK_PASS, "v2 adds the direct timer");
	check_report_free(&r);

	/*
	 * Stage 2: whether this host can give the direct timer is the KVM
	 * device's to say, which a fake tree cannot fake: none, or a file.
	 */
	mk(t.root, "sys/module/kvm/parameters/slicevm_abi", "2\n");
	run(&t, NULL, &r);
	snprintf(want, sizeof(want),
		 "slicevm's kernel component v2 is loaded (stage 2; whether this host can give the direct timer is unknown: cannot open %s: No such file or directory)",
		 t.kvm);
	expect(&r, "kvm-component", CHECK_PASS, NULL);
	assert_string_equal(item(&r, "kvm-component")->detail, want);
	check_report_free(&r);
	mk(t.root, "dev/kvm", "");
	run(&t, NULL, &r);
	expect(&r, "kvm-component", CHECK_PASS,
	       "slicevm's kernel component v2 is loaded (stage 2; whether this host can give the direct timer is unknown: ");
	expect(&r, "kvm-component", CHECK_PASS, "/dev/kvm does not answer as KVM)");
	check_report_free(&r);
	rm(t.root, "dev/kvm");

	/* Stage 5 (v3): the direct PMU too, asked of the same device. */
	mk(t.root, "sys/module/kvm/parameters/slicevm_abi", "3\n");
	run(&t, NULL, &r);
	snprintf(want, sizeof(want),
		 "slicevm's kernel component v3 is loaded (stage 5; whether this host can give the direct timer and the direct PMU is unknown: cannot open %s: No such file or directory)",
		 t.kvm);
	expect(&r, "kvm-component", CHECK_PASS, NULL);
	assert_string_equal(item(&r, "kvm-component")->detail, want);
	check_report_free(&r);
	mk(t.root, "dev/kvm", "");
	run(&t, NULL, &r);
	snprintf(want, sizeof(want),
		 "slicevm's kernel component v3 is loaded (stage 5; whether this host can give the direct timer and the direct PMU is unknown: %s does not answer as KVM)",
		 t.kvm);
	assert_string_equal(item(&r, "kvm-component")->detail, want);
	check_report_free(&r);
	rm(t.root, "dev/kvm");

	/* A newer component: used as far as this slicevm knows it. */
	mk(t.root, "sys/module/kvm/parameters/slicevm_abi", "8\n");
	run(&t, NULL, &r);
	expect(&r, "kvm-component", CHECK_PASS,
	       "v8 is loaded (this slicevm knows up to v7 and uses that; whether this host can give the direct timer, PMU and interrupts is unknown");
	check_report_free(&r);

	/* Not a version. */
	mk(t.root, "sys/module/kvm/parameters/slicevm_abi", "banana\n");
	run(&t, NULL, &r);
	expect(&r, "kvm-component", CHECK_WARN, "reads 'banana'");
	check_report_free(&r);
	mk(t.root, "sys/module/kvm/parameters/slicevm_abi", "0\n");
	run(&t, NULL, &r);
	expect(&r, "kvm-component", CHECK_WARN, "not an ABI version");
	check_report_free(&r);

	/* Stock KVM: a WARN naming the build and the README, nothing FAILs for it. */
	rm(t.root, "sys/module/kvm/parameters/slicevm_abi");
	run(&t, NULL, &r);
	expect(&r, "kvm-component", CHECK_WARN, "not loaded, stock KVM");
	expect(&r, "kvm-component", CHECK_WARN, "make kernel");
	expect(&r, "kvm-component", CHECK_WARN, "kernel/README.md");
	assert_int_equal(check_count(&r, CHECK_FAIL), 1);	/* kvm: no device */
	check_report_free(&r);

	/* No KVM module at all. */
	rm(t.root, "sys/module/kvm/parameters");
	rm(t.root, "sys/module/kvm");
	run(&t, NULL, &r);
	expect(&r, "kvm-component", CHECK_WARN, "kvm.ko is not loaded");
	check_report_free(&r);
}

/* What the item says of the direct features once the KVM device answered. */
static void test_direct_note(void **state)
{
	char buf[512], small[16];

	/* v2: the timer only, whatever the PMU's answer */
	assert_string_equal(check_direct_note(2, 40, 6, 0, "kvm_amd", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer");
	assert_string_equal(check_direct_note(2, 0, 0, 0, "kvm_amd", buf, sizeof(buf)),
			    "this host cannot give the direct timer: its APIC is not in x2APIC mode, or kvm_amd has AVIC or APICv on");
	assert_string_equal(check_direct_note(2, 0, 0, 0, NULL, buf, sizeof(buf)),
			    "this host cannot give the direct timer: its APIC is not in x2APIC mode, or the vendor module has AVIC or APICv on");

	/* v3: the PMU after it, with why not by vendor module */
	assert_string_equal(check_direct_note(3, 40, 6, 0, "kvm_amd", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; the direct PMU is available, 6 counters: slicevm run --direct pmu");
	assert_string_equal(check_direct_note(3, 0, 6, 0, "kvm_amd", buf, sizeof(buf)),
			    "this host cannot give the direct timer: its APIC is not in x2APIC mode, or kvm_amd has AVIC or APICv on; the direct PMU is available, 6 counters: slicevm run --direct pmu");
	assert_string_equal(check_direct_note(3, 40, 0, 0, "kvm_amd", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; this host cannot give the direct PMU: its CPU lacks PerfCtrExtCore (the perfctr_core flag)");
	assert_string_equal(check_direct_note(3, 0, 0, 0, "kvm_intel", buf, sizeof(buf)),
			    "this host cannot give the direct timer: its APIC is not in x2APIC mode, or kvm_intel has AVIC or APICv on; this host cannot give the direct PMU: kvm_intel (VMX) has it from component v6 on: rebuild with 'make kernel'");
	assert_string_equal(check_direct_note(3, 40, 0, 0, NULL, buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; this host cannot give the direct PMU: its CPU lacks AMD's PerfCtrExtCore (perfctr_core) or an Intel architectural PMU the component can give");

	/* v4: interrupts after them, with why not */
	assert_string_equal(check_direct_note(4, 40, 0, 1, "kvm_amd", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; this host cannot give the direct PMU: its CPU lacks PerfCtrExtCore (the perfctr_core flag); direct interrupts are available: slicevm run --direct timer,irq");
	assert_string_equal(check_direct_note(4, 0, 0, 0, "kvm_amd", buf, sizeof(buf)),
			    "this host cannot give the direct timer: its APIC is not in x2APIC mode, or kvm_amd has AVIC or APICv on; this host cannot give the direct PMU: its CPU lacks PerfCtrExtCore (the perfctr_core flag); this host cannot give direct interrupts: they need the direct timer");
	assert_string_equal(check_direct_note(4, 40, 0, 0, "kvm_intel", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; this host cannot give the direct PMU: kvm_intel (VMX) has it from component v6 on: rebuild with 'make kernel'; this host cannot give direct interrupts: the vendor module does not offer them");

	/* v5: IPIs come with interrupts */
	assert_string_equal(check_direct_note(5, 40, 0, 1, "kvm_amd", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; this host cannot give the direct PMU: its CPU lacks PerfCtrExtCore (the perfctr_core flag); direct interrupts and IPIs are available: slicevm run --direct timer,irq,ipi");
	assert_string_equal(check_direct_note(5, 0, 0, 0, "kvm_amd", buf, sizeof(buf)),
			    "this host cannot give the direct timer: its APIC is not in x2APIC mode, or kvm_amd has AVIC or APICv on; this host cannot give the direct PMU: its CPU lacks PerfCtrExtCore (the perfctr_core flag); this host cannot give direct interrupts or IPIs: they need the direct timer");

	/* v6: the PMU on Intel too, with its fixed counters */
	assert_string_equal(check_direct_note(6, 40, 8 | 3 << 8, 1, "kvm_intel", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; the direct PMU is available, 8 general-purpose and 3 fixed counters: slicevm run --direct pmu; direct interrupts and IPIs are available: slicevm run --direct timer,irq,ipi");
	assert_string_equal(check_direct_note(6, 40, 0, 1, "kvm_intel", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; this host cannot give the direct PMU: kvm_intel was loaded with enable_pmu=0, or the CPU is hybrid, has no full-width counter writes or no VM-entry/exit control for IA32_PERF_GLOBAL_CTRL; direct interrupts and IPIs are available: slicevm run --direct timer,irq,ipi");
	/* v7: direct interrupts take the devices' too */
	assert_string_equal(check_direct_note(7, 40, 6, 1, "kvm_amd", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; the direct PMU is available, 6 counters: slicevm run --direct pmu; direct interrupts (timer and devices) and IPIs are available: slicevm run --direct timer,irq,ipi");
	assert_string_equal(check_direct_note(7, 0, 0, 0, "kvm_amd", buf, sizeof(buf)),
			    "this host cannot give the direct timer: its APIC is not in x2APIC mode, or kvm_amd has AVIC or APICv on; this host cannot give the direct PMU: its CPU lacks PerfCtrExtCore (the perfctr_core flag); this host cannot give direct interrupts or IPIs: they need the direct timer");
	assert_string_equal(check_direct_note(6, 40, 6, 1, "kvm_amd", buf, sizeof(buf)),
			    "the direct timer is available, APIC timer period 40 ns: slicevm run --direct timer; the direct PMU is available, 6 counters: slicevm run --direct pmu; direct interrupts and IPIs are available: slicevm run --direct timer,irq,ipi");

	/* cut, never overrun */
	assert_string_equal(check_direct_note(3, 40, 6, 0, "kvm_amd", small, sizeof(small)),
			    "the direct time");
	/* the longest note fits the item with the longest words around it */
	check_direct_note(7, 0, 0, 0, "kvm_intel", buf, sizeof(buf));
	assert_true(strlen("slicevm's kernel component v2147483647 is loaded (this slicevm knows up to v7 and uses that; )") +
		    strlen(buf) < sizeof(((struct check_item *)0)->detail));
	check_direct_note(7, 40, 0, 1, "kvm_intel", buf, sizeof(buf));
	assert_true(strlen("slicevm's kernel component v2147483647 is loaded (this slicevm knows up to v7 and uses that; )") +
		    strlen(buf) < sizeof(((struct check_item *)0)->detail));
}

static void test_missing_features(void **state)
{
	struct check_report r;
	struct plan p;
	struct tree t;

	ready_host(&t);
	mk(t.root, "proc/cpuinfo", "flags\t\t: fpu tsc constant_tsc svm hypervisor\n");
	mk(t.root, "proc/sys/kernel/osrelease", "5.15.0\n");
	mk(t.root, "sys/devices/system/clocksource/clocksource0/current_clocksource",
	   "kvm-clock\n");
	mk(t.root, "sys/fs/cgroup/cgroup.controllers", "cpu io memory\n");
	rm(t.root, "sys/kernel/iommu_groups/0");
	rm(t.root, "sys/kernel/iommu_groups/1");
	rm(t.root, "sys/module/kvm_intel/parameters/enable_apicv");
	mk(t.root, "sys/module/kvm_amd/parameters/avic", "0\n");
	run(&t, NULL, &r);
	expect(&r, "cpu-virt", CHECK_PASS, "svm");
	expect(&r, "cpu-tdp", CHECK_WARN, "EPT or NPT");
	expect(&r, "cpu-x2apic", CHECK_WARN, "firmware");
	expect(&r, "cpu-tsc-deadline", CHECK_WARN, NULL);
	expect(&r, "cpu-1g-pages", CHECK_WARN, "pdpe1gb");
	expect(&r, "apicv", CHECK_WARN, "no AVIC");
	expect(&r, "tsc", CHECK_WARN, "nonstop_tsc no");
	expect(&r, "clocksource", CHECK_WARN, "kvm-clock");
	expect(&r, "cgroup2", CHECK_FAIL, "cgroup_no_v1=cpuset");
	expect(&r, "cpuset-isolated", CHECK_WARN, "6.1");
	expect(&r, "iommu", CHECK_WARN, "amd_iommu=on");
	check_report_free(&r);

	/* A plan with a device needs the IOMMU; 1G hugetlb pages need pdpe1gb. */
	make_plan(&p);
	p.slices[1].ndevices = 1;
	snprintf(p.slices[1].devices[0], PCI_ADDR_MAX, "0000:03:00.0");
	p.slices[0].backing = BACKING_HUGETLB;
	mk(t.root, "sys/module/kvm_amd/parameters/avic", "1\n");
	mk(t.root, "proc/cpuinfo", "flags\t\t: fpu vmx\n");
	run(&t, &p, &r);
	expect(&r, "iommu", CHECK_FAIL, "intel_iommu=on");
	expect(&r, "cpu-1g-pages", CHECK_FAIL, "hugetlb slice");
	expect(&r, "apicv", CHECK_PASS, "AVIC");
	expect(&r, "hugepages", CHECK_FAIL, "hugepagesz=1G hugepages=0:1");
	check_report_free(&r);

	/* A host with neither vmx nor svm, and no cgroup v2 at all. */
	mk(t.root, "proc/cpuinfo", "flags\t\t: fpu hypervisor\n");
	rm(t.root, "sys/fs/cgroup/cgroup.controllers");
	run(&t, NULL, &r);
	expect(&r, "cpu-virt", CHECK_FAIL, "nested virtualization");
	expect(&r, "cgroup2", CHECK_FAIL, "mount -t cgroup2");
	check_report_free(&r);
}

static void test_boot_params(void **state)
{
	struct check_report r;
	struct plan p;
	struct tree t;

	ready_host(&t);
	make_plan(&p);
	mk(t.root, "proc/cmdline",
	   "root=/dev/sda1 isolcpus=domain,2-5 nohz_full=2-4 rcu_nocbs=2-5\n");
	mk(t.root, "sys/devices/system/cpu/nohz_full", "2-4\n");
	mk(t.root, "sys/devices/system/cpu/isolated", "2-5\n");
	run(&t, &p, &r);
	expect(&r, "boot-isolcpus", CHECK_WARN, "lacks the managed_irq flag");
	expect(&r, "boot-nohz_full", CHECK_WARN, "the plan wants nohz_full=2-5");
	expect(&r, "boot-nohz_full", CHECK_WARN, "--grub-dropin");
	expect(&r, "boot-rcu_nocbs", CHECK_PASS, NULL);
	expect(&r, "boot-irqaffinity", CHECK_WARN, "not on the kernel command line");
	expect(&r, "nohz_full", CHECK_WARN, "slice CPUs 5 have the periodic tick");
	expect(&r, "isolated", CHECK_WARN, "drop 'domain'");
	/* Nothing fails for boot parameters: apply's run-time isolation still works. */
	assert_int_equal(check_count(&r, CHECK_FAIL), 1);	/* kvm */
	check_report_free(&r);

	mk(t.root, "sys/devices/system/cpu/nohz_full", "(null)\n");
	run(&t, &p, &r);
	expect(&r, "nohz_full", CHECK_WARN, "none");
	check_report_free(&r);
}

static void test_hugepages(void **state)
{
	struct check_report r;
	struct plan p;
	struct tree t;

	ready_host(&t);
	make_plan(&p);
	/* Two 2M slices on node 0 need 1G/2M + 2G/2M = 1536 pages; it has 1024. */
	p.slices[0].backing = BACKING_HUGETLB;
	p.slices[0].memory = 2 * GiB + (2ULL << 20);	/* not a 1G multiple: 2M pages */
	p.slices[1].backing = BACKING_HUGETLB;
	p.slices[1].memory = GiB - (2ULL << 20);
	run(&t, &p, &r);
	expect(&r, "hugepages", CHECK_FAIL, "node 0 has 1024 2M hugepages, its hugetlb slices need 1536");
	expect(&r, "hugepages", CHECK_FAIL, "hugepagesz=2M hugepages=0:1536");
	check_report_free(&r);

	mk(t.root, "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
	   "2048\n");
	run(&t, &p, &r);
	expect(&r, "hugepages", CHECK_PASS, "(1000 free) for the 1536");
	check_report_free(&r);
}

static void test_reserved(void **state)
{
	struct check_report r;
	struct plan p;
	struct tree t;

	ready_host(&t);
	make_plan(&p);
	p.nslices = 4;
	for (int i = 0; i < 4; i++) {
		snprintf(p.slices[i].name, SLICE_NAME_MAX, "r%d", i);
		p.slices[i].backing = BACKING_RESERVED;
		p.slices[i].memory = GiB;
	}
	cpumask_parse_list("2", &p.slices[0].cpus);
	cpumask_parse_list("3", &p.slices[1].cpus);
	cpumask_parse_list("4", &p.slices[2].cpus);
	cpumask_parse_list("5", &p.slices[3].cpus);
	p.slices[0].phys_start = 0x40000000;		/* Reserved */
	p.slices[1].phys_start = 0x80000000;		/* Persistent Memory */
	p.slices[1].reserve_as = RESERVE_PMEM;
	p.slices[2].phys_start = 0x100000000ULL;	/* System RAM */
	p.slices[3].phys_start = 0;			/* not chosen */
	run(&t, &p, &r);
	expect(&r, "reserved-r0", CHECK_PASS, "'Reserved'");
	expect(&r, "reserved-r1", CHECK_PASS, "Persistent Memory");
	expect(&r, "reserved-r2", CHECK_FAIL, "still System RAM");
	expect(&r, "reserved-r2", CHECK_FAIL, "memmap=0x40000000$0x100000000");
	expect(&r, "reserved-r3", CHECK_FAIL, "no physical range");
	/* The boot parameters are still checked: bootargs sees the CPUs only. */
	expect(&r, "boot-nohz_full", CHECK_PASS, NULL);
	check_report_free(&r);

	/* The wrong kind: pmem wanted, "Reserved" there. */
	p.slices[1].phys_start = 0x40000000;
	p.nslices = 2;
	p.slices[0].phys_start = 0x80000000;
	run(&t, &p, &r);
	expect(&r, "reserved-r0", CHECK_FAIL, "not one 'Reserved' range");
	expect(&r, "reserved-r1", CHECK_FAIL, "memmap=0x40000000!0x40000000");
	check_report_free(&r);

	/* Not root: the kernel shows every address as 0. */
	mk(t.root, "proc/iomem", "00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n");
	run(&t, &p, &r);
	expect(&r, "reserved", CHECK_WARN, "root");
	check_report_free(&r);
}

static void test_report(void **state)
{
	struct check_report r = { 0 };
	json_object *o, *items;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	assert_int_equal(check_add(&r, "a", CHECK_PASS, NULL, "fine %d", 1), 0);
	assert_int_equal(check_add(&r, "b", CHECK_WARN, "do this", "meh"), 0);
	assert_int_equal(check_add(&r, "c", CHECK_FAIL, "do that", "broken"), 0);
	for (int i = 0; i < 40; i++)	/* grows past the first allocation */
		assert_int_equal(check_add(&r, "x", CHECK_PASS, NULL, "ok"), 0);
	assert_int_equal(check_count(&r, CHECK_FAIL), 1);
	assert_int_equal(check_count(&r, CHECK_PASS), 41);
	out = open_memstream(&text, &len);
	check_report_print(&r, out);
	fclose(out);
	assert_non_null(strstr(text, "PASS  a                    fine 1\n"));
	assert_non_null(strstr(text, "WARN  b                    meh: do this\n"));
	assert_non_null(strstr(text, "FAIL  c                    broken: do that\n"));
	assert_non_null(strstr(text, "41 passed, 1 warnings, 1 failed\n"));
	free(text);
	o = check_report_json(&r);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "fail")), 1);
	items = json_object_object_get(o, "items");
	assert_int_equal(json_object_array_length(items), 43);
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(items, 2), "result")), "fail");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(items, 1), "fix")), "do this");
	json_object_put(o);
	check_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_host),
		cmocka_unit_test(test_tsc_watchdog),
		cmocka_unit_test(test_kvm),
		cmocka_unit_test(test_kvm_component),
		cmocka_unit_test(test_direct_note),
		cmocka_unit_test(test_missing_features),
		cmocka_unit_test(test_boot_params),
		cmocka_unit_test(test_hugepages),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
