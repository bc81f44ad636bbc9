/*
 * alloc_fail.c -- allocation failure, injected through
 * event_set_mem_functions: for an evbuffer workload and a bufferevent
 * workload, first counted (K allocations when nothing fails), then run
 * again K times, the Nth allocation failing in run N (every allocation
 * from the library counts: goevent's C paths and its engine's).
 *
 * Every run must end without a crash; every public call the failure makes
 * fail must return libevent's error value (NULL, -1) and log a line through
 * the log callback; and once the workload has freed what it made, the
 * blocks live must be what they were before it ran: nothing leaks, on any
 * error path.
 *
 * Usage: alloc_fail [buffer|bev|all]. Prints a summary per workload; exit
 * status 0 when every run passed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

/* ---- the allocator ------------------------------------------------------- */

static long live;        /* blocks handed out and not freed */
static long counted;     /* allocations since the workload started */
static long fail_at;     /* that one fails (0: none) */
static int counting;     /* inside a workload */
static long injected;    /* failures handed out */

static void *f_malloc(size_t n)
{
	if (counting && ++counted == fail_at) {
		injected++;
		return NULL;
	}
	void *p = malloc(n);
	if (p)
		live++;
	return p;
}

static void *f_realloc(void *p, size_t n)
{
	if (counting && ++counted == fail_at) {
		injected++;
		return NULL;
	}
	void *q = realloc(p, n);
	if (!p && q)
		live++;
	return q;
}

static void f_free(void *p)
{
	if (p)
		live--;
	free(p);
}

/* ---- checking each call -------------------------------------------------- */

static long logs;
static long failed_calls, silent_failures;
static const char *silent[32]; /* the calls that failed without a word */
static int nsilent;

static void log_cb(int severity, const char *msg)
{
	(void)severity;
	(void)msg;
	logs++;
}

static void failed(const char *what, long logs_before)
{
	failed_calls++;
	if (logs == logs_before) {
		silent_failures++;
		for (int i = 0; i < nsilent; i++)
			if (!strcmp(silent[i], what))
				return;
		if (nsilent < 32)
			silent[nsilent++] = what;
	}
}

/* An int call: < 0 is its failure. */
#define CI(expr) __extension__({ \
	long l0_ = logs; \
	int r_ = (int)(expr); \
	if (r_ < 0) \
		failed(#expr, l0_); \
	r_; \
})
/* A pointer call: NULL is its failure. */
#define CP(expr) __extension__({ \
	long l0_ = logs; \
	void *p_ = (void *)(expr); \
	if (!p_) \
		failed(#expr, l0_); \
	p_; \
})

/* ---- workloads ------------------------------------------------------------- */

static int cleanups;
static void cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	(void)arg;
	cleanups++;
}

static int cb_calls;
static void buf_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	(void)b;
	(void)info;
	(void)arg;
	cb_calls++;
}

static char data[70000];
static FILE *tmp; /* a file for the segments */

static void work_buffer(void)
{
	struct evbuffer *b = CP(evbuffer_new());
	struct evbuffer *c = CP(evbuffer_new());
	if (b) {
		CP(evbuffer_add_cb(b, buf_cb, NULL));
		CI(evbuffer_add(b, data, 100));
		CI(evbuffer_add(b, data, 5000));
		CI(evbuffer_prepend(b, data, 10));
		CI(evbuffer_add_printf(b, "%s %d\n", "line", 42));
		CI(evbuffer_add_reference(b, data, 300, cleanup, NULL));
		CI(evbuffer_expand(b, 20000));
		struct evbuffer_iovec v[2];
		int n = CI(evbuffer_reserve_space(b, 3000, v, 2));
		if (n > 0) {
			for (int i = 0; i < n; i++)
				memset(v[i].iov_base, 'r', v[i].iov_len);
			CI(evbuffer_commit_space(b, v, n));
		}
		if (evbuffer_get_length(b) > 0)
			CP(evbuffer_pullup(b, -1));
		size_t len;
		char *line = evbuffer_readln(b, &len, EVBUFFER_EOL_LF);
		f_free(line); /* it came from the allocator set above */
		evbuffer_search(b, "line", 4, NULL);
	}
	if (b && c) {
		CI(evbuffer_add(c, data, 60000));
		CI(evbuffer_remove_buffer(c, b, 30000));
		CI(evbuffer_add_buffer(b, c));
		CI(evbuffer_prepend_buffer(c, b));
		CI(evbuffer_add(c, data, 2000));
		/* b shares c's chains; b goes first, then c. */
		CI(evbuffer_add_buffer_reference(b, c));
	}
	if (b)
		evbuffer_free(b);
	if (c)
		evbuffer_free(c);

	/* Lines, a pullup across chains, a file segment, deferred callbacks. */
	struct event_base *base = CP(event_base_new());
	struct evbuffer *d = CP(evbuffer_new());
	if (d) {
		if (base)
			CI(evbuffer_defer_callbacks(d, base));
		CP(evbuffer_add_cb(d, buf_cb, NULL));
		for (int i = 0; i < 6; i++)
			CI(evbuffer_add_reference(d, data + i * 1000, 1000, NULL, NULL));
		CP(evbuffer_pullup(d, 3500));
		char *line;
		while ((line = evbuffer_readln(d, NULL, EVBUFFER_EOL_LF)) != NULL)
			f_free(line);
		int fd = fileno(tmp);
		struct evbuffer_file_segment *seg = CP(evbuffer_file_segment_new(fd, 100, 20000, 0));
		if (seg) {
			if (CI(evbuffer_add_file_segment(d, seg, 0, 15000)) == 0)
				evbuffer_file_segment_free(seg);
		}
		CI(evbuffer_add_printf(d, "%0*d", 9000, 7));
		if (base)
			event_base_loop(base, EVLOOP_NONBLOCK);
		evbuffer_free(d);
	}
	if (base) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		event_base_free(base);
	}
}

