// A physical restore's RestoreDir while the restore has not finished. Cut short — a failure, a cancel,
// or the node killed in the middle — it holds files that PostgreSQL would start on at the wrong
// moment: the set's files with its backup_label but no recovery settings recover to the backup's end
// and promote, silently; a delta restore cut short is a mixture of two states.
//
// So before a restore writes anything it marks the directory (kRestoreUnfinishedFile, durable: what it
// restores, into what) and keeps global/pg_control out of it until everything else is durable —
// PostgreSQL 12-17 refuse to start without it ("could not find the database system") — and removes
// the mark last. A restore into a marked directory knows it for an opendbs restore that did not
// finish (its own, retried after the node died, or an earlier one) and completes it, where an
// unmarked directory that is not a data directory is refused. docs/POSTGRES.md, "Restore and
// point-in-time recovery".
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace opendbs::engines::postgres {

inline constexpr const char* kRestoreUnfinishedFile = "OPENDBS_RESTORE_UNFINISHED";  // in the data directory
inline constexpr const char* kRestoreFailedSetting = "opendbs_restore_failed";
// The line of kRestoreUnfinishedFile that keeps the system identifier of the withheld global/pg_control.
inline constexpr const char* kRestoreFailedIdentifierKey = "system_identifier = ";

struct UnfinishedRestore {
  // true: the directory held a copy of the set's cluster (a delta restore), which a delta restore
  // mends; false: it was empty, and what is in it is only the restore's own files.
  bool into_cluster = false;
  std::optional<uint64_t> system_identifier;  // recorded for into_cluster
};

// Marks `dir` (created if missing, mode 0700) durably as a restore of `set_id` to `target` that has
// not finished. `system_identifier`: the cluster's, for a delta restore.
core::Status mark_restore_unfinished(const std::filesystem::path& dir, const std::string& set_id,
                                     const std::string& target, bool into_cluster,
                                     std::optional<uint64_t> system_identifier);

// The mark of a restore that did not finish, if `dir` holds one.
std::optional<UnfinishedRestore> unfinished_restore(const std::filesystem::path& dir);

// Removes the mark, durably: the restore is complete.
core::Status clear_restore_unfinished(const std::filesystem::path& dir);

// Disables `dir` after `error` ended its restore: adds `error` to kRestoreUnfinishedFile (kept, or
// written with the cluster's identifier when missing), appends to postgresql.auto.conf a setting
// PostgreSQL does not know (kRestoreFailedSetting), so that it stops at start with an error naming
// it, and removes global/pg_control, so that it cannot start even with that line removed. Returns
// `error` with a sentence saying so added to its message.
core::Error disable_failed_restore_dir(const std::filesystem::path& dir, core::Error error);

}  // namespace opendbs::engines::postgres
