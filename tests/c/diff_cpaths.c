/*
 * diff_cpaths: the paths goevent runs in C without entering Go, pushed to
 * their edges so that a C path that strays from libevent shows in the trace.
 *
 *  1. A socket bufferevent (BEV_OPT_CLOSE_ON_FREE) freed inside its own read
 *     callback, another inside its own write callback (after a write, and
 *     with nothing to write), one freed while the program holds an extra
 *     reference (the fd closes only at the last bufferevent_decref), one
 *     that sets a high mark and then frees itself; each peer then reads
 *     EOF, and the loop goes on serving another bufferevent.
 *  2. A read callback that sets a read high watermark: below the data it
 *     leaves (reading suspends, the callback is re-run, draining resumes
 *     reading) and above it (the next read is cut at the mark).
 *  3. The peer closes: data, then BEV_EVENT_EOF|READING (the event callback
 *     frees the bufferevent); the peer closes with unread data on its side
 *     (ECONNRESET on AF_UNIX), then a write gets EPIPE; writing to a peer
 *     that closed cleanly (EPIPE). errno is printed by name.
 *  4. The write callback under a write low watermark (exactly at the mark,
 *     below it, empty), with an incref/decref pair and a setcb inside it,
 *     and a refill from inside the callback after the write event was
 *     removed; enabling writing with an empty output.
 *  5. setcb inside the read callback: the next read goes to the new
 *     callback, a NULL read callback lets data pile up, a read low
 *     watermark holds the callback back. max_single_read/write cutting
 *     each read and write (a max_single_read above INT_MAX wraps, as
 *     libevent's int parameter makes it). Reading disabled inside the read
 *     callback.
 *  6. Filters over a socket bufferevent, with a C input filter: transfers of
 *     a few hundred KB both ways (one filter with the underlying's write
 *     high watermark set, and a filter stacked on a filter), hashed; a
 *     filter read callback that sets a high watermark on the filter; a
 *     filter read timeout that data keeps pushing back and that fires once
 *     the data stops; a filter freed inside its own read callback; the
 *     filter's write hook while the filter's writing is disabled.
 *  7. evbuffer callbacks disabled (the C fast paths then apply) and enabled
 *     again: the counts a callback sees afterwards, one operation at a time;
 *     evbuffer_remove_buffer taking all of src, with frozen ends, datlen 0,
 *     src == dst, and with callbacks on either side.
 *  8. (last: evthread_use_pthreads is process-wide) A lockable base, whose
 *     loop goevent runs in C under a lock: another thread's event_del on an
 *     event whose callback is running returns only after the callback has
 *     finished; a callback deleting its own event does not wait; another
 *     thread's event_active wakes a blocked loop; a socket bufferevent
 *     freed in its read callback and a socket transfer on that base.
 *
 * Every case prints lengths, flags, data and hashes, never addresses, fd
 * numbers or timings, and runs on socketpairs with short loop timeouts.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "trace.h"
#include "bevtest.h"

/* ---- helpers ------------------------------------------------------------ */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* What a peer fd reads now: its data, EOF (the other end is closed), or
 * EAGAIN (still open, nothing to read). The peer is non-blocking. */
static void peer_read(const char *label, int fd)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0)
		printf("  %s: read -> -1 %s\n", label, tr_errname(errno));
	else if (n == 0)
		printf("  %s: read -> 0 (EOF)\n", label);
	else {
		printf("  %s: read -> %zd ", label, n);
		tr_esc(buf, (size_t)n);
		putchar('\n');
	}
}

/* Prints and drains a bufferevent's whole input. */
static void take_input(const char *label, struct bufferevent *bev)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	tr_buf(label, in);
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* An event callback that prints what it got; errno (by name) only with
 * BEV_EVENT_ERROR, since on EOF or a timeout it is whatever was left. */
static void print_event(const char *who, struct bufferevent *bev, short what)
{
	int e = EVUTIL_SOCKET_ERROR();
	printf("  %s: event 0x%02x", who, what);
	if (what & BEV_EVENT_ERROR)
		printf(" errno %s", tr_errname(e));
	printf(" enabled 0x%x\n", bufferevent_get_enabled(bev));
}

static void named_ecb(struct bufferevent *bev, short what, void *arg)
{
	print_event(arg ? (const char *)arg : "?", bev, what);
}

static void named_rcb(struct bufferevent *bev, void *arg)
{
	char label[64];
	snprintf(label, sizeof(label), "  %s: read cb", arg ? (const char *)arg : "?");
	take_input(label, bev);
}

/* For bufferevents whose callback argument is not a name. */
static void anon_ecb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	print_event("bev", bev, what);
}

/* ---- 1. freed inside its own callbacks ---------------------------------- */

static void free_in_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	printf("  read cb: input %zu, freeing\n", in_len(bev));
	bufferevent_free(bev);
}

static void free_in_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	printf("  write cb: output %zu, freeing\n", out_len(bev));
	bufferevent_free(bev);
}

static void mark_and_free(struct bufferevent *bev, void *arg)
{
	(void)arg;
	printf("  read cb: input %zu, high mark 2, freeing\n", in_len(bev));
	bufferevent_setwatermark(bev, EV_READ, 0, 2);
	bufferevent_free(bev);
}

