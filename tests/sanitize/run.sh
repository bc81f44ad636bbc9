#!/usr/bin/env bash
# run.sh BUILD_DIR [ctest arguments...]
# Runs the tests of a build configured with -DGE_SANITIZE=ON (make
# sanitize) under AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer. Each differential test still runs three ways
# (tests/difftest.sh), which also fails on any sanitizer report in any run;
# every other test fails on one through its exit status (ASan and LSan exit
# non-zero, UBSan aborts: the build uses -fno-sanitize-recover).
set -eu
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)

# use_sigaltstack=0: when a thread that ASan gave an alternate signal stack
# is cancelled inside epoll_wait (diff_threads_stress cancels a loop thread
# waiting there), ASan's teardown of that thread reports a stack overflow
# in its own sigaltstack call: a false positive of ASan with the Go
# runtime's signal-stack handling, not a goevent access.
export ASAN_OPTIONS="use_sigaltstack=0:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# install and dropin check packaging with programs compiled outside the
# sanitized build (they cannot load an ASan library); make test runs them.
cd "$build"
exec ctest --output-on-failure -E '^(install|dropin)$' "$@"
