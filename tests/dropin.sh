#!/usr/bin/env bash
# dropin.sh SRC_DIR LIBDIR: the drop-in case end to end. The echo server and
# client from examples/ are built against the system libevent (as any
# Debian program is), then run unchanged with LD_LIBRARY_PATH pointing at
# goevent. The test checks in /proc/PID/maps that the running server really
# mapped goevent's library and not the system one, and that every echoed
# byte came back.
set -euo pipefail
src=$1 libdir=$(cd "$2" && pwd)
tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

flags=$(pkg-config --cflags --libs libevent_core)
# shellcheck disable=SC2086
cc -std=gnu99 -O2 -o "$tmp/echo_server" "$src/examples/echo_server.c" $flags
# shellcheck disable=SC2086
cc -std=gnu99 -O2 -o "$tmp/echo_client" "$src/examples/echo_client.c" $flags
readelf -d "$tmp/echo_server" | grep -q 'NEEDED.*libevent_core-2.1.so.7'

LD_LIBRARY_PATH=$libdir "$tmp/echo_server" 0 --once >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 100); do
	grep -q 'listening on' "$tmp/server.out" 2>/dev/null && break
	sleep 0.05
done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/server.out")
[ -n "$port" ] || { echo "server did not start"; cat "$tmp/server.err"; exit 1; }

maps=$(grep 'libevent\|libgoevent' "/proc/$server_pid/maps" | awk '{print $6}' | sort -u)
echo "server (pid $server_pid) mapped: $maps"
echo "$maps" | grep -qx "$libdir/libevent_core-2.1.so.7" || { echo "server did not load goevent"; exit 1; }
echo "$maps" | grep -qx "$libdir/libgoevent_engine-2.1.so.7" || { echo "server did not load goevent's engine"; exit 1; }
if echo "$maps" | grep -v "^$libdir/" | grep -q .; then
	echo "server also mapped a libevent that is not goevent's"; exit 1
fi

LD_LIBRARY_PATH=$libdir timeout 60 "$tmp/echo_client" "$port" 500
wait "$server_pid"
server_pid=
echo "libevent-built echo server and client ran on goevent"
