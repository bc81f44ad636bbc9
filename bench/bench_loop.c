/*
 * bench_loop: the event loop, libevent vs goevent.
 *
 * The socketpair case has the shape of libevent's own test/bench.c: many
 * connections, a few of them active at once, each read callback passing a
 * one-byte token on to the next connection, so the cost measured is the
 * loop's per-event work plus one recv and one send. The other cases isolate
 * the loop's bookkeeping: re-adding events, the timer heap, activation
 * without any I/O, and one idle pass of the loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "bench.h"

static struct event_base *
new_base(void)
{
	struct event_base *base = event_base_new();

	BENCH_CHECK(base != NULL, "event_base_new failed");
	return base;
}

/* ---- many socketpairs, a few active ------------------------------------ */

#define NUM_PAIRS 1000
#define NUM_ACTIVE 100
#define WRITES_PER_ROUND 1000
/* Passes of the loop without finishing a round before a case calls the
 * implementation stuck (a few seconds of idle passes), so a lost event fails
 * with a message instead of spinning until run.sh's timeout. */
#define MAX_SPINS 20000000L

struct ring {
	int fds[2 * NUM_PAIRS]; /* pair i: fds[2i] is read, fds[2i+1] written */
	struct event ev[NUM_PAIRS];
	long sends;      /* bytes sent this round */
	long received;   /* bytes received this round */
	long writes_left;
	long bad;        /* callbacks that saw something wrong */
};

static struct ring ring;

static void
ring_read_cb(evutil_socket_t fd, short what, void *arg)
{
	long idx = (long)(intptr_t)arg;
	unsigned char ch;
	ssize_t n;

	if (fd != ring.fds[2 * idx] || !(what & EV_READ))
		ring.bad++;
	n = recv(fd, &ch, 1, 0);
	if (n != 1 || ch != 'e') {
		ring.bad++;
		return;
	}
	ring.received++;
	if (ring.writes_left > 0) {
		long next = idx + 1 == NUM_PAIRS ? 0 : idx + 1;

		if (send(ring.fds[2 * next + 1], "e", 1, 0) != 1)
			ring.bad++;
		ring.writes_left--;
		ring.sends++;
	}
}

static void
raise_fd_limit(rlim_t want)
{
	struct rlimit rl;

	BENCH_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	BENCH_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0,
	    "need %llu descriptors: setrlimit: %s", (unsigned long long)want, strerror(errno));
}

static void
ring_open(struct event_base *base)
{
	long i;

	raise_fd_limit(2 * NUM_PAIRS + 64);
	for (i = 0; i < NUM_PAIRS; i++) {
		BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		    &ring.fds[2 * i]) == 0, "socketpair: %s", strerror(errno));
		BENCH_CHECK(event_assign(&ring.ev[i], base, ring.fds[2 * i], EV_READ | EV_PERSIST,
		    ring_read_cb, (void *)(intptr_t)i) == 0, "event_assign failed");
		BENCH_CHECK(event_add(&ring.ev[i], NULL) == 0, "event_add failed");
	}
}

static void
ring_close(void)
{
	long i;

	for (i = 0; i < NUM_PAIRS; i++) {
		event_del(&ring.ev[i]);
		close(ring.fds[2 * i]);
		close(ring.fds[2 * i + 1]);
	}
}

/* After a round every token has been consumed: one more pass of the loop
 * must run no callback. */
static void
ring_check_quiet(struct event_base *base, const char *what)
{
	long before = ring.received + ring.bad;

	BENCH_CHECK(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) >= 0, "%s: loop failed",
	    what);
	BENCH_CHECK(ring.received + ring.bad == before, "%s: a callback ran on an idle ring", what);
}

/* n rounds; each round starts NUM_ACTIVE tokens spread evenly over the ring
 * and lets them travel until WRITES_PER_ROUND forwards have been made. One op
 * is one read callback. */
