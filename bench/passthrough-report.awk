# bench/passthrough-report.awk: the table of bench/passthrough.sh from the
# "@bench pt" lines of its console log
# (awk -f bench/passthrough-report.awk build/bench-passthrough.log).
# Main table: per row the median over rounds (min-max) of each
# configuration, the ratio slicevm passthrough / QEMU vfio-pci of the
# medians, the median over rounds of that ratio in the same round (paired),
# and slicevm passthrough / slicevm virtio-blk (paired). The tables by kind
# pool the rounds: the sum of a count over all rounds over the sum of their
# I/Os. Round 0 is the warm-up and is left out.

function sorted_median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

# ios CFG JOB REP: the job's I/Os (fio's KiB over its block size; idle and
# console say: seconds, bytes).
function ios(cfg, job, rep,    b) {
	if ((cfg, job, rep, "ios") in v)
		return v[cfg, job, rep, "ios"] + 0
	b = v[cfg, job, rep, "bs_kb"] + 0
	return (v[cfg, job, rep, "read_kb"] + v[cfg, job, rep, "write_kb"]) / (b > 0 ? b : 1)
}

# metric CFG JOB REP KEY: the value of a row's KEY in one round ("" if none).
# KEY_per_io divides a counter by the I/Os; user_exits is io_exits +
# mmio_exits (KVM's counts of exits to the VMM for port and MMIO accesses).
function metric(cfg, job, rep, key,    n, k) {
	if (!((cfg, job, rep, "job") in v) || v[cfg, job, rep, "rc"] != 0)
		return ""
	if (key ~ /_per_io$/) {
		n = ios(cfg, job, rep)
		if (n <= 0)
			return ""
		k = key
		sub(/_per_io$/, "", k)
		if (k == "host_us")
			return v[cfg, job, rep, "vmm_host_ticks"] * 1e6 / hz / n
		return metric(cfg, job, rep, k) / n
	}
	if (key == "user_exits")
		return v[cfg, job, rep, "io_exits"] + v[cfg, job, rep, "mmio_exits"]
	# net of the fixed cost every window has (the idle window's of the same
	# boot: the console lines VBS and VBE, half a second asleep)
	if (key == "user_net") {
		k = metric(cfg, "idle", rep, "user_exits")
		return k == "" ? "" : metric(cfg, job, rep, "user_exits") - k
	}
	if (key == "write_mibs")
		return v[cfg, job, rep, "write_kbs"] / 1024
	return ((cfg, job, rep, key) in v) ? v[cfg, job, rep, key] : ""
}

function median(cfg, job, key,    n, r, x, a) {
	n = 0
	for (r = 1; r <= maxrep; r++) {
		x = metric(cfg, job, r, key)
		if (x != "")
			a[++n] = x + 0
	}
	return n ? sorted_median(a, n) : ""
}

function range(cfg, job, key, fmt,    r, x, lo, hi) {
	lo = ""; hi = ""
	for (r = 1; r <= maxrep; r++) {
		x = metric(cfg, job, r, key)
		if (x == "")
			continue
		x += 0
		if (lo == "" || x < lo) lo = x
		if (hi == "" || x > hi) hi = x
	}
	if (lo == "")
		return ""
	return sprintf(fmt, lo) == sprintf(fmt, hi) ? "" : sprintf(" (" fmt "-" fmt ")", lo, hi)
}

# paired A B JOB KEY: median over rounds of A/B in the same round.
function paired(a, b, job, key,    n, r, s, q, x) {
	n = 0
	for (r = 1; r <= maxrep; r++) {
		s = metric(a, job, r, key); q = metric(b, job, r, key)
		if (s != "" && q != "" && q + 0 != 0)
			x[++n] = s / q
	}
	return n ? sprintf("%.2f", sorted_median(x, n)) : "–"
}

function count(cfg, job,    n, r) {
	n = 0
	for (r = 1; r <= maxrep; r++)
		if ((cfg, job, r, "job") in v && v[cfg, job, r, "rc"] == 0)
			n++
	return n
}

function cell(cfg, job, key, fmt,    m) {
	m = median(cfg, job, key)
	return m == "" ? "–" : sprintf(fmt "%s", m, range(cfg, job, key, fmt))
}

