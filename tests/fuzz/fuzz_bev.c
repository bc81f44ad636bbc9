/*
 * fuzz_bev.c -- differential fuzzing of bufferevents (bufferevent.h)
 * through the C ABI; see fuzz.h for the frame and usage.
 *
 * A sequence creates up to six bufferevents on one base: socket
 * bufferevents over socketpairs whose other end the sequence drives by hand
 * (writes, reads, shutdown, close, close with unread data), pairs, and
 * filters over any of them (an upper-casing input filter that takes a few
 * bytes at a time and may ask for more, a copying output filter). Options:
 * CLOSE_ON_FREE, DEFER_CALLBACKS, UNLOCK_CALLBACKS and, with -t (which turns
 * on evthread_use_pthreads), THREADSAFE. Operations: writes and reads of
 * every kind, enable and disable, watermarks, timeouts (set, cleared and
 * made to expire), flush, trigger, trigger_event, priorities, references,
 * replacing callbacks, frees (also from inside callbacks), and passes of
 * the event loop.
 *
 * Callbacks report what they see and act by their mode: drain, read a
 * part, leave the data, disable reading, write more, free the bufferevent.
 * After each operation the trace lists every live bufferevent (enabled
 * events, watermarks' effect, buffer lengths, the input's hash) and what
 * waits at each socket peer.
 *
 * Timeouts make a trace depend on time only if they can race other events;
 * so a timeout is set long (it never fires within a sequence) or made to
 * expire in an operation that first stops every other source of events.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "fuzz.h"

enum {
	SKIP_FREE_UNDERLYING,
	SKIP_EXPIRE_BUSY,
	SKIP_FILTER_REENTRY,
	SKIP_LOOP_LIVELOCK,
	SKIP_PRIORITY_QUEUED,
	SKIP_FILTER_FREE_FULL,
	NRULES
};
/* free-underlying: also never from a callback (the callbacks check). */
static struct fz_rule rules[NRULES] = {
	{ "free-underlying", 0 },
	{ "expire-busy", 0 },
	{ "filter-reentry", 0 },
	{ "loop-livelock", 0 },
	{ "priority-while-queued", 0 },
	{ "filter-free-full", 0 },
};

#define NBEV 6
#define POOL (128 * 1024)

enum { K_SOCK, K_PAIR, K_FILTER };
static const char *kind_name[] = { "sock", "pair", "filter" };

struct bv {
	struct bufferevent *b;
	int kind;
	int opts;
	int peer;      /* K_SOCK: our end of its socketpair, -1 once closed */
	int peer_shut; /* K_SOCK: the peer shut its writing side (EOF waits) */
	int fd;        /* K_SOCK: the bufferevent's end */
	int partner;   /* K_PAIR: index of the other end */
	int under;     /* K_FILTER: index of the underlying */
	int filtered;  /* some filter has this one as its underlying */
	int rmode, wmode, emode;
	int reads, writes_more;
	int freed_in_cb;
};

static struct bv bvs[NBEV];
/* Descriptors of freed bufferevents without CLOSE_ON_FREE: closed when the
 * sequence ends, after the library is surely done with them (closing one
 * earlier would let a new socketpair reuse its number while the library
 * may still hold it). */
static int orphans[4 * NBEV + 64];
static int norphans;

static void orphan(int fd)
{
	if (fd < 0)
		return;
	if (norphans < (int)(sizeof(orphans) / sizeof(orphans[0])))
		orphans[norphans++] = fd;
	else
		close(fd);
}
static struct event_base *base;
static unsigned char pool[POOL];
static int threads;
static int in_cb;

static void note_made(struct bufferevent *b);
static void note_call(void);

static int index_of(const struct bufferevent *b)
{
	if (!b)
		return -1;
	for (int i = 0; i < NBEV; i++)
		if (bvs[i].b == b)
			return i;
	return -1;
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPIPE: return "EPIPE";
	case ECONNRESET: return "ECONNRESET";
	case EAGAIN: return "EAGAIN";
	case EBADF: return "EBADF";
	case ENOTCONN: return "ENOTCONN";
	default: return "E?";
	}
}

/* Frees bufferevent i (from an operation or a callback) and forgets it. A
 * filter with CLOSE_ON_FREE takes its underlying with it; a pair end's
 * partner loses its partner. */