static double
case_pairs(long n)
{
	struct event_base *base = new_base();
	uint64_t t = 0, t0, callbacks = 0;
	long r, i, spins;

	memset(&ring, 0, sizeof(ring));
	ring_open(base);
	ring_check_quiet(base, "setup");
	for (r = 0; r < n; r++) {
		ring.sends = ring.received = 0;
		ring.writes_left = WRITES_PER_ROUND;
		for (i = 0; i < NUM_ACTIVE; i++) {
			long idx = i * (NUM_PAIRS / NUM_ACTIVE);

			BENCH_CHECK(send(ring.fds[2 * idx + 1], "e", 1, 0) == 1, "send: %s",
			    strerror(errno));
			ring.sends++;
		}
		t0 = bench_now_ns();
		spins = 0;
		while (ring.received < ring.sends && ring.bad == 0) {
			if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
				BENCH_CHECK(0, "event_base_loop failed");
			if (++spins > MAX_SPINS)
				BENCH_CHECK(0, "stalled: %ld of %ld tokens received", ring.received,
				    ring.sends);
		}
		t += bench_now_ns() - t0;
		BENCH_CHECK(ring.bad == 0, "%ld bad callbacks", ring.bad);
		BENCH_CHECK(ring.writes_left == 0 && ring.sends == NUM_ACTIVE + WRITES_PER_ROUND &&
		    ring.received == ring.sends, "round %ld: sent %ld, received %ld", r, ring.sends,
		    ring.received);
		callbacks += (uint64_t)ring.received;
		ring_check_quiet(base, "after a round");
	}
	ring_close();
	event_base_free(base);
	return bench_ns_per_op(t, callbacks);
}

/* What test/bench.c does before each round: event_del, event_assign and
 * event_add on every one of the 1000 events, then one nonblocking pass of
 * the loop, which is where a backend applies the changes. One op is one
 * event's del+assign+add. */
static double
case_readd(long n)
{
	struct event_base *base = new_base();
	uint64_t t = 0, t0;
	long r, i;

	memset(&ring, 0, sizeof(ring));
	ring_open(base);
	for (r = 0; r < n; r++) {
		t0 = bench_now_ns();
		for (i = 0; i < NUM_PAIRS; i++) {
			event_del(&ring.ev[i]);
			event_assign(&ring.ev[i], base, ring.fds[2 * i], EV_READ | EV_PERSIST,
			    ring_read_cb, (void *)(intptr_t)i);
			event_add(&ring.ev[i], NULL);
		}
		if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
			BENCH_CHECK(0, "event_base_loop failed");
		t += bench_now_ns() - t0;
		BENCH_CHECK(ring.received == 0 && ring.bad == 0, "a callback ran without data");
		for (i = 0; i < NUM_PAIRS; i += 37)
			BENCH_CHECK(event_pending(&ring.ev[i], EV_READ, NULL) == EV_READ,
			    "event %ld not pending after re-add", i);
	}
	/* The re-added events must still work: send one token round once. */
	ring.writes_left = NUM_PAIRS - 1;
	BENCH_CHECK(send(ring.fds[1], "e", 1, 0) == 1, "send: %s", strerror(errno));
	ring.sends = 1;
	for (i = 0; ring.received < ring.sends && ring.bad == 0; i++) {
		BENCH_CHECK(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) >= 0, "loop failed");
		BENCH_CHECK(i < MAX_SPINS, "stalled: token reached %ld of %d pairs", ring.received,
		    NUM_PAIRS);
	}
	BENCH_CHECK(ring.bad == 0 && ring.received == NUM_PAIRS,
	    "token went round %ld of %d pairs", ring.received, NUM_PAIRS);
	ring_close();
	event_base_free(base);
	return bench_ns_per_op(t, (uint64_t)n * NUM_PAIRS);
}

/* ---- timers ------------------------------------------------------------ */

#define NUM_TIMERS 10000

static long timer_fired;

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	timer_fired++;
}

/* n rounds of: add 10,000 timers (timeouts spread over 1-60 s with
 * microsecond detail, so the heap is really ordered), then delete them in a
 * shuffled order. One op is one add plus one delete. Pending state and
 * deadlines are checked between the timed phases. */