# row TITLE JOB KEY FMT BETTER: one row of the main table.
# Counts that are about 0 get no ratios (KEY user_net...).
function row(title, job, key, fmt, better,    s, q, c, line) {
	line = "| " title
	for (c = 1; c <= ncfg; c++)
		line = line " | " cell(cfgs[c], job, key, fmt)
	if (key ~ /^user_net/) {
		print line " | – | – | – | " better " |"
		return
	}
	s = median("sv-pt", job, key); q = median("qemu-vfio", job, key)
	line = line " | " ((s == "" || q == "" || q + 0 == 0) ? "–" : sprintf("%.2f", s / q))
	line = line " | " paired("sv-pt", "qemu-vfio", job, key)
	line = line " | " paired("sv-pt", "sv-vb", job, key) " | " better " |"
	print line
}

# Pooled counts of the hist triggers: the sum over timed rounds.
function pool(cfg, job, what, list,    n, i, kv, p) {
	n = split(list, p, ",")
	for (i = 1; i <= n; i++) {
		if (split(p[i], kv, ":") != 2)
			continue
		h[cfg, job, what, kv[1]] += kv[2]
		hk[what, kv[1]] = 1
	}
}

function pooled_ios(cfg, job,    r, n) {
	n = 0
	for (r = 1; r <= maxrep; r++)
		if ((cfg, job, r, "job") in v && v[cfg, job, r, "rc"] == 0)
			n += ios(cfg, job, r)
	return n
}

function pooled(cfg, job, key,    r, n) {
	n = 0
	for (r = 1; r <= maxrep; r++)
		if ((cfg, job, r, "job") in v && v[cfg, job, r, "rc"] == 0)
			n += metric(cfg, job, r, key)
	return n
}

# hex X: X (hex digits, with or without 0x and leading zeros) as 0x...
function hex(x) {
	sub(/^0[xX]/, "", x)
	sub(/^0+/, "", x)
	return "0x" (x == "" ? "0" : tolower(x))
}

# toplist CFG JOB WHAT IOS FMT: the pooled counts of WHAT (msr or npf) per
# I/O, most frequent first, at most 6.
function toplist(cfg, job, what, n_io, fmt,    key, kp, n, i, j, t, ks, xs, m, mw, out) {
	n = 0
	for (key in hk) {
		split(key, kp, SUBSEP)
		if (kp[1] != what || !h[cfg, job, what, kp[2]])
			continue
		ks[++n] = kp[2]; xs[n] = h[cfg, job, what, kp[2]]
	}
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && xs[j - 1] < xs[j]; j--) {
			t = xs[j]; xs[j] = xs[j - 1]; xs[j - 1] = t
			t = ks[j]; ks[j] = ks[j - 1]; ks[j - 1] = t
		}
	out = ""
	for (i = 1; i <= n && i <= 6; i++) {
		if (what == "msr") {
			split(ks[i], mw, "/")
			m = hex(mw[1])
			m = ((m in msrname) ? msrname[m] " (" m ")" : m) (mw[2] == 1 ? " w" : " r")
		} else {
			m = hex(ks[i])
		}
		out = out (out == "" ? "" : ", ") m sprintf(" " fmt, xs[i] / n_io)
	}
	return out == "" ? "–" : out
}

