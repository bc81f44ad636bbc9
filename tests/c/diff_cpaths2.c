/*
 * diff_cpaths2: more of the paths goevent runs in C (the socket handlers,
 * the output watchers as idle hooks, the pair transfer, a filter's read
 * step, deferred bufferevent callbacks, the loop's event_add/del/active
 * fast paths), each set next to what libevent 2.1.12 does.
 *
 *  1. evbuffer_defer_callbacks on a bufferevent's output: the socket's,
 *     the pair's and the filter's output watchers are deferred with
 *     everything else on that buffer (only the read watermark watcher is
 *     NODEFER).
 *  2. A freeze the program lifted from a bufferevent's buffer is put back
 *     by the next read, write or pair transfer (which unfreeze and freeze
 *     around their I/O), on the C paths and on the Go paths (forced by a
 *     read high watermark or a buffer callback) alike.
 *  3. bufferevent_setfd and bufferevent_socket_connect lift both freezes
 *     (input end, output start) until the next read or write.
 *  4. Pair transfers made by the output's idle hook: reading off and
 *     enabled later, a read low watermark, read and write timeouts re-armed
 *     on the partner, evbuffer_add_buffer and evbuffer_remove_buffer (whole
 *     and partial) into an end's output, writing disabled, an empty write,
 *     user callbacks on either buffer (the counts they see), the partner's
 *     input frozen at its start, a write low watermark, the partner freed.
 *  5. A socket bufferevent's output watcher as the idle hook:
 *     bufferevent_write_buffer, evbuffer_remove_buffer into the output
 *     (whole and partial), writing disabled then enabled, a write timeout,
 *     an empty write, a user callback on the output (enabled, disabled,
 *     enabled again: the counts it sees), echoing the input into the output.
 *  6. A filter over a pair with a C input filter (the filter's read step in
 *     C): plain, BEV_NEED_MORE, a filter that moves one byte per call while
 *     the read callback disables reading, BEV_ERROR, a read low watermark,
 *     a read timeout re-armed by data; with and without
 *     BEV_OPT_DEFER_CALLBACKS; and the null input filter.
 *  7. More than 32 deferred callbacks queued in one pass (the rest wait for
 *     the next iteration), from inside a callback and from outside the loop.
 *  8. event_add of an fd event on a closed fd (epoll refuses: -1, EBADF,
 *     a warning), with and without a timeout; event_del whose epoll MOD
 *     fails; event_add with a timeout of an I/O event that is active but
 *     not added (only the timer is added); the counters after each step.
 *  9. A socket bufferevent's output holding references (the C write
 *     handler sends them, Go drains the chains and runs their cleanups) cut
 *     by max_single_write, and a file (its sendfile chain sends the write
 *     to Go), with a write low watermark above the data.
 * 10. (last: evthread_use_pthreads is process-wide) A BEV_OPT_THREADSAFE
 *     socket bufferevent, plain, deferred, and deferred with unlocked
 *     callbacks: the read callback sets a read high watermark, drains, and
 *     finally frees the bufferevent.
 *
 * Only lengths, flags, return values, errno names and callback traces are
 * printed; everything runs on socketpairs and pairs with short loops.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "trace.h"
#include "bevtest.h"

/* ---- helpers ------------------------------------------------------------ */

/* What the peer fd holds now (it is non-blocking). */
static void peer_got(int fd)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		printf("  peer: read -> -1 %s\n", tr_errname(errno));
		return;
	}
	printf("  peer: read -> %zd ", n);
	tr_esc(buf, (size_t)n);
	putchar('\n');
}

static void named_rcb(struct bufferevent *bev, void *arg)
{
	printf("  %s: read cb, input %zu\n", (const char *)arg, in_len(bev));
}

static void named_wcb(struct bufferevent *bev, void *arg)
{
	printf("  %s: write cb, output %zu\n", (const char *)arg, out_len(bev));
}

static void named_ecb(struct bufferevent *bev, short what, void *arg)
{
	printf("  %s: event 0x%02x enabled 0x%x\n", (const char *)arg, what,
	    bufferevent_get_enabled(bev));
}

static void info_cb(struct evbuffer *b, const struct evbuffer_cb_info *i, void *arg)
{
	printf("    cb %s: orig %zu added %zu deleted %zu (len %zu)\n",
	    (const char *)arg, i->orig_size, i->n_added, i->n_deleted,
	    evbuffer_get_length(b));
}

