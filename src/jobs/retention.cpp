#include "jobs/retention.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>

#include "jobs/plan_spec.h"
#include "jobs/tasks.h"

namespace opendbs::jobs {
namespace {

using catalog::Kind;
using catalog::Record;

constexpr int64_t kDayMs = 86400000LL;

int64_t int_of(const boost::json::object& doc, const char* name, int64_t fallback) {
  const auto* v = doc.if_contains(name);
  if (!v || !v->is_number()) return fallback;
  boost::system::error_code ec;
  const auto n = v->to_number<int64_t>(ec);
  return ec ? fallback : n;
}

bool is_history(const Record& file) {
  const auto* name = file.doc.if_contains("BackupSetId");
  return name && name->is_string() && std::string_view(name->as_string()).ends_with(".history");
}

// The finished sets retention keeps, by log chain (plan, source generation): what each needs of the
// chain's log, and until when.
class KeptSets {
 public:
  void add(const Record& set, int64_t expiry_ms) {
    sets_[{set.parent_id, source_epoch(set.doc)}].push_back({int_of(set.doc, "_LogStartSeq", -1), expiry_ms});
  }
  // The latest expiry of the kept sets that need `file` for their restore: those whose log starts at
  // or before it (they roll forward through it), and for a timeline history file every kept set of
  // its chain (a set on a later timeline may need it to recover across the switch).
  std::optional<int64_t> needed_until(const Record& file) const {
    auto it = sets_.find({file.parent_id, source_epoch(file.doc)});
    if (it == sets_.end()) return std::nullopt;
    const int64_t seq = int_of(file.doc, "_Seq", -1);
    std::optional<int64_t> until;
    for (const auto& [start_seq, expiry] : it->second)
      if (is_history(file) || (start_seq >= 0 && start_seq <= seq)) until = std::max(until.value_or(expiry), expiry);
    return until;
  }

 private:
  std::map<std::pair<std::string, int64_t>, std::vector<std::pair<int64_t, int64_t>>> sets_;
};

int64_t stored_expiry(const Record& r) { return int_of(r.doc, "BackupSetExpiredTime", 0); }

}  // namespace

int64_t retention_ms(const boost::json::object& plan_doc) { return int_of(plan_doc, "BackupRetentionPeriod", 730) * kDayMs; }

int64_t set_expiry_ms(const boost::json::object& set_doc, int64_t retention_ms) {
  return int_of(set_doc, "CreateTime", 0) + retention_ms;
}

int64_t log_file_expiry_ms(const boost::json::object& file_doc, int64_t retention_ms) {
  return int_of(file_doc, "EndTime", 0) + retention_ms;
}

core::Status reapply_retention(catalog::Tx& tx, const Record& plan, int64_t now_ms) {
  const int64_t keep = retention_ms(plan.doc);
  catalog::Query sets_q{Kind::backup_set};
  sets_q.parent_id = plan.id;
  sets_q.states = {"init", "running", "finish"};
  OPENDBS_ASSIGN(auto sets, tx.list(sets_q));
  KeptSets kept;
  for (auto& s : sets) {
    const int64_t expiry = set_expiry_ms(s.doc, keep);
    if (s.state == "finish" && expiry > now_ms) kept.add(s, expiry);
    if (expiry == stored_expiry(s)) continue;
    s.doc["BackupSetExpiredTime"] = expiry;
    OPENDBS_TRY(tx.put(Kind::backup_set, s));
  }
  catalog::Query logs_q{Kind::log_file};
  logs_q.parent_id = plan.id;
  logs_q.states = {"FILLING", "COMPLETED", "UNCOMPLETED"};
  OPENDBS_ASSIGN(auto files, tx.list(logs_q));
  for (auto& f : files) {
    const int64_t expiry = std::max(log_file_expiry_ms(f.doc, keep), kept.needed_until(f).value_or(0));
    if (expiry == stored_expiry(f)) continue;
    f.doc["BackupSetExpiredTime"] = expiry;
    OPENDBS_TRY(tx.put(Kind::log_file, f));
  }
  return {};
}

core::Result<Expired> expire_due(catalog::Tx& tx, int64_t now_ms) {
  Expired out;
  catalog::Query sets_q{Kind::backup_set};
  sets_q.states = {"finish"};
  OPENDBS_ASSIGN(auto finished, tx.list(sets_q));
  KeptSets kept;
  for (auto& s : finished) {
    if (stored_expiry(s) > now_ms) {
      kept.add(s, stored_expiry(s));
      continue;
    }
    s.state = "expired";
    s.doc["BackupStatus"] = "expired";
    OPENDBS_TRY(tx.put(Kind::backup_set, s));
    out.sets.push_back(s.id);
  }
  // FILLING files are being written; their expiry is set when they complete.
  catalog::Query logs_q{Kind::log_file};
  logs_q.states = {"COMPLETED", "UNCOMPLETED"};
  OPENDBS_ASSIGN(auto files, tx.list(logs_q));
  for (auto& f : files) {
    const int64_t expiry = std::max(stored_expiry(f), kept.needed_until(f).value_or(0));
    if (expiry > now_ms) {
      if (expiry == stored_expiry(f)) continue;
      f.doc["BackupSetExpiredTime"] = expiry;  // shown by DescribeIncrementBackupList
    } else {
      f.state = "expired";
      f.doc["BackupStatus"] = "expired";
      out.logs.emplace_back(log_chain_id(f.parent_id, source_epoch(f.doc)), std::string(f.doc.at("BackupSetId").as_string()));
    }
    OPENDBS_TRY(tx.put(Kind::log_file, f));
  }
  return out;
}

}  // namespace opendbs::jobs
