/*
 * diff_fork_after.c -- fork after use: the parent makes a base and one of
 * every kind of object, with data in flight, then forks; the child calls
 * event_reinit and exercises every object; it forks a grandchild that does
 * the same again; once both are gone the parent carries on with its own
 * copies. Processes take turns (each waits for its child), so each sees
 * what the previous one left in the kernel, and the whole trace is the same
 * on every run and on both libraries.
 *
 * Objects: an fd event (persistent, on a pipe), a one-shot timer and a
 * persistent one, a signal event, an evbuffer with a C callback, socket
 * bufferevents with a read low watermark and a write callback, a pair, a
 * filter over a socket bufferevent, a listener, and a rate-limit group with
 * a member.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "bevtest.h"
#include "trace.h"

static const char *who = "parent";
static struct event_base *base;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	printf("%s: ", who);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ---- the objects ---------------------------------------------------------- */

static int pipefd[2];
static struct event *fd_ev, *once_timer, *tick_timer, *sig_ev;
static int ticks_wanted, ticks;
static struct evbuffer *cbbuf;
static struct bufferevent *sa, *sb;       /* socket pair, sa -> sb */
static struct bufferevent *pa, *pb;       /* bufferevent pair */
static struct bufferevent *fu, *fl, *fd2; /* filter fl over socket fu; fd2 the peer */
static struct evconnlistener *lev;
static struct sockaddr_in lev_addr;
static struct bufferevent *ra, *rb;       /* rate-limited socket pair */
static struct ev_token_bucket_cfg *rcfg;
static struct bufferevent_rate_limit_group *grp;

static void fd_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[32];
	(void)arg;
	ssize_t n = read(fd, buf, sizeof buf);
	say("fd event (what %#x): read %zd bytes \"%.*s\"", what, n, n > 0 ? (int)n : 0, buf);
	event_base_loopbreak(base);
}

static void once_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	say("one-shot timer fired (what %#x)", what);
	event_base_loopbreak(base);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (ticks_wanted == 0)
		return;
	if (++ticks == ticks_wanted) {
		say("persistent timer ticked %d times", ticks);
		ticks_wanted = 0;
		event_base_loopbreak(base);
	}
}

static void sig_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)arg;
	say("signal %d (what %#x)", (int)sig, what);
	event_base_loopbreak(base);
}

static void buf_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	(void)arg;
	say("evbuffer callback: orig %zu added %zu deleted %zu, now %zu", info->orig_size,
	    info->n_added, info->n_deleted, evbuffer_get_length(b));
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	char buf[128];
	size_t n = bufferevent_read(bev, buf, sizeof buf - 1);
	buf[n] = '\0';
	say("%s read: %zu bytes \"%s\", %zu left", (const char *)arg, n, buf, in_len(bev));
	event_base_loopbreak(base);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	say("%s write callback, output %zu", (const char *)arg, out_len(bev));
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
    int len, void *arg)
{
	(void)l;
	(void)arg;
	say("listener accepted (family %d, length %d)", addr->sa_family, len);
	evutil_closesocket(fd);
	event_base_loopbreak(base);
}

/* XOR 0x20 on letters: flips case, so the trace shows the filter ran. */
static enum bufferevent_filter_result flip(struct evbuffer *src, struct evbuffer *dst,
    ev_ssize_t limit, enum bufferevent_flush_mode mode, void *ctx)
{
	(void)limit;
	(void)mode;
	(void)ctx;
	char buf[256];
	int n;
	while ((n = evbuffer_remove(src, buf, sizeof buf)) > 0) {
		for (int i = 0; i < n; i++)
			if ((buf[i] | 0x20) >= 'a' && (buf[i] | 0x20) <= 'z')
				buf[i] ^= 0x20;
		evbuffer_add(dst, buf, (size_t)n);
	}
	return BEV_OK;
}

static void make_objects(void)
{
	int sv[2];
	struct timeval t40 = { 0, 40000 }, t15 = { 0, 15000 }, tick = { 0, 10000 };

	base = event_base_new();
	say("base made: %s", event_base_get_method(base));

	if (pipe(pipefd) != 0)
		exit(1);
	fd_ev = event_new(base, pipefd[0], EV_READ | EV_PERSIST, fd_cb, NULL);
	event_add(fd_ev, NULL);
	once_timer = evtimer_new(base, once_cb, NULL);
	evtimer_add(once_timer, &t40);
	tick_timer = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(tick_timer, &tick);
	sig_ev = evsignal_new(base, SIGUSR1, sig_cb, NULL);
	evsignal_add(sig_ev, NULL);

	cbbuf = evbuffer_new();
	evbuffer_add_cb(cbbuf, buf_cb, NULL);
	evbuffer_add(cbbuf, "before fork", 11);

	make_pair(sv);
	sa = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	sb = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(sa, NULL, write_cb, NULL, "socket a");
	bufferevent_setcb(sb, read_cb, NULL, NULL, "socket b");
	bufferevent_setwatermark(sb, EV_READ, 4, 0);
	bufferevent_write(sa, "in flight", 9);
	event_base_loop(base, EVLOOP_NONBLOCK); /* sa writes; sb does not read yet */

	struct bufferevent *pair[2];
	bufferevent_pair_new(base, 0, pair);
	pa = pair[0];
	pb = pair[1];
	bufferevent_setcb(pb, read_cb, NULL, NULL, "pair b");
	bufferevent_write(pa, "pair data", 9);

	make_pair(sv);
	fu = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	fd2 = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	fl = bufferevent_filter_new(fu, flip, flip, BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	bufferevent_setcb(fl, read_cb, NULL, NULL, "filter");
	bufferevent_setcb(fd2, read_cb, NULL, NULL, "filter's peer");
	bufferevent_write(fd2, "To The Filter", 13);
	event_base_loop(base, EVLOOP_NONBLOCK);

	memset(&lev_addr, 0, sizeof lev_addr);
	lev_addr.sin_family = AF_INET;
	lev_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lev = evconnlistener_new_bind(base, accept_cb, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE, 8, (struct sockaddr *)&lev_addr, sizeof lev_addr);
	socklen_t len = sizeof lev_addr;
	getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&lev_addr, &len);

	make_pair(sv);
	ra = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	rb = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(rb, read_cb, NULL, NULL, "rate-limited b");
	rcfg = ev_token_bucket_cfg_new(1 << 20, 1 << 20, 1 << 20, 1 << 20, &t15);
	grp = bufferevent_rate_limit_group_new(base, rcfg);
	bufferevent_add_to_rate_limit_group(rb, grp);
	say("objects made; socket b holds %zu, pair b %zu", in_len(sb), in_len(pb));
}

