/*
 * diff_buffer_sigpipe: evbuffer_write to a pipe whose reader is gone, with
 * SIGPIPE at its default disposition, kills the writer as libevent's writev
 * does, whether the buffer takes the plain path or has a callback (which
 * makes goevent take its Go path); with SIGPIPE ignored it fails with EPIPE.
 * Each case runs in a child started with fork+exec of this program.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>

static void on_change(struct evbuffer *b, const struct evbuffer_cb_info *i, void *a)
{
	(void)b; (void)i; (void)a;
}

static int child(const char *mode)
{
	int p[2];
	if (pipe(p) != 0)
		return 2;
	close(p[0]);
	if (strcmp(mode, "ignored") == 0)
		signal(SIGPIPE, SIG_IGN);
	struct evbuffer *b = evbuffer_new();
	if (strcmp(mode, "callback") == 0)
		evbuffer_add_cb(b, on_change, NULL);
	evbuffer_add(b, "payload", 7);
	int r = evbuffer_write(b, p[1]);
	printf("%s: write returned %d errno %s, length %zu\n", mode, r,
	    errno == EPIPE ? "EPIPE" : "other", evbuffer_get_length(b));
	evbuffer_free(b);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return child(argv[1]);
	const char *modes[] = {"plain", "callback", "ignored"};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			execl("/proc/self/exe", argv[0], modes[i], (char *)NULL);
			_exit(127);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		if (WIFSIGNALED(st))
			printf("%s: killed by %s\n", modes[i],
			    WTERMSIG(st) == SIGPIPE ? "SIGPIPE" : "another signal");
		else
			printf("%s: exited %d\n", modes[i], WEXITSTATUS(st));
	}
	return 0;
}
