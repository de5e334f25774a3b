// SqliteStore: the single-node catalog in one SQLite file (WAL mode, versioned migrations).
// One connection guarded by a mutex: SQLite serialises writers anyway, and one connection keeps
// transactions simple and fast for a node's request rate.
#pragma once

#include <sqlite3.h>

#include <mutex>

#include "catalog/store.h"

namespace opendbs::catalog {

class SqliteStore final : public Store {
 public:
  static core::Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;

  core::Status transact(const std::function<core::Status(Tx&)>& fn) override;
  core::Status read(const std::function<core::Status(Tx&)>& fn) override;
  core::Result<std::optional<Record>> claim_next_task(const std::string& owner, int64_t now_ms,
                                                      int64_t lease_ms) override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  core::Status migrate();
  core::Status run_in_transaction(const char* begin, const std::function<core::Status(Tx&)>& fn);

  sqlite3* db_;
  std::mutex mu_;
};

}  // namespace opendbs::catalog
