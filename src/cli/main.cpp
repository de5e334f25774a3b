#include "cli/opendbs_main.h"
#include "engines/postgres/postgres_engine.h"

int main(int argc, char** argv) {
  opendbs::engines::EngineRegistry engines;
  engines.add("PostgreSQL", std::make_shared<opendbs::engines::PostgresEngine>());
  return opendbs::cli::opendbs_main(argc, argv, engines);
}
