// A writer killed after N backend mutations, for every N a backup or a prune makes: afterwards check is
// clean, every committed set restores exactly, and prune removes what the crash left behind.
#include <gtest/gtest.h>

#include "repo/fault_injecting_backend.h"
#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

using testing::random_data;

class CrashTest : public testing::TempRepoTest {
 protected:
  CrashTest() : clock_(1700000000000) {}
  RepoOptions options() {
    auto o = testing::small_options();
    o.clock = &clock_;
    o.lock_lease_ms = 60000;  // renewals never fire during a test; the clock jumps past leases by hand
    return o;
  }
  std::unique_ptr<Repository> open_faulty(uint64_t allowed, FaultInjectingBackend** faulty) {
    auto backend = std::make_unique<FaultInjectingBackend>(this->backend(), allowed);
    *faulty = backend.get();
    auto r = Repository::open(std::move(backend), testing::passphrase(), options());
    EXPECT_TRUE(r.ok());
    return std::move(r).value();
  }
  // After a crash: the dead writer's lock expires, check finds no damage, every set reads back.
  void expect_consistent(const std::map<std::string, std::string>& committed) {
    clock_.advance_ms(120000);
    auto repo = open_repo(options());
    auto report = repo->check({.read_data = true});
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_TRUE(report->clean()) << report->errors.front();
    auto sets = repo->list_sets();
    for (const auto& set : *sets) {
      ASSERT_TRUE(committed.count(set)) << "a set appeared that never committed: " << set;
      EXPECT_EQ(read_all(*repo, set, "db"), committed.at(set)) << set;
    }
    for (const auto& [set, data] : committed)
      EXPECT_NE(std::find(sets->begin(), sets->end(), set), sets->end()) << "committed set lost: " << set;
  }
  void expect_prune_leaves_no_orphans() {
    auto repo = open_repo(options());
    auto pruned = repo->prune();
    ASSERT_TRUE(pruned.ok()) << pruned.error().message;
    auto report = repo->check({});
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->clean());
    EXPECT_TRUE(report->warnings.empty()) << report->warnings.front();
  }
  core::ManualClock clock_;
};

TEST_F(CrashTest, BackupKilledAfterAnyNumberOfWritesLeavesARepositoryThatChecksCleanAndPrunes) {
  init_repo(options());
  std::map<std::string, std::string> committed;
  const auto base = random_data(150000, 1);
  committed["base"] = base;
  ASSERT_TRUE(write_set(*open_repo(options()), "base", {{"db", base}}).ok());

  uint64_t full_run = 0;
  for (uint64_t allowed = 0;; ++allowed) {
    FaultInjectingBackend* faulty = nullptr;
    auto repo = open_faulty(allowed, &faulty);
    // Half old data (dedup), half new data, so that crashes hit both kinds of pack.
    const std::string data = base.substr(0, 75000) + random_data(120000, 100 + static_cast<uint32_t>(allowed));
    const std::string set = "s" + std::to_string(allowed);
    const auto st = write_set(*repo, set, {{"db", data}});
    const bool tripped = faulty->tripped();
    const uint64_t mutations = faulty->mutations();
    repo.reset();  // also destroys `faulty`
    if (st.ok()) committed[set] = data;
    expect_consistent(committed);
    if (!tripped) {
      full_run = mutations;
      break;
    }
  }
  EXPECT_GE(full_run, 5u) << "the backup should need lock, packs, index, manifest and unlock";
  expect_prune_leaves_no_orphans();
  expect_consistent(committed);
}

TEST_F(CrashTest, PruneKilledAfterAnyNumberOfWritesNeverLosesALiveSet) {
  init_repo(options());
  // `old` interleaves data that `keep` also has with data only `old` has, so prune must repack.
  std::string keep, old;
  for (int i = 0; i < 8; ++i) {
    const auto shared = random_data(20000, 200 + i), own = random_data(40000, 300 + i);
    keep += shared;
    old += shared + own;
  }
  ASSERT_TRUE(write_set(*open_repo(options()), "old", {{"db", old}}).ok());
  ASSERT_TRUE(write_set(*open_repo(options()), "keep", {{"db", keep}}).ok());
  ASSERT_TRUE(open_repo(options())->forget_set("old").ok());

  uint64_t runs = 0;
  for (uint64_t allowed = 0;; ++allowed, ++runs) {
    FaultInjectingBackend* faulty = nullptr;
    auto repo = open_faulty(allowed, &faulty);
    auto pruned = repo->prune();
    const bool tripped = faulty->tripped();
    repo.reset();  // also destroys `faulty`
    expect_consistent({{"keep", keep}});
    if (!tripped) {
      ASSERT_TRUE(pruned.ok()) << pruned.error().message;
      break;
    }
  }
  EXPECT_GE(runs, 5u) << "prune should need lock, new pack, index, deletions and unlock";
  expect_prune_leaves_no_orphans();
  expect_consistent({{"keep", keep}});
}

}  // namespace
}  // namespace opendbs::repo
