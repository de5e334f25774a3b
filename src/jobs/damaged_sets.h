// What the node does with the backup sets a prune found damaged (repo::PruneReport::damaged_sets: sets
// that reference chunks no existing pack holds, after packs were lost from the repository).
//
// A full set's catalog record (kind backup_set, id = its repository set id) that is still `finish` becomes
// `failed` with an ErrMessage saying why: it no longer counts for the restore ranges, so no restore is
// offered that would fail half way. Its manifest stays in the repository (a later backup of the same data
// stores the lost chunks again, and `opendbs repo check` keeps naming the set until then); forgetting it
// is the operator's call. Log sets (engines::log_set_id) have no record of their own to mark: they are
// logged and left to the prune report (docs/ARCHITECTURE.md, "Lost packs").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/store.h"
#include "core/result.h"

namespace opendbs::jobs {

// Marks the `finish` backup_set records among `set_ids` failed; returns the ids it marked. Ids with no
// such record (log sets, sets of another catalog, sets already failed) are left alone.
core::Result<std::vector<std::string>> mark_damaged_sets(catalog::Store& store, const std::vector<std::string>& set_ids,
                                                         int64_t now_ms);

}  // namespace opendbs::jobs