/* Whether the event is pending on anything, as a flag word. */
static int pend(const struct event *ev)
{
	return event_pending(ev, EV_TIMEOUT | EV_READ | EV_WRITE, NULL);
}

/* Case 2 and 3: whether the program may add to the input's end and drain
 * the output's front right now (a bufferevent freezes both). */
static void freeze_probe(const char *label, struct bufferevent *bev)
{
	int a = evbuffer_add(bufferevent_get_input(bev), "i", 1);
	int d = evbuffer_drain(bufferevent_get_output(bev), 1);
	size_t in = in_len(bev), out = out_len(bev);
	printf("  %s: add to input -> %d, drain 1 of output -> %d (input %zu, output %zu)\n",
	    label, a, d, in, out);
}

/* ---- 1. deferred callbacks on a bufferevent's output -------------------- */

/*
 * libevent sets NODEFER only on the read watermark callback
 * (bufferevent_setwatermark); the socket's, the pair's and the filter's
 * output callbacks are plain callbacks, deferred like any other once the
 * program calls evbuffer_defer_callbacks: before the loop runs, the write
 * event is not pending, the partner's input is empty, the filter's output
 * still holds the data.
 */
static void case_deferred_output_cbs(void)
{
	int fds[2];
	struct event_base *base = event_base_new();
	printf("1. evbuffer_defer_callbacks on a bufferevent's output\n");

	make_pair(fds);
	struct bufferevent *s = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	evbuffer_defer_callbacks(bufferevent_get_output(s), base);
	bufferevent_write(s, "abc", 3);
	printf("  socket: ev_write pending 0x%x right after the write\n",
	    event_pending(&s->ev_write, EV_WRITE, NULL));
	spin(base, 20);
	peer_got(fds[1]);
	bufferevent_free(s);
	close(fds[1]);

	struct bufferevent *p[2];
	bufferevent_pair_new(base, 0, p);
	bufferevent_enable(p[1], EV_READ);
	evbuffer_defer_callbacks(bufferevent_get_output(p[0]), base);
	bufferevent_write(p[0], "hello", 5);
	printf("  pair: partner input %zu right after the write\n", in_len(p[1]));
	spin(base, 20);
	printf("  pair: partner input %zu after a loop\n", in_len(p[1]));
	bufferevent_free(p[0]);
	bufferevent_free(p[1]);

	struct bufferevent *q[2];
	bufferevent_pair_new(base, 0, q);
	struct bufferevent *f = bufferevent_filter_new(q[0], NULL, NULL,
	    BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	evbuffer_defer_callbacks(bufferevent_get_output(f), base);
	bufferevent_write(f, "xyz", 3);
	printf("  filter: output %zu, underlying output %zu right after the write\n",
	    out_len(f), out_len(q[0]));
	spin(base, 20);
	printf("  filter: output %zu, underlying output %zu after a loop\n",
	    out_len(f), out_len(q[0]));
	bufferevent_free(f);
	bufferevent_free(q[1]);
	spin(base, 10);
	event_base_free(base);
}

/* ---- 2. freezes the program lifted --------------------------------------- */

/*
 * libevent's read and write handlers and pair transfer unfreeze the buffer
 * before their I/O and freeze it after, so once the program lifted a
 * freeze, the next read/write/transfer puts it back (add and drain then
 * fail with -1). goevent's C paths leave such a buffer to the Go paths,
 * which do the same; the "Go path" lines force those directly.
 */
static void case_lifted_freezes(void)
{
	struct event_base *base = event_base_new();
	printf("2. freezes the program lifted from a bufferevent's buffers\n");
	for (int go = 0; go < 2; go++) {
		int fds[2];
		make_pair(fds);
		printf("  -- socket, %s\n", go ? "Go path" : "C path");
		struct bufferevent *s = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
		struct evbuffer_cb_entry *ce = NULL;
		if (go) {
			bufferevent_setwatermark(s, EV_READ, 0, 1000);
			ce = evbuffer_add_cb(bufferevent_get_output(s), info_cb, "out");
		}
		bufferevent_enable(s, EV_READ);
		evbuffer_unfreeze(bufferevent_get_input(s), 0);
		evbuffer_unfreeze(bufferevent_get_output(s), 1);
		freeze_probe("lifted", s);
		put(fds[1], "data", 4);
		bufferevent_write(s, "0123456789", 10);
		spin(base, 20);
		peer_got(fds[1]);
		bufferevent_disable(s, EV_WRITE);
		bufferevent_write(s, "kept", 4);
		freeze_probe("after a read and a write", s);
		if (ce)
			evbuffer_remove_cb_entry(bufferevent_get_output(s), ce);
		bufferevent_free(s);
		close(fds[1]);

		printf("  -- pair, %s\n", go ? "Go path" : "C path");
		struct bufferevent *p[2];
		bufferevent_pair_new(base, 0, p);
		bufferevent_enable(p[1], EV_READ);
		if (go)
			bufferevent_setwatermark(p[1], EV_READ, 0, 100);
		evbuffer_unfreeze(bufferevent_get_input(p[1]), 0);
		evbuffer_unfreeze(bufferevent_get_output(p[0]), 1);
		bufferevent_write(p[0], "xfer", 4);
		int a = evbuffer_add(bufferevent_get_input(p[1]), "w", 1);
		printf("  after the transfer: add to the partner's input -> %d (input %zu)\n",
		    a, in_len(p[1]));
		bufferevent_disable(p[0], EV_WRITE);
		bufferevent_write(p[0], "kept", 4);
		int d = evbuffer_drain(bufferevent_get_output(p[0]), 1);
		printf("  drain 1 of the writer's output -> %d (output %zu)\n", d, out_len(p[0]));
		bufferevent_free(p[0]);
		bufferevent_free(p[1]);
	}
	spin(base, 10);
	event_base_free(base);
}

/* ---- 3. setfd and connect lift the freezes in libevent ------------------ */

/*
 * libevent's bufferevent_setfd (and bufferevent_socket_connect, which calls
 * it) unfreezes the input's end and the output's start; both stay unfrozen
 * until the next read (input) or write (output).
 */
static void case_setfd_freezes(void)
{
	int fds[2];
	struct event_base *base = event_base_new();
	printf("3. bufferevent_setfd and bufferevent_socket_connect\n");
	make_pair(fds);
	struct bufferevent *s = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_disable(s, EV_WRITE);
	bufferevent_write(s, "xyz", 3);
	freeze_probe("new, fd -1", s);
	bufferevent_setfd(s, fds[0]);
	freeze_probe("after setfd", s);
	bufferevent_enable(s, EV_READ | EV_WRITE);
	put(fds[1], "r", 1);
	spin(base, 20);
	freeze_probe("after a read and a write", s);
	peer_got(fds[1]);
	bufferevent_free(s);
	close(fds[1]);

	/* A listener in the abstract namespace: nothing on the disk. */
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "ge-diff-cpaths2-%ld", (long)getpid());
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sa.sun_path + 1));
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, salen) != 0 || listen(l, 4) != 0) {
		printf("  listener setup failed\n");
		exit(1);
	}
	s = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s, NULL, NULL, named_ecb, "connect");
	printf("  connect -> %d\n", bufferevent_socket_connect(s, (struct sockaddr *)&sa, (int)salen));
	freeze_probe("after connect", s);
	spin(base, 20);
	freeze_probe("after the loop", s);
	bufferevent_free(s);
	close(l);
	spin(base, 10);
	event_base_free(base);
}