static void case_free_in_callbacks(void)
{
	int a[2], b[2], c[2], d[2];
	struct event_base *base = event_base_new();
	printf("1. freed inside its own callbacks\n");

	/* The read handler holds a reference of its own while the callback
	 * runs; the free must finish after it, and close the fd. */
	make_pair(a);
	struct bufferevent *r = bufferevent_socket_new(base, a[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(r, free_in_read, NULL, NULL, NULL);
	bufferevent_enable(r, EV_READ);
	put(a[1], "hello", 5);
	spin(base, 40);
	peer_read("peer of the read-freed", a[1]);

	/* The same from the write handler, right after its write. */
	make_pair(b);
	struct bufferevent *w = bufferevent_socket_new(base, b[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(w, NULL, free_in_write, NULL, NULL);
	bufferevent_write(w, "bye", 3);
	spin(base, 40);
	peer_read("peer of the write-freed", b[1]);
	peer_read("peer of the write-freed", b[1]);

	/* With a reference the program holds, the free inside the callback
	 * is not the last: the fd stays open until bufferevent_decref. */
	make_pair(d);
	struct bufferevent *x = bufferevent_socket_new(base, d[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_incref(x);
	bufferevent_setcb(x, free_in_read, NULL, NULL, NULL);
	bufferevent_enable(x, EV_READ);
	put(d[1], "ref", 3);
	spin(base, 40);
	peer_read("peer while a reference is held", d[1]);
	printf("  bufferevent_decref -> %d\n", bufferevent_decref(x));
	spin(base, 20);
	peer_read("peer after the last decref", d[1]);

	/* The write handler also calls the write callback when it finds the
	 * output empty (writing enabled with nothing queued). */
	int e[2];
	make_pair(e);
	w = bufferevent_socket_new(base, e[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(w, NULL, free_in_write, NULL, NULL);
	bufferevent_enable(w, EV_WRITE);
	spin(base, 40);
	peer_read("peer of the write-freed (empty output)", e[1]);

	/* A read callback that sets a high mark under the data it leaves,
	 * then frees: the re-run libevent schedules for the callback finds
	 * no callback any more. */
	int h[2];
	make_pair(h);
	x = bufferevent_socket_new(base, h[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(x, mark_and_free, NULL, NULL, NULL);
	bufferevent_enable(x, EV_READ);
	put(h[1], "marked", 6);
	spin(base, 40);
	peer_read("peer of the marked-and-freed", h[1]);

	/* The loop still serves others. */
	make_pair(c);
	struct bufferevent *o = bufferevent_socket_new(base, c[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(o, named_rcb, NULL, named_ecb, "other");
	bufferevent_enable(o, EV_READ);
	put(c[1], "still served", 12);
	spin(base, 40);
	bufferevent_free(o);
	spin(base, 10);
	peer_read("peer of other", c[1]);
	close(a[1]);
	close(b[1]);
	close(c[1]);
	close(d[1]);
	close(e[1]);
	close(h[1]);
	event_base_free(base);
}

/* ---- 2. a read high watermark set by the read callback ----------------- */

struct hw {
	int calls;
	int peer;
	size_t high;      /* what the first call sets */
	size_t peer_more; /* what the first call makes the peer write */
	size_t drain2;    /* what the second call drains (0: all) */
};

static void hw_rcb(struct bufferevent *bev, void *arg)
{
	struct hw *h = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);
	char fill[256];
	h->calls++;
	printf("  read cb #%d: input %zu enabled 0x%x\n", h->calls, n,
	    bufferevent_get_enabled(bev));
	if (h->calls == 1) {
		bufferevent_setwatermark(bev, EV_READ, 0, h->high);
		memset(fill, 'm', sizeof(fill));
		put(h->peer, fill, h->peer_more);
		printf("    set high %zu, peer wrote %zu more\n", h->high, h->peer_more);
	} else if (h->calls == 2 && h->drain2) {
		evbuffer_drain(in, h->drain2);
		printf("    drained to %zu\n", evbuffer_get_length(in));
	} else {
		evbuffer_drain(in, n);
		printf("    drained all\n");
	}
}

static void run_hw(const char *title, size_t first, size_t high, size_t more, size_t drain2)
{
	int p[2];
	char data[256];
	struct event_base *base = event_base_new();
	struct hw h = {0, 0, high, more, drain2};
	printf("  -- %s\n", title);
	make_pair(p);
	h.peer = p[1];
	struct bufferevent *bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, hw_rcb, NULL, anon_ecb, &h);
	bufferevent_enable(bev, EV_READ);
	memset(data, 'h', sizeof(data));
	put(p[1], data, first);
	spin(base, 60);
	printf("  after: calls %d input %zu enabled 0x%x\n", h.calls, in_len(bev),
	    bufferevent_get_enabled(bev));
	/* Dropping the mark lets anything left in the socket in. */
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	spin(base, 30);
	printf("  mark cleared: calls %d input %zu\n", h.calls, in_len(bev));
	bufferevent_free(bev);
	close(p[1]);
	event_base_free(base);
}

static void case_high_from_readcb(void)
{
	printf("2. read high watermark set inside the read callback\n");
	/* 100 in, mark 40: suspended at once; libevent re-runs the callback
	 * (deferred) while the input stays at the mark; draining to 30 lets
	 * 10 more in, then 40 at a time. */
	run_hw("mark below the data left", 100, 40, 50, 70);
	/* 100 in, mark 150: not suspended, but the next read stops at 150. */
	run_hw("mark above the data left", 100, 150, 100, 0);
}

/* ---- 3. EOF, ECONNRESET, EPIPE ------------------------------------------ */

static void eof_ecb(struct bufferevent *bev, short what, void *arg)
{
	print_event((const char *)arg, bev, what);
	if (what & BEV_EVENT_EOF) {
		printf("  freeing in the event callback\n");
		bufferevent_free(bev);
	}
}

static void case_peer_closes(void)
{
	int e[2], f[2], g[2];
	struct event_base *base = event_base_new();
	struct linger lg = {1, 0};
	printf("3. the peer closes\n");

	/* Data first, then EOF on the next read. */
	make_pair(e);
	struct bufferevent *be = bufferevent_socket_new(base, e[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(be, named_rcb, NULL, eof_ecb, "eof");
	bufferevent_enable(be, EV_READ);
	put(e[1], "last words", 10);
	close(e[1]);
	spin(base, 40);

	/* A peer that closes with data it never read: on AF_UNIX the reader
	 * gets what was sent to it, then ECONNRESET (once). Writing after
	 * that fails with EPIPE. */
	make_pair(f);
	struct bufferevent *bf = bufferevent_socket_new(base, f[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bf, named_rcb, NULL, named_ecb, "reset");
	put(f[0], "never read", 10);
	put(f[1], "reply", 5);
	if (setsockopt(f[1], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
		printf("  SO_LINGER failed\n");
	close(f[1]);
	bufferevent_enable(bf, EV_READ);
	spin(base, 40);
	bufferevent_write(bf, "late", 4);
	spin(base, 40);
	printf("  reset: output %zu enabled 0x%x\n", out_len(bf), bufferevent_get_enabled(bf));
	bufferevent_free(bf);

	/* Writing to a peer that closed cleanly. */
	make_pair(g);
	close(g[1]);
	struct bufferevent *bg = bufferevent_socket_new(base, g[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bg, NULL, NULL, named_ecb, "epipe");
	bufferevent_write(bg, "into the void", 13);
	spin(base, 40);
	printf("  epipe: output %zu enabled 0x%x\n", out_len(bg), bufferevent_get_enabled(bg));
	bufferevent_free(bg);
	spin(base, 10);
	event_base_free(base);
}

/* ---- 4. the write callback under a low watermark ------------------------ */

static int wcb_calls;
static int refilled;

/* The peer of case 4 reads whatever has arrived at each write callback:
 * an AF_UNIX socket whose peer holds more than a quarter of the send
 * buffer unread stops polling writable, which would stall the refill
 * below on how the kernel accounts its buffers rather than on the
 * library. */
static int wpeer = -1;
static unsigned char wgot[60000];
static size_t wgot_len;

static void drain_wpeer(void)
{
	ssize_t k;
	while (wpeer >= 0 && wgot_len < sizeof(wgot) &&
	    (k = read(wpeer, wgot + wgot_len, sizeof(wgot) - wgot_len)) > 0)
		wgot_len += (size_t)k;
}

static void wm_wcb2(struct bufferevent *bev, void *arg)
{
	(void)arg;
	wcb_calls++;
	printf("  second write cb (#%d): output %zu\n", wcb_calls, out_len(bev));
	drain_wpeer();
	if (!refilled && out_len(bev) == 0) {
		/* The handler removed the write event (nothing left): adding
		 * data from here must bring it back. */
		refilled = 1;
		bufferevent_write(bev, "0123456789", 10);
		printf("    refilled: output %zu\n", out_len(bev));
	}
}

static void wm_wcb1(struct bufferevent *bev, void *arg)
{
	wcb_calls++;
	printf("  first write cb (#%d): output %zu\n", wcb_calls, out_len(bev));
	drain_wpeer();
	bufferevent_incref(bev);
	printf("    incref, then decref -> %d\n", bufferevent_decref(bev));
	bufferevent_setcb(bev, NULL, wm_wcb2, named_ecb, arg);
}

static void case_write_lowmark(void)
{
	int p[2];
	struct event_base *base = event_base_new();
	static unsigned char big[50000];
	struct tr_rng rng = {4};
	printf("4. write callback under a write low watermark\n");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)tr_next(&rng);
	make_pair(p);
	struct bufferevent *bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	/* One write takes at most 16384 bytes (libevent's default single
	 * write), so the output goes 50000, 33616, 17232, 848, 0: the mark
	 * sits exactly on one of those steps. */
	bufferevent_setwatermark(bev, EV_WRITE, 17232, 0);
	bufferevent_setcb(bev, NULL, wm_wcb1, named_ecb, "lowmark");
	wcb_calls = refilled = 0;
	wpeer = p[1];
	wgot_len = 0;
	bufferevent_write(bev, big, sizeof(big));
	spin(base, 60);
	printf("  callbacks %d output %zu\n", wcb_calls, out_len(bev));
	/* What the peer got, in full. */
	drain_wpeer();
	printf("  peer got %zu, first 50000 match: %s, tail ", wgot_len,
	    wgot_len >= sizeof(big) && memcmp(wgot, big, sizeof(big)) == 0 ? "yes" : "no");
	tr_esc(wgot + (wgot_len > sizeof(big) ? sizeof(big) : wgot_len),
	    wgot_len > sizeof(big) ? wgot_len - sizeof(big) : 0);
	putchar('\n');
	wpeer = -1;
	bufferevent_free(bev);
	close(p[1]);

	/* Enabling writing with nothing to write runs the write callback
	 * once (output 0 is under any low mark), then the event goes. */
	make_pair(p);
	bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	wcb_calls = 0;
	refilled = 1;
	bufferevent_setcb(bev, NULL, wm_wcb2, named_ecb, "empty");
	bufferevent_enable(bev, EV_WRITE);
	spin(base, 40);
	printf("  empty output: callbacks %d\n", wcb_calls);
	bufferevent_free(bev);
	close(p[1]);
	spin(base, 10);
	event_base_free(base);
}

/* ---- 5. setcb inside the read callback ---------------------------------- */

static void rd_second(struct bufferevent *bev, void *arg)
{
	take_input("  second read cb", bev);
	bufferevent_setcb(bev, NULL, NULL, named_ecb, arg);
}

static void rd_first(struct bufferevent *bev, void *arg)
{
	take_input("  first read cb", bev);
	bufferevent_setcb(bev, rd_second, NULL, named_ecb, arg);
}

static void case_setcb_in_readcb(void)
{
	int p[2];
	struct event_base *base = event_base_new();
	printf("5. setcb inside the read callback\n");
	make_pair(p);
	struct bufferevent *bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, rd_first, NULL, named_ecb, "setcb");
	bufferevent_enable(bev, EV_READ);
	put(p[1], "one", 3);
	spin(base, 30);
	put(p[1], "two", 3);
	spin(base, 30);
	put(p[1], "three", 5);
	spin(base, 30);
	printf("  no read callback: input %zu\n", in_len(bev));
	/* With a low mark of 8 the callback waits for 8 bytes in all. */
	bufferevent_setwatermark(bev, EV_READ, 8, 0);
	bufferevent_setcb(bev, rd_first, NULL, named_ecb, "setcb");
	put(p[1], "ab", 2);
	spin(base, 30);
	printf("  under the low mark: input %zu\n", in_len(bev));
	put(p[1], "cd", 2);
	spin(base, 30);
	printf("  input %zu\n", in_len(bev));
	bufferevent_free(bev);
	close(p[1]);
	spin(base, 10);
	event_base_free(base);
}

/* 5b: the read and write handlers take at most max_single_read and
 * max_single_write bytes per event. */
static void size_rcb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	take_input("  read cb", bev);
}

static void size_wcb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	printf("  write cb: output %zu\n", out_len(bev));
}

static void run_max_read(struct event_base *base, size_t max)
{
	int p[2];
	make_pair(p);
	struct bufferevent *bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_set_max_single_read(bev, max);
	printf("  max_single_read %#zx: get %lld\n", max,
	    (long long)bufferevent_get_max_single_read(bev));
	bufferevent_setcb(bev, size_rcb, NULL, named_ecb, "max read");
	bufferevent_enable(bev, EV_READ);
	put(p[1], "0123456789abcdefghij", 20);
	spin(base, 40);
	bufferevent_free(bev);
	close(p[1]);
	spin(base, 10);
}

static void case_single_sizes(void)
{
	int p[2];
	char buf[64];
	struct event_base *base = event_base_new();
	printf("5b. max_single_read and max_single_write\n");
	run_max_read(base, 7);
	/* libevent passes the read limit to evbuffer_read as an int, so a
	 * max_single_read above INT_MAX wraps: 2^32+7 reads 7 bytes per
	 * event, and 2^40 becomes a 0-byte read, taken for EOF. */
	run_max_read(base, ((size_t)1 << 32) + 7);
	run_max_read(base, (size_t)1 << 40);
	make_pair(p);
	struct bufferevent *bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_set_max_single_write(bev, 5);
	/* A low mark above the data: the callback follows every write. */
	bufferevent_setwatermark(bev, EV_WRITE, 100, 0);
	bufferevent_setcb(bev, NULL, size_wcb, named_ecb, "max write");
	bufferevent_write(bev, "twelve bytes", 12);
	spin(base, 40);
	ssize_t n = read(p[1], buf, sizeof(buf));
	printf("  peer got %zd ", n);
	tr_esc(buf, n > 0 ? (size_t)n : 0);
	putchar('\n');
	bufferevent_free(bev);
	close(p[1]);
	spin(base, 10);
	event_base_free(base);
}

/* 5c: reading disabled inside the read callback. */
static void disabling_rcb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	take_input("  read cb", bev);
	bufferevent_disable(bev, EV_READ);
	printf("    disabled reading: enabled 0x%x\n", bufferevent_get_enabled(bev));
}

static void case_disable_in_readcb(void)
{
	int p[2];
	struct event_base *base = event_base_new();
	printf("5c. reading disabled inside the read callback\n");
	make_pair(p);
	struct bufferevent *bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, disabling_rcb, NULL, named_ecb, "disable");
	bufferevent_enable(bev, EV_READ);
	put(p[1], "first", 5);
	spin(base, 30);
	put(p[1], "second", 6);
	spin(base, 30);
	printf("  while disabled: input %zu\n", in_len(bev));
	bufferevent_enable(bev, EV_READ);
	spin(base, 30);
	bufferevent_free(bev);
	close(p[1]);
	spin(base, 10);
	event_base_free(base);
}

/* ---- 6. filters ---------------------------------------------------------- */

static int trace_in;

/* The identity input filter, in C (goevent then runs the filter's read
 * step in C too); it moves up to the limit, everything when there is none,
 * as libevent's own null filter does. */
static enum bufferevent_filter_result
id_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *ctx)
{
	size_t len = evbuffer_get_length(src);
	int r;
	(void)mode;
	(void)ctx;
	r = evbuffer_remove_buffer(src, dst, lim < 0 ? len : (size_t)lim);
	if (trace_in)
		printf("      id_in(src %zu, lim %ld) -> %d\n", len, (long)lim, r);
	return r >= 0 ? BEV_OK : BEV_ERROR;
}

/* An output filter that XORs every byte with the key in ctx (0: identity)
 * and honours the limit. It may be re-entered: in a stack, adding to dst
 * (the lower filter's output) runs the lower filter, whose write callback
 * is this filter's write hook, which runs this function again on the same
 * src. So it trusts only what evbuffer_remove returns. */
static enum bufferevent_filter_result
xor_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *ctx)
{
	unsigned char key = (unsigned char)(uintptr_t)ctx;
	unsigned char tmp[4096];
	size_t n = evbuffer_get_length(src);
	(void)mode;
	if (lim >= 0 && (size_t)lim < n)
		n = (size_t)lim;
	while (n > 0) {
		size_t k = n < sizeof(tmp) ? n : sizeof(tmp);
		int got = evbuffer_remove(src, tmp, k);
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++)
			tmp[i] ^= key;
		evbuffer_add(dst, tmp, (size_t)got);
		n -= (size_t)got;
	}
	return BEV_OK;
}

/* One end of a transfer: what it must receive and what it got. */
struct xfer {
	const char *name;
	size_t want, got;
	uint64_t hash;
	int wcbs;
	struct xfer *other;
	struct event_base *base;
};

static void xfer_rcb(struct bufferevent *bev, void *arg)
{
	struct xfer *x = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char buf[8192];
	size_t n;
	while ((n = evbuffer_get_length(in)) > 0) {
		if (n > sizeof(buf))
			n = sizeof(buf);
		evbuffer_remove(in, buf, n);
		x->hash = tr_fnv1a_update(x->hash, buf, n);
		x->got += n;
	}
	if (x->got >= x->want && x->other->got >= x->other->want)
		event_base_loopbreak(x->base);
}

static void xfer_wcb(struct bufferevent *bev, void *arg)
{
	struct xfer *x = arg;
	(void)bev;
	x->wcbs++;
}

static void xfer_ecb(struct bufferevent *bev, short what, void *arg)
{
	struct xfer *x = arg;
	print_event(x->name, bev, what);
}

static unsigned char *make_data(size_t n, uint64_t seed)
{
	unsigned char *d = malloc(n);
	struct tr_rng r = {seed};
	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)tr_next(&r);
	return d;
}

/* Sends n bytes each way between top (a filter stack whose output XORs with
 * key in all) and peer (a plain socket bufferevent), and prints what each
 * got against what was sent. */
static void transfer(struct event_base *base, struct bufferevent *top,
    struct bufferevent *peer, size_t n, unsigned char key)
{
	unsigned char *down = make_data(n, 11), *up = make_data(n, 12);
	struct xfer xt = {"top", n, 0, 0xcbf29ce484222325ULL, 0, NULL, base};
	struct xfer xp = {"peer", n, 0, 0xcbf29ce484222325ULL, 0, NULL, base};
	struct timeval safety = {5, 0};
	uint64_t want_top = tr_fnv1a(up, n), want_peer;
	xt.other = &xp;
	xp.other = &xt;
	bufferevent_setcb(top, xfer_rcb, xfer_wcb, xfer_ecb, &xt);
	bufferevent_setcb(peer, xfer_rcb, xfer_wcb, xfer_ecb, &xp);
	bufferevent_enable(top, EV_READ | EV_WRITE);
	bufferevent_enable(peer, EV_READ | EV_WRITE);
	bufferevent_write(top, down, n);
	bufferevent_write(peer, up, n);
	event_base_loopexit(base, &safety);
	event_base_dispatch(base);
	for (size_t i = 0; i < n; i++)
		down[i] ^= key;
	want_peer = tr_fnv1a(down, n);
	printf("  top got %zu hash %016llx (%s), its write cbs %d\n", xt.got,
	    (unsigned long long)xt.hash, xt.hash == want_top ? "as sent" : "WRONG", xt.wcbs);
	printf("  peer got %zu hash %016llx (%s)\n", xp.got,
	    (unsigned long long)xp.hash, xp.hash == want_peer ? "as sent" : "WRONG");
	printf("  top in %zu out %zu, peer in %zu out %zu\n", in_len(top), out_len(top),
	    in_len(peer), out_len(peer));
	/* The xfer records die with this frame. */
	bufferevent_setcb(top, NULL, NULL, named_ecb, "top");
	bufferevent_setcb(peer, NULL, NULL, named_ecb, "peer");
	free(down);
	free(up);
}

static void case_filter_transfers(void)
{
	int p[2];
	struct event_base *base = event_base_new();
	printf("6a. filter over a socket, 300000 bytes each way\n");
	make_pair(p);
	struct bufferevent *s = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *q = bufferevent_socket_new(base, p[1], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *f = bufferevent_filter_new(s, id_in, xor_out,
	    BEV_OPT_CLOSE_ON_FREE, NULL, (void *)(uintptr_t)0x5a);
	/* The output filter stops at the underlying's write high mark, so
	 * the filter's write hook on the underlying has work each time. */
	bufferevent_setwatermark(s, EV_WRITE, 0, 8192);
	transfer(base, f, q, 300000, 0x5a);
	/* Freeing the filter frees (and closes) the socket under it. */
	bufferevent_free(f);
	spin(base, 30);
	bufferevent_free(q);
	spin(base, 10);

	printf("6b. a filter on a filter, 200000 bytes each way\n");
	make_pair(p);
	s = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	q = bufferevent_socket_new(base, p[1], BEV_OPT_CLOSE_ON_FREE);
	f = bufferevent_filter_new(s, id_in, xor_out, BEV_OPT_CLOSE_ON_FREE, NULL,
	    (void *)(uintptr_t)0x0f);
	struct bufferevent *g = bufferevent_filter_new(f, id_in, xor_out,
	    BEV_OPT_CLOSE_ON_FREE, NULL, (void *)(uintptr_t)0xf0);
	transfer(base, g, q, 200000, 0x0f ^ 0xf0);
	bufferevent_free(g);
	spin(base, 30);
	bufferevent_free(q);
	spin(base, 10);
	event_base_free(base);
}

/* 6c: the filter's read callback sets a high watermark on the filter. */
struct fhw {
	int calls, depth, peer;
};

static void fhw_rcb(struct bufferevent *bev, void *arg)
{
	struct fhw *h = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char fill[64];
	h->calls++;
	h->depth++;
	printf("    F read cb #%d (depth %d): input %zu\n", h->calls, h->depth,
	    evbuffer_get_length(in));
	if (h->calls == 1) {
		bufferevent_setwatermark(bev, EV_READ, 0, 30);
		memset(fill, 'w', sizeof(fill));
		put(h->peer, fill, 60);
		printf("    set F's high mark 30, peer wrote 60\n");
	} else if (h->calls == 2) {
		evbuffer_drain(in, 80);
		printf("    drained to %zu\n", evbuffer_get_length(in));
	} else {
		evbuffer_drain(in, evbuffer_get_length(in));
		printf("    drained all (depth %d)\n", h->depth);
	}
	h->depth--;
}

static void case_filter_high(void)
{
	int p[2];
	char data[100];
	struct event_base *base = event_base_new();
	struct fhw h = {0, 0, 0};
	printf("6c. filter read callback sets a high mark on the filter\n");
	make_pair(p);
	h.peer = p[1];
	struct bufferevent *s = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *f = bufferevent_filter_new(s, id_in, NULL,
	    BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	bufferevent_setcb(f, fhw_rcb, NULL, anon_ecb, &h);
	bufferevent_enable(f, EV_READ);
	memset(data, 'v', sizeof(data));
	put(p[1], data, sizeof(data));
	trace_in = 1;
	spin(base, 60);
	printf("  after: calls %d, F input %zu enabled 0x%x, S input %zu\n", h.calls,
	    in_len(f), bufferevent_get_enabled(f), in_len(s));
	/* libevent 2.1.12 leaves bytes in the underlying's input when the
	 * filter's input reached its mark; only the next read moves them
	 * on, up to the mark again. */
	put(p[1], "12345", 5);
	spin(base, 30);
	trace_in = 0;
	printf("  after 5 more: calls %d, F input %zu, S input %zu\n", h.calls,
	    in_len(f), in_len(s));
	bufferevent_free(f);
	spin(base, 10);
	peer_read("peer after freeing F", p[1]);
	close(p[1]);
	event_base_free(base);
}

/* 6d: a read timeout on the filter. */
static void write_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	put(*(int *)arg, "tick", 4);
}

static void case_filter_timeout(void)
{
	int p[2];
	struct event_base *base = event_base_new();
	struct timeval t300 = {0, 300000}, t200 = {0, 200000}, t400 = {0, 400000};
	printf("6d. filter read timeout\n");
	make_pair(p);
	struct bufferevent *s = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *f = bufferevent_filter_new(s, id_in, NULL,
	    BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	bufferevent_setcb(f, named_rcb, NULL, named_ecb, "F");
	/* Timeout 300 ms; data at 200 and 400 ms. Each read pushes the
	 * deadline back (to 500, then 700 ms); without that the timeout
	 * would fire at 300 ms, before the second read. 100 ms of margin
	 * either way. */
	bufferevent_set_timeouts(f, &t300, NULL);
	bufferevent_enable(f, EV_READ);
	event_base_once(base, -1, EV_TIMEOUT, write_later, &p[1], &t200);
	event_base_once(base, -1, EV_TIMEOUT, write_later, &p[1], &t400);
	spin(base, 900);
	printf("  F enabled 0x%x\n", bufferevent_get_enabled(f));
	bufferevent_free(f);
	spin(base, 10);
	close(p[1]);
	event_base_free(base);
}

/* 6e: a filter freed inside its own read callback. */
static void free_filter_rcb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	printf("  F read cb: input %zu, freeing F\n", in_len(bev));
	bufferevent_free(bev);
}

static void case_filter_free_in_readcb(void)
{
	int p[2];
	struct event_base *base = event_base_new();
	printf("6e. filter freed inside its read callback\n");
	make_pair(p);
	struct bufferevent *s = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *f = bufferevent_filter_new(s, id_in, NULL,
	    BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	bufferevent_setcb(f, free_filter_rcb, NULL, named_ecb, "F");
	bufferevent_enable(f, EV_READ);
	put(p[1], "gone", 4);
	spin(base, 40);
	peer_read("peer", p[1]);
	close(p[1]);
	event_base_free(base);
}

/* 6f: the filter's write hook on its underlying while the filter's own
 * writing is off. libevent's filter does not run its output filter when
 * writing is re-enabled; the bytes move on at the next write to the
 * filter. */
static void peer_drain(const char *label, int fd)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));
	printf("  %s: peer got %zd ", label, n < 0 ? (ssize_t)0 : n);
	tr_esc(buf, n > 0 ? (size_t)n : 0);
	putchar('\n');
}

static void case_filter_write_disabled(void)
{
	int p[2];
	struct event_base *base = event_base_new();
	printf("6f. filter writing disabled with output pending\n");
	make_pair(p);
	struct bufferevent *s = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *f = bufferevent_filter_new(s, id_in, xor_out,
	    BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	bufferevent_setcb(f, NULL, size_wcb, named_ecb, "F");
	/* The output filter moves at most 8 bytes into the underlying. */
	bufferevent_setwatermark(s, EV_WRITE, 0, 8);
	bufferevent_write(f, "abcdefghijklmnopqrst", 20);
	printf("  wrote 20: F out %zu, S out %zu\n", out_len(f), out_len(s));
	bufferevent_disable(f, EV_WRITE);
	spin(base, 30);
	peer_drain("F writing off", p[1]);
	printf("  F out %zu, S out %zu\n", out_len(f), out_len(s));
	bufferevent_enable(f, EV_WRITE);
	spin(base, 30);
	peer_drain("F writing on again", p[1]);
	printf("  F out %zu, S out %zu\n", out_len(f), out_len(s));
	bufferevent_write(f, "!", 1);
	spin(base, 30);
	peer_drain("after one more byte", p[1]);
	printf("  F out %zu, S out %zu\n", out_len(f), out_len(s));
	bufferevent_free(f);
	spin(base, 10);
	close(p[1]);
	event_base_free(base);
}

/* ---- 7. evbuffer callbacks disabled, evbuffer_remove_buffer -------------- */

static void info_cb(struct evbuffer *b, const struct evbuffer_cb_info *i, void *arg)
{
	printf("    cb %s: orig %zu added %zu deleted %zu (len %zu)\n",
	    (const char *)arg, i->orig_size, i->n_added, i->n_deleted,
	    evbuffer_get_length(b));
}

static int cleanups;
static void count_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)arg;
	cleanups++;
	printf("    cleanup of a %zu-byte reference\n", len);
}

static const char refdata[] = "referenced bytes";

/* One operation on b while its callbacks are disabled; scratch is a buffer
 * without callbacks. */
static void do_op(int op, struct evbuffer *b, struct evbuffer *scratch, int pfd[2])
{
	char tmp[64];
	struct evbuffer_iovec v[2];
	size_t n;
	char *line;
	switch (op) {
	case 0: evbuffer_add(b, "abcdefghij", 10); break;
	case 1: evbuffer_drain(b, 4); break;
	case 2: evbuffer_remove(b, tmp, 3); break;
	case 3: evbuffer_prepend(b, "PP", 2); break;
	case 4: evbuffer_add_printf(b, "<%d>", 12345); break;
	case 5:
		if (evbuffer_reserve_space(b, 6, v, 2) < 1)
			break;
		memset(v[0].iov_base, 'r', 6);
		v[0].iov_len = 6;
		evbuffer_commit_space(b, v, 1);
		break;
	case 6: evbuffer_add_reference(b, refdata, 5, NULL, NULL); break;
	case 7:
		evbuffer_add(scratch, "moved in", 8);
		evbuffer_add_buffer(b, scratch);
		break;
	case 8: evbuffer_remove_buffer(b, scratch, 5); break;
	case 9:
		evbuffer_add(b, "line one\n", 9);
		line = evbuffer_readln(b, &n, EVBUFFER_EOL_LF);
		free(line);
		break;
	case 10:
		put(pfd[1], "from a pipe", 11);
		evbuffer_read(b, pfd[0], 64);
		break;
	case 11:
		evbuffer_write_atmost(b, pfd[1], 7);
		if (read(pfd[0], tmp, sizeof(tmp)) != 7)
			printf("    pipe read short\n");
		break;
	case 12: evbuffer_add_buffer(scratch, b); break;
	case 13: evbuffer_prepend_buffer(b, scratch); break;
	case 14: evbuffer_remove_buffer(b, scratch, (size_t)-1); break;
	case 15: evbuffer_add(b, "", 0); break;
	}
	evbuffer_drain(scratch, evbuffer_get_length(scratch));
}

static const char *op_names[] = {
	"add 10", "drain 4", "remove 3", "prepend 2", "add_printf",
	"reserve+commit 6", "add_reference 5", "add_buffer in", "remove_buffer 5",
	"add+readln", "read from pipe", "write_atmost 7", "add_buffer out (all)",
	"prepend_buffer (empty src)", "remove_buffer all", "add 0",
};

static void case_evbuffer_disabled_cbs(void)
{
	struct evbuffer *b = evbuffer_new(), *scratch = evbuffer_new();
	int pfd[2];
	printf("7a. evbuffer callbacks disabled, then enabled again\n");
	if (pipe(pfd) != 0)
		exit(1);
	evutil_make_socket_nonblocking(pfd[0]);
	struct evbuffer_cb_entry *cb = evbuffer_add_cb(b, info_cb, "A");
	evbuffer_add(b, "abc", 3);
	/* Several operations while disabled, then one add enabled. */
	evbuffer_cb_clear_flags(b, cb, EVBUFFER_CB_ENABLED);
	evbuffer_add(b, "0123456789", 10);
	evbuffer_drain(b, 5);
	evbuffer_prepend(b, "xy", 2);
	evbuffer_add_printf(b, "%s", "printf");
	evbuffer_drain(b, 1);
	printf("  disabled: len %zu\n", evbuffer_get_length(b));
	evbuffer_cb_set_flags(b, cb, EVBUFFER_CB_ENABLED);
	printf("  enabled again, add 1\n");
	evbuffer_add(b, "!", 1);
	/* Then each operation on its own. */
	for (int op = 0; op < (int)(sizeof(op_names) / sizeof(op_names[0])); op++) {
		evbuffer_cb_clear_flags(b, cb, EVBUFFER_CB_ENABLED);
		do_op(op, b, scratch, pfd);
		printf("  disabled, %s: len %zu\n", op_names[op], evbuffer_get_length(b));
		evbuffer_cb_set_flags(b, cb, EVBUFFER_CB_ENABLED);
		evbuffer_add(b, "+", 1);
	}
	tr_buf("  contents", b);
	/* set_flags(0) adds no flag: the callback stays enabled. */
	evbuffer_cb_set_flags(b, cb, 0);
	printf("  set_flags 0, drain 2\n");
	evbuffer_drain(b, 2);
	/* clear_flags(0) clears nothing either. */
	evbuffer_cb_clear_flags(b, cb, 0);
	printf("  clear_flags 0, add 3\n");
	evbuffer_add(b, "xyz", 3);
	/* One enabled, one disabled: the enabled one sees each change. */
	struct evbuffer_cb_entry *cb2 = evbuffer_add_cb(b, info_cb, "B");
	evbuffer_cb_clear_flags(b, cb, EVBUFFER_CB_ENABLED);
	printf("  A disabled, B enabled: add 4, drain 3\n");
	evbuffer_add(b, "wxyz", 4);
	evbuffer_drain(b, 3);
	evbuffer_cb_set_flags(b, cb, EVBUFFER_CB_ENABLED);
	printf("  both enabled: add 2\n");
	evbuffer_add(b, "12", 2);
	/* Both disabled, then B removed and a new one added. */
	evbuffer_cb_clear_flags(b, cb, EVBUFFER_CB_ENABLED);
	evbuffer_cb_clear_flags(b, cb2, EVBUFFER_CB_ENABLED);
	evbuffer_add(b, "3456", 4);
	evbuffer_remove_cb_entry(b, cb2);
	evbuffer_drain(b, 1);
	evbuffer_remove_cb_entry(b, cb);
	evbuffer_add(b, "78", 2);
	evbuffer_add_cb(b, info_cb, "C");
	printf("  callbacks removed, C added: add 1\n");
	evbuffer_add(b, "9", 1);
	evbuffer_free(b);
	evbuffer_free(scratch);
	close(pfd[0]);
	close(pfd[1]);
}

/* A remove_buffer case: src and dst hold the given data; the freeze and
 * the callbacks are applied before the call. */
static void rb_case(const char *title, const char *sdata, const char *ddata,
    int freeze, size_t datlen, int same, int cbs)
{
	struct evbuffer *src = evbuffer_new(), *dst = evbuffer_new();
	printf("  -- %s\n", title);
	/* Several chains in src: a plain one, a reference, a plain one. */
	if (sdata) {
		evbuffer_add(src, sdata, strlen(sdata));
		evbuffer_add_reference(src, refdata, sizeof(refdata) - 1, count_cleanup, NULL);
		evbuffer_add(src, "tail", 4);
	}
	if (ddata)
		evbuffer_add(dst, ddata, strlen(ddata));
	if (cbs & 1)
		evbuffer_add_cb(src, info_cb, "src");
	if (cbs & 2)
		evbuffer_add_cb(dst, info_cb, "dst");
	switch (freeze) {
	case 1: evbuffer_freeze(src, 0); break;
	case 2: evbuffer_freeze(src, 1); break;
	case 3: evbuffer_freeze(dst, 0); break;
	case 4: evbuffer_freeze(dst, 1); break;
	}
	int r = evbuffer_remove_buffer(src, same ? src : dst, datlen);
	printf("  remove_buffer -> %d\n", r);
	tr_full("  src", src);
	tr_full("  dst", dst);
	cleanups = 0;
	evbuffer_free(src);
	evbuffer_free(dst);
	printf("  cleanups at free: %d\n", cleanups);
}

static void case_remove_buffer(void)
{
	printf("7b. evbuffer_remove_buffer\n");
	rb_case("all of src, src frozen at its end", "head-", "dst-", 1, (size_t)-1, 0, 0);
	rb_case("all of src, src frozen at its start", "head-", "dst-", 2, (size_t)-1, 0, 0);
	rb_case("all of src, dst frozen at its end", "head-", "dst-", 3, (size_t)-1, 0, 0);
	rb_case("all of src, dst frozen at its start", "head-", "dst-", 4, (size_t)-1, 0, 0);
	rb_case("datlen exactly the length", "head-", "dst-", 0, 25, 0, 0);
	rb_case("datlen 0", "head-", "dst-", 0, 0, 0, 0);
	rb_case("src == dst", "head-", NULL, 0, (size_t)-1, 1, 0);
	rb_case("src empty", NULL, "dst-", 0, (size_t)-1, 0, 0);
	rb_case("src empty, dst frozen at its end", NULL, "dst-", 3, (size_t)-1, 0, 0);
	rb_case("into an empty dst", "head-", NULL, 0, (size_t)-1, 0, 0);
	rb_case("part of src (into the reference)", "head-", "dst-", 0, 9, 0, 0);
	rb_case("all, callbacks on src", "head-", "dst-", 0, (size_t)-1, 0, 1);
	rb_case("all, callbacks on dst", "head-", "dst-", 0, (size_t)-1, 0, 2);
	rb_case("all, callbacks on both, src frozen at its end", "head-", "dst-", 1,
	    (size_t)-1, 0, 3);
}

/* ---- 8. a lockable base (last: evthread_use_pthreads is global) --------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started, cb_done;
static struct event slow_ev, self_ev, target_ev, idle_ev, safety_ev;
static struct event_base *tbase;

static void slow_cb(evutil_socket_t fd, short what, void *arg)
{
	char c;
	(void)what;
	(void)arg;
	if (read(fd, &c, 1) != 1)
		printf("  slow cb: nothing to read?!\n");
	printf("  slow cb: start\n");
	pthread_mutex_lock(&mu);
	started = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	/* The other thread calls event_del meanwhile. */
	sleep_ms(50);
	printf("  slow cb: end\n");
	pthread_mutex_lock(&mu);
	cb_done = 1;
	pthread_mutex_unlock(&mu);
}

static void *deleter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!started)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	int r = event_del(&slow_ev);
	pthread_mutex_lock(&mu);
	int done = cb_done;
	pthread_mutex_unlock(&mu);
	printf("  deleter: event_del -> %d, callback had finished: %s\n", r,
	    done ? "yes" : "no");
	return NULL;
}

static void self_cb(evutil_socket_t fd, short what, void *arg)
{
	char c;
	(void)what;
	(void)arg;
	if (read(fd, &c, 1) != 1)
		printf("  self cb: nothing to read?!\n");
	/* From the loop's own thread event_del must not wait for the
	 * callback that is running (this one). */
	printf("  self cb: event_del on itself -> %d\n", event_del(&self_ev));
}

static void target_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  target cb: what 0x%x\n", what);
	event_base_loopbreak(tbase);
}

