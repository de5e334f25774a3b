// Shared pieces of the PostgreSQL engine's integration tests: a task control, a repository in a
// temporary directory, one source server per test binary, and a log backup running in a thread.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engines/postgres/postgres_engine.h"
#include "pg_server.h"
#include "repo/repository.h"

namespace opendbs::testing {

class Control : public engines::TaskControl {
 public:
  bool cancelled() const override { return cancel.load(); }
  void progress(int percent, uint64_t bytes) override {
    last_percent = percent;
    if (on_progress) on_progress(percent, bytes);
  }
  void lag(uint64_t bytes, double seconds) override {
    lag_reports++;
    if (bytes > max_lag_bytes) max_lag_bytes = bytes;
    last_lag_seconds = seconds;
  }
  std::atomic<bool> cancel{false};
  std::atomic<int> last_percent{-1};
  std::atomic<int> lag_reports{0};
  std::atomic<uint64_t> max_lag_bytes{0};
  std::atomic<double> last_lag_seconds{0};
  std::function<void(int, uint64_t)> on_progress;
  void warning(const std::string& text) override {
    std::lock_guard lock(warnings_mu);
    warnings.push_back(text);
  }
  std::mutex warnings_mu;
  std::vector<std::string> warnings;

  // Cancels the task at its first progress report with bytes received, noting when.
  void cancel_once_bytes_arrive() {
    on_progress = [this](int, uint64_t bytes) {
      if (bytes > 0 && !cancel) {
        cancelled_at = std::chrono::steady_clock::now();
        cancel = true;
      }
    };
  }
  std::chrono::steady_clock::time_point cancelled_at;
};

int64_t now_ms();
void sleep_ms(int64_t ms);
// Checks `holds()` every 50 ms until it is true: false if it still is not after `timeout_ms`.
bool eventually(const std::function<bool()>& holds, int64_t timeout_ms);
// Success when the COMPLETED files among `files` are one run of segments without a gap (at least one).
::testing::AssertionResult completed_without_gap(const std::vector<engines::LogFile>& files);
// The name of the WAL file `server` writes now, which it then completes (pg_switch_wal).
std::string switch_wal(const PgServer& server);

// The source server every test of the binary shares (each test uses its own tables and plan id).
PgServer& shared_source();
// Database `name` of the shared source, new and empty (dropped first if a previous run left it), created
// with CREATE DATABASE's `options` (e.g. "ENCODING 'LATIN1' ... TEMPLATE template0").
PgServer::Query new_database(const std::string& name, const std::string& options = "");
// psql (Debian's 15) with ON_ERROR_STOP on `database` of `server`, output discarded: its exit status.
int psql(const PgServer& server, const std::string& database, const std::string& args);

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  engines::PlanSpec plan(const std::string& plan_id) const;
  // Runs a physical full backup into a new set; returns the result (the set is committed when ok).
  core::Result<engines::FullBackupResult> full_backup(const engines::PlanSpec& plan, const std::string& set_id,
                                                      Control& control, repo::SetStats* stats = nullptr);
  // How restored servers fetch WAL: this build's `opendbs wal-fetch` on the test's repository.
  engines::RestoreRequest::LogFetch log_fetch() const;
  // As root the servers run as `postgres`, which must read the repository and its key to fetch WAL.
  void share_repository_with_server() const;
  // Restores `set_id` to `target_ms` into `dir` (default: a new directory) with WAL fetched through
  // `opendbs wal-fetch`, starts PostgreSQL on it and returns it.
  std::unique_ptr<PgServer> restore_and_start(const engines::PlanSpec& plan, const std::string& set_id,
                                              int64_t target_ms, const std::string& dir = "");

  // Restores the logical set `set_id` to `target_ms` into a new server (of server_bin_dir_) and returns it.
  std::unique_ptr<PgServer> restore_logically(const engines::PlanSpec& plan, const std::string& set_id,
                                              int64_t target_ms);

  // What the logical tests share.
  // `plan` backing up `backup_objects` (DBS BackupObjects JSON) with BackupMethod logical.
  static engines::PlanSpec logical(engines::PlanSpec plan, const std::string& backup_objects);
  // A full backup of `plan` into the new set `set_id`: its consistent moment (-1 and a test failure
  // if the backup fails).
  int64_t backed_up(const engines::PlanSpec& plan, const std::string& set_id);
  // A new, empty server of `bin_dir` (default server_bin_dir_); null and a test failure if it does not start.
  std::unique_ptr<PgServer> new_server(const std::string& bin_dir = "") const;
  // Restores `set_id` of `plan` to `target_ms` into the running `destination`.
  core::Status restore_into(const PgServer& destination, const engines::PlanSpec& plan, const std::string& set_id,
                            int64_t target_ms, Control& control, const std::string& restore_objects = "",
                            const std::string& duplicate_conflict = "");
  // Downloads `set_id` as SQL and runs it with psql in `database` of `server`, which it creates:
  // psql's exit status (-1 and a test failure if the download fails).
  int load_sql_download(const engines::PlanSpec& plan, const std::string& set_id, const PgServer& server,
                        const std::string& database);

  std::string dir_;
  std::string key_file_;
  std::string server_bin_dir_ = debian_bin_dir();  // the binaries restore_and_start runs
  std::unique_ptr<repo::Repository> repo_;
  engines::PostgresEngine engine_{engines::PostgresOptions{{/*switch_interval_ms=*/0, 1000, 20, 2000}}};
};

// engine.log_backup in a thread, recording every file it reports.
class LogBackupRunner {
 public:
  LogBackupRunner(engines::Engine& engine, engines::PlanSpec plan, repo::Repository& repository);
  ~LogBackupRunner();
  // Waits until `done(files)` holds; false after `timeout_ms`.
  bool wait_for(const std::function<bool(const std::vector<engines::LogFile>&)>& done, int64_t timeout_ms);
  bool completed(const std::string& name, int64_t timeout_ms);
  core::Status stop();  // cancels and returns what log_backup returned
  std::vector<engines::LogFile> files();
  const Control& control() const { return control_; }

 private:
  Control control_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<engines::LogFile> files_;
  std::optional<core::Status> result_;
  std::thread thread_;
};

}  // namespace opendbs::testing
