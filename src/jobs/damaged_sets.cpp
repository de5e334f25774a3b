#include "jobs/damaged_sets.h"

#include "core/clock.h"
#include "core/log.h"

namespace opendbs::jobs {
namespace {

struct Damage {
  std::string set_id;
  std::string err_message;  // for the catalog record
  std::string reason;       // for the log line
};

core::Result<std::vector<std::string>> mark_failed(catalog::Store& store, const std::vector<Damage>& damage) {
  std::vector<std::string> marked, plans;
  std::vector<const Damage*> why;
  OPENDBS_TRY(store.transact([&](catalog::Tx& tx) -> core::Status {
    marked.clear();  // a retried transaction starts over
    plans.clear();
    why.clear();
    for (const auto& d : damage) {
      OPENDBS_ASSIGN(auto set, tx.get(catalog::Kind::backup_set, d.set_id));
      if (!set || set->state != "finish") continue;
      set->state = "failed";
      set->doc["BackupStatus"] = "failed";
      set->doc["ErrMessage"] = d.err_message;
      OPENDBS_TRY(tx.put(catalog::Kind::backup_set, *set));
      marked.push_back(d.set_id);
      plans.push_back(set->parent_id);
      why.push_back(&d);
    }
    return {};
  }));
  for (size_t i = 0; i < marked.size(); ++i)
    core::log_event(core::LogLevel::error, "backup_set_damaged",
                    {{"BackupSetId", marked[i]}, {"Plan", plans[i]}, {"Status", "failed"},
                     {"Reason", why[i]->reason}, {"Message", why[i]->err_message}});
  return marked;
}

}  // namespace

core::Result<std::vector<std::string>> mark_damaged_sets(catalog::Store& store, const repo::PruneReport& report,
                                                         int64_t now_ms) {
  std::vector<Damage> damage;
  for (const auto& id : report.damaged_sets) {
    std::string chunks = "part of its data";
    if (auto it = report.missing.find(id); it != report.missing.end())
      chunks = "its chunk " + it->second.first_chunk +
               (it->second.chunks > 1 ? " (and " + std::to_string(it->second.chunks - 1) + " more)" : std::string());
    damage.push_back(
        {id,
         "this backup set can no longer be restored: " + chunks +
             " is no longer in the repository — it failed its integrity check when read (damaged storage) and was "
             "dropped, or its pack is missing (deleted, removed by a lifecycle rule, or lost with damaged storage); "
             "found by the repository prune at " + core::format_iso8601(now_ms) +
             ". Take a new full backup (`opendbs repo check` names the missing chunks and packs)",
         "chunks damaged or in lost repository packs"});
  }
  return mark_failed(store, damage);
}

core::Result<std::vector<std::string>> mark_unreadable_sets(catalog::Store& store,
                                                            const std::map<std::string, std::string>& unreadable,
                                                            int64_t now_ms) {
  std::vector<Damage> damage;
  for (const auto& [id, error] : unreadable)
    damage.push_back({id,
                      "this backup set can no longer be restored: its manifest in the repository is damaged (" + error +
                          "), found by the repository prune at " + core::format_iso8601(now_ms) +
                          ". Take a new full backup, then remove the set from the repository with `opendbs repo "
                          "forget " + id + "`: until then the repository's prune deletes nothing",
                      "manifest damaged"});
  return mark_failed(store, damage);
}

}  // namespace opendbs::jobs
