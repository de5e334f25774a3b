// `opendbs restore create|start|list|range`: restores of a plan to a moment, a backup set, a directory
// on the node or a database server, followed with `--wait`.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <string>

namespace opendbs::cli {
void add_restore_commands(CLI::App& app, int& exit_code);

// The line that ends `--wait` for restore task `r` (a DescribeRestoreTaskList entry): where the data
// went — the directory, or the server and the databases the restore wrote, as RestoreObjects records
// them after the restore (a DuplicateConflict=renamenew restore writes NEW_dbs_<moment>) — or why it stopped.
std::string restore_summary(const boost::json::object& r);
}  // namespace opendbs::cli
