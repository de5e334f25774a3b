// `opendbs restore create|start|list|range`: restores of a plan to a moment, a backup set, a directory
// on the node or a database server, followed with `--wait`.
#pragma once

#include <CLI/CLI.hpp>

namespace opendbs::cli {
void add_restore_commands(CLI::App& app, int& exit_code);
}
