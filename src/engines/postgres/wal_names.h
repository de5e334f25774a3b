// WAL positions and file names: "16/B374D848" LSNs, 24-hex-digit segment file names, and the time
// formats PostgreSQL uses on the wire (microseconds since 2000-01-01) and in recovery settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace opendbs::engines::postgres {

using Lsn = uint64_t;

std::optional<Lsn> parse_lsn(const std::string& text);
std::string format_lsn(Lsn lsn);

// 000000010000000000000003 for timeline 1, segment number 3.
std::string wal_file_name(uint32_t timeline, uint64_t segno, uint64_t segment_size);
// The segment number a WAL file name denotes, or nullopt when `name` is not one.
std::optional<uint64_t> wal_file_segno(const std::string& name, uint64_t segment_size);

// Repository set ids of a plan's WAL segments: "log-<plan>-<WAL file name>" (engine.h).
std::string wal_set_prefix(const std::string& plan_id);

// A physical replication slot name for a plan: "opendbs_" + the id folded to [a-z0-9_], ≤ 63 bytes.
std::string slot_name(const std::string& plan_id);

// PostgreSQL timestamps on the wire: microseconds since 2000-01-01 00:00:00 UTC.
inline constexpr int64_t kPgEpochUnixMs = 946684800000LL;
inline int64_t pg_micros_to_unix_ms(int64_t micros) { return micros / 1000 + kPgEpochUnixMs; }
// The first millisecond at or after `micros`: a commit at 12.3455 s lies after 12.345, which a
// restore to 12.345 must not replay.
inline int64_t pg_micros_to_unix_ms_up(int64_t micros) { return (micros + 999) / 1000 + kPgEpochUnixMs; }
inline int64_t unix_ms_to_pg_micros(int64_t ms) { return (ms - kPgEpochUnixMs) * 1000; }

// "2024-01-15 08:30:00.123+00", a timestamptz literal with millisecond precision.
std::string pg_timestamp_literal(int64_t unix_ms);

}  // namespace opendbs::engines::postgres
