// Which stored WAL a point-in-time restore replays (docs/POSTGRES.md, "Restore and point-in-time
// recovery"): the recovery target timeline — the one the source was on at the target moment, among
// those that continue the backup's own — and, in the order recovery reads them, the segments of
// that timeline's history from the backup's first segment up to the first one holding a transaction
// that ended after the target (or to the end of the stored chain).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

struct RestoreWalPlan {
  uint32_t timeline = 1;  // recovery_target_timeline
  std::vector<std::pair<std::string, std::string>> segments;  // (set id, WAL file name), in order
  // After the last complete segment, the stored start of the next one (a partial set of the segment
  // that was filling, or the last segment of a timeline the source left), when the target needs it:
  // restored zero-padded into pg_wal, where recovery reads it once the restore_command answers that
  // it has nothing more (docs/POSTGRES.md).
  std::optional<std::pair<std::string, std::string>> partial;  // (set id, WAL file name)
  // History files of the target timeline and its ancestors that are stored (set id, file name).
  std::vector<std::pair<std::string, std::string>> histories;
  bool stop_at_time = false;  // a commit later than the target follows it in the chosen WAL
  int64_t chain_end_ms = 0;
};

// Refuses a restore whose WAL replays a CREATE TABLESPACE made after the full set began (`segment`:
// a WAL set's engine metadata): PostgreSQL's redo of it empties the directory at the path the source
// used and links the tablespace there — on the node, possibly the source's own live tablespace. The
// tablespaces a full set holds are restored inside RestoreDir; one created later is not.
core::Status check_no_tablespace_created(const boost::json::object& segment, const boost::json::object& backup,
                                         int64_t target_ms);
bool is_tablespace_refusal(const core::Error& error);

// `backup` is the full set's engine metadata (base_backup.h meta); the plan starts at its first
// segment. A target after the stored WAL is InvalidParameter.
core::Result<RestoreWalPlan> plan_restore_wal(repo::Repository& repository, const std::string& plan_id,
                                              const boost::json::object& backup, int64_t target_ms);

}  // namespace opendbs::engines::postgres
