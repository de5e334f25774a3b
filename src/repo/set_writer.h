// The SetWriter behind Repository::begin_set: chunks streams, stores new chunks in packs on a bounded
// thread pool and commits packs → index → manifest (docs/REPOSITORY.md §9).
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "repo/repo_state.h"

namespace opendbs::repo {

core::Result<std::unique_ptr<SetWriter>> make_set_writer(RepoState& state, const std::string& set_id);

}  // namespace opendbs::repo
