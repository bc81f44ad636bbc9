/*
 * solo_buffer_badargs.c -- goevent's evbuffer functions given bad arguments.
 *
 * libevent crashes on most of these (NULL buffers, NULL data with a nonzero
 * length, NULL vectors, NULL callback entries, ...), so this test runs
 * against goevent alone: every public evbuffer_* function of buffer.h and
 * buffer_compat.h is called with each argument that libevent would
 * dereference unchecked, and must return its error value instead of
 * crashing: -1 for int and ev_ssize_t results, NULL for pointers, 0 for
 * size_t results, a position of -1 for evbuffer_ptr results; void functions
 * must simply return. A valid buffer used next to the bad arguments must be
 * left unchanged. Uses the public API only. Prints each failed check and a
 * closing "N passed, M failed" line; the exit status is 0 only if all
 * passed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <event2/event.h>

static int passed, failed;

static void check(int ok, const char *what, int line)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		printf("FAIL line %d: %s\n", line, what);
	}
}

#define CHECK(cond) check((cond), #cond, __LINE__)
#define CHECK_INT(expr, want) check((long)(expr) == (long)(want), #expr, __LINE__)
#define CHECK_NULL(expr) check((expr) == NULL, #expr " == NULL", __LINE__)
#define CHECK_POS(expr) check((expr).pos == -1, #expr ".pos == -1", __LINE__)
/* A void call: reaching the next line is the check. */
#define CHECK_VOID(stmt) do { stmt; check(1, #stmt, __LINE__); } while (0)

