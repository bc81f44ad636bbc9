/*
 * buffer_fast.c: the chain work of the evbuffer fast paths (see buffer.c
 * for when they run). Each step makes exactly the chain changes libevent
 * makes, and core/evbuffer makes on its side, so the layout programs
 * observe through evbuffer_peek or evbuffer_reserve_space is the same
 * whichever side did the work; each hands the call to Go, having changed
 * nothing, when a chain it would touch is not plain allocator memory.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>

#include "buffer_internal.h"

/*
 * A thread's cache of big chains. A bulk read (buffer_io.c read_bulk) fills
 * new chains of GE_BULK_CHAIN bytes, and a bulk transfer frees them, and
 * the chains its writer appended, as fast as it makes them. Straight from
 * and back to malloc, each read of a few hundred KiB takes its chains from
 * the top of the heap and each drain gives them back, where glibc trims
 * them off (brk) once the top holds more than its trim threshold, only to
 * map and fault them in again for the next read: a socketpair transfer in
 * 256 KiB reads and writes ran at a quarter of its speed. So a thread that
 * made a bulk read keeps plain chains of 64 to 256 KiB (header included)
 * freed by any buffer, up to GE_CACHE_BYTES, and hands them out again for
 * chains of the same size: never per connection, and nothing in threads
 * (or programs) that never read in bulk, whose allocations stay exactly
 * libevent's. The chains go back to the allocator when the thread ends.
 */
#define GE_CACHE_MIN_SHIFT 16 /* 64 KiB */
#define GE_CACHE_CLASSES 3    /* 64, 128 and 256 KiB */
#define GE_CACHE_BYTES ((size_t)512 * 1024)
static __thread struct ge_chain *chain_cache[GE_CACHE_CLASSES];
static __thread size_t chain_cached; /* bytes */
static __thread int chain_cache_on;
/* Set once any thread turned its cache on: until then (in every program
 * that never reads in bulk) the allocation paths test this one word, not
 * thread-local storage. */
static int chain_cache_used;
static pthread_key_t chain_cache_key;
static pthread_once_t chain_cache_once = PTHREAD_ONCE_INIT;

static void chain_cache_flush(void *unused)
{
	(void)unused;
	chain_cache_on = 0;
	for (int i = 0; i < GE_CACHE_CLASSES; i++) {
		while (chain_cache[i]) {
			struct ge_chain *c = chain_cache[i];
			chain_cache[i] = c->next;
			ge_free(c);
		}
	}
	chain_cached = 0;
}

void ge_chain_cache_release(void)
{
	chain_cache_flush(NULL);
}

static void chain_cache_key_make(void)
{
	if (pthread_key_create(&chain_cache_key, chain_cache_flush) != 0)
		chain_cache_key = (pthread_key_t)-1;
}

void ge_chain_cache_enable(void)
{
	if (chain_cache_on)
		return;
	/* The key's destructor empties the cache when the thread ends;
	 * without a key there is no cache. */
	pthread_once(&chain_cache_once, chain_cache_key_make);
	if (chain_cache_key != (pthread_key_t)-1 &&
	    pthread_setspecific(chain_cache_key, &chain_cache_on) == 0) {
		chain_cache_on = 1;
		__atomic_store_n(&chain_cache_used, 1, __ATOMIC_RELAXED);
	}
}

/* The cache class of an allocation of n bytes, or -1. */
static inline int cache_class(size_t n)
{
	for (int i = 0; i < GE_CACHE_CLASSES; i++)
		if (n == (size_t)1 << (GE_CACHE_MIN_SHIFT + i))
			return i;
	return -1;
}

struct ge_chain *ge_chain_new(size_t payload)
{
	size_t n = chain_alloc_size(payload);
	struct ge_chain *c = NULL;
	int k;
	if (__builtin_expect(__atomic_load_n(&chain_cache_used, __ATOMIC_RELAXED), 0) &&
	    chain_cache_on && (k = cache_class(n)) >= 0 && chain_cache[k]) {
		c = chain_cache[k];
		chain_cache[k] = c->next;
		chain_cached -= n;
	} else {
		c = n ? ge_malloc(n) : NULL;
	}
	if (!c)
		return NULL;
	c->next = NULL;
	c->buffer_len = n - GE_CHAIN_HEADER;
	c->misalign = 0;
	c->off = 0;
	c->flags = 0;
	c->refcnt = 1;
	c->buffer = (unsigned char *)c + GE_CHAIN_HEADER;
	return c;
}

