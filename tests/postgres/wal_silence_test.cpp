// A connection to the source can hang without an error (a firewall dropping packets, a frozen host or
// walsender): the log backup asks the silent source for a reply, ends the session when none comes, and
// its lag grows meanwhile instead of reading 0. Here the plan's walsender is stopped with SIGSTOP.
#include <signal.h>

#include <algorithm>

#include "engine_harness.h"
#include "engines/postgres/wal_names.h"

namespace opendbs::testing {
namespace {

class PostgresWalSilence : public EngineTest {
 protected:
  engines::PostgresEngine quick_{engines::PostgresOptions{{.switch_interval_ms = 0,
                                                           .feedback_interval_ms = 1000,
                                                           .durable_interval_ms = 20,
                                                           .max_failed_sessions = 2000,
                                                           .max_retry_wait_ms = 1000,
                                                           .ping_after_ms = 1000,
                                                           .silence_timeout_ms = 4000}}};
};

TEST_F(PostgresWalSilence, AWalsenderThatStopsAnsweringEndsTheSessionTheLagGrowsAndTheChainGoesOnWithoutAGap) {
  auto& src = shared_source();
  src.query("CREATE TABLE silence_ticks (id serial PRIMARY KEY, filler text)");
  LogBackupRunner runner(quick_, plan("silent1"), *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  const std::string active_pid = "SELECT coalesce(active_pid, 0) FROM pg_replication_slots WHERE slot_name = '" +
                                 engines::postgres::slot_name("silent1") + "'";
  const int walsender = std::stoi(src.query(active_pid));
  ASSERT_GT(walsender, 0);

  const auto lag_s = [&] { return runner.control().last_lag_seconds.load(); };
  ASSERT_TRUE(eventually([&] { return lag_s() == 0.0; }, 10000)) << "the stream never caught up: " << lag_s() << " s";

  ASSERT_EQ(::kill(walsender, SIGSTOP), 0);
  const int64_t stopped_ms = now_ms();
  src.query("INSERT INTO silence_ticks (filler) SELECT repeat('x', 500) FROM generate_series(1, 1000)");
  const bool lag_grew = eventually([&] { return lag_s() >= 3.0; }, 15000);
  sleep_ms(std::max<int64_t>(0, stopped_ms + 7000 - now_ms()));  // past the 4 s the stream waits for an answer
  const double lag_after_new_session = lag_s();
  ::kill(walsender, SIGCONT);  // the stopped walsender finds its connection closed and exits
  // The silent session was replaced (the new ones cannot stream yet: the stopped walsender holds the
  // slot); the WAL written meanwhile still counts from when the source fell silent.
  EXPECT_GE(lag_after_new_session, 5.0) << "the lag started again when the silent session was replaced";
  EXPECT_TRUE(lag_grew) << "the lag stayed at " << lag_s() << " s while the walsender was stopped";

  // A new session streams on: another walsender holds the slot, and the chain completes with no gap.
  EXPECT_TRUE(eventually([&] {
    const int pid = std::stoi(src.query(active_pid));
    return pid != 0 && pid != walsender;
  }, 20000)) << "the stream is still attached to the stopped walsender " << walsender;
  const std::string name = switch_wal(src);
  ASSERT_TRUE(runner.completed(name, 30000));
  EXPECT_TRUE(eventually([&] { return lag_s() < 1.0; }, 20000)) << "the lag stayed at " << lag_s() << " s";
  ASSERT_FALSE(runner.stop().ok());
  EXPECT_TRUE(completed_without_gap(runner.files()));
}

}  // namespace
}  // namespace opendbs::testing
