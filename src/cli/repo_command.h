// `opendbs repo ...`: restic-like commands on a repository alone, with no node or catalog — for
// disaster recovery and tests (docs/REPOSITORY.md). Errors print one line to stderr and end the
// program through CLI::RuntimeError with the exit code of the error's row in core/errors.
#pragma once

#include <CLI/CLI.hpp>

namespace opendbs::cli {

// Adds the `repo` subcommand and its children (init, backup, restore, ls, cat, check, prune, forget,
// stats, key) to `app`.
void add_repo_commands(CLI::App& app);

}  // namespace opendbs::cli
