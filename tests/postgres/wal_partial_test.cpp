// Restores to moments inside the segment the source is still filling, while the log backup replaces
// its partial set under them (docs/POSTGRES.md, "Restore and point-in-time recovery"); what a restore
// that fails after writing leaves in RestoreDir; and the partial set a gap leaves behind, which stays
// restorable (docs/OPERATIONS.md, "When log backup ends").
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>

#include "engine_harness.h"
#include "engines/postgres/unfinished_restore_dir.h"
#include "own_source.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

// The ids of the plan's partial sets of segments still filling.
std::set<std::string> partial_set_ids(repo::Repository& repository, const std::string& plan_id) {
  std::set<std::string> out;
  auto sets = repository.list_sets();
  EXPECT_TRUE(sets.ok());
  if (!sets.ok()) return out;
  for (const auto& id : *sets)
    if (id.starts_with("log-" + plan_id + "-") && id.find(".partial-") != std::string::npos) out.insert(id);
  return out;
}

// Commits a row every 50 ms until destroyed; `pause()` holds it between two commits.
class Writer {
 public:
  explicit Writer(const PgServer& server) : server_(server) {
    server_.query("CREATE TABLE IF NOT EXISTS pulse (id serial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())");
    thread_ = std::thread([this] {
      while (!stop_) {
        {
          std::lock_guard lock(mu_);
          server_.query("INSERT INTO pulse DEFAULT VALUES");
        }
        sleep_ms(50);
      }
    });
  }
  ~Writer() {
    stop_ = true;
    thread_.join();
  }
  std::unique_lock<std::mutex> pause() { return std::unique_lock(mu_); }

 private:
  const PgServer& server_;
  std::mutex mu_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class PostgresPartialRestore : public EngineTest {
 protected:
  // A moment between two of the writer's commits (none within 2 ms of it) and pulse's checksum then.
  std::pair<int64_t, std::string> moment(Writer& writer) {
    auto paused = writer.pause();
    sleep_ms(2);
    const int64_t at = now_ms();
    const std::string checksum = shared_source().checksum("pulse");
    sleep_ms(2);
    return {at, checksum};
  }
  // Waits until the stored WAL reaches `at` (the open file's EndTime).
  bool durable(LogBackupRunner& runner, int64_t at) {
    return runner.wait_for([&](const auto& files) {
      return std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.end_ms >= at; });
    }, 10000);
  }
  // Restores to `target_ms` (WAL fetched by wal-fetch, or copied when `copies`) and returns the server
  // once it has promoted; `meanwhile` runs after the restore planned its WAL, before it writes anything.
  // The writer pauses while the server starts: as root, the server's user may read the repository
  // only once it has been given the files, and the stream adds some with each partial set.
  std::unique_ptr<PgServer> restore(const engines::PlanSpec& plan, const std::string& set_id, int64_t target_ms,
                                    bool copies, const std::function<void()>& meanwhile, Writer& writer) {
    static int counter = 0;
    engines::RestoreRequest request;
    request.set_id = set_id;
    request.target_ms = target_ms;
    request.target_dir = dir_ + "/now-" + std::to_string(++counter);
    if (!copies) request.log_fetch = log_fetch();
    Control control;
    control.on_progress = [&](int percent, uint64_t) {
      if (percent == 1) meanwhile();
    };
    auto st = engine_.restore(plan, *repo_, request, control);
    EXPECT_TRUE(st.ok()) << st.error().message;
    if (!st.ok()) return nullptr;
    auto paused = writer.pause();
    sleep_ms(200);  // the stream stores what it received before the pause
    share_repository_with_server();
    std::string error;
    auto server = PgServer::open(request.target_dir, &error);
    EXPECT_TRUE(server) << error;
    if (!server) return nullptr;
    for (int i = 0; i < 200 && server->query("SELECT pg_is_in_recovery()") == "t"; ++i) sleep_ms(50);
    EXPECT_EQ(server->query("SELECT pg_is_in_recovery()"), "f") << server->log_tail();
    return server;
  }
};

