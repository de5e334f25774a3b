// What a plan can be restored to. A `range` starts at the end of a finished physical full set and runs,
// without a gap, through the log files that follow it (each log file carries its sequence number
// `_Seq`, and the set the `_LogStartSeq` of the first file it needs); a `point` is a finished set
// that no unbroken log chain follows (every logical set is one). A set and the log files it joins were
// taken from the same source: ModifyBackupSourceEndpoint to another server starts a new generation
// (jobs::source_epoch), whose WAL never continues an older set's chain. Where the chain breaks: jobs/log_chain.h.
// A set's reach also ends before the first log barrier its roll-forward would meet (engines::LogBarrier,
// recorded with the log files, jobs/log_barriers.h; PostgreSQL: a CREATE TABLESPACE made after the set
// began): at the barrier's latest moment, the one the engine's refusal names. A set that cannot reach
// even its own EndTime is in no range; a set taken after the barrier starts a range of its own.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/store.h"

namespace opendbs::api::ops {

struct RestoreRange {
  std::string type;   // "range" or "point"
  int64_t begin_ms = 0, end_ms = 0;
  std::vector<std::string> full_set_ids;  // the sets the range or point starts from, oldest first
  std::vector<int64_t> full_set_end_ms;   // their consistent points, same order
  std::vector<int64_t> full_set_reach_ms; // how far each one's own log chain reaches, same order
  // What ends each one's reach before its own log chain ends (engines::LogBarrier::what), else empty.
  std::vector<std::string> full_set_cut_by;
  // What ends the range before its log chain does: the cut of the set that reaches its end.
  std::string cut_by() const;
};

// `unrestorable`, when given, receives the finished sets that restore to no moment (set id → why).
core::Result<std::vector<RestoreRange>> restore_ranges(catalog::Tx& tx, const std::string& plan_id,
                                                       std::map<std::string, std::string>* unrestorable = nullptr);

// Every finished full set a restore to `time_ms` may start from, newest first; none if no range or
// point covers it. The first is the one to start from; an older one follows only if its own log
// chain reaches `time_ms`. The ranges count log positions, not timelines: the newest set may have been taken
// on WAL that a later fork of the source abandoned, which cannot reach moments after the fork; the
// restore task then starts from the next of these.
std::vector<std::string> base_sets_for(const std::vector<RestoreRange>& ranges, int64_t time_ms);

// The moments a restore from the finished set `set_id` can reach: from its EndTime (its consistent
// point: nothing earlier exists in it) to where its own log chain ends; both the EndTime for a point.
// None if the set is in no range (not a finished set of the plan).
struct SetReach {
  int64_t begin_ms = 0, end_ms = 0;
  std::string cut_by;  // RestoreRange::full_set_cut_by
  bool is_point() const { return begin_ms == end_ms; }
};
std::optional<SetReach> reach_of_set(const std::vector<RestoreRange>& ranges, const std::string& set_id);

}  // namespace opendbs::api::ops
