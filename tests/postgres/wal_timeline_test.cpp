// The source moves to a new timeline while the log backup streams (a standby promoted: here the
// source itself, restarted as a standby and promoted), and restores reach both sides of the switch.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "own_source.h"
#include "engines/postgres/wal_names.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

class PostgresWalTimelines : public OwnSourceTest {
 protected:
  // Downloads the plan's log file `name` (as CreateIncrementBackupSetDownload does): its bytes and the
  // extension the published file name gets.
  std::pair<std::string, std::string> download(const engines::PlanSpec& p, const std::string& name) {
    engines::DownloadRequest request;
    request.set_id = "log-" + p.plan_id + "-" + name;
    request.format = "Native";
    request.log_file = true;
    request.out_path = dir_ + "/download-" + name;
    Control control;
    auto result = engine_.download(p, *repo_, request, control);
    EXPECT_TRUE(result.ok()) << name << ": " << result.error().message;
    if (!result.ok()) return {};
    EXPECT_EQ(result->bytes, fs::file_size(request.out_path));
    return {read_all(request.out_path), result->extension};
  }
  static bool zeros(std::string_view bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
  }

  static std::string read_all(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(PostgresWalTimelines, AStreamFollowsAPromotionAndRestoresStopOnEitherSideOfTheSwitch) {
  const auto p = source_plan("tli1");
  source_->query("CREATE TABLE accounts (id int PRIMARY KEY, balance int)");
  source_->query("INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 1000) g");
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  Control control;
  auto full = full_backup(p, "tli-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;

  source_->query("UPDATE accounts SET balance = balance + 1 WHERE id <= 100");
  sleep_ms(50);
  const int64_t t1 = now_ms();
  const std::string at_t1 = source_->checksum("accounts");
  sleep_ms(50);
  source_->query("UPDATE accounts SET balance = balance - 5 WHERE id > 900");
  sleep_ms(50);
  const int64_t before_switch = now_ms();  // after timeline 1's last change
  const std::string at_before_switch = source_->checksum("accounts");
  const std::string old_segment = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");

  // The segment still filling downloads as its newest partial set, zero-padded to a whole segment and
  // named as pg_receivewal names one: a prefix of the source's file.
  ASSERT_TRUE(runner.wait_for([&](const auto& files) {
    return std::any_of(files.begin(), files.end(), [&](const engines::LogFile& f) {
      return f.name == old_segment && f.status == "FILLING" && f.size > 0;
    });
  }, 20000));
  {
    const auto [filling, extension] = download(p, old_segment);
    EXPECT_EQ(extension, "partial");
    ASSERT_EQ(filling.size(), 16u << 20);
    const size_t held = filling.find_last_not_of('\0') + 1;
    EXPECT_EQ(filling.substr(0, held), read_all(source_->data_dir() + "/pg_wal/" + old_segment).substr(0, held));
  }

  promote_source(true);
  ASSERT_EQ(timeline_of(*source_), "00000002");
  sleep_ms(50);
  const int64_t promoted = now_ms();  // on timeline 2, before its first transaction
  sleep_ms(50);
  source_->query("INSERT INTO accounts SELECT g, 7 FROM generate_series(1001, 1500) g");
  sleep_ms(50);
  const int64_t after_switch = now_ms();
  const std::string at_after_switch = source_->checksum("accounts");
  sleep_ms(50);
  source_->query("DELETE FROM accounts WHERE id % 2 = 0");
  const std::string last = switch_wal();
  ASSERT_EQ(last.substr(0, 8), "00000002");
  ASSERT_TRUE(runner.completed(last, 30000)) << last << " never completed";
  ASSERT_EQ(runner.stop().error().code, "Cancelled");

  // The history file is stored as it is on the source, and reported; the old timeline's last
  // segment is stored up to the switch point, as PostgreSQL's archiver would name it.
  const std::string history = source_->query("SELECT pg_read_file('pg_wal/00000002.history')");
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(stored("log-tli1-00000002.history"), history);
  const auto files = runner.files();
  auto reported = [&](const std::string& name) {
    return std::any_of(files.begin(), files.end(),
                       [&](const engines::LogFile& f) { return f.name == name && f.status == "COMPLETED"; });
  };
  EXPECT_TRUE(reported("00000002.history"));
  const std::string old_end = old_segment + ".partial";
  EXPECT_TRUE(reported(old_end));
  auto end_manifest = repo_->load_manifest("log-tli1-" + old_end);
  ASSERT_TRUE(end_manifest.ok()) << end_manifest.error().message;
  EXPECT_EQ(end_manifest->engine_metadata.at("kind").as_string(), "wal_timeline_end");
  EXPECT_EQ(history.find("1\t" + std::string(end_manifest->engine_metadata.at("end_lsn").as_string())), 0u)
      << history;
  const auto switch_lsn = engines::postgres::parse_lsn(std::string(end_manifest->engine_metadata.at("end_lsn").as_string()));
  ASSERT_TRUE(switch_lsn);
  EXPECT_EQ(stored("log-tli1-" + old_end).size(), *switch_lsn % (16 << 20));
  // Downloads give each kind of log file as PostgreSQL has it: the history file as it is, the old
  // timeline's end as a whole segment holding the old timeline's bytes up to the switch point (the
  // source's own file of it) and zeros after, a segment whole.
  {
    const auto [history_file, history_extension] = download(p, "00000002.history");
    EXPECT_EQ(history_file, history);
    EXPECT_EQ(history_extension, "");
    const auto [end_file, end_extension] = download(p, old_end);
    EXPECT_EQ(end_extension, "");
    ASSERT_EQ(end_file.size(), 16u << 20);
    const size_t cut = *switch_lsn % (16 << 20);
    const std::string on_source = fs::exists(source_->data_dir() + "/pg_wal/" + old_segment)
                                      ? read_all(source_->data_dir() + "/pg_wal/" + old_segment)
                                      : read_all(source_->data_dir() + "/pg_wal/" + old_end);
    EXPECT_EQ(end_file.substr(0, cut), on_source.substr(0, cut));
    EXPECT_TRUE(zeros(std::string_view(end_file).substr(cut)));
    const auto [segment, segment_extension] = download(p, last);
    EXPECT_EQ(segment_extension, "");
    EXPECT_EQ(segment.size(), 16u << 20);
    EXPECT_TRUE(segment == read_all(source_->data_dir() + "/pg_wal/" + last)) << last << " differs from the source's";
  }
  // The new timeline's segments carry its number and continue the chain without a gap.
  std::set<int64_t> seqs;
  for (const auto& f : files)
    if (f.status == "COMPLETED") seqs.insert(f.seq);
  for (int64_t seq = full->log_start_seq; seq <= *seqs.rbegin(); ++seq) EXPECT_TRUE(seqs.count(seq)) << seq;

  // wal-fetch serves the stored history file, also to a restore whose target timeline is older (its
  // recovery probes for it to pick a new timeline number), and answers "absent" for one not stored.
  const std::string fetch = std::string(OPENDBS_BINARY) + " wal-fetch --repo " + dir_ + "/repo --key-file " +
                            key_file_ + " --plan tli1 --last none ";
  auto exit_code = [](const std::string& command) {
    const int status = std::system((command + " 2>/dev/null").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(exit_code(fetch + "--timeline 2 00000002.history " + dir_ + "/fetched.history"), 0);
  std::ifstream fetched(dir_ + "/fetched.history");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(fetched), {}), history);
  EXPECT_EQ(exit_code(fetch + "--timeline 3 00000003.history " + dir_ + "/none.history"), 1);
  EXPECT_EQ(exit_code(fetch + "--timeline 1 00000002.history " + dir_ + "/older.history"), 0);
  EXPECT_EQ(read_all(dir_ + "/older.history"), history);
  EXPECT_FALSE(fs::exists(dir_ + "/none.history"));

  // Before the switch: the restore stays on timeline 1.
  auto at1 = restore_and_start(p, "tli-full", t1);
  ASSERT_TRUE(at1);
  EXPECT_EQ(at1->checksum("accounts"), at_t1);
  at1.reset();
  auto before = restore_and_start(p, "tli-full", before_switch);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->checksum("accounts"), at_before_switch);
  EXPECT_EQ(timeline_of(*before), "00000003") << "promoted from timeline 1 to a number the plan does not hold";
  EXPECT_NE(read_all(before->data_dir() + "/postgresql.auto.conf").find("recovery_target_timeline = 'current'"),
            std::string::npos);
  before.reset();
  // Between the promotion and timeline 2's first transaction the source held timeline 1's last state,
  // and was on timeline 2 (its promotion's end-of-recovery record says since when).
  auto quiet = restore_and_start(p, "tli-full", promoted);
  ASSERT_TRUE(quiet);
  EXPECT_EQ(quiet->checksum("accounts"), at_before_switch);
  EXPECT_EQ(timeline_of(*quiet), "00000003");
  quiet.reset();
  // After it: recovery follows the history onto timeline 2 and promotes to timeline 3.
  auto after = restore_and_start(p, "tli-full", after_switch);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->checksum("accounts"), at_after_switch);
  EXPECT_EQ(timeline_of(*after), "00000003");
  const std::string conf = read_all(after->data_dir() + "/postgresql.auto.conf");
  EXPECT_NE(conf.find("recovery_target_timeline = '2'"), std::string::npos) << conf;
  EXPECT_NE(conf.find("--timeline 2 "), std::string::npos) << conf;
  after.reset();

  // With copies instead of wal-fetch, the history file is copied beside the segments.
  engines::RestoreRequest request;
  request.set_id = "tli-full";
  request.target_ms = after_switch;
  request.target_dir = dir_ + "/copied";
  auto st = engine_.restore(p, *repo_, request, control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(fs::exists(request.target_dir + "/opendbs_wal/00000002.history"));
  std::string error;
  auto copied = PgServer::open(request.target_dir, &error);
  ASSERT_TRUE(copied) << error;
  for (int i = 0; i < 200 && copied->query("SELECT pg_is_in_recovery()") == "t"; ++i) sleep_ms(50);
  ASSERT_EQ(copied->query("SELECT pg_is_in_recovery()"), "f") << copied->log_tail();
  EXPECT_EQ(copied->checksum("accounts"), at_after_switch);
}

// The log backup is not running while the source is promoted: the next task streams the rest of the
// old timeline (the server ends it at the switch point), stores its end and the history file, and
// goes on on the new timeline.
TEST_F(PostgresWalTimelines, ALogBackupStartedAfterAPromotionStoresTheRestOfTheOldTimelineFirst) {
  const auto p = source_plan("tli2");
  source_->query("CREATE TABLE notes (id int PRIMARY KEY, body text)");
  Control control;
  std::string old_segment;
  int64_t before_switch = 0;
  std::string at_before_switch;
  {
    LogBackupRunner runner(engine_, p, *repo_);
    ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
    auto full = full_backup(p, "tli2-full", control);
    ASSERT_TRUE(full.ok()) << full.error().message;
    ASSERT_EQ(runner.stop().error().code, "Cancelled");
  }
  // Written while no log backup runs: only the slot keeps it.
  source_->query("INSERT INTO notes SELECT g, 'old ' || g FROM generate_series(1, 300) g");
  sleep_ms(50);
  before_switch = now_ms();
  at_before_switch = source_->checksum("notes");
  old_segment = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  promote_source(false);
  ASSERT_EQ(timeline_of(*source_), "00000002");
  source_->query("UPDATE notes SET body = 'new' WHERE id <= 50");
  sleep_ms(50);
  const int64_t after_switch = now_ms();
  const std::string at_after_switch = source_->checksum("notes");
  sleep_ms(50);
  source_->query("DELETE FROM notes WHERE id > 250");

  LogBackupRunner runner(engine_, p, *repo_);
  const std::string last = switch_wal();
  ASSERT_TRUE(runner.completed(last, 30000)) << last << " never completed";
  ASSERT_EQ(runner.stop().error().code, "Cancelled");
  const auto files = runner.files();
  for (const std::string& name : {old_segment + ".partial", std::string("00000002.history")})
    EXPECT_TRUE(std::any_of(files.begin(), files.end(), [&](const engines::LogFile& f) {
      return f.name == name && f.status == "COMPLETED";
    })) << name;
  EXPECT_EQ(stored("log-tli2-00000002.history"), source_->query("SELECT pg_read_file('pg_wal/00000002.history')"));

  auto before = restore_and_start(p, "tli2-full", before_switch);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->checksum("notes"), at_before_switch);
  before.reset();
  auto after = restore_and_start(p, "tli2-full", after_switch);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->checksum("notes"), at_after_switch);
  EXPECT_EQ(timeline_of(*after), "00000003");
  after.reset();

  // A full backup taken on timeline 2 restores to its own end (recovery stays on its timeline).
  auto later = full_backup(p, "tli2-later", control);
  ASSERT_TRUE(later.ok()) << later.error().message;
  const std::string at_later = source_->checksum("notes");
  auto own = restore_and_start(p, "tli2-later", later->consistent_ms);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->checksum("notes"), at_later);
}

}  // namespace
}  // namespace opendbs::testing
