// `opendbs backup list PLAN [--log]`: a plan's full backup sets, or its log backup files; and the
// follower that `--wait` uses for a full backup.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/node_client.h"
#include "cli/task_wait.h"

namespace opendbs::cli {

void add_backup_commands(CLI::App& app, int& exit_code);

// Waits for full backup `set_id` of `plan_id` with a progress display; returns an exit code.
int wait_for_full_backup(const NodeClient& client, const std::string& plan_id, const std::string& set_id,
                         WaitOptions options);

}  // namespace opendbs::cli
