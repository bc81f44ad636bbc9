/*
 * diff_bev_api: the smaller entry points of bufferevent.h,
 * bufferevent_compat.h and bufferevent_struct.h on socket bufferevents.
 *
 * The compat constructor, struct fields read directly, watermarks,
 * enable/disable, read/write helpers, flush, trigger and trigger_event with
 * their options, incref/decref, lock/unlock from a second thread with
 * BEV_OPT_THREADSAFE, max single read/write, priorities, getfd/setfd,
 * get_underlying, connect errors and connect_hostname without evdns.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_compat.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "bevtest.h"

static const char *fdstate(int fd)
{
	errno = 0;
	if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
		return "closed";
	return "open";
}

static int phase;

static void trace_rcb(struct bufferevent *bev, void *arg)
{
	printf("  [%d] read cb (%s) input %zu\n", phase, (const char *)arg,
	    evbuffer_get_length(bev->input));
}

static void trace_wcb(struct bufferevent *bev, void *arg)
{
	printf("  [%d] write cb (%s) output %zu\n", phase, (const char *)arg,
	    evbuffer_get_length(bev->output));
}

static void trace_ecb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	printf("  [%d] event cb (%s) 0x%x\n", phase, (const char *)arg, what);
}

static void test_compat(void)
{
	int fds[2];
	printf("compat constructor\n");
	/* Old programs call event_init() first: it makes the global current
	 * base that bufferevent_new relies on. */
	struct event_base *base = event_init();
	make_pair(fds);
	struct bufferevent *bev = bufferevent_new(fds[0], trace_rcb, trace_wcb,
	    trace_ecb, "compat");
	printf("  created %s, base before set %s\n", bev ? "yes" : "no",
	    bev->ev_base == NULL ? "NULL" : "set");
	int rs = bufferevent_base_set(base, bev);
	printf("  base_set %d, ev_base %s\n", rs,
	    bev->ev_base == base && bufferevent_get_base(bev) == base ? "ok" : "wrong");
	bufferevent_settimeout(bev, 5, 7);
	printf("  settimeout: read %ld.%06ld write %ld.%06ld\n",
	    (long)bev->timeout_read.tv_sec, (long)bev->timeout_read.tv_usec,
	    (long)bev->timeout_write.tv_sec, (long)bev->timeout_write.tv_usec);
	bufferevent_settimeout(bev, 0, 0);
	printf("  settimeout 0: read %ld write %ld\n",
	    (long)bev->timeout_read.tv_sec, (long)bev->timeout_write.tv_sec);
	printf("  enabled 0x%x\n", bev->enabled);
	bufferevent_enable(bev, EV_READ);
	printf("  enabled after enable(EV_READ) 0x%x\n", bev->enabled);
	if (write(fds[1], "compat!", 7) != 7)
		exit(1);
	phase = 1;
	event_base_loop(base, EVLOOP_ONCE);
	char buf[16] = {0};
	size_t n = bufferevent_read(bev, buf, sizeof(buf) - 1);
	printf("  read %zu '%s'\n", n, buf);
	bufferevent_free(bev);
	close(fds[1]);
	event_base_free(base);
}

