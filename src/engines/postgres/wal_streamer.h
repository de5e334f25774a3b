// The continuous WAL backup's streaming state (wal_stream.h is the interface): wal_stream.cpp
// receives WAL and stores segments and partial sets; wal_timelines.cpp chooses where a session
// starts and follows the source from one timeline to the next.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/clock.h"
#include "core/result.h"
#include "engines/engine.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/timeline_history.h"
#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_scanner.h"
#include "engines/postgres/wal_sets.h"
#include "engines/postgres/wal_stream.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres::streamer {

inline int64_t now_ms() { return core::SystemClock::instance().now_ms(); }

inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class WalStreamer {
 public:
  WalStreamer(const PlanSpec& plan, repo::Repository& repository, TaskControl& control,
              const std::function<core::Status(const LogFile&)>& on_file, const WalStreamOptions& options)
      : plan_(plan), repository_(repository), control_(control), on_file_(on_file), options_(options) {}

  core::Status run();

 private:
  struct OpenSegment {
    uint64_t segno = 0;
    std::string name;
    // Written as the bytes arrive only for a segment not kept in memory (over 64 MiB); otherwise the
    // segment's set is written from `received` when it completes (see store_set).
    std::unique_ptr<repo::SetWriter> set;
    std::unique_ptr<repo::StreamWriter> stream;
    int64_t start_ms = 0;
    int64_t opened_steady_ms = 0;
    int64_t opened_ms = 0;
    std::string received;        // the segment's bytes so far, for its partial sets and a timeline's end
    uint64_t durable_bytes = 0;  // how many of them the newest partial set holds
  };
  struct PartialSet {
    uint32_t timeline = 0;
    uint64_t segno = 0, bytes = 0;
    std::string id;
  };
  // The server's answer when it has sent all of a timeline that is no longer its newest.
  struct TimelineEnd {
    uint32_t next = 0;  // the timeline that follows
    Lsn switch_lsn = 0;  // where the old one ends and the new one begins
  };
  struct FetchedHistory {
    TimelineHistory history;
    std::string text;
  };

  core::Status run_sessions();
  core::Status session();
  // Streams timeline_ from pos_ until the server ends the timeline (returned) or the session fails.
  core::Result<TimelineEnd> stream(PgConnection& repl, PgConnection& sql);
  core::Result<Lsn> ensure_slot(PgConnection& sql, PgConnection& repl, Lsn fallback);
  // wal_timelines.cpp
  core::Status choose_start(PgConnection& repl, uint32_t server_timeline, Lsn slot_restart);
  core::Status start_at(PgConnection& repl, uint32_t server_timeline, Lsn position);
  core::Status resume_after(PgConnection& repl, uint32_t server_timeline, Lsn slot_restart, const WalSet& newest,
                            const std::vector<WalSet>& sets);
  core::Status continue_at_slot(PgConnection& repl, uint32_t server_timeline, Lsn slot_restart, const std::string& why);
  core::Status follow_server_history(PgConnection& repl, uint32_t server_timeline, Lsn slot_restart,
                                     const std::vector<WalSet>& sets, const std::string& where);
  struct StoredEnd {
    Lsn lsn = 0;
    bool final = false;   // the timeline's end is stored: the source left it there
    bool begins = false;  // nothing of it is stored but its history: lsn is where it begins
    Lsn partial_end = 0;  // how far the partial sets of the segment at lsn reach (0: none stored)
  };
  core::Result<StoredEnd> stored_timeline_end(const std::vector<WalSet>& sets, uint32_t timeline);
  core::Status include_partials_end_ms();
  void log_fork(uint32_t timeline, uint32_t parent, Lsn fork_lsn, Lsn parent_stored_to) const;
  core::Status check_same_timeline(PgConnection& repl, uint32_t timeline);
  static bool superseded_by_final_set(const std::vector<WalSet>& sets, const WalSet& partial);
  core::Status end_timeline(PgConnection& repl, const TimelineEnd& end);
  core::Status store_timeline_end(Lsn switch_lsn);
  core::Status store_history(PgConnection& repl, uint32_t timeline);
  core::Result<FetchedHistory> fetch_history(PgConnection& repl, uint32_t timeline);

  core::Status on_xlog_data(std::string_view body);
  core::Status open_segment(int64_t send_ms);
  core::Status complete_segment();
  boost::json::object segment_metadata(const char* kind, Lsn end_lsn, int64_t end_ms) const;
  // Stores `data` as the one-stream set `id` in one go (retrying while a prune holds the repository).
  core::Status store_set(const std::string& id, std::string_view data, const boost::json::object& metadata);
  void note_flush_time(Lsn wal_end, int64_t send_ms);
  core::Status flush_partial();
  void forget_partials(uint64_t segno, uint64_t bytes, const std::string& keep);
  Lsn durable_lsn() const { return open_ ? open_->segno * segment_size_ + open_->durable_bytes : pos_; }
  void observe_server_flush(Lsn flushed, int64_t send_ms);
  void reached_durable();
  void note_session_start();
  void raise_known_durable(Lsn lsn);
  int poll_wait_ms() const;
  // The open segment is kept in memory (for partial sets and a timeline's last segment) only for
  // segments of up to 64 MiB.
  bool keeps_received() const { return segment_size_ <= (64u << 20); }
  bool partials_enabled() const { return options_.durable_interval_ms > 0 && keeps_received(); }
  core::Status send_feedback(PgConnection& repl, bool request_reply = false);
  // Ends the session when the source has been silent too long; asks it for a reply before.
  core::Status check_silence(PgConnection& repl);
  bool reply_overdue() const;
  void heard_from_source();
  void maybe_switch(PgConnection& sql);
  void report_lag(bool now);
  static double lag_age_s(int64_t since_ms);
  std::string set_id(const std::string& file) const { return wal_set_prefix(plan_.plan_id) + file; }

  const PlanSpec& plan_;
  repo::Repository& repository_;
  TaskControl& control_;
  const std::function<core::Status(const LogFile&)>& on_file_;
  WalStreamOptions options_;

  uint64_t segment_size_ = 0;
  uint32_t timeline_ = 1;  // the timeline being streamed (older than the server's while catching up)
  Lsn timeline_begin_ = 0;  // where timeline_ began, when the stream followed it from there (0: not known)
  Lsn pos_ = 0;      // the next byte expected
  bool feedback_now_ = false;  // a segment or partial set was committed: tell the server at once
  Lsn server_flush_ = 0;       // the server's flush position, from XLogData and keepalives
  int64_t last_send_ms_ = 0;          // the server's clock in the newest XLogData
  // When the source last answered (a message of the stream, or a session's IDENTIFY_SYSTEM), on
  // the steady and the wall clock; how long the stream has waited for it since (time spent committing
  // does not count: the source may have sent what is not read yet); whether it was asked for a reply.
  int64_t heard_steady_ms_ = 0, heard_ms_ = 0;
  int64_t waited_ms_ = 0;
  bool reply_requested_ = false;
  // When the source fell silent, if it spoke again (this or a new session) after a reply was
  // overdue: WAL it reports next may have been flushed at any moment since, so its age counts from
  // then, and the lag does not start again from 0 when the silent session is replaced.
  int64_t silent_since_ms_ = 0;
  int64_t covered_send_ms_ = 0;       // see note_flush_time
  // The server's flush position over time: (position, when first seen), ascending; entries at or
  // below the durable position are dropped. The lag's age is that of the oldest entry left.
  std::deque<std::pair<Lsn, int64_t>> seen_;
  // The end of the WAL known to be durable in the repository, across sessions: a session that failed
  // had received WAL it could not store (pos_ is past it), and the next one starts again at the
  // beginning of a segment, of which a partial set may hold more.
  Lsn known_durable_ = 0;
  uint32_t known_durable_timeline_ = 0;  // positions of another timeline may lie below (a fork)
  int64_t durable_steady_ms_ = 0;  // when the durable position last moved
  int64_t min_delay_ms_ = std::numeric_limits<int64_t>::max();  // see observe_server_flush
  // The lag as report_lag last found it: bytes not durable, and when the oldest was seen (0: none).
  std::atomic<uint64_t> lag_bytes_{0};
  std::atomic<int64_t> lag_since_ms_{0};
  std::vector<PartialSet> partials_;  // partial sets in the repository, oldest first
  int64_t prev_end_ms_ = -1;
  std::optional<WalScanner> scanner_;
  std::optional<OpenSegment> open_;
  bool restart_at_slot_ = false;  // the stored chain's next segment is gone from the source
  bool progressed_ = false;
  bool switch_allowed_ = true;
};

}  // namespace opendbs::engines::postgres::streamer
