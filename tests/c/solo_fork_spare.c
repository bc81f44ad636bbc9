/*
 * solo_fork_spare.c -- goevent only: the spare copy of the engine that a
 * process forking more than once keeps for its later children.
 *
 *  - Children that never need Go (they exit, or exec as a shell-starting
 *    server's do) make no spare appear, however many.
 *  - The first child that needs Go copies the engine itself, and the
 *    parent still holds no new descriptor.
 *  - From the next fork on the parent holds exactly one spare: sealed
 *    against writes, close-on-exec, near the top of the descriptor table
 *    (the program's next descriptor gets the number it would get without
 *    it); each child loads it and closes its own reference.
 *  - A child that closed the spare, or put another file at its number,
 *    makes its own copy and leaves that file alone; a parent whose spare's
 *    number was reused makes a new spare elsewhere and leaves the file
 *    alone.
 *  - A child that loaded the spare keeps none; once one of its own children
 *    needed Go, it makes its own spare. A child that never started an
 *    engine passes its parent's spare on to its children, and can still
 *    load it itself.
 *
 * Every child proves its engine works: event_reinit, then bytes through a
 * bufferevent pair and a timer in its loop. Which copy a child loaded is read
 * from the engine's debug log line. Exit status 0 when all hold; each failed
 * check prints a FAIL line.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		printf("FAIL [%d]: ", (int)getpid() % 100000); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		fflush(stdout); \
		failures++; \
	} \
} while (0)

/* What the engine's debug line said about the last copy this process
 * started: 0 none, 1 a copy of its own, 2 the parent's spare. */
static int loaded_how;

static void log_cb(int severity, const char *msg)
{
	(void)severity;
	if (!strstr(msg, "goevent engine started"))
		return;
	loaded_how = strstr(msg, "from the parent's spare") ? 2 : 1;
}

/* The descriptor numbers of the engine spares this process holds. */
static int spares(int *first)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	struct dirent *e;
	*first = -1;
	while ((e = readdir(d))) {
		char path[300], link[256];
		snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
		ssize_t k = readlink(path, link, sizeof link - 1);
		if (k <= 0)
			continue;
		link[k] = '\0';
		if (strncmp(link, "/memfd:goevent-engine-spare", 27) == 0) {
			n++;
			*first = atoi(e->d_name);
		}
	}
	closedir(d);
	return n;
}

/* ---- a child's proof that its engine works -------------------------------- */

static struct event_base *base;

struct use_state {
	char got[16];
	size_t n;
	int ticks;
};

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct use_state *u = arg;
	u->n += bufferevent_read(bev, u->got + u->n, sizeof u->got - 1 - u->n);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct use_state *u = arg;
	if (++u->ticks >= 2 || u->n >= 5)
		event_base_loopbreak(base);
}

/* event_reinit and a round trip; 0 when both work. */
static int use_engine(void)
{
	loaded_how = 0;
	if (event_reinit(base) != 0)
		return 1;
	struct bufferevent *pair[2];
	if (bufferevent_pair_new(base, 0, pair) != 0)
		return 2;
	struct use_state u;
	memset(&u, 0, sizeof u);
	bufferevent_setcb(pair[1], read_cb, NULL, NULL, &u);
	bufferevent_enable(pair[1], EV_READ);
	bufferevent_write(pair[0], "hello", 5);
	struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, &u);
	struct timeval tv = { 0, 20000 };
	event_add(tick, &tv);
	event_base_dispatch(base);
	event_free(tick);
	bufferevent_free(pair[0]);
	bufferevent_free(pair[1]);
	return u.n == 5 && memcmp(u.got, "hello", 5) == 0 ? 0 : 3;
}

/* Forks; the child runs f and exits with its result (failures count too).
 * Returns the child's exit status, or -1. */
static int in_child(int (*f)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int r = f();
		fflush(stdout);
		_exit(r ? r : failures ? 100 : 0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* ---- what the children do ------------------------------------------------- */

static int expect_copy(void)
{
	int fd;
	int r = use_engine();
	CHECK(loaded_how == 1, "expected a copy of its own, log said %d", loaded_how);
	CHECK(spares(&fd) == 0, "a child holds a spare after loading");
	return r;
}

static int expect_spare(void)
{
	int fd, old;
	CHECK(spares(&old) == 1, "a child does not inherit exactly one spare");
	int r = use_engine();
	CHECK(loaded_how == 2, "expected the parent's spare, log said %d", loaded_how);
	CHECK(spares(&fd) == 0, "the child kept the spare it loaded (fd %d)", fd);
	/* The new runtime's descriptors went where the old one's were, not
	 * to the spare's number. */
	CHECK(fcntl(old, F_GETFD) < 0, "the spare's number %d is taken after loading", old);
	return r;
}

static int close_spare_first(void)
{
	int fd;
	if (spares(&fd) == 1)
		close(fd);
	return expect_copy();
}

static int spare_number_reused(void)
{
	int fd, p[2];
	if (spares(&fd) != 1 || pipe(p) != 0)
		return 10;
	dup2(p[0], fd);
	int r = use_engine();
	CHECK(loaded_how == 1, "expected a copy of its own, log said %d", loaded_how);
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode),
	    "the program's pipe at the spare's old number %d was touched", fd);
	CHECK(write(p[1], "x", 1) == 1, "pipe");
	char c = 0;
	CHECK(read(fd, &c, 1) == 1 && c == 'x', "the pipe at %d does not carry bytes", fd);
	return r;
}

