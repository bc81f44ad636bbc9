/*
 * attach.c: the engine's one exported symbol (engine.map), through which
 * libevent_core connects to this copy of the engine. Plain C, so it runs
 * without waiting for the Go runtime's initialisation.
 */
#include "engine.h"
#include "_cgo_export.h"

const struct ge_core_api *ge_core;

int goevent_engine_attach(const struct ge_core_api *core, struct ge_engine_api *out,
    uint32_t abi);

int goevent_engine_attach(const struct ge_core_api *core, struct ge_engine_api *out,
    uint32_t abi)
{
	if (abi != GE_ENGINE_ABI || !core || !out || core->abi != GE_ENGINE_ABI ||
	    core->size != sizeof(*core) || out->size != sizeof(*out))
		return -1;
	ge_core = core;
	/* Each slot's type is the export's as cgo declared it; the build
	 * turns a mismatch into an error (-Werror=incompatible-pointer-types). */
#define GE_X_FILL(ret, name, params) out->name##_fn = name;
	GE_ENGINE_EXPORTS(GE_X_FILL)
#undef GE_X_FILL
	out->abi = GE_ENGINE_ABI;
	return 0;
}
