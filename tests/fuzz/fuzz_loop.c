/*
 * fuzz_loop.c -- differential fuzzing of the event loop (event.h) through
 * the C ABI; see fuzz.h for the frame and usage.
 *
 * A sequence makes a base (one to four priorities, sometimes a limit on
 * callbacks between checks for higher priorities) and up to twelve events
 * on it: timers, reads and writes (plain, persistent, edge-triggered, with
 * EV_CLOSED) on socketpairs whose other ends the sequence drives, signals
 * (raised by the sequence itself), and events that only event_active
 * wakes. Operations: assign, add with a timeout or none, delete, remove
 * the timeout, activate, change priority, query pending, free, one-shot
 * callbacks (event_base_once), writes and reads at the peers, raising a
 * signal, active_by_fd and active_by_signal, and passes of the loop (with
 * EVLOOP_NONBLOCK, EVLOOP_ONCE, loopbreak and loopexit from callbacks).
 *
 * Callbacks report what woke them and act by their mode: nothing, delete
 * themselves, add themselves again, activate another event, break or
 * continue the loop, free themselves.
 *
 * Time: on the sequence's base a timeout is zero (due at the next pass,
 * always) or long (60 s: never due within a sequence), so that nothing
 * depends on how fast the machine runs. Short timeouts are exercised in a
 * "burst" of their own: a separate base with only timers (all on one common
 * timeout, or each due later than the one added before it whatever the
 * time between the adds), all of one priority; they must fire in the order
 * they were added.
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
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>

#include "fuzz.h"

enum {
	SKIP_ASSIGN_ADDED,
	NRULES
};
static struct fz_rule rules[NRULES] = {
	{ "assign-added", 0 },
};

#define NEV 12
#define NFD 3

struct ev {
	struct event *e;
	int used;
	int kind;  /* 0 timer, 1 fd, 2 signal, 3 user */
	short what;
	int fdi;
	int sig;
	int mode;
	int fired;
};

static struct ev evs[NEV];
static struct event_base *base;
static int fds[NFD][2]; /* [0]: watched by events, [1]: the peer */
static int once_calls;

static void cb(evutil_socket_t fd, short what, void *arg);

static void note_state(void)
{
	for (int i = 0; i < NEV; i++) {
		struct ev *v = &evs[i];
		if (!v->used)
			continue;
		int p = event_pending(v->e, EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL | EV_CLOSED,
		    NULL);
		fz_printf("  E%d pend 0x%02x init %d pri %d fired %d\n", i, p, event_initialized(v->e),
		    event_get_priority(v->e), v->fired);
	}
	fz_printf("  base: added %d active %d virtual %d\n",
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_VIRTUAL));
}

/* A timeout for the sequence's base: none, zero or long. */
/* The zero timeout of the sequence's base: a common timeout of no length.
 * Zero timeouts added by different operations still differ in deadline by
 * the time between the operations, and two of them can fall within one
 * microsecond of the clock or not, depending on the machine's speed; equal
 * deadlines leave the heap free to run them in either order. Events on a
 * common timeout queue run in the order they were added, whatever their
 * deadlines' ties, and every event on the queue is due at the next pass. */
static const struct timeval *zero_tv;

static const struct timeval *pick_tv(struct fz_rng *r, struct timeval *tv)
{
	switch (fz_below(r, 4)) {
	case 0:
		return NULL;
	case 1:
		tv->tv_sec = 60;
		tv->tv_usec = (long)fz_below(r, 1000000);
		return tv;
	default:
		return zero_tv;
	}
}

/* ---- bursts of short timers -------------------------------------------- */

static int burst_fired;

static void burst_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	burst_fired++;
	fz_note("  T%d what 0x%02x\n", (int)(intptr_t)arg, what);
}

