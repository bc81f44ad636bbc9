/*
 * ptytest.h -- a raw pseudo-terminal for the tests of bufferevents on
 * descriptors that are not sockets. The test defines _GNU_SOURCE before
 * any include (posix_openpt and cfmakeraw need it).
 */
#ifndef GE_TESTS_PTYTEST_H
#define GE_TESTS_PTYTEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <event2/util.h>

/* A pseudo-terminal in raw mode (bytes pass unchanged), both ends
 * non-blocking: returns the master, *slave gets the other end. */
static inline int open_raw_pty(int *slave)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
		perror("posix_openpt");
		exit(1);
	}
	*slave = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (*slave < 0) {
		perror("open pty slave");
		exit(1);
	}
	struct termios t;
	tcgetattr(*slave, &t);
	cfmakeraw(&t);
	tcsetattr(*slave, TCSANOW, &t);
	evutil_make_socket_nonblocking(m);
	evutil_make_socket_nonblocking(*slave);
	return m;
}

#endif
