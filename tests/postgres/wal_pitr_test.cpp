#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

// The commit and abort times pg_waldump reads in WAL file `name`, in microseconds since the epoch.
std::vector<int64_t> waldump_xact_times(const std::string& dir, const std::string& name) {
  const std::string cmd = "TZ=UTC /usr/lib/postgresql/15/bin/pg_waldump -p " + dir + " " + name + " 2>/dev/null";
  std::vector<int64_t> out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  char line[4096];
  while (pipe && std::fgets(line, sizeof line, pipe)) {
    const std::string l(line);
    if (l.find("rmgr: Transaction") == std::string::npos) continue;
    for (const char* kind : {"desc: COMMIT ", "desc: ABORT "}) {
      const auto at = l.find(kind);
      if (at == std::string::npos) continue;
      std::tm tm{};
      char fraction[16] = {0};  // PostgreSQL drops the fraction's trailing zeros: ".5571" is 557100 us
      if (std::sscanf(l.c_str() + at + std::strlen(kind), "%d-%d-%d %d:%d:%d.%6[0-9]", &tm.tm_year, &tm.tm_mon,
                      &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, fraction) >= 6) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        const int64_t micros = std::stoll((std::string(fraction) + "000000").substr(0, 6));
        out.push_back(static_cast<int64_t>(::timegm(&tm)) * 1000000 + micros);
      }
    }
  }
  if (pipe) ::pclose(pipe);
  return out;
}

