/*
 * diff_fork_noreinit.c -- a child that uses objects made before the fork
 * without calling event_reinit, as libevent allows for what does not
 * depend on the kernel objects it shares with its parent: evbuffers (with
 * and without a base), a bufferevent pair, timers. The parent waits for the
 * child, then carries on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "trace.h"

static const char *who = "parent";
static struct event_base *base;

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	printf("%s: timer %s fired (what %#x)\n", who, (const char *)arg, what);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	char buf[64];
	(void)arg;
	size_t n = bufferevent_read(bev, buf, sizeof buf - 1);
	buf[n] = '\0';
	printf("%s: pair read %zu bytes \"%s\"\n", who, n, buf);
}

static void cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	(void)arg;
	printf("%s: buffer callback +%zu -%zu now %zu\n", who, info->n_added, info->n_deleted,
	    evbuffer_get_length(b));
}

int main(void)
{
	tr_init();
	base = event_base_new();
	struct evbuffer *plain = evbuffer_new(), *watched = evbuffer_new();
	evbuffer_add_cb(watched, cb, NULL);
	evbuffer_add(plain, "0123456789", 10);
	struct bufferevent *pair[2];
	bufferevent_pair_new(base, 0, pair);
	bufferevent_setcb(pair[1], read_cb, NULL, NULL, NULL);
	bufferevent_enable(pair[1], EV_READ);
	struct event *t = evtimer_new(base, timer_cb, "made before the fork");
	struct timeval tv = { 0, 20000 };
	evtimer_add(t, &tv);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		who = "child";
		alarm(20);
		char out[4];
		evbuffer_remove(plain, out, 4);
		printf("%s: plain buffer now %zu, took \"%.4s\"\n", who, evbuffer_get_length(plain), out);
		evbuffer_add(watched, who, strlen(who));
		struct evbuffer *fresh = evbuffer_new();
		evbuffer_add_buffer(fresh, plain);
		printf("%s: a new buffer took %zu bytes\n", who, evbuffer_get_length(fresh));
		evbuffer_free(fresh);
		bufferevent_write(pair[0], "to the partner", 14);
		event_base_dispatch(base);
		printf("%s: loop done\n", who);
		exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("%s: child exited with %d\n", who, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	evbuffer_add(watched, who, strlen(who));
	bufferevent_write(pair[0], "parent's own", 12);
	event_base_dispatch(base);
	printf("%s: plain buffer still %zu\n", who, evbuffer_get_length(plain));
	bufferevent_free(pair[0]);
	bufferevent_free(pair[1]);
	event_free(t);
	evbuffer_free(plain);
	evbuffer_free(watched);
	event_base_free(base);
	return 0;
}
