/*
 * diff_bev_write_size: how much one write of a socket bufferevent sends.
 *
 * A write event sends up to bufferevent_set_max_single_write bytes, over
 * as many of the output's chains as that takes, but at most 128 chains per
 * system call (libevent's NUM_WRITE_IOVEC on Linux); nothing else caps it.
 * The peer's socket has room for everything (a large SO_SNDBUF, nothing
 * read until the end), so the trace shows each write's size exactly: the
 * output's length after every write, with a write low watermark above the
 * data so that the write callback follows every write. Outputs made of
 * 300 reference chains of 1,000 bytes and of one chain of 300,000 bytes,
 * with write sizes of 200,000, the default (16,384), 1 MiB and 100,000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

static unsigned char data[300000];

static void writecb(struct bufferevent *bev, void *arg)
{
	int *writes = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));
	if (*writes < 8 || left == 0)
		printf("  write %d: output %zu\n", *writes, left);
	(*writes)++;
	if (left == 0)
		event_base_loopbreak(bufferevent_get_base(bev));
}

static void run(struct event_base *base, const char *name, size_t max_write, int chains)
{
	int fds[2];
	int big = 8 << 20;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		perror("socketpair");
		exit(1);
	}
	evutil_make_socket_nonblocking(fds[0]);
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	int writes = 0;
	printf("%s, max_single_write %zu\n", name, max_write);
	if (max_write)
		printf("  set: %d\n", bufferevent_set_max_single_write(bev, max_write));
	printf("  get: %zd\n", bufferevent_get_max_single_write(bev));
	bufferevent_setcb(bev, NULL, writecb, NULL, &writes);
	bufferevent_setwatermark(bev, EV_WRITE, 1 << 20, 0);
	struct evbuffer *out = bufferevent_get_output(bev);
	if (chains) {
		for (int i = 0; i < 300; i++)
			evbuffer_add_reference(out, data + i * 1000, 1000, NULL, NULL);
	} else {
		evbuffer_add(out, data, sizeof(data));
	}
	bufferevent_enable(bev, EV_WRITE);
	event_base_dispatch(base);
	/* The peer got every byte, in order. */
	static unsigned char got[sizeof(data)];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(got) && (r = read(fds[1], got + n, sizeof(got) - n)) > 0)
		n += (size_t)r;
	printf("  %d writes; peer got %zu bytes, %s\n", writes, n,
	    n == sizeof(data) && memcmp(got, data, n) == 0 ? "intact" : "DIFFERENT");
	bufferevent_free(bev);
	close(fds[1]);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131 + (i >> 9));
	struct event_base *base = event_base_new();
	size_t sizes[] = { 200000, 0, 1 << 20, 100000 };
	for (int k = 0; k < 4; k++) {
		run(base, "300 chains of 1000 bytes", sizes[k], 1);
		run(base, "one chain of 300000 bytes", sizes[k], 0);
	}
	event_base_free(base);
	return 0;
}
