/*
 * static_fork_guard.c -- goevent's static library only (libevent_core.a):
 * a child forked after the linked-in engine started cannot use it, and
 * says so at once instead of hanging.
 *
 * The Go runtime's threads do not survive fork(), and a program linked
 * against the archive has no second copy of the engine to load (the shared
 * library loads one; diff_fork_after covers that). The child here calls
 * event_reinit, event_base_new and evbuffer_new; each must return its
 * failure value at once and say why on stderr, naming the static library.
 * The parent waits at most 10 seconds, checks the child's exit status and
 * what it printed, and meanwhile shows that its own base (and event_reinit)
 * still work.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

static int fired;

static void cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fired++;
}

int main(void)
{
	struct event_base *base = event_base_new();
	struct event *ev;
	struct timeval t5 = { 0, 5000 };
	int errpipe[2], status = 0, failures = 0;
	char msg[4096];
	ssize_t n, total = 0;
	pid_t pid, w;
	int waited_ms = 0;

	if (!base || pipe(errpipe) != 0) {
		printf("FAIL: setup\n");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		printf("FAIL: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		int bad = 0;
		dup2(errpipe[1], STDERR_FILENO);
		close(errpipe[0]);
		alarm(10); /* a hang would be the bug; don't outlive the parent */
		if (event_reinit(base) != -1)
			bad |= 1;
		if (event_base_new() != NULL)
			bad |= 2;
		if (evbuffer_new() != NULL)
			bad |= 4;
		_exit(bad);
	}
	close(errpipe[1]);

	/* The parent carries on normally. */
	if (event_reinit(base) != 0) {
		printf("FAIL: event_reinit in the parent\n");
		failures++;
	}
	ev = event_new(base, -1, 0, cb, NULL);
	event_add(ev, &t5);
	event_base_dispatch(base);
	if (fired != 1) {
		printf("FAIL: parent loop did not run its timer\n");
		failures++;
	}
	event_free(ev);

	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (waited_ms >= 10000) {
			printf("FAIL: child still running after 10 s (hung)\n");
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 1;
		}
		struct timespec ts = { 0, 10000000L };
		nanosleep(&ts, NULL);
		waited_ms += 10;
	}
	while (total < (ssize_t)sizeof(msg) - 1 &&
	    (n = read(errpipe[0], msg + total, sizeof(msg) - 1 - total)) > 0)
		total += n;
	msg[total] = '\0';

	if (!WIFEXITED(status)) {
		printf("FAIL: child died (signal %d)\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
		failures++;
	} else if (WEXITSTATUS(status) != 0) {
		printf("FAIL: child calls did not all fail (mask %d)\n", WEXITSTATUS(status));
		failures++;
	}
	if (!strstr(msg, "event_base_new") || !strstr(msg, "evbuffer_new") ||
	    !strstr(msg, "event_reinit") || !strstr(msg, "fork") ||
	    !strstr(msg, "libevent_core.a")) {
		printf("FAIL: child's stderr does not explain: [%s]\n", msg);
		failures++;
	}
	event_base_free(base);
	if (failures)
		return 1;
	printf("ok: child failed fast in %d ms with: %.*s", waited_ms,
	    (int)(strchr(msg, '\n') ? strchr(msg, '\n') - msg + 1 : total), msg);
	return 0;
}