// The restore plans the newest partial set of the segment being filled; by the time it has written
// the full set, the stream has replaced it (here: waited for), or completed the segment. The restore
// reads the newest set of that segment instead and still stops at its target.
TEST_F(PostgresPartialRestore, RestoresToNowSucceedWhileTheStreamReplacesThePlannedPartialSet) {
  const auto p = plan("now1");
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  Writer writer(shared_source());
  Control control;
  auto full = full_backup(p, "now1-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;

  auto replaced = [&] {  // every partial set there was when the restore planned is forgotten
    const auto planned = partial_set_ids(*repo_, "now1");
    ASSERT_FALSE(planned.empty());
    for (int i = 0; i < 200; ++i) {
      const auto now = partial_set_ids(*repo_, "now1");
      if (std::none_of(planned.begin(), planned.end(), [&](const auto& id) { return now.count(id); })) return;
      sleep_ms(50);
    }
    FAIL() << "the stream kept the planned partial set";
  };
  auto completed = [&] {  // the segment being filled completes: its partial sets are all forgotten
    const std::string name = shared_source().query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
    shared_source().query("SELECT pg_switch_wal()");
    ASSERT_TRUE(runner.completed(name, 20000));
  };
  const struct {
    bool copies;
    std::function<void()> meanwhile;
  } cases[] = {{false, replaced}, {true, replaced}, {false, completed}, {true, completed}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.copies ? "WAL copied" : "WAL fetched by wal-fetch");
    sleep_ms(300);  // past the segment's start after a switch: the target needs its partial set
    const auto [at, checksum] = moment(writer);
    ASSERT_TRUE(durable(runner, at));
    auto restored = restore(p, "now1-full", at, c.copies, c.meanwhile, writer);
    ASSERT_TRUE(restored);
    EXPECT_EQ(restored->checksum("pulse"), checksum) << restored->log_tail();
  }
}

