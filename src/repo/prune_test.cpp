// Prune decides garbage as docs/REPOSITORY.md §10 says, and locks keep it from racing backups (§8).
#include <gtest/gtest.h>

#include "repo/lock.h"
#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

using testing::random_data;

class PruneTest : public testing::TempRepoTest {
 protected:
  PruneTest() : clock_(1700000000000) {}
  RepoOptions options() {
    auto o = testing::small_options();
    o.clock = &clock_;
    o.lock_lease_ms = 60000;
    return o;
  }
  uint64_t stored_bytes(Repository& repo) { return repo.stats()->stored_bytes; }
  // Writes "old" and then "keep", whose chunks are a third of old's and stored in old's packs; returns
  // keep's bytes. Once "old" is forgotten those packs are mostly garbage: prune repacks them.
  std::string write_old_then_keep(Repository& repo, uint32_t seed) {
    std::string keep, old;
    for (uint32_t i = 0; i < 8; ++i) {
      const auto shared = random_data(20000, seed + i), own = random_data(40000, seed + 10 + i);
      keep += shared;
      old += shared + own;
    }
    EXPECT_TRUE(write_set(repo, "old", {{"db", old}}).ok());
    EXPECT_TRUE(write_set(repo, "keep", {{"db", keep}}).ok());
    return keep;
  }
  core::ManualClock clock_;
};

TEST_F(PruneTest, ForgottenSetIsFreedAndSharedDataStays) {
  auto repo = init_repo(options());
  const auto shared = random_data(200000, 1), own = random_data(400000, 2);
  ASSERT_TRUE(write_set(*repo, "a", {{"db", shared}}).ok());
  ASSERT_TRUE(write_set(*repo, "b", {{"db", shared}, {"extra", own}}).ok());
  const uint64_t before = stored_bytes(*repo);
  ASSERT_TRUE(repo->forget_set("b").ok());
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_GT(pruned->packs_deleted, 0u);
  EXPECT_LT(stored_bytes(*repo), before / 2);
  EXPECT_EQ(read_all(*open_repo(options()), "a", "db"), shared);
  auto report = repo->check({.read_data = true});
  EXPECT_TRUE(report->clean() && report->warnings.empty());
}

TEST_F(PruneTest, MostlyGarbagePacksAreRepackedAndTheirLiveChunksKept) {
  auto repo = init_repo(options());
  const std::string keep = write_old_then_keep(*repo, 10);
  ASSERT_TRUE(repo->forget_set("old").ok());
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok());
  EXPECT_GT(pruned->packs_repacked, 0u);
  EXPECT_EQ(read_all(*repo, "keep", "db"), keep);
  EXPECT_EQ(read_all(*open_repo(options()), "keep", "db"), keep);
}

TEST_F(PruneTest, LongLivedRepositoryNoticesAPruneByAnotherProcess) {
  auto node = init_repo(options());  // e.g. the node, which keeps its Repository open for days
  const auto data = random_data(300000, 5);
  ASSERT_TRUE(write_set(*node, "x", {{"db", data}}).ok());
  {
    auto cli = open_repo(options());  // `opendbs repo forget` + `prune` from a shell
    ASSERT_TRUE(cli->forget_set("x").ok());
    ASSERT_TRUE(cli->prune().ok());
  }
  // The node's index still lists the pruned chunks; dedup against them would lose data.
  ASSERT_TRUE(write_set(*node, "y", {{"db", data}}).ok());
  auto fresh = open_repo(options());
  EXPECT_EQ(read_all(*fresh, "y", "db"), data);
  auto report = fresh->check({.read_data = true});
  EXPECT_TRUE(report->clean()) << report->errors.front();
}

