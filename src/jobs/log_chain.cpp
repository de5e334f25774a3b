#include "jobs/log_chain.h"

#include <algorithm>
#include <string_view>

#include "core/clock.h"
#include "jobs/log_barriers.h"
#include "jobs/plan_warning.h"
#include "jobs/tasks.h"

namespace opendbs::jobs {
namespace {

int64_t int_field(const boost::json::object& doc, const char* name, int64_t fallback = -1) {
  auto it = doc.find(name);
  return it != doc.end() && it->value().is_int64() ? it->value().as_int64() : fallback;
}

// The plan's newest finished full set (by EndTime) of the source it streams from now.
core::Result<std::optional<catalog::Record>> newest_set_of_source(catalog::Tx& tx, const catalog::Record& plan) {
  catalog::Query q{catalog::Kind::backup_set};
  q.parent_id = plan.id;
  q.states = {"finish"};
  OPENDBS_ASSIGN(auto sets, tx.list(q));
  std::optional<catalog::Record> newest;
  for (auto& s : sets)
    if (source_epoch(s.doc) == source_epoch(plan.doc) &&
        (!newest || int_field(s.doc, "EndTime", 0) > int_field(newest->doc, "EndTime", 0)))
      newest = std::move(s);
  return newest;
}

}  // namespace

core::Result<LogChain> load_log_chain(catalog::Tx& tx, const std::string& plan_id) {
  catalog::Query q{catalog::Kind::log_file};
  q.parent_id = plan_id;
  // An UNCOMPLETED file is the segment that was filling when its log backup ended (DisableBackupLog,
  // StopBackupPlan ALL, a failure): its EndTime reaches only as far as its last partial set, which
  // stays in the repository and is restored from like a FILLING file's.
  q.states = {"COMPLETED", "FILLING", "UNCOMPLETED"};
  OPENDBS_ASSIGN(auto logs, tx.list(q));
  LogChain chain;
  for (const auto& l : logs) {
    const LogPosition at{source_epoch(l.doc), int_field(l.doc, "_Seq")};
    int64_t& end = chain.end_at[at];
    // A timeline history file holds no WAL: it neither reaches a moment (its times may be when it was
    // stored) nor joins its position to the next.
    const auto* name = l.doc.if_contains("BackupSetId");
    if (name && name->is_string() && std::string_view(name->as_string()).ends_with(".history")) continue;
    end = std::max(end, int_field(l.doc, "EndTime", 0));
    if (l.state != "UNCOMPLETED") chain.links.insert(at);
    for (auto& b : log_barriers_of(l.doc)) chain.barriers_at[at].push_back(std::move(b));
  }
  return chain;
}

core::Result<std::optional<int64_t>> log_gap_after_newest_set(catalog::Tx& tx, const catalog::Record& plan) {
  OPENDBS_ASSIGN(const auto set, newest_set_of_source(tx, plan));
  const int64_t first_seq = set ? int_field(set->doc, "_LogStartSeq") : -1;
  if (first_seq < 0) return std::optional<int64_t>();  // no set, or one that no log continues (logical)
  OPENDBS_ASSIGN(const auto chain, load_log_chain(tx, plan.id));
  const int64_t epoch = source_epoch(plan.doc);
  int64_t reach = int_field(set->doc, "EndTime", 0), seq = first_seq;
  for (; chain.end_at.count({epoch, seq}); ++seq) {
    reach = std::max(reach, chain.end_at.at({epoch, seq}));
    if (!chain.links.count({epoch, seq})) break;
  }
  // The chain stops at `seq` (not stored, or not streamed to its end): a gap if log lies beyond it.
  const auto beyond = chain.end_at.upper_bound({epoch, seq});
  if (beyond == chain.end_at.end() || beyond->first.first != epoch) return std::optional<int64_t>();
  return std::optional<int64_t>(reach);
}

core::Status refresh_log_gap_warning(catalog::Tx& tx, const std::string& plan_id) {
  OPENDBS_ASSIGN(auto plan, tx.get(catalog::Kind::plan, plan_id));
  if (!plan || plan->state == "released") return {};
  OPENDBS_ASSIGN(const auto gap, log_gap_after_newest_set(tx, *plan));
  const std::string warning =
      gap ? "the log chain has a gap at " + core::format_iso8601(*gap) +
                " (the source removed log that the log backup had not stored): restores to moments after it need "
                "a new full backup; StartBackupPlan takes one"
          : "";
  if (!set_plan_warning(*plan, kLogGapWarningField, warning)) return {};
  return tx.put(catalog::Kind::plan, *plan);
}

}  // namespace opendbs::jobs
