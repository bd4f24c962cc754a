# bench/report.awk: turn the "@bench ..." lines of a lab console log into
# the benchmark's table. Used by bench/boot.sh; also by hand on a kept log:
#   awk -f bench/report.awk build/bench/bench.log
# Plain POSIX awk (Debian's default is mawk): no asort, no gensub.

# Value of KEY=... in the current line (up to the next blank).
function kv(key,    i, s) {
	for (i = 1; i <= NF; i++)
		if (index($i, key "=") == 1)
			return substr($i, length(key) + 2)
	return ""
}

# Value of KEY=... inside string S.
function skv(s, key,    n, a, i) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++)
		if (index(a[i], key "=") == 1)
			return substr(a[i], length(key) + 2)
	return ""
}

# Median, min and max of the space-separated numbers in S.
function stats(s,    a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	N = n
	if (n == 0) {
		MED = MIN = MAX = ""
		return
	}
	MIN = a[1] + 0; MAX = a[n] + 0
	MED = n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}

function mib(kb) { return kb == "" ? "-" : sprintf("%.1f", kb / 1024) }
function num(v, fmt) { return v == "" ? "-" : sprintf(fmt, v) }
function ratio(a, b) { return a == "" || b == "" || b == 0 ? "-" : sprintf("%.2f", a / b) }
function met(ok) { return ok ? "MET" : "NOT MET" }

# Median over rounds of A's boot time / B's in the same round: load on the
# machine drifts between rounds, and a paired ratio cancels most of it.
function paired(a, b,    r, s) {
	s = ""
	for (r = 1; r <= maxrep; r++)
		if ((a, r) in rv && (b, r) in rv && rv[b, r] > 0)
			s = s " " rv[a, r] / rv[b, r]
	stats(s)
	return MED == "" ? "-" : sprintf("%.2f", MED)
}

# The line with its first two words ("@bench KIND") cut off.
function rest(    s) {
	s = $0
	sub(/^@bench [a-z]+ /, "", s)
	return s
}