static void burst(struct fz_rng *r)
{
	struct event_base *b = event_base_new();
	struct event *t[8];
	/* All on one common timeout (they fire in the order added) or none:
	 * when both kinds are due in one pass, libevent activates the common
	 * ones later, from its common-timeout callback, so a mix fires in an
	 * order that depends on how late the pass came. */
	int n = 2 + (int)fz_below(r, 7), live = 0;
	int ncommon = fz_chance(r, 1, 3) ? n : 0;
	struct timeval ctv = { 0, 700 };
	const struct timeval *common = ncommon ? event_base_init_common_timeout(b, &ctv) : NULL;
	int us = 700;
	fz_printf("burst of %d (%d on a common timeout):", n, ncommon);
	burst_fired = 0;
	for (int k = 0; k < n; k++) {
		t[k] = evtimer_new(b, burst_cb, (void *)(intptr_t)k);
		if (k < ncommon && common) {
			event_add(t[k], common);
			fz_printf(" T%d common", k);
		} else {
			struct timeval tv;
			us += 300 + (int)fz_below(r, 700);
			tv.tv_sec = 0;
			tv.tv_usec = us;
			event_add(t[k], &tv);
			fz_printf(" T%d short", k);
		}
		live++;
		if (fz_chance(r, 1, 5)) {
			event_del(t[fz_below(r, (size_t)k + 1)]);
			fz_printf(" del");
		}
	}
	fz_printf("\n");
	int r2 = event_base_dispatch(b);
	fz_flush_notes();
	fz_printf("  burst: dispatch -> %d, %d fired\n", r2, burst_fired);
	for (int k = 0; k < n; k++)
		event_free(t[k]);
	event_base_free(b);
	(void)live;
}

static int add_ev(int i, struct fz_rng *r)
{
	struct timeval tv;
	const struct timeval *t = pick_tv(r, &tv);
	fz_printf(" tv %s", !t ? "none" : t->tv_sec ? "long" : "zero");
	return event_add(evs[i].e, t);
}

static void cb(evutil_socket_t fd, short what, void *arg)
{
	int i = (int)(intptr_t)arg;
	struct ev *v = &evs[i];
	(void)fd;
	v->fired++;
	fz_note("  E%d cb what 0x%02x mode %d\n", i, what, v->mode);
	/* A readable socket is read (a part), so that level-triggered reads
	 * do not fire forever. */
	if (v->kind == 1 && (what & EV_READ)) {
		char buf[300];
		ssize_t n = read(fds[v->fdi][0], buf, 1 + (size_t)v->fired % 300);
		fz_note("  E%d read %zd\n", i, n);
	}
	switch (v->mode) {
	case 1:
		fz_note("  E%d del -> %d\n", i, event_del(v->e));
		break;
	case 2:
		if (v->fired < 4) {
			fz_note("  E%d re-add -> %d\n", i, event_add(v->e, v->fired & 1 ? zero_tv : NULL));
		}
		break;
	case 3: {
		int j = (i + 1 + v->fired) % NEV;
		if (evs[j].used && v->fired < 5) {
			event_active(evs[j].e, EV_WRITE, 0);
			fz_note("  E%d activates E%d\n", i, j);
		}
		break;
	}
	case 4:
		fz_note("  E%d loopbreak -> %d\n", i, event_base_loopbreak(base));
		break;
	case 5:
		fz_note("  E%d loopcontinue -> %d\n", i, event_base_loopcontinue(base));
		break;
	case 6:
		if (v->fired >= 2) {
			fz_note("  E%d frees itself\n", i);
			event_free(v->e);
			v->used = 0;
			v->e = NULL;
		}
		break;
	default:
		break;
	}
	/* A persistent event without a timeout that fires on every pass
	 * (writable socket, zero-timeout persistent timer) would keep a
	 * nonblocking loop busy forever: after a few calls it is deleted. */
	if (v->used && v->fired >= 6 && (v->what & EV_PERSIST)) {
		fz_note("  E%d deleted after %d calls -> %d\n", i, v->fired, event_del(v->e));
	}
}

static void once_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	once_calls++;
	fz_note("  once %d what 0x%02x\n", (int)(intptr_t)arg, what);
}

static int slot(struct fz_rng *r, int want_used)
{
	int i = (int)fz_below(r, NEV);
	for (int k = 0; k < NEV; k++, i = (i + 1) % NEV)
		if (evs[i].used == want_used)
			return i;
	return -1;
}

