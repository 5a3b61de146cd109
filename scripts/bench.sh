#!/usr/bin/env bash
# bench.sh runs the benchmarks behind issue 21's figures and prints them as
# one benchstat table, so two runs compare side by side:
#
#   make bench                        # this tree -> bench.txt, one table
#   make bench OLD=before.txt         # the same, next to an earlier run
#   QUICK=1 make bench                # leave out the subprocess runs (Telegram load, serve start)
#   LOADN=4000 make bench             # /code requests per Telegram load run (default 2000)
#
# The micro benchmarks run on one core (-cpu 1) COUNT times each, the runs
# of different benchmarks interleaved so a load spike on a shared machine
# hits all of them alike. The last line sets BenchmarkCode against its
# floor, an HMAC-SHA1 TOTP plus opening one 200-byte sealed record
# (target: at most 3x, at most 15 allocations).
set -euo pipefail

GO=${GO:-go}
TAGS=${TAGS:-goolm}
COUNT=${COUNT:-6}
OUT=${OUT:-bench.txt}
OLD=${OLD:-}
# Pinned so two people's tables are computed the same way.
BENCHSTAT=${BENCHSTAT:-golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}

cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

# package  benchmark regexp  (one line each; the table's rows)
micro=(
	"core/otp    ^BenchmarkCodeTOTP$/^SHA1$"
	"core/seal   ^BenchmarkOpen200B$"
	"core        ^Benchmark(Code|AuditFlush)$"
	"storage/bolt ^Benchmark(Open(No)?Check|BoltViewSeek3|ViewPeek3)$"
)
for m in "${micro[@]}"; do
	read -r pkg _ <<<"$m"
	$GO test -tags "$TAGS" -c -o "$bin/${pkg//\//_}.test" "./$pkg"
done

: >"$OUT"
for ((i = 0; i < COUNT; i++)); do
	for m in "${micro[@]}"; do
		read -r pkg re <<<"$m"
		# Each test binary runs in its package directory, like go test.
		(cd "$pkg" && "$bin/${pkg//\//_}.test" -test.run '^$' -test.bench "$re" \
			-test.benchmem -test.cpu 1 -test.count 1) | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >>"$OUT"
	done
done

# Bytes per account on disk (issue 21, item 2): whole databases written
# through AddMany into real bbolt files; one build each, as the figures
# are sizes, not times.
(cd core && "$bin/core.test" -test.run '^$' -test.bench '^BenchmarkDBSize$' -test.benchtime 1x \
	-test.cpu 1 -test.count 1) | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >>"$OUT"

if [ -z "${QUICK:-}" ]; then
	# Each of these is a whole `authbot serve` against the fake Bot API in
	# another process, and minutes long: one run each. BenchmarkLoad's b.N
	# is its number of /code requests (1x would time a single code);
	# CodeLatency sets its own bursts.
	$GO test -tags "$TAGS" -run '^$' -bench '^BenchmarkLoad$' -benchtime "${LOADN:-2000}x" -count 1 \
		-timeout 20m ./bots/telegram | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >>"$OUT"
	$GO test -tags "$TAGS" -run '^$' -bench '^BenchmarkCodeLatency$' -benchtime 1x -count 1 \
		-timeout 20m ./bots/telegram | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >>"$OUT"
	# Start-up and idle RSS of serve over 1,000 people (issue 21 item 4):
	# ms from exec to the first getUpdates, VmRSS and RssAnon at rest,
	# VmRSS after 24 /code (served).
	$GO test -tags "$TAGS" -run '^$' -bench '^BenchmarkServeStart$' -benchtime 5x -count 1 \
		-timeout 10m ./cmd/authbot | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >>"$OUT"
fi

# One table across packages: pkg is dropped from the grouping (the names
# are unique), so the rows read as the issue's list of figures.
if [ -n "$OLD" ]; then
	$GO run "$BENCHSTAT" -table "" -ignore pkg before="$OLD" after="$OUT"
else
	$GO run "$BENCHSTAT" -table "" -ignore pkg "$OUT"
fi

# BenchmarkCode against its floor, from the medians of this run.
awk '
function median(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^BenchmarkCodeTOTP\/SHA1/ { totp[++nt] = $3 }
/^BenchmarkOpen200B/       { open[++no] = $3 }
/^BenchmarkCode(-[0-9]+)?[ \t]/ { code[++nc] = $3; for (i = 4; i < NF; i++) if ($(i + 1) == "allocs/op") allocs = $i }
/^BenchmarkAuditFlush(-[0-9]+)?[ \t]/ { flush[++nf] = $3 }
/^BenchmarkBoltViewSeek3(-[0-9]+)?[ \t]/ { bolt[++nb] = $3 }
END {
	if (!nt || !no || !nc) exit
	t = median(totp, nt); o = median(open, no); c = median(code, nc)
	printf "\nBenchmarkCode %.0f ns = %.1f x floor (TOTP/SHA1 %.0f ns + Open200B %.0f ns; target <= 3 x), %d allocs (target <= 15)\n", c, c / (t + o), t, o, allocs
	# Every 256th code writes the buffered audit entries (one durable
	# commit, BenchmarkAuditFlush): on a disk that share is mostly fsync.
	if (nf) {
		f = median(flush, nf) / 256
		printf "  of which the audit flush share %.0f ns; without it %.0f ns = %.1f x floor\n", f, c - f, (c - f) / (t + o)
	}
	# What bbolt alone takes to read the three records of a /code (Begin, the
	# bucket, a cursor, three seeks), before authbot does anything.
	if (nb) {
		v = median(bolt, nb)
		printf "  bbolt alone reading three records (BoltViewSeek3) %.0f ns = %.1f x floor\n", v, v / (t + o)
	}
}' "$OUT"
