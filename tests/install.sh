#!/usr/bin/env bash
# install.sh BUILD_DIR: installs goevent into a temporary prefix and builds a
# consumer project against it twice, through pkg-config and through
# find_package(Libevent CONFIG), then runs both and checks that each loaded
# the installed goevent.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/event2/buffer.h lib/libevent_core-2.1.so.7 lib/libgoevent_engine-2.1.so.7 \
	lib/libevent-2.1.so.7 \
	lib/libevent_pthreads-2.1.so.7 lib/libevent_core.so lib/libevent.so \
	lib/pkgconfig/libevent_core.pc lib/pkgconfig/libevent.pc \
	lib/pkgconfig/libevent_pthreads.pc lib/cmake/libevent/LibeventConfig.cmake; do
	[ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done

expect="2.1.12-stable 11 consumer 42"
check() { # binary, how
	local out
	out=$(LD_LIBRARY_PATH="$prefix/lib" "$1")
	[ "$out" = "$expect" ] || { echo "$2 consumer printed '$out'"; exit 1; }
	LD_LIBRARY_PATH="$prefix/lib" LD_TRACE_LOADED_OBJECTS=1 "$1" |
		grep -q "$prefix/lib/libevent_core-2.1.so.7" ||
		{ echo "$2 consumer did not load the installed goevent"; exit 1; }
	# Its first evbuffer call loads the engine installed beside the core.
	LD_LIBRARY_PATH="$prefix/lib" LD_DEBUG=files "$1" 2>"$tmp/ld.log" >/dev/null
	grep -q "file=$prefix/lib/libgoevent_engine-2.1.so.7 .*dynamically loaded" "$tmp/ld.log" ||
		{ echo "$2 consumer did not load the installed engine"; exit 1; }
}

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -Wall -Wextra -o "$tmp/pc-consumer" "$src/install/consumer/main.c" \
	$(pkg-config --cflags --libs libevent_core libevent_pthreads)
check "$tmp/pc-consumer" pkg-config

cmake -S "$src/install/consumer" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/cm" >/dev/null
check "$tmp/cm/consumer" cmake

# Asking for a component goevent does not provide fails at configure time.
mkdir -p "$tmp/extra"
sed 's/COMPONENTS core pthreads/COMPONENTS core extra/' "$src/install/consumer/CMakeLists.txt" >"$tmp/extra/CMakeLists.txt"
cp "$src/install/consumer/main.c" "$tmp/extra/"
if cmake -S "$tmp/extra" -B "$tmp/extra/b" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/extra.log" 2>&1; then
	echo "find_package(Libevent COMPONENTS extra) succeeded but goevent has no extra"; exit 1
fi
grep -q "'extra' is not" "$tmp/extra.log" || { cat "$tmp/extra.log"; exit 1; }

echo "installed and consumed through pkg-config and CMake"