static void forget(int i)
{
	struct bv *v = &bvs[i];
	if (v->kind == K_FILTER && v->under >= 0) {
		bvs[v->under].filtered = 0;
		if (v->opts & BEV_OPT_CLOSE_ON_FREE)
			forget(v->under);
	}
	if (v->kind == K_SOCK && !(v->opts & BEV_OPT_CLOSE_ON_FREE))
		orphan(v->fd);
	v->fd = -1; /* with CLOSE_ON_FREE, the library closes it */
	if (v->kind == K_PAIR && v->partner >= 0 && bvs[v->partner].b)
		bvs[v->partner].partner = -1;
	v->b = NULL;
}

static void free_bev(int i)
{
	bufferevent_free(bvs[i].b);
	forget(i);
}

/* ---- callbacks ------------------------------------------------------------ */

/* A callback for a bufferevent this program let go of (its filter freed
 * it with BEV_OPT_CLOSE_ON_FREE, which takes effect only when the filter
 * itself is finalized, in the loop) or whose slot holds another one now. */
static int stale(int i, const struct bufferevent *b, const char *what)
{
	if (bvs[i].b == b)
		return 0;
	fz_note("  B%d (let go) %s\n", i, what);
	return 1;
}

static void readcb(struct bufferevent *b, void *arg)
{
	note_call();
	int i = (int)(intptr_t)arg;
	struct bv *v = &bvs[i];
	struct evbuffer *in = bufferevent_get_input(b);
	size_t len = evbuffer_get_length(in);
	if (stale(i, b, "readcb"))
		return;
	v->reads++;
	fz_note("  B%d readcb len %zu\n", i, len);
	switch (v->rmode) {
	case 0:
		evbuffer_drain(in, len);
		break;
	case 1: {
		char tmp[700];
		size_t n = bufferevent_read(b, tmp, sizeof(tmp));
		fz_note("  B%d read %zu %016llx\n", i, n, (unsigned long long)fz_fnv(tmp, n));
		break;
	}
	case 2:
		break; /* leave it: watermarks decide */
	case 3:
		bufferevent_disable(b, EV_READ);
		fz_note("  B%d disables reading\n", i);
		break;
	case 4:
		if (v->reads >= 2 && !in_cb && !v->filtered && v->kind == K_FILTER &&
		    b->wm_read.high && len >= b->wm_read.high &&
		    (bufferevent_get_enabled(b) & EV_READ)) {
			/* The filter calls this without a reference of its
			 * own; after the callback, the input at its high
			 * watermark makes libevent trigger the freed filter
			 * again, which frees it a second time. */
			rules[SKIP_FILTER_FREE_FULL].count++;
			fz_note("  (skipped: filter-free-full)\n");
		} else if (v->reads >= 2 && !in_cb && !v->filtered) {
			fz_note("  B%d frees itself in readcb\n", i);
			in_cb = 1;
			free_bev(i);
			in_cb = 0;
			return;
		}
		evbuffer_drain(in, len / 2);
		break;
	}
}

static void writecb(struct bufferevent *b, void *arg)
{
	note_call();
	int i = (int)(intptr_t)arg;
	struct bv *v = &bvs[i];
	if (stale(i, b, "writecb"))
		return;
	fz_note("  B%d writecb out %zu\n", i, evbuffer_get_length(bufferevent_get_output(b)));
	if (v->wmode == 1 && v->writes_more < 3) {
		v->writes_more++;
		bufferevent_write(b, pool + 1000 * (size_t)v->writes_more, 3000);
		fz_note("  B%d writes 3000 more\n", i);
	} else if (v->wmode == 2 && !in_cb && !v->filtered) {
		fz_note("  B%d frees itself in writecb\n", i);
		in_cb = 1;
		free_bev(i);
		in_cb = 0;
	}
}

static void eventcb(struct bufferevent *b, short what, void *arg)
{
	note_call();
	int i = (int)(intptr_t)arg;
	int e = errno;
	struct bv *v = &bvs[i];
	if (stale(i, b, "eventcb"))
		return;
	fz_note("  B%d event 0x%02x errno %s enabled 0x%x\n", i, what,
	    (what & BEV_EVENT_ERROR) ? errname(e) : "-", bufferevent_get_enabled(b));
	if (v->emode == 1 && (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) && !in_cb &&
	    !v->filtered) {
		fz_note("  B%d frees itself in eventcb\n", i);
		in_cb = 1;
		free_bev(i);
		in_cb = 0;
	}
}