/* Frees one chain's memory, into the thread's cache when it is on, the
 * chain is a plain allocation of a cached size and there is room. Chains
 * Go hands back (ge_buffer_release_chains) may have held references or
 * files: only the exact shape of a plain allocation is kept. */
static inline void chain_free(struct ge_chain *c)
{
	if (__builtin_expect(__atomic_load_n(&chain_cache_used, __ATOMIC_RELAXED), 0) &&
	    chain_cache_on && c->flags == 0 &&
	    c->buffer == (unsigned char *)c + GE_CHAIN_HEADER) {
		size_t n = c->buffer_len + GE_CHAIN_HEADER;
		int k = cache_class(n);
		if (k >= 0 && chain_cached + n <= GE_CACHE_BYTES) {
			c->next = chain_cache[k];
			chain_cache[k] = c;
			chain_cached += n;
			return;
		}
	}
	ge_free(c);
}

void ge_free_chain_list(struct ge_chain *c)
{
	while (c) {
		struct ge_chain *next = c->next;
		chain_free(c);
		c = next;
	}
}

/* Go hands over lists of chains it is done with (see ReleaseChains). */
void ge_buffer_release_chains(void *head)
{
	ge_free_chain_list(head);
}

/* core/evbuffer runCallbacks on a buffer that does not defer, for a list
 * of C functions: the counts become one cb_info and are cleared, then
 * every enabled entry runs, newest first; entries removed meanwhile are
 * only marked (the Go side sees cb_depth), and unlinked by Go once the
 * outermost run is over. */
void ge_run_c_callbacks(struct ge_evbuffer *b)
{
	if (!b->callbacks) {
		no_callbacks(b);
		return;
	}
	if (b->n_add_for_cb == 0 && b->n_del_for_cb == 0)
		return;
	size_t new_size = b->total_len;
	struct evbuffer_cb_info info;
	info.orig_size = new_size + b->n_del_for_cb - b->n_add_for_cb;
	info.n_added = b->n_add_for_cb;
	info.n_deleted = b->n_del_for_cb;
	no_callbacks(b);
	b->cb_depth++;
	for (struct ge_cb_entry *e = b->callbacks; e; e = e->next) {
		if ((e->flags & (GE_CB_REMOVED | GE_CB_ENABLED)) != GE_CB_ENABLED || !e->fn)
			continue;
		if (e->flags & GE_CB_OBSOLETE)
			((evbuffer_cb)e->fn)((struct evbuffer *)(void *)b, info.orig_size,
			    new_size, e->arg);
		else
			((evbuffer_cb_func)e->fn)((struct evbuffer *)(void *)b, &info, e->arg);
	}
	if (--b->cb_depth == 0) {
		for (struct ge_cb_entry *e = b->callbacks; e; e = e->next) {
			if (e->flags & GE_CB_REMOVED) {
				goev_evbuffer_sweep(b);
				break;
			}
		}
	}
}

/* The link where a new last chain goes: after the last chain with data and
 * any pinned empty chains. The empty chains from there on are the ones
 * libevent frees before inserting; *plain says whether all of them are plain.
 * `extra` is data about to be written into *last_with_datap (so that it will
 * no longer count as empty). */
static struct ge_chain **trailing_link(struct ge_evbuffer *b, size_t extra,
    int *plain)
{
	struct ge_chain **ch = b->last_with_datap;
	while (*ch) {
		struct ge_chain *x = *ch;
		size_t off = x->off + (ch == b->last_with_datap ? extra : 0);
		if (off == 0 && !(x->flags & (GE_CHAIN_PINNED_R | GE_CHAIN_PINNED_W)))
			break;
		ch = &x->next;
	}
	*plain = 1;
	for (struct ge_chain *x = *ch; x; x = x->next)
		if (!chain_plain(x))
			*plain = 0;
	return ch;
}

