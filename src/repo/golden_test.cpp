// tests/fixtures/repo and repo-payload-ids are repositories written by format version 1, with plaintext
// and with payload chunk ids (docs/REPOSITORY.md §4). Reading them must keep working: a failure here
// means the format changed — bump format::kVersion and keep a reader for version 1.
// To regenerate (only for a deliberate format change; writes payload ids, as every new repository):
//   OPENDBS_GOLDEN_OUT=/tmp/golden repo_test --gtest_also_run_disabled_tests --gtest_filter=*Golden*Write*
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

const std::string kGoldenPassphrase = "golden passphrase";

std::vector<std::pair<std::string, std::string>> golden_streams() {
  return {{"base/1/1259", testing::random_data(70000, 1234)}, {"global/pg_control", std::string(8192, 'c')},
          {"empty", ""}};
}

RepoOptions golden_options() {
  auto o = testing::small_options();
  o.worker_threads = 1;  // one pack order, so that the fixture is small and stable
  return o;
}

class GoldenRepositoryTest : public testing::TempRepoTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(GoldenRepositoryTest, FixtureWrittenByVersion1StillReadsAndChecks) {
  std::filesystem::copy(std::string(OPENDBS_SOURCE_DIR) + "/tests/fixtures/" + GetParam(), repo_dir(),
                        std::filesystem::copy_options::recursive);
  auto r = Repository::open(backend(), testing::passphrase(kGoldenPassphrase), golden_options());
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto& repo = **r;
  EXPECT_EQ(*repo.list_sets(), std::vector<std::string>{"golden-set"});
  auto m = repo.load_manifest("golden-set");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->engine_metadata.at("engine").as_string(), "test");
  EXPECT_EQ(m->created_ms, 1700000000000);
  ASSERT_EQ(m->streams.size(), 3u);
  for (const auto& [name, data] : golden_streams()) EXPECT_EQ(read_all(repo, "golden-set", name), data) << name;
  auto report = repo.check({.read_data = true});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean() && report->warnings.empty());
}

INSTANTIATE_TEST_SUITE_P(ChunkIds, GoldenRepositoryTest, ::testing::Values("repo", "repo-payload-ids"));

class GoldenFixtureWriter : public testing::TempRepoTest {};

TEST_F(GoldenFixtureWriter, DISABLED_WriteFixture) {
  const char* out = std::getenv("OPENDBS_GOLDEN_OUT");
  ASSERT_NE(out, nullptr) << "set OPENDBS_GOLDEN_OUT to the directory to write";
  core::ManualClock clock(1700000000000);
  auto o = golden_options();
  o.clock = &clock;
  auto repo = Repository::init(std::make_unique<LocalBackend>(out), testing::passphrase(kGoldenPassphrase), o);
  ASSERT_TRUE(repo.ok());
  ASSERT_TRUE(write_set(**repo, "golden-set", golden_streams()).ok());
}

}  // namespace
}  // namespace opendbs::repo
