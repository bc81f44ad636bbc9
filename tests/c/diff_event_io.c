/*
 * diff_event_io.c -- differential test of fd events on pipes and
 * socketpairs.
 *
 * Read and write readiness, persistent and one-shot events, the result
 * flags a callback gets (EV_ET is reported back to edge-triggered events,
 * as libevent's epoll backend does), edge-triggered events that do not
 * fire again until new data arrives, EV_CLOSED on a peer shutdown, what a
 * reader sees when the writer closes (pipe hang-up), several events on one
 * fd (activated newest first), event_base_active_by_fd, event_base_once on
 * an fd, and a timeout on an fd event. Writes happen from callbacks or
 * before the loop, so the order of everything printed is determined.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

static struct event_base *base;

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void mkpipe(int p[2])
{
	if (pipe(p) != 0) {
		perror("pipe");
		exit(1);
	}
	nonblock(p[0]);
	nonblock(p[1]);
}

static void mksock(int p[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0) {
		perror("socketpair");
		exit(1);
	}
	nonblock(p[0]);
	nonblock(p[1]);
}

static int drain(int fd)
{
	char buf[256];
	int total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (int)n;
	if (n == 0)
		return total ? total : -1; /* -1: EOF with nothing read */
	return total;
}

struct ioctx {
	const char *name;
	struct event *ev;
	int runs;
	int max_runs;
	int do_drain;
};

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ioctx *c = arg;
	int n = 0;
	c->runs++;
	if (c->do_drain && (what & EV_READ))
		n = drain(fd);
	printf("  %s run=%d what=0x%x read=%d\n", c->name, c->runs, what, n);
	if (c->max_runs && c->runs >= c->max_runs)
		event_del(c->ev);
}

static void test_basic_pipe(void)
{
	int p[2], r;
	struct event rd, wr;
	struct ioctx rc = { "reader", &rd, 0, 2, 1 }, wc = { "writer", &wr, 0, 0, 0 };
	printf("-- pipe read/write\n");
	mkpipe(p);
	event_assign(&rd, base, p[0], EV_READ | EV_PERSIST, io_cb, &rc);
	event_assign(&wr, base, p[1], EV_WRITE, io_cb, &wc);
	printf("add rd -> %d, add wr -> %d\n", event_add(&rd, NULL), event_add(&wr, NULL));
	printf("pending rd=0x%x wr=0x%x\n", event_pending(&rd, EV_READ | EV_WRITE, NULL),
	    event_pending(&wr, EV_READ | EV_WRITE, NULL));
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d (writer ran, one-shot)\n", r);
	printf("pending wr=0x%x\n", event_pending(&wr, EV_WRITE, NULL));
	if (write(p[1], "abc", 3) != 3)
		printf("write failed\n");
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once -> %d\n", r);
	if (write(p[1], "de", 2) != 2)
		printf("write failed\n");
	r = event_base_dispatch(base);
	printf("dispatch -> %d (reader deleted itself)\n", r);
	close(p[0]);
	close(p[1]);
}

static void test_et(void)
{
	int p[2], r;
	struct event et, lt;
	struct ioctx ec = { "et", &et, 0, 0, 0 }, lc = { "lt", &lt, 0, 0, 0 };
	printf("-- edge-triggered\n");
	mksock(p);
	event_assign(&et, base, p[0], EV_READ | EV_PERSIST | EV_ET, io_cb, &ec);
	event_add(&et, NULL);
	if (write(p[1], "x", 1) != 1)
		printf("write failed\n");
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d\n", r);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock, not drained -> %d et runs=%d\n", r, ec.runs);
	if (write(p[1], "y", 1) != 1)
		printf("write failed\n");
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock, new data -> %d et runs=%d\n", r, ec.runs);
	event_del(&et);

	/* Level-triggered on the same undrained data fires every time. */
	event_assign(&lt, base, p[0], EV_READ | EV_PERSIST, io_cb, &lc);
	event_add(&lt, NULL);
	/* (ONCE too: a plain nonblocking loop would spin on it forever.) */
	event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
	event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
	printf("lt runs=%d\n", lc.runs);
	event_del(&lt);
	close(p[0]);
	close(p[1]);
}

static void test_closed(void)
{
	int s[2], r;
	struct event cl, rdcl;
	struct ioctx cc = { "closed", &cl, 0, 0, 1 }, rc = { "read+closed", &rdcl, 0, 0, 1 };
	struct timeval t2 = { 2, 0 };
	printf("-- EV_CLOSED\n");
	mksock(s);
	event_assign(&cl, base, s[0], EV_CLOSED, io_cb, &cc);
	event_add(&cl, &t2);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock, peer open -> %d runs=%d\n", r, cc.runs);
	shutdown(s[1], SHUT_WR);
	r = event_base_dispatch(base);
	printf("dispatch -> %d runs=%d\n", r, cc.runs);
	close(s[0]);
	close(s[1]);

	mksock(s);
	event_assign(&rdcl, base, s[0], EV_READ | EV_CLOSED, io_cb, &rc);
	event_add(&rdcl, NULL);
	if (write(s[1], "bye", 3) != 3)
		printf("write failed\n");
	close(s[1]);
	r = event_base_dispatch(base);
	printf("dispatch -> %d runs=%d\n", r, rc.runs);
	close(s[0]);
}

