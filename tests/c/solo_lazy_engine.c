/*
 * solo_lazy_engine.c -- goevent only: the Go engine starts at the first call
 * that needs it and leaves no trace a libevent program could notice.
 *
 *  - Before that call the process has one thread and no engine mapped, and
 *    the plain-C functions (configuration, logging, threads setup, evutil,
 *    event_assign and the event accessors, version queries) keep it so.
 *  - The first evbuffer_new starts the engine: more threads, the engine
 *    mapped from beside libevent_core.
 *  - The soft RLIMIT_NOFILE the program set before is the one it has after
 *    (the Go runtime raises it to the hard limit when it starts).
 *  - The runtime's own descriptors sit at the top of the table, below the
 *    soft limit, so the descriptors the program opens next get the numbers
 *    they would get under libevent.
 *
 * Exit status 0 when all hold; each failed check prints a FAIL line. Built
 * a second time against libevent_core.a (GE_STATIC_ENGINE_TEST), where the
 * engine is linked in and only its runtime's start waits for first need.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <event2/util.h>

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		printf("FAIL: "); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		failures++; \
	} \
} while (0)

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int threads(void)
{
	return count_dir("/proc/self/task");
}

/* 1 when the engine is mapped (the static build has it linked in from the
 * start, so there the question is only whether the runtime started). */
static int engine_mapped(void)
{
#ifdef GE_STATIC_ENGINE_TEST
	return threads() > 1;
#endif
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	int found = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "libgoevent_engine"))
			found = 1;
	fclose(f);
	return found;
}

/* The highest open descriptor number. */
static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	int hi = -1;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) > hi && atoi(e->d_name) != dirfd(d))
			hi = atoi(e->d_name);
	closedir(d);
	return hi;
}

static void nop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void quiet_log(int severity, const char *msg)
{
	(void)severity;
	(void)msg;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(threads() == 1, "%d threads at start", threads());
	CHECK(engine_mapped() == 0, "engine mapped at start");

	/* A soft limit below the hard one, as `ulimit -n 1024` leaves it. */
	struct rlimit lim;
	getrlimit(RLIMIT_NOFILE, &lim);
	rlim_t soft = lim.rlim_max > 1024 ? 1024 : lim.rlim_max;
	lim.rlim_cur = soft;
	if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
		perror("setrlimit");

	/* Plain C: none of this may start the engine. */
	struct event_config *cfg = event_config_new();
	event_config_avoid_method(cfg, "select");
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	event_config_free(cfg);
	event_set_log_callback(quiet_log);
	event_set_log_callback(NULL);
	evthread_use_pthreads();
	evthread_enable_lock_debugging();
	struct event ev;
	event_assign(&ev, NULL, -1, 0, nop, NULL);
	CHECK(event_get_fd(&ev) == -1 && event_get_callback(&ev) == nop, "event accessors");
	CHECK(event_initialized(&ev), "event_initialized");
	CHECK(strcmp(event_get_version(), "2.1.12-stable") == 0, "version %s", event_get_version());
	CHECK(event_get_supported_methods()[0] != NULL, "supported methods");
	int sv[2];
	CHECK(evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "evutil_socketpair");
	evutil_make_socket_nonblocking(sv[0]);
	evutil_closesocket(sv[0]);
	evutil_closesocket(sv[1]);
	char addr[64];
	struct sockaddr_storage ss;
	int sslen = sizeof ss;
	CHECK(evutil_parse_sockaddr_port("127.0.0.1:80", (struct sockaddr *)&ss, &sslen) == 0,
	    "evutil_parse_sockaddr_port");
	CHECK(evutil_inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr) != NULL,
	    "evutil_inet_ntop");
	CHECK(threads() == 1, "%d threads after plain-C calls", threads());
	CHECK(engine_mapped() == 0, "engine mapped after plain-C calls");

	/* Where the program's next descriptor would go under libevent. */
	int probe = open("/dev/null", O_RDONLY);
	close(probe);
	int hi_before = highest_fd();

	/* The first call that needs Go. */
	struct evbuffer *b = evbuffer_new();
	CHECK(b != NULL, "evbuffer_new");
	evbuffer_add(b, "x", 1);
	CHECK(threads() > 1, "engine started but still %d thread", threads());
	CHECK(engine_mapped() == 1, "engine not mapped after evbuffer_new");

	getrlimit(RLIMIT_NOFILE, &lim);
	CHECK(lim.rlim_cur == soft, "soft RLIMIT_NOFILE %llu after the engine started, %llu before",
	    (unsigned long long)lim.rlim_cur, (unsigned long long)soft);

	int next = open("/dev/null", O_RDONLY);
	CHECK(next == probe, "next descriptor %d, %d before the engine started", next, probe);
	close(next);
	/* The runtime's two: at soft-2 and soft-1, above everything else. */
	int hi_after = highest_fd();
	CHECK(hi_after == (int)soft - 1 && hi_before < (int)soft - 2,
	    "highest descriptor %d after the engine started (%d before, soft limit %d)", hi_after,
	    hi_before, (int)soft);

	evbuffer_free(b);
	if (failures == 0)
		printf("engine started lazily: 1 thread before, %d after; rlimit %d kept; "
		    "descriptors kept\n", threads(), (int)soft);
	return failures ? 1 : 0;
}
