/* Uses a few calls from each installed header; prints a fixed line. */
#include <stdio.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>

int main(void)
{
	if (evthread_use_pthreads() != 0)
		return 2;
	struct evbuffer *b = evbuffer_new();
	if (!b)
		return 3;
	evbuffer_add_printf(b, "%s %d", "consumer", 42);
	char out[32] = {0};
	int n = evbuffer_remove(b, out, sizeof(out) - 1);
	evbuffer_free(b);
	printf("%s %d %s\n", event_get_version(), n, out);
	return strcmp(out, "consumer 42") == 0 ? 0 : 1;
}