static void test_hangup(void)
{
	int p[2], r;
	struct event rd;
	struct ioctx rc = { "hup-reader", &rd, 0, 3, 1 };
	printf("-- pipe hang-up\n");
	mkpipe(p);
	event_assign(&rd, base, p[0], EV_READ | EV_PERSIST, io_cb, &rc);
	event_add(&rd, NULL);
	if (write(p[1], "last", 4) != 4)
		printf("write failed\n");
	close(p[1]);
	r = event_base_dispatch(base);
	printf("dispatch -> %d runs=%d\n", r, rc.runs);
	close(p[0]);
}

static void test_same_fd(void)
{
	int s[2], r, i;
	struct event evs[3];
	struct ioctx cs[3] = {
		{ "first-read", &evs[0], 0, 0, 0 },
		{ "second-write", &evs[1], 0, 0, 0 },
		{ "third-rw", &evs[2], 0, 0, 0 },
	};
	printf("-- several events on one fd\n");
	mksock(s);
	event_assign(&evs[0], base, s[0], EV_READ, io_cb, &cs[0]);
	event_assign(&evs[1], base, s[0], EV_WRITE, io_cb, &cs[1]);
	event_assign(&evs[2], base, s[0], EV_READ | EV_WRITE, io_cb, &cs[2]);
	for (i = 0; i < 3; i++)
		event_add(&evs[i], NULL);
	if (write(s[1], "z", 1) != 1)
		printf("write failed\n");
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once -> %d\n", r);
	/* Deleting one of several keeps the fd watched for the others. */
	for (i = 0; i < 3; i++)
		event_add(&evs[i], NULL);
	event_del(&evs[2]);
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once after del -> %d\n", r);
	printf("added=%d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
	close(s[0]);
	close(s[1]);
}

static void test_active_by_fd(void)
{
	int p[2], r;
	struct event rd, wr, tm;
	struct ioctx rc = { "abf-read", &rd, 0, 0, 0 }, wc = { "abf-write", &wr, 0, 0, 0 },
		     tc = { "abf-timer", &tm, 0, 0, 0 };
	struct timeval t5 = { 5, 0 };
	printf("-- active_by_fd\n");
	mkpipe(p);
	event_assign(&rd, base, p[0], EV_READ, io_cb, &rc);
	event_assign(&wr, base, p[0], EV_WRITE, io_cb, &wc);
	event_assign(&tm, base, p[0], 0, io_cb, &tc);
	event_add(&rd, NULL);
	event_add(&wr, NULL);
	event_add(&tm, &t5);
	event_base_active_by_fd(base, p[0], EV_READ);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d\n", r);
	event_base_active_by_fd(base, p[0], EV_TIMEOUT);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d\n", r);
	event_base_active_by_fd(base, p[0], EV_WRITE | EV_READ);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d\n", r);
	event_del(&wr);
	close(p[0]);
	close(p[1]);
}

static void once_io(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	printf("  once %s what=0x%x\n", (const char *)arg, what);
}

static void test_once_and_timeout(void)
{
	int p[2], r;
	struct event rd;
	struct ioctx rc = { "timed-read", &rd, 0, 0, 1 };
	struct timeval t30 = { 0, 30000 }, t5 = { 5, 0 };
	printf("-- once on fd, timeout on fd event\n");
	mkpipe(p);
	printf("once write -> %d\n", event_base_once(base, p[1], EV_WRITE, once_io, "w", &t5));
	printf("once read (timeout) -> %d\n", event_base_once(base, p[0], EV_READ, once_io, "r", &t30));
	r = event_base_dispatch(base);
	printf("dispatch -> %d\n", r);
	event_assign(&rd, base, p[0], EV_READ, io_cb, &rc);
	event_add(&rd, &t30);
	r = event_base_dispatch(base);
	printf("dispatch -> %d (read event timed out)\n", r);
	event_add(&rd, &t5);
	if (write(p[1], "q", 1) != 1)
		printf("write failed\n");
	r = event_base_dispatch(base);
	printf("dispatch -> %d pending after=0x%x\n", r,
	    event_pending(&rd, EV_READ | EV_TIMEOUT, NULL));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	base = event_base_new();
	if (!base) {
		printf("no base\n");
		return 1;
	}
	test_basic_pipe();
	test_et();
	test_closed();
	test_hangup();
	test_same_fd();
	test_active_by_fd();
	test_once_and_timeout();
	event_base_free(base);
	printf("done\n");
	return 0;
}
