/*
 * diff_threads_stress: threads hammering a lockable base and a thread-safe
 * bufferevent while the loop runs.
 *
 * 1. Three threads add (with and without timeouts), delete and activate
 *    64 events of a running lockable base (socket and pure events,
 *    persistent and not, socket events fed by writes) for a second and a
 *    half; the loop must stay consistent and end on its timer.
 * 2. Two threads write to a BEV_OPT_THREADSAFE socket bufferevent while the
 *    loop moves the bytes to its peer: every byte arrives (count and sum),
 *    plain and with BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS.
 * 3. pthread_cancel of a thread waiting in event_base_dispatch: the
 *    blocking wait is a cancellation point, as libevent's epoll_wait is
 *    (goevent makes only its non-blocking system calls outside libc).
 *
 * Only what is deterministic is printed (completion, totals); how many
 * operations ran depends on scheduling.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>

/* ---- 1: events changed from other threads ------------------------------- */

#define NEV 64

static struct event_base *ebase;
static struct event *evs[NEV];
static int evfds[NEV][2];
static atomic_long fired, ops;
static atomic_int stop_workers;

static void ev_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[64];

	(void)what;
	(void)arg;
	atomic_fetch_add(&fired, 1);
	if (fd >= 0)
		while (read(fd, buf, sizeof(buf)) > 0)
			;
}

static void *ev_worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	while (!atomic_load(&stop_workers)) {
		int i = (int)(rand_r(&seed) % NEV);
		struct timeval tv = { 0, (suseconds_t)(rand_r(&seed) % 2000) };

		switch (rand_r(&seed) % 5) {
		case 0:
			event_add(evs[i], NULL);
			break;
		case 1:
			event_add(evs[i], &tv);
			break;
		case 2:
			event_del(evs[i]);
			break;
		case 3:
			event_active(evs[i], EV_TIMEOUT, 1);
			break;
		default:
			if (evfds[i][1] >= 0 && write(evfds[i][1], "x", 1) < 0) {
				/* full: the reader will drain it */
			}
			break;
		}
		atomic_fetch_add(&ops, 1);
	}
	return NULL;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(ebase);
}

static void events_case(void)
{
	struct timeval run = { 1, 500000 };
	pthread_t th[3];
	int i;

	ebase = event_base_new();
	for (i = 0; i < NEV; i++) {
		if (i % 2 == 0) {
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, evfds[i]) < 0) {
				perror("socketpair");
				exit(1);
			}
			evutil_make_socket_nonblocking(evfds[i][0]);
			evutil_make_socket_nonblocking(evfds[i][1]);
			evs[i] = event_new(ebase, evfds[i][0],
			    EV_READ | (i % 4 == 0 ? EV_PERSIST : 0), ev_cb, NULL);
		} else {
			evfds[i][0] = evfds[i][1] = -1;
			evs[i] = event_new(ebase, -1, i % 3 == 0 ? EV_PERSIST : 0, ev_cb, NULL);
		}
	}
	struct event *stop = evtimer_new(ebase, stop_cb, NULL);
	evtimer_add(stop, &run);
	for (i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, ev_worker, (void *)(uintptr_t)(i + 1));
	int r = event_base_loop(ebase, EVLOOP_NO_EXIT_ON_EMPTY);
	atomic_store(&stop_workers, 1);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	printf("1. loop returned %d after the timer; workers ran: %s, callbacks ran: %s\n", r,
	    atomic_load(&ops) > 0 ? "yes" : "no", atomic_load(&fired) > 0 ? "yes" : "no");
	for (i = 0; i < NEV; i++) {
		event_free(evs[i]);
		if (evfds[i][0] >= 0) {
			close(evfds[i][0]);
			close(evfds[i][1]);
		}
	}
	event_free(stop);
	/* Nothing is left registered: a nonblocking pass finds no work. */
	printf("   events left: %d\n", event_base_get_num_events(ebase, EVENT_BASE_COUNT_ADDED));
	event_base_free(ebase);
}

