/*
 * diff_event_signal.c -- differential test of signal events.
 *
 * Signals are raised from callbacks with raise(), so the handler runs at a
 * known point; the signal callback must then run from the loop, never in
 * the handler. Covers a persistent signal event, a one-shot one, a signal
 * raised twice before the loop sees it (the callback runs twice: ncalls),
 * deleting the event from its own callback while calls remain, two events
 * on one signal, event_base_active_by_signal, what the counters say about
 * signal events, and that the previous disposition comes back when the
 * last event for a signal is deleted.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

static struct event_base *base;
static volatile sig_atomic_t in_handler_context;

struct sctx {
	const char *name;
	struct event *ev;
	int runs;
	int del_at;
};

static void sig_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sctx *c = arg;
	c->runs++;
	printf("  %s sig=%d what=0x%x run=%d\n", c->name, (int)fd, what, c->runs);
	if (c->del_at && c->runs == c->del_at)
		printf("  %s del -> %d\n", c->name, event_del(c->ev));
}

static int raise_count;
static void raiser_cb(evutil_socket_t fd, short what, void *arg)
{
	int i, n = (int)(long)arg;
	(void)fd;
	(void)what;
	printf("  raiser: raising SIGUSR1 x%d\n", n);
	for (i = 0; i < n; i++)
		raise(SIGUSR1);
	raise_count += n;
	printf("  raiser: returned from raise\n");
}

static struct event raiser_ev;

static void run_raiser(int n)
{
	struct timeval t10 = { 0, 10000 };
	event_assign(&raiser_ev, base, -1, 0, raiser_cb, (void *)(long)n);
	event_add(&raiser_ev, &t10);
}

static void test_persistent(void)
{
	struct event se;
	struct sctx c = { "persist", &se, 0, 3 };
	int r;
	printf("-- persistent signal\n");
	event_assign(&se, base, SIGUSR1, EV_SIGNAL | EV_PERSIST, sig_cb, &c);
	r = event_add(&se, NULL);
	printf("add -> %d pending=0x%x\n", r, event_pending(&se, EV_SIGNAL | EV_READ, NULL));
	printf("added=%d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
	run_raiser(1);
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once -> %d runs=%d\n", r, c.runs);
	/* The first pass only ran the raiser: the signal shows up next. */
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once -> %d runs=%d\n", r, c.runs);
	/* Twice before the loop looks: two calls; the second deletes the
	 * event, the third never happens. */
	run_raiser(3);
	r = event_base_dispatch(base);
	printf("dispatch -> %d runs=%d\n", r, c.runs);
}

static void test_oneshot_and_two(void)
{
	struct event a, b;
	struct sctx ca = { "oneshot", &a, 0, 0 }, cb = { "second", &b, 0, 1 };
	int r;
	printf("-- one-shot and two events on one signal\n");
	event_assign(&a, base, SIGUSR1, EV_SIGNAL, sig_cb, &ca);
	event_assign(&b, base, SIGUSR1, EV_SIGNAL | EV_PERSIST, sig_cb, &cb);
	event_add(&a, NULL);
	event_add(&b, NULL);
	run_raiser(1);
	r = event_base_dispatch(base);
	printf("dispatch -> %d runs=%d,%d pending a=0x%x\n", r, ca.runs, cb.runs,
	    event_pending(&a, EV_SIGNAL, NULL));
}

static void test_active_by_signal(void)
{
	struct event a;
	struct sctx ca = { "by-signal", &a, 0, 0 };
	int r;
	printf("-- active_by_signal\n");
	event_assign(&a, base, SIGUSR2, EV_SIGNAL | EV_PERSIST, sig_cb, &ca);
	event_add(&a, NULL);
	event_base_active_by_signal(base, SIGUSR2);
	event_base_active_by_signal(base, SIGHUP); /* nobody listens */
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d runs=%d\n", r, ca.runs);
	event_active(&a, EV_SIGNAL, 3);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d runs=%d\n", r, ca.runs);
	event_del(&a);
}

static volatile sig_atomic_t plain_handler_hits;
static void plain_handler(int sig)
{
	(void)sig;
	plain_handler_hits++;
}

static void test_restore(void)
{
	struct event a;
	struct sctx ca = { "restore", &a, 0, 0 };
	struct sigaction sa;
	printf("-- previous handler restored\n");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = plain_handler;
	sigaction(SIGUSR2, &sa, NULL);
	event_assign(&a, base, SIGUSR2, EV_SIGNAL, sig_cb, &ca);
	event_add(&a, NULL);
	raise(SIGUSR2);
	printf("raised with event added: plain handler hits=%d\n", (int)plain_handler_hits);
	event_base_loop(base, EVLOOP_NONBLOCK);
	printf("runs=%d\n", ca.runs);
	event_add(&a, NULL);
	event_del(&a);
	raise(SIGUSR2);
	printf("raised after del: plain handler hits=%d runs=%d\n",
	    (int)plain_handler_hits, ca.runs);
}

static void test_sigchld(void)
{
	struct event a;
	struct sctx ca = { "sigchld", &a, 0, 0 };
	struct timeval safety = { 5, 0 };
	int status = 0, r;
	pid_t pid;
	printf("-- SIGCHLD from an exiting child\n");
	event_assign(&a, base, SIGCHLD, EV_SIGNAL, sig_cb, &ca);
	event_add(&a, NULL);
	event_base_loopexit(base, &safety);
	pid = fork();
	if (pid == 0)
		_exit(3); /* no library calls in the child */
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once -> %d runs=%d\n", r, ca.runs);
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		printf("child exit status=%d\n", WEXITSTATUS(status));
	event_del(&a);
}

static void test_assign_errors(void)
{
	struct event a;
	printf("-- signal assign errors\n");
	printf("assign SIGNAL|READ -> %d\n",
	    event_assign(&a, base, SIGUSR1, EV_SIGNAL | EV_READ, sig_cb, NULL));
	printf("new SIGNAL|WRITE -> %s\n",
	    event_new(base, SIGUSR1, EV_SIGNAL | EV_WRITE, sig_cb, NULL) ? "event" : "NULL");
	event_assign(&a, base, 200, EV_SIGNAL, sig_cb, NULL);
	printf("add signal 200 -> %d\n", event_add(&a, NULL));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	(void)in_handler_context;
	base = event_base_new();
	if (!base) {
		printf("no base\n");
		return 1;
	}
	test_persistent();
	test_oneshot_and_two();
	test_active_by_signal();
	test_restore();
	test_sigchld();
	test_assign_errors();
	event_base_free(base);
	printf("done raised=%d\n", raise_count);
	return 0;
}
