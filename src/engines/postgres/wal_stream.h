// Continuous WAL backup: a physical replication slot per plan and START_REPLICATION from the first
// segment the repository does not hold yet; each segment becomes one repository set
// ("log-<plan>-<WAL file name>", one stream "segment") committed when the segment is complete.
// While a segment fills, what has arrived of it is committed at least every durable_interval_ms as
// a partial set "log-<plan>-<WAL file name>.partial-<bytes>" (the segment's first <bytes> bytes),
// which replaces the previous partial and is itself dropped once the segment is complete.
// When the source moves to a new timeline (a promotion, a point-in-time recovery), the old
// timeline's last segment is stored up to the switch point ("<WAL file name>.partial") and the new
// timeline's history file as "log-<plan>-<timeline>.history", and the stream goes on on the new
// timeline from the switch point's segment (wal_sets.h lists the set ids).
#pragma once

#include <functional>

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

struct WalStreamOptions {
  // A segment open this long is closed with pg_switch_wal(), so that a quiet server's last
  // transactions become restorable (like archive_timeout); 0 = never.
  int64_t switch_interval_ms = 60000;
  int64_t feedback_interval_ms = 10000;
  // While WAL arrives, the open segment's received bytes become durable (a partial set) at least
  // this often, which bounds the lag (docs/POSTGRES.md); 0 = only whole segments are stored.
  int64_t durable_interval_ms = 500;
  // Consecutive failed sessions (connection refused, source restarting) tolerated before giving up.
  int max_failed_sessions = 20;
  int64_t max_retry_wait_ms = 15000;
  // A source silent this long (no WAL, no keepalive) is asked for a reply; one silent for
  // silence_timeout_ms ends the session, which then starts again, as PostgreSQL's own standby does
  // after wal_receiver_timeout: a connection can hang without an error (a firewall dropping packets,
  // a frozen host or walsender). Meanwhile the lag counts from the last message (docs/POSTGRES.md).
  int64_t ping_after_ms = 10000;
  int64_t silence_timeout_ms = 60000;
};

// Metadata keys of a segment set's manifest (read back by the restore).
namespace segment_meta {
inline constexpr const char* kFirstXactMs = "first_xact_ms";
inline constexpr const char* kLastXactMs = "last_xact_ms";
inline constexpr const char* kEndMs = "end_ms";
// In the set of the segment where a timeline begins: the first transaction after the switch point
// (first_xact_ms may be one of the old timeline's, whose bytes the segment repeats); -1 = none.
inline constexpr const char* kTimelineFirstXactMs = "timeline_first_xact_ms";
// The CREATE TABLESPACEs in the segment's stored bytes: [{lsn, oid, path, xact_ms_before}]; absent = none
// (or a set stored before the scanner looked for them).
inline constexpr const char* kTablespaceCreates = "tablespace_creates";
}  // namespace segment_meta

// Drops the plan's replication slot (engine.h release_log), waiting up to `wait_ms` for a stream
// still attached to it to go away; a slot that does not exist is not an error.
core::Status drop_wal_slot(const PlanSpec& plan, int64_t wait_ms = 10000);

core::Status stream_wal(const PlanSpec& plan, repo::Repository& repository, TaskControl& control,
                        const std::function<core::Status(const LogFile&)>& on_file, const WalStreamOptions& options);

}  // namespace opendbs::engines::postgres
