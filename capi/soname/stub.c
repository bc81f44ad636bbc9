/*
 * stub.c: the body of libevent-2.1.so.7 and libevent_pthreads-2.1.so.7.
 *
 * goevent has exactly one implementation library, libevent_core-2.1.so.7,
 * because a process must never hold two Go runtimes. A program built against
 * libevent may ask for any of libevent's sonames; these stubs answer to the
 * other names and pull in libevent_core through DT_NEEDED, so every symbol
 * resolves to the one core library.
 */
__attribute__((visibility("hidden"))) int goevent_soname_stub_(void);
int goevent_soname_stub_(void) { return 0; }