static void make_event(int i, struct fz_rng *r)
{
	struct ev *v = &evs[i];
	memset(v, 0, sizeof(*v));
	v->kind = (int)fz_below(r, 4);
	v->mode = (int)fz_below(r, 8);
	if (v->mode == 7)
		v->mode = 0;
	short what = 0;
	evutil_socket_t fd = -1;
	switch (v->kind) {
	case 0:
		what = fz_chance(r, 1, 3) ? EV_PERSIST : 0;
		break;
	case 1:
		v->fdi = (int)fz_below(r, NFD);
		fd = fds[v->fdi][0];
		what = (short)(fz_chance(r, 1, 2) ? EV_READ : fz_chance(r, 1, 2) ? EV_WRITE :
		    EV_READ | EV_WRITE);
		if (fz_chance(r, 1, 2))
			what |= EV_PERSIST;
		if (fz_chance(r, 1, 5))
			what |= EV_ET;
		if (fz_chance(r, 1, 5))
			what |= EV_CLOSED;
		break;
	case 2:
		v->sig = fz_chance(r, 1, 2) ? SIGUSR1 : SIGUSR2;
		fd = v->sig;
		what = (short)(EV_SIGNAL | (fz_chance(r, 2, 3) ? EV_PERSIST : 0));
		break;
	default:
		what = fz_chance(r, 1, 2) ? EV_PERSIST : 0;
		break;
	}
	v->what = what;
	v->e = event_new(base, fd, what, cb, (void *)(intptr_t)i);
	v->used = v->e != NULL;
	fz_printf("new E%d kind %d what 0x%02x mode %d -> %s", i, v->kind, what, v->mode,
	    v->e ? "ok" : "NULL");
}

static void op(uint64_t seed, int idx)
{
	struct fz_rng r = fz_op_rng(seed, idx);
	int kind = (int)fz_below(&r, 26);
	long res = 0;
	int i = slot(&r, 1);

	fz_printf("%d: ", idx);
	if (i < 0 || kind < 3) {
		int j = slot(&r, 0);
		if (j < 0) {
			fz_printf("new: no slot\n");
			return;
		}
		make_event(j, &r);
		fz_printf("\n");
		note_state();
		return;
	}
	struct ev *v = &evs[i];
	fz_printf("E%d ", i);
	switch (kind) {
	case 3: case 4: case 5: case 6:
		fz_printf("add");
		res = add_ev(i, &r);
		break;
	case 7: case 8:
		fz_printf("del");
		res = event_del(v->e);
		break;
	case 9:
		fz_printf("remove_timer");
		res = event_remove_timer(v->e);
		break;
	case 10: case 11: {
		static const short whats[] = { EV_READ, EV_WRITE, EV_TIMEOUT, EV_READ | EV_WRITE,
			EV_SIGNAL };
		short w = whats[fz_below(&r, 5)];
		fz_printf("active 0x%02x", w);
		event_active(v->e, w, 0);
		break;
	}
	case 12: {
		int p = (int)fz_below(&r, 5);
		fz_printf("priority_set %d", p);
		res = event_priority_set(v->e, p);
		break;
	}
	case 13:
		/* Assigning an event anew is only for one that is not added
		 * (libevent would corrupt its lists otherwise). */
		fz_printf("del+assign");
		event_del(v->e);
		if (event_pending(v->e, EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL, NULL)) {
			fz_skip(SKIP_ASSIGN_ADDED);
			break;
		}
		res = event_assign(v->e, base, event_get_fd(v->e), v->what, cb, (void *)(intptr_t)i);
		break;
	case 14:
		fz_printf("free");
		event_free(v->e);
		v->used = 0;
		v->e = NULL;
		break;
	case 15: {
		struct timeval tv;
		const struct timeval *t = pick_tv(&r, &tv);
		int fdi = (int)fz_below(&r, NFD + 1);
		short w = fdi < NFD ? EV_READ : EV_TIMEOUT;
		fz_printf("once %s tv %s", fdi < NFD ? "read" : "timer",
		    t ? (t->tv_sec ? "long" : "zero") : "none");
		if (w == EV_TIMEOUT && (!t || t == zero_tv)) {
			/* A one-shot timer without a timeout never fires; with
			 * a zero one it is made active at once (no heap). */
			struct timeval z = { 0, 0 };
			tv = z;
			t = &tv;
		}
		res = event_base_once(base, fdi < NFD ? fds[fdi][0] : -1, w, once_cb,
		    (void *)(intptr_t)idx, t);
		break;
	}
	case 16: case 17: {
		int f = (int)fz_below(&r, NFD);
		int what = (int)fz_below(&r, 6);
		if (what == 5) {
			fz_printf("peer %d shutdown", f);
			res = shutdown(fds[f][1], SHUT_WR);
		} else if (what < 3) {
			char buf[200];
			memset(buf, 'p', sizeof(buf));
			fz_printf("peer %d write", f);
			res = write(fds[f][1], buf, 1 + fz_below(&r, sizeof(buf)));
		} else if (what == 3) {
			char buf[4096];
			fz_printf("peer %d read", f);
			res = read(fds[f][1], buf, sizeof(buf));
		} else {
			/* A socket buffer filled so that writing stalls. */
			static char junk[4096];
			fz_printf("fill %d", f);
			while (write(fds[f][0], junk, sizeof(junk)) > 0)
				res++;
		}
		break;
	}
	case 18: {
		int sig = fz_chance(&r, 1, 2) ? SIGUSR1 : SIGUSR2;
		fz_printf("raise %s", sig == SIGUSR1 ? "USR1" : "USR2");
		res = raise(sig);
		break;
	}
	case 19: {
		int f = (int)fz_below(&r, NFD);
		short w = fz_chance(&r, 1, 2) ? EV_READ : EV_WRITE;
		fz_printf("active_by_fd %d 0x%02x", f, w);
		event_base_active_by_fd(base, fds[f][0], w);
		break;
	}
	case 20:
		fz_printf("active_by_signal");
		event_base_active_by_signal(base, fz_chance(&r, 1, 2) ? SIGUSR1 : SIGUSR2);
		break;
	case 21:
		burst(&r);
		note_state();
		return;
	default: {
		int flags = fz_chance(&r, 1, 4) ? EVLOOP_ONCE | EVLOOP_NONBLOCK : EVLOOP_NONBLOCK;
		fz_printf("loop 0x%x\n", flags);
		res = event_base_loop(base, flags);
		fz_flush_notes();
		fz_printf("  loop -> %ld break %d exit %d\n", res, event_base_got_break(base),
		    event_base_got_exit(base));
		note_state();
		return;
	}
	}
	fz_printf(" -> %ld\n", res);
	fz_flush_notes();
	note_state();
}