/* ---- filters -------------------------------------------------------------- */

static enum bufferevent_filter_result in_filter(struct evbuffer *src, struct evbuffer *dst,
    ev_ssize_t limit, enum bufferevent_flush_mode mode, void *ctx)
{
	(void)ctx;
	size_t have = evbuffer_get_length(src);
	if (have == 0)
		return BEV_OK;
	if (have < 4 && mode == BEV_NORMAL)
		return BEV_NEED_MORE;
	size_t n = have > 1500 ? 1500 : have;
	if (limit >= 0 && (size_t)limit < n)
		n = (size_t)limit;
	unsigned char tmp[1500];
	ev_ssize_t got = evbuffer_remove(src, tmp, n);
	if (got <= 0)
		return BEV_ERROR;
	for (ev_ssize_t k = 0; k < got; k++)
		if (tmp[k] >= 'a' && tmp[k] <= 'z')
			tmp[k] -= 32;
	evbuffer_add(dst, tmp, (size_t)got);
	return BEV_OK;
}

static enum bufferevent_filter_result out_filter(struct evbuffer *src, struct evbuffer *dst,
    ev_ssize_t limit, enum bufferevent_flush_mode mode, void *ctx)
{
	(void)ctx;
	(void)mode;
	size_t n = evbuffer_get_length(src);
	if (limit >= 0 && (size_t)limit < n)
		n = (size_t)limit;
	evbuffer_remove_buffer(src, dst, n);
	return BEV_OK;
}

static void free_ctx(void *ctx)
{
	fz_note("  filter context %d freed\n", (int)(intptr_t)ctx);
}

/* ---- the trace ------------------------------------------------------------ */

static void show(void)
{
	for (int i = 0; i < NBEV; i++) {
		struct bv *v = &bvs[i];
		if (!v->b)
			continue;
		struct evbuffer *in = bufferevent_get_input(v->b), *out = bufferevent_get_output(v->b);
		struct evbuffer_iovec iv[8];
		int n = evbuffer_peek(in, -1, NULL, iv, 8);
		uint64_t h = 0xcbf29ce484222325ULL;
		for (int j = 0; j < n && j < 8; j++) {
			const unsigned char *p = iv[j].iov_base;
			for (size_t x = 0; x < iv[j].iov_len; x++) {
				h ^= p[x];
				h *= 0x100000001b3ULL;
			}
		}
		fz_printf("  B%d %s en 0x%x in %zu (%016llx) out %zu", i, kind_name[v->kind],
		    bufferevent_get_enabled(v->b), evbuffer_get_length(in),
		    (unsigned long long)h, evbuffer_get_length(out));
		if (v->b->timeout_read.tv_sec || v->b->timeout_read.tv_usec)
			fz_printf(" tr %ld.%06ld", (long)v->b->timeout_read.tv_sec,
			    (long)v->b->timeout_read.tv_usec);
		if (v->b->timeout_write.tv_sec || v->b->timeout_write.tv_usec)
			fz_printf(" tw %ld.%06ld", (long)v->b->timeout_write.tv_sec,
			    (long)v->b->timeout_write.tv_usec);
		if (v->kind == K_SOCK && v->peer >= 0) {
			int pending = 0;
			ioctl(v->peer, FIONREAD, &pending);
			fz_printf(" peer has %d", pending);
		}
		fz_printf("\n");
	}
}

/* ---- creating -------------------------------------------------------------- */

static int free_slot(void)
{
	for (int i = 0; i < NBEV; i++)
		if (!bvs[i].b)
			return i;
	return -1;
}

static int pick_opts(struct fz_rng *r)
{
	int o = 0;
	if (fz_chance(r, 1, 2))
		o |= BEV_OPT_CLOSE_ON_FREE;
	if (fz_chance(r, 1, 3)) {
		o |= BEV_OPT_DEFER_CALLBACKS;
		if (fz_chance(r, 1, 3))
			o |= BEV_OPT_UNLOCK_CALLBACKS;
	}
	if (threads && fz_chance(r, 1, 2))
		o |= BEV_OPT_THREADSAFE;
	return o;
}

