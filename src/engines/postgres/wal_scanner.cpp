#include "engines/postgres/wal_scanner.h"

#include <algorithm>
#include <cstring>

#include "engines/postgres/wal_names.h"

namespace opendbs::engines::postgres {
namespace {

constexpr size_t kShortPageHeader = 24;  // MAXALIGN(sizeof(XLogPageHeaderData))
constexpr size_t kLongPageHeader = 40;   // MAXALIGN(sizeof(XLogLongPageHeaderData)), first page of a segment
constexpr uint16_t kFirstIsContrecord = 0x0001;
constexpr size_t kRecordHeader = 24;  // sizeof(XLogRecord)
// Enough for the header, its data headers, xact_time, CheckPoint.time and a tablespace's path
// (MAXPGPATH, 1024).
constexpr size_t kKeep = 1088;
constexpr uint8_t kRmXlog = 0, kRmXact = 1, kRmTablespace = 5;
constexpr uint8_t kTablespaceCreate = 0x00;  // XLOG_TBLSPC_CREATE: Oid ts_id, then the path
constexpr uint8_t kXlogSwitch = 0x40;
constexpr uint8_t kCheckpointShutdown = 0x00, kCheckpointOnline = 0x10;
// CheckPoint (catalog/pg_control.h, 12-17): redo, two timelines, fullPageWrites, nextXid (8-aligned)
// and seven 4-byte ids, then pg_time_t time at 64.
constexpr size_t kCheckpointTimeAt = 64;
constexpr uint8_t kXactOpMask = 0x70;

template <class T>
T load(const std::string& bytes, size_t at) {
  T v{};
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

bool is_xact_end(uint8_t info) {
  const uint8_t op = info & kXactOpMask;
  return op == 0x00 || op == 0x20 || op == 0x30 || op == 0x40;  // COMMIT, ABORT, COMMIT_PREPARED, ABORT_PREPARED
}

}  // namespace

WalScanner::WalScanner(uint64_t start, uint64_t segment_size, uint32_t page_size)
    : pos_(start), segment_size_(segment_size), page_size_(page_size) {}

void WalScanner::end_page_header() {
  const auto info = load<uint16_t>(header_, 2);
  const auto rem_len = load<uint32_t>(header_, 16);  // xlp_rem_len, after magic, info, tli and pageaddr
  if (synced_) return;
  synced_ = true;
  if (info & kFirstIsContrecord) {
    state_ = rem_len > 0 ? State::skip_continuation : State::record_start;
    skip_left_ = rem_len;
  } else {
    state_ = State::record_start;
  }
}

void WalScanner::end_record() {
  state_ = State::record_start;
  const auto info = static_cast<uint8_t>(record_[16]);
  const auto rmid = static_cast<uint8_t>(record_[17]);
  if (rmid == kRmXlog && (info & 0xF0) == kXlogSwitch) {
    state_ = State::skip_segment;  // the rest of the segment is unused
    return;
  }
  const bool checkpoint = rmid == kRmXlog && ((info & 0xF0) == kCheckpointShutdown || (info & 0xF0) == kCheckpointOnline);
  const bool tablespace = rmid == kRmTablespace && (info & 0xF0) == kTablespaceCreate;
  if (!checkpoint && !tablespace && (rmid != kRmXact || !is_xact_end(info))) return;
  // Data headers follow the record header; these records carry no block references, so the main
  // data (xact records begin with xact_time, checkpoints are a CheckPoint) comes right after them.
  size_t at = kRecordHeader;
  while (at < record_.size()) {
    const auto id = static_cast<uint8_t>(record_[at]);
    if (id == 255) { at += 2; break; }          // XLR_BLOCK_ID_DATA_SHORT + uint8 length
    if (id == 254) { at += 5; break; }          // XLR_BLOCK_ID_DATA_LONG + uint32 length
    if (id == 253) { at += 3; continue; }       // XLR_BLOCK_ID_ORIGIN + RepOriginId
    if (id == 252) { at += 5; continue; }       // XLR_BLOCK_ID_TOPLEVEL_XID + TransactionId
    return;                                     // a block reference: not a record we read
  }
  if (tablespace) {
    TablespaceCreate c{record_start_, 0, "", std::max(last_ms_, carried_ms_)};
    if (at + 4 <= record_.size()) {
      c.oid = load<uint32_t>(record_, at);
      const std::string_view rest = std::string_view(record_).substr(at + 4);
      c.path = std::string(rest.substr(0, rest.find('\0')));
    }
    creates_.push_back(std::move(c));
    return;
  }
  if (checkpoint) {
    if (at + kCheckpointTimeAt + 8 <= record_.size())
      checkpoint_ms_ = std::max(checkpoint_ms_, load<int64_t>(record_, at + kCheckpointTimeAt) * 1000);
    return;
  }
  if (at + 8 > record_.size()) return;
  // The first transaction's millisecond rounded down, the last one's up: the restores that replay a
  // segment stop at a target before its last commit unless the target is at or after it (a commit
  // at 12.3455 s is after a RestoreTime of 12.345).
  const int64_t micros = load<int64_t>(record_, at), ms = pg_micros_to_unix_ms(micros);
  if (first_ms_ < 0) first_ms_ = ms;
  last_ms_ = std::max(last_ms_, pg_micros_to_unix_ms_up(micros));
  if (watched_ms_ < 0 && record_start_ >= watch_from_) watched_ms_ = ms;
}

void WalScanner::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (pos_ % page_size_ == 0 && state_ != State::page_header) {
      if (pos_ % segment_size_ == 0 && state_ == State::skip_segment) state_ = State::record_start;
      after_header_ = state_;
      state_ = State::page_header;
      header_.clear();
      header_need_ = pos_ % segment_size_ == 0 ? kLongPageHeader : kShortPageHeader;
    }
    uint64_t n = std::min<uint64_t>(bytes.size(), page_left());
    switch (state_) {
      case State::page_header:
        n = std::min<uint64_t>(n, header_need_ - header_.size());
        header_.append(bytes.substr(0, n));
        if (header_.size() == header_need_) {
          state_ = after_header_;
          end_page_header();
        }
        break;
      case State::skip_continuation:
        n = std::min(n, skip_left_);
        skip_left_ -= n;
        if (skip_left_ == 0) state_ = State::record_start;
        break;
      case State::record_start:
        if (pos_ % 8 != 0) {
          n = std::min<uint64_t>(n, 8 - pos_ % 8);  // MAXALIGN padding before the next record
          break;
        }
        state_ = State::in_record;
        record_start_ = pos_;
        record_.clear();
        record_total_ = record_done_ = 0;
        n = 0;
        break;
      case State::in_record: {
        // xl_tot_len (the first 4 bytes) first, then the rest of the record.
        const uint64_t goal = (record_total_ == 0 ? 4 : record_total_) - record_done_;
        n = std::min(n, goal);
        if (record_.size() < kKeep) record_.append(bytes.substr(0, std::min<uint64_t>(n, kKeep - record_.size())));
        record_done_ += n;
        if (record_total_ == 0 && record_done_ == 4) {
          const auto total = load<uint32_t>(record_, 0);
          if (total < kRecordHeader) state_ = State::skip_segment;  // zeroes: nothing valid follows here
          else record_total_ = total;
        } else if (record_total_ != 0 && record_done_ == record_total_) {
          end_record();
        }
        break;
      }
      case State::skip_segment:
        break;
    }
    pos_ += n;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace opendbs::engines::postgres
