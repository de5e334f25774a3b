#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

class PostgresWalBackup : public EngineTest {
 protected:
  // The WAL file being written now; after pg_switch_wal() it is complete.
  std::string switch_wal() {
    const std::string name = shared_source().query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
    shared_source().query("SELECT pg_switch_wal()");
    return name;
  }
  bool any_open(LogBackupRunner& runner) {
    return runner.wait_for([](const auto& files) { return !files.empty(); }, 20000);
  }
};

TEST_F(PostgresWalBackup, RestoresEachTableAsItWasAtTwoMomentsBetweenMutations) {
  auto& src = shared_source();
  src.query("CREATE TABLE ledger (id int PRIMARY KEY, amount int)");
  src.query("CREATE TABLE events (id serial PRIMARY KEY, what text)");
  src.query("INSERT INTO ledger SELECT g, g FROM generate_series(1, 5000) g");
  const auto p = plan("pitr1");
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(any_open(runner));

  Control control;
  auto full = full_backup(p, "pitr-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;

  src.query("UPDATE ledger SET amount = amount + 1 WHERE id % 3 = 0");
  src.query("INSERT INTO events (what) VALUES ('first')");
  sleep_ms(50);
  const int64_t t1 = now_ms();
  const std::string ledger1 = src.checksum("ledger"), events1 = src.checksum("events");
  sleep_ms(50);
  src.query("DELETE FROM ledger WHERE id > 4500");
  src.query("INSERT INTO events (what) SELECT 'second ' || g FROM generate_series(1, 100) g");
  sleep_ms(50);
  const int64_t t2 = now_ms();
  const std::string ledger2 = src.checksum("ledger"), events2 = src.checksum("events");
  sleep_ms(50);
  src.query("UPDATE ledger SET amount = 0");
  src.query("TRUNCATE events");
  ASSERT_NE(ledger1, ledger2);

  const std::string last = switch_wal();
  ASSERT_TRUE(runner.completed(last, 20000)) << "segment " << last << " never completed";
  const auto status = runner.stop();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "Cancelled");
  EXPECT_EQ(src.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'opendbs_pitr1'"), "1");

  // The chain runs without a gap from the set's first segment to the last one completed.
  std::set<int64_t> completed;
  for (const auto& f : runner.files()) {
    if (f.status != "COMPLETED") continue;
    completed.insert(f.seq);
    EXPECT_LE(f.start_ms, f.end_ms) << f.name;
  }
  ASSERT_TRUE(completed.count(full->log_start_seq));
  for (int64_t seq = full->log_start_seq; seq <= *completed.rbegin(); ++seq) EXPECT_TRUE(completed.count(seq)) << seq;

  auto at1 = restore_and_start(p, "pitr-full", t1);
  ASSERT_TRUE(at1);
  EXPECT_EQ(at1->checksum("ledger"), ledger1);
  EXPECT_EQ(at1->checksum("events"), events1);
  at1.reset();
  auto at2 = restore_and_start(p, "pitr-full", t2);
  ASSERT_TRUE(at2);
  EXPECT_EQ(at2->checksum("ledger"), ledger2);
  EXPECT_EQ(at2->checksum("events"), events2);
}

TEST_F(PostgresWalBackup, ARestartOfTheSourceLeavesNoGapInTheChain) {
  auto& src = shared_source();
  src.query("CREATE TABLE ticks (id serial PRIMARY KEY, at timestamptz DEFAULT now())");
  const auto p = plan("restart1");
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(any_open(runner));
  src.query("INSERT INTO ticks DEFAULT VALUES");
  const std::string before = switch_wal();
  ASSERT_TRUE(runner.completed(before, 20000));

  src.stop();
  sleep_ms(500);
  std::string error;
  ASSERT_TRUE(src.start(&error)) << error;
  src.query("INSERT INTO ticks DEFAULT VALUES");
  const std::string after = switch_wal();
  ASSERT_TRUE(runner.completed(after, 30000)) << "no segment completed after the restart";
  ASSERT_FALSE(runner.stop().ok());

  std::set<int64_t> completed;
  for (const auto& f : runner.files())
    if (f.status == "COMPLETED") completed.insert(f.seq);
  ASSERT_GE(completed.size(), 2u);
  EXPECT_EQ(static_cast<size_t>(*completed.rbegin() - *completed.begin() + 1), completed.size())
      << "the chain has a gap";
  auto sets = repo_->list_sets();
  ASSERT_TRUE(sets.ok());
  EXPECT_TRUE(std::count(sets->begin(), sets->end(), "log-restart1-" + after));
}

}  // namespace
}  // namespace opendbs::testing