static void setup_cbs(int i, struct fz_rng *r)
{
	struct bv *v = &bvs[i];
	v->rmode = (int)fz_below(r, 5);
	v->wmode = (int)fz_below(r, 4);
	if (v->wmode == 3)
		v->wmode = 0;
	v->emode = (int)fz_below(r, 2);
	int which = (int)fz_below(r, 8);
	bufferevent_setcb(v->b, which & 1 ? NULL : readcb, which & 2 ? NULL : writecb,
	    which & 4 ? NULL : eventcb, (void *)(intptr_t)i);
	fz_printf(" cbs %s%s%s modes %d%d%d", which & 1 ? "-" : "r", which & 2 ? "-" : "w",
	    which & 4 ? "-" : "e", v->rmode, v->wmode, v->emode);
}

static void create(struct fz_rng *r)
{
	int i = free_slot();
	if (i < 0) {
		fz_printf("create: no slot");
		return;
	}
	struct bv *v = &bvs[i];
	memset(v, 0, sizeof(*v));
	v->peer = v->fd = v->partner = v->under = -1;
	int kind = (int)fz_below(r, 3);
	v->opts = pick_opts(r);
	if (kind == K_PAIR && i + 1 < NBEV && !bvs[i + 1].b) {
		struct bufferevent *pr[2];
		struct bv *w = &bvs[i + 1];
		if (bufferevent_pair_new(base, v->opts, pr) < 0) {
			fz_printf("pair_new failed");
			return;
		}
		memset(w, 0, sizeof(*w));
		w->peer = w->fd = w->under = -1;
		v->kind = w->kind = K_PAIR;
		w->opts = v->opts;
		v->b = pr[0];
		w->b = pr[1];
		note_made(pr[0]);
		note_made(pr[1]);
		v->partner = i + 1;
		w->partner = i;
		fz_printf("pair B%d B%d opts 0x%x", i, i + 1, v->opts);
		setup_cbs(i, r);
		setup_cbs(i + 1, r);
		return;
	}
	if (kind == K_FILTER) {
		/* Over a live bufferevent that no filter uses yet. */
		int u = (int)fz_below(r, NBEV);
		for (int k = 0; k < NBEV; k++, u = (u + 1) % NBEV)
			if (bvs[u].b && !bvs[u].filtered && u != i)
				break;
		if (bvs[u].b && !bvs[u].filtered && u != i && bvs[u].kind == K_FILTER &&
		    bvs[u].b->wm_write.high) {
			fz_printf("filter over B%d", u);
			fz_skip(SKIP_FILTER_REENTRY);
			return;
		}
		if (bvs[u].b && !bvs[u].filtered && u != i) {
			int inf = fz_chance(r, 3, 4), outf = fz_chance(r, 1, 2);
			v->b = bufferevent_filter_new(bvs[u].b, inf ? in_filter : NULL,
			    outf ? out_filter : NULL, v->opts, free_ctx, (void *)(intptr_t)i);
			if (!v->b) {
				fz_printf("filter_new failed");
				return;
			}
			note_made(v->b);
			v->kind = K_FILTER;
			v->under = u;
			bvs[u].filtered = 1;
			fz_printf("filter B%d over B%d (%s%s) opts 0x%x", i, u, inf ? "in" : "",
			    outf ? "out" : "", v->opts);
			setup_cbs(i, r);
			return;
		}
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		fz_printf("socketpair failed");
		return;
	}
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	v->kind = K_SOCK;
	v->fd = sv[0];
	v->peer = sv[1];
	if (fz_chance(r, 1, 4)) {
		/* Created without a socket, given one afterwards. */
		v->b = bufferevent_socket_new(base, -1, v->opts);
		note_made(v->b);
		bufferevent_setfd(v->b, sv[0]);
		fz_printf("socket B%d (setfd) opts 0x%x", i, v->opts);
	} else {
		v->b = bufferevent_socket_new(base, sv[0], v->opts);
		note_made(v->b);
		fz_printf("socket B%d opts 0x%x", i, v->opts);
	}
	setup_cbs(i, r);
}

/* A live bufferevent chosen by r, or -1. */
static int pick(struct fz_rng *r)
{
	int i = (int)fz_below(r, NBEV);
	for (int k = 0; k < NBEV; k++, i = (i + 1) % NBEV)
		if (bvs[i].b)
			return i;
	return -1;
}