static void test_fields_and_wm(void)
{
	int fds[2];
	printf("struct fields and watermarks\n");
	struct event_base *base = event_base_new();
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	printf("  input/output %s\n", bev->input == bufferevent_get_input(bev) &&
	    bev->output == bufferevent_get_output(bev) && bev->input != bev->output
	    ? "match" : "WRONG");
	printf("  enabled 0x%x get_enabled 0x%x\n", bev->enabled, bufferevent_get_enabled(bev));
	printf("  callbacks null %d\n", bev->readcb == NULL && bev->writecb == NULL &&
	    bev->errorcb == NULL && bev->cbarg == NULL);
	bufferevent_setcb(bev, trace_rcb, trace_wcb, trace_ecb, "f");
	printf("  callbacks set %d\n", bev->readcb == trace_rcb &&
	    bev->writecb == trace_wcb && bev->errorcb == trace_ecb &&
	    strcmp(bev->cbarg, "f") == 0);
	bufferevent_data_cb r, w;
	bufferevent_event_cb e;
	void *a;
	bufferevent_getcb(bev, &r, &w, &e, &a);
	printf("  getcb %d\n", r == trace_rcb && w == trace_wcb && e == trace_ecb &&
	    a == bev->cbarg);
	bufferevent_getcb(bev, NULL, NULL, NULL, NULL);
	printf("  wm_read %zu/%zu wm_write %zu/%zu\n", bev->wm_read.low,
	    bev->wm_read.high, bev->wm_write.low, bev->wm_write.high);
	bufferevent_setwatermark(bev, EV_READ, 10, 100);
	bufferevent_setwatermark(bev, EV_WRITE, 20, 200);
	printf("  wm_read %zu/%zu wm_write %zu/%zu\n", bev->wm_read.low,
	    bev->wm_read.high, bev->wm_write.low, bev->wm_write.high);
	bufferevent_setwatermark(bev, EV_READ | EV_WRITE, 3, 4);
	size_t lo = 99, hi = 99;
	int rr = bufferevent_getwatermark(bev, EV_READ, &lo, &hi);
	printf("  getwatermark read %d %zu/%zu\n", rr, lo, hi);
	rr = bufferevent_getwatermark(bev, EV_WRITE, &lo, NULL);
	printf("  getwatermark write %d %zu\n", rr, lo);
	rr = bufferevent_getwatermark(bev, EV_READ | EV_WRITE, &lo, &hi);
	printf("  getwatermark both %d\n", rr);
	bufferevent_setwatermark(bev, EV_READ | EV_WRITE, 0, 0);

	/* enable/disable and what the struct shows */
	bufferevent_enable(bev, EV_READ);
	printf("  enable read -> 0x%x\n", bev->enabled);
	bufferevent_disable(bev, EV_WRITE);
	printf("  disable write -> 0x%x\n", bev->enabled);
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	printf("  disable both -> 0x%x\n", bufferevent_get_enabled(bev));
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	printf("  enable both -> 0x%x\n", bufferevent_get_enabled(bev));

	/* read/write helpers */
	printf("  write %d\n", bufferevent_write(bev, "hello ", 6));
	struct evbuffer *tmp = evbuffer_new();
	evbuffer_add_printf(tmp, "world %d", 42);
	int wb = bufferevent_write_buffer(bev, tmp);
	printf("  write_buffer %d, tmp left %zu, output %zu\n",
	    wb, evbuffer_get_length(tmp),
	    evbuffer_get_length(bev->output));
	phase = 2;
	event_base_loop(base, EVLOOP_NONBLOCK);
	printf("  output after loop %zu\n", evbuffer_get_length(bev->output));
	char buf[64] = {0};
	ssize_t n = read(fds[1], buf, sizeof(buf) - 1);
	printf("  peer got %zd '%s'\n", n, buf);
	if (write(fds[1], "abcdefghij", 10) != 10)
		exit(1);
	phase = 3;
	event_base_loop(base, EVLOOP_ONCE);
	memset(buf, 0, sizeof(buf));
	printf("  read %zu", bufferevent_read(bev, buf, 4));
	printf(" '%s'", buf);
	int rb = bufferevent_read_buffer(bev, tmp);
	printf(" read_buffer %d", rb);
	printf(" tmp %zu input %zu\n", evbuffer_get_length(tmp), evbuffer_get_length(bev->input));
	int f1 = bufferevent_flush(bev, EV_WRITE, BEV_FLUSH);
	int f2 = bufferevent_flush(bev, EV_READ, BEV_NORMAL);
	int f3 = bufferevent_flush(bev, EV_READ | EV_WRITE, BEV_FINISHED);
	printf("  flush write %d read %d finished %d\n", f1, f2, f3);
	evbuffer_free(tmp);

	/* getfd / setfd / underlying */
	printf("  getfd matches %d, underlying %s\n", bufferevent_getfd(bev) == fds[0],
	    bufferevent_get_underlying(bev) ? "set" : "NULL");
	bufferevent_free(bev);
	event_base_loop(base, EVLOOP_NONBLOCK);
	printf("  fd after free %s\n", fdstate(fds[0]));

	bev = bufferevent_socket_new(base, -1, 0);
	printf("  fd-less getfd %d enabled 0x%x\n", bufferevent_getfd(bev), bev->enabled);
	bufferevent_setcb(bev, trace_rcb, NULL, trace_ecb, "setfd");
	bufferevent_enable(bev, EV_READ);
	int fds2[2];
	make_pair(fds2);
	int sf = bufferevent_setfd(bev, fds2[0]);
	printf("  setfd %d getfd matches %d\n", sf, bufferevent_getfd(bev) == fds2[0]);
	if (write(fds2[1], "after setfd", 11) != 11)
		exit(1);
	phase = 4;
	event_base_loop(base, EVLOOP_ONCE);
	bufferevent_free(bev);
	close(fds2[0]);
	close(fds2[1]);
	close(fds[1]);
	event_base_free(base);
}

