/*
 * solo_maxread_mem.c -- memory with GOEVENT_MAX_READ=262144 against the
 * default cap, against goevent alone.
 *
 * Many connections (1,000, or as many as the descriptor limit allows)
 * each receive bursts of up to 128 KiB, written by the peer in a few pieces
 * over several loop passes. Each run happens twice with the same traffic
 * (same seed), in children forked before the engine starts: once with the
 * default cap, once with GOEVENT_MAX_READ=262144. Every byte is verified,
 * and every allocation counted (event_set_mem_functions). Two programs:
 *
 *   stream    the reader consumes what arrives, as a relay or a sink does.
 *             Reads sized to what the socket holds keep the large cap's
 *             resident set within 1.2 times the default's once the data is
 *             consumed; a cap-sized reservation per read or per idle
 *             connection (libevent#1350) would cost up to 256 KiB per
 *             connection.
 *   messages  the reader consumes whole messages only, as a protocol
 *             parser does, so partial messages wait in every connection's
 *             input at once. A larger cap moves them from the sockets'
 *             buffers (kernel memory, not counted as RSS) into the inputs
 *             sooner, so the RSS figure is printed, not held to 1.2; what
 *             must hold is that once everything is consumed no memory stays
 *             allocated beyond the default's, save the reading thread's
 *             small cache of big chains (512 KiB at most).
 *
 * Usage: solo_maxread_mem [ROUNDS] (default 1, as `make test` runs it;
 * `make memtest` runs 20).
 * Prints the figures and the verdict; exit status 0 on success.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#define MAX_CONNS 1000
#define MAX_MSG (128 * 1024)

/* Counts live bytes: every block carries its size in front. */
static long long live_bytes;

static void *count_malloc(size_t n)
{
	size_t *p = malloc(n + 16);
	if (!p)
		return NULL;
	p[0] = n;
	__atomic_add_fetch(&live_bytes, (long long)n, __ATOMIC_RELAXED);
	return p + 2;
}

static void count_free(void *q)
{
	if (!q)
		return;
	size_t *p = (size_t *)q - 2;
	__atomic_sub_fetch(&live_bytes, (long long)p[0], __ATOMIC_RELAXED);
	free(p);
}

static void *count_realloc(void *q, size_t n)
{
	if (!q)
		return count_malloc(n);
	size_t *p = (size_t *)q - 2, old = p[0];
	size_t *np = realloc(p, n + 16);
	if (!np)
		return NULL;
	np[0] = n;
	__atomic_add_fetch(&live_bytes, (long long)n - (long long)old, __ATOMIC_RELAXED);
	return np + 2;
}

static int whole_messages; /* the messages program; else the stream one */

struct conn {
	struct bufferevent *bev;
	int peer;
	uint32_t id;
	/* the message the peer is writing: its number, size, bytes sent;
	 * and the bytes of the messages before it */
	uint32_t out_no, out_size, out_sent, out_total;
	/* messages the reader consumed (bytes, in the stream program) */
	uint32_t in_no;
	int bad;
};

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1du) >> 33) % n;
}

/* Byte i of message no of connection id: a 4-byte length, then a fill
 * that differs between messages and connections. */
static unsigned char msg_byte(uint32_t id, uint32_t no, uint32_t size, uint32_t i)
{
	if (i < 4)
		return (unsigned char)(size >> (8 * i));
	return (unsigned char)(id * 7 + no * 13 + i);
}

static void readcb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	static unsigned char buf[MAX_MSG];
	if (!whole_messages) {
		/* Everything that arrived, checked against the message it
		 * belongs to (in_no counts bytes here). */
		size_t n = evbuffer_get_length(in);
		while (n) {
			size_t k = n < sizeof(buf) ? n : sizeof(buf);
			evbuffer_remove(in, buf, k);
			for (size_t i = 0; i < k; i++)
				if (buf[i] != (unsigned char)(c->id * 7 + c->in_no + i))
					c->bad = 1;
			c->in_no += (uint32_t)k;
			n -= k;
		}
		return;
	}
	for (;;) {
		unsigned char hdr[4];
		if (evbuffer_copyout(in, hdr, 4) != 4)
			return;
		uint32_t size = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t)hdr[3] << 24;
		if (size < 4 || size > MAX_MSG) {
			c->bad = 1;
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		if (evbuffer_get_length(in) < size)
			return; /* the rest of the message has not come yet */
		evbuffer_remove(in, buf, size);
		for (uint32_t i = 0; i < size; i++) {
			if (buf[i] != msg_byte(c->id, c->in_no, size, i)) {
				c->bad = 1;
				break;
			}
		}
		c->in_no++;
	}
}

/* Writes the next piece of connection c's current message; returns 1 when
 * the message is complete. */
