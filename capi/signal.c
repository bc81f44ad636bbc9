/*
 * signal.c: the process signal handler, libevent's design: a handler that
 * writes the signal number to a pipe the loop watches, so that signal
 * callbacks run from the loop and never inside the handler. The engine
 * owns each base's pipe and signal events; it installs and restores the
 * handler through these functions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "loop.h"

struct ge_evsig_state ge_evsig_state; /* internal.h */

/* The fd the handler writes caught signal numbers to: the signal pipe of
 * the base that most recently added a signal or started its loop. */
static volatile int ge_sig_fd = -1;

static void ge_sig_handler(int sig)
{
	int saved = errno;
	int fd = ge_sig_fd;
	if (fd >= 0) {
		unsigned char msg = (unsigned char)sig;
		if (write(fd, &msg, 1) < 0) {
			/* pipe full: the loop is already due to wake up */
		}
	}
	errno = saved;
}

void ge_sig_set_target(int fd)
{
	ge_sig_fd = fd;
}

/* Installs the handler for sig and returns the previous disposition in
 * *saved (memory ge_sig_restore releases). SA_ONSTACK because the signal
 * may land on a Go thread, whose stack is too small for a handler. */
int ge_sig_install(int sig, uintptr_t *saved)
{
	struct sigaction sa, *old = ge_malloc(sizeof(*old));
	if (!old)
		return ENOMEM;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ge_sig_handler;
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	if (sigaction(sig, &sa, old) == -1) {
		int e = errno;
		ge_free(old);
		return e;
	}
	*saved = (uintptr_t)old;
	return 0;
}

int ge_sig_restore(int sig, uintptr_t saved)
{
	struct sigaction *old = (struct sigaction *)saved;
	int r = 0;
	if (old && sigaction(sig, old, NULL) == -1)
		r = errno;
	ge_free(old);
	return r;
}

/* Lets go of what ge_sig_install saved, restoring nothing. */
void ge_sig_discard(uintptr_t saved)
{
	ge_free((void *)saved);
}
