/*
 * diff_fork_stress.c -- forks at random moments of a running transfer.
 *
 * The parent streams STREAM bytes through a pair of socket bufferevents and
 * checks every byte as it arrives. Meanwhile it forks, at random moments
 * (from a timer or from inside its read callback, with data in flight both
 * ways); each child calls event_reinit, frees its copies of the parent's
 * bufferevents, runs a transfer of its own on the inherited base, checks
 * that its descriptors are back to what it had after the fork, and exits
 * within a bound; one child in four forks a grandchild that does the same.
 * The trace is a summary, the same whatever the timing, so it is compared
 * with libevent's like any other.
 *
 * FORKS and STREAM can be raised through the environment (FORK_STRESS_FORKS,
 * FORK_STRESS_BYTES) for a longer run.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "bevtest.h"
#include "trace.h"

static struct event_base *base;
static struct tr_rng rng = { 0x5eed };
static long forks_wanted = 40, forks_done, children_ok, children_bad;
static size_t stream = 8 << 20;

/* Set in a child forked from inside a callback: it leaves the loop (it
 * cannot run the base's loop from inside it) and does its work in main. */
static int child_depth = -1;
static int fds_at_fork; /* the parent's, just before fork */
static int in_child;
static struct event *timer;

/* A byte of the stream at offset off (not all zeros, not periodic on
 * chain sizes). */
static unsigned char stream_byte(size_t off)
{
	return (unsigned char)((off * 2654435761u) >> 13);
}

static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[300], link[256];
		snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
		ssize_t k = readlink(path, link, sizeof link - 1);
		link[k > 0 ? k : 0] = '\0';
		if (e->d_name[0] != '.')
			fprintf(stderr, "  fd %s -> %s\n", e->d_name, link);
	}
	closedir(d);
}

/* The program's descriptors. goevent keeps one sealed copy of its engine
 * in a process that forked more than once (its later children load it);
 * that one is the library's and bounded, so it is left out, and more than
 * one would be a leak. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0, spares = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], link[64];
		snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
		ssize_t k = readlink(path, link, sizeof link - 1);
		link[k > 0 ? k : 0] = '\0';
		if (strncmp(link, "/memfd:goevent-engine-spare", 27) == 0)
			spares++;
		else
			n++;
	}
	closedir(d);
	if (spares > 1) {
		fprintf(stderr, "%d engine spares\n", spares);
		exit(4);
	}
	return n - 1;
}

/* ---- a transfer: writer w fills, reader r checks --------------------------- */

struct transfer {
	struct bufferevent *w, *r;
	size_t sent, got, total;
	int bad;
	int in_child;
};

static void fill(struct transfer *t)
{
	unsigned char buf[4096];
	while (t->sent < t->total && evbuffer_get_length(bufferevent_get_output(t->w)) < 65536) {
		size_t n = t->total - t->sent;
		if (n > sizeof buf)
			n = sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = stream_byte(t->sent + i);
		bufferevent_write(t->w, buf, n);
		t->sent += n;
	}
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	fill(arg);
}

static void maybe_fork(void);

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct transfer *t = arg;
	unsigned char buf[8192];
	size_t n;
	while ((n = bufferevent_read(bev, buf, sizeof buf)) > 0) {
		for (size_t i = 0; i < n; i++)
			if (buf[i] != stream_byte(t->got + i))
				t->bad = 1;
		t->got += n;
	}
	if (t->got >= t->total) {
		event_base_loopbreak(base);
		return;
	}
	if (!in_child && tr_below(&rng, 50) == 0) {
		maybe_fork();
		if (child_depth >= 0)
			return;
	}
}

static void start(struct transfer *t, size_t total, int in_child)
{
	int sv[2];
	memset(t, 0, sizeof *t);
	t->total = total;
	t->in_child = in_child;
	make_pair(sv);
	t->w = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	t->r = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(t->w, NULL, write_cb, NULL, t);
	bufferevent_setcb(t->r, read_cb, NULL, NULL, t);
	bufferevent_setwatermark(t->w, EV_WRITE, 16384, 0);
	bufferevent_enable(t->r, EV_READ);
	fill(t);
}