class PostgresWalBackup : public EngineTest {
 protected:
  // The WAL file being written now; after pg_switch_wal() it is complete.
  std::string switch_wal() { return testing::switch_wal(shared_source()); }
  bool any_open(LogBackupRunner& runner) {
    return runner.wait_for([](const auto& files) { return !files.empty(); }, 20000);
  }
  // Checks that every completed segment's recorded transaction times are those pg_waldump reads in
  // it (restores choose where to stop from them); returns how many segments hold transactions.
  int check_xact_times(const std::string& plan_id, const std::vector<engines::LogFile>& files) {
    int segments_with_commits = 0;
    for (const auto& f : files) {
      if (f.status != "COMPLETED") continue;
      const std::string set_id = "log-" + plan_id + "-" + f.name;
      std::string bytes;
      EXPECT_TRUE(repo_->read_stream(set_id, "segment", [&](std::string_view b) {
        bytes.append(b);
        return core::Status{};
      }).ok());
      std::ofstream(dir_ + "/" + f.name, std::ios::binary) << bytes;
      const auto times = waldump_xact_times(dir_, f.name);
      auto manifest = repo_->load_manifest(set_id);
      EXPECT_TRUE(manifest.ok());
      if (!manifest.ok()) continue;
      const auto& m = manifest->engine_metadata;
      // The first commit's millisecond rounded down, the last one's up (wal_scanner.cpp).
      EXPECT_EQ(m.at("first_xact_ms").as_int64(), times.empty() ? -1 : times.front() / 1000) << f.name;
      EXPECT_EQ(m.at("last_xact_ms").as_int64(),
                times.empty() ? -1 : (*std::max_element(times.begin(), times.end()) + 999) / 1000)
          << f.name;
      EXPECT_GE(m.at("end_ms").as_int64(), m.at("last_xact_ms").as_int64()) << f.name;
      segments_with_commits += times.empty() ? 0 : 1;
    }
    return segments_with_commits;
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
  sleep_ms(50);
  const int64_t t3 = now_ms();  // after the last change: recovery replays all the stored WAL
  const std::string ledger3 = src.checksum("ledger"), events3 = src.checksum("events");
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

  EXPECT_GT(check_xact_times("pitr1", runner.files()), 0);

  auto at1 = restore_and_start(p, "pitr-full", t1);
  ASSERT_TRUE(at1);
  EXPECT_EQ(at1->checksum("ledger"), ledger1);
  EXPECT_EQ(at1->checksum("events"), events1);
  const std::string reused = at1->data_dir();
  at1.reset();  // stops the server
  struct stat untouched_before {};
  ASSERT_EQ(::stat((reused + "/PG_VERSION").c_str(), &untouched_before), 0);

  // Restoring into the directory the server ran on rewrites only what differs.
  auto at2 = restore_and_start(p, "pitr-full", t2, reused);
  ASSERT_TRUE(at2);
  EXPECT_EQ(at2->checksum("ledger"), ledger2);
  EXPECT_EQ(at2->checksum("events"), events2);
  struct stat untouched_after {};
  ASSERT_EQ(::stat((reused + "/PG_VERSION").c_str(), &untouched_after), 0);
  EXPECT_EQ(untouched_before.st_ino, untouched_after.st_ino) << "an unchanged file was rewritten";
  at2.reset();
  auto at3 = restore_and_start(p, "pitr-full", t3);
  ASSERT_TRUE(at3);
  EXPECT_EQ(at3->checksum("ledger"), ledger3);
  EXPECT_EQ(at3->checksum("events"), events3);
}

TEST_F(PostgresWalBackup, ANewLogBackupTaskContinuesWhereTheStoppedOneLeftOffWithoutAGap) {
  auto& src = shared_source();
  src.query("CREATE TABLE resumed (id int)");
  const auto p = plan("resume1");
  std::set<int64_t> completed;
  auto collect = [&](LogBackupRunner& runner) {
    for (const auto& f : runner.files())
      if (f.status == "COMPLETED") completed.insert(f.seq);
  };
  {
    LogBackupRunner first(engine_, p, *repo_);
    ASSERT_TRUE(any_open(first));
    src.query("INSERT INTO resumed VALUES (1)");
    ASSERT_TRUE(first.completed(switch_wal(), 20000));
    ASSERT_FALSE(first.stop().ok());
    collect(first);
  }
  // While no task runs, the slot keeps the WAL written meanwhile.
  src.query("INSERT INTO resumed VALUES (2)");
  const std::string missed = switch_wal();
  src.query("INSERT INTO resumed VALUES (3)");
  LogBackupRunner second(engine_, p, *repo_);
  ASSERT_TRUE(second.completed(missed, 20000)) << "the segment written while stopped was not picked up";
  ASSERT_TRUE(second.completed(switch_wal(), 20000));
  ASSERT_FALSE(second.stop().ok());
  collect(second);
  // The resumed stream reads transaction times as the first did, including in the segment it resumed in.
  EXPECT_GE(check_xact_times("resume1", second.files()), 2);
  // The open segment counts as lag until it is stored.
  EXPECT_GT(second.control().lag_reports.load(), 0);
  EXPECT_GT(second.control().max_lag_bytes.load(), 0u);

  // Releasing the plan's log backup drops its slot, and doing it again is harmless.
  ASSERT_TRUE(engine_.release_log(p).ok());
  EXPECT_EQ(src.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'opendbs_resume1'"), "0");
  EXPECT_TRUE(engine_.release_log(p).ok());
  EXPECT_EQ(static_cast<size_t>(*completed.rbegin() - *completed.begin() + 1), completed.size())
      << "the chain has a gap";
}

// Commits in the segment still filling are durable in its newest partial set within a second; the open
// file's EndTime says so, and a restore to that moment replays them from the zero-padded partial.
TEST_F(PostgresWalBackup, ARestoreReachesCommitsOfTheSegmentStillFillingThroughItsPartialSet) {
  auto& src = shared_source();
  src.query("CREATE TABLE recent (id int PRIMARY KEY, note text)");
  src.query("CREATE TABLE recent_ticks (id serial PRIMARY KEY)");
  const auto p = plan("partial1");
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(any_open(runner));
  Control control;
  auto full = full_backup(p, "partial-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;

  src.query("INSERT INTO recent SELECT g, 'kept' FROM generate_series(1, 250) g");
  // Once the insert has returned, its commit is flushed: a partial set whose end is at or after this
  // moment was cut from a message the server sent afterwards, which carried the commit. (An end between
  // the commit's own timestamp and its flush would hold it not: a restore to that end gives the state
  // clients could see then.)
  const int64_t visible = now_ms();
  const std::string filling = src.query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  int64_t durable_until = 0;
  // A partial set reaches `visible` only when cut from WAL the server sent after it: an idle server
  // sends none for up to 15 s (its next running-transactions record), so later commits provide it.
  for (int i = 0; i < 40 && durable_until == 0; ++i) {
    src.query("INSERT INTO recent_ticks DEFAULT VALUES");
    runner.wait_for([&](const auto& files) {
      for (const auto& f : files)
        if (f.name == filling && f.status == "FILLING" && f.end_ms >= visible) durable_until = f.end_ms;
      return durable_until > 0;
    }, 250);
  }
  ASSERT_GT(durable_until, 0) << "no partial set of " << filling << " reached the insert";
  for (const auto& f : runner.files()) EXPECT_FALSE(f.name == filling && f.status == "COMPLETED") << "segment completed";
  (void)runner.stop();

  auto restored = restore_and_start(p, "partial-full", durable_until);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->query("SELECT count(*) FROM recent WHERE note = 'kept'"), "250");
}

TEST_F(PostgresWalBackup, ARestoreTimeAfterTheStoredWalIsRejectedBeforeAnythingIsWritten) {
  shared_source().query("CREATE TABLE lonely (id int)");
  const auto p = plan("nolog1");
  Control control;
  auto full = full_backup(p, "nolog-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  engines::RestoreRequest request;
  request.set_id = "nolog-full";
  request.target_ms = full->consistent_ms + 60000;
  request.target_dir = dir_ + "/too-late";
  auto st = engine_.restore(p, *repo_, request, control);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidParameter");
  EXPECT_NE(st.error().message.find("after the end of the stored WAL"), std::string::npos) << st.error().message;
  EXPECT_FALSE(std::filesystem::exists(request.target_dir));

  request.target_ms = full->consistent_ms;
  std::filesystem::create_directories(request.target_dir);
  std::ofstream(request.target_dir + "/precious") << "keep me";
  st = engine_.restore(p, *repo_, request, control);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("is not empty"), std::string::npos) << st.error().message;
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