BEGIN {
	hz = 100
	ncfg = split("sv-pt sv-vb qemu-vfio qemu-vb", cfgs, " ")
	cname["sv-pt"] = "slicevm passthrough"; cname["sv-vb"] = "slicevm virtio-blk"
	cname["qemu-vfio"] = "QEMU vfio-pci"; cname["qemu-vb"] = "QEMU virtio-blk"
	# SVM exit codes (kvm_exit's exit_reason on AMD).
	svm[96] = "INTR"; svm[97] = "NMI"; svm[100] = "VINTR"; svm[114] = "CPUID"
	svm[119] = "PAUSE"; svm[120] = "HLT"; svm[123] = "IOIO"; svm[124] = "MSR"
	svm[127] = "SHUTDOWN"; svm[129] = "VMMCALL"; svm[1024] = "NPF"
	# KVM_EXIT_* (kvm_userspace_exit's reason).
	uex[2] = "IO"; uex[6] = "MMIO"; uex[10] = "INTR"; uex[0] = "UNKNOWN"; uex[5] = "HLT"
	uex[8] = "SHUTDOWN"; uex[24] = "SYSTEM_EVENT"
	msrname["0x6e0"] = "TSC_DEADLINE"; msrname["0x4b564d04"] = "KVM_EOI_EN"
	msrname["0x830"] = "x2APIC ICR"; msrname["0x80b"] = "x2APIC EOI"
	msrname["0x838"] = "x2APIC TMICT"; msrname["0x6e0"] = "TSC_DEADLINE"
	msrname["0xc0000103"] = "TSC_AUX"; msrname["0x48"] = "SPEC_CTRL"; msrname["0x49"] = "PRED_CMD"
}
/@bench start / { start = $0; sub(/^.*@bench start /, "", start) }
$1 == "@bench" && $2 == "note" { notes = notes "\n  " substr($0, 13) }
$1 == "@bench" && $2 == "fail" { fails++; failtxt = failtxt "\n  " substr($0, 13, 300) }
$1 == "@bench" && $2 == "pt" {
	delete kv
	for (f = 3; f <= NF; f++) {
		k = $f; sub(/=.*/, "", k)
		x = $f; sub(/^[^=]*=/, "", x)
		kv[k] = x
	}
	if (!("cfg" in kv) || !("job" in kv) || !("rep" in kv))
		next
	cfg = kv["cfg"]; job = kv["job"]; rep = kv["rep"] + 0
	for (k in kv)
		v[cfg, job, rep, k] = kv[k]
	if (rep > maxrep)
		maxrep = rep
	if (rep > 0 && kv["rc"] != 0)
		badjobs = badjobs "\n  " cfg " round " rep " " job ": fio status " kv["rc"] ", error " kv["err"]
	if (rep > 0 && kv["rc"] == 0 && ("ex" in kv)) {
		traced = 1
		pool(cfg, job, "ex", kv["ex"]); pool(cfg, job, "npf", kv["npf"])
		pool(cfg, job, "ue", kv["ue"]); pool(cfg, job, "msr", kv["msr"])
	}
}

