/*
 * diff_event_methods.c -- differential test of backend selection.
 *
 * Which backend event_base_new_with_config picks when methods are avoided
 * or features required (EV_FEATURE_FDS is what epoll lacks), through the
 * EVENT_NO<METHOD> environment variables and EVENT_BASE_FLAG_IGNORE_ENV,
 * and that each backend runs fd events: a pipe, and a regular file, which
 * only poll and select accept. One event per loop pass, so the poll
 * backend's randomised scan order does not show.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

static void cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	printf("  %s what=0x%x\n", (const char *)arg, what);
}

static struct event_base *make(const char *avoid1, const char *avoid2, int features, int flags)
{
	struct event_config *cfg = event_config_new();
	struct event_base *b;
	if (avoid1)
		event_config_avoid_method(cfg, avoid1);
	if (avoid2)
		event_config_avoid_method(cfg, avoid2);
	if (features)
		event_config_require_features(cfg, features);
	if (flags)
		event_config_set_flag(cfg, flags);
	b = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return b;
}

static void exercise(const char *label, struct event_base *b)
{
	int p[2], fd, r;
	struct event ev;
	char path[] = "/tmp/ge_methods_XXXXXX";
	if (!b) {
		printf("%s: NULL\n", label);
		return;
	}
	printf("%s: method=%s features=0x%x\n", label, event_base_get_method(b),
	    event_base_get_features(b));
	if (pipe(p) != 0)
		return;
	event_assign(&ev, b, p[0], EV_READ, cb, "pipe read");
	event_add(&ev, NULL);
	if (write(p[1], "x", 1) != 1)
		printf("write failed\n");
	r = event_base_dispatch(b);
	printf("  dispatch -> %d\n", r);
	event_assign(&ev, b, p[1], EV_WRITE | EV_PERSIST, cb, "pipe write");
	event_add(&ev, NULL);
	r = event_base_loop(b, EVLOOP_ONCE);
	printf("  once -> %d\n", r);
	event_del(&ev);
	close(p[0]);
	close(p[1]);

	fd = mkstemp(path);
	if (fd < 0)
		return;
	unlink(path);
	event_assign(&ev, b, fd, EV_READ, cb, "regular file read");
	errno = 0;
	r = event_add(&ev, NULL);
	printf("  add regular file -> %d%s\n", r, r < 0 && errno == EPERM ? " (EPERM)" : "");
	if (r == 0) {
		r = event_base_dispatch(b);
		printf("  dispatch -> %d\n", r);
	}
	close(fd);
	event_base_free(b);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	exercise("default", event_base_new());
	exercise("avoid epoll", make("epoll", NULL, 0, 0));
	exercise("avoid epoll+poll", make("epoll", "poll", 0, 0));
	{
		struct event_config *cfg = event_config_new();
		event_config_avoid_method(cfg, "epoll");
		event_config_avoid_method(cfg, "poll");
		event_config_avoid_method(cfg, "select");
		exercise("avoid all three", event_base_new_with_config(cfg));
		event_config_free(cfg);
	}
	exercise("require FDS", make(NULL, NULL, EV_FEATURE_FDS, 0));
	exercise("require FDS|EARLY_CLOSE", make(NULL, NULL, EV_FEATURE_FDS | EV_FEATURE_EARLY_CLOSE, 0));
	exercise("require FDS, avoid poll", make("poll", NULL, EV_FEATURE_FDS, 0));
	exercise("require ET, avoid epoll", make("epoll", NULL, EV_FEATURE_ET, 0));
	exercise("require O1|FDS", make(NULL, NULL, EV_FEATURE_O1 | EV_FEATURE_FDS, 0));
	{
		/* The changelist variant of epoll names itself differently.
		 * (Only the name: it defers epoll_ctl errors, which goevent
		 * reports at event_add.) */
		struct event_base *b = make(NULL, NULL, 0, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		printf("changelist flag: method=%s features=0x%x\n", event_base_get_method(b),
		    event_base_get_features(b));
		event_base_free(b);
		setenv("EVENT_EPOLL_USE_CHANGELIST", "1", 1);
		b = event_base_new();
		printf("changelist env: method=%s\n", event_base_get_method(b));
		event_base_free(b);
		b = make(NULL, NULL, 0, EVENT_BASE_FLAG_IGNORE_ENV);
		printf("changelist env, IGNORE_ENV: method=%s\n", event_base_get_method(b));
		event_base_free(b);
		unsetenv("EVENT_EPOLL_USE_CHANGELIST");
	}
	setenv("EVENT_NOEPOLL", "1", 1);
	exercise("EVENT_NOEPOLL", event_base_new());
	exercise("EVENT_NOEPOLL, IGNORE_ENV", make(NULL, NULL, 0, EVENT_BASE_FLAG_IGNORE_ENV));
	setenv("EVENT_NOPOLL", "1", 1);
	exercise("EVENT_NOEPOLL+NOPOLL", event_base_new());
	unsetenv("EVENT_NOEPOLL");
	unsetenv("EVENT_NOPOLL");
	printf("done\n");
	return 0;
}