/Kernel panic|Oops: / { if (l1crash == "") l1crash = $0; next }
/^@bench start / { print "lab: " rest(); next }
/^@bench (fail|abort|note) / { print "lab: " $0; problems++; next }
/^@bench boot / {
	c = kv("cfg")
	if (kv("rep") + 0 == 0)
		next	# warm-up round
	ready[c] = ready[c] " " kv("ready_ms")
	rv[c, kv("rep") + 0] = kv("ready_ms") + 0
	if (kv("rep") + 0 > maxrep)
		maxrep = kv("rep") + 0
	s = $0
	sub(/.*exit_ms_status="/, "", s)
	split(s, e, /[ "]/)
	exitms[c] = exitms[c] " " e[1]
	if (e[2] != 0)
		print "lab: " c " exited with status " e[2] " (rep " kv("rep") ")"
	if (kv("kernel_s") != "")
		ksec[c] = ksec[c] " " kv("kernel_s")
	next
}
/^@bench mem / {
	c = kv("cfg")
	# +0: numbers, or "14536" <= 2048 would compare as strings.
	rss[c] = kv("rss_kb") + 0; guest[c] = kv("guest_kb") + 0; gmaps[c] = kv("guest_maps") + 0
	over[c] = kv("overhead_kb") + 0; oanon[c] = kv("overhead_anon_kb") + 0
	pss[c] = kv("pss_kb") + 0; threads[c] = kv("threads")
	next
}
/^@bench map / {
	c = kv("cfg")
	nmap[c]++
	mapkb[c, nmap[c]] = kv("kb")
	s = $0
	sub(/.* name=/, "", s)
	mapname[c, nmap[c]] = s
	next
}
/^@bench idle / {
	c = kv("cfg")
	secs = kv("secs")
	s = $0
	sub(/.*before:/, "", s)
	split(s, ba, "after:")
	ex_s[c] = (skv(ba[2], "exits") - skv(ba[1], "exits")) / secs
	halt_s[c] = (skv(ba[2], "halt_exits") - skv(ba[1], "halt_exits")) / secs
	irq_s[c] = (skv(ba[2], "irq_exits") - skv(ba[1], "irq_exits")) / secs
	io_s[c] = (skv(ba[2], "io_exits") - skv(ba[1], "io_exits")) / secs
	mmio_s[c] = (skv(ba[2], "mmio_exits") - skv(ba[1], "mmio_exits")) / secs
	other_s[c] = ex_s[c] - halt_s[c] - irq_s[c] - io_s[c] - mmio_s[c]
	next
}
/^@bench warn / {
	c = kv("cfg")
	s = rest()
	sub(/^cfg=[^ ]* /, "", s)
	sub(/^\[ *[0-9.]*\] /, "", s)
	nw[c]++
	warn[c, nw[c]] = s
	if (c ~ /^qemu/)
		qwarn[s] = 1
	next
}
/^@bench gap / { gaps = gaps "  " rest() "\n"; next }
/^@bench info / { infos = infos "  " rest() "\n"; next }
/^@bench done/ { done = 1; next }

END {
	split("sv-bz sv-elf sv-pvh qemu-bz qemu-pvh", cfgs, " ")
	label["sv-bz"] = "slicevm  bzImage"
	label["sv-elf"] = "slicevm  vmlinux (64-bit entry)"
	label["sv-pvh"] = "slicevm  vmlinux --pvh"
	label["qemu-bz"] = "qemu     microvm bzImage"
	label["qemu-pvh"] = "qemu     microvm vmlinux (PVH)"
	vname[1] = "full kernel log on the console"; vsuf[1] = ""
	vname[2] = "same with \"quiet\""; vsuf[2] = "-q"

	print ""
	printf "%-31s %5s %7s %7s %7s %8s %8s %9s %9s %8s\n", "", "", "boot ms", "", "", "exit ms", "kernel s", \
		"overhead", "total", "idle"
	printf "%-31s %5s %7s %7s %7s %8s %8s %9s %9s %8s\n", "configuration", "runs", "median", "min", "max", \
		"median", "to init", "RSS MiB", "RSS MiB", "exits/s"
	nv = 1
	for (c in ready)
		if (c ~ /-q$/)
			nv = 2
	for (v = 1; v <= nv; v++) {
		print vname[v] ":"
		for (i = 1; i <= 5; i++) {
			b = cfgs[i]
			c = b vsuf[v]
			stats(ready[c]); med[c] = MED; lo[c] = MIN; hi[c] = MAX; runs = N
			stats(exitms[c]); emed = MED
			stats(ksec[c]); kmed = MED
			printf "%-31s %5d %7s %7s %7s %8s %8s %9s %9s %8s\n", label[b], runs, \
				num(med[c], "%.0f"), num(lo[c], "%.0f"), num(hi[c], "%.0f"), \
				num(emed, "%.0f"), v == 1 ? num(kmed, "%.2f") : "", \
				v == 1 ? mib(over[b]) : "", v == 1 ? mib(rss[b]) : "", \
				v == 1 ? num(ex_s[b], "%.1f") : ""
		}
	}
	print "(boot ms: bootwatch's fork to the marker line; exit ms: to the VMM's exit after"
	print " the guest's poweroff; kernel s: the guest's own printk time of its last line"
	print " before the marker; memory and exits: guest idle at its prompt, full log boot)"

	low_sv = low_q = ""
	for (i = 1; i <= 5; i++) {
		c = cfgs[i]
		if (over[c] != "" && c ~ /^sv/ && (low_sv == "" || over[c] + 0 < over[low_sv] + 0))
			low_sv = c
		if (over[c] != "" && c ~ /^qemu/ && (low_q == "" || over[c] + 0 < over[low_q] + 0))
			low_q = c
	}
	for (v = 1; v <= nv; v++) {
		x = vsuf[v]
		best_sv = best_q = ""
		for (i = 1; i <= 5; i++) {
			c = cfgs[i] x
			if (med[c] == "")
				continue
			if (c ~ /^sv/ && (best_sv == "" || med[c] < med[best_sv]))
				best_sv = c
			if (c ~ /^qemu/ && (best_q == "" || med[c] < med[best_q]))
				best_q = c
		}
		bsv[v] = best_sv; bq[v] = best_q
		print ""
		print "slicevm / QEMU, " vname[v] " (below 1.00: slicevm faster / smaller;"
		print "boot: ratio of medians, and median of per-round ratios):"
		printf "  %-42s boot %5s %5s   overhead RSS %5s\n", "bzImage vs bzImage", \
			ratio(med["sv-bz" x], med["qemu-bz" x]), paired("sv-bz" x, "qemu-bz" x), \
			ratio(over["sv-bz"], over["qemu-bz"])
		printf "  %-42s boot %5s %5s   overhead RSS %5s\n", "vmlinux PVH vs vmlinux PVH", \
			ratio(med["sv-pvh" x], med["qemu-pvh" x]), paired("sv-pvh" x, "qemu-pvh" x), \
			ratio(over["sv-pvh"], over["qemu-pvh"])
		printf "  %-42s boot %5s %5s   overhead RSS %5s\n", "vmlinux 64-bit entry vs QEMU vmlinux PVH", \
			ratio(med["sv-elf" x], med["qemu-pvh" x]), paired("sv-elf" x, "qemu-pvh" x), \
			ratio(over["sv-elf"], over["qemu-pvh"])
		printf "  %-42s boot %5s %5s   overhead RSS %5s\n", "best slicevm vs best QEMU", \
			ratio(med[best_sv], med[best_q]), paired(best_sv, best_q), ratio(over[low_sv], over[low_q])
		printf "  slicevm entries, per-round ratio to bzImage: vmlinux 64-bit %s, vmlinux PVH %s\n", \
			paired("sv-elf" x, "sv-bz" x), paired("sv-pvh" x, "sv-bz" x)
	}

	print ""
	print "targets (from the issue):"
	for (v = 1; v <= nv; v++) {
		x = vsuf[v]; best_sv = bsv[v]; best_q = bq[v]
		if (best_sv == "" || best_q == "") {
			print "  boot time <= QEMU microvm (" vname[v] "): not measured"
			continue
		}
		printf "  boot time <= QEMU microvm (%s): %s\n    best slicevm %s %.0f ms vs best QEMU %s %.0f ms", \
			vname[v], met(med[best_sv] <= med[best_q]), best_sv, med[best_sv], best_q, med[best_q]
		if (lo[best_sv] <= hi[best_q] && lo[best_q] <= hi[best_sv])
			printf " (min-max ranges overlap)"
		printf "\n"
		for (i = 1; i <= 3; i++) {
			c = cfgs[i] x
			q = (c ~ /^sv-bz/ ? "qemu-bz" : "qemu-pvh") x
			if (med[c] != "" && med[q] != "")
				printf "    %-9s %6.0f ms vs %-10s %6.0f ms: %s\n", c, med[c], q, med[q], \
					met(med[c] <= med[q])
		}
	}
	for (i = 1; i <= 3; i++) {
		c = cfgs[i]
		if (over[c] == "")
			printf "  overhead RSS <= 2 MiB (%s): not measured\n", c
		else
			printf "  overhead RSS <= 2 MiB (%s): %s (%.2f MiB; QEMU %s MiB)\n", c, \
				met(over[c] <= 2048), over[c] / 1024, mib(over[low_q])
	}
	print ""
	for (v = 1; v <= nv; v++) {
		if (bsv[v] == "")
			continue
		printf "fastest slicevm entry, %s: %s (median %.0f ms)\n", vname[v], \
			label[substr(bsv[v], 1, v == 1 ? length(bsv[v]) : length(bsv[v]) - 2)], med[bsv[v]]
		for (i = 1; i <= 3; i++) {
			c = cfgs[i] vsuf[v]
			if (c != bsv[v] && med[c] != "" && lo[c] <= hi[bsv[v]])
				printf "  (its min-max range overlaps %s's: %.0f-%.0f vs %.0f-%.0f ms)\n", c, \
					lo[bsv[v]], hi[bsv[v]], lo[c], hi[c]
		}
	}

	print ""
	print "memory detail (KiB): total RSS = guest RAM mapping(s) + overhead; overhead = anonymous + file-backed"
	printf "  %-9s %8s %9s %5s %9s %7s %7s %8s %7s\n", "config", "rss", "guest ram", "maps", "overhead", \
		"anon", "file", "pss", "threads"
	for (i = 1; i <= 5; i++) {
		c = cfgs[i]
		if (rss[c] == "")
			continue
		printf "  %-9s %8d %9d %5d %9d %7d %7d %8d %7s\n", c, rss[c], guest[c], gmaps[c], over[c], \
			oanon[c], over[c] - oanon[c], pss[c], threads[c]
		if (gmaps[c] != 1)
			printf "    (expected one guest RAM mapping, found %d)\n", gmaps[c]
	}
	print "  largest overhead mappings (KiB, by name; [anon] = unnamed anonymous):"
	for (i = 1; i <= 5; i++) {
		c = cfgs[i]
		line = ""
		for (k = 0; k < 6; k++) {
			bj = 0
			for (j = 1; j <= nmap[c]; j++)
				if (!used[c, j] && (bj == 0 || mapkb[c, j] + 0 > mapkb[c, bj] + 0))
					bj = j
			if (bj == 0)
				break
			used[c, bj] = 1
			n = mapname[c, bj]
			sub(/.*\//, "", n)
			line = line sprintf(" %s %d,", n, mapkb[c, bj])
		}
		if (line != "")
			printf "    %-9s%s\n", c, substr(line, 1, length(line) - 1)
	}

	print ""
	print "idle 1-vCPU guest at its shell prompt, VM exits per second:"
	printf "  %-9s %8s %8s %8s %8s %8s %8s\n", "config", "all", "halt", "irq", "io", "mmio", "other"
	for (i = 1; i <= 5; i++) {
		c = cfgs[i]
		if (ex_s[c] != "")
			printf "  %-9s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n", c, ex_s[c], halt_s[c], irq_s[c], \
				io_s[c], mmio_s[c], other_s[c]
	}

	print ""
	print "guest kernel log lines (warn/error/fail...) seen under slicevm but in no QEMU boot:"
	shown = 0
	for (i = 1; i <= 3; i++) {
		c = cfgs[i]
		for (j = 1; j <= nw[c]; j++)
			if (!(warn[c, j] in qwarn) && !((warn[c, j]) in seen)) {
				seen[warn[c, j]] = 1
				printf "  %-7s %s\n", c, warn[c, j]
				shown++
			}
	}
	if (!shown)
		print "  none"
	print ""
	print "longest silences in the guest kernel log before the marker (last timed run):"
	printf "%s", gaps
	if (infos != "") {
		print ""
		print "guest view of the platform (last timed run):"
		printf "%s", infos
	}
	if (l1crash != "")
		print "\nlab: L1's kernel crashed: " l1crash
	if (!done)
		print "\nlab: the L1 run did not reach its end (see the log)"
}