/* ---- 4. pair transfers by the idle hook ---------------------------------- */

static void pair_state(const char *label, struct bufferevent *p[2])
{
	printf("  %s: p0 in %zu out %zu, p1 in %zu out %zu; p1 ev_read 0x%x ev_write 0x%x\n",
	    label, in_len(p[0]), out_len(p[0]), in_len(p[1]), out_len(p[1]),
	    pend(&p[1]->ev_read), pend(&p[1]->ev_write));
}

static void case_pair_hook(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *p[2];
	struct timeval t5 = {5, 0};
	printf("4. pair transfers made by the output's idle hook\n");
	bufferevent_pair_new(base, 0, p);
	bufferevent_setcb(p[0], named_rcb, named_wcb, named_ecb, "p0");
	bufferevent_setcb(p[1], named_rcb, named_wcb, named_ecb, "p1");

	bufferevent_write(p[0], "abc", 3);
	pair_state("p1 not reading", p);
	bufferevent_enable(p[1], EV_READ);
	pair_state("p1 reading", p);
	spin(base, 10);

	bufferevent_setwatermark(p[1], EV_READ, 5, 0);
	bufferevent_write(p[0], "de", 2);
	pair_state("low mark 5, at 5", p);
	spin(base, 10);
	evbuffer_drain(bufferevent_get_input(p[1]), 5);
	bufferevent_write(p[0], "fgh", 3);
	pair_state("below the low mark", p);
	spin(base, 10);
	bufferevent_write(p[0], "ij", 2);
	pair_state("low mark reached", p);
	spin(base, 10);
	evbuffer_drain(bufferevent_get_input(p[1]), in_len(p[1]));
	bufferevent_setwatermark(p[1], EV_READ, 0, 0);

	bufferevent_set_timeouts(p[1], &t5, &t5);
	pair_state("p1 timeouts set", p);
	bufferevent_write(p[0], "k", 1);
	pair_state("one byte over", p);
	bufferevent_write(p[1], "back", 4);
	pair_state("p1 wrote back (p0 not reading)", p);
	bufferevent_write(p[0], "l", 1);
	pair_state("one more byte over", p);
	spin(base, 10);
	pair_state("after a loop", p);
	bufferevent_set_timeouts(p[1], NULL, NULL);
	evbuffer_drain(bufferevent_get_input(p[1]), in_len(p[1]));

	struct evbuffer *t = evbuffer_new();
	evbuffer_add(t, "moved", 5);
	printf("  add_buffer into p0's output -> %d\n",
	    evbuffer_add_buffer(bufferevent_get_output(p[0]), t));
	pair_state("after add_buffer", p);
	evbuffer_add(t, "removed", 7);
	printf("  remove_buffer (all) into p0's output -> %d\n",
	    evbuffer_remove_buffer(t, bufferevent_get_output(p[0]), 100));
	pair_state("after remove_buffer", p);
	evbuffer_add(t, "partial", 7);
	printf("  remove_buffer 3 into p0's output -> %d\n",
	    evbuffer_remove_buffer(t, bufferevent_get_output(p[0]), 3));
	pair_state("after remove_buffer 3", p);
	evbuffer_drain(t, evbuffer_get_length(t));
	spin(base, 10);

	bufferevent_disable(p[0], EV_WRITE);
	bufferevent_write(p[0], "wd", 2);
	pair_state("p0 writing off", p);
	bufferevent_enable(p[0], EV_WRITE);
	pair_state("p0 writing on", p);
	spin(base, 10);
	bufferevent_write(p[0], "", 0);
	pair_state("empty write", p);
	spin(base, 10);

	/* Callbacks of the program's on either buffer send the transfer to
	 * Go; the counts they see must not carry anything from the C moves. */
	struct evbuffer_cb_entry *ce = evbuffer_add_cb(bufferevent_get_output(p[0]), info_cb, "p0 out");
	bufferevent_write(p[0], "cbs", 3);
	pair_state("callback on p0's output", p);
	spin(base, 10);
	evbuffer_remove_cb_entry(bufferevent_get_output(p[0]), ce);
	ce = evbuffer_add_cb(bufferevent_get_input(p[1]), info_cb, "p1 in");
	bufferevent_write(p[0], "cbin", 4);
	pair_state("callback on p1's input", p);
	spin(base, 10);
	evbuffer_freeze(bufferevent_get_input(p[1]), 1);
	bufferevent_write(p[0], "frz", 3);
	pair_state("p1's input frozen at its start", p);
	spin(base, 10);
	evbuffer_unfreeze(bufferevent_get_input(p[1]), 1);
	evbuffer_remove_cb_entry(bufferevent_get_input(p[1]), ce);
	evbuffer_drain(bufferevent_get_input(p[1]), in_len(p[1]));

	bufferevent_setwatermark(p[0], EV_WRITE, 2, 0);
	bufferevent_write(p[0], "lowmark", 7);
	pair_state("p0 write low mark 2", p);
	spin(base, 10);

	bufferevent_free(p[1]);
	spin(base, 10);
	bufferevent_write(p[0], "orphan", 6);
	printf("  partner freed: p0 out %zu, partner %s\n", out_len(p[0]),
	    bufferevent_pair_get_partner(p[0]) ? "still there" : "gone");
	spin(base, 10);
	bufferevent_free(p[0]);
	evbuffer_free(t);
	spin(base, 10);
	event_base_free(base);
}

