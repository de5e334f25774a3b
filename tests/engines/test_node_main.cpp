// opendbs-test-node: the opendbs binary with the TestEngine registered for MySQL and PostgreSQL plans,
// for the node's integration and conformance tests (tests/node, tests/suites).
#include "cli/opendbs_main.h"
#include "test_engine.h"

int main(int argc, char** argv) {
  opendbs::engines::EngineRegistry engines;
  auto engine = std::make_shared<opendbs::testing::TestEngine>();
  engines.add("MySQL", engine);
  engines.add("PostgreSQL", engine);
  return opendbs::cli::opendbs_main(argc, argv, engines);
}
