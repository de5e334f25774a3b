#include "engine_harness.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/file.h"
#include "engines/postgres/pg_connection.h"
#include "repo/backend/local_backend.h"

namespace opendbs::testing {

int64_t now_ms() { return core::SystemClock::instance().now_ms(); }
void sleep_ms(int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

bool eventually(const std::function<bool()>& holds, int64_t timeout_ms) {
  for (const int64_t until = now_ms() + timeout_ms; now_ms() < until; sleep_ms(50))
    if (holds()) return true;
  return holds();
}

::testing::AssertionResult completed_without_gap(const std::vector<engines::LogFile>& files) {
  std::set<int64_t> completed;
  for (const auto& f : files)
    if (f.status == "COMPLETED") completed.insert(f.seq);
  if (completed.empty()) return ::testing::AssertionFailure() << "no segment completed";
  const auto span = static_cast<size_t>(*completed.rbegin() - *completed.begin() + 1);
  if (span == completed.size()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the chain has a gap: " << completed.size() << " segments completed between "
                                       << *completed.begin() << " and " << *completed.rbegin();
}

std::string switch_wal(const PgServer& server) {
  const std::string name = server.query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  server.query("SELECT pg_switch_wal()");
  return name;
}

PgServer& shared_source() {
  static std::unique_ptr<PgServer> server = [] {
    std::string error;
    auto s = PgServer::create(&error);
    if (!s) throw std::runtime_error("cannot start the test PostgreSQL: " + error);
    return s;
  }();
  return *server;
}

PgServer::Query new_database(const std::string& name, const std::string& options) {
  auto& server = shared_source();
  server.query("DROP DATABASE IF EXISTS " + engines::postgres::quote_ident(name));
  server.query("CREATE DATABASE " + engines::postgres::quote_ident(name) + (options.empty() ? "" : " " + options));
  return PgServer::Query{server, name};
}

int psql(const PgServer& server, const std::string& database, const std::string& args) {
  return std::system((debian_bin_dir() + "psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " +
                      std::to_string(server.port()) + " -U postgres -d " + database + " " + args + " > /dev/null")
                         .c_str());
}

void EngineTest::SetUp() {
  dir_ = make_server_temp_dir("test");
  key_file_ = dir_ + "/repository.key";
  ASSERT_TRUE(core::write_file_durable(key_file_, core::to_hex(core::random_bytes(32)) + "\n", 0600).ok());
  repo::RepoOptions options;
  options.scrypt_log_n = 10;
  options.worker_threads = 2;
  auto r = repo::Repository::init(std::make_unique<repo::LocalBackend>(dir_ + "/repo"),
                                  repo::KeySource{std::nullopt, key_file_}, options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  repo_ = std::move(r).value();
}

void EngineTest::TearDown() {
  repo_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

engines::PlanSpec EngineTest::plan(const std::string& plan_id) const {
  engines::PlanSpec p;
  p.plan_id = plan_id;
  p.database_type = "PostgreSQL";
  p.backup_method = "physical";
  p.source = shared_source().endpoint();
  return p;
}

core::Result<engines::FullBackupResult> EngineTest::full_backup(const engines::PlanSpec& plan, const std::string& set_id,
                                                                Control& control, repo::SetStats* stats) {
  OPENDBS_ASSIGN(auto set, repo_->begin_set(set_id));
  auto result = engine_.full_backup(plan, *set, control);
  if (!result.ok()) {
    set->abort();
    return result;
  }
  OPENDBS_TRY(set->commit(result->metadata));
  if (stats) *stats = set->stats();
  return result;
}

engines::RestoreRequest::LogFetch EngineTest::log_fetch() const { return {OPENDBS_BINARY, dir_ + "/repo", key_file_}; }

void EngineTest::share_repository_with_server() const {
  if (::geteuid() == 0) {
    EXPECT_EQ(std::system(("chown -R postgres: " + dir_ + "/repo " + key_file_).c_str()), 0);
  }
}

std::unique_ptr<PgServer> EngineTest::restore_and_start(const engines::PlanSpec& plan, const std::string& set_id,
                                                        int64_t target_ms, const std::string& dir) {
  static int counter = 0;
  engines::RestoreRequest request;
  request.set_id = set_id;
  request.target_ms = target_ms;
  request.target_dir = dir.empty() ? dir_ + "/restore-" + std::to_string(++counter) : dir;
  request.log_fetch = log_fetch();
  Control control;
  auto st = engine_.restore(plan, *repo_, request, control);
  EXPECT_TRUE(st.ok()) << st.error().message;
  if (!st.ok()) return nullptr;
  EXPECT_EQ(control.last_percent.load(), 100);
  if (server_bin_dir_ == debian_bin_dir()) {
    // Before recovery touches it, the directory must be the set's files exactly as the server sent
    // them: pg_verifybackup checks each against the server's backup manifest (sizes and CRC-32C),
    // and that no file is missing or left over (after a delta restore too). -n: the WAL comes later.
    const std::string log = request.target_dir + ".verifybackup.log";
    const int verified =
        std::system((debian_bin_dir() + "pg_verifybackup -n " + request.target_dir + " > " + log + " 2>&1").c_str());
    auto report = core::read_file(log);
    EXPECT_EQ(verified, 0) << (report.ok() ? *report : log);
  }
  share_repository_with_server();
  std::string error;
  auto server = PgServer::open(request.target_dir, &error, server_bin_dir_);
  EXPECT_TRUE(server) << error;
  if (!server) return nullptr;
  // Recovery ends with a promotion; wait until the server accepts writes.
  for (int i = 0; i < 200 && server->query("SELECT pg_is_in_recovery()") == "t"; ++i) sleep_ms(50);
  EXPECT_EQ(server->query("SELECT pg_is_in_recovery()"), "f") << server->log_tail();
  if (std::getenv("OPENDBS_PG_TEST_VERBOSE")) std::fprintf(stderr, "%s\n", server->log_tail().c_str());
  return server;
}

std::unique_ptr<PgServer> EngineTest::restore_logically(const engines::PlanSpec& plan, const std::string& set_id,
                                                        int64_t target_ms) {
  auto server = new_server();
  if (!server) return nullptr;
  Control control;
  auto st = restore_into(*server, plan, set_id, target_ms, control);
  EXPECT_TRUE(st.ok()) << st.error().message;
  return st.ok() ? std::move(server) : nullptr;
}

engines::PlanSpec EngineTest::logical(engines::PlanSpec plan, const std::string& backup_objects) {
  plan.backup_method = "logical";
  plan.backup_objects = backup_objects;
  return plan;
}

int64_t EngineTest::backed_up(const engines::PlanSpec& plan, const std::string& set_id) {
  Control control;
  auto full = full_backup(plan, set_id, control);
  EXPECT_TRUE(full.ok()) << full.error().message;
  return full.ok() ? full->consistent_ms : -1;
}

std::unique_ptr<PgServer> EngineTest::new_server(const std::string& bin_dir) const {
  std::string error;
  auto server = PgServer::create(&error, "", bin_dir.empty() ? server_bin_dir_ : bin_dir);
  EXPECT_TRUE(server) << error;
  return server;
}

core::Status EngineTest::restore_into(const PgServer& destination, const engines::PlanSpec& plan,
                                      const std::string& set_id, int64_t target_ms, Control& control,
                                      const std::string& restore_objects, const std::string& duplicate_conflict) {
  engines::RestoreRequest request;
  request.set_id = set_id;
  request.target_ms = target_ms;
  request.destination = destination.endpoint();
  request.restore_objects = restore_objects;
  request.duplicate_conflict = duplicate_conflict;
  return engine_.restore(plan, *repo_, request, control);
}

int EngineTest::load_sql_download(const engines::PlanSpec& plan, const std::string& set_id, const PgServer& server,
                                  const std::string& database) {
  engines::DownloadRequest download;
  download.set_id = set_id;
  download.format = "SQL";
  download.out_path = dir_ + "/" + set_id + ".sql";
  Control control;
  auto result = engine_.download(plan, *repo_, download, control);
  EXPECT_TRUE(result.ok()) << result.error().message;
  if (!result.ok()) return -1;
  server.query("CREATE DATABASE " + engines::postgres::quote_ident(database));
  return psql(server, database, "-f " + download.out_path);
}

LogBackupRunner::LogBackupRunner(engines::Engine& engine, engines::PlanSpec plan, repo::Repository& repository) {
  thread_ = std::thread([this, &engine, plan, &repository] {
    auto st = engine.log_backup(plan, repository, control_, [this](const engines::LogFile& f) {
      std::lock_guard lock(mu_);
      files_.push_back(f);
      cv_.notify_all();
      return core::Status{};
    });
    std::lock_guard lock(mu_);
    result_ = st;
    cv_.notify_all();
  });
}

LogBackupRunner::~LogBackupRunner() {
  if (thread_.joinable()) (void)stop();
}

bool LogBackupRunner::wait_for(const std::function<bool(const std::vector<engines::LogFile>&)>& done,
                               int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done(files_) || result_.has_value(); }) &&
         done(files_);
}

bool LogBackupRunner::completed(const std::string& name, int64_t timeout_ms) {
  return wait_for(
      [&](const std::vector<engines::LogFile>& files) {
        for (const auto& f : files)
          if (f.name == name && f.status == "COMPLETED") return true;
        return false;
      },
      timeout_ms);
}

core::Status LogBackupRunner::stop() {
  control_.cancel = true;
  thread_.join();
  return *result_;
}

std::vector<engines::LogFile> LogBackupRunner::files() {
  std::lock_guard lock(mu_);
  return files_;
}

}  // namespace opendbs::testing
