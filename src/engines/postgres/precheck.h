// The precheck items of a PostgreSQL source; each failed or warning item says what to change.
#pragma once

#include <vector>

#include "engines/engine.h"

namespace opendbs::engines::postgres {

std::vector<PrecheckItem> precheck_source(const PlanSpec& plan);

}  // namespace opendbs::engines::postgres