// A delta restore that fails after it began writing leaves RestoreDir disabled: PostgreSQL refuses to start
// on it, naming why, rather than recovering to the backup's end. A restore into it again mends it.
TEST_F(PostgresPartialRestore, ARestoreThatFailsAfterWritingLeavesADirectoryPostgresRefusesToStart) {
  const auto p = plan("fail1");
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  Control control;
  auto full = full_backup(p, "fail1-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  std::string checksum;
  int64_t at = 0;
  {
    Writer writer(shared_source());
    sleep_ms(300);
    std::tie(at, checksum) = moment(writer);
    ASSERT_TRUE(durable(runner, at));
  }
  (void)runner.stop();

  engines::RestoreRequest request;
  request.set_id = "fail1-full";
  request.target_ms = at;
  request.target_dir = dir_ + "/failed";
  request.log_fetch = log_fetch();
  // A restored directory, for the failing restore to be a delta restore (one into an empty directory
  // removes what it wrote instead: PostgresRestoreDir.*).
  request.target_ms = full->consistent_ms;
  ASSERT_TRUE(engine_.restore(p, *repo_, request, control).ok());
  request.target_ms = at;
  // The planned partial set goes away for good (as when the plan is released during the restore).
  control.on_progress = [&](int percent, uint64_t) {
    if (percent != 1) return;
    for (const auto& id : partial_set_ids(*repo_, "fail1")) ASSERT_TRUE(repo_->forget_set(id).ok());
  };
  auto st = engine_.restore(p, *repo_, request, control);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "Corrupt") << st.error().message;
  EXPECT_NE(st.error().message.find("is missing from the repository"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("RestoreDir " + request.target_dir + " was disabled"), std::string::npos)
      << st.error().message;
  EXPECT_TRUE(fs::exists(request.target_dir + "/" + engines::postgres::kRestoreUnfinishedFile));
  EXPECT_TRUE(fs::exists(request.target_dir + "/PG_VERSION"));
  EXPECT_FALSE(fs::exists(request.target_dir + "/global/pg_control"));
  std::string error;
  EXPECT_FALSE(PgServer::open(request.target_dir, &error)) << "PostgreSQL started on a failed restore";
  EXPECT_NE(error.find(engines::postgres::kRestoreFailedSetting), std::string::npos) << error;

  // Restored again (to the backup's end, which needs no WAL): a delta restore makes it whole.
  control.on_progress = nullptr;
  request.target_ms = full->consistent_ms;
  ASSERT_TRUE(engine_.restore(p, *repo_, request, control).ok());
  EXPECT_FALSE(fs::exists(request.target_dir + "/" + engines::postgres::kRestoreUnfinishedFile));
  share_repository_with_server();
  auto server = PgServer::open(request.target_dir, &error);
  ASSERT_TRUE(server) << error;
  for (int i = 0; i < 200 && server->query("SELECT pg_is_in_recovery()") == "t"; ++i) sleep_ms(50);
  EXPECT_EQ(server->query("SELECT pg_is_in_recovery()"), "f") << server->log_tail();
}

class PostgresWalGap : public OwnSourceTest {};

// Log backup off, its slot dropped, and the source removes the segment it was filling: when log
// backup runs again the stream continues further on (a gap), and the partial set of that segment —
// durable WAL from before the gap — stays, restorable to its end.
TEST_F(PostgresWalGap, APartialSetBeforeAGapStaysRestorableWhenLogBackupRunsAgain) {
  const auto p = source_plan("gap1");
  source_->query("CREATE TABLE kept (id int PRIMARY KEY)");
  auto first = std::make_unique<LogBackupRunner>(engine_, p, *repo_);
  ASSERT_TRUE(first->wait_for([](const auto& files) { return !files.empty(); }, 20000));
  Control control;
  auto full = full_backup(p, "gap1-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  switch_wal();  // the segment the backup ended in completes; the rows go into a new one
  source_->query("INSERT INTO kept SELECT generate_series(1, 300)");
  const int64_t visible = now_ms();
  const std::string segment = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  const std::string checksum = source_->checksum("kept");
  int64_t end_ms = 0;
  for (int i = 0; i < 40 && end_ms == 0; ++i) {
    source_->query("CREATE TABLE IF NOT EXISTS tick (v int); INSERT INTO tick VALUES (1)");  // WAL after the insert
    first->wait_for([&](const auto& files) {
      for (const auto& f : files)
        if (f.name == segment && f.status == "FILLING" && f.end_ms >= visible) end_ms = f.end_ms;
      return end_ms > 0;
    }, 250);
  }
  ASSERT_GT(end_ms, 0) << "no partial set of " << segment << " reached the insert";
  (void)first->stop();
  first.reset();
  const auto partials = partial_set_ids(*repo_, "gap1");
  ASSERT_EQ(partials.size(), 1u);

  ASSERT_TRUE(engine_.release_log(p).ok());  // DisableBackupLog drops the slot
  bool removed = false;
  for (int i = 0; i < 12 && !removed; ++i) {
    source_->query("CREATE TABLE IF NOT EXISTS churn (v int); INSERT INTO churn VALUES (1)");
    switch_wal();
    source_->query("CHECKPOINT");
    removed = source_->query("SELECT count(*) FROM pg_ls_waldir() WHERE name = '" + segment + "'") == "0";
  }
  ASSERT_TRUE(removed) << "the source kept " << segment;

  LogBackupRunner second(engine_, p, *repo_);
  const std::string after_gap = switch_wal();
  ASSERT_TRUE(second.completed(after_gap, 30000)) << "the stream did not continue after the gap";
  source_->query("INSERT INTO churn VALUES (2)");
  ASSERT_TRUE(second.completed(switch_wal(), 30000));
  EXPECT_TRUE(partial_set_ids(*repo_, "gap1").count(*partials.begin())) << "the partial set before the gap was forgotten";
  (void)second.stop();

  auto restored = restore_and_start(p, "gap1-full", end_ms);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->checksum("kept"), checksum);
}

}  // namespace
}  // namespace opendbs::testing
