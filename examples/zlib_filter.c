/*
 * zlib_filter: zlib compression as a bufferevent filter, over TCP loopback.
 *
 *   zlib_filter [MEGABYTES]
 *
 * One process, one event loop. A listener on 127.0.0.1 accepts a
 * connection from a client in the same loop; on both ends a filter
 * bufferevent sits on the socket bufferevent: its output filter deflates
 * what the program writes, its input filter inflates what arrives. The
 * client sends MEGABYTES (default 8) of text-like data; the server echoes
 * whatever it decompresses, compressed again; the client decompresses the
 * echo and compares it, by length and FNV-1a hash, with what it sent.
 *
 * Exit status 0 only when the whole stream came back intact.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <zlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

/* ---- the filter ---------------------------------------------------------- */

struct zctx {
	z_stream deflater, inflater;
	uint64_t raw_out, wire_out; /* bytes before and after deflate */
	int broken;
};

static struct zctx *zctx_new(void)
{
	struct zctx *z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	if (deflateInit(&z->deflater, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(z);
		return NULL;
	}
	if (inflateInit(&z->inflater) != Z_OK) {
		deflateEnd(&z->deflater);
		free(z);
		return NULL;
	}
	return z;
}

/* free_context: the filter owns its zlib streams. */
static void zctx_free(void *arg)
{
	struct zctx *z = arg;
	deflateEnd(&z->deflater);
	inflateEnd(&z->inflater);
	free(z);
}

/* Runs one zlib step from src's first chain into fresh space of dst and
 * returns zlib's code; *moved tells whether any byte went in or came out. */
static int zstep(z_stream *s, int deflating, struct evbuffer *src,
    struct evbuffer *dst, int flush, int *moved)
{
	struct evbuffer_iovec in, out;
	int nin = evbuffer_peek(src, -1, NULL, &in, 1);
	if (evbuffer_reserve_space(dst, 16384, &out, 1) < 1)
		return Z_MEM_ERROR;
	s->next_in = nin > 0 ? in.iov_base : NULL;
	s->avail_in = nin > 0 ? (uInt)in.iov_len : 0;
	s->next_out = out.iov_base;
	s->avail_out = (uInt)out.iov_len;
	/* Only the last input chain carries the flush request. */
	if (nin > 0 && in.iov_len < evbuffer_get_length(src))
		flush = Z_NO_FLUSH;
	int r = deflating ? deflate(s, flush) : inflate(s, flush);
	size_t used = (nin > 0 ? in.iov_len : 0) - s->avail_in;
	size_t made = out.iov_len - s->avail_out;
	evbuffer_drain(src, used);
	out.iov_len = made;
	evbuffer_commit_space(dst, &out, 1);
	*moved = used > 0 || made > 0;
	return r;
}

/* Output filter. Every call ends with a sync flush, so whatever the program
 * wrote reaches the peer without waiting for more; BEV_FINISHED ends the
 * zlib stream. dst_limit is ignored: nobody sets a write high watermark on
 * the socket below. */
static enum bufferevent_filter_result
zdeflate(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct zctx *z = arg;
	int flush = mode == BEV_FINISHED ? Z_FINISH : Z_SYNC_FLUSH;
	int any = 0, moved, r;
	(void)lim;
	z->raw_out += evbuffer_get_length(src);
	size_t before = evbuffer_get_length(dst);
	do {
		r = zstep(&z->deflater, 1, src, dst, flush, &moved);
		any |= moved;
		if (r == Z_STREAM_ERROR || r == Z_MEM_ERROR)
			return BEV_ERROR;
	} while (evbuffer_get_length(src) > 0 || z->deflater.avail_out == 0);
	z->wire_out += evbuffer_get_length(dst) - before;
	return any ? BEV_OK : BEV_NEED_MORE;
}

/* Input filter: inflates what has arrived; asks for more when it cannot
 * produce anything yet. */
static enum bufferevent_filter_result
zinflate(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct zctx *z = arg;
	int any = 0, moved, r;
	(void)lim;
	(void)mode;
	do {
		r = zstep(&z->inflater, 0, src, dst, Z_NO_FLUSH, &moved);
		any |= moved;
		if (r == Z_STREAM_END)
			break;
		if (r == Z_DATA_ERROR || r == Z_NEED_DICT || r == Z_MEM_ERROR ||
		    r == Z_STREAM_ERROR) {
			z->broken = 1;
			return BEV_ERROR;
		}
		if (r == Z_BUF_ERROR && !moved)
			break;
	} while (evbuffer_get_length(src) > 0 || z->inflater.avail_out == 0);
	return any ? BEV_OK : BEV_NEED_MORE;
}

/* A compressing bufferevent over a connected socket. */
static struct bufferevent *zlib_bev(struct event_base *base, evutil_socket_t fd,
    struct zctx **zp)
{
	struct bufferevent *sock = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	struct zctx *z = zctx_new();
	if (!sock || !z) {
		fprintf(stderr, "zlib_filter: out of memory\n");
		exit(1);
	}
	struct bufferevent *f = bufferevent_filter_new(sock, zinflate, zdeflate,
	    BEV_OPT_CLOSE_ON_FREE, zctx_free, z);
	if (!f) {
		fprintf(stderr, "zlib_filter: bufferevent_filter_new failed\n");
		exit(1);
	}
	*zp = z;
	return f;
}

/* ---- the program ---------------------------------------------------------- */

#define FNV_INIT 0xcbf29ce484222325ULL
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct app {
	struct event_base *base;
	struct bufferevent *client, *server;
	struct zctx *cz, *sz;
	uint64_t total, sent, got, sent_hash, got_hash, rng;
	int finished, failed;
};

/* Text-like, so it compresses: words from a small vocabulary. */
static size_t make_text(struct app *a, char *p, size_t cap)
{
	static const char *words[] = {"event", "buffer", "loop", "filter", "zlib",
	    "socket", "callback", "watermark", "chain", "deflate", "inflate", "go"};
	size_t n = 0;
	while (n + 16 < cap) {
		a->rng = a->rng * 6364136223846793005ULL + 1442695040888963407ULL;
		const char *w = words[(a->rng >> 33) % 12];
		size_t l = strlen(w);
		memcpy(p + n, w, l);
		n += l;
		p[n++] = (a->rng >> 40) % 9 == 0 ? '\n' : ' ';
	}
	return n;
}

static void client_writecb(struct bufferevent *bev, void *arg)
{
	struct app *a = arg;
	char chunk[32768];
	while (a->sent < a->total &&
	    evbuffer_get_length(bufferevent_get_output(bev)) < 256 * 1024) {
		size_t n = make_text(a, chunk, sizeof(chunk));
		if (n > a->total - a->sent)
			n = (size_t)(a->total - a->sent);
		a->sent += n;
		a->sent_hash = fnv1a(a->sent_hash, (unsigned char *)chunk, n);
		bufferevent_write(bev, chunk, n);
	}
	if (a->sent == a->total && !a->finished) {
		a->finished = 1;
		/* Ends the client's zlib stream. */
		bufferevent_flush(bev, EV_WRITE, BEV_FINISHED);
	}
}

static void client_readcb(struct bufferevent *bev, void *arg)
{
	struct app *a = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v[8];
	int n = evbuffer_peek(in, -1, NULL, v, 8);
	size_t len = 0;
	for (int i = 0; i < n && i < 8; i++) {
		a->got_hash = fnv1a(a->got_hash, v[i].iov_base, v[i].iov_len);
		len += v[i].iov_len;
	}
	evbuffer_drain(in, len);
	a->got += len;
	if (a->got >= a->total)
		event_base_loopexit(a->base, NULL);
}

/* The server echoes what it decompressed; its filter compresses it again. */
static void server_readcb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

static void eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct app *a = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF)
		return;
	fprintf(stderr, "zlib_filter: %s: event 0x%x\n",
	    bev == a->client ? "client" : "server", what);
	a->failed = 1;
	event_base_loopexit(a->base, NULL);
}

