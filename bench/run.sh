#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR] [CASE_FILTER...]
#
# Builds the benchmark binaries (bench/CMakeLists.txt), runs every case
# BENCH_RUNS times (default 5) against libevent, goevent and the raw machine
# limit, and prints the median of each as one table, also written as
# markdown to BUILD_DIR/bench/results.md and drawn, ratio per case, as an
# SVG chart in BUILD_DIR/bench/results.svg (bench/chart.py).
#
# Every case runs in its own process, so one case's allocator and descriptor
# state cannot shift the next one's numbers, and the three variants of a
# case run back to back within each round, so a change in machine load hits
# all of them alike. A goevent benchmark that does not build, or a case that
# fails its own checks, crashes or hangs, shows `n/a` with the reason under
# the table; it never stops the rest.
#
# Environment: BENCH_RUNS (default 5), BENCH_TIMEOUT (seconds per case
# process, default 60), BENCH_SCALE (work factor passed to the binaries,
# default 1). CASE_FILTER arguments keep only cases whose names contain one
# of them.
#
# Some rows run an existing case of an unmodified benchmark binary with a
# setting in goevent's environment (ENV_ROWS below): the row is named
# <case>+<VAR>=<value>, goevent runs the case with that variable set, and
# libevent and the raw limit run the case as they always do.
set -uo pipefail

# "<case> <VAR>=<value>" for each such row.
ENV_ROWS=(
	"bev_bulk_socketpair_1GiB GOEVENT_MAX_READ=262144"
	"bev_bulk_tcp_1GiB GOEVENT_MAX_READ=262144"
)

