/*
 * mem.c: the allocator every goevent allocation outside the Go heap goes
 * through: libc's, or the functions given to event_set_mem_functions. The
 * engine allocates chains, buffer heads and bufferevents through it too (by
 * the table in engine_api.h), so C and Go may free each other's blocks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "internal.h"

static void *(*ge_malloc_fn)(size_t);
static void *(*ge_realloc_fn)(void *, size_t);
static void (*ge_free_fn)(void *);

void event_set_mem_functions(void *(*malloc_fn)(size_t sz),
    void *(*realloc_fn)(void *ptr, size_t sz), void (*free_fn)(void *ptr))
{
	ge_malloc_fn = malloc_fn;
	ge_realloc_fn = realloc_fn;
	ge_free_fn = free_fn;
}

/* Every allocation that fails says so on the log path: the call it makes
 * fail returns libevent's error value, and the program can tell why from
 * the log (tests/fault/alloc_fail.c fails each allocation in turn). */
static void out_of_memory(size_t n)
{
	ge_log(GE_LOG_WARN, "out of memory (%zu bytes)", n);
	errno = ENOMEM;
}

void *ge_malloc(size_t n)
{
	if (n == 0)
		return NULL; /* libevent's mm_malloc(0) answers NULL too */
	void *p = ge_malloc_fn ? ge_malloc_fn(n) : malloc(n);
	if (!p)
		out_of_memory(n);
	return p;
}

void *ge_calloc(size_t count, size_t size)
{
	if (count == 0 || size == 0)
		return NULL;
	if (count > SIZE_MAX / size) {
		out_of_memory(SIZE_MAX);
		return NULL;
	}
	void *p = ge_malloc_fn ? ge_malloc_fn(count * size) : calloc(count, size);
	if (!p)
		out_of_memory(count * size);
	else if (ge_malloc_fn)
		memset(p, 0, count * size);
	return p;
}

void *ge_realloc(void *p, size_t n)
{
	void *q = ge_realloc_fn ? ge_realloc_fn(p, n) : realloc(p, n);
	if (!q && n)
		out_of_memory(n);
	return q;
}

void ge_free(void *p)
{
	if (!p)
		return;
	if (ge_free_fn)
		ge_free_fn(p);
	else
		free(p);
}

/* Several blocks in one call, for the engine (core/mem's batches: one
 * crossing from Go for an object made of several blocks). All or none:
 * on a failure the blocks already had are given back and -1 returned. */
int ge_malloc_many(const size_t *sizes, void **out, int n)
{
	for (int i = 0; i < n; i++) {
		if (!(out[i] = ge_malloc(sizes[i]))) {
			while (i-- > 0)
				ge_free(out[i]);
			return -1;
		}
	}
	return 0;
}

void ge_free_many(void *const *p, int n)
{
	for (int i = 0; i < n; i++)
		ge_free(p[i]);
}

char *ge_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = ge_malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}
