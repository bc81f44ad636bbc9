/*
 * bevtest.h -- small helpers the bufferevent differential tests share:
 * a non-blocking socketpair, running the loop for a while, writing to a
 * peer, a bufferevent's buffer lengths. Everything is static inline so
 * that a test includes only what it uses without warnings.
 */
#ifndef GE_TESTS_BEVTEST_H
#define GE_TESTS_BEVTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

/* A connected AF_UNIX stream pair, both ends non-blocking. */
static inline void make_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		perror("socketpair");
		exit(1);
	}
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
}

/* Runs the loop for ms milliseconds. */
static inline void spin(struct event_base *base, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Writes all of p to fd, or ends the test. */
static inline void put(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n) {
		perror("write");
		exit(1);
	}
}

static inline size_t in_len(struct bufferevent *bev)
{
	return evbuffer_get_length(bufferevent_get_input(bev));
}

static inline size_t out_len(struct bufferevent *bev)
{
	return evbuffer_get_length(bufferevent_get_output(bev));
}

#endif
