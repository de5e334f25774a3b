// opendbs-repo: the `opendbs repo` commands as a program of their own, for bench/repo and for hosts
// that only need disaster recovery. The full `opendbs` binary offers the same commands.
#include <CLI/CLI.hpp>

#include "cli/repo_command.h"

int main(int argc, char** argv) {
  CLI::App app{"opendbs repository tool"};
  app.require_subcommand(1);
  opendbs::cli::add_repo_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
