#include "engines/postgres/restore_partial.h"

#include "core/errors.h"
#include "core/log.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/wal_fetch.h"
#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_sets.h"
#include "engines/postgres/wal_stream.h"

namespace opendbs::engines::postgres {
namespace fs = std::filesystem;
namespace {

// Under write load the stream replaces the partial set every durable interval (500 ms); between
// listing the sets and opening one's manifest a few milliseconds pass, and a set once opened is read
// to its end (forgetting a set removes its manifest only). Each attempt is as quick as listing the
// repository, so these many fail only when something else is wrong.
constexpr int kAttempts = 20;

core::Error replaced_too_often(const std::string& what, const core::Error& last) {
  return core::make_error("ServiceUnavailable", "the log backup replaced " + what + " " + std::to_string(kAttempts) +
                                                    " times while the restore read it (" + last.message +
                                                    "); retry the restore");
}

// Of the stored sets of WAL file `file`, the one holding the most of it: the complete segment, else
// the timeline's end, else the largest partial set; nullopt when none is stored.
core::Result<std::optional<WalSet>> newest_set_of(repo::Repository& repository, const std::string& plan_id,
                                                  const std::string& file, uint64_t segment_size) {
  OPENDBS_ASSIGN(const auto sets, list_wal_sets(repository, plan_id, segment_size));
  auto rank = [](const WalSet& s) { return s.kind == WalSetKind::segment ? 2 : s.kind == WalSetKind::timeline_end; };
  std::optional<WalSet> best;
  for (const auto& s : sets)
    if (s.kind != WalSetKind::history && s.file == file &&
        (!best || rank(s) > rank(*best) || (rank(s) == rank(*best) && s.bytes > best->bytes)))
      best = s;
  return best;
}

// Writes set `set_id` (a part of WAL file `name`, or all of it) zero-padded to `path`; reports in
// `last_xact_ms` the set's last commit. A set newer than the planned one is checked again for
// tablespaces created before the target.
core::Status write_partial_set(repo::Repository& repository, const std::string& set_id, const std::string& name,
                               const boost::json::object& backup, int64_t target_ms, const fs::path& path,
                               int64_t& last_xact_ms) {
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(set_id));
  const auto& m = manifest.engine_metadata;
  const uint64_t segment_size = static_cast<uint64_t>(meta_int(m, meta::kSegmentSize, 0));
  const auto segno = wal_file_segno(name, segment_size);
  if (!segno) return core::errors::corrupt("set " + set_id + " does not name a WAL segment");
  // A complete segment's end is the next one's start; a partial set says where it ends.
  const auto end = meta_text(m, "kind") == wal_kind::kSegment ? std::optional<Lsn>((*segno + 1) * segment_size)
                                                               : parse_lsn(meta_text(m, "end_lsn"));
  const auto stop = parse_lsn(meta_text(backup, meta::kStopLsn));
  if (!end || !stop || *end <= *stop)
    return core::make_error("InvalidParameter", "the WAL after backup set's stop (" + meta_text(backup, meta::kStopLsn) +
                                                    ") is not stored yet; choose an earlier RestoreTime");
  last_xact_ms = meta_int(m, segment_meta::kLastXactMs, -1);
  OPENDBS_TRY(check_no_tablespace_created(m, backup, target_ms));
  return write_wal_segment(repository, set_id, *segno, segment_size, name, path.string(), true);
}

}  // namespace

core::Result<RestoreWalPlan> plan_stored_wal(repo::Repository& repository, const std::string& plan_id,
                                             const boost::json::object& backup, int64_t target_ms) {
  for (int attempt = 1;; ++attempt) {
    auto wal = plan_restore_wal(repository, plan_id, backup, target_ms);
    if (wal.ok() || !is_not_stored(wal.error())) return wal;
    if (attempt == kAttempts) return replaced_too_often("the partial set of the segment it was filling", wal.error());
  }
}

core::Status restore_partial(repo::Repository& repository, const std::string& plan_id, RestoreWalPlan& wal,
                             const boost::json::object& backup, int64_t target_ms, const fs::path& dir) {
  const std::string name = wal.partial->second;
  const auto segment_size = static_cast<uint64_t>(meta_int(backup, meta::kSegmentSize, 16 << 20));
  for (int attempt = 1;; ++attempt) {
    int64_t last_xact_ms = -1;
    auto st = write_partial_set(repository, wal.partial->first, name, backup, target_ms, dir / "pg_wal" / name,
                                last_xact_ms);
    if (st.ok()) {
      // The set may hold commits after the target that the planned one did not: recovery stops there.
      wal.stop_at_time = wal.stop_at_time || last_xact_ms > target_ms;
      return {};
    }
    if (!is_not_stored(st.error())) return st;
    if (attempt == kAttempts) return replaced_too_often("WAL file " + name, st.error());
    OPENDBS_ASSIGN(const auto newest, newest_set_of(repository, plan_id, name, segment_size));
    if (!newest)
      return core::errors::corrupt("WAL file " + name + ", which this restore replays, is missing from the repository "
                                   "(was the plan released or the repository pruned during the restore?)");
    core::log_event(core::LogLevel::info, "postgres_restore_partial_replaced",
                    {{"planned", wal.partial->first}, {"newest", newest->id}});
    wal.partial->first = newest->id;
  }
}

}  // namespace opendbs::engines::postgres
