// What the node does with the backup sets the repository reports damaged: sets that reference chunks
// no pack holds any more (repo::PruneReport::damaged_sets: their packs were lost, or a read found the
// chunks damaged and dropped them from the index), and sets whose manifest cannot be read
// (Repository::unreadable_sets, found when prune stops on them).
//
// A full set's catalog record (kind backup_set, id = its repository set id) that is still `finish` becomes
// `failed` with an ErrMessage saying why and what to do: it no longer counts for the restore ranges, so no
// restore is offered that would fail half way. Its manifest stays in the repository (a later backup of the
// same data stores lost or damaged chunks again, and `opendbs repo check` keeps naming the set until
// then); forgetting it is the operator's call — except that a damaged manifest must be forgotten before
// prune frees anything again, which its ErrMessage says. Log sets (engines::log_set_id) have no record of
// their own to mark: they are logged and left to the prune report (docs/REPOSITORY.md §9).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "catalog/store.h"
#include "core/result.h"
#include "repo/repository.h"

namespace opendbs::jobs {

// Marks the `finish` backup_set records among `report.damaged_sets` failed, naming a chunk each lacks;
// returns the ids it marked. Ids with no such record (log sets, sets of another catalog, sets already
// failed) are left alone.
core::Result<std::vector<std::string>> mark_damaged_sets(catalog::Store& store, const repo::PruneReport& report,
                                                         int64_t now_ms);

// The same for sets whose manifest is damaged (set id → why it cannot be read).
core::Result<std::vector<std::string>> mark_unreadable_sets(catalog::Store& store,
                                                            const std::map<std::string, std::string>& unreadable,
                                                            int64_t now_ms);

}  // namespace opendbs::jobs
