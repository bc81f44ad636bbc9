/*
 * buffer_demo: the evbuffer at work. An evbuffer is a queue of bytes kept as
 * a linked list of chains; data is added at the back and consumed from the
 * front, and moving data between buffers moves chains instead of copying.
 *
 * This program parses a small line-oriented request the way a server would:
 * the request arrives in pieces, is queued, split into lines, and the body is
 * handed to another buffer without copying.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

static void on_change(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	(void)buf;
	printf("  [%s] %zu bytes -> +%zu -%zu\n", (const char *)arg,
	    info->orig_size, info->n_added, info->n_deleted);
}

int main(void)
{
	struct evbuffer *in = evbuffer_new();
	struct evbuffer *body = evbuffer_new();
	if (!in || !body) {
		fprintf(stderr, "evbuffer_new failed\n");
		return 1;
	}
	printf("goevent %s: evbuffer demo\n", event_get_version());
	evbuffer_add_cb(in, on_change, "in");

	/* The request arrives in three pieces, split mid-line. */
	const char *pieces[] = {
		"GET /hello HTTP/1.1\r\nHost: exa",
		"mple.org\r\nContent-Length: 12\r\n\r\nhello, ",
		"world",
	};
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
		evbuffer_add(in, pieces[i], strlen(pieces[i]));
	printf("queued %zu bytes\n", evbuffer_get_length(in));

	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	printf("headers end at offset %ld\n", (long)end.pos);

	char *line;
	size_t n;
	long content_length = 0;
	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		if (n == 0) {
			free(line);
			break;
		}
		printf("line (%zu): %s\n", n, line);
		if (strncmp(line, "Content-Length: ", 16) == 0)
			content_length = strtol(line + 16, NULL, 10);
		free(line);
	}

	/* Hand the body to its own buffer: whole chains move, bytes stay put. */
	int moved = evbuffer_remove_buffer(in, body, (size_t)content_length);
	evbuffer_add_printf(body, "%c", '!');
	printf("body: %d bytes moved, %zu in body buffer: \"%.*s\"\n", moved,
	    evbuffer_get_length(body), (int)evbuffer_get_length(body),
	    (const char *)evbuffer_pullup(body, -1));

	struct evbuffer_iovec v[4];
	int extents = evbuffer_peek(body, -1, NULL, v, 4);
	printf("body spans %d chain(s); %zu bytes left in input\n", extents,
	    evbuffer_get_length(in));

	evbuffer_free(in);
	evbuffer_free(body);
	return 0;
}
