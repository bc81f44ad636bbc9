/*
 * diff_event_debug.c -- event_enable_debug_mode's checks, compared with
 * libevent.
 *
 * Misuse, each case in a child forked before anything loads the library's
 * engine (libevent's checks end the process: the message goes to the log
 * callback, then the fatal callback runs, or the process aborts): enabling
 * debug mode twice or after a base exists, adding an event that was never
 * assigned, assigning an event again while it is added, event_debug_unassign
 * of an added event, using an event after event_debug_unassign (add, del,
 * active, pending, priority_set, the accessors), and an event on a socket
 * that is not non-blocking. What stays legal in debug mode must keep
 * working: a whole event life cycle, re-assigning an event whose
 * non-persistent run removed it, freeing an added event (event_free deletes
 * it first), bufferevents, event_base_once. The trace is each child's log
 * lines (the event's address shown as EV) and how it ended.
 *
 * Then, in this process: edge-triggered and level-triggered events may not
 * share an fd (event_add fails with a warning, whichever was added first),
 * and the events already added keep working.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>

#include "bevtest.h"
#include "trace.h"

static int warnings;

static void log_cb(int severity, const char *msg)
{
	(void)msg;
	if (severity == EVENT_LOG_WARN)
		warnings++;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	char c;
	(void)arg;
	ssize_t n = read(fd, &c, 1);
	printf("read callback: what %#x, read %zd\n", what & ~EV_ET, n);
}

static void mix(struct event_base *base, int fds[2], short first, short second)
{
	struct event *a = event_new(base, fds[0], first, read_cb, NULL);
	struct event *b = event_new(base, fds[0], second, read_cb, NULL);
	warnings = 0;
	int ra = event_add(a, NULL);
	int rb = event_add(b, NULL);
	printf("add %s then %s: %d %d, %d warning(s); pending %#x %#x\n",
	    first & EV_ET ? "ET" : "LT", second & EV_ET ? "ET" : "LT", ra, rb, warnings,
	    event_pending(a, EV_READ, NULL), event_pending(b, EV_READ, NULL));
	put(fds[1], "x", 1);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	event_free(a);
	event_free(b);
}

/* ---- misuse, one child each ---------------------------------------------- */

static const void *watched[2]; /* events whose address the log shows as EV */

static void child_log(int severity, const char *msg)
{
	char buf[512], addr[2][32];
	int k;
	for (k = 0; k < 2; k++)
		snprintf(addr[k], sizeof(addr[k]), "%p", watched[k]);
	/* The message with each watched address replaced. */
	size_t o = 0;
	for (const char *p = msg; *p && o + 8 < sizeof(buf);) {
		for (k = 0; k < 2; k++) {
			size_t n = strlen(addr[k]);
			if (watched[k] && strncmp(p, addr[k], n) == 0) {
				memcpy(buf + o, k ? "EV2" : "EV", k ? 3 : 2);
				o += k ? 3 : 2;
				p += n;
				break;
			}
		}
		if (k == 2)
			buf[o++] = *p++;
	}
	buf[o] = '\0';
	printf("  log %d: %s\n", severity, buf);
}

static void child_fatal(int code)
{
	printf("  fatal callback: %#x\n", (unsigned)code);
	fflush(stdout);
}

static void nop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static struct event_base *base;
static struct event ev, ev2;
static int sv[2];

static void setup(void)
{
	base = event_base_new();
	make_pair(sv);
	watched[0] = &ev;
	watched[1] = &ev2;
}

static void c_twice(void)
{
	event_enable_debug_mode();
}

static void c_too_late(void)
{
	/* debug mode is enabled by run(); this child enables it after a base
	 * exists instead */
}

static void c_add_never_assigned(void)
{
	setup();
	memset(&ev, 0, sizeof(ev));
	ev.ev_base = base;
	ev.ev_fd = -1;
	printf("  add -> %d\n", event_add(&ev, NULL));
}

static void c_reassign_added(void)
{
	setup();
	event_assign(&ev, base, sv[0], EV_READ, nop_cb, NULL);
	printf("  add -> %d\n", event_add(&ev, NULL));
	printf("  assign -> %d\n", event_assign(&ev, base, sv[0], EV_READ | EV_PERSIST, nop_cb, NULL));
}

static void c_unassign_added(void)
{
	setup();
	event_assign(&ev, base, sv[0], EV_READ, nop_cb, NULL);
	printf("  add -> %d\n", event_add(&ev, NULL));
	event_debug_unassign(&ev);
}

static void unassigned(void)
{
	setup();
	event_assign(&ev, base, sv[0], EV_READ, nop_cb, NULL);
	event_debug_unassign(&ev);
	printf("  unassigned, initialized %d\n", event_initialized(&ev));
}

static void c_add_after_unassign(void)
{
	unassigned();
	printf("  add -> %d\n", event_add(&ev, NULL));
}

static void c_del_after_unassign(void)
{
	unassigned();
	printf("  del -> %d\n", event_del(&ev));
}

static void c_active_after_unassign(void)
{
	unassigned();
	event_active(&ev, EV_READ, 0);
	printf("  active done\n");
}