/* ---- 2: a thread-safe bufferevent written from other threads ------------ */

#define PER_WRITER (1000L * 1000)

struct tsafe {
	struct event_base *base;
	struct bufferevent *a, *b;
	long got;
	unsigned long sum_read, sum_written[2];
};

static void ts_readcb(struct bufferevent *bev, void *arg)
{
	struct tsafe *t = arg;
	unsigned char buf[4096];
	size_t n, i;

	while ((n = bufferevent_read(bev, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			t->sum_read += buf[i];
		t->got += (long)n;
	}
	if (t->got == 2 * PER_WRITER)
		event_base_loopbreak(t->base);
}

struct writer_arg {
	struct tsafe *t;
	int k;
};

static void *ts_writer(void *arg)
{
	struct writer_arg *w = arg;
	unsigned char chunk[1000];
	long off;
	size_t i;

	for (off = 0; off < PER_WRITER; off += (long)sizeof(chunk)) {
		for (i = 0; i < sizeof(chunk); i++) {
			chunk[i] = (unsigned char)(off + (long)i * 7 + w->k);
			w->t->sum_written[w->k] += chunk[i];
		}
		/* Keep the output bounded: the loop drains it. */
		while (evbuffer_get_length(bufferevent_get_output(w->t->a)) > (1 << 20))
			usleep(100);
		if (bufferevent_write(w->t->a, chunk, sizeof(chunk)) != 0) {
			printf("bufferevent_write failed\n");
			exit(1);
		}
	}
	return NULL;
}

static void tsafe_case(const char *name, int extra)
{
	struct tsafe t;
	struct writer_arg wa[2];
	pthread_t th[2];
	int fds[2], i;
	int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_THREADSAFE | extra;

	memset(&t, 0, sizeof(t));
	t.base = event_base_new();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		perror("socketpair");
		exit(1);
	}
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
	t.a = bufferevent_socket_new(t.base, fds[0], opts);
	t.b = bufferevent_socket_new(t.base, fds[1], opts);
	bufferevent_setcb(t.b, ts_readcb, NULL, NULL, &t);
	bufferevent_enable(t.a, EV_WRITE);
	bufferevent_enable(t.b, EV_READ);
	for (i = 0; i < 2; i++) {
		wa[i].t = &t;
		wa[i].k = i;
		pthread_create(&th[i], NULL, ts_writer, &wa[i]);
	}
	event_base_loop(t.base, EVLOOP_NO_EXIT_ON_EMPTY);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("2. %s: got %ld of %ld bytes, sums %s\n", name, t.got, 2 * PER_WRITER,
	    t.sum_read == t.sum_written[0] + t.sum_written[1] ? "match" : "DIFFER");
	bufferevent_free(t.a);
	bufferevent_free(t.b);
	event_base_free(t.base);
}

/* ---- 3: cancelling a thread that waits in the loop ----------------------- */

static void never_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	printf("3. the idle event fired\n");
}

static void *dispatch_thread(void *arg)
{
	event_base_dispatch(arg);
	return NULL;
}

static void cancel_case(void)
{
	struct event_base *base = event_base_new();
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	int p[2];
	void *r;
	pthread_t th;

	if (pipe(p) < 0) {
		perror("pipe");
		exit(1);
	}
	struct event *ev = event_new(base, p[0], EV_READ | EV_PERSIST, never_cb, NULL);
	event_add(ev, NULL);
	pthread_create(&th, NULL, dispatch_thread, base);
	nanosleep(&pause, NULL);
	pthread_cancel(th);
	pthread_join(th, &r);
	printf("3. loop thread %s\n", r == PTHREAD_CANCELED ? "cancelled in its wait" : "returned");
	/* The base still counts as running; it is left alone. */
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (evthread_use_pthreads() != 0) {
		printf("evthread_use_pthreads failed\n");
		return 1;
	}
	events_case();
	tsafe_case("plain", 0);
	tsafe_case("deferred, unlocked callbacks",
	    BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS);
	cancel_case();
	return 0;
}
