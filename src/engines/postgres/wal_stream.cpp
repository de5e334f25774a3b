#include "engines/postgres/wal_stream.h"

#include <algorithm>
#include <thread>
#include <utility>

#include <boost/json.hpp>

#include "core/errors.h"
#include "core/log.h"
#include "engines/postgres/tablespace_barriers.h"
#include "engines/postgres/wal_streamer.h"
#include "repo/lock.h"

namespace opendbs::engines::postgres {
namespace streamer {
namespace {

uint64_t be64(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (size_t i = at; i < at + 8 && i < b.size(); ++i) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

void put_be64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

bool wal_removed(const core::Error& e) { return e.message.find("has already been removed") != std::string::npos; }

// A set the stream cannot begin because a prune holds the repository is retried this often, this many
// times (20 s: well inside the server's wal_sender_timeout of 60 s, as the stream sends no feedback
// while it waits); then the session ends and the next one resumes from what is durable.
constexpr int kLockedRetries = 20;
constexpr int kLockedRetryMs = 1000;

}  // namespace

core::Result<Lsn> WalStreamer::ensure_slot(PgConnection& sql, PgConnection& repl, Lsn fallback) {
  const std::string slot = slot_name(plan_.plan_id);
  const std::string q = "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = $1";
  OPENDBS_ASSIGN(auto rows, sql.query_params(q, {slot}));
  if (rows.rows.empty()) {
    auto created = repl.query("CREATE_REPLICATION_SLOT " + slot + " PHYSICAL RESERVE_WAL");
    if (!created.ok() && sqlstate_of(created.error()) != "42710") return created.error();
    core::log_event(core::LogLevel::info, "postgres_slot_created", {{"plan", plan_.plan_id}, {"slot", slot}});
    OPENDBS_ASSIGN(rows, sql.query_params(q, {slot}));
  }
  const auto restart = rows.rows.empty() ? std::nullopt : rows.value(0, "restart_lsn");
  return restart ? parse_lsn(*restart).value_or(fallback) : fallback;
}

core::Status WalStreamer::open_segment(int64_t send_ms) {
  OpenSegment s;
  s.segno = pos_ / segment_size_;
  s.name = wal_file_name(timeline_, s.segno, segment_size_);
  if (keeps_received()) {
    s.received.reserve(segment_size_);
  } else {
    OPENDBS_ASSIGN(s.set, repository_.begin_set(set_id(s.name)));
    OPENDBS_ASSIGN(s.stream, s.set->add_stream("segment", repo::FileMeta{segment_size_, 0600, now_ms()}));
  }
  s.start_ms = prev_end_ms_ >= 0 ? prev_end_ms_ : send_ms;
  s.opened_steady_ms = steady_ms();
  s.opened_ms = now_ms();
  scanner_->reset_times();
  if (timeline_begin_ > 0 && timeline_begin_ / segment_size_ == s.segno) scanner_->watch_from(timeline_begin_);
  // While open, the file claims nothing beyond the previous segment's end (restore ranges read EndTime).
  OPENDBS_TRY(on_file_({s.name, static_cast<int64_t>(s.segno), s.start_ms, std::max<int64_t>(prev_end_ms_, 0), 0,
                        "FILLING"}));
  open_ = std::move(s);
  return {};
}

// The latest moment at which the server had flushed no more than the segment being filled: the send
// time of an XLogData message whose walEnd (the server's flush position; a keepalive's is only what
// was sent) lies at or before that segment's end.
void WalStreamer::note_flush_time(Lsn wal_end, int64_t send_ms) {
  if (segment_size_ == 0) return;
  if (wal_end <= (pos_ / segment_size_ + 1) * segment_size_) covered_send_ms_ = std::max(covered_send_ms_, send_ms);
}

core::Status WalStreamer::complete_segment() {
  auto& s = *open_;
  // end_ms: no commit at or before it is missing from the chain: the segment's own last commit, and
  // the last moment the server had flushed no more than this segment (a commit then was in it). The
  // latter matters after pg_switch_wal: the server may have written more WAL by the time it sent
  // the segment's last bytes. A segment the server had long finished, without transactions (the
  // first one a new slot streams), has only the start of a checkpoint it holds: a later commit
  // comes after that checkpoint's record.
  int64_t end_ms = std::max({prev_end_ms_, scanner_->last_xact_ms(), covered_send_ms_, scanner_->checkpoint_ms()});
  end_ms = std::max<int64_t>(end_ms, 0);
  covered_send_ms_ = 0;  // the next segment's
  const auto metadata = segment_metadata(wal_kind::kSegment, pos_, end_ms);
  if (s.set) {
    OPENDBS_TRY(s.stream->close());
    OPENDBS_TRY(s.set->commit(metadata));
  } else {
    // Every session starts at a segment boundary, so the whole segment is in memory; a short one
    // must never be stored as complete.
    if (s.received.size() != segment_size_)
      return core::errors::internal("segment " + s.name + " completed with " + std::to_string(s.received.size()) +
                                    " of its " + std::to_string(segment_size_) + " bytes received");
    OPENDBS_TRY(store_set(set_id(s.name), s.received, metadata));
  }
  OPENDBS_TRY(on_file_({s.name, static_cast<int64_t>(s.segno), std::min(s.start_ms, end_ms), end_ms, segment_size_,
                        "COMPLETED", tablespace_barriers(scanner_->tablespace_creates())}));
  feedback_now_ = true;
  prev_end_ms_ = end_ms;
  progressed_ = true;
  const uint64_t segno = s.segno;
  open_.reset();
  reached_durable();
  forget_partials(segno, segment_size_, "");
  return {};
}

// The metadata of a set holding (part of) the open segment, up to `end_lsn`.
// When the segment holds the beginning of the timeline, also the timeline's first transaction
// (restores choose a timeline by it).
boost::json::object WalStreamer::segment_metadata(const char* kind, Lsn end_lsn, int64_t end_ms) const {
  const OpenSegment& s = *open_;
  boost::json::object m{{"engine", "postgres"},
                        {"kind", kind},
                        {"timeline", timeline_},
                        {"segno", s.segno},
                        {"wal_segment_size", segment_size_},
                        {"start_lsn", format_lsn(s.segno * segment_size_)},
                        {"end_lsn", format_lsn(end_lsn)},
                        {"start_ms", s.start_ms},
                        {segment_meta::kEndMs, end_ms},
                        {segment_meta::kFirstXactMs, scanner_->first_xact_ms()},
                        {segment_meta::kLastXactMs, scanner_->last_xact_ms()}};
  if (timeline_begin_ > 0 && timeline_begin_ / segment_size_ == s.segno)
    m[segment_meta::kTimelineFirstXactMs] = scanner_->watched_xact_ms();
  if (!scanner_->tablespace_creates().empty())
    m[segment_meta::kTablespaceCreates] = tablespace_creates_meta(scanner_->tablespace_creates());
  return m;
}

// A set — and the shared repository lock it holds — is open only while it commits, so that a prune,
// which needs the repository alone, finds its moment while the log backup runs. A prune holding the
// repository meanwhile is waited for: the bytes are in memory and the server keeps the WAL until it
// is reported flushed.
core::Status WalStreamer::store_set(const std::string& id, std::string_view data, const boost::json::object& metadata) {
  for (int attempt = 0;; ++attempt) {
    auto set = repository_.begin_set(id);
    if (set.ok()) {
      auto& writer = *set;
      OPENDBS_ASSIGN(auto stream, writer->add_stream("segment", repo::FileMeta{data.size(), 0600, now_ms()}));
      OPENDBS_TRY(stream->write(data));
      OPENDBS_TRY(stream->close());
      return writer->commit(metadata);
    }
    if (!repo::locked_by_another(set.error()) || attempt >= kLockedRetries || control_.cancelled())
      return set.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(kLockedRetryMs));
  }
}

// Commits what has arrived of the open segment as a partial set (a new one each time: set ids are
// never reused), then forgets the partial sets it supersedes. A partial set left by an earlier
// session that holds at least as much of the segment (the same bytes: the server sends only WAL it
// has flushed) already makes it durable, so none is written, and its id is not reused.
core::Status WalStreamer::flush_partial() {
  auto& s = *open_;
  const uint64_t bytes = s.received.size();
  for (const auto& p : partials_)
    if (p.timeline == timeline_ && p.segno == s.segno && p.bytes >= bytes) {
      s.durable_bytes = bytes;
      feedback_now_ = true;
      reached_durable();
      return {};
    }
  const std::string id = log_partial_prefix(plan_.plan_id, s.name) + std::to_string(bytes);
  int64_t end_ms = std::max({prev_end_ms_, scanner_->last_xact_ms(), scanner_->checkpoint_ms()});
  if (server_flush_ <= pos_) end_ms = std::max(end_ms, last_send_ms_);
  OPENDBS_TRY(store_set(id, s.received,
                        segment_metadata(wal_kind::kFilling, s.segno * segment_size_ + bytes, std::max<int64_t>(end_ms, 0))));
  s.durable_bytes = bytes;
  feedback_now_ = true;
  partials_.push_back({timeline_, s.segno, bytes, id});
  reached_durable();
  forget_partials(s.segno, bytes, id);
  // The open file's EndTime moves up to what the partial set holds: restore ranges (and restores,
  // which read the newest partial set) reach it.
  return on_file_({s.name, static_cast<int64_t>(s.segno), s.start_ms, std::max<int64_t>(end_ms, 0), bytes, "FILLING",
                   tablespace_barriers(scanner_->tablespace_creates())});
}

// Forgets the stream's timeline's partial sets of `segno` holding no more than `bytes` (a partial
// left by an earlier session may hold more than this session has received so far). Those of an
// earlier segment are kept: the stream passed that segment without storing it (a gap: the source
// had removed it), so the partial set is the last stored WAL before the gap, restorable to its end
// (docs/OPERATIONS.md, "When log backup ends"). Another timeline's are kept too: the last WAL of a
// timeline the source branched off from at an earlier point (wal_timelines.cpp).
void WalStreamer::forget_partials(uint64_t segno, uint64_t bytes, const std::string& keep) {
  std::vector<PartialSet> kept;
  for (auto& p : partials_) {
    const bool superseded = p.timeline == timeline_ && p.segno == segno && p.bytes <= bytes;
    if (p.id == keep || !superseded) {
      kept.push_back(std::move(p));
      continue;
    }
    auto st = repository_.forget_set(p.id);
    if (!st.ok())  // harmless: a stale partial is superseded by what follows it
      core::log_event(core::LogLevel::warn, "postgres_partial_forget_failed",
                      {{"plan", plan_.plan_id}, {"set", p.id}, {"error", st.error().message}});
  }
  partials_ = std::move(kept);
}

// A position counts as seen when the server sent it plus the smallest delay any message of this
// session showed (now − send time): that includes the time a message waited in the socket while the
// stream committed a set, and cancels any skew between the two clocks. Positions seen within 10 ms of
// each other (or past 1000 entries) share the older entry's time, which overstates their age by at
// most that much and bounds the history. send_ms < 0: seen now.
void WalStreamer::observe_server_flush(Lsn flushed, int64_t send_ms) {
  const int64_t now = now_ms();
  if (send_ms >= 0) min_delay_ms_ = std::min(min_delay_ms_, now - send_ms);
  const int64_t silent_since = std::exchange(silent_since_ms_, 0);
  if (flushed <= server_flush_) return;
  server_flush_ = flushed;
  int64_t t = send_ms < 0 ? now : std::min(now, send_ms + min_delay_ms_);
  if (silent_since > 0) t = std::min(t, silent_since);  // flushed at some moment of the silence
  if (!seen_.empty() && (t - seen_.back().second < 10 || seen_.size() >= 1000))
    seen_.back().first = flushed;
  else
    seen_.emplace_back(flushed, t);
}

void WalStreamer::heard_from_source() {
  if (reply_overdue()) silent_since_ms_ = heard_ms_;
  heard_steady_ms_ = steady_ms();
  heard_ms_ = now_ms();
  waited_ms_ = 0;
  reply_requested_ = false;
}

void WalStreamer::raise_known_durable(Lsn lsn) {
  if (timeline_ != known_durable_timeline_) {
    known_durable_ = 0;
    known_durable_timeline_ = timeline_;
  }
  known_durable_ = std::max(known_durable_, lsn);
}

void WalStreamer::reached_durable() {
  raise_known_durable(durable_lsn());
  durable_steady_ms_ = steady_ms();
  report_lag(true);
}

// Where the session starts, everything before is stored, and so is what the segment's newest partial
// set holds. Reported at once: the lag goes on from what earlier sessions left undurable, also while
// this one waits for the repository before its first commit.
void WalStreamer::note_session_start() {
  raise_known_durable(pos_);
  for (const auto& p : partials_)
    if (p.timeline == timeline_ && p.segno == pos_ / segment_size_) raise_known_durable(p.segno * segment_size_ + p.bytes);
  report_lag(true);
}

// A walsender whose client replies regularly sends nothing while its server is idle, so silence
// alone proves nothing: after ping_after_ms the source is asked to reply at once (a status update
// with replyRequested); silence_timeout_ms ends the session.
core::Status WalStreamer::check_silence(PgConnection& repl) {
  const int64_t silent_ms = waited_ms_;
  if (silent_ms >= options_.silence_timeout_ms)
    return source_error("WAL streaming", "no message from the source for " + std::to_string(silent_ms / 1000) +
                                             " s, not even a reply to a keepalive request: the connection is "
                                             "taken for dead and opened again");
  if (silent_ms >= options_.ping_after_ms && !reply_requested_) {
    reply_requested_ = true;
    return send_feedback(repl, /*request_reply=*/true);
  }
  return {};
}

// The source was asked for a reply and has not given one within a second: what it wrote since it
// last spoke may be lost, so the lag counts from then.
bool WalStreamer::reply_overdue() const {
  return heard_steady_ms_ > 0 && steady_ms() - heard_steady_ms_ >= options_.ping_after_ms + 1000;
}

// How long to wait for the next message: never past the moment the pending WAL must become durable.
int WalStreamer::poll_wait_ms() const {
  if (!open_ || !partials_enabled() || open_->received.size() <= open_->durable_bytes) return 500;
  const int64_t due = durable_steady_ms_ + options_.durable_interval_ms - steady_ms();
  return static_cast<int>(std::clamp<int64_t>(due, 1, 500));
}

// XLogData: dataStart, walEnd (the server's flush position), sendTime, then WAL bytes.
core::Status WalStreamer::on_xlog_data(std::string_view body) {
  if (body.size() < 24) return core::errors::corrupt("short XLogData message");
  Lsn start = be64(body, 0);
  const Lsn wal_end = be64(body, 8);
  const int64_t send_ms = pg_micros_to_unix_ms(static_cast<int64_t>(be64(body, 16)));
  std::string_view data = body.substr(24);
  observe_server_flush(wal_end, send_ms);
  note_flush_time(wal_end, send_ms);
  last_send_ms_ = std::max(last_send_ms_, send_ms);
  if (start > pos_) return core::errors::corrupt("WAL stream skipped from " + format_lsn(pos_) + " to " + format_lsn(start));
  if (start < pos_) data.remove_prefix(std::min<uint64_t>(data.size(), pos_ - start));
  while (!data.empty()) {
    if (!open_) OPENDBS_TRY(open_segment(send_ms));
    const uint64_t room = segment_size_ - pos_ % segment_size_;
    const std::string_view piece = data.substr(0, std::min<uint64_t>(room, data.size()));
    if (open_->stream) OPENDBS_TRY(open_->stream->write(piece));
    if (keeps_received()) open_->received.append(piece);
    scanner_->feed(piece);
    pos_ += piece.size();
    data.remove_prefix(piece.size());
    if (pos_ % segment_size_ == 0) OPENDBS_TRY(complete_segment());
  }
  return {};
}

core::Status WalStreamer::send_feedback(PgConnection& repl, bool request_reply) {
  // Written = received; flushed (and applied) = durable in the repository, so the server's own
  // pg_stat_replication.flush_lag measures the lag defined in report_lag. The slot keeps WAL from
  // the flushed position, which lies in the first segment not committed, so nothing unstored is
  // recycled; a shutting-down server waits for this confirmation (the next partial set) before it
  // stops. Without partial sets, received bytes count as flushed, as the server would otherwise wait
  // for a whole segment.
  const Lsn flushed = partials_enabled() ? durable_lsn() : pos_;
  std::string msg = "r";
  put_be64(msg, pos_);
  put_be64(msg, flushed);
  put_be64(msg, flushed);
  put_be64(msg, static_cast<uint64_t>(unix_ms_to_pg_micros(now_ms())));
  msg += request_reply ? '\1' : '\0';
  feedback_now_ = false;
  return repl.put_copy_data(msg);
}

// Lag: the WAL the server has flushed that is not yet durable in the repository (neither in a
// committed segment nor in the open segment's newest partial set) — what would be lost if the source
// vanished now — and how long ago the oldest of it was first seen.
// Publishes the lag for the reporter thread (run), which reports it every 100 ms, so that its age
// keeps growing while this thread is blocked (a slow commit, a stalled source); `now` also reports it
// at once (a durable point).
void WalStreamer::report_lag(bool now) {
  const Lsn durable = open_ ? std::max(known_durable_, durable_lsn()) : known_durable_;
  const uint64_t bytes = server_flush_ > durable ? server_flush_ - durable : 0;
  while (!seen_.empty() && seen_.front().first <= durable) seen_.pop_front();
  int64_t since = bytes == 0 || seen_.empty() ? 0 : seen_.front().second;
  if (reply_overdue()) since = since == 0 ? heard_ms_ : std::min(since, heard_ms_);
  lag_bytes_ = bytes;
  lag_since_ms_ = since;
  if (now) control_.lag(bytes, lag_age_s(since));
}

double WalStreamer::lag_age_s(int64_t since_ms) {
  return since_ms == 0 ? 0.0 : static_cast<double>(std::max<int64_t>(0, now_ms() - since_ms)) / 1000.0;
}

void WalStreamer::maybe_switch(PgConnection& sql) {
  if (!open_ || !switch_allowed_ || options_.switch_interval_ms <= 0) return;
  if (steady_ms() - open_->opened_steady_ms < options_.switch_interval_ms) return;
  open_->opened_steady_ms = steady_ms();  // at most one switch per interval
  // A standby (a source being promoted) cannot switch; it is asked again once it can.
  auto st = sql.query("SELECT pg_switch_wal() WHERE NOT pg_is_in_recovery()");
  if (!st.ok()) {
    switch_allowed_ = false;
    core::log_event(core::LogLevel::warn, "postgres_switch_wal_refused",
                    {{"plan", plan_.plan_id}, {"error", st.error().message},
                     {"hint", "GRANT EXECUTE ON FUNCTION pg_switch_wal() TO the backup role, or set archive_timeout"}});
  }
}

core::Status WalStreamer::session() {
  OPENDBS_ASSIGN(auto sql, PgConnection::open(plan_.source, ConnectionKind::sql));
  OPENDBS_ASSIGN(auto repl, PgConnection::open(plan_.source, ConnectionKind::replication));
  OPENDBS_ASSIGN(auto setting, sql->query("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'"));
  segment_size_ = std::stoull(setting.value(0, "setting").value_or("16777216"));
  OPENDBS_ASSIGN(auto ident, repl->query("IDENTIFY_SYSTEM"));
  heard_from_source();
  const auto server_timeline = static_cast<uint32_t>(std::stoul(ident.value(0, "timeline").value_or("1")));
  const Lsn flushed = parse_lsn(ident.value(0, "xlogpos").value_or("0/0")).value_or(0);
  min_delay_ms_ = std::numeric_limits<int64_t>::max();  // the server's clock may have changed
  observe_server_flush(flushed, -1);
  OPENDBS_ASSIGN(const Lsn slot_restart, ensure_slot(*sql, *repl, flushed));
  OPENDBS_TRY(choose_start(*repl, server_timeline, slot_restart));
  note_session_start();
  for (;;) {
    OPENDBS_ASSIGN(const auto end, stream(*repl, *sql));
    OPENDBS_TRY(end_timeline(*repl, end));
  }
}

core::Result<WalStreamer::TimelineEnd> WalStreamer::stream(PgConnection& repl, PgConnection& sql) {
  OPENDBS_TRY(repl.send("START_REPLICATION SLOT " + slot_name(plan_.plan_id) + " PHYSICAL " + format_lsn(pos_) +
                        " TIMELINE " + std::to_string(timeline_)));
  OPENDBS_ASSIGN(auto started, repl.next_result(&control_));
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_BOTH)
    return source_error("START_REPLICATION", started ? PQresultErrorMessage(started.get()) : repl.error_message());
  core::log_event(core::LogLevel::info, "postgres_wal_stream_started",
                  {{"plan", plan_.plan_id}, {"from", format_lsn(pos_)}, {"timeline", timeline_}});

