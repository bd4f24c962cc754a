# bench/timer-report.awk: the table of bench/timer.sh from the diag lines
# of tests/lab/cases/direct_timer.sh, which logs, for each of its runs
# (RUN: direct, component, direct-load, irq, irq-storm, stock):
#   # exits while idle (RUN): N exits, S s, 0 ticks (R/s, 0.000 per tick): intr=A hlt=B ...
#     (a quiet window inside the guest's idle sleep)
#   # exits in the 1 kHz loop (RUN): N exits, S s, T ticks (R/s, X per tick): intr=A msr=C ...
#     (a window in the middle of the guest's timer loop, T of its ticks)
#   # vcpu0 slicevm_timer (RUN): enabled 1 cpu 1 direct D stock S ...
# and for RUN fio-timer and fio-irq (a guest's fio on a virtio disk), and
# direct_irq_vfio's nvme-timer and nvme-irq (on a passed-through NVMe):
#   # exits during fio (RUN): N exits, S s, 0 ticks (R/s, 0.000 per tick): npf=A ...
# and direct_irq_smp's, for RUN component, timer, timer,irq and timer,irq,ipi:
#   # exits per IPI (RUN): N exits for M IPIs (X per IPI): vcpu0.msr=A ...
# and for RUN timer,irq, timer,irq,ipi and timer,irq,ipi,pv (3 vCPUs):
#   # exits per IPI to two vCPUs (RUN): the same, with vcpu2.* too
# the run's name: the word in parentheses after the line's title
function run_of(line, title,    p, q) {
	split(line, p, title " \\(")
	split(p[2], q, "\\)")
	return q[1]
}
# count of reason r per guest tick in run k
function per_tick(k, r) { return loop_ticks[k] > 0 ? count[k, r] / loop_ticks[k] : 0 }
function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
# what follows the line's "(RUN): "
function body(line) { return substr(line, index(line, "): ") + 3) }
# (anchored: the line of what reached the idle vCPU has the words too)
/^# exits while idle \(/ {
	k = run_of($0, "exits while idle")
	n = split(body($0), f, " ")
	idle_secs[k] = f[3]; idle_rate[k] = f[3] > 0 ? f[1] / f[3] : 0
	for (i = 11; i <= n; i++) {
		split(f[i], kv, "=")
		idle_reason[kv[1]] = 1; idle_count[k, kv[1]] = kv[2]
	}
}
/exits in the 1 kHz loop \(/ {
	k = run_of($0, "exits in the 1 kHz loop")
	n = split(body($0), f, " ")
	loop_rate[k] = f[3] > 0 ? f[1] / f[3] : 0; loop_ticks[k] = f[5]
	loop_tick[k] = f[5] > 0 ? f[1] / f[5] : 0
	for (i = 11; i <= n; i++) {
		split(f[i], kv, "=")
		reason[kv[1]] = 1; count[k, kv[1]] = kv[2]
	}
	seen[k] = 1
}
# "# exits per IPI (RUN): N exits for M IPIs (X per IPI): vcpu0.msr=A vcpu1.intr=B ..."
# and "# exits per IPI to two vCPUs (RUN): ..." the same for a 3-vCPU
# guest's IPIs from vCPU 0 to both others (RUN timer,irq, timer,irq,ipi with
# the all-but-self shorthand, timer,irq,ipi,pv with the PV IPI hypercall),
# kept as run "3:RUN"
/^# exits per IPI (to two vCPUs )?\(/ {
	wide = index($0, "exits per IPI to two vCPUs (") > 0
	k = wide ? "3:" run_of($0, "exits per IPI to two vCPUs") : run_of($0, "exits per IPI")
	if (wide)
		wide_seen[k] = 1
	else
		ipi_seen[k] = 1
	n = split(body($0), f, " ")
	ipi_n[k] = f[4]; ipi_all[k] = f[1]
	for (i = 9; i <= n; i++) {
		split(f[i], kv, "=")
		split(kv[1], wr, ".")
		ipi_side[k, wr[1]] += kv[2]
		ipi_count[k, wr[2]] += kv[2]
		if (!wide)
			ipi_reason[wr[2]] = 1
	}
}
function wide_row(title, v) {
	printf "| %s | %.2f | %.2f | %.2f | %s | %s | lower |\n", title,
		v["3:timer,irq,ipi"], v["3:timer,irq,ipi,pv"], v["3:timer,irq"],
		ratio(v["3:timer,irq,ipi"], v["3:timer,irq"]), ratio(v["3:timer,irq,ipi,pv"], v["3:timer,irq"])
}
function ipi_row(title, v) {
	printf "| %s | %.2f | %.2f | %.2f | %.2f | %s | %s | lower |\n", title,
		v["timer,irq,ipi"], v["timer,irq"], v["timer"], v["component"],
		ratio(v["timer,irq,ipi"], v["component"]), ratio(v["timer,irq"], v["component"])
}
# "# exits during fio (RUN): N exits, S s, 0 ticks (R/s, ...): npf=A ..." for
# RUN fio-timer and fio-irq (nvme-timer, nvme-irq): the vCPU's exits while
# its guest's fio wrote and verified 64M of a virtio disk (of the NVMe)
# (stage 3's device interrupts, ABI 7)
/^# exits during fio \(/ {
	k = run_of($0, "exits during fio")
	n = split(body($0), f, " ")
	fio_seen[k] = 1; fio_all[k] = f[1]; fio_secs[k] = f[3]
	for (i = 11; i <= n; i++) {
		split(f[i], kv, "=")
		fio_reason[kv[1]] = 1; fio_count[k, kv[1]] = kv[2]
	}
}
function fio_row(title, v, fmt, irq, timer) {
	printf "| %s | " fmt " | " fmt " | %s | lower |\n", title, v[irq], v[timer],
		ratio(v[irq], v[timer])
}
# fio_table WHAT PREFIX: the table of runs PREFIX-irq against PREFIX-timer
function fio_table(what, pre,    irq, timer, a, k, r) {
	irq = pre "-irq"; timer = pre "-timer"
	if (!(irq in fio_seen) || !(timer in fio_seen))
		return
	print ""
	print "The guest's device interrupts (stage 3, ABI 7): fio writes and verifies 64M of " what " with run_fio's two jobs; the vCPU's exits from its start to its verdict:"
	print ""
	print "| metric | direct timer + irq | direct timer | irq / timer | better |"
	print "|---|---|---|---|---|"
	for (k in fio_seen) { a[k] = fio_all[k] }
	fio_row("exits during fio", a, "%d", irq, timer)
	for (r in fio_reason) {
		for (k in fio_seen) { a[k] = fio_count[k, r] + 0 }
		fio_row(r " exits", a, "%d", irq, timer)
	}
	for (k in fio_seen) { a[k] = fio_secs[k] }
	fio_row("seconds (TCG: not a speed)", a, "%.1f", irq, timer)
	print ""
	printf "- direct timer + irq, fio: %s\n", dbg[irq]
}
/vcpu0 slicevm_timer \(/ {
	k = run_of($0, "vcpu0 slicevm_timer")
	dbg[k] = body($0)
}
function row(title, v, fmt) {
	printf "| %s | " fmt " | " fmt " | " fmt " | " fmt " | %s | %s | lower |\n", title,
		v["irq"], v["direct"], v["component"], v["stock"],
		ratio(v["irq"], v["stock"]), ratio(v["direct"], v["stock"])
}
END {
	split("direct component direct-load irq irq-storm stock", want, " ")
	for (i = 1; i <= 6; i++)
		if (!seen[want[i]]) { print "incomplete: no run '" want[i] "' logged"; exit 1 }
	print "| metric | direct timer + irq | direct timer | component, no --direct | stock KVM | irq / stock | timer / stock | better |"
	print "|---|---|---|---|---|---|---|---|"
	for (k in seen) { a[k] = idle_rate[k] }
	row("exits per second, idle vCPU", a, "%.1f")
	for (r in idle_reason) {
		for (k in seen) { a[k] = idle_rate[k] > 0 ? idle_count[k, r] / idle_secs[k] : 0 }
		row(r " exits per second, idle", a, "%.1f")
	}
	for (k in seen) { a[k] = loop_rate[k] }
	row("exits per second, 1 kHz timer loop", a, "%.1f")
	for (k in seen) { a[k] = loop_tick[k] }
	row("exits per guest timer tick", a, "%.3f")
	for (r in reason) {
		for (k in seen) { a[k] = per_tick(k, r) }
		row(r " exits per tick", a, "%.3f")
	}
	print ""
	print "The direct runs' counters (vcpu0's slicevm_timer):"
	print ""
	printf "- direct timer, alone on CPU 1: %s\n", dbg["direct"]
	printf "- direct timer, a host task sleeping 10 ms x 300 on CPU 1: %s\n", dbg["direct-load"]
	printf "- direct timer + irq, alone: %s\n", dbg["irq"]
	printf "- direct timer + irq, that host task and a storm of host IPIs to CPU 1: %s\n", dbg["irq-storm"]
	fio_table("a virtio disk", "fio")
	fio_table("a passed-through NVMe (its MSI-X through VFIO and KVM's irqfd)", "nvme")
	if (length(ipi_seen) == 4) {
		print ""
		print "IPIs between two vCPUs (stage 4): 3000 round trips from vCPU 0 to vCPU 1, each waited for; both vCPUs' exits per IPI vCPU 1 took:"
		print ""
		print "| metric | direct timer + irq + ipi | direct timer + irq | direct timer | component, no --direct | ipi / none | irq / none | better |"
		print "|---|---|---|---|---|---|---|---|"
		for (k in ipi_seen) { a[k] = ipi_n[k] > 0 ? ipi_all[k] / ipi_n[k] : 0 }
		ipi_row("exits per IPI", a)
		for (k in ipi_seen) { a[k] = ipi_n[k] > 0 ? ipi_side[k, "vcpu0"] / ipi_n[k] : 0 }
		ipi_row("sender's (vCPU 0) exits per IPI", a)
		for (k in ipi_seen) { a[k] = ipi_n[k] > 0 ? ipi_side[k, "vcpu1"] / ipi_n[k] : 0 }
		ipi_row("receiver's (vCPU 1) exits per IPI", a)
		for (r in ipi_reason) {
			for (k in ipi_seen) { a[k] = ipi_n[k] > 0 ? ipi_count[k, r] / ipi_n[k] : 0 }
			ipi_row(r " exits per IPI", a)
		}
	}
	if (length(wide_seen) == 3) {
		print ""
		print "IPIs to two vCPUs at once (stage 4, a 3-vCPU guest): 3000 round trips from vCPU 0 to vCPUs 1 and 2, each waited for; the three vCPUs' exits per IPI (the fewer a receiver took):"
		print ""
		print "| metric | ipi, all-but-self shorthand | ipi, PV IPI hypercall | direct timer + irq | shorthand / irq | hypercall / irq | better |"
		print "|---|---|---|---|---|---|---|"
		for (k in wide_seen) { a[k] = ipi_n[k] > 0 ? ipi_all[k] / ipi_n[k] : 0 }
		wide_row("exits per IPI", a)
		for (v = 0; v < 3; v++) {
			for (k in wide_seen) { a[k] = ipi_n[k] > 0 ? ipi_side[k, "vcpu" v] / ipi_n[k] : 0 }
			wide_row(v ? "receiver's (vCPU " v ") exits per IPI" : "sender's (vCPU 0) exits per IPI", a)
		}
	}
	printf "\nUnder load: the direct timer cost %.2f exits per tick (%.1f/s) beside the host task; with irq and the IPI storm, %.2f (%.1f/s).\n",
		loop_tick["direct-load"], loop_rate["direct-load"], loop_tick["irq-storm"], loop_rate["irq-storm"]
}
