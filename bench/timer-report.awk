# bench/timer-report.awk: the table of bench/timer.sh from the diag lines
# of tests/lab/cases/direct_timer.sh, which logs, for each of its four runs
# in order (direct, component without --direct, direct with host load,
# stock KVM):
#   # exits while idle: N exits (R/s, 0.00 per tick): intr=A hlt=B ...
#   # exits in the 1 kHz loop: N exits (R/s, T per tick): intr=A msr=C ...
#   # vcpu0 slicevm_timer: enabled 1 cpu 1 direct D stock S host_busy H fired F
function num(s) { gsub(/[^0-9.]/, "", s); return s + 0 }
# count of reason r per guest tick in run k (ticks = exits / exits per tick)
function per_tick(k, r) { return loop_tick[k] > 0 ? count[k, r] * loop_tick[k] / loop_all[k] : 0 }
function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
/exits while idle: / {
	idle_run++
	split($0, p, "exits while idle: ")
	split(p[2], f, " ")
	idle_rate[idle_run] = num(f[3])
}
/exits in the 1 kHz loop: / {
	loop_run++
	split($0, p, "exits in the 1 kHz loop: ")
	n = split(p[2], f, " ")
	loop_rate[loop_run] = num(f[3]); loop_tick[loop_run] = num(f[4])
	for (i = 7; i <= n; i++) {
		split(f[i], kv, "=")
		reason[kv[1]] = 1; count[loop_run, kv[1]] = kv[2]
	}
	loop_all[loop_run] = num(f[1])
}
/vcpu0 slicevm_timer: enabled/ {
	split($0, p, "slicevm_timer: ")
	dbg[++dbg_run] = p[2]
}
END {
	if (loop_run < 4) { print "incomplete: " loop_run " of 4 runs logged"; exit 1 }
	print "| metric | direct timer | component, no --direct | stock KVM | direct / stock | better |"
	print "|---|---|---|---|---|---|"
	printf "| exits per second, idle vCPU | %.1f | %.1f | %.1f | %s | lower |\n",
		idle_rate[1], idle_rate[2], idle_rate[4], ratio(idle_rate[1], idle_rate[4])
	printf "| exits per second, 1 kHz timer loop | %.1f | %.1f | %.1f | %s | lower |\n",
		loop_rate[1], loop_rate[2], loop_rate[4], ratio(loop_rate[1], loop_rate[4])
	printf "| exits per guest timer tick | %.2f | %.2f | %.2f | %s | lower |\n",
		loop_tick[1], loop_tick[2], loop_tick[4], ratio(loop_tick[1], loop_tick[4])
	for (r in reason) {
		a = per_tick(1, r); b = per_tick(2, r); c = per_tick(4, r)
		printf "| %s exits per tick | %.2f | %.2f | %.2f | %s | lower |\n", r, a, b, c, ratio(a, c)
	}
	print ""
	print "The direct-timer runs' counters (vcpu0's slicevm_timer):"
	print ""
	printf "- alone on CPU 1: %s\n", dbg[1]
	printf "- with a host task sleeping 10 ms x 300 on CPU 1: %s\n", dbg[3]
	printf "\nWith that host task the loop cost %.2f exits per tick (%.1f/s).\n",
		loop_tick[3], loop_rate[3]
}
