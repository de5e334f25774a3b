// A restored server's recovery fetches its WAL from the repository through `opendbs wal-fetch`
// (restore_command), and what happens when a segment is missing or wal-fetch cannot work.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PostgresWalFetch : public EngineTest {
 protected:
  // Starts PostgreSQL on `dir`, whose recovery lacks `segment`: restore_command must say so and
  // recovery end with FATAL, never promote. (pg_ctl may see the server accept read-only connections
  // once it is consistent, before recovery reaches the gap; what matters is how recovery ends.)
  void expect_recovery_stops_without(const std::string& dir, const std::string& segment) {
    std::string error;
    auto server = PgServer::open(dir, &error);
    std::string log = server ? server->log() : error;
    const std::string fatal = "FATAL:  could not restore file \"" + segment + "\" from archive";
    for (int i = 0; server && i < 100 && log.find(fatal) == std::string::npos; ++i) {
      sleep_ms(100);
      log = server->log();
    }
    EXPECT_NE(log.find(segment + ", which this restore replays, is missing"), std::string::npos) << log;
    EXPECT_NE(log.find(fatal), std::string::npos) << log;
    EXPECT_EQ(log.find("archive recovery complete"), std::string::npos) << "promoted without the WAL to its target";
  }

  void TearDown() override {
    if (!plan_.plan_id.empty()) {
      EXPECT_TRUE(engine_.release_log(plan_).ok());  // the shared source keeps no WAL for the plan
    }
    EngineTest::TearDown();
  }

  std::string switch_wal() {
    const std::string name = shared_source().query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
    shared_source().query("SELECT pg_switch_wal()");
    return name;
  }

  // A full backup of `table`, then two completed segments after it: the first with rows added, the
  // second with an update and a delete, the moment returned (target) after them, and a later commit.
  struct Chain {
    std::string after_backup, last;  // names of the two segments
    int64_t target_ms = 0;
    std::string checksum_at_target;
  };
  Chain build_chain(const std::string& plan_id, const std::string& table) {
    plan_ = plan(plan_id);
    auto& src = shared_source();
    src.query("DROP TABLE IF EXISTS " + table);
    src.query("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
    src.query("INSERT INTO " + table + " SELECT g, 'base' FROM generate_series(1, 1000) g");
    Chain chain;
    LogBackupRunner runner(engine_, plan_, *repo_);
    EXPECT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
    Control control;
    auto full = full_backup(plan_, plan_id + "-full", control);
    EXPECT_TRUE(full.ok()) << full.error().message;
    src.query("INSERT INTO " + table + " SELECT g, 'after the backup' FROM generate_series(1001, 2000) g");
    chain.after_backup = switch_wal();
    src.query("UPDATE " + table + " SET v = 'second segment' WHERE id % 2 = 0");
    src.query("DELETE FROM " + table + " WHERE id > 1500");
    sleep_ms(50);
    chain.target_ms = now_ms();
    chain.checksum_at_target = src.checksum(table);
    sleep_ms(50);
    // A commit after the target in the same segment: the restore then stops recovery at the target.
    src.query("CREATE TABLE IF NOT EXISTS wal_fetch_marks (at timestamptz)");
    src.query("INSERT INTO wal_fetch_marks VALUES (now())");
    chain.last = switch_wal();
    EXPECT_TRUE(runner.completed(chain.last, 20000)) << chain.last << " never completed";
    EXPECT_FALSE(runner.stop().ok());
    return chain;
  }

  // Restores to `target_ms` with WAL fetched through opendbs; the server logs at LOG level, so that
  // every file recovery takes from restore_command shows as `restored log file "..." from archive`.
  std::string restore_for_fetch(int64_t target_ms) {
    engines::RestoreRequest request;
    request.set_id = plan_.plan_id + "-full";
    request.target_ms = target_ms;
    request.target_dir = dir_ + "/restored-" + plan_.plan_id;
    request.log_fetch = log_fetch();
    // Given relative to this process's directory, written absolute: PostgreSQL runs in its own.
    request.log_fetch.repository_url = fs::relative(request.log_fetch.repository_url).string();
    Control control;
    auto st = engine_.restore(plan_, *repo_, request, control);
    EXPECT_TRUE(st.ok()) << st.error().message;
    std::ofstream(request.target_dir + "/postgresql.auto.conf", std::ios::app) << "log_min_messages = log\n";
    return request.target_dir;
  }

  // `opendbs wal-fetch ARGS`; its exit code.
  int wal_fetch(const std::string& args) {
    const int status = std::system((std::string(OPENDBS_BINARY) + " wal-fetch " + args + " 2>/dev/null").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  engines::PlanSpec plan_;
};

TEST_F(PostgresWalFetch, RecoveryFetchesTheWalFromTheRepositoryThroughOpendbsAndNothingIsCopied) {
  const Chain chain = build_chain("fetch1", "fetched");
  const std::string dir = restore_for_fetch(chain.target_ms);
  EXPECT_FALSE(fs::exists(dir + "/opendbs_wal")) << "the restore copied WAL";
  const std::string conf = read_all(dir + "/postgresql.auto.conf");
  EXPECT_NE(conf.find("restore_command = '''" + std::string(OPENDBS_BINARY) + "'' wal-fetch --repo"), std::string::npos)
      << conf;
  EXPECT_NE(conf.find("--repo ''" + dir_ + "/repo'' --key-file ''" + key_file_ + "''"), std::string::npos) << conf;
  EXPECT_NE(conf.find("--last " + chain.last + " "), std::string::npos) << conf;

  // The log backup goes on and stores a later segment before the server starts: recovery must not
  // replay it.
  shared_source().query("UPDATE fetched SET v = 'too late'");
  {
    LogBackupRunner runner(engine_, plan_, *repo_);
    const std::string later = switch_wal();
    ASSERT_TRUE(runner.completed(later, 20000)) << later << " never completed";
  }
  share_repository_with_server();

  std::string error;
  auto server = PgServer::open(dir, &error);
  ASSERT_TRUE(server) << error;
  for (int i = 0; i < 200 && server->query("SELECT pg_is_in_recovery()") == "t"; ++i) sleep_ms(50);
  ASSERT_EQ(server->query("SELECT pg_is_in_recovery()"), "f") << server->log_tail();
  EXPECT_EQ(server->checksum("fetched"), chain.checksum_at_target) << conf << server->log();

  // Both segments written after the backup came through restore_command, the later one did not.
  const std::string log = server->log();
  std::set<std::string> restored;
  const std::regex line("restored log file \"([0-9A-F]{24})\" from archive");
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) restored.insert((*it)[1]);
  EXPECT_TRUE(restored.count(chain.after_backup)) << log;
  EXPECT_TRUE(restored.count(chain.last)) << log;
  EXPECT_NE(log.find("is not among the WAL files this restore replays (up to " + chain.last + ")"), std::string::npos)
      << log;
}

TEST_F(PostgresWalFetch, ASegmentMissingFromTheRepositoryStopsRecoveryInsteadOfPromotingEarly) {
  const Chain chain = build_chain("fetch2", "gap");
  const std::string dir = restore_for_fetch(chain.target_ms);
  // The segment disappears between the restore and the start (pruned, damaged storage...).
  ASSERT_TRUE(repo_->forget_set("log-fetch2-" + chain.after_backup).ok());
  share_repository_with_server();
  expect_recovery_stops_without(dir, chain.after_backup);
}

TEST_F(PostgresWalFetch, WithoutARepositoryLocationTheWalIsCopiedAndTheDirectoryNeedsNothingElse) {
  const Chain chain = build_chain("copy1", "copied");
  // A path restore_command must quote for postgresql.conf, for sh and for PostgreSQL's % escapes.
  const std::string dir = dir_ + "/it's 100% \\ copied";
  engines::RestoreRequest request;
  request.set_id = "copy1-full";
  request.target_ms = chain.target_ms;
  request.target_dir = dir;
  Control control;
  auto st = engine_.restore(plan_, *repo_, request, control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(fs::exists(dir + "/opendbs_wal/" + chain.after_backup));
  EXPECT_TRUE(fs::exists(dir + "/opendbs_wal/" + chain.last));
  // The repository goes away and the directory moves: it has what recovery needs.
  repo_.reset();
  fs::remove_all(dir_ + "/repo");
  const std::string moved = dir_ + "/moved elsewhere";
  fs::rename(dir, moved);
  std::string error;
  auto server = PgServer::open(moved, &error);
  ASSERT_TRUE(server) << error;
  for (int i = 0; i < 200 && server->query("SELECT pg_is_in_recovery()") == "t"; ++i) sleep_ms(50);
  ASSERT_EQ(server->query("SELECT pg_is_in_recovery()"), "f") << server->log_tail();
  EXPECT_EQ(server->checksum("copied"), chain.checksum_at_target) << server->log_tail();
}

TEST_F(PostgresWalFetch, ACopiedSegmentMissingStopsRecoveryInsteadOfPromotingEarly) {
  const Chain chain = build_chain("copy2", "copygap");
  const std::string dir = dir_ + "/copies";
  engines::RestoreRequest request;
  request.set_id = "copy2-full";
  request.target_ms = chain.target_ms;
  request.target_dir = dir;
  Control control;
  ASSERT_TRUE(engine_.restore(plan_, *repo_, request, control).ok());
  ASSERT_TRUE(fs::remove(dir + "/opendbs_wal/" + chain.after_backup));
  expect_recovery_stops_without(dir, chain.after_backup);
}

TEST_F(PostgresWalFetch, WalFetchExitsWithTheCodesPostgresqlReadsAsFetchedAbsentAndFatal) {
  const Chain chain = build_chain("fetch3", "codes");
  const std::string repo = " --repo " + dir_ + "/repo --key-file " + key_file_ + " --plan fetch3";
  const std::string out = dir_ + "/RECOVERYXLOG";

  ASSERT_EQ(wal_fetch(repo + " --last " + chain.last + " " + chain.after_backup + " " + out), 0);
  std::string stored;
  ASSERT_TRUE(repo_->read_stream("log-fetch3-" + chain.after_backup, "segment", [&](std::string_view b) {
    stored.append(b);
    return core::Status{};
  }).ok());
  EXPECT_EQ(read_all(out), stored);
  EXPECT_FALSE(fs::exists(out + ".opendbs-part"));

  // Absent (1): past --last, another timeline, not a segment, or no segment planned at all.
  EXPECT_EQ(wal_fetch(repo + " --last " + chain.after_backup + " " + chain.last + " " + out), 1);
  EXPECT_EQ(wal_fetch(repo + " --last " + chain.last + " 00000002" + chain.last.substr(8) + " " + out), 1);
  EXPECT_EQ(wal_fetch(repo + " --last " + chain.last + " 00000002.history " + out), 1);
  EXPECT_EQ(wal_fetch(repo + " --last none " + chain.after_backup + " " + out), 1);
  // A history file of the target timeline that is not stored is absent too (recovery probes for them).
  EXPECT_EQ(wal_fetch(repo + " --last " + chain.last + " --timeline 2 00000002.history " + out), 1);
  EXPECT_EQ(wal_fetch(repo + " --last " + chain.last + " --timeline two " + chain.last + " " + out), 255);
  // Fatal (255): a planned segment the repository lacks, a key that does not open the repository,
  // no repository, a malformed command line.
  EXPECT_EQ(wal_fetch(repo + " --last FFFFFFFFFFFFFFFFFFFFFFFF FFFFFFFF0000000000000001 " + out), 255);
  const std::string wrong_key = dir_ + "/wrong.key";
  std::ofstream(wrong_key) << "0123456789abcdef0123456789abcdef\n";
  EXPECT_EQ(wal_fetch(" --repo " + dir_ + "/repo --key-file " + wrong_key + " --plan fetch3 --last " + chain.last + " " +
                      chain.after_backup + " " + out),
            255);
  EXPECT_EQ(wal_fetch(" --repo " + dir_ + "/nothing --key-file " + key_file_ + " --plan fetch3 --last " + chain.last +
                      " " + chain.after_backup + " " + out),
            255);
  EXPECT_EQ(wal_fetch(repo + " --last " + chain.last + " --unknown " + chain.after_backup + " " + out), 255);
  EXPECT_EQ(wal_fetch(repo + " --last " + chain.last), 255);
}

}  // namespace
}  // namespace opendbs::testing