/* ---- 5. a socket's output watcher as the idle hook ---------------------- */

static void sock_state(const char *label, struct bufferevent *bev)
{
	printf("  %s: output %zu, ev_write 0x%x\n", label, out_len(bev), pend(&bev->ev_write));
}

static void case_socket_hook(void)
{
	int fds[2];
	struct event_base *base = event_base_new();
	struct timeval t5 = {5, 0};
	printf("5. a socket bufferevent's output watcher as the idle hook\n");
	make_pair(fds);
	struct bufferevent *s = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s, NULL, named_wcb, named_ecb, "s");
	struct evbuffer *t = evbuffer_new();

	evbuffer_add(t, "moved", 5);
	printf("  write_buffer -> %d\n", bufferevent_write_buffer(s, t));
	sock_state("after write_buffer", s);
	spin(base, 10);
	peer_got(fds[1]);
	sock_state("after the loop", s);

	evbuffer_add(t, "removed", 7);
	printf("  remove_buffer (all) into the output -> %d\n",
	    evbuffer_remove_buffer(t, bufferevent_get_output(s), 100));
	sock_state("after remove_buffer", s);
	spin(base, 10);
	peer_got(fds[1]);
	evbuffer_add(t, "partial", 7);
	printf("  remove_buffer 3 into the output -> %d\n",
	    evbuffer_remove_buffer(t, bufferevent_get_output(s), 3));
	sock_state("after remove_buffer 3", s);
	spin(base, 10);
	peer_got(fds[1]);
	evbuffer_drain(t, evbuffer_get_length(t));

	bufferevent_disable(s, EV_WRITE);
	bufferevent_write(s, "wd", 2);
	sock_state("writing off", s);
	bufferevent_enable(s, EV_WRITE);
	sock_state("writing on", s);
	spin(base, 10);
	peer_got(fds[1]);

	bufferevent_set_timeouts(s, NULL, &t5);
	bufferevent_write(s, "tmo", 3);
	sock_state("with a write timeout", s);
	spin(base, 10);
	peer_got(fds[1]);
	sock_state("after the loop", s);
	bufferevent_set_timeouts(s, NULL, NULL);
	bufferevent_write(s, "", 0);
	sock_state("empty write", s);

	struct evbuffer_cb_entry *ce = evbuffer_add_cb(bufferevent_get_output(s), info_cb, "out");
	bufferevent_write(s, "cb", 2);
	sock_state("callback on the output", s);
	spin(base, 10);
	peer_got(fds[1]);
	evbuffer_cb_clear_flags(bufferevent_get_output(s), ce, EVBUFFER_CB_ENABLED);
	bufferevent_write(s, "disabled", 8);
	sock_state("callback disabled", s);
	spin(base, 10);
	peer_got(fds[1]);
	evbuffer_cb_set_flags(bufferevent_get_output(s), ce, EVBUFFER_CB_ENABLED);
	bufferevent_write(s, "again", 5);
	sock_state("callback enabled again", s);
	spin(base, 10);
	peer_got(fds[1]);
	evbuffer_remove_cb_entry(bufferevent_get_output(s), ce);

	/* Echo: the input moved into the output. */
	bufferevent_enable(s, EV_READ);
	put(fds[1], "echo", 4);
	spin(base, 10);
	size_t echoed = in_len(s);
	int ar = evbuffer_add_buffer(bufferevent_get_output(s), bufferevent_get_input(s));
	printf("  input %zu; add_buffer(output, input) -> %d\n", echoed, ar);
	sock_state("echoed", s);
	spin(base, 10);
	peer_got(fds[1]);
	printf("  read_buffer of the empty input -> %d\n", bufferevent_read_buffer(s, t));

	bufferevent_free(s);
	evbuffer_free(t);
	close(fds[1]);
	spin(base, 10);
	event_base_free(base);
}

