// Logical restore into a running server. Per database of the set: the name it is restored under
// (RestoreObjects renames; DuplicateConflict=renamenew picks a free "<name>_dbs_<time>" when the
// name holds tables already, otherwise such a conflict stops the restore before anything is written),
// the database created (or an existing one without tables used), the pre-data schema applied, the
// tables loaded by parallel COPY FROM STDIN, then sequences set, the post-data schema (indexes,
// constraints) applied over the loaded rows, and the tables RestoreObjects renames renamed.
#pragma once

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

core::Status logical_restore(repo::Repository& repository, const RestoreRequest& request, TaskControl& control);

}  // namespace opendbs::engines::postgres