// Single-stream reads take no lock (wal-fetch, downloads): a reader opened before another process
// repacked the pack under it finds the chunks where they are now.
TEST_F(PruneTest, AnOpenStreamReaderFollowsChunksThatAPruneRepackedMeanwhile) {
  auto repo = init_repo(options());
  const std::string keep = write_old_then_keep(*repo, 30);
  auto reader = repo->open_stream("keep", "db");
  ASSERT_TRUE(reader.ok());
  {
    auto other = open_repo(options());
    ASSERT_TRUE(other->forget_set("old").ok());
    auto pruned = other->prune();
    ASSERT_TRUE(pruned.ok());
    ASSERT_GT(pruned->packs_repacked, 0u) << "the test needs the reader's pack rewritten";
  }
  auto got = (*reader)->read(0, keep.size());
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, keep);
}

TEST_F(PruneTest, APruneAskedToStopEndsBeforeDeletingAnythingAndTheNextOneFinishes) {
  auto repo = init_repo(options());
  const std::string keep = write_old_then_keep(*repo, 50);
  ASSERT_TRUE(repo->forget_set("old").ok());
  const uint64_t before = stored_bytes(*repo);
  for (int stop_at : {1, 2, 3}) {  // at each stage: after the manifests, after the index, while repacking
    int polls = 0;
    auto pruned = repo->prune([&] { return ++polls >= stop_at; });
    ASSERT_FALSE(pruned.ok()) << "stop at poll " << stop_at;
    EXPECT_EQ(pruned.error().code, "Cancelled");
    EXPECT_GE(stored_bytes(*repo), before) << "nothing is deleted by a stopped prune";
    EXPECT_EQ(read_all(*open_repo(options()), "keep", "db"), keep);
  }
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_GT(pruned->packs_repacked, 0u);
  EXPECT_LT(stored_bytes(*repo), before);
  auto report = repo->check({.read_data = true});
  EXPECT_TRUE(report->clean() && report->warnings.empty());
}

TEST_F(PruneTest, NothingToPruneChangesNothing) {
  auto repo = init_repo(options());
  ASSERT_TRUE(write_set(*repo, "a", {{"db", random_data(100000, 3)}}).ok());
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->packs_deleted + pruned->packs_repacked + pruned->index_files_replaced, 0u);
}

TEST_F(PruneTest, PruneRefusesWhileABackupIsRunning) {
  auto repo = init_repo(options());
  auto set = repo->begin_set("running");
  ASSERT_TRUE(set.ok());
  auto pruned = repo->prune();
  ASSERT_FALSE(pruned.ok());
  EXPECT_NE(pruned.error().message.find("backup set running"), std::string::npos) << pruned.error().message;
  EXPECT_TRUE(locked_by_another(pruned.error().with_context("node prune")));
  ASSERT_TRUE((*set)->commit({}).ok());
  EXPECT_TRUE(repo->prune().ok()) << "the lock must be gone after commit";
}

TEST_F(PruneTest, BackupRefusesWhilePruneHoldsTheExclusiveLock) {
  auto repo = init_repo(options());
  auto lock = RepoLock::acquire(repo->backend(), LockKind::kExclusive, "prune", 60000, clock_);
  ASSERT_TRUE(lock.ok());
  auto set = repo->begin_set("blocked");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code, "ServiceUnavailable");
  EXPECT_TRUE(locked_by_another(set.error()));
}

TEST_F(PruneTest, StaleLockOfADeadProcessExpiresWithItsLease) {
  auto repo = init_repo(options());
  auto set = repo->begin_set("dead");  // never committed: the process "died" holding the lock
  ASSERT_TRUE(set.ok());
  EXPECT_FALSE(repo->prune().ok());
  clock_.advance_ms(61000);
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_GE(pruned->locks_removed, 1u);
  // The "dead" backup wakes up: its lease lapsed, so it must not commit.
  auto st = (*set)->commit({});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("lease lapsed"), std::string::npos);
  EXPECT_FALSE(locked_by_another(st.error())) << "a lapsed lease is no lock to wait for";
  EXPECT_TRUE(repo->list_sets()->empty());
}

TEST_F(PruneTest, SharedLocksDoNotBlockEachOther) {
  auto repo = init_repo(options());
  auto a = repo->begin_set("a");
  auto b = repo->begin_set("b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->commit({}).ok());
  ASSERT_TRUE((*b)->commit({}).ok());
}

}  // namespace
}  // namespace opendbs::repo