/* ---- 6. a filter's read step in C, over a pair --------------------------- */

static int fmode;

/* The input filter: fmode 0 moves everything, 1 wants four bytes first,
 * 2 moves one byte per call, 3 fails. */
static enum bufferevent_filter_result
test_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *ctx)
{
	size_t n = evbuffer_get_length(src);
	(void)ctx;
	printf("    in filter: src %zu lim %ld mode %d\n", n, (long)lim, (int)mode);
	switch (fmode) {
	case 1:
		if (n < 4)
			return BEV_NEED_MORE;
		break;
	case 2:
		evbuffer_remove_buffer(src, dst, 1);
		return BEV_OK;
	case 3:
		return BEV_ERROR;
	}
	evbuffer_add_buffer(dst, src);
	return BEV_OK;
}

static void filt_rcb(struct bufferevent *bev, void *arg)
{
	printf("  %s: read cb, input %zu enabled 0x%x\n", (const char *)arg, in_len(bev),
	    bufferevent_get_enabled(bev));
	if (fmode == 2 && in_len(bev) >= 2) {
		bufferevent_disable(bev, EV_READ);
		printf("    reading disabled\n");
	}
	if (fmode == 4)
		evbuffer_drain(bufferevent_get_input(bev), in_len(bev));
}

static void case_filter_read(void)
{
	struct event_base *base = event_base_new();
	struct timeval t5 = {5, 0};
	printf("6. a filter over a pair, with a C input filter\n");
	for (int defer = 0; defer < 2; defer++) {
		struct bufferevent *p[2];
		printf("  -- %s\n", defer ? "BEV_OPT_DEFER_CALLBACKS" : "plain");
		bufferevent_pair_new(base, 0, p);
		struct bufferevent *f = bufferevent_filter_new(p[0], test_in, NULL,
		    BEV_OPT_CLOSE_ON_FREE | (defer ? BEV_OPT_DEFER_CALLBACKS : 0), NULL, NULL);
		bufferevent_setcb(f, filt_rcb, NULL, named_ecb, "F");
		bufferevent_enable(f, EV_READ);
		fmode = 0;
		bufferevent_write(p[1], "hello", 5);
		spin(base, 10);
		printf("  F in %zu, under in %zu\n", in_len(f), in_len(p[0]));
		fmode = 1;
		bufferevent_write(p[1], "ab", 2);
		spin(base, 10);
		printf("  need more: F in %zu, under in %zu\n", in_len(f), in_len(p[0]));
		bufferevent_write(p[1], "cd", 2);
		spin(base, 10);
		printf("  F in %zu, under in %zu\n", in_len(f), in_len(p[0]));
		fmode = 2;
		bufferevent_write(p[1], "wxyz", 4);
		spin(base, 10);
		printf("  one per call: F in %zu, under in %zu, enabled 0x%x\n", in_len(f),
		    in_len(p[0]), bufferevent_get_enabled(f));
		bufferevent_enable(f, EV_READ);
		spin(base, 10);
		printf("  enabled again: F in %zu, under in %zu, enabled 0x%x\n", in_len(f),
		    in_len(p[0]), bufferevent_get_enabled(f));
		fmode = 3;
		bufferevent_write(p[1], "err", 3);
		spin(base, 10);
		printf("  error: F in %zu, under in %zu\n", in_len(f), in_len(p[0]));
		fmode = 4;
		bufferevent_setwatermark(f, EV_READ, 3, 0);
		bufferevent_write(p[1], "Z", 1);
		spin(base, 10);
		printf("  low mark 3: F in %zu, under in %zu\n", in_len(f), in_len(p[0]));
		bufferevent_set_timeouts(f, &t5, NULL);
		printf("  read timeout set: F ev_read 0x%x\n", pend(&f->ev_read));
		bufferevent_write(p[1], "Y", 1);
		spin(base, 10);
		printf("  F in %zu, under in %zu, F ev_read 0x%x\n", in_len(f), in_len(p[0]),
		    pend(&f->ev_read));
		bufferevent_free(f);
		bufferevent_free(p[1]);
		spin(base, 10);
	}

	struct bufferevent *p[2];
	printf("  -- the null input filter\n");
	bufferevent_pair_new(base, 0, p);
	struct bufferevent *f = bufferevent_filter_new(p[0], NULL, NULL,
	    BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	fmode = 4;
	bufferevent_setcb(f, filt_rcb, NULL, named_ecb, "N");
	bufferevent_enable(f, EV_READ);
	bufferevent_write(p[1], "null filter", 11);
	spin(base, 10);
	printf("  N in %zu, under in %zu\n", in_len(f), in_len(p[0]));
	bufferevent_free(f);
	bufferevent_free(p[1]);
	spin(base, 10);
	event_base_free(base);
}

/* ---- 7. more than 32 deferred callbacks in one pass ---------------------- */

#define NPAIRS 40
static struct bufferevent *dpairs[NPAIRS][2];
static int dindex[NPAIRS];

static void many_rcb(struct bufferevent *bev, void *arg)
{
	int i = *(int *)arg;
	printf("  read cb %d: input %zu\n", i, in_len(bev));
	evbuffer_drain(bufferevent_get_input(bev), in_len(bev));
}

static void many_wcb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	printf("  write cb %d\n", *(int *)arg);
}

