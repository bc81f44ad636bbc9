/*
 * solo_maxread_env.c -- GOEVENT_MAX_READ, the operator's read cap for an
 * unmodified program, against goevent alone (libevent has no such
 * variable).
 *
 * The library reads the variable once, when its engine starts, so every
 * case runs in a child forked before the first call that needs the engine
 * (which goevent supports): the child sets the variable, then checks a new
 * evbuffer's cap, a new socket bufferevent's read and write sizes and its
 * input's cap, the size of its first read, and the log lines the value produced.
 * Good values raise (or lower) the caps; malformed or absurd ones leave
 * the defaults and produce exactly one log line through libevent's logging
 * path. Prints each failed check and a closing "N passed, M failed" line;
 * exit status 0 only if all passed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define GOEVENT_EXTENSIONS
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

static int failed;

static void check(int ok, const char *value, const char *what, long long got, long long want)
{
	if (!ok) {
		failed++;
		printf("FAIL GOEVENT_MAX_READ=%s: %s is %lld, want %lld\n", value ? value : "(unset)",
		    what, got, want);
	}
}

/* got is evaluated twice: no side effects. */
#define CHECK_EQ(what, got, want) check((long long)(got) == (long long)(want), value, what, \
    (long long)(got), (long long)(want))

static int log_lines;
static char first_log[256];

static void capture_log(int severity, const char *msg)
{
	(void)severity;
	if (log_lines++ == 0)
		snprintf(first_log, sizeof(first_log), "%s", msg);
}

static size_t first_read;

static void readcb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	if (!first_read)
		first_read = evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	event_base_loopbreak(arg);
}

/* In the child: value (NULL: unset) and the caps it must give. */
static int run_case(const char *value, long long buf_cap, long long bev_read, int bad)
{
	if (value)
		setenv("GOEVENT_MAX_READ", value, 1);
	else
		unsetenv("GOEVENT_MAX_READ");
	event_set_log_callback(capture_log);

	struct evbuffer *b = evbuffer_new();
	CHECK_EQ("evbuffer_get_max_read", evbuffer_get_max_read(b), buf_cap);
	evbuffer_free(b);

	struct event_base *base = event_base_new();
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		return 1;
	evutil_make_socket_nonblocking(fds[0]);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	CHECK_EQ("bufferevent_get_max_single_read", bufferevent_get_max_single_read(bev), bev_read);
	CHECK_EQ("the input's evbuffer_get_max_read",
	    evbuffer_get_max_read(bufferevent_get_input(bev)), buf_cap);
	/* The write size follows the read size, so that what one read takes
	 * can leave in one write. */
	CHECK_EQ("bufferevent_get_max_single_write", bufferevent_get_max_single_write(bev), bev_read);
	bufferevent_set_max_single_write(bev, 1000);
	bufferevent_set_max_single_write(bev, 0);
	CHECK_EQ("the restored max_single_write", bufferevent_get_max_single_write(bev), bev_read);

	/* 200000 bytes queued at once: the first read takes what the caps
	 * allow of them. */
	static char data[200000];
	memset(data, 'x', sizeof(data));
	ssize_t queued = write(fds[1], data, sizeof(data));
	CHECK_EQ("bytes queued", queued, sizeof(data));
	bufferevent_setcb(bev, readcb, NULL, NULL, base);
	bufferevent_enable(bev, EV_READ);
	event_base_dispatch(base);
	long long want = buf_cap < bev_read ? buf_cap : bev_read;
	if (want > (long long)sizeof(data))
		want = sizeof(data);
	CHECK_EQ("the first read", first_read, want);
	bufferevent_free(bev);
	close(fds[1]);
	event_base_free(base);

	CHECK_EQ("log lines", log_lines, bad ? 1 : 0);
	if (bad && (!strstr(first_log, "GOEVENT_MAX_READ") || !strstr(first_log, "4096"))) {
		failed++;
		printf("FAIL GOEVENT_MAX_READ=%s: log line \"%s\" does not name the variable and the "
		    "default\n", value, first_log);
	}
	return failed;
}

int main(void)
{
	static const struct {
		const char *value;
		long long buf_cap, bev_read;
		int bad;
	} cases[] = {
		{ NULL, 4096, 16384, 0 },
		{ "262144", 262144, 262144, 0 },
		{ "8192", 8192, 16384, 0 },
		{ "65536", 65536, 65536, 0 },
		{ "1", 1, 16384, 0 },
		{ "2147483647", INT_MAX, INT_MAX, 0 },
		{ "0", 4096, 16384, 1 },
		{ "-5", 4096, 16384, 1 },
		{ "2147483648", 4096, 16384, 1 },
		{ "99999999999999999999", 4096, 16384, 1 },
		{ "1e6", 4096, 16384, 1 },
		{ "256k", 4096, 16384, 1 },
		{ "", 4096, 16384, 1 },
		{ " 5", 4096, 16384, 1 },
		{ "lots", 4096, 16384, 1 },
	};
	int n = sizeof(cases) / sizeof(cases[0]), bad = 0;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			int r = run_case(cases[i].value, cases[i].buf_cap, cases[i].bev_read,
			    cases[i].bad);
			fflush(stdout);
			_exit(r ? 1 : 0);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			bad++;
			printf("FAIL case GOEVENT_MAX_READ=%s (status %#x)\n",
			    cases[i].value ? cases[i].value : "(unset)", st);
		}
	}
	printf("%d passed, %d failed\n", n - bad, bad);
	return bad ? 1 : 0;
}