/* ---- one process's turn ------------------------------------------------------ */

static void exercise(void)
{
	ev_uint64_t rd, wr;

	/* Timers kept across the fork: the one-shot fires once in whichever
	 * process gets there first; the persistent one ticks in each. */
	if (event_pending(once_timer, EV_TIMEOUT, NULL)) {
		event_base_dispatch(base);
	} else {
		say("one-shot timer no longer pending");
	}
	ticks = 0;
	ticks_wanted = 2;
	event_base_dispatch(base);

	/* The fd event, re-added by event_reinit. */
	if (write(pipefd[1], who, strlen(who)) < 0)
		exit(1);
	event_base_dispatch(base);

	/* The signal event, reinstalled. */
	raise(SIGUSR1);
	event_base_dispatch(base);

	/* The evbuffer and its callback. */
	evbuffer_add(cbbuf, who, strlen(who));
	evbuffer_drain(cbbuf, 3);
	say("evbuffer holds %zu", evbuffer_get_length(cbbuf));

	/* Socket bufferevents: what was in flight at the first fork, then
	 * this process's own message. */
	bufferevent_write(sa, who, strlen(who));
	bufferevent_enable(sb, EV_READ);
	event_base_dispatch(base);
	bufferevent_disable(sb, EV_READ);

	/* The pair: data written before the first fork, then more. */
	bufferevent_enable(pb, EV_READ);
	bufferevent_write(pa, who, strlen(who));
	event_base_dispatch(base);
	bufferevent_disable(pb, EV_READ);

	/* The filter: its peer's bytes come in flipped (the first process
	 * also finds what was in flight at the first fork), ours go out
	 * flipped. */
	bufferevent_write(fd2, who, strlen(who));
	bufferevent_enable(fl, EV_READ);
	event_base_dispatch(base);
	bufferevent_disable(fl, EV_READ);
	bufferevent_write(fl, "Back From The Filter", 20);
	bufferevent_enable(fd2, EV_READ);
	event_base_dispatch(base);
	bufferevent_disable(fd2, EV_READ);

	/* The listener. */
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&lev_addr, sizeof lev_addr) != 0)
		say("connect: %s", tr_errname(errno));
	event_base_dispatch(base);
	close(c);

	/* The rate-limited member moves bytes; the group counts them. */
	bufferevent_rate_limit_group_get_totals(grp, &rd, &wr);
	say("group totals before: read %llu", (unsigned long long)rd);
	bufferevent_enable(rb, EV_READ);
	bufferevent_write(ra, "limited bytes", 13);
	event_base_dispatch(base);
	bufferevent_disable(rb, EV_READ);
	bufferevent_rate_limit_group_get_totals(grp, &rd, &wr);
	say("group totals after: read %llu", (unsigned long long)rd);
}

/* Forks a child that reinitialises the base and takes its turn; returns
 * once the child is gone. */
static void child_turn(const char *name, int depth)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		who = name;
		alarm(30);
		say("event_reinit: %d", event_reinit(base));
		/* The new epoll instance and signal pair took the numbers
		 * libevent's take: the next descriptor is the same. */
		int probe = dup(0);
		say("next descriptor after event_reinit: %d", probe);
		close(probe);
		exercise();
		if (depth > 0)
			child_turn("grandchild", depth - 1);
		say("done");
		exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		exit(1);
	}
	say("%s exited with status %d", name, WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status));
}

int main(void)
{
	tr_init();
	make_objects();
	child_turn("child", 1);
	/* The parent goes on with its own copies, without event_reinit. */
	exercise();

	bufferevent_remove_from_rate_limit_group(rb);
	bufferevent_free(rb);
	bufferevent_free(ra);
	bufferevent_rate_limit_group_free(grp);
	ev_token_bucket_cfg_free(rcfg);
	evconnlistener_free(lev);
	bufferevent_free(fl);
	bufferevent_free(fd2);
	bufferevent_free(pa);
	bufferevent_free(pb);
	bufferevent_free(sa);
	bufferevent_free(sb);
	evbuffer_free(cbbuf);
	event_free(sig_ev);
	event_free(tick_timer);
	event_free(once_timer);
	event_free(fd_ev);
	event_base_free(base);
	say("done");
	return 0;
}
