// The log backup and prune share the repository: the stream holds a set (and its shared lock) only
// while it commits one, so a prune finds its moment while WAL keeps arriving, reclaims the partial
// sets the stream superseded, and the chain it leaves is whole.
#include <set>

#include "core/errors.h"
#include "engine_harness.h"

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
  std::set<int64_t> completed;
  for (const auto& f : runner.files())
    if (f.status == "COMPLETED") completed.insert(f.seq);
  ASSERT_FALSE(completed.empty());
  EXPECT_EQ(static_cast<size_t>(*completed.rbegin() - *completed.begin() + 1), completed.size()) << "the chain has a gap";
  auto check = repo_->check();
  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_TRUE(check->errors.empty()) << check->errors.front();
}

}  // namespace
}  // namespace opendbs::testing
