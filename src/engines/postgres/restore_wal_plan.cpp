#include "engines/postgres/restore_wal_plan.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

#include "core/errors.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/tablespace_barriers.h"
#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_sets.h"
#include "engines/postgres/wal_stream.h"

namespace opendbs::engines::postgres {
namespace {

using Key = std::pair<uint32_t, uint64_t>;  // (timeline, segment number)

// The records a promotion writes where its timeline begins, read from the stored segment that holds
// the switch point (access/xlogrecord.h, catalog/pg_control.h; 8 KiB WAL pages): the end-of-recovery
// record (`pg_ctl promote`) or the end-of-recovery checkpoint (a recovery target reached), each with
// the time it was written. Before either, recovery may write a record or two of no interest.
constexpr uint64_t kWalPage = 8192;
constexpr size_t kRecordHeader = 24;
constexpr int kRecordsToRead = 8;

// The bytes of one stored segment from `from` on (at most `limit` of them).
struct SegmentWindow {
  uint64_t from = 0;
  std::string bytes;
  bool has(uint64_t at, uint64_t n) const { return at >= from && at + n <= from + bytes.size(); }
  const char* at(uint64_t offset) const { return bytes.data() + (offset - from); }
};

template <class T>
T load_le(const char* p) {
  T v{};
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint64_t page_header_size(uint64_t offset) { return offset == 0 ? 40 : 24; }  // long header opens a segment

// The record starting at `offset` (at a page boundary: after its header), joined across page
// headers; the offset of the next record, or nullopt when no whole record is there.
std::optional<uint64_t> read_record(const SegmentWindow& w, uint64_t offset, std::string& out) {
  if (offset % kWalPage == 0) offset += page_header_size(offset);
  if (!w.has(offset, 4)) return std::nullopt;
  const auto total = load_le<uint32_t>(w.at(offset));
  if (total < kRecordHeader || total > (1u << 20)) return std::nullopt;  // zeroes: the end of the WAL
  out.clear();
  while (out.size() < total) {
    if (offset % kWalPage == 0) offset += page_header_size(offset);  // the record goes on after the header
    const uint64_t n = std::min<uint64_t>(total - out.size(), kWalPage - offset % kWalPage);
    if (!w.has(offset, n)) return std::nullopt;
    out.append(w.at(offset), n);
    offset += n;
  }
  return (offset + 7) / 8 * 8;
}

// Where a record's main data begins: after its header and data headers (the records read here
// reference no blocks).
std::optional<size_t> main_data(const std::string& record) {
  for (size_t at = kRecordHeader; at < record.size();) {
    const auto id = static_cast<uint8_t>(record[at]);
    if (id == 255) return at + 2;  // XLR_BLOCK_ID_DATA_SHORT
    if (id == 254) return at + 5;  // XLR_BLOCK_ID_DATA_LONG
    if (id == 253) at += 3;        // XLR_BLOCK_ID_ORIGIN
    else if (id == 252) at += 5;   // XLR_BLOCK_ID_TOPLEVEL_XID
    else return std::nullopt;
  }
  return std::nullopt;
}

// The time a record of timeline `timeline` carries: an end-of-recovery record (microseconds), a
// checkpoint (whole seconds) or a transaction's end; ms -1 for any other record.
struct RecordTime {
  int64_t ms = -1;
  bool whole_seconds = false;
};

RecordTime record_time(const std::string& r, uint32_t timeline) {
  const auto data = main_data(r);
  if (!data) return {};
  const auto info = static_cast<uint8_t>(r[16]), rmid = static_cast<uint8_t>(r[17]);
  const size_t d = *data;
  if (rmid == 0 && (info & 0xF0) == 0x90 && d + 16 <= r.size() && load_le<uint32_t>(r.data() + d + 8) == timeline)
    return {pg_micros_to_unix_ms(load_le<int64_t>(r.data() + d))};  // XLOG_END_OF_RECOVERY: end_time, ThisTimeLineID
  if (rmid == 0 && (info & 0xF0) <= 0x10 && d + 72 <= r.size() && load_le<uint32_t>(r.data() + d + 8) == timeline)
    return {load_le<int64_t>(r.data() + d + 64) * 1000, true};  // XLOG_CHECKPOINT_*: CheckPoint.time
  const uint8_t op = info & 0x70;
  if (rmid == 1 && (op == 0x00 || op == 0x20 || op == 0x30 || op == 0x40) && d + 8 <= r.size())
    return {pg_micros_to_unix_ms(load_le<int64_t>(r.data() + d))};  // a commit or abort: xact_time
  return {};
}

// When the source began timeline `timeline` at `begin`: the time of the first record there that
// carries one (its promotion's), from `set` (the stored segment holding `begin`); ms -1 when not found.
core::Result<RecordTime> promotion_time(repo::Repository& repository, const WalSet& set, uint32_t timeline, Lsn begin,
                                   uint64_t segment_size) {
  SegmentWindow w;
  w.from = begin % segment_size / kWalPage * kWalPage;
  const uint64_t until = w.from + 64 * 1024;
  uint64_t offset = 0;
  OPENDBS_TRY(repository.read_stream(set.id, "segment", [&](std::string_view bytes) -> core::Status {
    const uint64_t lo = std::max(offset, w.from), hi = std::min<uint64_t>(offset + bytes.size(), until);
    if (lo < hi) w.bytes.append(bytes.substr(lo - offset, hi - lo));
    offset += bytes.size();
    return {};
  }));
  std::string record;
  std::optional<uint64_t> at = begin % segment_size;
  for (int i = 0; i < kRecordsToRead && at; ++i) {
    const auto next = read_record(w, *at, record);
    if (!next) break;
    if (const auto time = record_time(record, timeline); time.ms >= 0) return time;
    at = next;
  }
  return RecordTime{};
}

// A timeline the repository holds a history file of; when the source began it: its promotion, else
// its first transaction after the switch point (-1 while nothing of it tells: none stored yet); and
// until when the stream held the source's WAL from before it (its history set's end_ms).
struct StoredTimeline {
  TimelineHistory history;
  int64_t begin_ms = -1;
  int64_t stored_before_ms = 0;
};

// When the source began the stored timeline `history.timeline`: its promotion, read at its switch
// point. A checkpoint gives whole seconds, so the promotion lies in the second after; within it, not
// before the stream's last stored WAL from before the timeline (the history set's end_ms: the source
// had left its previous timeline by then) nor after the timeline's first transaction. Without a
// promotion record, its first transaction; -1 while nothing of the timeline is stored.
core::Result<int64_t> timeline_begin_ms(repo::Repository& repository, const std::vector<WalSet>& sets,
                                        const TimelineHistory& history, int64_t stored_before_ms,
                                        uint64_t segment_size) {
  const Lsn begin = history.ancestors.back().end;
  std::map<uint64_t, const WalSet*> by_segno;  // a complete segment, else its newest partial set
  for (const auto& s : sets) {
    if (s.timeline != history.timeline || s.kind == WalSetKind::history || s.segno < begin / segment_size) continue;
    auto& slot = by_segno[s.segno];
    if (!slot || (slot->kind != WalSetKind::segment && (s.kind == WalSetKind::segment || s.bytes > slot->bytes)))
      slot = &s;
  }
  int64_t first_xact_ms = -1;
  for (const auto& [segno, set] : by_segno) {
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(set->id));
    const auto& m = manifest.engine_metadata;
    const bool first = segno == begin / segment_size && m.contains(segment_meta::kTimelineFirstXactMs);
    first_xact_ms = meta_int(m, first ? segment_meta::kTimelineFirstXactMs : segment_meta::kFirstXactMs, -1);
    if (first_xact_ms >= 0) break;
  }
  if (by_segno.empty() || by_segno.begin()->first != begin / segment_size) return first_xact_ms;
  OPENDBS_ASSIGN(const auto promotion,
                 promotion_time(repository, *by_segno.begin()->second, history.timeline, begin, segment_size));
  if (promotion.ms < 0) return first_xact_ms;
  int64_t ms = promotion.ms;
  if (promotion.whole_seconds) ms = std::clamp(stored_before_ms, ms, ms + 999);
  return first_xact_ms >= 0 ? std::min(ms, first_xact_ms) : ms;
}

// The recovery target timeline is the one the source was on at the target: of the backup's own and
// the stored ones that began (were promoted) by then, the one that began last. It must continue the
// backup (pass through its timeline after its stop). `next`: the timeline the source moved to after
// the target, if it is known when (quiet_until_ms, below).
struct TargetTimeline {
  TimelineHistory history;
  std::optional<StoredTimeline> next;
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
  int64_t chosen_begin = std::numeric_limits<int64_t>::min();
  for (const auto& s : sets) {
    if (s.kind != WalSetKind::history || s.timeline == base) continue;
    OPENDBS_ASSIGN(auto history, load_timeline_history(repository, plan_id, s.timeline));
    if (!history) continue;
    OPENDBS_ASSIGN(auto history_set, repository.load_manifest(s.id));
    const int64_t stored_before_ms = meta_int(history_set.engine_metadata, segment_meta::kEndMs, 0);
    OPENDBS_ASSIGN(const int64_t begin_ms,
                   timeline_begin_ms(repository, sets, *history, stored_before_ms, segment_size));
    if (begin_ms < 0) continue;
    if (begin_ms > target_ms) {
      if (!out.next || begin_ms < out.next->begin_ms)
        out.next = StoredTimeline{std::move(*history), begin_ms, stored_before_ms};
    } else if (begin_ms >= chosen_begin) {
      chosen_begin = begin_ms;
      out.history = std::move(*history);
    }
  }
  if (out.history.timeline == base) return out;
  const auto span = out.history.span_of(base);
  if (!span || !span->end || *span->end < stop)
    return base_set_cannot_reach("at RestoreTime " + pg_timestamp_literal(target_ms) + " the source was on timeline " +
                                 std::to_string(out.history.timeline) + ", which does not continue this backup set's " +
                                 "timeline " + std::to_string(base) + " after the set's end: restore from a full " +
                                 "backup set taken on timeline " + std::to_string(out.history.timeline) +
                                 " or before it branched off");
  return out;
}

}  // namespace

namespace {
// In every refusal's message: tablespace_barrier's description of the record.
constexpr std::string_view kTablespaceRefusal = "CREATE TABLESPACE (oid ";
}  // namespace

bool is_tablespace_refusal(const core::Error& error) {
  return error.message.find(kTablespaceRefusal) != std::string::npos;
}

core::Status check_no_tablespace_created(const boost::json::object& segment, const boost::json::object& backup,
                                         int64_t target_ms) {
  const auto backup_start = static_cast<int64_t>(parse_lsn(meta_text(backup, meta::kStartLsn)).value_or(0));
  for (const auto& create : tablespace_creates_of(segment)) {
    const LogBarrier barrier = tablespace_barrier(create);
    if (!barrier.blocks(backup_start, target_ms)) continue;
    const std::string earlier =
        barrier.latest_ms >= 0 ? "a moment before " + pg_timestamp_literal(create.xact_ms_before) +
                                     " (the last commit the WAL holds before it), at the latest " +
                                     pg_timestamp_literal(barrier.latest_ms)
                               : "a moment before it, from an older full set";
    return core::make_error("InvalidParameter", "the WAL that a restore to " + pg_timestamp_literal(target_ms) +
                                                    " replays holds a " + barrier.what + ". Restore to " + earlier +
                                                    ", or take a full backup now and restore from it (a full set "
                                                    "restores its tablespaces inside RestoreDir)");
  }
  return {};
}

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
  // Every stored history file, not only the target timeline's ancestors: recovery promotes to the
  // first timeline number after the target whose history file it cannot fetch, which is then not one
  // the plan already holds (the restored server may become the plan's source).
  for (const auto& s : sets)
    if (s.kind == WalSetKind::history) plan.histories.emplace_back(s.id, s.file);
  plan.chain_end_ms = meta_int(backup, meta::kConsistentMs, 0);
  auto seq = static_cast<uint64_t>(meta_int(backup, meta::kStartSeq, 0));
  for (;; ++seq) {
    auto it = segments.find({history.timeline_of_segment(seq, segment_size), seq});
    if (it == segments.end()) break;
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(it->second->id));
    OPENDBS_TRY(check_no_tablespace_created(manifest.engine_metadata, backup, target_ms));
    plan.segments.emplace_back(it->second->id, it->second->file);
    plan.chain_end_ms = std::max(plan.chain_end_ms, meta_int(manifest.engine_metadata, segment_meta::kEndMs, 0));
    if (meta_int(manifest.engine_metadata, segment_meta::kLastXactMs, -1) > target_ms) {
      plan.stop_at_time = true;
      return plan;
    }
  }
  if (target_ms <= plan.chain_end_ms) return plan;
  // The target lies beyond the complete segments: the next one's stored start may hold it.
  Lsn planned_end = seq * segment_size;  // where the planned WAL ends
  if (auto it = partials.find({history.timeline_of_segment(seq, segment_size), seq}); it != partials.end()) {
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(it->second->id));
    const auto& m = manifest.engine_metadata;
    OPENDBS_TRY(check_no_tablespace_created(m, backup, target_ms));
    plan.partial = std::make_pair(it->second->id, it->second->file);
    planned_end = parse_lsn(meta_text(m, "end_lsn")).value_or(planned_end);
    plan.chain_end_ms = std::max(plan.chain_end_ms, meta_int(m, segment_meta::kEndMs, 0));
    plan.stop_at_time = meta_int(m, segment_meta::kLastXactMs, -1) > target_ms;
  }
  // The source moved to another timeline after the target: until it began there, the source held
  // what the target timeline's stored WAL ends with — provided the planned WAL reaches as far as the
  // stream had stored when the next timeline appeared, and that one does not go on from a point
  // beyond it (a switch the stream has not stored up to yet). When the new timeline forks from an
  // earlier point (a point-in-time recovery of the source), the WAL past the fork is what the source
  // held until it stopped, and the time between is when it was down.
  if (target.next && !plan.stop_at_time && plan.chain_end_ms >= target.next->stored_before_ms) {
    const auto span = target.next->history.span_of(history.timeline);
    if (!span || !span->end || *span->end <= planned_end)
      plan.chain_end_ms = std::max(plan.chain_end_ms, target.next->begin_ms - 1);
  }
  if (!plan.stop_at_time && target_ms > plan.chain_end_ms)
    return core::make_error("InvalidParameter", "RestoreTime " + pg_timestamp_literal(target_ms) +
                                                    " is after the end of the stored WAL (" +
                                                    pg_timestamp_literal(plan.chain_end_ms) + ")");
  return plan;
}

}  // namespace opendbs::engines::postgres
