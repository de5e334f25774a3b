// `opendbs admin --data-dir DIR ...`: accounts, users, AccessKeys and RAM policies, working directly on
// a node's data directory (also while the node runs; changes apply from its next request).
#pragma once

#include <CLI/CLI.hpp>

namespace opendbs::cli {
void add_admin_commands(CLI::App& app, int& exit_code);
}
