#include "cli/opendbs_main.h"

int main(int argc, char** argv) {
  opendbs::engines::EngineRegistry engines;  // engines register here as they land (PostgreSQL, MariaDB, SQLite)
  return opendbs::cli::opendbs_main(argc, argv, engines);
}
