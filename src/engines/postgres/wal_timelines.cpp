// Where a WAL stream session starts, and how it follows the source from one timeline to the next
// (docs/POSTGRES.md, "Timelines").
#include <algorithm>
#include <limits>

#include <boost/json.hpp>

#include "core/errors.h"
#include "core/log.h"
#include "engines/postgres/tablespace_barriers.h"
#include "engines/postgres/wal_streamer.h"

namespace opendbs::engines::postgres::streamer {
namespace {

// Of one timeline's sets, which ends the stored chain: its history comes first, then its segments
// in order, then its end.
bool ends_later(const WalSet& a, const WalSet& b) {
  auto rank = [](const WalSet& w) { return w.kind == WalSetKind::history ? 0 : w.kind == WalSetKind::segment ? 1 : 2; };
  return rank(a) != rank(b) ? rank(a) > rank(b) : a.segno > b.segno;
}

}  // namespace

// Continue after the newest timeline the repository holds, reconciled with the server's history;
// with nothing stored (or that WAL gone from the source), start where the slot holds WAL.
core::Status WalStreamer::choose_start(PgConnection& repl, uint32_t server_timeline, Lsn slot_restart) {
  OPENDBS_ASSIGN(auto sets, list_wal_sets(repository_, plan_.plan_id, segment_size_));
  partials_.clear();
  uint32_t stored_timeline = 0;
  for (const auto& s : sets) {
    if (s.kind != WalSetKind::filling) stored_timeline = std::max(stored_timeline, s.timeline);
    else if (!superseded_by_final_set(sets, s)) partials_.push_back({s.timeline, s.segno, s.bytes, s.id});
    else if (auto st = repository_.forget_set(s.id); !st.ok())  // left by a session that ended meanwhile
      core::log_event(core::LogLevel::warn, "postgres_partial_forget_failed",
                      {{"plan", plan_.plan_id}, {"set", s.id}, {"error", st.error().message}});
  }
  std::optional<WalSet> newest;
  for (const auto& s : sets)
    if (s.kind != WalSetKind::filling && s.timeline == stored_timeline && (!newest || ends_later(s, *newest))) newest = s;
  prev_end_ms_ = -1;
  covered_send_ms_ = 0;
  timeline_begin_ = 0;
  if (!newest || restart_at_slot_) return start_at(repl, server_timeline, slot_restart);
  return resume_after(repl, server_timeline, slot_restart, *newest, sets);
}

core::Status WalStreamer::resume_after(PgConnection& repl, uint32_t server_timeline, Lsn slot_restart,
                                       const WalSet& newest, const std::vector<WalSet>& sets) {
  OPENDBS_ASSIGN(auto manifest, repository_.load_manifest(newest.id));
  const auto& m = manifest.engine_metadata;
  prev_end_ms_ = meta_int(m, segment_meta::kEndMs, -1);
  Lsn next = newest.segno * segment_size_;  // the first byte not stored, on newest.timeline
  if (newest.kind == WalSetKind::segment) {
    next += segment_size_;
    // Report the newest stored segment again: a crash between its commit and its report (or a
    // failed report) must not leave it FILLING in the catalog. Reports are idempotent.
    OPENDBS_TRY(on_file_({newest.file, static_cast<int64_t>(newest.segno), meta_int(m, "start_ms", prev_end_ms_),
                          std::max<int64_t>(prev_end_ms_, 0), segment_size_, "COMPLETED",
                          tablespace_barriers(tablespace_creates_of(m))}));
  } else if (newest.kind == WalSetKind::history) {
    auto it = m.find("switch_lsn");
    const auto at = it != m.end() && it->value().is_string() ? parse_lsn(std::string(it->value().as_string())) : std::nullopt;
    if (!at) return core::errors::corrupt("set " + newest.id + " does not say where its timeline begins");
    next = *at / segment_size_ * segment_size_;
    timeline_begin_ = *at;  // nothing of the timeline is stored yet
  }
  // A timeline's end (newest.kind == timeline_end) means the stream had moved on: next is where the
  // child's first segment begins.
  const bool ended = newest.kind == WalSetKind::timeline_end;
  const uint32_t stored = newest.timeline;
  if (stored == server_timeline && !ended) {
    OPENDBS_TRY(check_same_timeline(repl, stored));
    timeline_ = stored;
    pos_ = next;
    scanner_.emplace(pos_, segment_size_);
    return {};
  }
  const std::string where = "the stored WAL reaches " + format_lsn(next) + " on timeline " + std::to_string(stored);
  // A source on an older timeline than the stored WAL is still recovering (restored in place to an
  // earlier moment, not promoted yet) or is not the server the WAL came from. Going on at the slot
  // would take that for a gap and store the older timeline's segments again over the stored ones,
  // failing every later session; this one ends instead, and the next one looks again.
  if (stored > server_timeline)
    return source_error("WAL streaming", "the source is on timeline " + std::to_string(server_timeline) +
                                             ", older than the stored WAL (" + where +
                                             "): the log backup waits for it to finish its recovery; a source that "
                                             "stays there is not the server this plan's WAL came from");
  if (stored == server_timeline)
    return continue_at_slot(repl, server_timeline, slot_restart,
                            "the source is on timeline " + std::to_string(server_timeline) + ", " + where);
  return follow_server_history(repl, server_timeline, slot_restart, sets, where);
}

core::Status WalStreamer::continue_at_slot(PgConnection& repl, uint32_t server_timeline, Lsn slot_restart,
                                           const std::string& why) {
  core::log_event(core::LogLevel::warn, "postgres_wal_gap",
                  {{"plan", plan_.plan_id}, {"error", why},
                   {"effect", "continuing at the slot's position; restores need a newer full backup"}});
  restart_at_slot_ = true;
  return start_at(repl, server_timeline, slot_restart);
}

// The source is on a later timeline than the stored WAL: follows its history from the first of its
// timelines the repository does not hold (`where`: how far the stored WAL goes, for the log).
core::Status WalStreamer::follow_server_history(PgConnection& repl, uint32_t server_timeline, Lsn slot_restart,
                                                const std::vector<WalSet>& sets, const std::string& where) {
  auto diverged = [&](const std::string& why) { return continue_at_slot(repl, server_timeline, slot_restart, why); };
  OPENDBS_ASSIGN(auto server, fetch_history(repl, server_timeline));
  // The server's timelines, oldest first, each with where it ends; the one after the newest of them
  // the repository holds is the one to follow, from where its parent ends. (The plan may have begun
  // when the source was past its first timelines: those are not stored.)
  std::vector<TimelineSwitch> chain = server.history.ancestors;
  chain.push_back({server_timeline, std::numeric_limits<Lsn>::max()});
  size_t first_new = chain.size();
  while (first_new > 0 && std::none_of(sets.begin(), sets.end(), [&](const WalSet& s) {
           return s.kind != WalSetKind::filling && s.timeline == chain[first_new - 1].timeline;
         }))
    --first_new;
  if (first_new == 0 || first_new == chain.size())
    return diverged("timeline " + std::to_string(server_timeline) + " of the source does not continue it: " + where);
  const TimelineSwitch parent = chain[first_new - 1];
  OPENDBS_ASSIGN(const auto stored_end, stored_timeline_end(sets, parent.timeline));
  // The rest of the parent first (the server then ends it), unless what is stored of it — the partial
  // set of the segment that was filling included — reaches past where the server's parent ends.
  if (stored_end.lsn < parent.end && stored_end.partial_end <= parent.end) {
    if (stored_end.final)
      return diverged("timeline " + std::to_string(server_timeline) + " of the source continues timeline " +
                      std::to_string(parent.timeline) + " after " + format_lsn(parent.end) + ", where it ended");
    timeline_ = parent.timeline;
    pos_ = stored_end.lsn / segment_size_ * segment_size_;
    timeline_begin_ = stored_end.begins ? stored_end.lsn : 0;
    scanner_.emplace(pos_, segment_size_);
    return {};
  }
  // The parent is stored up to where the source left it, or beyond: the source went back to an
  // earlier point of it (a point-in-time recovery of the source) and branched off there. The WAL
  // stored past that point stays: restores to moments before the new timeline began read it.
  const uint32_t child = chain[first_new].timeline;
  // The history set's end_ms says until when the repository holds the source's WAL from before the
  // new timeline (restores check that they reach it): that includes the partial set of the segment
  // that was filling when the source stopped.
  OPENDBS_TRY(include_partials_end_ms());
  const Lsn stored_to = std::max(stored_end.lsn, stored_end.partial_end);
  if (stored_to > parent.end) log_fork(child, parent.timeline, parent.end, stored_to);
  OPENDBS_TRY(store_history(repl, child));
  timeline_ = child;
  timeline_begin_ = parent.end;
  pos_ = parent.end / segment_size_ * segment_size_;
  scanner_.emplace(pos_, segment_size_);
  return {};
}

// How far a timeline's WAL is stored: after its last complete segment, to its end (a timeline the
// source left: final), or, with nothing of it yet, where it begins.
core::Result<WalStreamer::StoredEnd> WalStreamer::stored_timeline_end(const std::vector<WalSet>& sets,
                                                                      uint32_t timeline) {
  StoredEnd out;
  const WalSet* history = nullptr;
  for (const auto& s : sets) {
    if (s.timeline != timeline) continue;
    if (s.kind == WalSetKind::segment) out.lsn = std::max(out.lsn, (s.segno + 1) * segment_size_);
    if (s.kind == WalSetKind::history) history = &s;
    if (s.kind != WalSetKind::timeline_end) continue;
    OPENDBS_ASSIGN(auto manifest, repository_.load_manifest(s.id));
    out.lsn = std::max(out.lsn, parse_lsn(meta_text(manifest.engine_metadata, "end_lsn")).value_or(0));
    out.final = true;
  }
  if (out.lsn == 0 && history) {
    OPENDBS_ASSIGN(auto manifest, repository_.load_manifest(history->id));
    const auto begin = parse_lsn(meta_text(manifest.engine_metadata, "switch_lsn"));
    if (!begin) return core::errors::corrupt("set " + history->id + " does not say where its timeline begins");
    out.lsn = *begin;
    out.begins = true;
  }
  // The partial sets of the segment after those stored whole (a partial set of a later segment lies
  // after a gap, which the stored WAL does not reach across).
  for (const auto& p : partials_)
    if (p.timeline == timeline && p.segno * segment_size_ <= out.lsn)
      out.partial_end = std::max(out.partial_end, p.segno * segment_size_ + p.bytes);
  return out;
}

// prev_end_ms_ (the next history set's end_ms) takes in the partial sets kept: at a fork, the old
// timeline's WAL up to when the source stopped includes the partial set of the segment that was filling.
core::Status WalStreamer::include_partials_end_ms() {
  for (const auto& p : partials_) {
    OPENDBS_ASSIGN(auto manifest, repository_.load_manifest(p.id));
    prev_end_ms_ = std::max(prev_end_ms_, meta_int(manifest.engine_metadata, segment_meta::kEndMs, -1));
  }
  return {};
}

void WalStreamer::log_fork(uint32_t timeline, uint32_t parent, Lsn fork_lsn, Lsn parent_stored_to) const {
  core::log_event(core::LogLevel::info, "postgres_timeline_fork",
                  {{"plan", plan_.plan_id}, {"timeline", timeline}, {"parent", parent},
                   {"fork_lsn", format_lsn(fork_lsn)}, {"parent_stored_to", format_lsn(parent_stored_to)}});
}

// A timeline number the plan holds must be the same timeline on the source: a source restored by
// other means may have promoted to a number the plan already stores, whose history differs.
core::Status WalStreamer::check_same_timeline(PgConnection& repl, uint32_t timeline) {
  if (timeline <= 1) return {};
  auto stored = read_wal_set(repository_, set_id(history_file_name(timeline)));
  if (!stored.ok()) return is_not_stored(stored.error()) ? core::Status{} : core::Status(stored.error());
  OPENDBS_ASSIGN(auto server, fetch_history(repl, timeline));
  if (server.text == *stored) return {};
  return core::make_error("OperationDenied.NotApplicable",
                          "the source's timeline " + std::to_string(timeline) + " is not the timeline " +
                              std::to_string(timeline) + " the plan stores (their history files differ): the source " +
                              "was restored outside opendbs to a timeline number the plan already holds; start a new "
                              "backup plan for it");
}

// A filling partial set of a segment whose complete set, or whose timeline's end (the segment cut at
// the switch point), is stored: one left by a session that ended between storing that and
// forgetting the partial sets it supersedes.
bool WalStreamer::superseded_by_final_set(const std::vector<WalSet>& sets, const WalSet& partial) {
  return std::any_of(sets.begin(), sets.end(), [&](const WalSet& s) {
    return (s.kind == WalSetKind::timeline_end || s.kind == WalSetKind::segment) && s.timeline == partial.timeline &&
           s.segno == partial.segno;
  });
}

// Starts at `position`'s segment on the timeline the server's history puts that segment on.
core::Status WalStreamer::start_at(PgConnection& repl, uint32_t server_timeline, Lsn position) {
  pos_ = position / segment_size_ * segment_size_;
  timeline_ = server_timeline;
  if (server_timeline > 1) {
    OPENDBS_ASSIGN(auto server, fetch_history(repl, server_timeline));
    timeline_ = server.history.timeline_of_segment(pos_ / segment_size_, segment_size_);
    OPENDBS_TRY(store_history(repl, timeline_));
  }
  scanner_.emplace(pos_, segment_size_);
  return {};
}

core::Result<WalStreamer::FetchedHistory> WalStreamer::fetch_history(PgConnection& repl, uint32_t timeline) {
  OPENDBS_ASSIGN(auto rows, repl.query("TIMELINE_HISTORY " + std::to_string(timeline)));
  const auto file = rows.value(0, "filename");
  const auto text = rows.value(0, "content");
  if (!file || *file != history_file_name(timeline) || !text)
    return source_error("TIMELINE_HISTORY " + std::to_string(timeline), "the server did not send " +
                                                                          history_file_name(timeline));
  OPENDBS_ASSIGN(auto history, parse_timeline_history(timeline, *text));
  return FetchedHistory{std::move(history), *text};
}

// Stores timeline `timeline`'s history file as its own set (unless stored already), reads it back
// to compare, and reports it. Its end_ms is the old timeline's: the moment from which a restore
// follows the new one.
core::Status WalStreamer::store_history(PgConnection& repl, uint32_t timeline) {
  if (timeline <= 1) return {};
  const std::string file = history_file_name(timeline);
  const std::string id = set_id(file);
  auto existing = repository_.load_manifest(id);
  if (existing.ok()) return {};
  if (!is_not_stored(existing.error())) return existing.error();
  OPENDBS_ASSIGN(auto fetched, fetch_history(repl, timeline));
  const TimelineSwitch& parent = fetched.history.ancestors.back();
  const int64_t switch_ms = std::max<int64_t>(prev_end_ms_, 0);
  OPENDBS_TRY(store_set(id, fetched.text,
                        {{"engine", "postgres"},
                         {"kind", wal_kind::kHistory},
                         {"timeline", timeline},
                         {"parent_timeline", parent.timeline},
                         {"switch_lsn", format_lsn(parent.end)},
                         {"wal_segment_size", segment_size_},
                         {segment_meta::kEndMs, switch_ms}}));
  OPENDBS_ASSIGN(auto stored, read_wal_set(repository_, id));
  if (stored != fetched.text) return core::errors::corrupt("set " + id + " does not read back as stored");
  core::log_event(core::LogLevel::info, "postgres_timeline_history_stored",
                  {{"plan", plan_.plan_id}, {"timeline", timeline}, {"parent", parent.timeline},
                   {"switch_lsn", format_lsn(parent.end)}});
  return on_file_({file, static_cast<int64_t>(parent.end / segment_size_), switch_ms, switch_ms, fetched.text.size(),
                   "COMPLETED"});
}

// The server has sent all of timeline_ (up to end.switch_lsn): store its last segment as far as it
// goes, then the new timeline's history, and go on with the new timeline from the switch point's
// segment (whose file on the new timeline repeats the old one's bytes before the switch).
core::Status WalStreamer::end_timeline(PgConnection& repl, const TimelineEnd& end) {
  if (end.next <= timeline_ || end.switch_lsn == 0 || pos_ < end.switch_lsn)
    return source_error("WAL streaming", "the server ended timeline " + std::to_string(timeline_) + " at " +
                                             format_lsn(pos_) + " naming timeline " + std::to_string(end.next) +
                                             " from " + format_lsn(end.switch_lsn));
  // A partial set stored before (by an earlier session) may hold more of timeline_ than the server
  // had when it left it: the server was taken back to an earlier moment (restored, and streamed while
  // it recovered). That set is the old branch's WAL up to when the source stopped; the server's copy
  // of the segment, cut at the fork point, must not take its place.
  Lsn stored_to = 0;
  for (const auto& p : partials_)
    if (p.timeline == timeline_) stored_to = std::max(stored_to, p.segno * segment_size_ + p.bytes);
  if (stored_to > end.switch_lsn) {
    if (open_ && open_->set) open_->set->abort();
    open_.reset();
    OPENDBS_TRY(include_partials_end_ms());
    log_fork(end.next, timeline_, end.switch_lsn, stored_to);
  } else {
    OPENDBS_TRY(store_timeline_end(end.switch_lsn));
  }
  OPENDBS_TRY(store_history(repl, end.next));
  core::log_event(core::LogLevel::info, "postgres_timeline_switch",
                  {{"plan", plan_.plan_id}, {"from", timeline_}, {"to", end.next}, {"at", format_lsn(end.switch_lsn)}});
  timeline_ = end.next;
  timeline_begin_ = end.switch_lsn;
  pos_ = end.switch_lsn / segment_size_ * segment_size_;
  covered_send_ms_ = 0;
  scanner_.emplace(pos_, segment_size_);
  progressed_ = true;
  return {};
}

// The old timeline's last segment up to the switch point, as the set "<WAL file name>.partial"
// (kept if an earlier session stored it before it failed); the open segment's own set is dropped.
core::Status WalStreamer::store_timeline_end(Lsn switch_lsn) {
  if (!open_) return {};  // the switch lies on a segment boundary: the old timeline's segments are complete
  const OpenSegment& s = *open_;
  const uint64_t bytes = switch_lsn - s.segno * segment_size_;
  if (!keeps_received() || s.received.size() < bytes)
    return core::make_error("OperationDenied.NotApplicable",
                            "timeline " + std::to_string(timeline_) + " ends inside segment " + s.name +
                                ", which is not kept in memory (segments over 64 MiB): its last segment cannot be stored");
  const std::string file = s.name + ".partial";
  const std::string id = set_id(file);
  // No transaction of the old timeline is missing up to the last message the server sent of it.
  const int64_t end_ms = std::max<int64_t>({prev_end_ms_, scanner_->last_xact_ms(), last_send_ms_, 0});
  auto existing = repository_.load_manifest(id);
  if (!existing.ok() && !is_not_stored(existing.error())) return existing.error();
  if (!existing.ok()) {
    OPENDBS_TRY(store_set(id, std::string_view(s.received).substr(0, bytes),
                          segment_metadata(wal_kind::kTimelineEnd, switch_lsn, end_ms)));
  }
  const LogFile reported{file, static_cast<int64_t>(s.segno), std::min(s.start_ms, end_ms), end_ms, bytes, "COMPLETED",
                         tablespace_barriers(scanner_->tablespace_creates())};
  const uint64_t segno = s.segno;
  if (open_->set) open_->set->abort();
  open_.reset();
  prev_end_ms_ = end_ms;
  feedback_now_ = true;
  forget_partials(segno, bytes, "");
  reached_durable();
  return on_file_(reported);
}

}  // namespace opendbs::engines::postgres::streamer