/* A nonblocking pass of the loop goes on while callbacks are active, and
 * some states of libevent's bufferevents keep rescheduling a deferred
 * callback forever (goevent, following libevent, does the same). Such a
 * pass is ended, and the sequence stops there with a line in the trace,
 * on both libraries alike: after MAX_PASS_CALLS callbacks of this program
 * in one pass (a count, so both libraries stop at the same callback), or,
 * for a livelock that calls none of them, by a watchdog timer that finds
 * no callback of the program ran for 2 s. Time alone would not do: a
 * long but finite pass (40,000 one-byte reads) outlasts 2 s on a slow
 * enough machine (under a sanitizer and load), and then only one side is
 * cut. */
#define MAX_PASS_CALLS 1000000L
static struct event *watchdog, *expire_guard;
static int livelocked;
static int in_pass;
static long pass_calls, calls_at_watch;

/* Every callback of the program's starts with this. */
static void note_call(void)
{
	if (in_pass && ++pass_calls > MAX_PASS_CALLS && !livelocked) {
		livelocked = 1;
		event_base_loopbreak(base);
	}
}

/* Every bufferevent a sequence made. After a livelock both libraries may
 * never finish freeing some of them; kept here, they stay reachable, so
 * that a sanitizer build's leak check does not count them (what is left
 * of a livelocked sequence is libevent's doing, mirrored). */
static struct bufferevent *made[64];
static int nmade;
static struct bufferevent *abandoned[8192];
static int nabandoned;

static void note_made(struct bufferevent *b)
{
	if (b && nmade < (int)(sizeof(made) / sizeof(made[0])))
		made[nmade++] = b;
}

static void expire_guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fz_note("  no timeout within 1 s\n");
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (pass_calls != calls_at_watch) {
		/* Still making calls: the count decides. */
		struct timeval two = { 2, 0 };
		calls_at_watch = pass_calls;
		event_add(watchdog, &two);
		return;
	}
	livelocked = 1;
	event_base_loopbreak(base);
}

static void loop_passes(int n)
{
	for (int k = 0; k < n && !livelocked; k++) {
		struct timeval two = { 2, 0 };
		pass_calls = calls_at_watch = 0;
		in_pass = 1;
		event_add(watchdog, &two);
		event_base_loop(base, EVLOOP_NONBLOCK);
		event_del(watchdog);
		in_pass = 0;
		/* The notes of a livelocked pass go (a million lines, or
		 * however many rounds it made in 2 s). */
		if (livelocked) {
			fz_drop_notes();
			fz_skip(SKIP_LOOP_LIVELOCK);
		}
		fz_flush_notes();
	}
}

/* Makes bufferevent i's timeout expire, deterministically: every other
 * bufferevent stops (no reading, no writing) so that the timeout is the
 * only thing left to happen, and i has nothing to read. */
