// What a physical restore may do to the RestoreDir it is given: a delta restore updates only a copy
// of the set's own cluster, and a restore cut short leaves nothing PostgreSQL would start on.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "core/file.h"
#include "engine_harness.h"
#include "engines/postgres/cluster_identity.h"
#include "engines/postgres/unfinished_restore_dir.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

// Every path below `dir` with its size and mtime (ns), to tell that nothing was written.
std::map<std::string, std::pair<uint64_t, int64_t>> snapshot(const fs::path& dir) {
  std::map<std::string, std::pair<uint64_t, int64_t>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    out[e.path().lexically_relative(dir).string()] = {static_cast<uint64_t>(st.st_size),
                                                      st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
  }
  return out;
}

// "Database system identifier" as pg_controldata prints it.
std::string pg_controldata_identifier(const fs::path& dir, const fs::path& scratch) {
  const std::string out = (scratch / "controldata.txt").string();
  if (std::system((debian_bin_dir() + "pg_controldata " + dir.string() + " > " + out).c_str()) != 0) return "";
  auto text = core::read_file(out);
  const std::string key = "Database system identifier:";
  const size_t at = text.ok() ? text->find(key) : std::string::npos;
  if (at == std::string::npos) return "";
  const size_t begin = text->find_first_not_of(' ', at + key.size());
  return text->substr(begin, text->find('\n', begin) - begin);
}

// Runs the restore in a child process that kills itself with SIGKILL (as `kill -9` of the node) at
// its first progress report of `percent` or more: none of the restore's own clean-up runs.
void restore_killed_at(engines::Engine& engine, const engines::PlanSpec& plan, repo::Repository& repository,
                       const engines::RestoreRequest& request, int percent) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Control dying;
    dying.on_progress = [percent](int at, uint64_t) {
      if (at >= percent) ::raise(SIGKILL);
    };
    (void)engine.restore(plan, repository, request, dying);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the restore ended before the chosen point";
}

class PostgresRestoreDir : public EngineTest {};

