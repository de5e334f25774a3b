// A warning that one watcher keeps in a plan's ErrMessage beside whatever else the message says (a
// failed backup): the plan's doc remembers the watcher's last warning in `field`, so that it can be
// replaced or removed without touching the rest. SlotWatch (retained log) and the release of a
// plan's replication slot each keep one.
#pragma once

#include "catalog/store.h"

namespace opendbs::jobs {

// Puts `warning` into the plan's ErrMessage in place of the one `field` recorded ("" = remove it).
// Returns whether the record changed (the caller stores it then).
bool set_plan_warning(catalog::Record& plan, const char* field, const std::string& warning);

// The warning `field` holds ("" = none).
std::string plan_warning(const catalog::Record& plan, const char* field);

}  // namespace opendbs::jobs