static void expire(int i, struct fz_rng *r)
{
	struct bv *v = &bvs[i];
	int write = fz_chance(r, 1, 3);
	short saved[NBEV];
	fz_printf("expire B%d %s", i, write ? "write" : "read");
	/* A read timeout cannot be made to win against an end of file that
	 * already waits on the socket: which of them a pass sees first
	 * depends on how long the process took to get there. */
	if (v->kind != K_SOCK || v->peer < 0 || v->filtered || (!write && v->peer_shut)) {
		fz_skip(SKIP_EXPIRE_BUSY);
		return;
	}
	int pending = 0;
	ioctl(v->peer, FIONREAD, &pending);
	for (int j = 0; j < NBEV; j++) {
		saved[j] = bvs[j].b ? bufferevent_get_enabled(bvs[j].b) : 0;
		if (bvs[j].b && j != i)
			bufferevent_disable(bvs[j].b, EV_READ | EV_WRITE);
	}
	/* Let deferred callbacks and frees settle. A livelocked pass ends
	 * the sequence here: what the rest would see depends on how far the
	 * livelock got, which is the machine's business. */
	loop_passes(2);
	if (livelocked)
		goto restore;
	if (!bvs[i].b) {
		fz_printf(" (gone)\n");
		goto restore;
	}
	struct timeval tv = { 0, 2000 };
	if (write) {
		/* A full socket: what the bufferevent holds cannot leave. */
		static char junk[4096];
		while (send(v->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		bufferevent_disable(v->b, EV_READ);
		bufferevent_write(v->b, pool, 100);
		bufferevent_set_timeouts(v->b, NULL, &tv);
		bufferevent_enable(v->b, EV_WRITE);
	} else {
		/* Nothing to read: whatever the peer sent and the bufferevent
		 * did not read yet is taken away. */
		char junk[65536];
		while (read(v->fd, junk, sizeof(junk)) > 0)
			;
		bufferevent_disable(v->b, EV_WRITE);
		bufferevent_set_timeouts(v->b, &tv, NULL);
		struct evbuffer *in = bufferevent_get_input(v->b);
		if (v->b->wm_read.high && evbuffer_get_length(in) >= v->b->wm_read.high)
			evbuffer_drain(in, evbuffer_get_length(in));
		bufferevent_enable(v->b, EV_READ);
	}
	fz_printf(" (peer had %d)\n", pending);
	fz_flush_notes();
	/* Until the timeout came (or, should it never come, 1 s: a timer of
	 * the harness's own, deleted afterwards, so that nothing of it is
	 * left to end a later pass). */
	struct timeval limit = { 1, 0 };
	event_add(expire_guard, &limit);
	event_base_loop(base, EVLOOP_ONCE);
	event_del(expire_guard);
	fz_flush_notes();
	loop_passes(1);
	if (bvs[i].b && !livelocked) {
		/* The timeout is cleared, and so is the interval libevent keeps
		 * in a persistent event whose timeout fired: set_timeouts(NULL)
		 * alone leaves it there while the event is not added, and the
		 * event's next run would arm a 2 ms timeout again (whether it
		 * then expires before the next pass would be the machine's
		 * business). Removing the timer of an added event clears it. */
		struct timeval long30 = { 30, 0 };
		struct bufferevent *b = bvs[i].b;
		short en = bufferevent_get_enabled(b);
		bufferevent_set_timeouts(b, &long30, &long30);
		bufferevent_enable(b, EV_READ | EV_WRITE);
		bufferevent_set_timeouts(b, NULL, NULL);
		bufferevent_disable(b, (short)(~en & (EV_READ | EV_WRITE)));
	}
restore:
	for (int j = 0; j < NBEV; j++)
		if (bvs[j].b && j != i && saved[j])
			bufferevent_enable(bvs[j].b, saved[j]);
	fz_printf("  expired");
}

static void op(uint64_t seed, int idx)
{
	struct fz_rng r = fz_op_rng(seed, idx);
	int kind = (int)fz_below(&r, 30);
	int i = pick(&r);
	size_t k = fz_size(&r, 40000);
	size_t off = fz_below(&r, POOL - 40001);
	long res = 0;

	fz_printf("%d: ", idx);
	if (i < 0 || kind < 3) {
		create(&r);
		fz_printf("\n");
		fz_flush_notes();
		show();
		return;
	}
	struct bv *v = &bvs[i];
	struct bufferevent *b = v->b;
	fz_printf("B%d ", i);
	switch (kind) {
	case 3: case 4: case 5:
		fz_printf("write %zu", k);
		res = bufferevent_write(b, pool + off, k);
		break;
	case 6: {
		struct evbuffer *tmp = evbuffer_new();
		evbuffer_add(tmp, pool + off, k);
		fz_printf("write_buffer %zu", k);
		res = bufferevent_write_buffer(b, tmp);
		evbuffer_free(tmp);
		break;
	}
	case 7: {
		unsigned char *tmp = malloc(k + 1);
		fz_printf("read %zu", k);
		res = (long)bufferevent_read(b, tmp, k);
		fz_printf(" %016llx", (unsigned long long)fz_fnv(tmp, (size_t)res));
		free(tmp);
		break;
	}
	case 8: {
		struct evbuffer *tmp = evbuffer_new();
		fz_printf("read_buffer");
		res = bufferevent_read_buffer(b, tmp);
		fz_printf(" got %zu", evbuffer_get_length(tmp));
		evbuffer_free(tmp);
		break;
	}
	case 9: case 10: {
		short ev = (short)(fz_chance(&r, 1, 2) ? EV_READ : fz_chance(&r, 1, 2) ? EV_WRITE :
		    EV_READ | EV_WRITE);
		int en = fz_chance(&r, 2, 3);
		fz_printf("%s 0x%x", en ? "enable" : "disable", ev);
		res = en ? bufferevent_enable(b, ev) : bufferevent_disable(b, ev);
		break;
	}
	case 11: {
		short ev = fz_chance(&r, 1, 2) ? EV_READ : EV_WRITE;
		size_t lo = fz_chance(&r, 1, 3) ? 0 : fz_size(&r, 20000);
		size_t hi = fz_chance(&r, 1, 3) ? 0 : lo + fz_size(&r, 30000);
		fz_printf("setwatermark %s %zu %zu", ev == EV_READ ? "read" : "write", lo, hi);
		if (ev == EV_WRITE && hi && v->kind == K_FILTER && v->filtered) {
			fz_skip(SKIP_FILTER_REENTRY);
			res = -9;
			break;
		}
		bufferevent_setwatermark(b, ev, lo, hi);
		fz_printf(" -> wm %zu/%zu", ev == EV_READ ? b->wm_read.low : b->wm_write.low,
		    ev == EV_READ ? b->wm_read.high : b->wm_write.high);
		break;
	}
	case 12: {
		/* Long timeouts (never due within a sequence) or none. */
		struct timeval t1 = { 30, 0 }, t2 = { 20, 500000 };
		int which = (int)fz_below(&r, 4);
		fz_printf("set_timeouts %d", which);
		res = bufferevent_set_timeouts(b, which & 1 ? &t1 : NULL, which & 2 ? &t2 : NULL);
		fz_printf(" -> %ld.%06ld %ld.%06ld", (long)b->timeout_read.tv_sec,
		    (long)b->timeout_read.tv_usec, (long)b->timeout_write.tv_sec,
		    (long)b->timeout_write.tv_usec);
		break;
	}
	case 13:
		expire(i, &r);
		break;
	case 14: case 15: case 16: case 17:
		fz_printf("loop");
		fz_printf("\n");
		loop_passes(1 + (int)fz_below(&r, 3));
		show();
		return;
	case 18: {
		int peer_op = (int)fz_below(&r, 6);
		if (v->kind != K_SOCK || v->peer < 0) {
			fz_printf("peer: none");
			break;
		}
		switch (peer_op) {
		case 0: case 1: case 2:
			fz_printf("peer write %zu", k);
			res = write(v->peer, pool + off, k > 60000 ? 60000 : k);
			break;
		case 3: {
			char tmp[65536];
			fz_printf("peer read");
			ssize_t n = read(v->peer, tmp, fz_chance(&r, 1, 2) ? sizeof(tmp) : 1 + k % 5000);
			res = n;
			if (n > 0)
				fz_printf(" %016llx", (unsigned long long)fz_fnv(tmp, (size_t)n));
			break;
		}
		case 4:
			fz_printf("peer shutdown");
			res = shutdown(v->peer, SHUT_WR);
			v->peer_shut = 1;
			break;
		default:
			fz_printf("peer close");
			res = close(v->peer);
			v->peer = -1;
			break;
		}
		break;
	}
	case 19: {
		static const int modes[] = { BEV_NORMAL, BEV_FLUSH, BEV_FINISHED };
		short ev = fz_chance(&r, 1, 2) ? EV_READ : EV_WRITE;
		int m = (int)fz_below(&r, 3);
		fz_printf("flush 0x%x mode %d", ev, m);
		res = bufferevent_flush(b, ev, (enum bufferevent_flush_mode)modes[m]);
		break;
	}
	case 20: {
		short ev = fz_chance(&r, 1, 2) ? EV_READ : EV_WRITE;
		int o = (fz_chance(&r, 1, 2) ? BEV_TRIG_IGNORE_WATERMARKS : 0) |
		    (fz_chance(&r, 1, 2) ? BEV_TRIG_DEFER_CALLBACKS : 0);
		fz_printf("trigger 0x%x opts 0x%x", ev, o);
		bufferevent_trigger(b, ev, o);
		break;
	}
	case 21: {
		static const short evs[] = { BEV_EVENT_EOF | BEV_EVENT_READING,
			BEV_EVENT_ERROR | BEV_EVENT_WRITING, BEV_EVENT_CONNECTED,
			BEV_EVENT_TIMEOUT | BEV_EVENT_READING };
		short ev = evs[fz_below(&r, 4)];
		int o = fz_chance(&r, 1, 2) ? BEV_TRIG_DEFER_CALLBACKS : 0;
		fz_printf("trigger_event 0x%x opts 0x%x", ev, o);
		errno = 0;
		bufferevent_trigger_event(b, ev, o);
		break;
	}
	case 22: {
		/* Only with no deferred callback of b queued: libevent changes
		 * a queued callback's priority in place, and taking it off its
		 * queue later looks in the wrong one (the loop then spins
		 * forever; goevent does the same). A pass of the loop first
		 * leaves nothing queued, unless the watchdog cut it short. */
		int p = (int)fz_below(&r, 3);
		fz_printf("loop, priority_set %d\n", p);
		loop_passes(1);
		if (livelocked) {
			/* The watchdog cut the pass short: callbacks may
			 * still be queued. */
			fz_skip(SKIP_PRIORITY_QUEUED);
			break;
		}
		if (!bvs[i].b) {
			fz_printf("  (freed in the loop)");
			break;
		}
		res = bufferevent_priority_set(b, p);
		break;
	}
	case 23:
		fz_printf("incref/decref");
		bufferevent_incref(b);
		res = bufferevent_decref(b);
		break;
	case 24:
		fz_printf("setcb");
		setup_cbs(i, &r);
		break;
	case 25:
		fz_printf("lock/unlock");
		bufferevent_lock(b);
		res = (long)evbuffer_get_length(bufferevent_get_input(b));
		bufferevent_unlock(b);
		break;
	case 26:
		fz_printf("get");
		fz_printf(" enabled 0x%x underlying %d partner %d", bufferevent_get_enabled(b),
		    index_of(bufferevent_get_underlying(b)),
		    index_of(bufferevent_pair_get_partner(b)));
		break;
	default:
		fz_printf("free");
		if (v->filtered) {
			fz_skip(SKIP_FREE_UNDERLYING);
			res = -9;
			break;
		}
		free_bev(i);
		break;
	}
	fz_printf(" -> %ld\n", res);
	fz_flush_notes();
	show();
}

static void sequence(uint64_t seed, int nops)
{
	struct fz_rng r = fz_op_rng(seed, -1);
	struct event_config *cfg = event_config_new();
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	event_base_priority_init(base, 3);
	memset(bvs, 0, sizeof(bvs));
	for (int i = 0; i < NBEV; i++)
		bvs[i].peer = bvs[i].fd = -1;
	(void)r;
	livelocked = 0;
	watchdog = evtimer_new(base, watchdog_cb, NULL);
	/* The most urgent priority: a livelock of callbacks at priority 0
	 * would otherwise keep a watchdog of a lower one from ever running. */
	event_priority_set(watchdog, 0);
	expire_guard = evtimer_new(base, expire_guard_cb, NULL);
	for (int i = 0; i < nops && !livelocked; i++)
		if (fz_kept(i))
			op(seed, i);
	fz_printf("end\n");
	loop_passes(2);
	show();
	/* Filters first (they hold their underlying), then the rest. */
	for (int i = 0; i < NBEV; i++)
		if (bvs[i].b && bvs[i].kind == K_FILTER && !bvs[i].filtered)
			free_bev(i);
	for (int pass = 0; pass < NBEV; pass++)
		for (int i = 0; i < NBEV; i++)
			if (bvs[i].b && !bvs[i].filtered)
				free_bev(i);
	loop_passes(2);
	event_free(watchdog);
	event_free(expire_guard);
	for (int i = 0; livelocked && i < nmade; i++)
		if (nabandoned < (int)(sizeof(abandoned) / sizeof(abandoned[0])))
			abandoned[nabandoned++] = made[i];
	nmade = 0;
	event_base_free(base);
	fz_flush_notes();
	for (int i = 0; i < NBEV; i++) {
		if (bvs[i].peer >= 0)
			close(bvs[i].peer);
		bvs[i].peer = -1;
	}
	for (int i = 0; i < norphans; i++)
		close(orphans[i]);
	norphans = 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "-t") == 0) {
		threads = 1;
		evthread_use_pthreads();
		argc--;
		argv++;
	}
	struct fz_rng r = { 0xbe5eed };
	for (size_t i = 0; i < POOL; i++)
		pool[i] = (unsigned char)('a' + fz_next(&r) % 26);
	return fz_main(argc, argv, 40, rules, NRULES, sequence);
}
