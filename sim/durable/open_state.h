// Opens the state a --state value names: a PostgreSQL database for
// postgres://USER@HOST:PORT/DB (postgres_store.h), else an SQLite file
// (state_store.h). The same options and the same errors for both: a
// missing state is NotFound unless options.create, a newer schema is
// FailedPrecondition, an unreachable or locked one Unavailable.
// Thread: the returned store serves one thread.
#ifndef HOOKSIM_SIM_DURABLE_OPEN_STATE_H_
#define HOOKSIM_SIM_DURABLE_OPEN_STATE_H_

#include <memory>
#include <string>

#include "sim/base/result.h"
#include "sim/durable/state_store.h"

namespace hooksim {

Result<std::unique_ptr<StateBackend>> OpenState(const std::string& location,
                                                StoreOptions options = {});

}  // namespace hooksim

#endif  // HOOKSIM_SIM_DURABLE_OPEN_STATE_H_
