// engines::Engine — one database engine's way of checking, backing up and restoring a source.
//
// Contract:
// - Engines read from and write to the repository only through repo::SetWriter / repo::Repository
//   streams, and know nothing of the API or the catalog (DESIGN.md §2). What the catalog must record
//   comes back in the result structs.
// - Every long call polls TaskControl::cancelled() at least once a second and returns a Status with
//   code "Cancelled" promptly when it is set; the caller then discards partial data.
// - progress() may be called from any thread the engine uses.
#pragma once

#include <boost/json/object.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/result.h"
#include "repo/repository.h"

namespace opendbs::engines {

struct Endpoint {
  std::string host;
  int port = 0;
  std::string user, password, database;
  bool ssl = false;
};

struct PlanSpec {
  std::string plan_id;
  std::string database_type;  // "PostgreSQL", "MySQL", ...
  std::string backup_method;  // "physical" / "logical"
  Endpoint source;
  std::string backup_objects;  // JSON, may be empty = everything
  // For log backup: one past the highest log sequence the catalog holds as COMPLETED (0 = none), so an
  // engine that cannot find its position in the source resumes the chain without overwriting it.
  int64_t log_resume_seq = 0;
};

class TaskControl {
 public:
  virtual ~TaskControl() = default;
  virtual bool cancelled() const = 0;
  // percent 0-100 and bytes processed so far.
  virtual void progress(int percent, uint64_t bytes) = 0;
  // Log backup: how far the stored log is behind the source — bytes not yet durable in the repository
  // and the age in seconds of the oldest of them (0 when caught up). Shown in /metrics and alerts.
  virtual void lag(uint64_t bytes, double seconds) {
    (void)bytes;
    (void)seconds;
  }
  // Restore: the set's database `database` was restored under `name`, a name the engine chose because
  // the one asked for was taken (DuplicateConflict=renamenew), so that the restore task can show it.
  virtual void restored_as(const std::string& database, const std::string& name) {
    (void)database;
    (void)name;
  }
  // Something the user should know of a task that otherwise succeeds (a restore that placed objects
  // elsewhere or left some out): the task shows it when it finishes.
  virtual void warning(const std::string& text) { (void)text; }
};

struct PrecheckItem {
  std::string name;     // e.g. CHECK_CONNECTION
  std::string state;    // finish | warning | failed
  std::string message;  // what to change, when not finish
};

struct FullBackupResult {
  int64_t consistent_ms = 0;       // the moment the set restores to
  boost::json::object metadata;    // stored in the manifest (positions, versions, ...)
  int64_t log_start_seq = -1;      // first log file the set needs to be rolled forward, -1 = none
  // Where in the log the set's roll-forward begins, in LogBarrier::position's terms (PostgreSQL: the
  // start LSN); 0 = unknown, which every barrier of the chain concerns.
  int64_t log_start_position = 0;
};

// A point in the log that a restore from a full set begun before it must not replay (PostgreSQL: a
// CREATE TABLESPACE made after the set began, whose redo takes over the source's tablespace
// directory; docs/POSTGRES.md, "Tablespaces"). The engine refuses such a restore before writing
// anything, and the log backup reports each barrier with the log file holding it, so that the
// restorable ranges (api/ops/restore_ranges.h) end where the engine's refusals begin: `blocks` is
// the one rule both apply.
struct LogBarrier {
  int64_t position = 0;    // engine-defined, ordered along the log (PostgreSQL: the record's LSN)
  int64_t latest_ms = -1;  // the latest moment a restore from a set begun before it reaches; -1 = none
  std::string what;        // names the barrier and says why, for messages
  bool blocks(int64_t set_start_position, int64_t target_ms) const {
    return position >= set_start_position && target_ms > latest_ms;
  }
};

// One log file (a WAL segment, a binlog) as the log backup reports it; stored under the set id
// log_set_id(plan, name) in the repository, and while it fills possibly as partial copies
// "<that id>.partial-<bytes>", which go with the file when it expires.
inline std::string log_set_id(const std::string& plan_id, const std::string& name) {
  return "log-" + plan_id + "-" + name;
}
inline std::string log_partial_prefix(const std::string& plan_id, const std::string& name) {
  return log_set_id(plan_id, name) + ".partial-";
}

struct LogFile {
  std::string name;        // e.g. 000000010000000000000003 or mysql-bin.000054
  int64_t seq = 0;         // position in the chain; consecutive files have consecutive numbers
  int64_t start_ms = 0, end_ms = 0;
  uint64_t size = 0;
  std::string status;      // FILLING while open, COMPLETED when closed
  std::vector<LogBarrier> barriers = {};  // in the part of the file stored so far
};

struct RestoreRequest {
  std::string set_id;
  int64_t target_ms = 0;           // restore to this moment (a point-in-time restore) or the set's own
  std::string target_dir;          // physical restore into a directory on the node
  Endpoint destination;            // logical restore into a server
  std::string restore_objects;     // JSON renames
  // DuplicateConflict: "renamenew" restores an object whose name is taken under a new name; "" or
  // "failure" stops the restore with an error naming the object.
  std::string duplicate_conflict;
  // How a restored server fetches its log during its own recovery: `program wal-fetch` reading the
  // repository at repository_url with key_file (program "" = this executable). With no
  // repository_url the log the restore needs is copied beside the restored data instead.
  struct LogFetch {
    std::string program, repository_url, key_file;
  } log_fetch;
};

// See Engine::log_retention.
struct LogRetention {
  bool held = false;            // the source keeps log for the plan (a slot exists)
  uint64_t retained_bytes = 0;  // log kept that the log backup has not confirmed yet
  // Bytes the source may still write before it drops log the plan needs (PostgreSQL 13+ with
  // max_slot_wal_keep_size); nullopt = no such limit. 0 with `lost` = it has been dropped already.
  std::optional<uint64_t> safe_bytes;
  bool lost = false;
};

// A stored set converted into one file that a user downloads (CreateFullBackupSetDownload,
// CreateIncrementBackupSetDownload).
struct DownloadRequest {
  std::string set_id;     // the set in the repository
  std::string format;     // DBS's BackupSetDataFormat: Native, SQL, CSV or JSON
  bool log_file = false;  // a log backup file (WAL segment, binlog) rather than a full set
  std::string out_path;   // the engine writes the whole file here; the caller syncs and publishes it
};

struct DownloadResult {
  std::string extension;  // of the published file name: "sql", "tar", "" (none)
  uint64_t bytes = 0;     // the file's size
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::vector<PrecheckItem> precheck(const PlanSpec& plan) = 0;
  virtual core::Result<FullBackupResult> full_backup(const PlanSpec& plan, repo::SetWriter& set,
                                                     TaskControl& control) = 0;
  // Streams the source's log into the repository until control.cancelled(), reporting every file it
  // opens or completes through `on_file`. Returns "Cancelled" when stopped.
  virtual core::Status log_backup(const PlanSpec& plan, repo::Repository& repository, TaskControl& control,
                                  const std::function<core::Status(const LogFile&)>& on_file) = 0;
  virtual core::Status restore(const PlanSpec& plan, repo::Repository& repository, const RestoreRequest& request,
                               TaskControl& control) = 0;
  // Releases what log_backup keeps on the source between runs (PostgreSQL: the plan's replication
  // slot, which retains WAL until dropped). Call it when log backup is disabled or the plan released,
  // after the log backup task has stopped. Engines that keep nothing return ok.
  virtual core::Status release_log(const PlanSpec& plan) {
    (void)plan;
    return {};
  }
  // Writes the set, converted to request.format, to request.out_path. A format this set cannot be
  // converted to is "InvalidParameter" naming BackupSetDataFormat. Engines without downloads refuse.
  virtual core::Result<DownloadResult> download(const PlanSpec& plan, repo::Repository& repository,
                                                const DownloadRequest& request, TaskControl& control) {
    (void)repository;
    (void)request;
    (void)control;
    return core::Error{"EngineUnavailable", 400, "downloads of " + plan.database_type + " sets are not supported"};
  }
  // What the source keeps for this plan's log backup (PostgreSQL: the plan's replication slot).
  // Polled for plans with log backup enabled, so that a stopped or failing stream is noticed before
  // the source's disk fills or the source gives the log up. Engines that keep nothing return {}.
  virtual core::Result<LogRetention> log_retention(const PlanSpec& plan) {
    (void)plan;
    return LogRetention{};
  }
};

// Engines by DatabaseType, registered at start-up.
class EngineRegistry {
 public:
  void add(const std::string& database_type, std::shared_ptr<Engine> engine) { engines_[database_type] = std::move(engine); }
  std::shared_ptr<Engine> find(const std::string& database_type) const {
    auto it = engines_.find(database_type);
    return it == engines_.end() ? nullptr : it->second;
  }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : engines_) out.push_back(k);
    return out;
  }

 private:
  std::map<std::string, std::shared_ptr<Engine>> engines_;
};

// The refusal of a restore's base set that cannot reach the restore moment (PostgreSQL: the set was
// taken on WAL that a later fork of the source abandoned). Engines refuse with it before writing
// anything, so the caller may try an older set in the same place; `why` says what the moment lies on.
inline constexpr std::string_view kBaseSetCannotReach = "this backup set cannot reach that moment";
inline core::Error base_set_cannot_reach(const std::string& why) {
  return core::make_error("InvalidParameter", why + ": " + std::string(kBaseSetCannotReach));
}
inline bool is_base_set_cannot_reach(const core::Error& e) {
  return e.code == "InvalidParameter" && e.message.find(kBaseSetCannotReach) != std::string::npos;
}

}  // namespace opendbs::engines
