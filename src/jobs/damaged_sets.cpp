#include "jobs/damaged_sets.h"

#include "core/clock.h"
#include "core/log.h"

namespace opendbs::jobs {

core::Result<std::vector<std::string>> mark_damaged_sets(catalog::Store& store, const std::vector<std::string>& set_ids,
                                                         int64_t now_ms) {
  std::vector<std::string> marked, plans;
  OPENDBS_TRY(store.transact([&](catalog::Tx& tx) -> core::Status {
    marked.clear();  // a retried transaction starts over
    plans.clear();
    for (const auto& id : set_ids) {
      OPENDBS_ASSIGN(auto set, tx.get(catalog::Kind::backup_set, id));
      if (!set || set->state != "finish") continue;
      set->state = "failed";
      set->doc["BackupStatus"] = "failed";
      set->doc["ErrMessage"] = "this backup set can no longer be restored: part of its data was in repository packs "
                               "that are missing (deleted, removed by a lifecycle rule, or lost with damaged "
                               "storage), found by the repository prune at " + core::format_iso8601(now_ms) +
                               "; take a new full backup (`opendbs repo check` names the missing packs)";
      OPENDBS_TRY(tx.put(catalog::Kind::backup_set, *set));
      marked.push_back(id);
      plans.push_back(set->parent_id);
    }
    return {};
  }));
  for (size_t i = 0; i < marked.size(); ++i)
    core::log_event(core::LogLevel::error, "backup_set_damaged",
                    {{"BackupSetId", marked[i]}, {"Plan", plans[i]}, {"Status", "failed"},
                     {"Reason", "chunks in lost repository packs"}});
  return marked;
}

}  // namespace opendbs::jobs