  int64_t last_feedback = steady_ms();
  for (;;) {
    const int64_t polled_ms = steady_ms();
    OPENDBS_ASSIGN(auto read, repl.poll_copy_data(&control_, poll_wait_ms()));
    if (read.idle) waited_ms_ += steady_ms() - polled_ms;
    if (read.end) {
      // The server ended its side: either it has sent all of a timeline that is no longer its newest
      // (a result set naming the next timeline and the switch point follows once our side ends too),
      // or it is shutting down.
      (void)repl.put_copy_end();
      OPENDBS_ASSIGN(auto result, repl.next_result(&control_));
      if (result && PQresultStatus(result.get()) == PGRES_TUPLES_OK && PQntuples(result.get()) == 1 &&
          PQnfields(result.get()) == 2) {
        const TimelineEnd end{static_cast<uint32_t>(std::stoul(PQgetvalue(result.get(), 0, 0))),
                              parse_lsn(PQgetvalue(result.get(), 0, 1)).value_or(0)};
        for (;;) {  // CommandComplete, then the end of the command's results
          OPENDBS_ASSIGN(auto more, repl.next_result(&control_));
          if (!more) break;
        }
        return end;
      }
      const std::string why = result ? PQresultErrorMessage(result.get()) : "the stream ended";
      return source_error("WAL streaming", why.empty() ? "the server ended the stream" : why);
    }
    bool reply = false;
    if (!read.idle && !read.bytes.empty()) {
      heard_from_source();
      const std::string_view m(read.bytes);
      if (m[0] == 'w') {
        OPENDBS_TRY(on_xlog_data(m.substr(1)));
      } else if (m[0] == 'k' && m.size() >= 18) {  // keepalive: walEnd, sendTime, replyRequested
        observe_server_flush(be64(m, 1), pg_micros_to_unix_ms(static_cast<int64_t>(be64(m, 9))));
        reply = m[17] != 0;
      }
    }
    OPENDBS_TRY(check_silence(repl));
    report_lag(false);  // before a commit, which may wait for the repository
    if (open_ && partials_enabled() && open_->received.size() > open_->durable_bytes &&
        steady_ms() - durable_steady_ms_ >= options_.durable_interval_ms)
      OPENDBS_TRY(flush_partial());
    const bool feedback_due = steady_ms() - last_feedback >= options_.feedback_interval_ms;
    if (reply || feedback_due || feedback_now_) {
      OPENDBS_TRY(send_feedback(repl));
      last_feedback = steady_ms();
    }
    maybe_switch(sql);
  }
}

core::Status WalStreamer::run() {
  std::atomic<bool> done{false};
  std::thread reporter([&] {
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      control_.lag(lag_bytes_, lag_age_s(lag_since_ms_));
    }
  });
  auto st = run_sessions();
  done = true;
  reporter.join();
  return st;
}

