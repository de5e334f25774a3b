// `opendbs plan create|configure|list|show|start|stop|release`: backup plans in a few words, each a
// handful of signed DBS calls (CreateBackupPlan + ConfigureBackupPlan, the Modify* family, ...).
#pragma once

#include <CLI/CLI.hpp>

namespace opendbs::cli {
void add_plan_commands(CLI::App& app, int& exit_code);
}