static int reads, events;
static void bev_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	reads++;
	struct evbuffer *in = bufferevent_get_input(bev);
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void bev_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	(void)arg;
	events++;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int socklen, void *arg)
{
	(void)l;
	(void)sa;
	(void)socklen;
	(void)arg;
	close(fd);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void work_bev(void)
{
	struct event_base *base = CP(event_base_new());
	if (!base)
		return;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	struct bufferevent *a = CP(bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE));
	struct bufferevent *b = CP(bufferevent_socket_new(base, sv[1],
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS));
	if (!a)
		close(sv[0]);
	if (!b)
		close(sv[1]);
	if (a && b) {
		bufferevent_setcb(b, bev_read, NULL, bev_event, NULL);
		CI(bufferevent_enable(b, EV_READ));
		CI(bufferevent_write(a, data, 20000));
	}
	struct bufferevent *pr[2] = { NULL, NULL };
	if (CI(bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE, pr)) == 0) {
		bufferevent_setcb(pr[1], bev_read, NULL, bev_event, NULL);
		CI(bufferevent_enable(pr[1], EV_READ));
		CI(bufferevent_write(pr[0], data, 5000));
	}
	struct bufferevent *f = NULL;
	if (pr[0]) {
		f = CP(bufferevent_filter_new(pr[0], NULL, NULL, 0, NULL, NULL));
		if (f)
			CI(bufferevent_write(f, data, 3000));
	}
	struct event *t = CP(evtimer_new(base, timer_cb, NULL));
	struct timeval zero = { 0, 0 };
	if (t)
		CI(event_add(t, &zero));
	/* Enough timers for the heap to grow, a signal event, a listener and
	 * a connection to it. */
	struct event *timers[20];
	for (int i = 0; i < 20; i++) {
		struct timeval tv = { 100 + i, 0 };
		timers[i] = CP(evtimer_new(base, timer_cb, NULL));
		if (timers[i])
			CI(event_add(timers[i], &tv));
	}
	struct event *sig = CP(evsignal_new(base, SIGUSR1, timer_cb, NULL));
	if (sig)
		CI(event_add(sig, NULL));
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct evconnlistener *l = CP(evconnlistener_new_bind(base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4, (struct sockaddr *)&sin, sizeof(sin)));
	struct bufferevent *conn = NULL;
	if (l) {
		struct sockaddr_in bound;
		socklen_t blen = sizeof(bound);
		getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&bound, &blen);
		conn = CP(bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE));
		if (conn && CI(bufferevent_socket_connect(conn, (struct sockaddr *)&bound,
		    sizeof(bound))) == 0)
			CI(bufferevent_write(conn, data, 1000));
	}
	CI(event_base_once(base, -1, EV_TIMEOUT, timer_cb, NULL, &zero));
	for (int i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	if (t)
		event_free(t);
	for (int i = 0; i < 20; i++)
		if (timers[i])
			event_free(timers[i]);
	if (sig)
		event_free(sig);
	if (conn)
		bufferevent_free(conn);
	if (l)
		evconnlistener_free(l);
	if (f)
		bufferevent_free(f);
	if (pr[0])
		bufferevent_free(pr[0]);
	if (pr[1])
		bufferevent_free(pr[1]);
	if (a)
		bufferevent_free(a);
	if (b)
		bufferevent_free(b);
	/* Finish the frees (libevent completes them from the loop). */
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
}

/* ---- the sweep ----------------------------------------------------------- */

static int sweep(const char *name, void (*work)(void))
{
	/* Twice without failures: whatever the library keeps for good (pools,
	 * tables) exists before the baseline is taken. */
	work();
	work();
	counting = 1;
	counted = 0;
	fail_at = 0;
	long base_live = live;
	work();
	long k = counted;
	counting = 0;
	if (live != base_live) {
		printf("%s: a run without failures leaves %ld blocks\n", name, live - base_live);
		return 1;
	}
	int bad = 0;
	long leaked_runs = 0;
	failed_calls = silent_failures = injected = 0;
	nsilent = 0;
	for (long n = 1; n <= k + 2; n++) {
		counted = 0;
		fail_at = n;
		counting = 1;
		long before = live;
		work();
		counting = 0;
		if (live != before) {
			if (leaked_runs++ < 5)
				printf("%s: failing allocation %ld of %ld leaks %ld blocks\n", name, n, k,
				    live - before);
			bad = 1;
		}
	}
	printf("%s: %ld allocations, each failed once: %ld failures injected, %ld calls "
	    "failed, %ld of them without a log line, %ld runs leaked\n", name, k, injected,
	    failed_calls, silent_failures, leaked_runs);
	for (int i = 0; i < nsilent; i++)
		printf("  failed without a log line: %s\n", silent[i]);
	return bad || silent_failures != 0;
}

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "all";
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	memset(data, 'x', sizeof(data));
	for (size_t i = 0; i < sizeof(data); i += 80)
		data[i] = '\n';
	tmp = tmpfile();
	if (!tmp || fwrite(data, 1, 30000, tmp) != 30000 || fflush(tmp) != 0)
		return 2;
	event_set_mem_functions(f_malloc, f_realloc, f_free);
	event_set_log_callback(log_cb);
	int bad = 0;
	if (!strcmp(which, "buffer") || !strcmp(which, "all"))
		bad |= sweep("evbuffer workload", work_buffer);
	if (!strcmp(which, "bev") || !strcmp(which, "all"))
		bad |= sweep("bufferevent workload", work_bev);
	return bad;
}