core::Status WalStreamer::run_sessions() {
  int failures = 0;
  int64_t wait_ms = 1000;
  for (;;) {
    progressed_ = false;
    auto st = session();
    open_.reset();  // the open segment is received again by the next session (its partial set stays)
    report_lag(true);  // what the session could not store stays lag, and ages, until a later one does
    if (control_.cancelled()) return cancelled_error();
    if (!st.ok() && wal_removed(st.error()) && !restart_at_slot_) {
      core::log_event(core::LogLevel::warn, "postgres_wal_gap",
                      {{"plan", plan_.plan_id}, {"error", st.error().message},
                       {"effect", "continuing at the slot's position; restores need a newer full backup"}});
      restart_at_slot_ = true;
      continue;
    }
    if (progressed_) {
      failures = 0;
      wait_ms = 1000;
      restart_at_slot_ = false;
    }
    const std::string why = st.ok() ? "the server ended the stream" : st.error().message;
    if (++failures > options_.max_failed_sessions) return st.ok() ? source_error("WAL streaming", why) : st;
    core::log_event(core::LogLevel::warn, "postgres_wal_session_ended",
                    {{"plan", plan_.plan_id}, {"error", why}, {"retry_in_ms", wait_ms}});
    for (int64_t until = steady_ms() + wait_ms; steady_ms() < until;) {
      if (control_.cancelled()) return cancelled_error();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    wait_ms = std::min(wait_ms * 2, options_.max_retry_wait_ms);
  }
}

}  // namespace streamer

