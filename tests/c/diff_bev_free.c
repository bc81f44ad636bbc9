/*
 * diff_bev_free.c -- freeing socket bufferevents, step by step: what is
 * left of a bufferevent between bufferevent_free and the loop pass that
 * finishes it, and afterwards.
 *
 * goevent frees a plain socket bufferevent (no lock, no rate limit, no
 * deferred callback queued, buffers it alone holds) without entering Go;
 * everything else goes the Go way. Each case below is one side of that
 * line: the fd closed or not (BEV_OPT_CLOSE_ON_FREE) and when, events
 * deleted at once (no callback after the free, even with data waiting),
 * the finalizer run by the next pass or by event_base_free, a free from
 * inside the bufferevent's own callbacks (the last reference then goes in
 * the read handler), extra references (bufferevent_incref), data left in
 * both buffers, buffers with the program's own callbacks, a deferred
 * callback still queued, timeouts, and many bufferevents freed in one go
 * (descriptor numbers reused as libevent reuses them), and the place of
 * the finalizer in the loop's queues (queued without ending the pass over
 * a lower-priority queue, as libevent queues it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "bevtest.h"
#include "trace.h"

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void readcb(struct bufferevent *bev, void *arg)
{
	const char *name = arg;
	printf("  %s readcb len %zu\n", name, in_len(bev));
}

static void writecb(struct bufferevent *bev, void *arg)
{
	const char *name = arg;
	printf("  %s writecb out %zu\n", name, out_len(bev));
}

static void eventcb(struct bufferevent *bev, short what, void *arg)
{
	const char *name = arg;
	(void)bev;
	printf("  %s eventcb 0x%x\n", name, what);
}

/* Frees itself in the read callback. */
static void free_in_readcb(struct bufferevent *bev, void *arg)
{
	printf("  %s readcb len %zu, frees itself\n", (const char *)arg, in_len(bev));
	bufferevent_free(bev);
}

/* Frees itself on EOF. */
static void free_on_eof(struct bufferevent *bev, short what, void *arg)
{
	printf("  %s eventcb 0x%x, frees itself\n", (const char *)arg, what);
	if (what & BEV_EVENT_EOF)
		bufferevent_free(bev);
}

static void buf_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	(void)buf;
	printf("  buffer cb %s: orig %zu +%zu -%zu\n", (const char *)arg, info->orig_size,
	    info->n_added, info->n_deleted);
}

static void ctx_free(void *ctx)
{
	printf("  filter context %s freed\n", (const char *)ctx);
}

static void free_filter_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	printf("  A frees the filter\n");
	bufferevent_free(arg);
}

static void note_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	printf("  %s runs\n", (const char *)arg);
}

static void pass(struct event_base *base)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

