/*
 * bench_process.c: what a process pays for the library, from exec to exit.
 *
 * Each case starts this program again (fork and exec of /proc/self/exe)
 * with a child role and times the whole run, start to exit, per process:
 *
 *   process_start_exit_one_base  the child creates one event base and frees
 *                                it: the dynamic loading of the library and,
 *                                under goevent, the engine's load and its
 *                                Go runtime's start.
 *   process_start_exit_no_call   the child only asks for the version (plain
 *                                C): loading the library and nothing else,
 *                                so under goevent no engine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "bench.h"

static int child(const char *role)
{
	if (strcmp(role, "one_base") == 0) {
		struct event_base *base = event_base_new();
		if (!base)
			return 3;
		event_base_free(base);
		return 0;
	}
	if (strcmp(role, "no_call") == 0)
		return strcmp(event_get_version(), "2.1.12-stable") == 0 ? 0 : 4;
	return 2;
}

static double spawn(long n, const char *role)
{
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		BENCH_CHECK(pid >= 0, "fork: %s", strerror(errno));
		if (pid == 0) {
			execl("/proc/self/exe", "bench_process", "--child", role, (char *)NULL);
			_exit(127);
		}
		int status;
		BENCH_CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
		BENCH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %s ended with status %#x", role, status);
	}
	return bench_ns_per_op(bench_now_ns() - t0, (uint64_t)n);
}

static double case_one_base(long n)
{
	return spawn(n, "one_base");
}

static double case_no_call(long n)
{
	return spawn(n, "no_call");
}

static const struct bench_case cases[] = {
	{ "process_start_exit_one_base", "ns/op", case_one_base, 30 },
	{ "process_start_exit_no_call", "ns/op", case_no_call, 30 },
};

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child(argv[2]);
	return bench_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