/* evbuffer_add without callbacks; 0 if Go must do it (nothing changed). */
int ge_add_fast(struct ge_evbuffer *b, const void *data, size_t datlen)
{
	struct ge_chain *c = *b->last_with_datap;
	if (c == NULL) {
		/* No chain yet: one sized for the data. */
		if ((c = ge_chain_new(datlen)) == NULL)
			return 0;
		if (datlen)
			memcpy(c->buffer, data, datlen);
		c->off = datlen;
		b->first = b->last = c;
		b->total_len = datlen;
		no_callbacks(b);
		return 1;
	}
	size_t remain = 0;
	if (!(c->flags & GE_CHAIN_IMMUTABLE)) {
		remain = c->buffer_len - c->misalign - c->off;
		if (remain >= datlen) {
			if (datlen)
				memcpy(c->buffer + c->misalign + c->off, data, datlen);
			c->off += datlen;
			b->total_len += datlen;
			no_callbacks(b);
			return 1;
		}
		/* Realign when that is cheap: the chain is less than half
		 * full and at most 2048 bytes move (libevent's rule). */
		if (!(c->flags & (GE_CHAIN_PINNED_R | GE_CHAIN_PINNED_W)) &&
		    c->buffer_len - c->off >= datlen &&
		    c->off < c->buffer_len / 2 && c->off <= 2048) {
			memmove(c->buffer, c->buffer + c->misalign, c->off);
			c->misalign = 0;
			memcpy(c->buffer + c->off, data, datlen);
			c->off += datlen;
			b->total_len += datlen;
			no_callbacks(b);
			return 1;
		}
	}
	/* A new chain: twice the last one up to 4096, or the data's size. */
	int plain;
	struct ge_chain **ch = trailing_link(b, remain, &plain);
	if (!plain)
		return 0;
	size_t size = c->buffer_len;
	if (size <= GE_CHAIN_MAX_AUTO / 2)
		size <<= 1;
	if (datlen > size)
		size = datlen;
	struct ge_chain *tmp = ge_chain_new(size);
	if (!tmp)
		return 0;
	if (remain) {
		memcpy(c->buffer + c->misalign + c->off, data, remain);
		c->off += remain;
		data = (const unsigned char *)data + remain;
		datlen -= remain;
	}
	if (datlen) /* data may be NULL then: memcpy must not see it */
		memcpy(tmp->buffer, data, datlen);
	tmp->off = datlen;
	ge_free_chain_list(*ch);
	*ch = tmp;
	if (datlen) /* 0 only when appending nothing after an immutable chain */
		b->last_with_datap = ch;
	b->last = tmp;
	b->total_len += remain + datlen;
	no_callbacks(b);
	return 1;
}

/* The chain work of evbuffer_drain when every chain it frees is plain; 0 if
 * Go must do it (nothing changed). Callback counts are the caller's. */
int ge_drain_chains(struct ge_evbuffer *b, size_t len)
{
	struct ge_chain *c = b->first, *x;
	if (b->total_len == 0)
		return 1;
	if (c->off > len) {
		/* Within the first chain: the common case. */
		c->misalign += len;
		c->off -= len;
		b->total_len -= len;
		return 1;
	}
	if (len >= b->total_len) {
		/* Everything: every chain goes (none may be read-pinned, which
		 * plain excludes). */
		for (x = c; x; x = x->next)
			if (!chain_plain(x))
				return 0;
		ge_free_chain_list(c);
		b->first = b->last = NULL;
		b->last_with_datap = &b->first;
		b->total_len = 0;
		return 1;
	}
	/* Whole leading chains go, the rest comes off the next one. */
	size_t remaining = len;
	for (x = c; remaining >= x->off; x = x->next) {
		if (!chain_plain(x))
			return 0;
		remaining -= x->off;
	}
	remaining = len;
	while (remaining >= c->off) {
		struct ge_chain *next = c->next;
		remaining -= c->off;
		if (c == *b->last_with_datap || &c->next == b->last_with_datap)
			b->last_with_datap = &b->first;
		chain_free(c);
		c = next;
	}
	b->first = c;
	c->misalign += remaining;
	c->off -= remaining;
	b->total_len -= len;
	return 1;
}

/* evbuffer_drain without callbacks; 0 if Go must do it (nothing changed). */
int ge_drain_fast(struct ge_evbuffer *b, size_t len)
{
	/* libevent leaves an empty buffer alone, callback counts included
	 * (a deferred run may still be owed them). */
	if (b->total_len == 0)
		return 1;
	if (!ge_drain_chains(b, len))
		return 0;
	no_callbacks(b);
	return 1;
}

/* Copies n bytes (n <= total_len) from the front; 0 if a sendfile chain is
 * in the way (its bytes live in a file; Go reads them). */
int ge_copy_front(const struct ge_evbuffer *b, unsigned char *out, size_t n)
{
	const struct ge_chain *c;
	for (c = b->first; n; c = c->next) {
		if (c->flags & GE_CHAIN_SENDFILE)
			return 0;
		size_t k = c->off < n ? c->off : n;
		if (k)
			memcpy(out, c->buffer + c->misalign, k);
		out += k;
		n -= k;
	}
	return 1;
}

/* evbuffer_add_buffer without callbacks: the chains change hands. 0 if Go
 * must do it (a pinned or non-plain chain would have to be freed or kept). */
