/*
 * diff_fork_before.c -- a program that forks before its first libevent call,
 * as daemons do (daemonize, then create the event base): the child uses
 * every kind of object, then, once the child has exited, the parent does
 * the same. Each step runs the loop until its own callback breaks it, so
 * the trace is the same on every run and on both libraries.
 *
 * Under goevent the child is where the Go engine first loads; the parent
 * loads its own afterwards.
 */
#include <errno.h>
#include <signal.h>
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

static const char *who;

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

static struct event_base *base;

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	say("timer fired (what %#x, arg %s)", what, (const char *)arg);
	event_base_loopbreak(base);
}

static void fd_cb(evutil_socket_t fd, short what, void *arg)
{
	char c = 0;
	(void)arg;
	ssize_t n = read(fd, &c, 1);
	say("fd readable (what %#x): read %zd byte '%c'", what, n, c);
	event_base_loopbreak(base);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)arg;
	say("signal %d caught (what %#x)", (int)sig, what);
	event_base_loopbreak(base);
}

static void bev_read_cb(struct bufferevent *bev, void *arg)
{
	char buf[64];
	size_t n = bufferevent_read(bev, buf, sizeof buf - 1);
	buf[n] = '\0';
	say("%s read callback: %zu bytes \"%s\", %zu left", (const char *)arg, n, buf, in_len(bev));
	event_base_loopbreak(base);
}

static void bev_write_cb(struct bufferevent *bev, void *arg)
{
	say("%s write callback: output %zu", (const char *)arg, out_len(bev));
}

static void buf_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	(void)arg;
	say("evbuffer callback: orig %zu added %zu deleted %zu now %zu", info->orig_size,
	    info->n_added, info->n_deleted, evbuffer_get_length(b));
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	(void)lev;
	(void)arg;
	say("listener accepted a connection (family %d, addrlen %d)", sa->sa_family, salen);
	evutil_closesocket(fd);
	event_base_loopbreak(base);
}

static int exercise(void)
{
	int fds[2], sv[2];
	struct timeval t10 = { 0, 10000 };

	base = event_base_new();
	if (!base) {
		say("event_base_new failed");
		return 1;
	}
	say("base made, method %s", event_base_get_method(base));

	/* A timer. */
	struct event *tev = evtimer_new(base, timer_cb, "t");
	evtimer_add(tev, &t10);
	event_base_dispatch(base);
	event_free(tev);

	/* An fd event. */
	if (pipe(fds) != 0)
		return 1;
	struct event *fev = event_new(base, fds[0], EV_READ | EV_PERSIST, fd_cb, NULL);
	event_add(fev, NULL);
	put(fds[1], "x", 1);
	event_base_dispatch(base);
	event_free(fev);
	close(fds[0]);
	close(fds[1]);

	/* A signal event. */
	struct event *sev = evsignal_new(base, SIGUSR1, signal_cb, NULL);
	evsignal_add(sev, NULL);
	raise(SIGUSR1);
	event_base_dispatch(base);
	event_free(sev);

	/* Socket bufferevents with a read low watermark. */
	make_pair(sv);
	struct bufferevent *a = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *b = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(a, NULL, bev_write_cb, NULL, "socket a");
	bufferevent_setcb(b, bev_read_cb, NULL, NULL, "socket b");
	bufferevent_setwatermark(b, EV_READ, 11, 0);
	bufferevent_enable(b, EV_READ);
	bufferevent_write(a, "hello", 5);
	bufferevent_write(a, " world", 6);
	event_base_dispatch(base);
	bufferevent_free(a);
	bufferevent_free(b);

	/* A pair. */
	struct bufferevent *pair[2];
	bufferevent_pair_new(base, 0, pair);
	bufferevent_setcb(pair[1], bev_read_cb, NULL, NULL, "pair end 1");
	bufferevent_enable(pair[1], EV_READ);
	bufferevent_write(pair[0], "through the pair", 16);
	event_base_dispatch(base);
	bufferevent_free(pair[0]);
	bufferevent_free(pair[1]);

	/* A listener on a loopback port, and a client connecting to it. */
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct evconnlistener *lev = evconnlistener_new_bind(base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16, (struct sockaddr *)&sin, sizeof sin);
	if (!lev) {
		say("evconnlistener_new_bind failed");
		return 1;
	}
	struct sockaddr_in bound;
	socklen_t blen = sizeof bound;
	getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&bound, &blen);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&bound, blen) != 0)
		say("connect failed: %s", tr_errname(errno));
	event_base_dispatch(base);
	close(c);
	evconnlistener_free(lev);

	/* An evbuffer with a callback. */
	struct evbuffer *eb = evbuffer_new();
	evbuffer_add_cb(eb, buf_cb, NULL);
	evbuffer_add(eb, "abcdef", 6);
	evbuffer_drain(eb, 2);
	evbuffer_free(eb);

	event_base_free(base);
	say("done");
	return 0;
}

int main(void)
{
	tr_init();
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		who = "child";
		alarm(20);
		exit(exercise());
	}
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	who = "parent";
	say("child exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return exercise();
}
