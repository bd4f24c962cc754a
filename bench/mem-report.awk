# bench/mem-report.awk: the table of bench/mem.sh from the "@bench mem"
# lines of its console log (awk -f bench/mem-report.awk build/bench-mem.log).
# Per variant: medians over rounds; ratios against slicevm's anon VM and
# against the comparable QEMU; the two targets of issue 6 met or not.

function median(cfg, key,    n, i, j, t, a) {
	n = 0
	for (i = 1; i <= rounds[cfg]; i++)
		if ((cfg, i, key) in v && v[cfg, i, key] != "")
			a[++n] = v[cfg, i, key] + 0
	if (n == 0)
		return ""
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function minmax(cfg, key,    i, lo, hi, x) {
	lo = ""; hi = ""
	for (i = 1; i <= rounds[cfg]; i++) {
		if (!((cfg, i, key) in v) || v[cfg, i, key] == "")
			continue
		x = v[cfg, i, key] + 0
		if (lo == "" || x < lo) lo = x
		if (hi == "" || x > hi) hi = x
	}
	return lo == "" ? "" : sprintf("%d-%d", lo, hi)
}

# big_min CFG: the lowest share (%) of mapped guest RAM in 2M/1G pages.
function big_min(cfg,    i, s, lo) {
	lo = ""
	for (i = 1; i <= rounds[cfg]; i++) {
		if (!((cfg, i, "pages_4k") in v))
			continue
		s = big(cfg, i)
		if (lo == "" || s < lo) lo = s
	}
	return lo
}

function big(cfg, i,    p4, p2, p1) {
	p4 = v[cfg, i, "pages_4k"]; p2 = v[cfg, i, "pages_2m"]; p1 = v[cfg, i, "pages_1g"]
	return 100 * (p2 * 512 + p1 * 262144) / (p4 + p2 * 512 + p1 * 262144 + 1e-9)
}

function ratio(a, b) {
	return (a == "" || b == "" || b + 0 == 0) ? "–" : sprintf("%.2f", a / b)
}

# paired CFG BASE KEY: median over rounds of CFG's KEY / BASE's KEY in the same round.
function paired(cfg, base, key,    n, i, j, t, a) {
	n = 0
	for (i = 1; i <= rounds[cfg]; i++)
		if ((cfg, i, key) in v && (base, i, key) in v && v[base, i, key] + 0 > 0)
			a[++n] = v[cfg, i, key] / v[base, i, key]
	if (n == 0)
		return "–"
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return sprintf("%.2f", n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
}

function show(x, fmt) {
	return x == "" ? "–" : sprintf(fmt, x)
}

# The first line may carry the console's escape sequences before "@bench".
/@bench start / { start = $0; sub(/^.*@bench start /, "", start) }
$1 == "@bench" && $2 == "fail" { fails++; failtxt = failtxt "\n  " substr($0, 13, 200) }
$1 == "@bench" && $2 == "mem" {
	cfg = ""; rep = 0
	for (f = 3; f <= NF; f++) {
		k = $f; sub(/=.*/, "", k)
		x = $f; sub(/^[^=]*=/, "", x)
		if (k == "cfg") cfg = x
		else if (k == "rep") rep = x + 0
		else kv[k] = x
	}
	if (cfg == "")
		next
	# The VMM prints the zeroing rate with one decimal: recompute it.
	if (kv["zero_s"] + 0 > 0 && kv["zero_size"] ~ /^[0-9]+[MG]$/)
		kv["zero_gibs"] = (kv["zero_size"] + 0) / (kv["zero_size"] ~ /M$/ ? 1024 : 1) / kv["zero_s"]
	for (k in kv)
		v[cfg, rep, k] = kv[k]
	delete kv
	if (rep > rounds[cfg])
		rounds[cfg] = rep
	measured[cfg]++
	seen[cfg] = 1
}

END {
	order = "sv-anon sv-huge sv-pmem-id sv-resv-id sv-resv-flat qemu-ram qemu-hugetlbfs"
	nc = split(order, cfgs, " ")
	name["sv-anon"] = "slicevm anon slice"
	name["sv-huge"] = "slicevm hugetlb slice"
	name["sv-pmem-id"] = "slicevm reserved pmem/device-dax, identity"
	name["sv-resv-id"] = "slicevm reserved memmap (/dev/mem), identity"
	name["sv-resv-flat"] = "slicevm reserved memmap (/dev/mem), not identity"
	name["qemu-ram"] = "QEMU memory-backend-ram"
	name["qemu-hugetlbfs"] = "QEMU memory-backend-file hugetlbfs"
	qref["sv-anon"] = "qemu-ram"
	qref["sv-huge"] = "qemu-hugetlbfs"
	qref["sv-pmem-id"] = "qemu-hugetlbfs"
	qref["sv-resv-id"] = "qemu-hugetlbfs"
	qref["sv-resv-flat"] = "qemu-hugetlbfs"
	print "L1: " start
	print ""
	print "| variant | boots | 2M/1G share (min) | 4K / 2M / 1G pages (last) | start ms median (min-max) | start / anon | start / QEMU | zero GiB/s | latency ns | lat / anon | read GB/s | bw / anon |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for (c = 1; c <= nc; c++) {
		cfg = cfgs[c]
		if (!(cfg in seen)) {
			printf "| %s | 0 | not measured | | | | | | | | | |\n", name[cfg]
			continue
		}
		r = rounds[cfg]
		st = median(cfg, "init_ms"); lat = median(cfg, "lat_ns"); bw = median(cfg, "bw_gbs")
		zg = median(cfg, "zero_gibs")
		bm = big_min(cfg)
		pages = sprintf("%s / %s / %s", v[cfg, r, "pages_4k"], v[cfg, r, "pages_2m"], v[cfg, r, "pages_1g"])
		sq = "–"
		if (cfg in qref && qref[cfg] in seen)
			sq = ratio(st, median(qref[cfg], "init_ms")) " (" qref[cfg] ")"
		printf "| %s | %d | %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s |\n",
			name[cfg], measured[cfg], show(bm, "%.1f%%"), pages, show(st, "%d"), minmax(cfg, "init_ms"),
			("sv-anon" in seen) ? ratio(st, median("sv-anon", "init_ms")) : "–", sq,
			show(zg, "%.2f"), show(lat, "%.1f"), ratio(lat, median("sv-anon", "lat_ns")),
			show(bw, "%.3f"), ratio(bw, median("sv-anon", "bw_gbs"))
	}
	print ""
	print "Paired (same round) ratios, median over rounds:"
	for (c = 2; c <= nc; c++)
		if (cfgs[c] in seen && "sv-anon" in seen)
			printf "  %s / sv-anon: start %s, latency %s, bandwidth %s\n", cfgs[c],
				paired(cfgs[c], "sv-anon", "init_ms"), paired(cfgs[c], "sv-anon", "lat_ns"),
				paired(cfgs[c], "sv-anon", "bw_gbs")
	print ""
	print "Targets (issue 6):"
	# Page size: hugetlb and every reserved variant; start: the reserved ones.
	nt = split("sv-huge sv-pmem-id sv-resv-id sv-resv-flat", tg, " ")
	for (t = 1; t <= nt; t++) {
		bm = (tg[t] in seen) ? big_min(tg[t]) : ""
		printf "  >= 99%% of guest RAM in 2M/1G, %s: %s\n", name[tg[t]],
			bm == "" ? "not measured" : sprintf("%s (%.1f%%, lowest round)", bm >= 99 ? "met" : "NOT met", bm)
	}
	a = median("sv-anon", "init_ms")
	for (t = 2; t <= nt; t++) {
		s = median(tg[t], "init_ms")
		if (a == "" || s == "")
			printf "  start <= 1.2x anon, %s: not measured\n", name[tg[t]]
		else
			printf "  start <= 1.2x anon, %s: %s (%.2fx by medians, %sx paired)\n", name[tg[t]],
				s <= 1.2 * a ? "met" : "NOT met", s / a, paired(tg[t], "sv-anon", "init_ms")
	}
	if (fails)
		printf "\n%d boot(s) failed:%s\n", fails, failtxt
}
