/* fake_engine.c -- a library that exports goevent's attach symbol but
 * refuses every core library, as an engine of another version would. */
#include <stdint.h>

int goevent_engine_attach(const void *core, void *out, uint32_t abi);
int goevent_engine_attach(const void *core, void *out, uint32_t abi)
{
	(void)core;
	(void)out;
	(void)abi;
	return -1;
}