static void safety_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	printf("  safety timer: the loop was not woken\n");
	event_base_loopbreak(tbase);
}

static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  idle cb?! what 0x%x\n", what);
}

static void *activator(void *arg)
{
	(void)arg;
	sleep_ms(50); /* the loop is blocked in its wait by now */
	event_active(&target_ev, EV_READ | EV_WRITE, 1);
	return NULL;
}

static void case_lockable_base(void)
{
	int sp[2], ip[2], p[2];
	pthread_t th;
	struct timeval t3 = {3, 0};
	printf("8. lockable base\n");
	printf("  evthread_use_pthreads -> %d\n", evthread_use_pthreads());
	tbase = event_base_new();
	if (!tbase || pipe(sp) != 0 || pipe(ip) != 0) {
		printf("  setup failed\n");
		exit(1);
	}

	printf("  -- event_del from another thread while the callback runs\n");
	event_assign(&slow_ev, tbase, sp[0], EV_READ | EV_PERSIST, slow_cb, NULL);
	event_add(&slow_ev, NULL);
	put(sp[1], "s", 1);
	pthread_create(&th, NULL, deleter, NULL);
	spin(tbase, 200);
	pthread_join(th, NULL);
	printf("  slow pending after: 0x%x\n", event_pending(&slow_ev, EV_READ, NULL));

	printf("  -- event_del on itself from its callback\n");
	event_assign(&self_ev, tbase, sp[0], EV_READ | EV_PERSIST, self_cb, NULL);
	event_add(&self_ev, NULL);
	put(sp[1], "t", 1);
	spin(tbase, 50);
	printf("  self pending after: 0x%x\n", event_pending(&self_ev, EV_READ, NULL));

	printf("  -- event_active from another thread wakes the loop\n");
	/* The loop's only events: a read nobody satisfies and a 3 s
	 * safety timer. */
	event_assign(&idle_ev, tbase, ip[0], EV_READ | EV_PERSIST, idle_cb, NULL);
	event_add(&idle_ev, NULL);
	evtimer_assign(&safety_ev, tbase, safety_cb, NULL);
	event_add(&safety_ev, &t3);
	event_assign(&target_ev, tbase, -1, 0, target_cb, NULL);
	pthread_create(&th, NULL, activator, NULL);
	int r = event_base_dispatch(tbase);
	pthread_join(th, NULL);
	printf("  dispatch -> %d got_break %d\n", r, event_base_got_break(tbase));
	event_del(&safety_ev);
	event_del(&idle_ev);

	printf("  -- a socket bufferevent freed in its read callback\n");
	make_pair(p);
	struct bufferevent *fr = bufferevent_socket_new(tbase, p[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(fr, free_in_read, NULL, NULL, NULL);
	bufferevent_enable(fr, EV_READ);
	put(p[1], "locked", 6);
	spin(tbase, 40);
	peer_read("peer", p[1]);
	close(p[1]);

	printf("  -- socket bufferevents on the lockable base, 200000 bytes each way\n");
	make_pair(p);
	struct bufferevent *a = bufferevent_socket_new(tbase, p[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *b = bufferevent_socket_new(tbase, p[1], BEV_OPT_CLOSE_ON_FREE);
	transfer(tbase, a, b, 200000, 0);
	bufferevent_free(a);
	spin(tbase, 20);
	bufferevent_free(b);
	spin(tbase, 10);

	event_base_free(tbase);
	close(sp[0]);
	close(sp[1]);
	close(ip[0]);
	close(ip[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	tr_init();
	case_free_in_callbacks();
	case_high_from_readcb();
	case_peer_closes();
	case_write_lowmark();
	case_setcb_in_readcb();
	case_single_sizes();
	case_disable_in_readcb();
	case_filter_transfers();
	case_filter_high();
	case_filter_timeout();
	case_filter_free_in_readcb();
	case_filter_write_disabled();
	case_evbuffer_disabled_cbs();
	case_remove_buffer();
	case_lockable_base();
	printf("done\n");
	return 0;
}
