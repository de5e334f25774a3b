#include "cli/opendbs_main.h"

#include <CLI/CLI.hpp>

#include "cli/admin_command.h"
#include "cli/backup_command.h"
#include "cli/call_command.h"
#include "cli/configure_command.h"
#include "cli/node_client.h"
#include "cli/plan_command.h"
#include "cli/repo_command.h"
#include "cli/restore_command.h"
#include "cli/serve_command.h"
#include "cli/wal_fetch_command.h"

namespace opendbs::cli {

int opendbs_main(int argc, char** argv, const engines::EngineRegistry& engines) {
  CLI::App app{"opendbs — self-hosted database backup with the Alibaba Cloud DBS API"};
  app.require_subcommand(1);
  int exit_code = 0;
  add_serve_command(app, exit_code, engines);
  add_admin_commands(app, exit_code);
  add_repo_commands(app);
  add_call_command(app, exit_code);
  add_plan_commands(app, exit_code);
  add_backup_commands(app, exit_code);
  add_restore_commands(app, exit_code);
  add_configure_command(app, exit_code);
  add_wal_fetch_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the problem; scripts get one documented code for every usage error (docs/CLI.md).
    return app.exit(e) == 0 ? 0 : exit_code::usage;
  }
  return exit_code;
}

}  // namespace opendbs::cli