static void test_trigger(void)
{
	int fds[2];
	printf("trigger\n");
	struct event_base *base = event_base_new();
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, trace_rcb, trace_wcb, trace_ecb, "t");
	phase = 10;
	printf("  trigger read, empty input, low 0\n");
	bufferevent_trigger(bev, EV_READ, 0);
	bufferevent_setwatermark(bev, EV_READ, 5, 0);
	printf("  trigger read, empty input, low 5\n");
	bufferevent_trigger(bev, EV_READ, 0);
	printf("  trigger read, low 5, ignore watermarks\n");
	bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
	/* A socket bufferevent keeps the end of its input frozen outside its
	 * own reads, so the user cannot append to it. */
	printf("  add to input -> %d\n", evbuffer_add(bev->input, "123456", 6));
	printf("  drain output front -> %d\n", evbuffer_drain(bev->output, 1));
	printf("  trigger read|write\n");
	bufferevent_trigger(bev, EV_READ | EV_WRITE, 0);
	bufferevent_write(bev, "zz", 2);
	bufferevent_setwatermark(bev, EV_WRITE, 1, 0);
	printf("  trigger write, output 2 above low 1\n");
	bufferevent_trigger(bev, EV_WRITE, 0);
	printf("  trigger write, ignore watermarks\n");
	bufferevent_trigger(bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS);
	printf("  trigger read+write deferred\n");
	bufferevent_trigger(bev, EV_READ | EV_WRITE,
	    BEV_TRIG_DEFER_CALLBACKS | BEV_TRIG_IGNORE_WATERMARKS);
	printf("  trigger_event EOF now\n");
	bufferevent_trigger_event(bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
	printf("  trigger_event ERROR deferred, then CONNECTED deferred\n");
	errno = ECONNRESET;
	bufferevent_trigger_event(bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
	bufferevent_trigger_event(bev, BEV_EVENT_CONNECTED, BEV_TRIG_DEFER_CALLBACKS);
	printf("  loop\n");
	phase = 11;
	event_base_loop(base, EVLOOP_NONBLOCK);
	char b[8];
	printf("  peer reads %zd\n", read(fds[1], b, sizeof(b)));
	bufferevent_free(bev);
	close(fds[1]);
	event_base_free(base);
}

static void test_refcount(void)
{
	int fds[2];
	printf("incref/decref\n");
	struct event_base *base = event_base_new();
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_incref(bev);
	bufferevent_incref(bev);
	printf("  decref -> %d\n", bufferevent_decref(bev));
	bufferevent_free(bev);
	event_base_loop(base, EVLOOP_NONBLOCK);
	printf("  after free with a reference held: fd %s, output usable %d\n",
	    fdstate(fds[0]), evbuffer_add(bev->output, "x", 1) == 0);
	printf("  decref -> %d\n", bufferevent_decref(bev));
	event_base_loop(base, EVLOOP_NONBLOCK);
	printf("  after last decref: fd %s\n", fdstate(fds[0]));
	close(fds[1]);
	event_base_free(base);
}

struct thr {
	struct bufferevent *bev;
	int rounds;
};

static void *writer_thread(void *arg)
{
	struct thr *t = arg;
	for (int i = 0; i < t->rounds; i++) {
		bufferevent_lock(t->bev);
		bufferevent_write(t->bev, "0123456789", 10);
		bufferevent_write(t->bev, "abcdefghij", 10);
		bufferevent_unlock(t->bev);
	}
	return NULL;
}

struct counter {
	size_t got, want;
	int order_ok;
};

static void count_rcb(struct bufferevent *bev, void *arg)
{
	struct counter *c = arg;
	char buf[4096];
	size_t n;
	while ((n = bufferevent_read(bev, buf, sizeof(buf))) > 0) {
		for (size_t i = 0; i < n; i++) {
			size_t pos = (c->got + i) % 20;
			char want = pos < 10 ? (char)('0' + pos) : (char)('a' + pos - 10);
			if (buf[i] != want)
				c->order_ok = 0;
		}
		c->got += n;
	}
	if (c->got >= c->want)
		event_base_loopbreak(bufferevent_get_base(bev));
}

static void test_threadsafe(void)
{
	int fds[2];
	printf("threadsafe\n");
	struct event_base *base = event_base_new();
	make_pair(fds);
	struct bufferevent *w = bufferevent_socket_new(base, fds[0],
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_THREADSAFE);
	struct bufferevent *r = bufferevent_socket_new(base, fds[1],
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_THREADSAFE | BEV_OPT_DEFER_CALLBACKS |
	    BEV_OPT_UNLOCK_CALLBACKS);
	struct counter c = {0, 20 * 20000, 1};
	bufferevent_setcb(r, count_rcb, NULL, NULL, &c);
	bufferevent_enable(r, EV_READ);
	bufferevent_lock(w);
	bufferevent_lock(w); /* recursive */
	bufferevent_unlock(w);
	bufferevent_unlock(w);
	struct thr t = {w, 20000};
	pthread_t th;
	pthread_create(&th, NULL, writer_thread, &t);
	/* The writer's output is flushed by this loop while the thread keeps
	 * adding under the lock. */
	struct timeval limit = {20, 0};
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	pthread_join(th, NULL);
	printf("  received %zu of %zu, in order %d\n", c.got, c.want, c.order_ok);
	bufferevent_free(w);
	bufferevent_free(r);
	event_base_free(base);

	/* UNLOCK_CALLBACKS without DEFER_CALLBACKS is refused. */
	make_pair(fds);
	base = event_base_new();
	struct bufferevent *bad = bufferevent_socket_new(base, fds[0],
	    BEV_OPT_UNLOCK_CALLBACKS);
	printf("  UNLOCK_CALLBACKS alone: %s\n", bad ? "created" : "NULL");
	if (bad)
		bufferevent_free(bad);
	close(fds[0]);
	close(fds[1]);
	event_base_free(base);
}

struct maxread {
	size_t max_seen;
	size_t total;
};

static void maxread_rcb(struct bufferevent *bev, void *arg)
{
	struct maxread *m = arg;
	size_t n = evbuffer_get_length(bev->input);
	if (n > m->max_seen)
		m->max_seen = n;
	m->total += n;
	evbuffer_drain(bev->input, n);
	if (m->total >= 100000)
		event_base_loopbreak(bufferevent_get_base(bev));
}

static void test_limits_priority(void)
{
	int fds[2];
	printf("max single read/write, priority\n");
	struct event_base *base = event_base_new();
	event_base_priority_init(base, 3);
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	printf("  defaults: read %zd write %zd to_read %zd to_write %zd\n",
	    bufferevent_get_max_single_read(bev), bufferevent_get_max_single_write(bev),
	    bufferevent_get_max_to_read(bev), bufferevent_get_max_to_write(bev));
	int s1 = bufferevent_set_max_single_read(bev, 1000);
	int s2 = bufferevent_set_max_single_write(bev, 700);
	printf("  set 1000/700: %d %d\n", s1, s2);
	printf("  now: read %zd write %zd to_read %zd to_write %zd\n",
	    bufferevent_get_max_single_read(bev), bufferevent_get_max_single_write(bev),
	    bufferevent_get_max_to_read(bev), bufferevent_get_max_to_write(bev));
	struct maxread m = {0, 0};
	bufferevent_setcb(bev, maxread_rcb, NULL, NULL, &m);
	bufferevent_enable(bev, EV_READ);
	static char big[100000];
	memset(big, 'q', sizeof(big));
	size_t off = 0;
	while (off < sizeof(big)) {
		ssize_t k = write(fds[1], big + off, sizeof(big) - off);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	event_base_dispatch(base);
	printf("  read %zu, largest read callback input %s 1000\n", m.total,
	    m.max_seen <= 1000 ? "<=" : ">");
	bufferevent_set_max_single_read(bev, 0);
	bufferevent_set_max_single_write(bev, (size_t)-1);
	printf("  reset with 0 / huge: read %zd write %zd\n",
	    bufferevent_get_max_single_read(bev), bufferevent_get_max_single_write(bev));

	printf("  priority default %d\n", bufferevent_get_priority(bev));
	int ps = bufferevent_priority_set(bev, 2);
	printf("  priority_set 2 -> %d, now %d\n", ps, bufferevent_get_priority(bev));
	ps = bufferevent_priority_set(bev, 7);
	printf("  priority_set 7 -> %d, now %d\n", ps, bufferevent_get_priority(bev));
	bufferevent_free(bev);
	close(fds[1]);
	event_base_free(base);
}

static void connect_ecb(struct bufferevent *bev, short what, void *arg)
{
	printf("  [%s] event 0x%x dns_error %d\n", (const char *)arg, what,
	    bufferevent_socket_get_dns_error(bev));
	event_base_loopbreak(bufferevent_get_base(bev));
}

static void test_connect(void)
{
	printf("connect\n");
	struct event_base *base = event_base_new();
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	listen(l, 16);
	getsockname(l, (struct sockaddr *)&sin, &slen);
	int port = ntohs(sin.sin_port);

	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	printf("  connect NULL address, no fd: %d\n", bufferevent_socket_connect(bev, NULL, 0));
	bufferevent_setcb(bev, NULL, NULL, connect_ecb, "sockaddr");
	printf("  connect: %d\n", bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof(sin)));
	event_base_dispatch(base);
	printf("  enabled after connect 0x%x\n", bufferevent_get_enabled(bev));
	bufferevent_free(bev);

	const char *names[] = {"127.0.0.1", "localhost"};
	for (int i = 0; i < 2; i++) {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		bufferevent_setcb(bev, NULL, NULL, connect_ecb, (void *)names[i]);
		int r = bufferevent_socket_connect_hostname(bev, NULL, AF_INET, names[i], port);
		printf("  connect_hostname %s: %d\n", names[i], r);
		event_base_dispatch(base);
		printf("  fd assigned %s\n", bufferevent_getfd(bev) >= 0 ? "yes" : "no");
		bufferevent_free(bev);
	}

	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, NULL, NULL, connect_ecb, "bad");
	int h1 = bufferevent_socket_connect_hostname(bev, NULL, AF_UNIX, "localhost", port);
	int h2 = bufferevent_socket_connect_hostname(bev, NULL, AF_INET, "localhost", 0);
	int h3 = bufferevent_socket_connect_hostname(bev, NULL, AF_INET, "localhost", 70000);
	printf("  bad family %d, bad port %d / %d\n", h1, h2, h3);
	/* A numeric host that cannot parse: getaddrinfo refuses it at once
	 * with AI_NUMERICHOST-free lookups too, without touching DNS. */
	phase = 20;
	int r = bufferevent_socket_connect_hostname(bev, NULL, AF_INET,
	    "no such host..invalid", port);
	printf("  connect_hostname bad name: %d, dns_error is %s\n", r,
	    bufferevent_socket_get_dns_error(bev) != 0 ? "set" : "0");
	printf("  fd assigned %s\n", bufferevent_getfd(bev) >= 0 ? "yes" : "no");
	bufferevent_free(bev);
	close(l);
	event_base_free(base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (evthread_use_pthreads() != 0) {
		printf("evthread_use_pthreads failed\n");
		return 1;
	}
	test_compat();
	test_fields_and_wm();
	test_trigger();
	test_refcount();
	test_threadsafe();
	test_limits_priority();
	test_connect();
	return 0;
}
