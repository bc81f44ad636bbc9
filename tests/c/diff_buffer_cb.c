/*
 * diff_buffer_cb.c -- differential test of evbuffer change callbacks.
 *
 * Covers evbuffer_add_cb, evbuffer_remove_cb, evbuffer_remove_cb_entry,
 * evbuffer_cb_set_flags / evbuffer_cb_clear_flags (a disabled callback is not
 * called and misses the changes made meanwhile) and the obsolete
 * evbuffer_setcb (which replaces every callback, and NULL removes them all).
 * Each callback invocation is logged with orig_size, n_added, n_deleted and
 * the length seen inside the callback, and running sums are kept. Which
 * operations invoke callbacks, and how many times, is exercised for add,
 * prepend, drain, remove, add_buffer, prepend_buffer, remove_buffer (whole
 * and partial), readln (line and EOL are removed separately), add_iovec (one
 * call per vector), add_printf, add_vprintf, reserve/commit, add_reference,
 * add_buffer_reference, read, write, and for operations that fail or change
 * nothing (frozen buffer, zero lengths, pullup, expand, peek, copyout).
 * Callbacks that modify the buffer (recursion), remove themselves or add new
 * callbacks are exercised too. The order in which several callbacks of one
 * buffer run is undocumented, so each callback logs to its own record and
 * the records are printed in a fixed order after each step.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>

#include "trace.h"

struct rec {
	const char *name;
	char log[4096];
	size_t used;
	size_t calls, sum_add, sum_del;
	/* behaviour */
	int drain_on_add;	/* drain 1 byte when called with n_added > 0 */
	int remove_self;	/* remove own entry on the first call */
	int add_new;		/* add the "late" callback on the first call */
	struct evbuffer_cb_entry *ent;
};

static struct rec recs[6] = {
	{ "A", "", 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "B", "", 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "C", "", 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "self", "", 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "late", "", 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "old", "", 0, 0, 0, 0, 0, 0, 0, NULL },
};
static int late_armed;

static void logf_(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (r->used >= sizeof(r->log) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->log + r->used, sizeof(r->log) - r->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->used += (size_t)n;
	if (r->used > sizeof(r->log) - 1)
		r->used = sizeof(r->log) - 1;
}

static void rec_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct rec *r = arg;
	if (r == &recs[4] && !late_armed)
		return;
	r->calls++;
	r->sum_add += info->n_added;
	r->sum_del += info->n_deleted;
	logf_(r, " (%zu,+%zu,-%zu;%zu)", info->orig_size, info->n_added,
	    info->n_deleted, evbuffer_get_length(b));
	if (r->remove_self && r->calls == 1) {
		int x = evbuffer_remove_cb_entry(b, r->ent);
		logf_(r, "[removed %d]", x);
		r->ent = NULL;
	}
	if (r->add_new && r->calls == 1) {
		recs[4].ent = evbuffer_add_cb(b, rec_cb, &recs[4]);
		logf_(r, "[added late]");
	}
	if (r->drain_on_add && info->n_added > 0)
		evbuffer_drain(b, 1);
}

static void old_cb(struct evbuffer *b, size_t old_len, size_t new_len,
    void *arg)
{
	struct rec *r = &recs[5];
	r->calls++;
	logf_(r, " (%zu->%zu;%zu;%s)", old_len, new_len, evbuffer_get_length(b),
	    (const char *)arg);
	if (r->drain_on_add && new_len > old_len)
		evbuffer_drain(b, new_len > 3 ? 3 : new_len);
}

/* Prints what happened in a step: the step's name, its result, and each
 * callback's invocations since the last step. */
static void step(const char *what, long result)
{
	int i;
	printf("%s -> %ld\n", what, result);
	for (i = 0; i < 6; i++) {
		if (recs[i].used) {
			printf("  %s:%s\n", recs[i].name, recs[i].log);
			recs[i].used = 0;
			recs[i].log[0] = '\0';
		}
	}
}

static void sums(void)
{
	int i;
	for (i = 0; i < 6; i++)
		printf("  sum %s calls=%zu add=%zu del=%zu\n", recs[i].name,
		    recs[i].calls, recs[i].sum_add, recs[i].sum_del);
}

static void reset(void)
{
	int i;
	for (i = 0; i < 6; i++) {
		recs[i].used = 0;
		recs[i].log[0] = '\0';
		recs[i].calls = recs[i].sum_add = recs[i].sum_del = 0;
		recs[i].drain_on_add = recs[i].remove_self = recs[i].add_new = 0;
		recs[i].ent = NULL;
	}
	late_armed = 0;
}

