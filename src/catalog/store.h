// catalog::Store — the node's metadata: plans, tasks, backup sets, restore and download tasks, IAM
// objects, ClientToken records. Every object is a Record: a JSON document whose public fields are the
// DBS field names (so a Describe answer is the document minus its private "_"-prefixed fields), plus a
// few columns that queries need (account, parent plan, state, a sort time).
//
// Contract:
// - Everything happens inside transact(): the function runs in one serialisable transaction; when it
//   returns an error, nothing it wrote is kept. A transaction that meets contention is retried by the
//   store (so the function must be free of side effects outside the transaction).
// - A document is stored as valid UTF-8: a key or string value that is not comes back with each stray
//   byte written as `\xNN` (core/utf8.h), so one server message in another encoding can never make a
//   record unreadable. Documents stored raw by earlier versions are read the same way.
// - A record whose document cannot be parsed at all (not JSON: a damaged page, a hand edit) is left
//   out of listings and task claims, so one record cannot fail every listing and the scheduler; get()
//   of it answers Corrupt naming it. Each time one is met the store reports it (note_unreadable).
// - Implementations are thread-safe. The interface has no SQLite-only semantics: a PostgreSQL store
//   implements the same calls (claim_next uses SELECT ... FOR UPDATE SKIP LOCKED there).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace opendbs::catalog {

enum class Kind { plan, task, backup_set, log_file, restore_task, download_task, account, user, access_key,
                  client_token, node, precheck };
const char* kind_name(Kind k);

struct Record {
  std::string id;
  std::string account_id;  // owner account; empty for node-wide records
  std::string parent_id;   // the plan a set/task belongs to, or the user a key belongs to
  std::string state;       // status used by filters and the task queue
  int64_t sort_ms = 0;     // creation or start time, the order of lists
  boost::json::object doc;
};

struct Query {
  Kind kind;
  std::optional<std::string> account_id;
  std::optional<std::string> parent_id;
  std::vector<std::string> ids;          // empty = any
  std::vector<std::string> states;       // empty = any
  std::vector<std::pair<std::string, std::string>> doc_equals;  // top-level string fields of doc
  std::optional<int64_t> sort_from_ms, sort_to_ms;              // inclusive
  bool newest_first = true;
  int64_t offset = 0;
  int64_t limit = -1;                    // -1 = all
};

class Tx {
 public:
  virtual ~Tx() = default;
  virtual core::Result<std::optional<Record>> get(Kind kind, const std::string& id) = 0;
  virtual core::Status put(Kind kind, const Record& record) = 0;  // insert or replace
  virtual core::Status remove(Kind kind, const std::string& id) = 0;
  virtual core::Result<std::vector<Record>> list(const Query& query) = 0;
  virtual core::Result<int64_t> count(const Query& query) = 0;  // ignores offset/limit
};

class Store {
 public:
  virtual ~Store() = default;
  virtual core::Status transact(const std::function<core::Status(Tx&)>& fn) = 0;
  // Like transact, for functions that only read: takes no write lock, so readers do not queue
  // behind writers longer than necessary. A put() inside fails.
  virtual core::Status read(const std::function<core::Status(Tx&)>& fn) = 0;

  // A number that changes whenever records of `kind` were committed by this store, or anything was
  // committed by another process: lets callers keep derived data (an opened AccessKey, a page of plans)
  // until what it was derived from may have changed.
  virtual uint64_t change_counter(Kind kind) = 0;

  // Atomically takes the oldest task that is `queued`, or `running` with a lease that expired before
  // now_ms (its owner died, or could not renew it), marks it running with lease (owner,
  // now_ms + lease_ms) and returns it. `claimable`, when given, passes over the tasks it refuses (the
  // caller runs them already: a task whose lease lapsed on this node while its run goes on); they stay
  // as they are for a later claim. It runs inside the transaction, so it must not block.
  using Claimable = std::function<bool(const Record& task)>;
  virtual core::Result<std::optional<Record>> claim_next_task(const std::string& owner, int64_t now_ms,
                                                              int64_t lease_ms, const Claimable& claimable) = 0;
  core::Result<std::optional<Record>> claim_next_task(const std::string& owner, int64_t now_ms, int64_t lease_ms) {
    return claim_next_task(owner, now_ms, lease_ms, {});
  }

  // Called with every unreadable record the store meets (the node counts them:
  // opendbs_catalog_unreadable_records_total), from the thread that met it.
  void on_unreadable_record(std::function<void(Kind, const std::string& id)> observer);

 protected:
  // Reports an unreadable record: an error log line naming the table and key (once a minute per
  // record, as the scheduler's pass meets it every few seconds) and the observer.
  void note_unreadable(Kind kind, const std::string& table, const std::string& id, const std::string& why);

 private:
  std::function<void(Kind, const std::string&)> unreadable_observer_;
  std::mutex unreadable_mu_;
  std::map<std::string, int64_t> unreadable_logged_ms_;  // table/kind/id -> when last logged
};

// Opens the store a catalog URL names: "sqlite:PATH" or a bare path (PostgreSQL: not in this build).
core::Result<std::unique_ptr<Store>> open_store(const std::string& url);

}  // namespace opendbs::catalog
