// opendbs-test-node: the opendbs binary with the TestEngine registered for MySQL plans (and the real
// PostgreSQL engine), for the node's integration and conformance tests (tests/node, tests/suites).
#include "cli/opendbs_main.h"
#include "engines/postgres/postgres_engine.h"
#include "test_engine.h"

int main(int argc, char** argv) {
  opendbs::engines::EngineRegistry engines;
  engines.add("MySQL", std::make_shared<opendbs::testing::TestEngine>());
  engines.add("PostgreSQL", std::make_shared<opendbs::engines::PostgresEngine>());
  return opendbs::cli::opendbs_main(argc, argv, engines);
}
