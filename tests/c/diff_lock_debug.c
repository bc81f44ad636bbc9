/*
 * diff_lock_debug: evthread_enable_lock_debugging on its own (no
 * evthread_use_pthreads) makes lock allocation work, so thread-safe
 * buffers and bufferevents can be created, and locking them balances.
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>

int main(void)
{
	struct evbuffer *before = evbuffer_new();
	printf("enable_locking before debugging: %d\n", evbuffer_enable_locking(before, NULL));
	evthread_enable_lock_debugging();
	printf("enable_locking after debugging: %d\n", evbuffer_enable_locking(before, NULL));
	evbuffer_lock(before);
	evbuffer_lock(before); /* recursive */
	evbuffer_add(before, "abc", 3);
	evbuffer_unlock(before);
	evbuffer_unlock(before);
	printf("length %zu\n", evbuffer_get_length(before));
	evbuffer_free(before);

	struct event_base *base = event_base_new();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 1;
	struct bufferevent *bev = bufferevent_socket_new(base, sv[0],
	    BEV_OPT_THREADSAFE | BEV_OPT_CLOSE_ON_FREE);
	printf("threadsafe bufferevent: %s\n", bev ? "created" : "NULL");
	if (bev) {
		bufferevent_lock(bev);
		bufferevent_write(bev, "hello", 5);
		bufferevent_unlock(bev);
		printf("output %zu\n", evbuffer_get_length(bufferevent_get_output(bev)));
		bufferevent_free(bev);
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	char buf[16];
	ssize_t n = read(sv[1], buf, sizeof(buf));
	printf("peer read %zd\n", n);
	close(sv[1]);
	event_base_free(base);
	return 0;
}
