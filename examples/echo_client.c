/*
 * echo_client: sends N messages to an echo server on 127.0.0.1 and checks
 * every byte that comes back.
 *
 *   echo_client [PORT [N]]
 *
 * With no PORT (or PORT 0) the client starts an echo server of its own in
 * the same event loop on a port the kernel chooses, so it runs alone; with
 * a PORT it talks to a running echo_server. Messages have sizes from 1 to
 * 4000 bytes and deterministic contents; they are sent pipelined, refilled
 * from the write callback (write low watermark 16 KiB), and the echo is
 * checked from the read callback (read low watermark 1 byte, high 128 KiB).
 * Exits 0 when all N messages came back intact, 1 otherwise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

/* ---- the message stream ------------------------------------------------- */

static size_t msg_len(unsigned i) { return 1 + (i * 7919u) % 4000u; }

static unsigned char msg_byte(unsigned i, size_t off)
{
	uint32_t x = (i + 1) * 2654435761u ^ (uint32_t)off * 40503u;
	x ^= x >> 13;
	return (unsigned char)(x * 0x5bd1e995u >> 24);
}

struct cursor {
	unsigned msg; /* current message */
	size_t off;   /* offset in it */
};

struct client {
	struct event_base *base;
	struct bufferevent *bev;
	unsigned n;
	struct cursor tx, rx;
	unsigned long long bytes_ok;
	int failed;
	int done;
};

static void fill(struct client *c)
{
	unsigned char buf[4096];
	struct evbuffer *out = bufferevent_get_output(c->bev);
	while (c->tx.msg < c->n && evbuffer_get_length(out) < 64 * 1024) {
		size_t len = msg_len(c->tx.msg), k = 0;
		while (c->tx.off < len && k < sizeof(buf))
			buf[k++] = msg_byte(c->tx.msg, c->tx.off++);
		bufferevent_write(c->bev, buf, k);
		if (c->tx.off == len) {
			c->tx.msg++;
			c->tx.off = 0;
		}
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	fill(arg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v[16];
	int n = evbuffer_peek(in, -1, NULL, v, 16);
	size_t used = 0;
	for (int i = 0; i < n && i < 16 && !c->failed; i++) {
		const unsigned char *p = v[i].iov_base;
		for (size_t j = 0; j < v[i].iov_len; j++) {
			if (c->rx.msg >= c->n ||
			    p[j] != msg_byte(c->rx.msg, c->rx.off)) {
				fprintf(stderr, "echo_client: byte %zu of message %u is wrong\n",
				    c->rx.off, c->rx.msg);
				c->failed = 1;
				break;
			}
			c->bytes_ok++;
			if (++c->rx.off == msg_len(c->rx.msg)) {
				c->rx.msg++;
				c->rx.off = 0;
			}
		}
		used += v[i].iov_len;
	}
	evbuffer_drain(in, used);
	if (c->failed || c->rx.msg == c->n) {
		c->done = 1;
		event_base_loopexit(c->base, NULL);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	fprintf(stderr, "echo_client: connection event 0x%x (%s)\n", what,
	    (what & BEV_EVENT_ERROR) ?
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()) : "closed");
	c->failed = 1;
	event_base_loopexit(c->base, NULL);
}

/* ---- an in-process echo server, for running without one ------------------ */

static void srv_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_write_buffer(bev, bufferevent_get_input(bev));
	if (evbuffer_get_length(bufferevent_get_output(bev)) >= 256 * 1024) {
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, 64 * 1024, 0);
	}
}

static void srv_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
	}
}

static void srv_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void srv_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	(void)sa;
	(void)socklen;
	(void)arg;
	struct bufferevent *bev = bufferevent_socket_new(
	    evconnlistener_get_base(lev), fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, srv_read, srv_write, srv_event, NULL);
	bufferevent_setwatermark(bev, EV_READ, 0, 64 * 1024);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int main(int argc, char **argv)
{
	struct client c;
	struct sockaddr_in sin;
	struct evconnlistener *lev = NULL;
	int port = argc > 1 ? atoi(argv[1]) : 0;
	memset(&c, 0, sizeof(c));
	c.n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 2000;
	if (port < 0 || port > 65535 || c.n == 0) {
		fprintf(stderr, "usage: echo_client [PORT [N]]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	c.base = event_base_new();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (port == 0) {
		socklen_t len = sizeof(sin);
		lev = evconnlistener_new_bind(c.base, srv_accept, NULL,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
		    (struct sockaddr *)&sin, sizeof(sin));
		if (!lev) {
			perror("echo_client: listen");
			return 1;
		}
		getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&sin, &len);
		port = ntohs(sin.sin_port);
		printf("echo_client: started an in-process echo server\n");
	}
	sin.sin_port = htons((unsigned short)port);

	c.bev = bufferevent_socket_new(c.base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c.bev, on_read, on_write, on_event, &c);
	bufferevent_setwatermark(c.bev, EV_READ, 1, 128 * 1024);
	bufferevent_setwatermark(c.bev, EV_WRITE, 16 * 1024, 0);
	bufferevent_enable(c.bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c.bev, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("echo_client: connect");
		return 1;
	}
	fill(&c);
	struct timeval limit = {30, 0};
	event_base_loopexit(c.base, &limit);
	event_base_dispatch(c.base);

	unsigned long long total = 0;
	for (unsigned i = 0; i < c.n; i++)
		total += msg_len(i);
	int ok = c.done && !c.failed && c.rx.msg == c.n;
	printf("echo_client: %u of %u messages echoed, %llu of %llu bytes verified: %s\n",
	    c.rx.msg, c.n, c.bytes_ok, total, ok ? "OK" : "FAILED");
	bufferevent_free(c.bev);
	if (lev)
		evconnlistener_free(lev);
	event_base_free(c.base);
	return ok ? 0 : 1;
}
