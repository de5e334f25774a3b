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

// How a timeline the source switched to began, from its stored sets: its first transaction after
// the switch point (the set of the segment it begins in says which; its later segments hold only its
// own), -1 when none is stored yet; and until when its stored WAL holds no transaction we lack.
struct TimelineStart {
  int64_t first_xact_ms = -1;
  int64_t stored_until_ms = -1;
};

core::Result<TimelineStart> timeline_start(repo::Repository& repository, const std::vector<WalSet>& sets,
                                           uint32_t timeline, Lsn begin, uint64_t segment_size) {
  std::map<uint64_t, const WalSet*> by_segno;  // a complete segment, else its newest partial set
  for (const auto& s : sets) {
    if (s.timeline != timeline || s.kind == WalSetKind::history || s.segno < begin / segment_size) continue;
    auto& slot = by_segno[s.segno];
    if (!slot || (slot->kind != WalSetKind::segment && (s.kind == WalSetKind::segment || s.bytes > slot->bytes)))
      slot = &s;
  }
  TimelineStart out;
  for (const auto& [segno, set] : by_segno) {
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(set->id));
    const auto& m = manifest.engine_metadata;
    out.stored_until_ms = std::max(out.stored_until_ms, meta_int(m, segment_meta::kEndMs, -1));
    const bool first = segno == begin / segment_size && m.contains(segment_meta::kTimelineFirstXactMs);
    out.first_xact_ms = meta_int(m, first ? segment_meta::kTimelineFirstXactMs : segment_meta::kFirstXactMs, -1);
    if (out.first_xact_ms >= 0) break;
  }
  return out;
}

// The recovery target timeline: of the backup's own timeline and the stored timelines whose history
// passes through it after the backup's stop, the newest one that had a transaction at or before the
// target. Before a timeline's first transaction its parent holds the same data, so a restore to a
// moment before the switch (or between it and the new timeline's first transaction) stays on the
// old timeline; then `quiet_until_ms` says until when the old timeline's complete WAL describes the
// source (`child_begin`: where the timeline that follows it begins).
struct TargetTimeline {
  TimelineHistory history;
  int64_t quiet_until_ms = -1;
  std::optional<Lsn> child_begin;
};

core::Result<TargetTimeline> target_timeline(repo::Repository& repository, const std::string& plan_id,
                                             const std::vector<WalSet>& sets, const boost::json::object& backup,
                                             int64_t target_ms, uint64_t segment_size) {
  const auto base = static_cast<uint32_t>(meta_int(backup, meta::kTimeline, 1));
  const Lsn stop = parse_lsn(meta_text(backup, meta::kStopLsn)).value_or(0);
  OPENDBS_ASSIGN(auto own, load_timeline_history(repository, plan_id, base));
  TargetTimeline out;
  out.history = own ? *own : TimelineHistory{};
  out.history.timeline = base;
  for (const auto& s : sets) {  // in id order: ascending timelines
    if (s.kind != WalSetKind::history || s.timeline <= out.history.timeline) continue;
    OPENDBS_ASSIGN(auto history, load_timeline_history(repository, plan_id, s.timeline));
    const auto span = history ? history->span_of(base) : std::nullopt;
    if (!span || !span->end || *span->end < stop) continue;
    const TimelineSwitch& parent = history->ancestors.back();
    OPENDBS_ASSIGN(const auto start, timeline_start(repository, sets, s.timeline, parent.end, segment_size));
    if (start.first_xact_ms >= 0 && start.first_xact_ms <= target_ms) {
      out.history = std::move(*history);
      out.child_begin.reset();
      out.quiet_until_ms = -1;
    } else if (parent.timeline == out.history.timeline && !out.child_begin) {
      out.child_begin = parent.end;
      out.quiet_until_ms = start.first_xact_ms >= 0 ? start.first_xact_ms - 1 : start.stored_until_ms;
    }
  }
  return out;
}

}  // namespace

core::Result<RestoreWalPlan> plan_restore_wal(repo::Repository& repository, const std::string& plan_id,
                                              const boost::json::object& backup, int64_t target_ms) {
  const auto segment_size = static_cast<uint64_t>(meta_int(backup, meta::kSegmentSize, 16 << 20));
  OPENDBS_ASSIGN(auto sets, list_wal_sets(repository, plan_id, segment_size));
  OPENDBS_ASSIGN(const auto target, target_timeline(repository, plan_id, sets, backup, target_ms, segment_size));
  const TimelineHistory& history = target.history;
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
  bool ends_timeline = false;  // the partial is the target timeline's last segment
  if (auto it = partials.find({history.timeline_of_segment(seq, segment_size), seq}); it != partials.end()) {
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(it->second->id));
    plan.partial = std::make_pair(it->second->id, it->second->file);
    ends_timeline = it->second->kind == WalSetKind::timeline_end;
    plan.chain_end_ms = std::max(plan.chain_end_ms, meta_int(manifest.engine_metadata, segment_meta::kEndMs, 0));
    plan.stop_at_time = meta_int(manifest.engine_metadata, segment_meta::kLastXactMs, -1) > target_ms;
  }
  // The target timeline is stored to its end, and the one that followed it had no transaction yet:
  // the source's data stayed as that end left it.
  if (target.child_begin && !plan.stop_at_time) {
    const Lsn end = *target.child_begin;
    const bool whole = seq == end / segment_size && (end % segment_size == 0 || ends_timeline);
    if (whole) plan.chain_end_ms = std::max(plan.chain_end_ms, target.quiet_until_ms);
  }
  if (!plan.stop_at_time && target_ms > plan.chain_end_ms)
    return core::make_error("InvalidParameter", "RestoreTime " + pg_timestamp_literal(target_ms) +
                                                    " is after the end of the stored WAL (" +
                                                    pg_timestamp_literal(plan.chain_end_ms) + ")");
  return plan;
}

}  // namespace opendbs::engines::postgres