/* What a signal handler of the test would do: nothing (libevent's own
 * handler replaces it while a signal event is added). */
static void ignore_sig(int sig)
{
	(void)sig;
}

static void sequence(uint64_t seed, int nops)
{
	struct fz_rng r = fz_op_rng(seed, -1);
	struct event_config *cfg = event_config_new();
	/* A precise clock: with libevent's default coarse one, zero timeouts
	 * added by different operations share a deadline or not depending on
	 * whether a clock tick fell between them, and equal deadlines leave
	 * the heap free to run them in either order. (diff_event_fastpath
	 * checks that order for equal deadlines; here it would be the
	 * machine's business.) */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	if (fz_chance(&r, 1, 3)) {
		struct timeval never = { 100, 0 };
		event_config_set_max_dispatch_interval(cfg, &never, 1 + (int)fz_below(&r, 4),
		    (int)fz_below(&r, 3));
	}
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	event_base_priority_init(base, 1 + (int)fz_below(&r, 4));
	{
		struct timeval z = { 0, 0 };
		zero_tv = event_base_init_common_timeout(base, &z);
	}
	for (int f = 0; f < NFD; f++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds[f]) < 0)
			abort();
		evutil_make_socket_nonblocking(fds[f][0]);
		evutil_make_socket_nonblocking(fds[f][1]);
	}
	memset(evs, 0, sizeof(evs));
	once_calls = 0;
	for (int i = 0; i < nops; i++)
		if (fz_kept(i))
			op(seed, i);
	fz_printf("end\n");
	for (int i = 0; i < NEV; i++)
		if (evs[i].used) {
			event_free(evs[i].e);
			evs[i].used = 0;
		}
	/* One-shot callbacks still waiting are freed with the base. */
	event_base_free(base);
	fz_flush_notes();
	fz_printf("once calls %d\n", once_calls);
	for (int f = 0; f < NFD; f++) {
		close(fds[f][0]);
		close(fds[f][1]);
	}
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, ignore_sig);
	signal(SIGUSR2, ignore_sig);
	return fz_main(argc, argv, 50, rules, NRULES, sequence);
}