static void c_pending_after_unassign(void)
{
	unassigned();
	printf("  pending -> %d\n", event_pending(&ev, EV_READ, NULL));
}

static void c_priority_after_unassign(void)
{
	unassigned();
	printf("  priority_set -> %d\n", event_priority_set(&ev, 0));
}

static void c_get_fd_after_unassign(void)
{
	unassigned();
	printf("  get_fd -> %d\n", (int)event_get_fd(&ev));
}

static void c_blocking_fd(void)
{
	setup();
	int p[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) < 0)
		return;
	watched[0] = NULL;
	struct event *e = event_new(base, p[0], EV_READ, nop_cb, NULL);
	printf("  event_new on a blocking socket -> %s\n", e ? "event" : "NULL");
}

static int fired;
static void count_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	fired++;
	printf("  callback: what %#x\n", what);
}

static void c_legal(void)
{
	setup();
	/* A whole life cycle. */
	event_assign(&ev, base, sv[0], EV_READ, count_cb, NULL);
	event_add(&ev, NULL);
	put(sv[1], "x", 1);
	event_base_loop(base, EVLOOP_ONCE);
	/* Its non-persistent run removed it: assigning again is fine. */
	printf("  assign after the run -> %d\n",
	    event_assign(&ev, base, sv[0], EV_READ | EV_PERSIST, count_cb, NULL));
	struct timeval zero = { 0, 0 };
	event_add(&ev, &zero);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	printf("  del -> %d, pending %d, fd ok %d\n", event_del(&ev),
	    event_pending(&ev, EV_READ, NULL), event_get_fd(&ev) == sv[0]);
	event_debug_unassign(&ev);
	/* Freeing an added event: event_free deletes it first. */
	struct event *e = event_new(base, sv[0], EV_READ | EV_PERSIST, count_cb, NULL);
	event_add(e, NULL);
	event_free(e);
	/* Bufferevents and one-shot events assign events of their own. */
	struct bufferevent *bev = bufferevent_socket_new(base, sv[0], 0);
	bufferevent_enable(bev, EV_READ);
	bufferevent_write(bev, "hello", 5);
	struct bufferevent *pr[2];
	bufferevent_pair_new(base, 0, pr);
	bufferevent_enable(pr[1], EV_READ);
	bufferevent_write(pr[0], "pair", 4);
	event_base_once(base, -1, EV_TIMEOUT, count_cb, NULL, &zero);
	event_base_loop(base, EVLOOP_NONBLOCK);
	printf("  bufferevent read %zu, pair read %zu, %d callbacks\n", in_len(bev),
	    in_len(pr[1]), fired);
	bufferevent_free(bev);
	bufferevent_free(pr[0]);
	bufferevent_free(pr[1]);
	event_base_free(base);
}

/* Runs fn in a child with debug mode on (after a base, for c_too_late),
 * with or without a fatal callback, and prints how the child ended. */
static void run(const char *name, void (*fn)(void), int fatal_cb)
{
	printf("%s%s:\n", name, fatal_cb ? " (fatal callback)" : "");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		event_set_log_callback(child_log);
		if (fatal_cb)
			event_set_fatal_callback(child_fatal);
		if (fn == c_too_late)
			base = event_base_new();
		event_enable_debug_mode();
		fn();
		printf("  survived\n");
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("  ended by signal %d\n", WTERMSIG(st));
	else
		printf("  exit %d\n", WEXITSTATUS(st));
}

int main(void)
{
	int fds[2];
	tr_init();
	signal(SIGPIPE, SIG_IGN);

	/* Nothing in this process touches a base before the children ran:
	 * goevent's children then load their own engine. */
	run("enable twice", c_twice, 0);
	run("enable twice", c_twice, 1);
	run("enable after a base", c_too_late, 0);
	run("add a never assigned event", c_add_never_assigned, 0);
	run("add a never assigned event", c_add_never_assigned, 1);
	run("assign an added event again", c_reassign_added, 0);
	run("unassign an added event", c_unassign_added, 0);
	run("add after unassign", c_add_after_unassign, 0);
	run("add after unassign", c_add_after_unassign, 1);
	run("del after unassign", c_del_after_unassign, 0);
	run("active after unassign", c_active_after_unassign, 0);
	run("pending after unassign", c_pending_after_unassign, 0);
	run("priority_set after unassign", c_priority_after_unassign, 0);
	run("get_fd after unassign", c_get_fd_after_unassign, 0);
	run("an event on a blocking socket", c_blocking_fd, 0);
	run("what stays legal", c_legal, 0);

	event_set_log_callback(log_cb);
	event_enable_debug_mode();
	base = event_base_new();
	make_pair(fds);

	mix(base, fds, EV_READ | EV_ET, EV_READ);
	mix(base, fds, EV_READ, EV_READ | EV_ET);
	mix(base, fds, EV_READ | EV_ET, EV_READ | EV_ET | EV_PERSIST);
	mix(base, fds, EV_READ, EV_WRITE);
	mix(base, fds, EV_READ | EV_ET, EV_WRITE);

	close(fds[0]);
	close(fds[1]);
	event_base_free(base);
	return 0;
}