core::Status drop_wal_slot(const PlanSpec& plan, int64_t wait_ms) {
  const std::string slot = slot_name(plan.plan_id);
  auto sql = PgConnection::open(plan.source, ConnectionKind::sql);
  if (!sql.ok()) {  // the caller retries; meanwhile the operator knows what is kept and how to drop it
    auto e = sql.error();
    e.message = "cannot drop the replication slot " + slot + " on " + plan.source.host + ":" +
                std::to_string(plan.source.port) + " (by hand: SELECT pg_drop_replication_slot('" + slot +
                "')): " + e.message;
    return e;
  }
  for (const int64_t until = streamer::steady_ms() + wait_ms;;) {
    OPENDBS_ASSIGN(auto rows, (*sql)->query_params(
        "SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = $1", {slot}));
    if (rows.rows.empty()) return {};
    if (rows.value(0, "active").value_or("f") != "t") {
      auto dropped = (*sql)->query_params("SELECT pg_drop_replication_slot($1)", {slot});
      if (dropped.ok()) {
        core::log_event(core::LogLevel::info, "postgres_slot_dropped", {{"plan", plan.plan_id}, {"slot", slot}, {"source", plan.source.host + ":" + std::to_string(plan.source.port)}});
        return {};
      }
      if (sqlstate_of(dropped.error()) != "55006") return dropped.error();  // 55006: became active meanwhile
    }
    if (streamer::steady_ms() >= until)
      return core::make_error("OperationDenied.NotApplicable",
                              "the replication slot " + slot + " is in use by process " +
                                  rows.value(0, "active_pid").value_or("?") + " on the source; stop the log backup first");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

core::Status stream_wal(const PlanSpec& plan, repo::Repository& repository, TaskControl& control,
                        const std::function<core::Status(const LogFile&)>& on_file, const WalStreamOptions& options) {
  return streamer::WalStreamer(plan, repository, control, on_file, options).run();
}

}  // namespace opendbs::engines::postgres
