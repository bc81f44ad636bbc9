#!/usr/bin/env bash
# exports.sh LIBDIR MAPFILE: the core library's dynamic symbol table holds
# exactly libevent's public names (the list in MAPFILE), the engine exports
# nothing but its attach function, and the stub sonames export none of their
# own.
set -eu
libdir=$1 map=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -n 's/^    \([a-z_0-9]*\);$/\1/p' "$map" | sort -u >"$tmp/public"
nm -D --defined-only "$libdir/libevent_core-2.1.so.7" | awk '{print $3}' | sort -u >"$tmp/exported"
extra=$(comm -13 "$tmp/public" "$tmp/exported")
if [ -n "$extra" ]; then
	echo "exported but not public: $extra"
	exit 1
fi
missing=$(comm -23 "$tmp/public" "$tmp/exported")
if [ -n "$missing" ]; then
	echo "public but not exported: $missing"
	exit 1
fi
for stub in libevent-2.1.so.7 libevent_pthreads-2.1.so.7; do
	own=$(nm -D --defined-only "$libdir/$stub" | awk '$2=="T"{print $3}')
	if [ -n "$own" ]; then
		echo "$stub exports its own symbols: $own"
		exit 1
	fi
	readelf -d "$libdir/$stub" | grep -q 'NEEDED.*libevent_core-2.1.so.7' || { echo "$stub does not need libevent_core"; exit 1; }
done
engine=$(nm -D --defined-only "$libdir/libgoevent_engine-2.1.so.7" | awk '{print $3}')
if [ "$engine" != goevent_engine_attach ]; then
	echo "the engine exports more than goevent_engine_attach: $engine"
	exit 1
fi
echo "$(wc -l <"$tmp/exported") exported symbols, exactly the public ones; engine and stubs clean"
