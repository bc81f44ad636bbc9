/*
 * bench_footprint.c: what objects cost in memory and in their making and
 * unmaking, and what a fork followed by event_reinit costs.
 *
 * Every case measures in a child process of its own (forked before the
 * library is touched, so the child starts as a fresh program would), which
 * reports one number through a pipe:
 *
 *   footprint_idle_socket_bev      RSS per idle connection: a socket
 *                                  bufferevent reading on each end of n
 *                                  socketpairs (B per bufferevent)
 *   footprint_pending_timer        RSS per pending timer, n timers (B each)
 *   footprint_rss_after_free       RSS left after making and freeing 50k
 *                                  bufferevents and 1M timers (KB over the
 *                                  process's RSS before)
 *   bev_create_50k                 bufferevent_socket_new, per bufferevent
 *   bev_free_50k                   bufferevent_free and the loop pass that
 *                                  finishes it, per bufferevent
 *   fork_reinit_1000_events        fork of a process whose base has 1,000
 *                                  fd events, then event_reinit and one loop
 *                                  pass in the child (per fork, child's view)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "bench.h"

static long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;
	BENCH_CHECK(f && fscanf(f, "%ld %ld", &size, &res) == 2, "statm");
	fclose(f);
	return res * sysconf(_SC_PAGESIZE);
}

/* Runs f(n) in a child and returns what it wrote. */
static double in_child(double (*f)(long), long n)
{
	int p[2];
	BENCH_CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	BENCH_CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		double v = f(n);
		if (write(p[1], &v, sizeof v) != sizeof v)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	double v = -1;
	ssize_t r = read(p[0], &v, sizeof v);
	close(p[0]);
	int st;
	BENCH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    r == sizeof v, "measuring child failed (status %#x)", st);
	return v;
}

static void nop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static double idle_bevs(long pairs)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if ((long)rl.rlim_cur < 2 * pairs + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	BENCH_CHECK((long)rl.rlim_cur >= 2 * pairs + 64, "need %ld descriptors", 2 * pairs + 64);
	struct event_base *base = event_base_new();
	event_base_loop(base, EVLOOP_NONBLOCK);
	int (*fds)[2] = malloc((size_t)pairs * sizeof *fds);
	for (long i = 0; i < pairs; i++)
		BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds[i]) == 0, "socketpair");
	long before = rss_bytes();
	struct bufferevent **b = malloc((size_t)pairs * 2 * sizeof *b);
	for (long i = 0; i < 2 * pairs; i++) {
		b[i] = bufferevent_socket_new(base, fds[i / 2][i % 2], BEV_OPT_CLOSE_ON_FREE);
		BENCH_CHECK(b[i] && bufferevent_enable(b[i], EV_READ) == 0, "bufferevent %ld", i);
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	long after = rss_bytes();
	return (double)(after - before) / (double)(2 * pairs);
}

static double pending_timers(long n)
{
	struct event_base *base = event_base_new();
	event_base_loop(base, EVLOOP_NONBLOCK);
	struct event **e = malloc((size_t)n * sizeof *e);
	long before_events = rss_bytes();
	for (long i = 0; i < n; i++) {
		struct timeval tv = { 100 + i % 7, i % 1000000 };
		e[i] = evtimer_new(base, nop, NULL);
		BENCH_CHECK(e[i] && evtimer_add(e[i], &tv) == 0, "timer %ld", i);
	}
	long after = rss_bytes();
	return (double)(after - before_events) / (double)n;
}

static double rss_after_free(long n)
{
	struct event_base *base = event_base_new();
	event_base_loop(base, EVLOOP_NONBLOCK);
	long before = rss_bytes();
	struct bufferevent **b = malloc((size_t)n * sizeof *b);
	for (long i = 0; i < n; i++)
		b[i] = bufferevent_socket_new(base, -1, 0);
	for (long i = 0; i < n; i++)
		bufferevent_free(b[i]);
	event_base_loop(base, EVLOOP_NONBLOCK);
	long t = 20 * n;
	struct event **e = malloc((size_t)t * sizeof *e);
	for (long i = 0; i < t; i++) {
		struct timeval tv = { 100, i % 1000000 };
		e[i] = evtimer_new(base, nop, NULL);
		evtimer_add(e[i], &tv);
	}
	for (long i = 0; i < t; i++)
		event_free(e[i]);
	free(e);
	free(b);
	return (double)(rss_bytes() - before) / 1024.0;
}

