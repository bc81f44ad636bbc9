/*
 * echo_server: a TCP echo server on 127.0.0.1 built from an evconnlistener
 * and socket bufferevents.
 *
 *   echo_server [PORT] [--once]
 *
 * PORT 0 (the default) lets the kernel choose; the port in use is printed on
 * the first line ("listening on 127.0.0.1:PORT"). With --once the server
 * exits after its first client disconnects. Flow control uses watermarks: a
 * connection stops reading while more than 256 KiB wait to be sent and
 * starts again once the output drains below 64 KiB, so a client that sends
 * without reading cannot make the server buffer without bound.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#define OUT_HIGH (256 * 1024)
#define OUT_LOW (64 * 1024)

struct server {
	struct event_base *base;
	int once;
	int open_conns;
	unsigned long long echoed;
};

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct server *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	s->echoed += evbuffer_get_length(in);
	bufferevent_write_buffer(bev, in);
	if (evbuffer_get_length(bufferevent_get_output(bev)) >= OUT_HIGH) {
		/* The peer reads slower than it writes: stop reading until
		 * the write callback says the output drained. */
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, OUT_LOW, 0);
	}
}

static void conn_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
	}
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct server *s = arg;
	if (what & BEV_EVENT_ERROR)
		fprintf(stderr, "echo_server: connection error: %s\n",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		bufferevent_free(bev);
		s->open_conns--;
		if (s->once && s->open_conns == 0)
			event_base_loopexit(s->base, NULL);
	}
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct server *s = arg;
	(void)lev;
	(void)sa;
	(void)socklen;
	struct bufferevent *bev = bufferevent_socket_new(s->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, conn_read, conn_write, conn_event, s);
	/* Never hold more than 64 KiB of unread input per connection. */
	bufferevent_setwatermark(bev, EV_READ, 0, 64 * 1024);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	s->open_conns++;
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct server *s = arg;
	(void)lev;
	fprintf(stderr, "echo_server: accept failed: %s\n",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	event_base_loopexit(s->base, NULL);
}

int main(int argc, char **argv)
{
	struct server s;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int port = 0;

	memset(&s, 0, sizeof(s));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0)
			s.once = 1;
		else
			port = atoi(argv[i]);
	}
	if (port < 0 || port > 65535) {
		fprintf(stderr, "usage: echo_server [PORT] [--once]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	s.base = event_base_new();
	if (!s.base)
		return 1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	struct evconnlistener *lev = evconnlistener_new_bind(s.base, on_accept, &s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (!lev) {
		perror("echo_server: bind");
		return 1;
	}
	evconnlistener_set_error_cb(lev, on_accept_error);
	getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&sin, &len);
	printf("listening on 127.0.0.1:%d\n", ntohs(sin.sin_port));
	fflush(stdout);

	event_base_dispatch(s.base);

	printf("echo_server: echoed %llu bytes\n", s.echoed);
	evconnlistener_free(lev);
	event_base_free(s.base);
	return 0;
}
