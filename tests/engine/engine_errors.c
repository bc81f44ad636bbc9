/*
 * engine_errors.c -- what a program sees when goevent's engine cannot be
 * loaded (run by tests/engine/errors.sh under several broken setups).
 *
 * Usage: engine_errors PATH_FRAGMENT REASON_FRAGMENT
 *
 * Every function that needs the engine must return its documented error
 * value and log exactly one line through libevent's logging path, naming
 * the path it tried (PATH_FRAGMENT) and why (REASON_FRAGMENT); nothing may
 * crash, no descriptor may be left open, and no Go runtime may start.
 * Plain-C functions keep working.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

static int lines;
static char last[1024];

static void log_cb(int severity, const char *msg)
{
	(void)severity;
	lines++;
	snprintf(last, sizeof last, "%s", msg);
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int failures;

static void expect_one_line(const char *call, int failed, const char *path, const char *why)
{
	if (!failed) {
		printf("FAIL: %s did not fail\n", call);
		failures++;
	}
	if (lines != 1) {
		printf("FAIL: %s logged %d lines\n", call, lines);
		failures++;
	} else if (!strstr(last, path) || !strstr(last, why) || !strstr(last, call)) {
		printf("FAIL: %s logged \"%s\" (wanted %s, %s)\n", call, last, path, why);
		failures++;
	} else {
		printf("%s: \"%s\"\n", call, last);
	}
	lines = 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: engine_errors PATH_FRAGMENT REASON_FRAGMENT\n");
		return 2;
	}
	const char *path = argv[1], *why = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	event_set_log_callback(log_cb);
	int fds = count_dir("/proc/self/fd");

	struct event_base *base = event_base_new();
	expect_one_line("event_base_new", base == NULL, path, why);
	struct evbuffer *buf = evbuffer_new();
	expect_one_line("evbuffer_new", buf == NULL, path, why);
	int sv[2];
	evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct bufferevent *bev = bufferevent_socket_new(NULL, sv[0], 0);
	expect_one_line("bufferevent_socket_new", bev == NULL, path, why);
	evutil_closesocket(sv[0]);
	evutil_closesocket(sv[1]);

	/* Plain C still works. */
	struct event_config *cfg = event_config_new();
	if (!cfg || event_config_avoid_method(cfg, "poll") != 0) {
		printf("FAIL: event_config\n");
		failures++;
	}
	event_config_free(cfg);

	if (count_dir("/proc/self/fd") != fds) {
		printf("FAIL: %d descriptors open, %d before\n", count_dir("/proc/self/fd"), fds);
		failures++;
	}
	if (count_dir("/proc/self/task") != 1) {
		printf("FAIL: %d threads: a runtime started\n", count_dir("/proc/self/task"));
		failures++;
	}
	return failures ? 1 : 0;
}