/* Without a format attribute, so a NULL format draws no compiler warning. */
static int vprintf_into(struct evbuffer *b, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void cb(struct evbuffer *b, const struct evbuffer_cb_info *i, void *a)
{
	(void)b;
	(void)i;
	(void)a;
}

static void old_cb(struct evbuffer *b, size_t o, size_t n, void *a)
{
	(void)b;
	(void)o;
	(void)n;
	(void)a;
}

static void ref_cleanup(const void *d, size_t n, void *a)
{
	(void)d;
	(void)n;
	(void)a;
}

static void seg_cleanup(struct evbuffer_file_segment const *s, int f, void *a)
{
	(void)s;
	(void)f;
	(void)a;
}

int main(void)
{
	struct evbuffer *b = evbuffer_new(), *o = evbuffer_new();
	struct evbuffer_iovec v[2];
	struct evbuffer_ptr p;
	struct event_base *base = event_base_new();
	char out[16];
	size_t n = 0;
	unsigned char *u;

	if (!b || !o) {
		printf("evbuffer_new failed\n");
		return 1;
	}
	evbuffer_add(b, "keep me\n", 8);
	evbuffer_ptr_set(b, &p, 2, EVBUFFER_PTR_SET);
	v[0].iov_base = out;
	v[0].iov_len = 4;

	/* A NULL buffer. */
	CHECK_VOID(evbuffer_free(NULL));
	CHECK_INT(evbuffer_enable_locking(NULL, NULL), -1);
	CHECK_VOID(evbuffer_lock(NULL));
	CHECK_VOID(evbuffer_unlock(NULL));
	CHECK_INT(evbuffer_set_flags(NULL, EVBUFFER_FLAG_DRAINS_TO_FD), -1);
	CHECK_INT(evbuffer_clear_flags(NULL, EVBUFFER_FLAG_DRAINS_TO_FD), -1);
	CHECK_INT(evbuffer_get_length(NULL), 0);
	CHECK_INT(evbuffer_get_contiguous_space(NULL), 0);
	CHECK_INT(evbuffer_expand(NULL, 10), -1);
	CHECK_INT(evbuffer_reserve_space(NULL, 10, v, 1), -1);
	CHECK_INT(evbuffer_commit_space(NULL, v, 1), -1);
	CHECK_INT(evbuffer_add(NULL, "x", 1), -1);
	CHECK_INT(evbuffer_remove(NULL, out, 1), -1);
	CHECK_INT(evbuffer_copyout(NULL, out, 1), -1);
	CHECK_INT(evbuffer_copyout_from(NULL, &p, out, 1), -1);
	CHECK_INT(evbuffer_remove_buffer(NULL, o, 1), -1);
	CHECK_INT(evbuffer_remove_buffer(b, NULL, 1), -1);
	CHECK_NULL(evbuffer_readln(NULL, &n, EVBUFFER_EOL_ANY));
	CHECK_INT(evbuffer_add_buffer(NULL, b), -1);
	CHECK_INT(evbuffer_add_buffer(o, NULL), -1);
	CHECK_INT(evbuffer_add_buffer_reference(NULL, b), -1);
	CHECK_INT(evbuffer_add_buffer_reference(o, NULL), -1);
	CHECK_INT(evbuffer_add_reference(NULL, "x", 1, ref_cleanup, NULL), -1);
	CHECK_INT(evbuffer_add_file(NULL, -1, 0, 1), -1);
	CHECK_INT(evbuffer_add_printf(NULL, "%d", 1), -1);
	CHECK_INT(vprintf_into(NULL, "%d", 1), -1);
	CHECK_INT(evbuffer_drain(NULL, 1), -1);
	CHECK_INT(evbuffer_write(NULL, -1), -1);
	CHECK_INT(evbuffer_write_atmost(NULL, -1, 1), -1);
	CHECK_INT(evbuffer_read(NULL, -1, 1), -1);
	CHECK_POS(evbuffer_search(NULL, "x", 1, NULL));
	CHECK_POS(evbuffer_search_range(NULL, "x", 1, NULL, NULL));
	CHECK_INT(evbuffer_ptr_set(NULL, &p, 0, EVBUFFER_PTR_SET), -1);
	CHECK_POS(evbuffer_search_eol(NULL, NULL, &n, EVBUFFER_EOL_ANY));
	CHECK_INT(evbuffer_peek(NULL, -1, NULL, v, 2), -1);
	CHECK_NULL(evbuffer_add_cb(NULL, cb, NULL));
	CHECK_INT(evbuffer_remove_cb(NULL, cb, NULL), -1);
	CHECK_NULL(evbuffer_pullup(NULL, -1));
	CHECK_INT(evbuffer_prepend(NULL, "x", 1), -1);
	CHECK_INT(evbuffer_prepend_buffer(NULL, b), -1);
	CHECK_INT(evbuffer_prepend_buffer(o, NULL), -1);
	CHECK_INT(evbuffer_freeze(NULL, 1), -1);
	CHECK_INT(evbuffer_unfreeze(NULL, 0), -1);
	CHECK_INT(evbuffer_defer_callbacks(NULL, base), -1);
	CHECK_INT(evbuffer_add_iovec(NULL, v, 1), 0);
	CHECK_NULL(evbuffer_readline(NULL));
	CHECK_INT(evbuffer_setcb(NULL, old_cb, NULL), -1);
	CHECK_NULL(evbuffer_find(NULL, (const unsigned char *)"x", 1));

	/* NULL data, vectors, pointers and entries next to a good buffer. */
	CHECK_INT(evbuffer_add(b, NULL, 4), -1);
	CHECK_INT(evbuffer_prepend(b, NULL, 4), -1);
	CHECK_INT(evbuffer_remove(b, NULL, 4), -1);
	CHECK_INT(evbuffer_copyout(b, NULL, 4), -1);
	CHECK_INT(evbuffer_copyout_from(b, &p, NULL, 4), -1);
	CHECK_INT(evbuffer_reserve_space(b, 10, NULL, 1), -1);
	CHECK_INT(evbuffer_commit_space(b, NULL, 1), -1);
	CHECK_INT(evbuffer_add_iovec(b, NULL, 2), 0);
	CHECK_INT(evbuffer_peek(b, -1, NULL, NULL, 3), -1);
	CHECK_INT(evbuffer_ptr_set(b, NULL, 0, EVBUFFER_PTR_SET), -1);
	CHECK_POS(evbuffer_search(b, NULL, 3, NULL));
	CHECK_POS(evbuffer_search_range(b, NULL, 3, NULL, NULL));
	CHECK_INT(vprintf_into(b, NULL), -1);
	CHECK_INT(evbuffer_remove_cb_entry(b, NULL), -1);
	CHECK_INT(evbuffer_cb_set_flags(b, NULL, EVBUFFER_CB_ENABLED), -1);
	CHECK_INT(evbuffer_cb_clear_flags(b, NULL, EVBUFFER_CB_ENABLED), -1);
	CHECK_INT(evbuffer_defer_callbacks(b, NULL), -1);
	CHECK_INT(evbuffer_add_file_segment(b, NULL, 0, 1), -1);
	CHECK_NULL(evbuffer_find(b, NULL, 3));
	CHECK_VOID(evbuffer_file_segment_free(NULL));
	CHECK_VOID(evbuffer_file_segment_add_cleanup_cb(NULL, seg_cleanup, NULL));
	CHECK_INT(evbuffer_add_file(b, -1, 0, -1), -1);
	CHECK_NULL(evbuffer_file_segment_new(-1, 0, -1, 0));
	{
		/* An entry of one buffer removed through NULL. */
		struct evbuffer_cb_entry *e = evbuffer_add_cb(b, cb, NULL);
		CHECK(e != NULL);
		CHECK_INT(evbuffer_remove_cb_entry(NULL, e), -1);
		CHECK_INT(evbuffer_cb_set_flags(NULL, e, EVBUFFER_CB_ENABLED), -1);
		CHECK_INT(evbuffer_cb_clear_flags(NULL, e, EVBUFFER_CB_ENABLED), -1);
		CHECK_INT(evbuffer_remove_cb_entry(b, e), 0);
	}
	{
		/* A segment added to a NULL buffer. */
		struct evbuffer_file_segment *seg = evbuffer_file_segment_new(0, 0, 0,
		    EVBUF_FS_DISABLE_MMAP | EVBUF_FS_DISABLE_SENDFILE);
		if (seg) {
			CHECK_INT(evbuffer_add_file_segment(NULL, seg, 0, 0), -1);
		}
	}

	/* The good buffer went through all of that unchanged. */
	CHECK_INT(evbuffer_get_length(b), 8);
	u = evbuffer_pullup(b, -1);
	CHECK(u != NULL && memcmp(u, "keep me\n", 8) == 0);
	CHECK_INT(evbuffer_get_length(o), 0);
	{
		char *line = evbuffer_readln(b, &n, EVBUFFER_EOL_LF);
		CHECK(line != NULL && n == 7 && strcmp(line, "keep me") == 0);
		free(line);
	}

	evbuffer_free(b);
	evbuffer_free(o);
	if (base)
		event_base_free(base);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