static int no_engine(void) { return 0; }

static int exec_true(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return 99;
}

static int grandchild_copy(void) { return expect_copy(); }
static int grandchild_spare(void) { return expect_spare(); }

/* Loads the parent's spare, then forks twice itself. */
static int generations(void)
{
	int r = expect_spare();
	int fd;
	CHECK(in_child(grandchild_copy) == 0, "the child's first child");
	CHECK(spares(&fd) == 0, "a spare before any of the child's children needed Go");
	CHECK(in_child(grandchild_spare) == 0, "the child's second child");
	CHECK(spares(&fd) == 1, "no spare of its own after the child's first child needed Go");
	return r;
}

/* Never starts an engine before forking: its child loads the spare it
 * passes on, and so can it afterwards. */
static int stale_forker(void)
{
	CHECK(in_child(expect_spare) == 0, "grandchild of a child without engine");
	return expect_spare();
}

/* ---- the parent ----------------------------------------------------------- */

int main(void)
{
	event_set_log_callback(log_cb);
	event_enable_debug_logging(EVENT_DBG_ALL);
	base = event_base_new();
	if (!base) {
		printf("FAIL: event_base_new\n");
		return 1;
	}
	int fd;

	/* Children that never load an engine. */
	for (int i = 0; i < 3; i++)
		CHECK(in_child(no_engine) == 0, "child %d without engine", i);
	CHECK(in_child(exec_true) == 0, "child that execs");
	CHECK(spares(&fd) == 0, "a spare after children that never needed Go");

	/* The first child that needs Go copies; still no spare. */
	CHECK(in_child(expect_copy) == 0, "first child with an engine");
	CHECK(spares(&fd) == 0, "a spare after the first child with an engine");

	/* The next fork: one spare in the parent, used by the child. */
	int probe = socket(AF_UNIX, SOCK_STREAM, 0);
	close(probe);
	CHECK(in_child(expect_spare) == 0, "the child after the first that needed Go");
	CHECK(spares(&fd) == 1, "not exactly one spare once a child needed Go");
	int next = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(next == probe, "the program's next descriptor is %d, %d without the spare", next, probe);
	close(next);
	CHECK(fd > 64, "the spare sits low, at %d", fd);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "the spare is not close-on-exec");
	int seals = fcntl(fd, F_GET_SEALS);
	CHECK(seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SHRINK) && (seals & F_SEAL_SEAL),
	    "the spare's seals are %#x", seals);
	errno = 0;
	CHECK(write(fd, "x", 1) < 0 && errno == EPERM, "the spare takes a write (%s)", strerror(errno));
	int spare = fd;

	/* Later children use the same spare. */
	for (int i = 0; i < 3; i++)
		CHECK(in_child(expect_spare) == 0, "fork %d's child", 3 + i);
	CHECK(spares(&fd) == 1 && fd == spare, "the spare changed while unused");

	/* Children that closed it, or reused its number. */
	CHECK(in_child(close_spare_first) == 0, "child that closed the spare");
	CHECK(in_child(spare_number_reused) == 0, "child that reused the spare's number");
	CHECK(spares(&fd) == 1 && fd == spare, "the parent's spare changed by its children");

	/* Generations, and a child that never started an engine. */
	CHECK(in_child(generations) == 0, "child forking twice");
	CHECK(in_child(stale_forker) == 0, "child forking before it starts an engine");

	/* The parent's spare number reused by the program. */
	int null = open("/dev/null", O_RDONLY);
	CHECK(null >= 0 && dup2(null, spare) == spare, "dup2");
	close(null);
	CHECK(in_child(expect_spare) == 0, "child after the parent's spare was replaced");
	struct stat st;
	CHECK(fstat(spare, &st) == 0 && S_ISCHR(st.st_mode),
	    "the program's /dev/null at %d was touched", spare);
	CHECK(spares(&fd) == 1 && fd != spare, "no new spare after the old number was reused");
	close(spare);

	/* The parent's own engine goes on. */
	CHECK(event_base_loop(base, EVLOOP_NONBLOCK) >= 0, "the parent's loop");
	event_base_free(base);
	printf("%s\n", failures ? "solo_fork_spare: FAILED" : "solo_fork_spare: OK");
	return failures != 0;
}
