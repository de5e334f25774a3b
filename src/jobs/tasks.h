// Task records: the queue that connects the API (which only records intent) with the workers (which
// run engines). A task is a catalog record of Kind::task:
//   state     queued → running → succeeded | failed | cancelled
//   parent_id the plan; doc.TaskKind one of the kinds below; doc.Payload what the worker needs;
//   doc._LeaseOwner/_LeaseExpiresMs the lease; doc._CancelRequestedBy the request that cancelled it.
// The API creates and cancels tasks inside its own transaction, then tells the Runtime, so that
// workers start or stop at once rather than at their next poll.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/store.h"

namespace opendbs::jobs {

namespace task_kind {
inline constexpr std::string_view precheck = "precheck";
inline constexpr std::string_view full_backup = "full_backup";
inline constexpr std::string_view log_backup = "log_backup";
inline constexpr std::string_view restore = "restore";
inline constexpr std::string_view download = "download";
// Frees what the engine keeps on the source for log backup (PostgreSQL: the replication slot), retried
// until it succeeds (slot_release.h).
inline constexpr std::string_view release_log = "release_log";
}  // namespace task_kind

// A queued task record; the caller puts it in its transaction. `id` empty = a fresh job id.
catalog::Record new_task(std::string_view kind, const catalog::Record& plan, int64_t now_ms,
                         boost::json::object payload, std::string id = {});

// Unfinished (queued or running) tasks of a plan, optionally only of the given kinds.
core::Result<std::vector<catalog::Record>> unfinished_tasks(catalog::Tx& tx, const std::string& plan_id,
                                                            const std::vector<std::string_view>& kinds = {});

// Ids of the plan's unfinished log backup tasks (a release of the slot waits for them to stop).
core::Result<std::vector<std::string>> unfinished_log_backups(catalog::Tx& tx, const std::string& plan_id);

// Cancels the plan's unfinished tasks of the given kinds: queued ones end at once as cancelled, running
// ones are marked so their worker stops. Returns the ids of the running ones (to signal them now).
core::Result<std::vector<std::string>> cancel_tasks(catalog::Tx& tx, const std::string& plan_id,
                                                    const std::vector<std::string_view>& kinds,
                                                    const std::string& by_request_id, int64_t now_ms);

// A release_log task for what the plan's log backup keeps on its source *now* (DisableBackupLog,
// ReleaseBackupPlan, or ModifyBackupSourceEndpoint for the source it leaves): the payload records that
// endpoint (`Source`, the plan's SourceEndpoint* fields with the sealed password), so the release goes
// to it whatever the plan says later, and the log backup tasks it waits for (`WaitFor`).
catalog::Record new_release_task(const catalog::Record& plan, int64_t now_ms, const std::vector<std::string>& wait_for);

// Whether two plan records name different source servers (host or port; a new user, password or
// database is the same server). The slot of the old one must then be released.
bool source_server_changed(const catalog::Record& before, const catalog::Record& after);

// The plan's source generation (doc "_SourceEpoch", 0 when absent): ModifyBackupSourceEndpoint to
// another server counts it up; full sets and log files record the one they were taken under, and a
// restore range joins a set only with log files of its own generation, so that WAL of two sources is
// never chained by its sequence numbers.
int64_t source_epoch(const boost::json::object& doc);

// Queues a full backup now and creates its backup set record (same id as the task). Returns the id.
core::Result<std::string> queue_full_backup(catalog::Tx& tx, const catalog::Record& plan, int64_t now_ms,
                                            const std::string& trigger);
// Queues a log backup task if the plan has EnableBackupLog, is running and has none unfinished.
core::Status ensure_log_backup(catalog::Tx& tx, const catalog::Record& plan, int64_t now_ms);

// Ends the record a full backup, restore or download task writes (the set, restore task or download
// task sharing its id) with `status` ("stop" or "failed"; only a set has "failed": a restore or a
// download ends "stop") and `message`, unless it has ended already. Other kinds have no such record.
core::Status close_task_record(catalog::Tx& tx, const catalog::Record& task, const std::string& status,
                               const std::string& message, int64_t now_ms);

// What the API needs from the running task engine.
class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual void wake() = 0;                                        // new tasks are queued
  // Stops these tasks if they run here; `by_request_id` is recorded as who stopped them.
  virtual void cancel_now(const std::vector<std::string>& task_ids, const std::string& by_request_id) = 0;
  // Stops every run of these kinds of the plan on this node, whatever its task record says: also a run
  // whose lease lapsed and whose record another run (or node) has taken since.
  virtual void cancel_plan(const std::string& plan_id, const std::vector<std::string_view>& kinds,
                           const std::string& by_request_id) = 0;
  // Downloads were revoked (revoke_downloads): delete the files this node holds now.
  virtual void downloads_revoked() {}
};

}  // namespace opendbs::jobs