BUILD=${1:-build}
[ $# -gt 0 ] && shift
FILTERS=("$@")
RUNS=${BENCH_RUNS:-5}
TIMEOUT=${BENCH_TIMEOUT:-60}
CMAKE=${CMAKE:-cmake}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

OUT=$BUILD/bench
LIST=$OUT/benches.txt
if [ ! -f "$LIST" ]; then
	echo "bench/run.sh: $LIST missing: configure first (make configure)" >&2
	exit 1
fi
if ! [[ $RUNS =~ ^[1-9][0-9]*$ ]]; then
	echo "bench/run.sh: BENCH_RUNS must be a positive integer" >&2
	exit 1
fi

LOGS=$OUT/logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
SAMPLES=$OUT/samples.txt # one line per measurement: variant case unit value
NOTES=$OUT/notes.txt     # one line per n/a: variant case reason
: >"$SAMPLES"
: >"$NOTES"

# ---- build ----------------------------------------------------------------
# Each target alone, so that one that fails leaves the others usable.
# built[<target>] = path of the binary, or unset.
declare -A built
build_target() {
	local target=$1 bin=$2
	if "$CMAKE" --build "$BUILD" --target "$target" -j "$JOBS" >"$LOGS/$target.build.log" 2>&1 &&
		[ -x "$bin" ]; then
		built[$target]=$bin
	else
		echo "  $target: build failed (log: $LOGS/$target.build.log)"
		local why
		why=$(grep -m1 -E 'error|undefined' "$LOGS/$target.build.log" ||
			grep . "$LOGS/$target.build.log" | tail -1)
		echo "$target did not build: $(echo "$why" | cut -c1-160) (log: $LOGS/$target.build.log)" >>"$NOTES"
	fi
}

mapfile -t BENCHES < <(grep -v '^$' "$LIST")
echo "building benchmarks (${BENCHES[*]}, bench_raw)"
build_target bench_raw "$OUT/bench_raw"
for b in "${BENCHES[@]}"; do
	build_target "${b}_ref" "$OUT/${b}_ref"
	build_target "${b}_ge" "$OUT/${b}_ge"
done

# ---- the case list ----------------------------------------------------------
# From whichever build of a benchmark exists; both are the same source.
CASES=()          # "bench case" in table order
declare -A UNIT   # case -> unit
declare -A RAWHAS # case -> 1 when bench_raw measures it
selected() {
	local c=$1 f
	[ ${#FILTERS[@]} -eq 0 ] && return 0
	for f in "${FILTERS[@]}"; do
		[[ $c == *"$f"* ]] && return 0
	done
	return 1
}
for b in "${BENCHES[@]}"; do
	bin=${built[${b}_ref]:-${built[${b}_ge]:-}}
	if [ -z "$bin" ]; then
		echo "  $b: neither build exists, no cases" >&2
		continue
	fi
	while read -r c u; do
		selected "$c" || continue
		CASES+=("$b $c")
		UNIT[$c]=$u
	done < <("$bin" --list)
done
if [ -n "${built[bench_raw]:-}" ]; then
	while read -r c u; do
		RAWHAS[$c]=1
	done < <("${built[bench_raw]}" --list)
fi
declare -A ROWCASE ROWENV # env row -> the case it runs, and goevent's setting
for er in "${ENV_ROWS[@]}"; do
	set -- $er
	row="$1+$2"
	selected "$row" || continue
	for bc in "${CASES[@]}"; do
		set -- $bc
		if [ "$2" = "${er%% *}" ]; then
			CASES+=("$1 $row")
			UNIT[$row]=${UNIT[$2]}
			ROWCASE[$row]=$2
			ROWENV[$row]=${er#* }
			[ -n "${RAWHAS[$2]:-}" ] && RAWHAS[$row]=1
			break
		fi
	done
done
if [ ${#CASES[@]} -eq 0 ]; then
	echo "bench/run.sh: no cases to run" >&2
	exit 1
fi

# ---- runs -------------------------------------------------------------------
declare -A FAILED # "variant case" -> 1 once it failed: not retried
run_case() {
	local variant=$1 bin=$2 c=$3 log rc line run=$3
	local -a env=()
	[ -n "${FAILED[$variant $c]:-}" ] && return
	if [ -n "${ROWCASE[$c]:-}" ]; then
		run=${ROWCASE[$c]}
		[ "$variant" = goevent ] && env=("${ROWENV[$c]}")
	fi
	log=$LOGS/$variant.$c.log
	line=$(env "${env[@]}" timeout "$TIMEOUT" "$bin" "$run" 2>"$log")
	rc=$?
	set -- $line
	if [ $rc -ne 0 ] || [ $# -ne 3 ] || [ "$1" != "$run" ]; then
		FAILED[$variant $c]=1
		local why="exit $rc"
		[ $rc -eq 124 ] && why="timed out after ${TIMEOUT}s"
		[ $rc -gt 128 ] && [ $rc -ne 124 ] && why="killed by signal $((rc - 128))"
		local first
		first=$(grep -m1 . "$log" 2>/dev/null | cut -c1-160)
		echo "$variant $c $why${first:+: $first}" >>"$NOTES"
		echo "  $variant $c: FAILED ($why), log: $log"
		return
	fi
	echo "$variant $c $2 $3" >>"$SAMPLES"
}

start=$(date +%s)
# Other work on the machine skews every number: the load average before and
# after the runs goes into the table's header.
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
for ((r = 1; r <= RUNS; r++)); do
	echo "run $r/$RUNS"
	for bc in "${CASES[@]}"; do
		set -- $bc
		b=$1
		c=$2
		[ -n "${built[${b}_ref]:-}" ] && run_case libevent "${built[${b}_ref]}" "$c"
		[ -n "${built[${b}_ge]:-}" ] && run_case goevent "${built[${b}_ge]}" "$c"
		[ -n "${RAWHAS[$c]:-}" ] && run_case raw "${built[bench_raw]}" "$c"
	done
done
elapsed=$(($(date +%s) - start))
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# ---- the table ----------------------------------------------------------------
median() { # variant case -> median value, or nothing
	awk -v v="$1" -v c="$2" '$1 == v && $2 == c { print $4 }' "$SAMPLES" | sort -g |
		awk '{ a[NR] = $1 } END { if (NR == 0) exit;
			if (NR % 2) printf "%.2f", a[(NR + 1) / 2];
			else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ratio = goevent's cost over libevent's: time/op divided, or MB/s inverted,
# so > 1 always means goevent is slower.
ratio() { # unit ref ge
	awk -v u="$1" -v r="$2" -v g="$3" 'BEGIN {
		if (r == "" || g == "" || r + 0 <= 0 || g + 0 <= 0) { print "n/a"; exit }
		printf "%.2f", (u == "MB/s") ? r / g : g / r }'
}

rows=()
ratios=()
for bc in "${CASES[@]}"; do
	set -- $bc
	b=$1
	c=$2
	u=${UNIT[$c]}
	ref=$(median libevent "$c")
	ge=$(median goevent "$c")
	raw=""
	[ -n "${RAWHAS[$c]:-}" ] && raw=$(median raw "$c")
	if [ -z "${built[${b}_ge]:-}" ]; then
		ge_cell="n/a (no build)"
	else
		ge_cell=${ge:-n/a}
	fi
	if [ -z "${built[${b}_ref]:-}" ]; then
		ref_cell="n/a (no build)"
	else
		ref_cell=${ref:-n/a}
	fi
	rt=$(ratio "$u" "$ref" "$ge")
	[ "$rt" != "n/a" ] && ratios+=("$rt")
	rows+=("$c|$u|$ref_cell|$ge_cell|$rt|${raw:--}")
done

geomean=n/a
if [ ${#ratios[@]} -gt 0 ]; then
	geomean=$(printf '%s\n' "${ratios[@]}" |
		awk '{ s += log($1); n++ } END { printf "%.2f over %d cases", exp(s / n), n }')
fi

HDR_RATIO="ratio (goevent cost / libevent cost; >1 = goevent slower)"
HDR=("case" "unit" "libevent" "goevent" "$HDR_RATIO" "raw limit")

# Plain text for the terminal.
{
	printf '%s\n' "${HDR[0]}|${HDR[1]}|${HDR[2]}|${HDR[3]}|ratio|raw limit"
	printf '%s\n' "${rows[@]}"
} | awk -F'|' '
	{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = NF }
	END {
		for (r = 1; r <= n; r++) {
			line = ""
			for (i = 1; i <= nf; i++) {
				fmt = (i == 1 || i == 2) ? "%-" w[i] "s" : "%" w[i] "s"
				line = line (i > 1 ? "  " : "") sprintf(fmt, cell[r, i])
			}
			print line
			if (r == 1) { gsub(/./, "-", line); print line }
		}
	}'
echo
echo "ratio = goevent cost / libevent cost (ns/op: goevent/libevent; MB/s: libevent/goevent);"
echo "> 1 means goevent is slower. Geometric mean: $geomean."
echo "Medians of $RUNS runs; MB/s = 10^6 bytes/s; raw limit = the same work with plain libc/syscalls."
if [ -s "$NOTES" ]; then
	echo
	echo "n/a because:"
	sed 's/^/  /' "$NOTES"
fi

# Markdown.
md=$OUT/results.md
{
	echo "# goevent vs libevent benchmarks"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'), kernel $(uname -r)"
	echo "- libevent: $(pkg-config --modversion libevent_core 2>/dev/null || echo unknown) (system)"
	rev=$(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || true)
	echo "- goevent: ${rev:-uncommitted tree}"
	echo "- runs per case: $RUNS (median shown), BENCH_SCALE=${BENCH_SCALE:-1}, wall time ${elapsed}s"
	echo "- load average (1, 5, 15 min): ${load_before:-?} before the runs, ${load_after:-?} after"
	echo
	echo "| ${HDR[0]} | ${HDR[1]} | ${HDR[2]} | ${HDR[3]} | ${HDR[4]} | ${HDR[5]} |"
	echo "|---|---|--:|--:|--:|--:|"
	for row in "${rows[@]}"; do
		echo "| ${row//|/ | } |"
	done
	echo
	echo "Geometric mean of the ratios: $geomean."
	echo
	echo "MB/s is 10^6 bytes per second. The raw limit column is the same work done with"
	echo "plain libc calls and system calls (memcpy, memmem, read/write, epoll), where such a"
	echo "limit exists; \`-\` where it does not."
	if [ -s "$NOTES" ]; then
		echo
		echo "## n/a"
		echo
		sed 's/^/- /' "$NOTES"
	fi
} >"$md"
echo "table written to $md"

# The ratio column as a chart, with python3's standard library.
svg=$OUT/results.svg
if command -v python3 >/dev/null 2>&1 && python3 "$(dirname "$0")/chart.py" "$md" "$svg"; then
	echo "chart written to $svg"
else
	echo "bench/run.sh: no chart (python3 missing, or bench/chart.py failed)" >&2
fi

# goevent failing is what the table reports; the reference or the raw limit
# failing means the benchmark itself is broken.
if grep -qE '^(libevent|raw) ' "$NOTES"; then
	echo "bench/run.sh: reference or raw cases failed (see above): the benchmark needs fixing" >&2
	exit 1
fi
