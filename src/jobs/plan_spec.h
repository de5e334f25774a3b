// What an engine needs to know about a plan (engines::PlanSpec), read from the plan's catalog record:
// database type, method, objects and the source endpoint with its password unsealed.
#pragma once

#include "catalog/store.h"
#include "engines/engine.h"
#include "iam/secret_box.h"

namespace opendbs::jobs {

core::Result<engines::PlanSpec> plan_spec(const iam::SecretBox& secrets, const catalog::Record& plan);

}  // namespace opendbs::jobs
