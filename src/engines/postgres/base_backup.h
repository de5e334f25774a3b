// Physical full backup: BASE_BACKUP over a replication connection (PostgreSQL 15+ protocol here,
// 12-14 in base_backup_legacy.h), with every file of the data directory stored as its own repository
// stream so that unchanged files deduplicate across sets, and the WAL from start to stop included so
// that a set restores alone.
#pragma once

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

// Metadata keys of a physical set's manifest (read back by the restore).
namespace meta {
inline constexpr const char* kStartLsn = "start_lsn";
inline constexpr const char* kStopLsn = "stop_lsn";
inline constexpr const char* kTimeline = "timeline";
inline constexpr const char* kSegmentSize = "wal_segment_size";
inline constexpr const char* kConsistentMs = "consistent_ms";
inline constexpr const char* kStartSeq = "start_seq";
inline constexpr const char* kStopSeq = "stop_seq";
}  // namespace meta

core::Result<FullBackupResult> physical_full_backup(const PlanSpec& plan, repo::SetWriter& set, TaskControl& control);

}  // namespace opendbs::engines::postgres
