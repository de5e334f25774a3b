// `opendbs configure --profile NAME ...`: saves a node's endpoint and AccessKey as a named profile in
// ~/.opendbs/config.json (mode 0600), the file every client command reads with --profile.
#pragma once

#include <CLI/CLI.hpp>

namespace opendbs::cli {
void add_configure_command(CLI::App& app, int& exit_code);
}
