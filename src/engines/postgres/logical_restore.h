// Logical restore into a running server: per database of the set, the database is created (or an
// existing one without tables is used), the pre-data schema applied, the tables loaded by parallel
// COPY FROM STDIN, then sequences set and the post-data schema (indexes, constraints) applied.
#pragma once

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

core::Status logical_restore(repo::Repository& repository, const RestoreRequest& request, TaskControl& control);

}  // namespace opendbs::engines::postgres
