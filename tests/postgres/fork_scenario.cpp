#include "fork_scenario.h"

#include <unistd.h>

#include <cstdlib>

namespace opendbs::testing {

void SourceForkTest::SetUp() {
  OwnSourceTest::SetUp();
  if (source_) source_->query("CREATE TABLE marks (at timestamptz)");  // written to close segments
}

void SourceForkTest::TearDown() {
  runner_.reset();  // stops a log backup a failed test left running, before its repository goes
  OwnSourceTest::TearDown();
}

void SourceForkTest::begin_backups(const engines::PlanSpec& p) {
  source_->query("CREATE TABLE accounts (id int PRIMARY KEY, balance int)");
  source_->query("INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 1000) g");
  runner_ = std::make_unique<LogBackupRunner>(engine_, p, *repo_);
  ASSERT_TRUE(runner_->wait_for([](const auto& files) { return !files.empty(); }, 20000));
  Control control;
  auto full = full_backup(p, p.plan_id + "-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
}

void SourceForkTest::change(const std::string& sql, const std::string& moment) {
  source_->query(sql);
  sleep_ms(50);
  moments_[moment] = {now_ms(), source_->checksum("accounts")};
  sleep_ms(50);
}

void SourceForkTest::remember(const std::string& moment) {
  moments_[moment] = {now_ms(), source_->checksum("accounts")};
}

void SourceForkTest::restore_source_to(const engines::PlanSpec& p, const std::string& set_id, int64_t target_ms,
                                       const std::string& down) {
  const std::string last_state = source_->checksum("accounts");
  source_->stop();
  if (!down.empty()) {
    sleep_ms(500);
    moments_[down] = {now_ms(), last_state};
    sleep_ms(1000);
  }
  engines::RestoreRequest request;
  request.set_id = set_id;
  request.target_ms = target_ms;
  request.target_dir = source_->data_dir();
  // The WAL is copied into the directory, not fetched from the repository by the server: the log
  // backup keeps writing the repository meanwhile, as root with mode 0600 when the tests run as root,
  // and a file it writes after the server was given the repository is one the server (postgres)
  // cannot read: recovery then failed on "Permission denied", once in a while, under load.
  Control control;
  auto st = engine_.restore(p, *repo_, request, control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  if (::geteuid() == 0) {
    ASSERT_EQ(std::system(("chown -R postgres: " + source_->data_dir()).c_str()), 0);
  }
  std::string error;
  ASSERT_TRUE(source_->start(&error)) << error;
  // Until the promotion; a server that stops on the way (recovery failed) is reported with its log.
  auto in_recovery = [&] {
    try {
      return source_->query("SELECT pg_is_in_recovery()");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  };
  for (int i = 0; i < 400 && in_recovery() == "t"; ++i) sleep_ms(50);
  ASSERT_EQ(in_recovery(), "f") << source_->log_tail();
}

void SourceForkTest::store_segment() {
  source_->query("INSERT INTO marks VALUES (now())");
  const std::string name = switch_wal();
  ASSERT_TRUE(runner_->completed(name, 60000)) << name << " never completed";
}

void SourceForkTest::expect_restores(const engines::PlanSpec& p, const std::string& set_id,
                                     const std::vector<std::string>& names) {
  const std::string version = source_->query("SHOW server_version_num");
  for (const auto& name : names) {
    SCOPED_TRACE("restore to moment " + name);
    auto restored = restore_and_start(p, set_id, moments_.at(name).first);
    ASSERT_TRUE(restored);
    EXPECT_EQ(restored->query("SHOW server_version_num"), version);
    EXPECT_EQ(restored->checksum("accounts"), moments_.at(name).second);
  }
}

void SourceForkTest::fork_and_carry_on(const engines::PlanSpec& p) {
  const std::string full = p.plan_id + "-full";
  ASSERT_NO_FATAL_FAILURE(begin_backups(p));

  change("UPDATE accounts SET balance = balance + 1 WHERE id <= 100", "before-fork");
  change("UPDATE accounts SET balance = balance + 2 WHERE id <= 200", "fork");  // the source returns here
  change("UPDATE accounts SET balance = 0 WHERE id > 900", "abandoned-1");
  const std::string fork_segment = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  change("DELETE FROM accounts WHERE id % 3 = 0", "abandoned-2");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  // Timeline 1's last change is durable only in a partial set of the segment still filling.
  change("INSERT INTO accounts SELECT g, 5 FROM generate_series(1001, 1100) g", "abandoned-end");
  const std::string abandoned_end = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  sleep_ms(1000);
  remember("idle");  // timeline 1's last state, while the source still runs

  ASSERT_NO_FATAL_FAILURE(restore_source_to(p, full, moments_.at("fork").first, "down"));
  ASSERT_EQ(timeline_of(*source_), "00000002");
  ASSERT_EQ(source_->checksum("accounts"), moments_.at("fork").second);
  sleep_ms(1100);  // the promotion's own record may carry whole seconds
  remember("promoted");
  change("UPDATE accounts SET balance = balance * 10 WHERE id <= 50", "timeline-2");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  change("DELETE FROM accounts WHERE id > 800", "timeline-2-later");
  // Timeline 2 reaches and passes the segment number of timeline 1's last, partial, segment.
  while (source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())").substr(8) <= abandoned_end.substr(8))
    ASSERT_NO_FATAL_FAILURE(store_segment());
  ASSERT_NO_FATAL_FAILURE(store_segment());
  ASSERT_EQ(runner_->stop().error().code, "Cancelled");

  // The stream followed the fork: the history file as the source has it, timeline 2 from the fork
  // point's segment, and timeline 1's WAL past the fork is still stored.
  const std::string log = "log-" + p.plan_id + "-";
  EXPECT_EQ(stored(log + "00000002.history"), source_->query("SELECT pg_read_file('pg_wal/00000002.history')"));
  const std::string tl2_first = "00000002" + fork_segment.substr(8);
  EXPECT_TRUE(repo_->load_manifest(log + tl2_first).ok()) << tl2_first;
  EXPECT_TRUE(repo_->load_manifest(log + fork_segment).ok()) << fork_segment;
}

}  // namespace opendbs::testing
