// `opendbs serve`: runs a node (DESIGN.md §5).
#pragma once

#include <CLI/CLI.hpp>

#include "engines/engine.h"

namespace opendbs::cli {
void add_serve_command(CLI::App& app, int& exit_code, const engines::EngineRegistry& engines);
}
