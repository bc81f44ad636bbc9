/*
 * diff_fork_reinit_edge.c -- event_reinit in forked children, the edges:
 *
 *  - a child that closed one of the watched descriptors before
 *    event_reinit: the re-registration of that one fails (one log line,
 *    worded as libevent's, printed here), event_reinit returns -1, every
 *    other fd event still works, and the signal event's handler is not
 *    installed again (libevent stops before the signals), so the signal
 *    ends the child;
 *  - an edge-triggered event and a plain one on the same base: after
 *    event_reinit each still fires as it did (the edge-triggered one once
 *    per arrival, however much is left unread);
 *  - a base with epoll's changelist (EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
 *  - which descriptor the child opens next, after the new epoll instance
 *    and signal pair took theirs;
 *  - deleting the signal event after event_reinit: the program's own
 *    disposition comes back.
 *
 * Each child runs in turn (the parent waits), so the trace is the same on
 * every run and on both libraries; log lines are printed as they come.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "bevtest.h"

#define NPAIRS 4

static struct event_base *base, *clbase;
static struct event *sigev;
static int pairs[NPAIRS][2];
static int clpair[2];
static int fired[NPAIRS + 1];

static void log_cb(int severity, const char *msg)
{
	printf("  log[%d]: %s\n", severity, msg);
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	int i = (int)(intptr_t)arg;
	fired[i]++;
	/* The edge-triggered one (0) reads one byte per callback and leaves
	 * the rest; the others drain. */
	char buf[64];
	if (i == 0) {
		if (read(fd, buf, 1) < 0)
			exit(1);
	} else if (read(fd, buf, sizeof buf) < 0) {
		exit(1);
	}
	(void)what;
}

static void sig_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	printf("  signal %d\n", (int)sig);
}

/* Writes to every peer that is still open, runs two passes, prints counts. */
static void poke(struct event_base *b, int first, int last, const char *label)
{
	memset(fired, 0, sizeof fired);
	for (int i = first; i <= last; i++) {
		int peer = i < NPAIRS ? pairs[i][1] : clpair[1];
		if (write(peer, "xyz", 3) != 3)
			printf("  write to pair %d failed\n", i);
	}
	event_base_loop(b, EVLOOP_NONBLOCK);
	event_base_loop(b, EVLOOP_NONBLOCK);
	printf("  %s:", label);
	for (int i = first; i <= last; i++)
		printf(" %d", fired[i]);
	printf("\n");
}

static void next_descriptor(void)
{
	int probe = dup(0);
	printf("  next descriptor: %d\n", probe);
	close(probe);
}

static int child_closes_one(void)
{
	close(pairs[2][0]);
	printf("  event_reinit: %d\n", event_reinit(base));
	next_descriptor();
	int keep = pairs[2][1];
	pairs[2][1] = -1;
	close(keep);
	poke(base, 0, 1, "after reinit, pairs 0-1");
	poke(base, 3, 3, "pair 3");
	/* libevent installs no signal handler again once an fd failed: the
	 * signal ends the child (both libraries). */
	fflush(stdout);
	raise(SIGUSR1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}

static int child_plain(void)
{
	printf("  event_reinit: %d\n", event_reinit(base));
	next_descriptor();
	poke(base, 0, NPAIRS - 1, "after reinit");
	/* Two bytes were left unread in the edge-triggered pair: no new
	 * callback until more arrive. */
	poke(base, 1, 1, "pair 1 only");
	printf("  edge-triggered pair fired again without new data: %d\n", fired[0]);
	raise(SIGUSR1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	/* Deleting the signal event puts back what the program had before
	 * the base installed its handler (event_reinit tore the handlers
	 * down and installed them again, saving the program's). */
	event_del(sigev);
	struct sigaction sa;
	sigaction(SIGUSR1, NULL, &sa);
	printf("  SIGUSR1 after event_del: %s\n", sa.sa_handler == SIG_DFL ? "default" :
	    sa.sa_handler == SIG_IGN ? "ignored" : "a handler");
	return 0;
}

static int child_changelist(void)
{
	printf("  event_reinit (changelist base): %d\n", event_reinit(clbase));
	next_descriptor();
	poke(clbase, NPAIRS, NPAIRS, "changelist pair");
	return 0;
}

static void run_child(const char *name, int (*f)(void))
{
	printf("%s\n", name);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(20);
		int r = f();
		fflush(stdout);
		_exit(r);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("  exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
	event_set_log_callback(log_cb);
	base = event_base_new();
	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	clbase = event_base_new_with_config(cfg);
	event_config_free(cfg);
	printf("methods: %s, %s\n", event_base_get_method(base), event_base_get_method(clbase));
	for (int i = 0; i < NPAIRS; i++) {
		make_pair(pairs[i]);
		short what = EV_READ | EV_PERSIST | (i == 0 ? EV_ET : 0);
		event_add(event_new(base, pairs[i][0], what, read_cb, (void *)(intptr_t)i), NULL);
	}
	make_pair(clpair);
	event_add(event_new(clbase, clpair[0], EV_READ | EV_PERSIST, read_cb,
	    (void *)(intptr_t)NPAIRS), NULL);
	sigev = evsignal_new(base, SIGUSR1, sig_cb, NULL);
	event_add(sigev, NULL);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_loop(clbase, EVLOOP_NONBLOCK);

	run_child("child that closed a watched descriptor", child_closes_one);
	run_child("child", child_plain);
	run_child("child with the changelist base", child_changelist);
	run_child("another child", child_plain);

	printf("parent\n");
	poke(base, 0, NPAIRS - 1, "parent's events");
	/* event_reinit without a fork is allowed too: the same teardown and
	 * registration, in the process that made the base. */
	printf("  event_reinit in the parent: %d\n", event_reinit(base));
	next_descriptor();
	poke(base, 0, NPAIRS - 1, "parent's events after its own event_reinit");
	raise(SIGUSR1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_del(sigev);
	struct sigaction sa;
	sigaction(SIGUSR1, NULL, &sa);
	printf("  SIGUSR1 after event_del: %s\n", sa.sa_handler == SIG_DFL ? "default" : "not default");
	return 0;
}
