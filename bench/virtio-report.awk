# bench/virtio-report.awk: the table of bench/virtio.sh from the
# "@bench virtio" lines of its console log
# (awk -f bench/virtio-report.awk build/bench-virtio.log).
# Per row: median over rounds (min-max) for slicevm and QEMU, the ratio
# slicevm/QEMU of the medians, and the median over rounds of the ratio of
# the two VMMs' values in the same round (paired). Round 0 is the warm-up
# and is left out.

function sorted_median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

# metric CFG JOB REP KEY: the value of a row's KEY in one round ("" if none).
function metric(cfg, job, rep, key,    ios, b) {
	if (!((cfg, job, rep, "job") in v))
		return ""
	# I/Os: fio's KiB over its block size; the network jobs say (pings, MiB).
	b = v[cfg, job, rep, "bs_kb"] + 0
	if ((cfg, job, rep, "ios") in v)
		ios = v[cfg, job, rep, "ios"] + 0
	else
		ios = (v[cfg, job, rep, "read_kb"] + v[cfg, job, rep, "write_kb"]) / (b > 0 ? b : 1)
	if (key ~ /_per_io$/) {
		if (ios <= 0)
			return ""
		if (key == "host_us_per_io")
			return v[cfg, job, rep, "vmm_host_ticks"] * 1e6 / hz / ios
		sub(/_per_io$/, "", key)
		return v[cfg, job, rep, key] / ios
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
	return lo == "" ? "" : sprintf(fmt "-" fmt, lo, hi)
}

function paired(job, key,    n, r, s, q, a) {
	n = 0
	for (r = 1; r <= maxrep; r++) {
		s = metric("sv", job, r, key); q = metric("qemu", job, r, key)
		if (s != "" && q != "" && q + 0 != 0)
			a[++n] = s / q
	}
	return n ? sprintf("%.2f", sorted_median(a, n)) : "–"
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
	return m == "" ? "–" : sprintf(fmt " (%s)", m, range(cfg, job, key, fmt))
}

# row TITLE JOB KEY FMT BETTER: one table row.
function row(title, job, key, fmt, better,    s, q) {
	s = median("sv", job, key); q = median("qemu", job, key)
	printf "| %s | %s | %s | %s | %s | %s |\n", title, cell("sv", job, key, fmt),
		cell("qemu", job, key, fmt),
		(s == "" || q == "" || q + 0 == 0) ? "–" : sprintf("%.2f", s / q),
		paired(job, key), better
}

BEGIN { hz = 100 }
/@bench start / { start = $0; sub(/^.*@bench start /, "", start) }
$1 == "@bench" && $2 == "note" { notes = notes "\n  " substr($0, 13) }
$1 == "@bench" && $2 == "fail" { fails++; failtxt = failtxt "\n  " substr($0, 13, 300) }
$1 == "@bench" && $2 == "virtio" {
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
}

END {
	print "L1: " start
	if (notes != "")
		print "Notes:" notes
	print ""
	printf "Rounds: slicevm %d, QEMU %d (fio jobs that ran, of %d rounds; warm-up left out)\n",
		count("sv", "rr-qd1"), count("qemu", "rr-qd1"), maxrep
	print ""
	print "| metric | slicevm median (min-max) | QEMU median (min-max) | slicevm/QEMU | paired | better |"
	print "|---|---|---|---|---|---|"
	row("4k random read, QD1: latency mean (usec)", "rr-qd1", "read_lat_us", "%.1f", "lower")
	row("4k random read, QD1: latency p99 (usec)", "rr-qd1", "read_p99_us", "%.0f", "lower")
	row("4k random read, QD1: IOPS", "rr-qd1", "read_iops", "%.0f", "higher")
	row("4k random read, QD32: IOPS", "rr-qd32", "read_iops", "%.0f", "higher")
	row("4k random read, QD32: latency mean (usec)", "rr-qd32", "read_lat_us", "%.1f", "lower")
	row("1M sequential write, QD8: MiB/s", "sw-1m", "write_mibs", "%.1f", "higher")
	row("VM exits per I/O, 4k random read QD1", "rr-qd1", "exits_per_io", "%.2f", "lower")
	row("VM exits per I/O, 4k random read QD32", "rr-qd32", "exits_per_io", "%.2f", "lower")
	row("VM exits per I/O, 1M sequential write QD8", "sw-1m", "exits_per_io", "%.2f", "lower")
	if (count("sv", "ping") + count("qemu", "ping") == 0) {
		print "| ping RTT, guest to L1 (usec) | not measured yet | not measured yet | – | – | lower |"
		print "| TCP throughput, guest to L1 (Mbit/s) | not measured yet | not measured yet | – | – | higher |"
		print "| TCP throughput, L1 to guest (Mbit/s) | not measured yet | not measured yet | – | – | higher |"
	} else {
		row("ping RTT, guest to L1, avg of 20 (usec)", "ping", "rtt_avg_us", "%.0f", "lower")
		row("ping RTT, guest to L1, max of 20 (usec)", "ping", "rtt_max_us", "%.0f", "lower")
		row("TCP throughput, guest to L1 (Mbit/s)", "tcp-tx", "mbits", "%.0f", "higher")
		row("TCP throughput, L1 to guest (Mbit/s)", "tcp-rx", "mbits", "%.0f", "higher")
		row("VM exits per MiB, TCP guest to L1", "tcp-tx", "exits_per_io", "%.1f", "lower")
		row("VM exits per MiB, TCP L1 to guest", "tcp-rx", "exits_per_io", "%.1f", "lower")
	}
	print ""
	print "Exits per I/O by kind (KVM debugfs, medians; the rest of \"exits\" is kinds not named here: nested page faults, MSRs, ...) and the VMM process's CPU time outside guest mode per I/O (user + system - guest time: the VMM's threads and KVM's exit handling). I/O: one fio request; for ping one echo (the 0.2 s asleep between pings included); for tcp one MiB; for idle one second asleep; for console one byte written (a 200-byte line). Each window also holds half a second asleep and one short console line (\"VBE job\", ~10 bytes)."
	print ""
	print "| job | VMM | exits | io | mmio | halt | irq | irq_window | injected irqs (not exits) | host CPU usec |"
	print "|---|---|---|---|---|---|---|---|---|---|"
	nj = split("idle console rr-qd1 rr-qd32 sw-1m ping tcp-tx tcp-rx", jobs, " ")
	unit["idle"] = " (per s)"; unit["console"] = " (per byte)"; unit["ping"] = " (per echo)"
	unit["tcp-tx"] = " (per MiB)"; unit["tcp-rx"] = " (per MiB)"
	for (j = 1; j <= nj; j++)
		for (c = 1; c <= 2; c++) {
			cfg = c == 1 ? "sv" : "qemu"
			if (!count(cfg, jobs[j]))
				continue
			printf "| %s%s | %s", jobs[j], unit[jobs[j]], cfg == "sv" ? "slicevm" : "QEMU"
			nk = split("exits io_exits mmio_exits halt_exits irq_exits irq_window_exits irq_injections", ks, " ")
			for (k = 1; k <= nk; k++) {
				m = median(cfg, jobs[j], ks[k] "_per_io")
				printf " | %s", m == "" ? "–" : sprintf("%.2f", m)
			}
			m = median(cfg, jobs[j], "host_us_per_io")
			printf " | %s |\n", m == "" ? "–" : sprintf("%.0f", m)
		}
	if (badjobs != "")
		print "\nfio jobs that failed:" badjobs
	if (fails)
		printf "\n%d failure line(s):%s\n", fails, failtxt
}
