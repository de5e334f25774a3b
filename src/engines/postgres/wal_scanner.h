// Finds the commit and abort timestamps in a stream of WAL, as recovery_target_time sees them.
//
// Point-in-time restore needs, per stored segment, the times of the transactions it ends: recovery
// stops before the first commit or abort record later than the target, and fails when no such
// record follows the target in the WAL it is given. The scanner walks the page and record headers
// (access/xlog_internal.h, access/xlogrecord.h) starting at a segment boundary, keeps only the first
// bytes of each record, and reads xact_time from XLOG_XACT_COMMIT/ABORT(_PREPARED) records and the
// checkpoint's start time from XLOG_CHECKPOINT_SHUTDOWN/ONLINE records.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace opendbs::engines::postgres {

// A CREATE TABLESPACE in the WAL (XLOG_TBLSPC_CREATE): replaying it makes PostgreSQL empty and use
// the directory at `path` — on the restore's machine, wherever that is (docs/POSTGRES.md, G20).
struct TablespaceCreate {
  uint64_t lsn = 0;
  uint32_t oid = 0;
  std::string path;              // as far as the scanner keeps a record's bytes
  // The latest commit/abort time before it in the WAL this scanner read (earlier segments of the same
  // stream included), -1 = none: recovery to an earlier moment stops at that record, short of this one.
  int64_t xact_ms_before = -1;
};

class WalScanner {
 public:
  // `start` must be the first byte of a segment.
  WalScanner(uint64_t start, uint64_t segment_size, uint32_t page_size = 8192);

  void feed(std::string_view bytes);

  // Unix ms of the first and last commit/abort records seen since the last reset_times(), -1 = none.
  int64_t first_xact_ms() const { return first_ms_; }
  int64_t last_xact_ms() const { return last_ms_; }
  // Unix ms (whole seconds) at which the last checkpoint whose record was seen since reset_times()
  // began, -1 = none. Everything after that record was written later, so WAL without transactions
  // still tells a moment that no later commit precedes.
  int64_t checkpoint_ms() const { return checkpoint_ms_; }
  uint64_t position() const { return pos_; }
  // The tablespaces created in the WAL seen since the last reset_times().
  const std::vector<TablespaceCreate>& tablespace_creates() const { return creates_; }
  void reset_times() {
    carried_ms_ = std::max(carried_ms_, last_ms_);
    first_ms_ = last_ms_ = checkpoint_ms_ = -1;
    creates_.clear();
  }
  // The time of the first commit/abort record that starts at or after `from` (the first transaction
  // of a timeline that begins inside the segment), -1 = none yet.
  void watch_from(uint64_t from) {
    watch_from_ = from;
    watched_ms_ = -1;
  }
  int64_t watched_xact_ms() const { return watched_ms_; }

 private:
  enum class State { page_header, skip_continuation, record_start, in_record, skip_segment };
  void end_page_header();
  void end_record();
  uint64_t page_left() const { return page_size_ - pos_ % page_size_; }

  uint64_t pos_;
  uint64_t segment_size_;
  uint32_t page_size_;
  // record_start (not page_header) so that the first feed() reads the segment's long page header
  // and honours XLP_FIRST_IS_CONTRECORD: a segment that begins inside a record spanning the boundary
  // was otherwise parsed from its first byte as a record, and no transaction of it was found.
  State state_ = State::record_start;
  State after_header_ = State::record_start;
  bool synced_ = false;  // false until the first page header told us where records begin
  std::string header_;
  size_t header_need_ = 0;
  uint64_t skip_left_ = 0;
  std::string record_;  // the first bytes of the current record
  uint64_t record_total_ = 0;  // xl_tot_len, 0 until read
  uint64_t record_done_ = 0;
  int64_t first_ms_ = -1, last_ms_ = -1, checkpoint_ms_ = -1;
  int64_t carried_ms_ = -1;  // the latest last_ms_ before reset_times()
  uint64_t record_start_ = 0;
  uint64_t watch_from_ = UINT64_MAX;
  int64_t watched_ms_ = -1;
  std::vector<TablespaceCreate> creates_;
};

}  // namespace opendbs::engines::postgres