static int vprintf_into(struct evbuffer *b, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

static unsigned char text[10000];

static void basic_ops(void)
{
	struct evbuffer *b = evbuffer_new(), *o = evbuffer_new();
	struct evbuffer_iovec v[3];
	struct evbuffer_ptr p;
	char out[64];
	char *line;
	size_t n;
	int r;

	printf("== which operations call back\n");
	reset();
	recs[0].ent = evbuffer_add_cb(b, rec_cb, &recs[0]);
	printf("add_cb non-null=%d\n", recs[0].ent != NULL);
	recs[1].ent = evbuffer_add_cb(o, rec_cb, &recs[1]);
	step("add 10", evbuffer_add(b, text, 10));
	step("add 0", evbuffer_add(b, text, 0));
	step("prepend 5", evbuffer_prepend(b, text, 5));
	step("prepend 0", evbuffer_prepend(b, text, 0));
	step("drain 3", evbuffer_drain(b, 3));
	step("drain 0", evbuffer_drain(b, 0));
	step("remove 2", evbuffer_remove(b, out, 2));
	step("remove 0", evbuffer_remove(b, out, 0));
	step("copyout 5", evbuffer_copyout(b, out, 5));
	step("pullup -1", evbuffer_pullup(b, -1) != NULL);
	step("expand 3000", evbuffer_expand(b, 3000));
	step("peek", evbuffer_peek(b, -1, NULL, NULL, 0));
	evbuffer_ptr_set(b, &p, 1, EVBUFFER_PTR_SET);
	step("search", (long)evbuffer_search(b, "x", 1, &p).pos);
	step("add_printf", evbuffer_add_printf(b, "[%d:%s:%c]", 42, "str", 'c'));
	step("add_vprintf", vprintf_into(b, "%05d|%x|%-4s|", 7, 255, "ab"));
	step("add_printf empty", evbuffer_add_printf(b, "%s", ""));
	v[0].iov_base = text; v[0].iov_len = 4;
	v[1].iov_base = text; v[1].iov_len = 0;
	v[2].iov_base = text + 100; v[2].iov_len = 6;
	step("add_iovec 3", (long)evbuffer_add_iovec(b, v, 3));
	step("add_iovec 0", (long)evbuffer_add_iovec(b, v, 0));
	r = evbuffer_reserve_space(b, 100, v, 2);
	printf("reserve -> %d\n", r);
	memcpy(v[0].iov_base, "RESERVED", 8);
	v[0].iov_len = 8;
	step("commit 8", evbuffer_commit_space(b, v, 1));
	r = evbuffer_reserve_space(b, 10, v, 1);
	v[0].iov_len = 0;
	step("commit 0 bytes", evbuffer_commit_space(b, v, 1));
	step("commit no vecs", evbuffer_commit_space(b, v, 0));
	step("add_reference 7", evbuffer_add_reference(b, "REF-7!!", 7, NULL, NULL));
	step("add_buffer b->o", evbuffer_add_buffer(o, b));
	step("add_buffer empty", evbuffer_add_buffer(o, b));
	evbuffer_add(b, "zz", 2);
	step("(add zz to b)", 0);
	step("prepend_buffer o<-b", evbuffer_prepend_buffer(o, b));
	step("remove_buffer o->b 5", evbuffer_remove_buffer(o, b, 5));
	step("remove_buffer o->b 0", evbuffer_remove_buffer(o, b, 0));
	step("remove_buffer o->b 9999", evbuffer_remove_buffer(o, b, 9999));
	step("add_buffer_reference o<=b", evbuffer_add_buffer_reference(o, b));
	evbuffer_drain(o, (size_t)-1);
	step("(drain o)", 0);
	evbuffer_drain(b, (size_t)-1);
	evbuffer_add(b, "line1\r\n\nline3\r", 14);
	step("(reload b)", 0);
	line = evbuffer_readln(b, &n, EVBUFFER_EOL_CRLF);
	step("readln crlf", (long)n);
	free(line);
	line = evbuffer_readln(b, &n, EVBUFFER_EOL_CRLF);
	step("readln empty line", (long)n);
	free(line);
	line = evbuffer_readln(b, &n, EVBUFFER_EOL_CRLF);
	step("readln none", line ? 1 : 0);
	free(line);
	line = evbuffer_readline(b);
	step("readline", line ? (long)strlen(line) : -1);
	free(line);
	step("add abc", evbuffer_add(b, "abc", 3));
	evbuffer_freeze(b, 0);
	step("frozen add", evbuffer_add(b, "x", 1));
	step("frozen add_printf", evbuffer_add_printf(b, "%d", 1));
	evbuffer_unfreeze(b, 0);
	evbuffer_freeze(b, 1);
	step("frozen drain", evbuffer_drain(b, 1));
	step("frozen remove", evbuffer_remove(b, out, 1));
	evbuffer_unfreeze(b, 1);
	step("drain all", evbuffer_drain(b, (size_t)-1));
	sums();
	evbuffer_free(b);
	step("free b", 0);
	evbuffer_free(o);
	step("free o", 0);
}

static void io_ops(void)
{
	struct evbuffer *b = evbuffer_new();
	int fds[2], r;

	printf("== read and write call back\n");
	reset();
	recs[0].ent = evbuffer_add_cb(b, rec_cb, &recs[0]);
	if (pipe(fds) < 0)
		return;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	if (write(fds[1], text, 5000) != 5000)
		printf("pipe write failed\n");
	step("read", evbuffer_read(b, fds[0], -1));
	step("read", evbuffer_read(b, fds[0], -1));
	r = evbuffer_read(b, fds[0], -1);
	step("read nothing", r);
	printf("errno %s\n", tr_errname(errno));
	step("write_atmost 1000", evbuffer_write_atmost(b, fds[1], 1000));
	step("write", evbuffer_write(b, fds[1]));
	step("write empty", evbuffer_write(b, fds[1]));
	close(fds[1]);
	{
		char sink[8192];
		while (read(fds[0], sink, sizeof(sink)) > 0)
			;
	}
	step("read eof", evbuffer_read(b, fds[0], -1));
	close(fds[0]);
	sums();
	evbuffer_free(b);
}

static void flags_and_removal(void)
{
	struct evbuffer *b = evbuffer_new();

	printf("== enable, disable, remove\n");
	reset();
	recs[0].ent = evbuffer_add_cb(b, rec_cb, &recs[0]);
	recs[1].ent = evbuffer_add_cb(b, rec_cb, &recs[1]);
	recs[2].ent = evbuffer_add_cb(b, rec_cb, &recs[2]);
	step("add 100", evbuffer_add(b, text, 100));
	step("clear_flags B", evbuffer_cb_clear_flags(b, recs[1].ent, EVBUFFER_CB_ENABLED));
	step("add 50", evbuffer_add(b, text, 50));
	step("drain 20", evbuffer_drain(b, 20));
	step("set_flags B", evbuffer_cb_set_flags(b, recs[1].ent, EVBUFFER_CB_ENABLED));
	step("add 1", evbuffer_add(b, text, 1));
	step("clear_flags B 0", evbuffer_cb_clear_flags(b, recs[1].ent, 0));
	step("add 2", evbuffer_add(b, text, 2));
	step("set_flags B internal bits", evbuffer_cb_set_flags(b, recs[1].ent, 0xffff0000u));
	step("add 3", evbuffer_add(b, text, 3));
	step("set_flags B again", evbuffer_cb_set_flags(b, recs[1].ent, EVBUFFER_CB_ENABLED));
	step("add 4", evbuffer_add(b, text, 4));
	step("clear_flags A,C", evbuffer_cb_clear_flags(b, recs[0].ent, EVBUFFER_CB_ENABLED) +
	    evbuffer_cb_clear_flags(b, recs[2].ent, EVBUFFER_CB_ENABLED));
	step("prepend 9", evbuffer_prepend(b, text, 9));
	step("set_flags A", evbuffer_cb_set_flags(b, recs[0].ent, EVBUFFER_CB_ENABLED));
	step("drain 9", evbuffer_drain(b, 9));
	step("remove_cb A", evbuffer_remove_cb(b, rec_cb, &recs[0]));
	step("remove_cb A again", evbuffer_remove_cb(b, rec_cb, &recs[0]));
	step("remove_cb wrong arg", evbuffer_remove_cb(b, rec_cb, &recs[3]));
	step("add 5", evbuffer_add(b, text, 5));
	step("remove_cb_entry C (disabled)", evbuffer_remove_cb_entry(b, recs[2].ent));
	step("add 6", evbuffer_add(b, text, 6));
	step("remove_cb B", evbuffer_remove_cb(b, rec_cb, &recs[1]));
	step("add 7", evbuffer_add(b, text, 7));
	recs[0].ent = evbuffer_add_cb(b, rec_cb, &recs[0]);
	step("re-add A; drain 10", evbuffer_drain(b, 10));
	sums();
	evbuffer_free(b);
}

static void reentrant(void)
{
	struct evbuffer *b = evbuffer_new();

	printf("== callbacks that change things\n");
	reset();
	/* A callback that drains one byte whenever data is added. */
	recs[3].drain_on_add = 1;
	recs[3].ent = evbuffer_add_cb(b, rec_cb, &recs[3]);
	step("add 10 (self drains)", evbuffer_add(b, text, 10));
	step("add 1 (self drains)", evbuffer_add(b, text, 1));
	step("drain 3", evbuffer_drain(b, 3));
	step("remove self cb", evbuffer_remove_cb_entry(b, recs[3].ent));
	step("add 2", evbuffer_add(b, text, 2));

	/* A callback that removes itself on its first call. */
	recs[0].remove_self = 1;
	recs[0].ent = evbuffer_add_cb(b, rec_cb, &recs[0]);
	step("add 3 (A removes itself)", evbuffer_add(b, text, 3));
	step("add 4", evbuffer_add(b, text, 4));

	/* A callback that adds another one on its first call. */
	recs[1].add_new = 1;
	recs[1].ent = evbuffer_add_cb(b, rec_cb, &recs[1]);
	step("add 5 (B adds late)", evbuffer_add(b, text, 5));
	late_armed = 1;
	step("add 6", evbuffer_add(b, text, 6));
	step("drain 7", evbuffer_drain(b, 7));
	sums();
	evbuffer_free(b);
}

static void obsolete(void)
{
	struct evbuffer *b = evbuffer_new();
	int r;

	printf("== evbuffer_setcb\n");
	reset();
	recs[0].ent = evbuffer_add_cb(b, rec_cb, &recs[0]);
	recs[1].ent = evbuffer_add_cb(b, rec_cb, &recs[1]);
	step("add 10", evbuffer_add(b, text, 10));
	step("setcb old", evbuffer_setcb(b, old_cb, "arg1"));
	step("add 20", evbuffer_add(b, text, 20));
	step("drain 5", evbuffer_drain(b, 5));
	r = evbuffer_remove_cb(b, rec_cb, &recs[0]);
	step("remove_cb A (gone)", r);
	step("setcb old arg2", evbuffer_setcb(b, old_cb, "arg2"));
	step("prepend 3", evbuffer_prepend(b, text, 3));
	recs[0].ent = evbuffer_add_cb(b, rec_cb, &recs[0]);
	step("add_cb A; add 1", evbuffer_add(b, text, 1));
	/* Alone, so that what it does is not seen by others in an
	 * undocumented order. */
	step("remove_cb A", evbuffer_remove_cb(b, rec_cb, &recs[0]));
	recs[5].drain_on_add = 1;
	step("add 8 (old drains 3)", evbuffer_add(b, text, 8));
	recs[5].drain_on_add = 0;
	step("setcb NULL", evbuffer_setcb(b, NULL, NULL));
	step("add 1", evbuffer_add(b, text, 1));
	step("setcb NULL again", evbuffer_setcb(b, NULL, NULL));
	step("remove_cb A (gone)", evbuffer_remove_cb(b, rec_cb, &recs[0]));
	printf("len %zu\n", evbuffer_get_length(b));
	sums();
	evbuffer_free(b);
}

/* A long random sequence; the sums must account for every byte. */
static void accounting(void)
{
	struct evbuffer *b = evbuffer_new(), *o = evbuffer_new();
	struct tr_rng rng = { 7 };
	int i;
	char out[512];

	printf("== accounting\n");
	reset();
	recs[0].ent = evbuffer_add_cb(b, rec_cb, &recs[0]);
	recs[1].ent = evbuffer_add_cb(o, rec_cb, &recs[1]);
	for (i = 0; i < 400; i++) {
		size_t k = tr_below(&rng, 300);
		switch (tr_below(&rng, 8)) {
		case 0: evbuffer_add(b, text, k); break;
		case 1: evbuffer_prepend(b, text, k); break;
		case 2: evbuffer_drain(b, k); break;
		case 3: evbuffer_remove(b, out, k); break;
		case 4: evbuffer_remove_buffer(b, o, k); break;
		case 5: evbuffer_remove_buffer(o, b, k); break;
		case 6: evbuffer_add_buffer(b, o); break;
		default: evbuffer_add_reference(b, text + k, k, NULL, NULL); break;
		}
		/* Print every invocation for a prefix of the run. */
		if (i < 40) {
			char what[32];
			snprintf(what, sizeof(what), "op %d", i);
			step(what, (long)evbuffer_get_length(b));
		} else {
			recs[0].used = recs[1].used = 0;
		}
	}
	printf("b len=%zu o len=%zu\n", evbuffer_get_length(b),
	    evbuffer_get_length(o));
	sums();
	printf("b balance %s, o balance %s\n",
	    recs[0].sum_add - recs[0].sum_del == evbuffer_get_length(b) ? "ok" : "BAD",
	    recs[1].sum_add - recs[1].sum_del == evbuffer_get_length(o) ? "ok" : "BAD");
	evbuffer_free(b);
	evbuffer_free(o);
}

int main(void)
{
	size_t i;
	tr_init();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(text); i++)
		text[i] = (unsigned char)('a' + i % 26);
	basic_ops();
	io_ops();
	flags_and_removal();
	reentrant();
	obsolete();
	accounting();
	return 0;
}
