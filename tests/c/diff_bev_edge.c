/*
 * diff_bev_edge: corner cases of socket bufferevents.
 *
 * Reading suspended by the high watermark holds off the read timeout; a
 * high mark lowered under the data already held suspends at once; timeouts
 * changed while the events are pending; connecting an fd the program
 * connected itself; disabling writing while a connect is in progress;
 * output queued while writing is disabled.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/util.h>

#include "bevtest.h"

struct rec {
	int reads;
	size_t last_len;
	int events;
	short last_what;
};

static void rec_rcb(struct bufferevent *bev, void *arg)
{
	struct rec *r = arg;
	r->reads++;
	r->last_len = evbuffer_get_length(bev->input);
}

static void rec_ecb(struct bufferevent *bev, short what, void *arg)
{
	struct rec *r = arg;
	(void)bev;
	r->events++;
	r->last_what = what;
}

static void suspended_timeout(void)
{
	int fds[2];
	struct event_base *base = event_base_new();
	struct rec r = {0, 0, 0, 0};
	printf("read timeout while suspended by the high watermark\n");
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, rec_rcb, NULL, rec_ecb, &r);
	bufferevent_setwatermark(bev, EV_READ, 0, 100);
	struct timeval t50 = {0, 50000};
	bufferevent_set_timeouts(bev, &t50, NULL);
	bufferevent_enable(bev, EV_READ);
	char data[100];
	memset(data, 'd', sizeof(data));
	if (write(fds[1], data, sizeof(data)) != (ssize_t)sizeof(data))
		exit(1);
	spin(base, 200);
	printf("  input %zu, timeout events %d, enabled 0x%x\n",
	    evbuffer_get_length(bev->input), r.events, bufferevent_get_enabled(bev));
	evbuffer_drain(bev->input, 100);
	spin(base, 200);
	printf("  after draining: events %d what 0x%x enabled 0x%x\n", r.events,
	    r.last_what, bufferevent_get_enabled(bev));
	bufferevent_free(bev);
	close(fds[1]);
	event_base_free(base);
}

static void lowered_mark(void)
{
	int fds[2];
	struct event_base *base = event_base_new();
	struct rec r = {0, 0, 0, 0};
	printf("high watermark lowered under the held data\n");
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, rec_rcb, NULL, rec_ecb, &r);
	bufferevent_enable(bev, EV_READ);
	char data[300];
	memset(data, 'l', sizeof(data));
	if (write(fds[1], data, 300) != 300)
		exit(1);
	spin(base, 30);
	printf("  reads %d input %zu\n", r.reads, r.last_len);
	bufferevent_setwatermark(bev, EV_READ, 0, 100);
	if (write(fds[1], data, 50) != 50)
		exit(1);
	spin(base, 50);
	printf("  with high 100: reads %d input %zu\n", r.reads,
	    evbuffer_get_length(bev->input));
	bufferevent_setwatermark(bev, EV_READ, 0, 1000);
	spin(base, 50);
	printf("  with high 1000: reads %d input %zu\n", r.reads, r.last_len);
	bufferevent_setwatermark(bev, EV_READ, 0, 200);
	evbuffer_drain(bev->input, 300);
	spin(base, 30);
	printf("  high 200, drained to 50: reads %d input %zu\n", r.reads,
	    evbuffer_get_length(bev->input));
	bufferevent_free(bev);
	close(fds[1]);
	event_base_free(base);
}

static void adjust_timeouts(void)
{
	int fds[2];
	struct event_base *base = event_base_new();
	struct rec r = {0, 0, 0, 0};
	printf("timeouts changed while pending\n");
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, rec_rcb, NULL, rec_ecb, &r);
	struct timeval t10s = {10, 0}, t30 = {0, 30000};
	bufferevent_set_timeouts(bev, &t10s, NULL);
	bufferevent_enable(bev, EV_READ);
	bufferevent_set_timeouts(bev, &t30, NULL);
	spin(base, 500);
	printf("  shortened: events %d what 0x%x\n", r.events, r.last_what);
	bufferevent_set_timeouts(bev, &t30, NULL);
	bufferevent_enable(bev, EV_READ);
	bufferevent_set_timeouts(bev, NULL, NULL);
	spin(base, 150);
	printf("  cleared: events %d, read still enabled 0x%x\n", r.events,
	    bufferevent_get_enabled(bev));
	/* A write timeout only runs while there is output to write. */
	struct timeval t40 = {0, 40000};
	bufferevent_set_timeouts(bev, NULL, &t40);
	spin(base, 150);
	printf("  write timeout with empty output: events %d\n", r.events);
	bufferevent_free(bev);
	close(fds[1]);
	event_base_free(base);
}

static int listen_port(int *lfd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	*lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(*lfd, (struct sockaddr *)&sin, sizeof(sin));
	listen(*lfd, 8);
	getsockname(*lfd, (struct sockaddr *)&sin, &len);
	return ntohs(sin.sin_port);
}

static void connects(void)
{
	int lfd;
	int port = listen_port(&lfd);
	struct event_base *base = event_base_new();
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);

	printf("connect on an fd connected by the program\n");
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	evutil_make_socket_nonblocking(fd);
	int cr = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	printf("  connect(2) %s\n", cr == 0 || errno == EINPROGRESS ? "started" : "failed");
	struct rec r = {0, 0, 0, 0};
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, rec_rcb, NULL, rec_ecb, &r);
	printf("  bufferevent_socket_connect(NULL) -> %d\n",
	    bufferevent_socket_connect(bev, NULL, 0));
	spin(base, 100);
	printf("  events %d what 0x%x\n", r.events, r.last_what);
	bufferevent_free(bev);

	printf("disable writing while connecting\n");
	struct rec r2 = {0, 0, 0, 0};
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, rec_rcb, NULL, rec_ecb, &r2);
	printf("  connect -> %d\n", bufferevent_socket_connect(bev,
	    (struct sockaddr *)&sin, sizeof(sin)));
	bufferevent_disable(bev, EV_WRITE);
	printf("  enabled after disable 0x%x\n", bufferevent_get_enabled(bev));
	bufferevent_write(bev, "queued", 6);
	spin(base, 100);
	printf("  events %d what 0x%x, output %zu\n", r2.events, r2.last_what,
	    evbuffer_get_length(bev->output));
	int a1 = accept(lfd, NULL, NULL);
	int a2 = accept(lfd, NULL, NULL);
	evutil_make_socket_nonblocking(a2);
	char buf[16];
	printf("  peer reads before enabling: %zd\n", read(a2, buf, sizeof(buf)));
	bufferevent_enable(bev, EV_WRITE);
	spin(base, 50);
	ssize_t n = read(a2, buf, sizeof(buf));
	printf("  peer reads after enabling: %zd\n", n);
	bufferevent_free(bev);
	close(a1);
	close(a2);
	close(lfd);
	event_base_free(base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	suspended_timeout();
	lowered_mark();
	adjust_timeouts();
	connects();
	return 0;
}
