#include "sim/durable/open_state.h"

#include "sim/durable/postgres_store.h"

namespace hooksim {

Result<std::unique_ptr<StateBackend>> OpenState(const std::string& location,
                                                StoreOptions options) {
  if (IsPostgresLocation(location)) {
    Result<std::unique_ptr<PostgresStore>> pg =
        PostgresStore::Open(location, options);
    if (!pg.ok()) return pg.error();
    return std::unique_ptr<StateBackend>(std::move(*pg));
  }
  Result<std::unique_ptr<StateStore>> file = StateStore::Open(location, options);
  if (!file.ok()) return file.error();
  return std::unique_ptr<StateBackend>(std::move(*file));
}

}  // namespace hooksim