static void stop(struct transfer *t)
{
	bufferevent_free(t->w);
	bufferevent_free(t->r);
}

/* ---- the children ------------------------------------------------------------ */

static struct transfer main_xfer;

static int child_work(int depth, int first)
{
	int fds_expected = fds_at_fork;
	in_child = 1;
	alarm(20);
	if (event_reinit(base) != 0)
		return 2;
	event_del(timer);
	/* The parent's transfer is the parent's: the first generation lets
	 * go of it (closing only this process's descriptors). */
	if (first) {
		stop(&main_xfer);
		fds_expected -= 2;
	}
	struct transfer t;
	start(&t, 256 << 10, 1);
	event_base_dispatch(base);
	int ok = !t.bad && t.got == t.total;
	stop(&t);
	event_base_loop(base, EVLOOP_NONBLOCK); /* the frees finish in the loop */
	if (depth > 0 && ok) {
		fflush(stdout);
		fds_at_fork = count_fds();
		pid_t pid = fork();
		if (pid == 0)
			_exit(child_work(depth - 1, 0));
		int st;
		ok = waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	/* The base's descriptors were replaced one for one and the
	 * transfer's are closed: the count is the parent's at the fork (less
	 * the parent's transfer's two, for the first generation). */
	if (count_fds() != fds_expected) {
		fprintf(stderr, "child: %d descriptors, %d expected\n", count_fds(), fds_expected);
		list_fds();
		return 3;
	}
	return ok ? 0 : 1;
}

static void maybe_fork(void)
{
	if (in_child || forks_done >= forks_wanted)
		return;
	forks_done++;
	fflush(stdout);
	fds_at_fork = count_fds();
	pid_t pid = fork();
	if (pid < 0) {
		children_bad++;
		return;
	}
	if (pid == 0) {
		in_child = 1;
		child_depth = tr_below(&rng, 4) == 0 ? 1 : 0;
		event_base_loopbreak(base);
		return;
	}
	int st;
	if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		children_ok++;
	} else {
		children_bad++;
		fprintf(stderr, "child %ld: status %#x\n", forks_done, st);
	}
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct event *self = arg;
	if (in_child)
		return;
	maybe_fork();
	if (child_depth >= 0)
		return;
	if (forks_done < forks_wanted) {
		struct timeval tv = { 0, (long)(200 + tr_below(&rng, 3000)) };
		evtimer_add(self, &tv);
	}
}

int main(void)
{
	tr_init();
	if (getenv("FORK_STRESS_FORKS"))
		forks_wanted = atol(getenv("FORK_STRESS_FORKS"));
	if (getenv("FORK_STRESS_BYTES"))
		stream = (size_t)atol(getenv("FORK_STRESS_BYTES"));
	base = event_base_new();
	int fds_start = count_fds();
	start(&main_xfer, stream, 0);
	timer = evtimer_new(base, timer_cb, event_self_cbarg());
	struct timeval tv = { 0, 500 };
	evtimer_add(timer, &tv);
	/* Until the stream is through and every fork has happened. */
	while (main_xfer.got < main_xfer.total || forks_done < forks_wanted) {
		if (main_xfer.got >= main_xfer.total && forks_done < forks_wanted)
			maybe_fork();
		else
			event_base_dispatch(base);
		if (child_depth >= 0)
			_exit(child_work(child_depth, 1));
	}
	event_free(timer);
	stop(&main_xfer);
	event_base_loop(base, EVLOOP_NONBLOCK);
	printf("forks: %ld, children that finished their transfer: %ld, failed: %ld\n",
	    forks_done, children_ok, children_bad);
	printf("parent stream: %zu of %zu bytes, %s\n", main_xfer.got, main_xfer.total,
	    main_xfer.bad ? "CORRUPTED" : "intact");
	printf("parent descriptors back to the start: %s\n",
	    count_fds() == fds_start ? "yes" : "no");
	event_base_free(base);
	return children_bad != 0 || main_xfer.bad;
}
