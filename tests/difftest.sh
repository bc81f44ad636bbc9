#!/usr/bin/env bash
# difftest.sh REF_BIN GE_BIN GE_LIBDIR
# Runs one differential test three ways and requires identical traces:
#   1. REF_BIN: built against the system libevent and run on it;
#   2. GE_BIN:  built against goevent's headers and library;
#   3. REF_BIN again, on goevent through LD_LIBRARY_PATH (the drop-in case).
# A trace is the program's stdout plus its exit status. stderr is shown on a
# mismatch but not compared: log wording is not part of the contract.
set -u
ref=$1 ge=$2 libdir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
limit=${DIFFTEST_TIMEOUT:-60}
for bin in "$ref" "$ge"; do
	# Two missing binaries would otherwise "agree" on exit 127.
	[ -x "$bin" ] || { echo "missing test binary: $bin" >&2; exit 1; }
done

run() { # name, then command
	local name=$1; shift
	timeout -k 5 "$limit" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
	echo "exit $?" >>"$tmp/$name.out"
}

# libevent's own leaks are not goevent's to answer for (it leaks where
# goevent does not, e.g. buffers that reference each other's chains), so a
# sanitizer build's libevent run does not look for leaks; a leak of the
# test program itself still shows in goevent's runs.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" run ref "$ref"
run ge "$ge"
others=ge
# A test that calls no library function (abi_layout) needs no library, so
# there is nothing to drop in under it.
if readelf -d "$ref" | grep -q 'NEEDED.*libevent'; then
	# Prove the drop-in run really loads goevent before trusting its trace.
	if ! LD_LIBRARY_PATH="$libdir" LD_TRACE_LOADED_OBJECTS=1 "$ref" | grep -q "$libdir/libevent_core-2.1.so.7"; then
		echo "drop-in run of $ref would not load $libdir/libevent_core-2.1.so.7" >&2
		exit 1
	fi
	LD_LIBRARY_PATH="$libdir" run dropin "$ref"
	others="ge dropin"
fi

status=0
# A sanitizer build (make sanitize) must give no report on any run, also
# where both libraries' traces agree (a test reading freed memory does so
# on both).
for name in ref $others; do
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|:[0-9]+:[0-9]+: runtime error: ' "$tmp/$name.err"; then
		echo "== sanitizer report in the $name run:"
		head -n 40 "$tmp/$name.err"
		status=1
	fi
done
for other in $others; do
	if ! diff -u "$tmp/ref.out" "$tmp/$other.out" >"$tmp/$other.diff"; then
		echo "== trace of $other differs from libevent's:"
		head -n 60 "$tmp/$other.diff"
		echo "== stderr of $other:"; head -n 20 "$tmp/$other.err"
		status=1
	fi
done
if [ "$status" = 0 ]; then
	echo "identical traces ($(wc -l <"$tmp/ref.out") lines): libevent and $others"
fi
exit $status