int main(void)
{
	tr_init();
	struct event_base *base = event_base_new();
	int fds[2];

	printf("close on free: the fd closes when the loop finishes the free\n");
	make_pair(fds);
	struct bufferevent *b = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(b, readcb, writecb, eventcb, "A");
	bufferevent_enable(b, EV_READ);
	put(fds[1], "hello", 5);
	bufferevent_write(b, "out", 3);
	bufferevent_free(b);
	printf("  after free: fd open %d\n", fd_open(fds[0]));
	pass(base);
	printf("  after pass: fd open %d\n", fd_open(fds[0]));
	char tmp[64];
	ssize_t n = read(fds[1], tmp, sizeof(tmp));
	printf("  peer reads %zd (%s)\n", n, n > 0 ? "data" : n == 0 ? "EOF" : "error");
	close(fds[1]);

	printf("without close on free: the fd stays, nothing more is read\n");
	make_pair(fds);
	b = bufferevent_socket_new(base, fds[0], 0);
	bufferevent_setcb(b, readcb, writecb, eventcb, "B");
	bufferevent_enable(b, EV_READ | EV_WRITE);
	put(fds[1], "data", 4);
	bufferevent_free(b);
	pass(base);
	printf("  after pass: fd open %d, bytes waiting %zd\n", fd_open(fds[0]),
	    recv(fds[0], tmp, sizeof(tmp), MSG_DONTWAIT | MSG_PEEK));
	close(fds[0]);
	close(fds[1]);

	printf("freed in its read callback, then EOF on another\n");
	make_pair(fds);
	b = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(b, free_in_readcb, NULL, eventcb, "C");
	bufferevent_enable(b, EV_READ);
	int fds2[2];
	make_pair(fds2);
	struct bufferevent *d = bufferevent_socket_new(base, fds2[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(d, readcb, NULL, free_on_eof, "D");
	bufferevent_enable(d, EV_READ);
	put(fds[1], "xyz", 3);
	shutdown(fds2[1], SHUT_WR);
	pass(base);
	printf("  fds open: C %d D %d\n", fd_open(fds[0]), fd_open(fds2[0]));
	pass(base);
	printf("  after another pass: C %d D %d\n", fd_open(fds[0]), fd_open(fds2[0]));
	close(fds[1]);
	close(fds2[1]);

	printf("an extra reference keeps it until bufferevent_decref\n");
	make_pair(fds);
	b = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(b, readcb, NULL, eventcb, "E");
	bufferevent_enable(b, EV_READ);
	bufferevent_incref(b);
	bufferevent_free(b);
	put(fds[1], "late", 4);
	pass(base);
	printf("  after free and pass: fd open %d, callbacks gone (readcb %s), input %zu\n",
	    fd_open(fds[0]), b->readcb ? "set" : "NULL", in_len(b));
	printf("  decref -> %d\n", bufferevent_decref(b));
	pass(base);
	printf("  after decref and pass: fd open %d\n", fd_open(fds[0]));
	close(fds[1]);

	printf("buffers with callbacks of the program's and data in them\n");
	make_pair(fds);
	b = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	evbuffer_add_cb(bufferevent_get_input(b), buf_cb, "in");
	evbuffer_add_cb(bufferevent_get_output(b), buf_cb, "out");
	bufferevent_write(b, "0123456789", 10);
	evbuffer_add(bufferevent_get_input(b), "abc", 3);
	bufferevent_free(b);
	pass(base);
	printf("  fd open %d\n", fd_open(fds[0]));
	close(fds[1]);

	printf("a deferred callback still queued when it is freed\n");
	make_pair(fds);
	b = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	bufferevent_setcb(b, readcb, writecb, eventcb, "F");
	bufferevent_trigger(b, EV_READ | EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS);
	bufferevent_free(b);
	pass(base);
	printf("  fd open %d\n", fd_open(fds[0]));
	close(fds[1]);

	printf("timeouts pending when it is freed\n");
	make_pair(fds);
	b = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(b, readcb, writecb, eventcb, "G");
	struct timeval tv = { 0, 20000 };
	bufferevent_set_timeouts(b, &tv, &tv);
	bufferevent_enable(b, EV_READ | EV_WRITE);
	bufferevent_free(b);
	spin(base, 60);
	printf("  fd open %d (no timeout callback above)\n", fd_open(fds[0]));
	close(fds[1]);

	printf("freed, then the base freed before any pass\n");
	struct event_base *base2 = event_base_new();
	make_pair(fds);
	b = bufferevent_socket_new(base2, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_enable(b, EV_READ);
	bufferevent_free(b);
	printf("  before event_base_free: fd open %d\n", fd_open(fds[0]));
	event_base_free(base2);
	printf("  after: fd open %d\n", fd_open(fds[0]));
	close(fds[1]);

	printf("a finalizer queued from a lower-priority queue runs after it\n");
	base2 = event_base_new();
	event_base_priority_init(base2, 3);
	make_pair(fds);
	b = bufferevent_socket_new(base2, fds[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *f = bufferevent_filter_new(b, NULL, NULL, BEV_OPT_CLOSE_ON_FREE,
	    ctx_free, "X");
	struct event *ea = event_new(base2, -1, 0, free_filter_cb, f);
	struct event *eb = event_new(base2, -1, 0, note_cb, "B");
	event_priority_set(ea, 2);
	event_priority_set(eb, 2);
	event_active(ea, EV_READ, 0);
	event_active(eb, EV_READ, 0);
	event_base_loop(base2, EVLOOP_NONBLOCK);
	printf("  fd open %d\n", fd_open(fds[0]));
	event_free(ea);
	event_free(eb);
	close(fds[1]);
	event_base_free(base2);

	printf("a thousand made and freed, twice: descriptors reused alike\n");
	enum { N = 1000 };
	static struct bufferevent *bs[N];
	static int peers[N];
	for (int round = 0; round < 2; round++) {
		int lo = -1, hi = -1;
		for (int i = 0; i < N; i++) {
			make_pair(fds);
			peers[i] = fds[1];
			bs[i] = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
			bufferevent_enable(bs[i], i % 2 ? EV_READ : EV_WRITE);
			if (lo < 0 || fds[0] < lo)
				lo = fds[0];
			if (fds[0] > hi)
				hi = fds[0];
		}
		for (int i = 0; i < N; i++)
			bufferevent_free(bs[i]);
		pass(base);
		int still = 0;
		for (int i = 0; i < N; i++) {
			close(peers[i]);
		}
		for (int fd = lo; fd <= hi; fd++)
			still += fd_open(fd);
		printf("  round %d: %d descriptors spanned, %d still open\n", round, hi - lo + 1, still);
	}
	event_base_free(base);
	printf("done\n");
	return 0;
}
