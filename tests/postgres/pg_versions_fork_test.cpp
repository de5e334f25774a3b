// A timeline fork on every PostgreSQL major version the engine supports (12-17), each with its own
// binaries (Debian's 15, the npm packages of tests/pgversions for the others): the source is taken
// back to an earlier moment with opendbs and promoted to timeline 2, the plan's WAL stream carries
// on there, and restores on the same version return what the source held before the fork, on the
// abandoned branch of timeline 1, and on timeline 2. wal_fork_test.cpp runs the same scenario on 15
// restoring every moment, and forks of forks.
#include <gtest/gtest.h>

#include "fork_scenario.h"

namespace opendbs::testing {
namespace {

class PostgresVersionsFork : public SourceForkTest, public ::testing::WithParamInterface<int> {
 protected:
  void SetUp() override {
    server_bin_dir_ = server_bin_dir(GetParam());  // the source's and every restore's binaries
    if (server_bin_dir_.empty())
      GTEST_SKIP() << "PostgreSQL " << GetParam() << " binaries are not installed: run scripts/install-deps "
                   << "(npm ci in tests/pgversions)";
    SourceForkTest::SetUp();
  }
};

TEST_P(PostgresVersionsFork, ASourceTakenBackToAMomentForksAndRestoresOnEitherTimelineOnTheSameVersion) {
  ASSERT_TRUE(source_);
  ASSERT_EQ(std::stoi(source_->query("SHOW server_version_num")) / 10000, GetParam());
  const auto p = source_plan("v" + std::to_string(GetParam()) + "fork");
  ASSERT_NO_FATAL_FAILURE(fork_and_carry_on(p));
  expect_restores(p, p.plan_id + "-full", {"before-fork", "abandoned-2", "timeline-2-later"});
}

INSTANTIATE_TEST_SUITE_P(Majors, PostgresVersionsFork, ::testing::Values(12, 13, 14, 15, 16, 17),
                         [](const ::testing::TestParamInfo<int>& info) { return "PG" + std::to_string(info.param); });

}  // namespace
}  // namespace opendbs::testing