TEST_F(PostgresRestoreDir, ADeltaRestoreIntoAnotherClustersDirectoryIsRefusedNamingBothAndWritesNothing) {
  const auto p = plan("restoredir1");
  Control control;
  auto full = full_backup(p, "rd-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  const std::string set_identifier(full->metadata.at("system_identifier").as_string());

  // A stopped data directory of another cluster, as /var/lib/postgresql/15/main is during maintenance.
  const fs::path other = fs::path(dir_) / "other-cluster";
  ASSERT_EQ(run_as_server_user(debian_bin_dir() + "initdb -A trust -U postgres -N -D " + other.string() + " > " + dir_ +
                               "/initdb.log 2>&1"),
            0);
  const std::string other_identifier = pg_controldata_identifier(other, dir_);
  ASSERT_FALSE(other_identifier.empty());
  ASSERT_NE(other_identifier, set_identifier);
  auto read = engines::postgres::data_directory_system_identifier(other);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(std::to_string(*read), other_identifier);  // global/pg_control read as pg_controldata reads it

  const auto before = snapshot(other);
  engines::RestoreRequest request;
  request.set_id = "rd-full";
  request.target_ms = full->consistent_ms;
  request.target_dir = other.string();
  Control restore_control;
  auto st = engine_.restore(p, *repo_, request, restore_control);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidParameter");
  EXPECT_NE(st.error().message.find("holds another PostgreSQL cluster (system identifier " + other_identifier +
                                    ") than backup set rd-full (system identifier " + set_identifier + ")"),
            std::string::npos)
      << st.error().message;
  EXPECT_EQ(snapshot(other), before);

  // The set's own cluster, restored before, is updated.
  request.target_dir = dir_ + "/own";
  ASSERT_TRUE(engine_.restore(p, *repo_, request, restore_control).ok());
  auto again = engine_.restore(p, *repo_, request, restore_control);
  EXPECT_TRUE(again.ok()) << again.error().message;
}

// StopBackupPlan ALL or a failure after the restore began writing: nothing it wrote may be started on.
TEST_F(PostgresRestoreDir, ACancelledRestoreEmptiesTheDirectoryItFilledAndDisablesOneThatHeldTheCluster) {
  const auto p = plan("restoredir2");
  Control control;
  auto full = full_backup(p, "rd-cancel", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  engines::RestoreRequest request;
  request.set_id = "rd-cancel";
  request.target_ms = full->consistent_ms;
  Control cancelling;  // cancelled as the restore starts writing (after the 1 % of its planning)
  cancelling.on_progress = [&](int percent, uint64_t) {
    if (percent == 1) cancelling.cancel = true;
  };

  request.target_dir = dir_ + "/fresh";
  auto st = engine_.restore(p, *repo_, request, cancelling);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "Cancelled");
  EXPECT_NE(st.error().message.find("the files the restore had written into RestoreDir " + request.target_dir +
                                    " (empty before) were removed"),
            std::string::npos) << st.error().message;
  EXPECT_TRUE(!fs::exists(request.target_dir) || fs::is_empty(request.target_dir));

  // A directory of the set's cluster, restored before: disabled, and mended by the next restore.
  request.target_dir = dir_ + "/existing";
  ASSERT_TRUE(engine_.restore(p, *repo_, request, control).ok());
  cancelling.cancel = false;
  st = engine_.restore(p, *repo_, request, cancelling);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("RestoreDir " + request.target_dir + " was disabled"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(fs::exists(request.target_dir + "/global/pg_control"));
  auto why = core::read_file(request.target_dir + "/" + engines::postgres::kRestoreUnfinishedFile);
  ASSERT_TRUE(why.ok());
  EXPECT_NE(why->find("\nsystem_identifier = " + std::string(full->metadata.at("system_identifier").as_string()) + "\n"),
            std::string::npos) << *why;
  auto mended = engine_.restore(p, *repo_, request, control);  // the recorded identifier is the set's
  ASSERT_TRUE(mended.ok()) << mended.error().message;
  EXPECT_TRUE(fs::exists(request.target_dir + "/global/pg_control"));
  EXPECT_FALSE(fs::exists(request.target_dir + "/" + engines::postgres::kRestoreUnfinishedFile));
}

// The copy of the data directory is most of a restore: its progress shows as it goes, and a cancel
// stops it between two runs of chunks rather than after the whole set.
TEST_F(PostgresRestoreDir, AFreshRestoreReportsItsCopyAsItGoesAndItsBytesAtTheEndAndACancelStopsItMidway) {
  const auto p = plan("restoredir3");
  Control control;
  auto full = full_backup(p, "rd-progress", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  auto manifest = repo_->load_manifest("rd-progress");
  ASSERT_TRUE(manifest.ok());
  uint64_t set_bytes = 0;
  for (const auto& s : manifest->streams) set_bytes += s.meta.size;
  engines::RestoreRequest request;
  request.set_id = "rd-progress";
  request.target_ms = full->consistent_ms;

  std::mutex mu;
  std::set<int> copying;  // the percentages reported while the files were copied
  uint64_t final_bytes = 0;  // the bytes of the 100 % report: the task's in /metrics
  Control watching;
  watching.on_progress = [&](int percent, uint64_t bytes) {
    std::lock_guard lock(mu);
    if (percent > 1 && percent < 80) copying.insert(percent);
    if (percent == 100) final_bytes = bytes;
  };
  request.target_dir = dir_ + "/watched";
  ASSERT_TRUE(engine_.restore(p, *repo_, request, watching).ok());
  EXPECT_GE(copying.size(), 3u) << "the copy reported " << copying.size() << " distinct percentages";
  EXPECT_EQ(watching.last_percent.load(), 100);
  EXPECT_EQ(final_bytes, set_bytes);

  std::atomic<uint64_t> copied{0};
  Control cancelling;  // cancelled at the copy's first report
  cancelling.on_progress = [&](int percent, uint64_t bytes) {
    if (percent > 1 && percent < 80) {
      copied = std::max<uint64_t>(copied, bytes);
      cancelling.cancel = true;
    }
  };
  request.target_dir = dir_ + "/cancelled";
  auto st = engine_.restore(p, *repo_, request, cancelling);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "Cancelled");
  EXPECT_GT(copied.load(), 0u);
  EXPECT_LT(copied.load(), set_bytes / 2) << "the copy went on after the cancel";
}

// The node killed during a restore (checker G6): the directory it leaves is one PostgreSQL refuses to
// start on — mid-copy, after the copy with the set's backup_label but no recovery settings yet, or a
// delta restore that rewrote part of a cluster — and a restore into it again (the task retried, or a
// new one) takes it for an unfinished restore and finishes it, where a directory that is not a data
// directory is refused.
TEST_F(PostgresRestoreDir, ARestoreKilledMidwayLeavesADirectoryPostgresRefusesAndTheNextRestoreFinishesIt) {
  const auto p = plan("restoredir4");
  shared_source().query(
      "CREATE TABLE rd_crash AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 100000) g");
  const std::string at_backup = shared_source().checksum("rd_crash");
  Control control;
  auto full = full_backup(p, "rd-crash", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  shared_source().query("UPDATE rd_crash SET v = 'after' WHERE id <= 10");  // the source moves on
  engines::RestoreRequest request;
  request.set_id = "rd-crash";
  request.target_ms = full->consistent_ms;
  const std::string mark = std::string("/") + engines::postgres::kRestoreUnfinishedFile;

  auto expect_refused_then_finished = [&](const std::string& dir, const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_TRUE(fs::exists(dir + mark));
    EXPECT_FALSE(fs::exists(dir + "/global/pg_control"));
    std::string error;
    EXPECT_FALSE(PgServer::open(dir, &error)) << "PostgreSQL started on a restore killed " << when;
    auto server = restore_and_start(p, "rd-crash", full->consistent_ms, dir);
    ASSERT_TRUE(server);
    EXPECT_EQ(server->checksum("rd_crash"), at_backup);
    EXPECT_FALSE(fs::exists(dir + mark));
  };

  request.target_dir = dir_ + "/killed-copying";  // into an empty directory, during the copy
  restore_killed_at(engine_, p, *repo_, request, 20);
  const std::string copy = request.target_dir + "/opendbs_restore_copy";  // where the set is copied first
  EXPECT_TRUE(fs::exists(copy + "/PG_VERSION"));
  std::string error;
  EXPECT_FALSE(PgServer::open(request.target_dir, &error));  // (as root: all of it now the server user's)
  EXPECT_FALSE(PgServer::open(copy, &error)) << "PostgreSQL started on the copy of a restore killed midway";
  expect_refused_then_finished(request.target_dir, "during the copy");

  request.target_dir = dir_ + "/killed-copied";  // after the copy: backup_label, no recovery.signal
  restore_killed_at(engine_, p, *repo_, request, 80);
  EXPECT_TRUE(fs::exists(request.target_dir + "/backup_label"));
  EXPECT_FALSE(fs::exists(request.target_dir + "/recovery.signal"));
  expect_refused_then_finished(request.target_dir, "after the copy");

  // A delta restore into the cluster restored and run above (its files changed since), killed once
  // it rewrote them.
  restore_killed_at(engine_, p, *repo_, request, 80);
  EXPECT_TRUE(fs::exists(request.target_dir + "/backup_label"));
  expect_refused_then_finished(request.target_dir, "during a delta restore");

  // The mark is what makes a directory an unfinished restore: without it, one that is not a data
  // directory is still refused, and left as it was.
  request.target_dir = dir_ + "/foreign";
  fs::create_directories(request.target_dir + "/global");
  ASSERT_TRUE(core::write_file_durable(request.target_dir + "/notes.txt", "mine", 0600).ok());
  const auto before = snapshot(request.target_dir);
  auto st = engine_.restore(p, *repo_, request, control);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("is not empty and not a PostgreSQL data directory"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(snapshot(request.target_dir), before);
}

}  // namespace
}  // namespace opendbs::testing