static double
case_timers(long n)
{
	struct event_base *base = new_base();
	struct event *ev = calloc(NUM_TIMERS, sizeof(*ev));
	struct timeval *tv = calloc(NUM_TIMERS, sizeof(*tv));
	int *order = calloc(NUM_TIMERS, sizeof(*order));
	uint64_t seed = 42, t = 0, t0;
	long r, i;

	BENCH_CHECK(ev && tv && order, "out of memory");
	timer_fired = 0;
	for (i = 0; i < NUM_TIMERS; i++) {
		uint64_t us = 1000000 + bench_rand(&seed) % 59000000;

		tv[i].tv_sec = (time_t)(us / 1000000);
		tv[i].tv_usec = (suseconds_t)(us % 1000000);
		order[i] = (int)i;
		BENCH_CHECK(event_assign(&ev[i], base, -1, 0, timer_cb, NULL) == 0,
		    "event_assign failed");
	}
	for (r = 0; r < n; r++) {
		struct timeval before, after;

		/* A new deletion order each round (Fisher-Yates). */
		for (i = NUM_TIMERS - 1; i > 0; i--) {
			long j = (long)(bench_rand(&seed) % (uint64_t)(i + 1));
			int tmp = order[i];

			order[i] = order[j];
			order[j] = tmp;
		}

		gettimeofday(&before, NULL);
		t0 = bench_now_ns();
		for (i = 0; i < NUM_TIMERS; i++)
			if (event_add(&ev[i], &tv[i]) != 0)
				BENCH_CHECK(0, "event_add of timer %ld failed", i);
		t += bench_now_ns() - t0;
		gettimeofday(&after, NULL);

		for (i = 0; i < NUM_TIMERS; i += 97) {
			struct timeval when, lo, hi, slack = { 1, 0 };

			BENCH_CHECK(event_pending(&ev[i], EV_TIMEOUT, &when) == EV_TIMEOUT,
			    "timer %ld not pending", i);
			/* The deadline is reported in wall-clock time; allow a second
			 * either way for clock steps and the cached loop time. */
			timeradd(&before, &tv[i], &lo);
			timersub(&lo, &slack, &lo);
			timeradd(&after, &tv[i], &hi);
			timeradd(&hi, &slack, &hi);
			BENCH_CHECK(!timercmp(&when, &lo, <) && !timercmp(&when, &hi, >),
			    "timer %ld deadline %ld.%06ld outside [%ld.%06ld, %ld.%06ld]", i,
			    (long)when.tv_sec, (long)when.tv_usec, (long)lo.tv_sec,
			    (long)lo.tv_usec, (long)hi.tv_sec, (long)hi.tv_usec);
		}

		t0 = bench_now_ns();
		for (i = 0; i < NUM_TIMERS; i++)
			if (event_del(&ev[order[i]]) != 0)
				BENCH_CHECK(0, "event_del of timer %d failed", order[i]);
		t += bench_now_ns() - t0;

		for (i = 0; i < NUM_TIMERS; i++)
			BENCH_CHECK(event_pending(&ev[i], EV_TIMEOUT, NULL) == 0,
			    "timer %ld still pending after event_del", i);
	}
	/* Nothing may be left to run. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	BENCH_CHECK(timer_fired == 0, "%ld deleted timers fired", timer_fired);
	event_base_free(base);
	free(ev);
	free(tv);
	free(order);
	return bench_ns_per_op(t, (uint64_t)n * NUM_TIMERS);
}

/* ---- event_active round trips ------------------------------------------ */

#define ACTIVE_CHAIN 100000

struct selfloop {
	struct event ev;
	long count;
	long target;
	long bad;
};

static void
selfloop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct selfloop *s = arg;

	if (fd != -1 || what != EV_READ)
		s->bad++;
	if (++s->count < s->target)
		event_active(&s->ev, EV_READ, 0);
}

/* An event that activates itself again from its own callback, 100,000 times
 * per event_base_dispatch; n is the total number of callbacks. */