static void acceptcb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct app *a = arg;
	(void)sa;
	(void)socklen;
	if (a->server) {
		evutil_closesocket(fd);
		return;
	}
	a->server = zlib_bev(a->base, fd, &a->sz);
	bufferevent_setcb(a->server, server_readcb, NULL, eventcb, a);
	bufferevent_enable(a->server, EV_READ | EV_WRITE);
	evconnlistener_disable(l);
}

int main(int argc, char **argv)
{
	struct app a;
	memset(&a, 0, sizeof(a));
	long mb = argc > 1 ? strtol(argv[1], NULL, 10) : 8;
	if (mb < 1 || mb > 4096) {
		fprintf(stderr, "usage: zlib_filter [MEGABYTES (1..4096)]\n");
		return 2;
	}
	a.total = (uint64_t)mb << 20;
	a.sent_hash = a.got_hash = FNV_INIT;
	a.rng = 42;
	a.base = event_base_new();

	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct evconnlistener *l = evconnlistener_new_bind(a.base, acceptcb, &a,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1, (struct sockaddr *)&sin, sizeof(sin));
	if (!l) {
		perror("zlib_filter: listen");
		return 1;
	}
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &slen);

	/* The client's socket bufferevent connects first; the filter goes on
	 * top of it right away (data written before the connect completes
	 * waits in the socket's output). */
	struct bufferevent *sock = bufferevent_socket_new(a.base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!sock || bufferevent_socket_connect(sock, (struct sockaddr *)&ss, (int)slen) < 0) {
		perror("zlib_filter: connect");
		return 1;
	}
	a.cz = zctx_new();
	a.client = bufferevent_filter_new(sock, zinflate, zdeflate, BEV_OPT_CLOSE_ON_FREE,
	    zctx_free, a.cz);
	bufferevent_setcb(a.client, client_readcb, client_writecb, eventcb, &a);
	bufferevent_enable(a.client, EV_READ | EV_WRITE);
	client_writecb(a.client, &a);

	event_base_dispatch(a.base);

	int ok = !a.failed && a.got == a.total && a.got_hash == a.sent_hash;
	printf("sent %llu bytes (%llu compressed on the wire), got back %llu: %s\n",
	    (unsigned long long)a.sent, (unsigned long long)a.cz->wire_out,
	    (unsigned long long)a.got, ok ? "intact" : "CORRUPTED");
	bufferevent_free(a.client);
	if (a.server)
		bufferevent_free(a.server);
	evconnlistener_free(l);
	event_base_free(a.base);
	return ok ? 0 : 1;
}
