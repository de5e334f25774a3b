// Retention: when a plan's full sets and log files expire (BackupSetExpiredTime), and the scheduler's
// pass that expires them.
//
// The plan's current BackupRetentionPeriod governs every set and log file it has: a set expires its
// creation plus the retention, a log file its EndTime plus the retention, and a log file a kept full
// set still needs for its restore range (same source generation, at or after the set's first log
// segment; a timeline history file: any kept set of its generation) stays as long as that set and
// shows that set's expiry. ModifyStorageStrategy rewrites the stored expiries (reapply_retention) in
// its own transaction, so DescribeFullBackupList and DescribeIncrementBackupList show the expiry
// retention will act on, and a plan whose retention was raised keeps what it had.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "catalog/store.h"
#include "core/result.h"

namespace opendbs::jobs {

// The plan's BackupRetentionPeriod in milliseconds.
int64_t retention_ms(const boost::json::object& plan_doc);
// BackupSetExpiredTime of a full set (CreateTime + retention) and of a log file by itself (EndTime +
// retention), before a kept set's need extends it.
int64_t set_expiry_ms(const boost::json::object& set_doc, int64_t retention_ms);
int64_t log_file_expiry_ms(const boost::json::object& file_doc, int64_t retention_ms);

// Rewrites BackupSetExpiredTime of every set and log file of `plan` not yet expired with the plan's
// retention; called in the transaction that changes it.
core::Status reapply_retention(catalog::Tx& tx, const catalog::Record& plan, int64_t now_ms);

struct Expired {
  std::vector<std::string> sets;                            // full sets, by id (= repository set id)
  std::vector<std::pair<std::string, std::string>> logs;    // (log chain id, file name)
};

// Marks `expired` every finished set and every COMPLETED/UNCOMPLETED log file whose expiry has come
// and that no kept set needs; a file a kept set needs gets that set's expiry. The caller forgets what
// is returned in the repository once the transaction committed.
core::Result<Expired> expire_due(catalog::Tx& tx, int64_t now_ms);

}  // namespace opendbs::jobs