static double
case_active(long n)
{
	struct event_base *base = new_base();
	struct selfloop s;
	uint64_t t = 0, t0, total = 0;
	long done;

	memset(&s, 0, sizeof(s));
	BENCH_CHECK(event_assign(&s.ev, base, -1, 0, selfloop_cb, &s) == 0, "event_assign failed");
	for (done = 0; done < n; done += ACTIVE_CHAIN) {
		int rv;

		s.count = 0;
		s.target = n - done < ACTIVE_CHAIN ? n - done : ACTIVE_CHAIN;
		t0 = bench_now_ns();
		event_active(&s.ev, EV_READ, 0);
		rv = event_base_dispatch(base);
		t += bench_now_ns() - t0;
		BENCH_CHECK(rv == 0 || rv == 1, "event_base_dispatch returned %d", rv);
		BENCH_CHECK(s.bad == 0, "callback got wrong fd or flags");
		BENCH_CHECK(s.count == s.target, "%ld callbacks, want %ld", s.count, s.target);
		total += (uint64_t)s.count;
	}
	event_base_free(base);
	return bench_ns_per_op(t, total);
}

/* ---- an idle loop pass ------------------------------------------------- */

static long idle_fired;

/* Reads what woke it: under EVLOOP_NONBLOCK alone the loop keeps going while
 * callbacks run, so a readable fd left unread would keep it spinning. */
static void
idle_cb(evutil_socket_t fd, short what, void *arg)
{
	char ch;

	(void)arg;
	if ((what & EV_READ) && recv(fd, &ch, 1, 0) != 1)
		idle_fired += 1000; /* make the caller's count check fail */
	idle_fired++;
}

/* event_base_loop(EVLOOP_NONBLOCK) on a base that has work registered (a
 * read event on a quiet socketpair and a timer a minute away) but nothing
 * ready: the cost of one pass that finds nothing to do. */
static double
case_idle(long n)
{
	struct event_base *base = new_base();
	struct event rd, tm;
	struct timeval minute = { 60, 0 };
	uint64_t t0, t;
	int fds[2];
	long i;

	BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0,
	    "socketpair: %s", strerror(errno));
	idle_fired = 0;
	BENCH_CHECK(event_assign(&rd, base, fds[0], EV_READ | EV_PERSIST, idle_cb, NULL) == 0 &&
	    event_add(&rd, NULL) == 0, "read event setup failed");
	BENCH_CHECK(event_assign(&tm, base, -1, 0, idle_cb, NULL) == 0 &&
	    event_add(&tm, &minute) == 0, "timer setup failed");
	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		if (event_base_loop(base, EVLOOP_NONBLOCK) != 0)
			BENCH_CHECK(0, "event_base_loop did not return 0 on pass %ld", i);
	t = bench_now_ns() - t0;
	BENCH_CHECK(idle_fired == 0, "%ld callbacks ran on an idle base", idle_fired);
	/* The registered read event must still be live. */
	BENCH_CHECK(send(fds[1], "x", 1, 0) == 1, "send: %s", strerror(errno));
	BENCH_CHECK(event_base_loop(base, EVLOOP_NONBLOCK) == 0 && idle_fired == 1,
	    "read event did not fire once data arrived (%ld callbacks)", idle_fired);
	event_del(&rd);
	event_del(&tm);
	close(fds[0]);
	close(fds[1]);
	event_base_free(base);
	return bench_ns_per_op(t, (uint64_t)n);
}

static const struct bench_case cases[] = {
	{ "loop_1000_socketpairs_100_active", "ns/op", case_pairs, 50 },
	{ "loop_readd_1000_events", "ns/op", case_readd, 100 },
	{ "loop_10000_timers_add_del", "ns/op", case_timers, 20 },
	{ "loop_event_active_self_100000", "ns/op", case_active, 1000000 },
	{ "loop_nonblock_idle_pass", "ns/op", case_idle, 200000 },
};

int
main(int argc, char **argv)
{
	return bench_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