static int write_piece(struct conn *c)
{
	static unsigned char buf[MAX_MSG];
	if (c->out_sent == c->out_size)
		return 1;
	uint32_t left = c->out_size - c->out_sent;
	uint32_t n = rnd(3) == 0 ? left : 1 + rnd(left);
	for (uint32_t i = 0; i < n; i++)
		buf[i] = whole_messages ?
		    msg_byte(c->id, c->out_no, c->out_size, c->out_sent + i) :
		    (unsigned char)(c->id * 7 + c->out_total + c->out_sent + i);
	ssize_t w = write(c->peer, buf, n);
	if (w > 0)
		c->out_sent += (uint32_t)w;
	return c->out_sent == c->out_size;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* What a run reports: RSS in KiB once everything is consumed (-1 if
 * anything went wrong), and the bytes still allocated then beyond what was
 * allocated before the traffic. */
struct result {
	long rss_kib;
	long long held;
};

/* One run in this process. */
static struct result run(int nconn, int rounds)
{
	struct result res = { -1, 0 };
	static struct conn conns[MAX_CONNS];
	struct event_base *base = event_base_new();
	rng_state = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < nconn; i++) {
		int fds[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
			perror("socketpair");
			return res;
		}
		evutil_make_socket_nonblocking(fds[0]);
		evutil_make_socket_nonblocking(fds[1]);
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].id = (uint32_t)i;
		conns[i].peer = fds[1];
		conns[i].bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
		bufferevent_setcb(conns[i].bev, readcb, NULL, NULL, &conns[i]);
		bufferevent_enable(conns[i].bev, EV_READ);
	}
	long long live0 = __atomic_load_n(&live_bytes, __ATOMIC_RELAXED);
	for (int r = 0; r < rounds; r++) {
		/* Every connection starts a message, then the pieces go out a
		 * few at a time with loop passes in between, so that all
		 * connections hold a partial message at once. */
		for (int i = 0; i < nconn; i++) {
			conns[i].out_size = 4 + rnd(MAX_MSG - 4 + 1);
			conns[i].out_sent = 0;
		}
		int done;
		do {
			done = 1;
			for (int i = 0; i < nconn; i++)
				if (!write_piece(&conns[i]))
					done = 0;
			event_base_loop(base, EVLOOP_NONBLOCK);
		} while (!done);
		for (int i = 0; i < nconn; i++) {
			conns[i].out_no++;
			conns[i].out_total += conns[i].out_size;
		}
		/* Let the readers finish this round's messages. */
		for (int pass = 0; pass < 1000; pass++) {
			int pending = 0;
			for (int i = 0; i < nconn; i++)
				if (conns[i].in_no != (whole_messages ? conns[i].out_no :
				    conns[i].out_total))
					pending = 1;
			if (!pending)
				break;
			event_base_loop(base, EVLOOP_NONBLOCK);
		}
	}
	res.rss_kib = rss_kib();
	res.held = __atomic_load_n(&live_bytes, __ATOMIC_RELAXED) - live0;
	for (int i = 0; i < nconn; i++) {
		struct conn *c = &conns[i];
		if (c->bad || c->in_no != (whole_messages ? c->out_no : c->out_total) ||
		    evbuffer_get_length(bufferevent_get_input(c->bev)) != 0) {
			fprintf(stderr, "connection %d: bad %d, %u of %u messages, %zu bytes left\n", i,
			    c->bad, c->in_no, c->out_no,
			    evbuffer_get_length(bufferevent_get_input(c->bev)));
			res.rss_kib = -1;
		}
		bufferevent_free(c->bev);
		close(c->peer);
	}
	event_base_free(base);
	return res;
}

/* Runs one child with GOEVENT_MAX_READ set to value (NULL: unset). */
static struct result child(const char *value, int nconn, int rounds)
{
	struct result res = { -1, 0 };
	int p[2];
	if (pipe(p) < 0)
		return res;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (value)
			setenv("GOEVENT_MAX_READ", value, 1);
		else
			unsetenv("GOEVENT_MAX_READ");
		event_set_mem_functions(count_malloc, count_realloc, count_free);
		res = run(nconn, rounds);
		if (write(p[1], &res, sizeof(res)) != sizeof(res))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &res, sizeof(res)) != sizeof(res))
		res.rss_kib = -1;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return res;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1, bad = 0;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int nconn = MAX_CONNS;
	if (rl.rlim_cur < (rlim_t)(2 * MAX_CONNS + 64))
		nconn = rl.rlim_cur > 264 ? (int)(rl.rlim_cur - 64) / 2 : 100;
	for (whole_messages = 0; whole_messages < 2; whole_messages++) {
		const char *name = whole_messages ? "messages" : "stream";
		struct result def = child(NULL, nconn, rounds);
		struct result big = child("262144", nconn, rounds);
		printf("%s, %d connections, %d rounds: RSS %ld KiB with the default cap, %ld KiB with "
		    "GOEVENT_MAX_READ=262144 (%.2fx); held after: %lld and %lld bytes\n", name, nconn,
		    rounds, def.rss_kib, big.rss_kib,
		    def.rss_kib > 0 ? (double)big.rss_kib / (double)def.rss_kib : 0.0, def.held,
		    big.held);
		if (def.rss_kib <= 0 || big.rss_kib <= 0) {
			printf("FAIL: a run failed\n");
			bad++;
			continue;
		}
		if (!whole_messages && (double)big.rss_kib > 1.2 * (double)def.rss_kib) {
			printf("FAIL: more than 1.2 times the default's RSS\n");
			bad++;
		}
		if (big.held > def.held + 512 * 1024) {
			printf("FAIL: memory held once everything was consumed\n");
			bad++;
		}
	}
	printf(bad ? "FAILED\n" : "OK\n");
	return bad ? 1 : 0;
}