int ge_add_buffer_fast(struct ge_evbuffer *out, struct ge_evbuffer *in)
{
	if (in->total_len == 0 || out == in)
		return 1;
	if (in->last && (in->last->flags & GE_CHAIN_PINNED_R))
		return 0;
	if (out->total_len == 0) {
		/* out may hold empty chains; they go, in's list is taken. */
		for (struct ge_chain *x = out->first; x; x = x->next)
			if (!chain_plain(x))
				return 0;
		ge_free_chain_list(out->first);
		out->first = in->first;
		out->last_with_datap = in->last_with_datap == &in->first ?
		    &out->first : in->last_with_datap;
		out->total_len = in->total_len;
	} else {
		int plain;
		struct ge_chain **ch = trailing_link(out, 0, &plain);
		if (!plain)
			return 0;
		ge_free_chain_list(*ch);
		*ch = in->first;
		out->last_with_datap = in->last_with_datap == &in->first ?
		    ch : in->last_with_datap;
		out->total_len += in->total_len;
	}
	out->last = in->last;
	in->first = in->last = NULL;
	in->last_with_datap = &in->first;
	in->total_len = 0;
	no_callbacks(in);
	no_callbacks(out);
	return 1;
}

int ge_buf_move_all(struct ge_evbuffer *dst, struct ge_evbuffer *src)
{
	return ge_add_buffer_fast(dst, src);
}

/* Where the first line ends, for evbuffer_readln's fast path: only when the
 * end-of-line marker starts in the first chain, which is then where libevent
 * finds it too. Sets *n (line length) and *eol (marker length); 0 if Go must
 * look. */
int ge_find_line(const struct ge_evbuffer *b, int style, size_t *n,
    size_t *eol)
{
	const struct ge_chain *c = b->first;
	if (!c || (c->flags & GE_CHAIN_SENDFILE))
		return 0;
	const unsigned char *p = c->buffer + c->misalign, *q;
	size_t len = c->off;
	switch (style) {
	case EVBUFFER_EOL_LF:
	case EVBUFFER_EOL_NUL:
		q = memchr(p, style == EVBUFFER_EOL_LF ? '\n' : '\0', len);
		if (!q)
			return 0;
		*n = (size_t)(q - p);
		*eol = 1;
		return 1;
	case EVBUFFER_EOL_CRLF:
		q = memchr(p, '\n', len);
		if (!q)
			return 0;
		*n = (size_t)(q - p);
		*eol = 1;
		if (*n > 0 && q[-1] == '\r') {
			(*n)--;
			*eol = 2;
		}
		return 1;
	case EVBUFFER_EOL_CRLF_STRICT:
		q = memmem(p, len, "\r\n", 2);
		if (!q)
			return 0;
		*n = (size_t)(q - p);
		*eol = 2;
		return 1;
	case EVBUFFER_EOL_ANY: {
		size_t i;
		for (i = 0; i < len && p[i] != '\r' && p[i] != '\n'; i++)
			;
		if (i == len)
			return 0;
		*n = i;
		/* The run of CR/LF may go on in the next chains. */
		size_t k = 0;
		for (; c; c = c->next) {
			if (c->flags & GE_CHAIN_SENDFILE)
				return 0;
			const unsigned char *d = c->buffer + c->misalign;
			size_t j = c == b->first ? i : 0;
			while (j < c->off && (d[j] == '\r' || d[j] == '\n')) {
				j++;
				k++;
			}
			if (j < c->off)
				break;
		}
		*eol = k;
		return 1;
	}
	}
	return 0;
}

/* evbuffer_peek from the start of the buffer; -1 if Go must do it (a
 * sendfile chain, whose bytes Go maps). The rules are libevent's: with no
 * vectors and a negative length every chain counts; otherwise a negative
 * length stops once the vectors are full, and a chain is counted if the
 * bytes before it fall short of the length. */
int ge_peek_front(const struct ge_evbuffer *b, ev_ssize_t len,
    struct evbuffer_iovec *vec, int n_vec)
{
	if (n_vec == 0 && len < 0)
		len = (ev_ssize_t)b->total_len;
	int idx = 0;
	size_t so_far = 0;
	for (const struct ge_chain *c = b->first; c; c = c->next) {
		if (len >= 0 && so_far >= (size_t)len)
			break;
		if (c->flags & GE_CHAIN_SENDFILE)
			return -1;
		if (idx < n_vec) {
			vec[idx].iov_base = c->buffer + c->misalign;
			vec[idx].iov_len = c->off;
		} else if (len < 0) {
			break;
		}
		idx++;
		so_far += c->off;
	}
	return idx;
}
