/*
 * forkcase.c -- a fork-per-case driver, as libevent's own test driver
 * (tinytest) is: every case runs in a child process forked from a parent
 * that never calls libevent itself, and the parent reports each child's
 * exit status. The cases are existing differential tests (tests/c),
 * compiled into this program with their main renamed (CMakeLists.txt), so
 * the trace of the whole run is compared with libevent's like any other.
 *
 * Under goevent every child loads its own engine: the parent never starts
 * one, so nothing of a Go runtime is inherited across the fork.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define GE_FORK_CASES(X) \
	X(diff_buffer_basic) \
	X(diff_buffer_cb) \
	X(diff_buffer_readln) \
	X(diff_event_timers) \
	X(diff_event_io) \
	X(diff_event_signal) \
	X(diff_pair) \
	X(diff_listener)

#define GE_DECLARE(name) int case_##name(void);
GE_FORK_CASES(GE_DECLARE)
#undef GE_DECLARE

struct fcase {
	const char *name;
	int (*run)(void);
};

static const struct fcase cases[] = {
#define GE_ENTRY(name) { #name, case_##name },
	GE_FORK_CASES(GE_ENTRY)
#undef GE_ENTRY
};

int main(void)
{
	int failed = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		printf("== %s\n", cases[i].name);
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			alarm(60);
			exit(cases[i].run());
		}
		int status;
		if (waitpid(pid, &status, 0) != pid) {
			perror("waitpid");
			return 1;
		}
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		printf("== %s: exit %d\n", cases[i].name, code);
		failed += code != 0;
	}
	printf("%d of %zu cases failed\n", failed, sizeof cases / sizeof cases[0]);
	return failed != 0;
}
