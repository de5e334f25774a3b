// SqliteStore: the single-node catalog in one SQLite file (WAL mode, versioned migrations).
// One connection guarded by a mutex: SQLite serialises writers anyway, and one connection keeps
// transactions simple and fast for a node's request rate.
#pragma once

#include <sqlite3.h>

#include <map>
#include <mutex>
#include <vector>

#include "catalog/sqlite/statement.h"

#include "catalog/store.h"

namespace opendbs::catalog {

class SqliteStore final : public Store {
 public:
  static core::Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;

  core::Status transact(const std::function<core::Status(Tx&)>& fn) override;
  core::Status read(const std::function<core::Status(Tx&)>& fn) override;
  uint64_t change_counter(Kind kind) override;
  using Store::claim_next_task;
  core::Result<std::optional<Record>> claim_next_task(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                                      const Claimable& claimable) override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db), statements_(db) {}
  core::Status migrate();
  friend class SqliteTx;

  // Ordered ids of plan listings, reused until the catalog changes: deep pages of DescribeBackupPlanList
  // over thousands of plans are then a slice and a few primary-key reads instead of a sort and a scan.
  // Valid while no transaction of this store wrote and no other connection committed (data_version).
  const std::vector<std::string>* cached_ids(const std::string& key);
  void cache_ids(const std::string& key, std::vector<std::string> ids);
  void note_generation();
  void count_writes(const std::vector<bool>& kinds);
  core::Status run_in_transaction(const char* begin, const std::function<core::Status(Tx&)>& fn);

  sqlite3* db_;
  std::mutex mu_;
  StatementCache statements_;
  static constexpr size_t kKinds = 16;
  uint64_t local_writes_[kKinds] = {};  // committed writing transactions, by record kind
  int64_t data_version_ = -1;
  uint64_t cached_writes_ = 0;  // plan writes the id cache was built after
  std::map<std::string, std::vector<std::string>> id_cache_;
};

}  // namespace opendbs::catalog
