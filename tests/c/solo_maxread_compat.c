/*
 * solo_maxread_compat.c -- code written for libevent 2.1.12 that has
 * functions of its own named like libevent 2.2's evbuffer_set_max_read and
 * evbuffer_get_max_read (a compatibility shim, say) compiles unchanged
 * against goevent's headers: they declare those two only under
 * GOEVENT_EXTENSIONS. That this file builds with -Wall -Wextra is most of
 * the test; running it checks that the program's own functions are the
 * ones called. Prints "N passed, M failed"; exit status 0 only if all
 * passed.
 */
#include <stdio.h>

#include <event2/buffer.h>

static int shim_calls;

/* Signatures unlike 2.2's, as a shim's might be. */
static int evbuffer_set_max_read(struct evbuffer *buf, int max)
{
	(void)buf;
	(void)max;
	return ++shim_calls;
}

static long evbuffer_get_max_read(const struct evbuffer *buf)
{
	(void)buf;
	return ++shim_calls;
}

int main(void)
{
	struct evbuffer *b = evbuffer_new();
	int ok = b != NULL && evbuffer_set_max_read(b, 1) == 1 && evbuffer_get_max_read(b) == 2;
	evbuffer_free(b);
	printf("%d passed, %d failed\n", ok, !ok);
	return ok ? 0 : 1;
}