static double create_bevs(long n)
{
	struct event_base *base = event_base_new();
	event_base_loop(base, EVLOOP_NONBLOCK);
	struct bufferevent **b = malloc((size_t)n * sizeof *b);
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		b[i] = bufferevent_socket_new(base, -1, 0);
	uint64_t t = bench_now_ns() - t0;
	for (long i = 0; i < n; i++)
		BENCH_CHECK(b[i] != NULL, "bufferevent %ld", i);
	return bench_ns_per_op(t, (uint64_t)n);
}

static double free_bevs(long n)
{
	struct event_base *base = event_base_new();
	event_base_loop(base, EVLOOP_NONBLOCK);
	struct bufferevent **b = malloc((size_t)n * sizeof *b);
	for (long i = 0; i < n; i++)
		BENCH_CHECK((b[i] = bufferevent_socket_new(base, -1, 0)) != NULL, "bufferevent");
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		bufferevent_free(b[i]);
	event_base_loop(base, EVLOOP_NONBLOCK);
	return bench_ns_per_op(bench_now_ns() - t0, (uint64_t)n);
}

/* fork + event_reinit + one pass, timed in the child from just before the
 * fork (the parent's clock reading travels in the child's memory). */
static double fork_reinit(long forks)
{
	enum { PAIRS = 500 };
	struct event_base *base = event_base_new();
	int fds[PAIRS][2];
	struct event *ev[2 * PAIRS];
	for (int i = 0; i < PAIRS; i++) {
		BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds[i]) == 0, "socketpair");
		for (int k = 0; k < 2; k++) {
			ev[2 * i + k] = event_new(base, fds[i][k], EV_READ | EV_PERSIST, nop, NULL);
			event_add(ev[2 * i + k], NULL);
		}
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	uint64_t total = 0;
	for (long f = 0; f < forks; f++) {
		int p[2];
		BENCH_CHECK(pipe(p) == 0, "pipe");
		uint64_t t0 = bench_now_ns();
		pid_t pid = fork();
		BENCH_CHECK(pid >= 0, "fork");
		if (pid == 0) {
			if (event_reinit(base) != 0 || event_base_loop(base, EVLOOP_NONBLOCK) < 0)
				_exit(1);
			uint64_t t = bench_now_ns() - t0;
			if (write(p[1], &t, sizeof t) != sizeof t)
				_exit(1);
			_exit(0);
		}
		close(p[1]);
		uint64_t t = 0;
		ssize_t r = read(p[0], &t, sizeof t);
		close(p[0]);
		int st;
		BENCH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		    r == sizeof t, "child failed");
		total += t;
	}
	return bench_ns_per_op(total, (uint64_t)forks);
}

static double case_idle(long n) { return in_child(idle_bevs, n); }
static double case_timers(long n) { return in_child(pending_timers, n); }
static double case_after_free(long n) { return in_child(rss_after_free, n); }
static double case_create(long n) { return in_child(create_bevs, n); }
static double case_free(long n) { return in_child(free_bevs, n); }
static double case_fork(long n) { return in_child(fork_reinit, n); }

static const struct bench_case cases[] = {
	{ "footprint_idle_socket_bev", "B/bev", case_idle, 8000 },
	{ "footprint_pending_timer", "B/timer", case_timers, 1000000 },
	{ "footprint_rss_after_free", "KB", case_after_free, 50000 },
	{ "bev_create_50k", "ns/op", case_create, 50000 },
	{ "bev_free_50k", "ns/op", case_free, 50000 },
	{ "fork_reinit_1000_events", "ns/op", case_fork, 20 },
};

int main(int argc, char **argv)
{
	return bench_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