static void marker_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	printf("  marker %s\n", (const char *)arg);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	printf("  kick: one byte into each of %d pairs\n", NPAIRS);
	for (int i = 0; i < NPAIRS; i++)
		bufferevent_write(dpairs[i][0], "x", 1);
	/* Queued after the deferred callbacks that made it this pass. */
	if (arg)
		event_active((struct event *)arg, EV_TIMEOUT, 1);
}

static void case_many_deferred(void)
{
	struct event_base *base = event_base_new();
	printf("7. more than 32 deferred callbacks in one pass\n");
	for (int i = 0; i < NPAIRS; i++) {
		dindex[i] = i;
		bufferevent_pair_new(base, 0, dpairs[i]);
		bufferevent_setcb(dpairs[i][1], many_rcb, NULL, NULL, &dindex[i]);
		bufferevent_setcb(dpairs[i][0], NULL, i % 3 == 0 ? many_wcb : NULL, NULL, &dindex[i]);
		bufferevent_enable(dpairs[i][1], EV_READ);
	}
	struct event *m = event_new(base, -1, 0, marker_cb, "after the kick");
	struct event *k = event_new(base, -1, 0, kick_cb, m);
	event_active(k, EV_TIMEOUT, 1);
	spin(base, 20);
	printf("  -- from outside the loop\n");
	kick_cb(-1, 0, NULL);
	spin(base, 20);
	event_free(k);
	event_free(m);
	for (int i = 0; i < NPAIRS; i++) {
		bufferevent_free(dpairs[i][0]);
		bufferevent_free(dpairs[i][1]);
	}
	spin(base, 10);
	event_base_free(base);
}

