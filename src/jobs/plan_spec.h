// What an engine needs to know about a plan (engines::PlanSpec), read from the plan's catalog record:
// database type, method, objects and the source endpoint with its password unsealed.
#pragma once

#include "catalog/store.h"
#include "engines/engine.h"
#include "iam/secret_box.h"

namespace opendbs::jobs {

// spec.plan_id is the plan's log chain id (log_chain_id), which names what the engine keeps for the
// plan's current source: its replication slot and its log sets in the repository.
core::Result<engines::PlanSpec> plan_spec(const iam::SecretBox& secrets, const catalog::Record& plan);

// The id under which a plan's log of source generation `epoch` (jobs::source_epoch) is kept: the plan
// id for the first source, "<plan id>_g<epoch>" after ModifyBackupSourceEndpoint to another server, so
// that the new server's slot, WAL sets and log file records never meet the old one's, whatever its
// WAL file names.
std::string log_chain_id(const std::string& plan_id, int64_t epoch);
// The catalog id of a plan's log file record.
std::string log_file_record_id(const std::string& plan_id, int64_t epoch, const std::string& name);

}  // namespace opendbs::jobs