END {
	print "L1: " start
	if (notes != "")
		print "Notes:" notes
	print ""
	printf "Rounds that ran (of %d; warm-up left out):", maxrep
	for (c = 1; c <= ncfg; c++)
		printf " %s %d%s", cname[cfgs[c]], count(cfgs[c], "rr-qd1"), c < ncfg ? "," : "\n"
	print ""
	print "| metric | " cname["sv-pt"] " | " cname["sv-vb"] " | " cname["qemu-vfio"] " | " cname["qemu-vb"] " | slicevm pt / QEMU vfio | paired | slicevm pt / slicevm virtio-blk (paired) | better |"
	print "|---|---|---|---|---|---|---|---|---|"
	row("4k random read, QD1: IOPS", "rr-qd1", "read_iops", "%.0f", "higher")
	row("4k random read, QD1: latency mean (usec)", "rr-qd1", "read_lat_us", "%.0f", "lower")
	row("4k random read, QD1: latency p99 (usec)", "rr-qd1", "read_p99_us", "%.0f", "lower")
	row("4k random read, QD32: IOPS", "rr-qd32", "read_iops", "%.0f", "higher")
	row("4k random read, QD32: latency mean (usec)", "rr-qd32", "read_lat_us", "%.0f", "lower")
	row("128k sequential write, QD8: MiB/s", "sw-128k", "write_mibs", "%.0f", "higher")
	row("user-space exits per I/O, 4k random read QD1", "rr-qd1", "user_net_per_io", "%.4f", "lower")
	row("user-space exits per I/O, 4k random read QD32", "rr-qd32", "user_net_per_io", "%.4f", "lower")
	row("user-space exits per I/O, 128k write QD8", "sw-128k", "user_net_per_io", "%.4f", "lower")
	row("(raw) user-space exits in the window of 4k random read QD1", "rr-qd1", "user_exits", "%.0f", "lower")
	row("(raw) user-space exits in the window of 4k random read QD32", "rr-qd32", "user_exits", "%.0f", "lower")
	row("(raw) user-space exits in the window of 128k write QD8", "sw-128k", "user_exits", "%.0f", "lower")
	row("(raw) user-space exits in the idle window (3 s asleep)", "idle", "user_exits", "%.0f", "–")
	row("VM exits per I/O, 4k random read QD1", "rr-qd1", "exits_per_io", "%.2f", "lower")
	row("VM exits per I/O, 4k random read QD32", "rr-qd32", "exits_per_io", "%.2f", "lower")
	row("VM exits per I/O, 128k write QD8", "sw-128k", "exits_per_io", "%.2f", "lower")
	row("guest's disk interrupts per I/O, QD1", "rr-qd1", "dev_irqs_per_io", "%.2f", "–")
	row("guest's disk interrupts per I/O, QD32", "rr-qd32", "dev_irqs_per_io", "%.2f", "–")
	row("VMM CPU time outside the guest per I/O (usec), QD1", "rr-qd1", "host_us_per_io", "%.0f", "lower")

	print ""
	print "User-space exits are KVM's io_exits + mmio_exits (port and MMIO accesses that KVM hands to the VMM); an ioeventfd doorbell or a BAR mapped into the guest counts in neither. Every counting window also holds the guest's console lines \"VBS job\" and \"VBE job\" (about 1.4 port exits per byte, written by the VMM's UART) and half a second asleep: the idle window of the same boot (2.5 s asleep and the same lines, 2-3 bytes shorter) shows that fixed cost, and \"user-space exits per I/O\" is the job window's count minus the idle window's, over the job's I/Os (so a few exits of noise either way; 0 means none caused by I/O). The raw rows give the counts per window."
	if (traced) {
		print ""
		print "Exits per I/O by SVM exit code (KVM's kvm_exit tracepoint, hist trigger; pooled over rounds) and user-space exits by KVM_EXIT reason (kvm_userspace_exit):"
		print ""
		nj = split("idle rr-qd1 rr-qd32 sw-128k", jobs, " ")
		unit["idle"] = " (per s)"
		# exit codes seen, most frequent first overall
		n = 0
		for (key in hk) {
			split(key, kp, SUBSEP)
			if (kp[1] != "ex") continue
			tot = 0
			for (c = 1; c <= ncfg; c++) for (j = 2; j <= nj; j++) tot += h[cfgs[c], jobs[j], "ex", kp[2]]
			codes[++n] = kp[2]; ctot[kp[2]] = tot
		}
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && ctot[codes[j - 1]] < ctot[codes[j]]; j--) {
				t = codes[j]; codes[j] = codes[j - 1]; codes[j - 1] = t
			}
		shown = n > 7 ? 7 : n
		hdr = "| job | VMM | all exits"
		sep = "|---|---|---"
		for (i = 1; i <= shown; i++) {
			hdr = hdr " | " ((codes[i] in svm) ? svm[codes[i]] : "code " codes[i])
			sep = sep "|---"
		}
		print hdr " | other | user-space exits (by reason) |"
		print sep "|---|---|"
		for (j = 1; j <= nj; j++)
			for (c = 1; c <= ncfg; c++) {
				cfg = cfgs[c]
				if (!count(cfg, jobs[j]))
					continue
				n_io = pooled_ios(cfg, jobs[j])
				if (n_io <= 0) continue
				all = 0
				for (i = 1; i <= n; i++) all += h[cfg, jobs[j], "ex", codes[i]]
				line = sprintf("| %s%s | %s | %.2f", jobs[j], unit[jobs[j]], cname[cfg], all / n_io)
				rest = all
				for (i = 1; i <= shown; i++) {
					line = line sprintf(" | %.2f", h[cfg, jobs[j], "ex", codes[i]] / n_io)
					rest -= h[cfg, jobs[j], "ex", codes[i]]
				}
				ue = ""
				for (key in hk) {
					split(key, kp, SUBSEP)
					if (kp[1] != "ue" || !h[cfg, jobs[j], "ue", kp[2]]) continue
					ue = ue (ue == "" ? "" : ", ") ((kp[2] in uex) ? uex[kp[2]] : kp[2]) sprintf(" %.3f", h[cfg, jobs[j], "ue", kp[2]] / n_io)
				}
				print line sprintf(" | %.2f | %s |", rest / n_io, ue == "" ? "0" : ue)
			}
		print ""
		print "MSR exits per I/O by MSR (kvm_msr; w = write, r = read) and nested page faults per I/O by guest-physical address (the most frequent; pooled):"
		print ""
		print "| job | VMM | MSRs | nested page faults |"
		print "|---|---|---|---|"
		for (j = 2; j <= nj; j++)
			for (c = 1; c <= ncfg; c++) {
				cfg = cfgs[c]
				n_io = pooled_ios(cfg, jobs[j])
				if (!count(cfg, jobs[j]) || n_io <= 0)
					continue
				printf "| %s | %s | %s | %s |\n", jobs[j], cname[cfg], toplist(cfg, jobs[j], "msr", n_io, "%.3f"),
					toplist(cfg, jobs[j], "npf", n_io, "%.4f")
			}
	}
	if (badjobs != "")
		print "\nfio jobs that failed:" badjobs
	if (fails)
		printf "\n%d failure line(s):%s\n", fails, failtxt
}
