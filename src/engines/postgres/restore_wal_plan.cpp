#include "engines/postgres/restore_wal_plan.h"

#include <algorithm>
#include <map>

#include "core/errors.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_sets.h"
#include "engines/postgres/wal_stream.h"

namespace opendbs::engines::postgres {
namespace {

using Key = std::pair<uint32_t, uint64_t>;  // (timeline, segment number)

// The recovery target timeline: of the backup's own timeline and the stored timelines whose history
// passes through it after the backup's stop, the newest one the source had switched to before the
// target (a history set's end_ms is the moment the old timeline's stored WAL ends).
core::Result<TimelineHistory> target_timeline(repo::Repository& repository, const std::string& plan_id,
                                              const std::vector<WalSet>& sets, const boost::json::object& backup,
                                              int64_t target_ms) {
  const auto base = static_cast<uint32_t>(meta_int(backup, meta::kTimeline, 1));
  const Lsn stop = parse_lsn(meta_text(backup, meta::kStopLsn)).value_or(0);
  OPENDBS_ASSIGN(auto own, load_timeline_history(repository, plan_id, base));
  TimelineHistory best = own ? *own : TimelineHistory{};
  best.timeline = base;
  for (const auto& s : sets) {
    if (s.kind != WalSetKind::history || s.timeline <= best.timeline) continue;
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(s.id));
    if (meta_int(manifest.engine_metadata, segment_meta::kEndMs, 0) >= target_ms) continue;
    OPENDBS_ASSIGN(auto history, load_timeline_history(repository, plan_id, s.timeline));
    const auto span = history ? history->span_of(base) : std::nullopt;
    if (span && span->end && *span->end >= stop) best = std::move(*history);
  }
  return best;
}

}  // namespace

core::Result<RestoreWalPlan> plan_restore_wal(repo::Repository& repository, const std::string& plan_id,
                                              const boost::json::object& backup, int64_t target_ms) {
  const auto segment_size = static_cast<uint64_t>(meta_int(backup, meta::kSegmentSize, 16 << 20));
  OPENDBS_ASSIGN(auto sets, list_wal_sets(repository, plan_id, segment_size));
  OPENDBS_ASSIGN(const auto history, target_timeline(repository, plan_id, sets, backup, target_ms));
  std::map<Key, const WalSet*> segments, partials;  // partials: a timeline's end, else the newest filling one
  for (const auto& s : sets) {
    const Key key{s.timeline, s.segno};
    if (s.kind == WalSetKind::segment) segments[key] = &s;
    if (s.kind == WalSetKind::timeline_end) partials[key] = &s;
    if (s.kind == WalSetKind::filling && (!partials.count(key) || (partials[key]->kind == WalSetKind::filling &&
                                                                    partials[key]->bytes < s.bytes)))
      partials[key] = &s;
  }
  RestoreWalPlan plan;
  plan.timeline = history.timeline;
  for (const auto& s : sets)
    if (s.kind == WalSetKind::history && history.span_of(s.timeline)) plan.histories.emplace_back(s.id, s.file);
  plan.chain_end_ms = meta_int(backup, meta::kConsistentMs, 0);
  auto seq = static_cast<uint64_t>(meta_int(backup, meta::kStartSeq, 0));
  for (;; ++seq) {
    auto it = segments.find({history.timeline_of_segment(seq, segment_size), seq});
    if (it == segments.end()) break;
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(it->second->id));
    plan.segments.emplace_back(it->second->id, it->second->file);
    plan.chain_end_ms = std::max(plan.chain_end_ms, meta_int(manifest.engine_metadata, segment_meta::kEndMs, 0));
    if (meta_int(manifest.engine_metadata, segment_meta::kLastXactMs, -1) > target_ms) {
      plan.stop_at_time = true;
      return plan;
    }
  }
  if (target_ms <= plan.chain_end_ms) return plan;
  // The target lies beyond the complete segments: the next one's stored start may hold it.
  if (auto it = partials.find({history.timeline_of_segment(seq, segment_size), seq}); it != partials.end()) {
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(it->second->id));
    plan.partial = std::make_pair(it->second->id, it->second->file);
    plan.chain_end_ms = std::max(plan.chain_end_ms, meta_int(manifest.engine_metadata, segment_meta::kEndMs, 0));
    plan.stop_at_time = meta_int(manifest.engine_metadata, segment_meta::kLastXactMs, -1) > target_ms;
  }
  if (!plan.stop_at_time && target_ms > plan.chain_end_ms)
    return core::make_error("InvalidParameter", "RestoreTime " + pg_timestamp_literal(target_ms) +
                                                    " is after the end of the stored WAL (" +
                                                    pg_timestamp_literal(plan.chain_end_ms) + ")");
  return plan;
}

}  // namespace opendbs::engines::postgres
