// The log backup and prune share the repository: the stream holds a set (and its shared lock) only
// while it commits one, so a prune finds its moment while WAL keeps arriving, reclaims the partial
// sets the stream superseded, and the chain it leaves is whole.
#include "core/clock.h"
#include "core/errors.h"
#include "engine_harness.h"
#include "repo/lock.h"

namespace opendbs::testing {
namespace {

class PostgresWalPrune : public EngineTest {};

TEST_F(PostgresWalPrune, APruneRunsWhileTheLogBackupStreamsAndTheChainStaysWhole) {
  auto& src = shared_source();
  src.query("CREATE TABLE prune_ticks (id serial PRIMARY KEY, filler text)");
  LogBackupRunner runner(engine_, plan("prune1"), *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));

  // Keep WAL arriving (partial sets every second) while prune tries for its lock.
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    while (writing) {
      src.query("INSERT INTO prune_ticks (filler) SELECT repeat('x', 500) FROM generate_series(1, 200)");
      sleep_ms(100);
    }
  });
  core::Result<repo::PruneReport> pruned = core::errors::internal("not run");
  int attempts = 0;
  for (const int64_t until = now_ms() + 20000; now_ms() < until; ++attempts) {
    pruned = repo_->prune();
    if (pruned.ok() && pruned->packs_deleted > 0) break;  // superseded partials were reclaimed
    sleep_ms(300);
  }
  writing = false;
  writer.join();
  ASSERT_TRUE(pruned.ok()) << "no prune in 20 s while the log backup ran: " << pruned.error().message;
  EXPECT_GT(pruned->packs_deleted, 0u) << "prune found nothing of the superseded partial sets to reclaim";

  // The stream went on through the prune: two more segments complete, none missing.
  const std::string name = src.query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  src.query("SELECT pg_switch_wal()");
  ASSERT_TRUE(runner.completed(name, 30000)) << "the log backup stopped after " << attempts << " prune attempts";
  ASSERT_FALSE(runner.stop().ok());
  EXPECT_TRUE(completed_without_gap(runner.files()));
  auto check = repo_->check();
  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_TRUE(check->errors.empty()) << check->errors.front();
}

// The lag is what would be lost if the source vanished now. While a prune holds the repository the
// stream cannot store what arrives: the lag must grow meanwhile (not read 0 because the stream waits
// to commit), and fall once the WAL is stored.
TEST_F(PostgresWalPrune, TheLagGrowsWhileAPruneHoldsTheRepositoryAndFallsOnceTheWalIsStored) {
  auto& src = shared_source();
  src.query("CREATE TABLE lag_ticks (id serial PRIMARY KEY, filler text)");
  LogBackupRunner runner(engine_, plan("lag1"), *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  const auto lag_s = [&] { return runner.control().last_lag_seconds.load(); };

  core::SystemClock clock;
  core::Result<std::unique_ptr<repo::RepoLock>> prune = core::errors::internal("not taken");
  ASSERT_TRUE(eventually([&] {  // the stream holds the repository only while it commits
    prune = repo::RepoLock::acquire(repo_->backend(), repo::LockKind::kExclusive, "prune", 60000, clock);
    return prune.ok();
  }, 10000)) << prune.error().message;
  src.query("INSERT INTO lag_ticks (filler) SELECT repeat('x', 500) FROM generate_series(1, 2000)");
  EXPECT_TRUE(eventually([&] { return lag_s() >= 3.0; }, 15000)) << "the lag stayed at " << lag_s() << " s";
  EXPECT_GT(runner.control().max_lag_bytes.load(), 0u);

  prune->reset();  // the prune ends: the stream stores what it holds
  EXPECT_TRUE(eventually([&] { return lag_s() < 1.0; }, 30000)) << "the lag stayed at " << lag_s() << " s";
  ASSERT_FALSE(runner.stop().ok());
}

}  // namespace
}  // namespace opendbs::testing