/* ---- 8. fd events that epoll refuses; a timer on an active event -------- */

static int logged;
static char logged_msg[512];
static void count_log(int severity, const char *msg)
{
	logged = severity + 1;
	snprintf(logged_msg, sizeof logged_msg, "%s", msg);
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	printf("  %s: cb what 0x%x\n", (const char *)arg, what);
}

static void base_state(const char *label, struct event_base *base, struct event *a,
    struct event *b)
{
	printf("  %s: added %d active %d; first 0x%x second 0x%x\n", label,
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE),
	    a ? pend(a) : 0, b ? pend(b) : 0);
}

static void report(const char *what, int r)
{
	/* The warning's words too: epoll's failures are logged as libevent
	 * words them (C's epoll.c here; core/loop's in diff_fork_reinit_edge). */
	if (r < 0)
		printf("  %s -> %d %s, logged: %s%s%s\n", what, r, tr_errname(errno),
		    logged == EVENT_LOG_WARN + 1 ? "a warning" : logged ? "something" : "nothing",
		    logged ? ": " : "", logged ? logged_msg : "");
	else
		printf("  %s -> %d, logged: %s\n", what, r, logged ? "something" : "nothing");
}

static void case_fd_errors(void)
{
	int fds[2];
	struct timeval t1 = {1, 0};
	struct event_base *base = event_base_new();
	printf("8. fd events epoll refuses; a timer on an active event\n");
	make_pair(fds);
	event_set_log_callback(count_log);

	int d = dup(fds[0]);
	close(d);
	struct event *r = event_new(base, d, EV_READ | EV_PERSIST, io_cb, "r");
	struct event *w = event_new(base, d, EV_WRITE | EV_PERSIST, io_cb, "w");
	logged = 0;
	report("event_add on a closed fd", event_add(r, NULL));
	base_state("after it", base, r, w);
	logged = 0;
	report("event_add with a timeout on a closed fd", event_add(r, &t1));
	base_state("after it", base, r, w);

	int e = dup(fds[0]);
	event_assign(r, base, e, EV_READ | EV_PERSIST, io_cb, "r");
	event_assign(w, base, e, EV_WRITE | EV_PERSIST, io_cb, "w");
	logged = 0;
	report("event_add read", event_add(r, NULL));
	report("event_add write with a timeout", event_add(w, &t1));
	base_state("both added", base, r, w);
	close(e);
	logged = 0;
	report("event_del write after close (epoll MOD fails)", event_del(w));
	base_state("after it", base, r, w);
	logged = 0;
	report("event_del read after close (epoll DEL, ignored)", event_del(r));
	base_state("after it", base, r, w);

	/* An I/O event made active without being added: event_add with a
	 * timeout adds only the timer (libevent does not register the fd of
	 * an active event). */
	int g = dup(fds[0]);
	event_assign(r, base, g, EV_READ, io_cb, "r1");
	event_active(r, EV_WRITE, 1);
	logged = 0;
	report("event_add with a timeout of an active, unadded event", event_add(r, &t1));
	base_state("after it", base, r, NULL);
	report("event_add again without a timeout", event_add(r, NULL));
	base_state("after it", base, r, NULL);
	put(fds[1], "z", 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	base_state("after a nonblocking loop", base, r, NULL);
	report("event_add after it ran", event_add(r, NULL));
	event_base_loop(base, EVLOOP_NONBLOCK);
	base_state("after another", base, r, NULL);
	event_del(r);
	close(g);
	event_set_log_callback(NULL);
	event_free(r);
	event_free(w);
	close(fds[0]);
	close(fds[1]);
	event_base_free(base);
}

/* ---- 9. references and a file in a socket's output ---------------------- */

static void ref_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	printf("  cleanup of %s (%zu bytes)\n", (const char *)arg, len);
}

