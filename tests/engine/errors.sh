#!/usr/bin/env bash
# errors.sh BUILD_DIR: engine_errors under every way the engine can be
# missing or wrong. Each case must fail cleanly (see engine_errors.c).
set -euo pipefail
build=$(cd "$1" && pwd)
libdir=$build/lib
prog=$build/tests/engine/engine_errors
fake=$build/tests/engine/libfake_engine.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

run() { # name, path fragment, reason fragment, then env assignments
	local name=$1 path=$2 why=$3
	shift 3
	echo "== $name"
	if ! env "$@" "$prog" "$path" "$why"; then
		echo "FAILED: $name"
		status=1
	fi
}

run "no such file" /nonexistent/engine.so "No such file" \
	LD_LIBRARY_PATH="$libdir" GOEVENT_ENGINE=/nonexistent/engine.so

head -c 4096 /dev/urandom >"$tmp/garbage.so"
run "not an ELF file" "$tmp/garbage.so" "invalid ELF header" \
	LD_LIBRARY_PATH="$libdir" GOEVENT_ENGINE="$tmp/garbage.so"

mkdir "$tmp/dir.so"
run "a directory" "$tmp/dir.so" "Is a directory" \
	LD_LIBRARY_PATH="$libdir" GOEVENT_ENGINE="$tmp/dir.so"

run "a library that is not an engine" libevent-2.1.so.7 "no goevent_engine_attach" \
	LD_LIBRARY_PATH="$libdir" GOEVENT_ENGINE="$libdir/libevent-2.1.so.7"

run "an engine of another version" libfake_engine.so "another version" \
	LD_LIBRARY_PATH="$libdir" GOEVENT_ENGINE="$fake"

# A copy of the core library with no engine beside it: the path tried is
# next to the copy that was loaded.
mkdir "$tmp/lonely"
cp "$libdir/libevent_core-2.1.so.7" "$tmp/lonely/"
run "no engine beside the core library" "$tmp/lonely/libgoevent_engine-2.1.so.7" "No such file" \
	LD_LIBRARY_PATH="$tmp/lonely"

if [ "$(id -u)" != 0 ]; then
	cp "$libdir/libgoevent_engine-2.1.so.7" "$tmp/unreadable.so"
	chmod 000 "$tmp/unreadable.so"
	run "unreadable" "$tmp/unreadable.so" "Permission denied" \
		LD_LIBRARY_PATH="$libdir" GOEVENT_ENGINE="$tmp/unreadable.so"
else
	echo "== unreadable: skipped (root reads any file)"
fi
exit $status
