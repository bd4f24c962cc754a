/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_HOST_CHECK_H
#define SLICEVM_HOST_CHECK_H

#include <stdio.h>

#include <json-c/json.h>

#include "host/hostfs.h"
#include "host/plan.h"

/*
 * `slicevm host check`: is this host ready for slices? One item per thing
 * checked, each PASS, WARN or FAIL with what was found and the fix. Reads
 * only (the KVM device is opened and asked its API version and, with the
 * kernel component v2 or newer, KVM_CAP_SLICEVM_TIMER, from v3
 * KVM_CAP_SLICEVM_PMU); every path but the KVM device's goes through
 * struct host_paths.
 *
 * Always: KVM (kvm_pvm hosts FAIL: they cannot run a stock guest),
 * slicevm's kernel component (kvm.ko's slicevm_abi parameter, and whether
 * this host can give the direct timer and PMU; WARN without it), CPU
 * virtualization features (/proc/cpuinfo flags;
 * APICv/AVIC from the KVM module parameters), TSC and clock source, cgroup v2 with cpuset and
 * isolated partitions (Linux 6.1+), IOMMU groups. With a plan: the boot
 * parameters bootargs.h prints for its CPUs against /proc/cmdline, the
 * kernel's nohz_full and isolated CPU lists, hugepages per node for
 * hugetlb slices, reserved ranges in /proc/iomem for reserved slices,
 * IOMMU groups (FAIL only when a slice has devices) and, when a slice has
 * devices, vfio-pci loaded (how many of them are on it, not judged).
 */

enum check_level { CHECK_PASS, CHECK_WARN, CHECK_FAIL };

struct check_item {
	char name[48];		/* "kvm", "cpu-virt", "boot-nohz_full", "reserved-db" */
	enum check_level level;
	char detail[512];	/* what was found */
	char fix[320];		/* what to do; empty on PASS */
};

struct check_report {
	int n, cap;
	struct check_item *items;
};

struct host_check_opts {
	const char *kvm_dev;		/* the KVM device: /dev/kvm */
	const struct plan *plan;	/* NULL: the plan items are left out */
	const char *plan_source;	/* where @plan came from, for the "plan" item */
};

/* Runs every check into @r (empty it with check_report_free). -1 only when out of memory. */
int host_check(const struct host_paths *hp, const struct host_check_opts *o,
	       struct check_report *r);

/* Adds an item; @fix may be NULL. -1 when out of memory. */
int check_add(struct check_report *r, const char *name, enum check_level level,
	      const char *fix, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The number of items at @level. */
int check_count(const struct check_report *r, enum check_level level);

/* "PASS", "WARN", "FAIL". */
const char *check_level_name(enum check_level level);

/*
 * The kvm-component item's words on the direct features of a kernel
 * component used as version @version (2 or newer), from what the KVM
 * device answered: @timer_ns for KVM_CAP_SLICEVM_TIMER, from v3 @pmu for
 * KVM_CAP_SLICEVM_PMU, from v4 @irq for KVM_CAP_SLICEVM_IRQ (0: this host
 * cannot give it); @vendor is the loaded vendor module ("kvm_amd",
 * "kvm_intel"; NULL: none). Into @buf.
 */
const char *check_direct_note(int version, int timer_ns, int pmu, int irq, const char *vendor,
			      char *buf, size_t len);

/*
 * The counters a KVM_CAP_SLICEVM_PMU answer @answer gives the guest, in
 * words: "6 counters" (AMD), "8 general-purpose and 3 fixed counters"
 * (Intel). Into @buf.
 */
const char *check_pmu_counters(int answer, char *buf, size_t len);

/* One line per item: "LEVEL  name  detail: fix"; then a summary line. */
void check_report_print(const struct check_report *r, FILE *out);

/*
 * { "items": [ { "name", "result": "pass"|"warn"|"fail", "detail", "fix" } ],
 *   "pass": N, "warn": N, "fail": N }
 */
json_object *check_report_json(const struct check_report *r);

void check_report_free(struct check_report *r);

#endif
