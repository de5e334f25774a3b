// The steps task runners share (task_runners.cpp, download_runner.cpp): catalog reads and updates,
// the plan as an engine sees it, the engine for a plan, and the results a runner returns.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include "jobs/task_runners.h"

namespace opendbs::jobs {

TaskResult failed(const core::Error& e);
// Cancelled by a request, or (when the node shuts down) handed back to the queue.
TaskResult stopped(const LocalTask& control);

core::Result<catalog::Record> load(TaskEnv& env, catalog::Kind kind, const std::string& id);
core::Status update(TaskEnv& env, catalog::Kind kind, const std::string& id,
                    const std::function<void(catalog::Record&)>& change);
// A string field of a record's document, "" when absent or not a string.
std::string text(const boost::json::object& doc, const char* field);

core::Result<engines::PlanSpec> plan_spec(TaskEnv& env, const catalog::Record& plan);
core::Result<std::shared_ptr<engines::Engine>> engine_for(TaskEnv& env, const engines::PlanSpec& spec);

}  // namespace opendbs::jobs