static void case_output_refs(void)
{
	int fds[2];
	static const char r1[] = "first reference", r2[] = "second reference";
	struct event_base *base = event_base_new();
	printf("9. references and a file in a socket bufferevent's output\n");
	make_pair(fds);
	struct bufferevent *s = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s, NULL, named_wcb, named_ecb, "s");
	/* Above the data: the write callback follows every write. */
	bufferevent_setwatermark(s, EV_WRITE, 100, 0);
	struct evbuffer *out = bufferevent_get_output(s);
	bufferevent_write(s, "head-", 5);
	evbuffer_add_reference(out, r1, strlen(r1), ref_cleanup, "r1");
	bufferevent_write(s, "-mid-", 5);
	evbuffer_add_reference(out, r2, strlen(r2), ref_cleanup, "r2");
	bufferevent_write(s, "-tail", 5);
	bufferevent_set_max_single_write(s, 7);
	sock_state("queued", s);
	for (int i = 0; i < 10; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	spin(base, 10);
	peer_got(fds[1]);

	char path[] = "/tmp/ge-diff-cpaths2-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	unlink(path);
	put(fd, "file contents here\n", 19);
	bufferevent_set_max_single_write(s, 0);
	bufferevent_write(s, "pre-", 4);
	printf("  add_file -> %d\n", evbuffer_add_file(out, fd, 0, 19));
	bufferevent_write(s, "-post", 5);
	sock_state("with a file", s);
	spin(base, 20);
	peer_got(fds[1]);
	bufferevent_free(s);
	close(fds[1]);
	spin(base, 10);
	event_base_free(base);
}

/* ---- 10. thread-safe socket bufferevents (last) -------------------------- */

static int ts_calls;

static void ts_rcb(struct bufferevent *bev, void *arg)
{
	ts_calls++;
	printf("  %s: read cb #%d, input %zu enabled 0x%x\n", (const char *)arg, ts_calls,
	    in_len(bev), bufferevent_get_enabled(bev));
	if (ts_calls == 1) {
		bufferevent_setwatermark(bev, EV_READ, 0, 4);
		printf("    read high mark 4\n");
	} else if (ts_calls < 6) {
		evbuffer_drain(bufferevent_get_input(bev), 3);
		printf("    drained to %zu\n", in_len(bev));
	} else {
		printf("    freeing\n");
		bufferevent_free(bev);
	}
}

static void case_threadsafe_bev(void)
{
	static const int opts[3] = {
		BEV_OPT_THREADSAFE,
		BEV_OPT_THREADSAFE | BEV_OPT_DEFER_CALLBACKS,
		BEV_OPT_THREADSAFE | BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS,
	};
	printf("10. thread-safe socket bufferevents\n");
	printf("  evthread_use_pthreads -> %d\n", evthread_use_pthreads());
	struct event_base *base = event_base_new();
	for (int i = 0; i < 3; i++) {
		int fds[2];
		make_pair(fds);
		printf("  -- options 0x%x\n", opts[i]);
		struct bufferevent *s = bufferevent_socket_new(base, fds[0],
		    BEV_OPT_CLOSE_ON_FREE | opts[i]);
		ts_calls = 0;
		bufferevent_setcb(s, ts_rcb, named_wcb, named_ecb, "ts");
		bufferevent_enable(s, EV_READ);
		put(fds[1], "0123456789", 10);
		spin(base, 30);
		put(fds[1], "abcdef", 6);
		spin(base, 30);
		peer_got(fds[1]);
		close(fds[1]);
	}
	spin(base, 10);
	event_base_free(base);
}

int main(void)
{
	tr_init();
	case_deferred_output_cbs();
	case_lifted_freezes();
	case_setfd_freezes();
	case_pair_hook();
	case_socket_hook();
	case_filter_read();
	case_many_deferred();
	case_fd_errors();
	case_output_refs();
	case_threadsafe_bev();
	printf("done\n");
	return 0;
}
