// The engine against every PostgreSQL major version it supports (12-17): a real server of each
// version (Debian's 15, the npm packages of tests/pgversions for the others) is backed up and
// restored with the SAME version's binaries. A version whose binaries are not installed is skipped
// with the command that installs them; scripts/install-deps installs all of them, so CI runs every one.
// Logical backups of 16 and 17 run Debian 13's pg_dump 17 (PgDump17OnPath below).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "builtin_types.h"
#include "engine_harness.h"

namespace opendbs::testing {
namespace {
namespace fs = std::filesystem;

// The newest major version of the pg_dumps the engine may run (side by side under
// /usr/lib/postgresql, or the first on PATH), 0 when there is none: it can dump sources up to it.
int pg_dump_major() {
  int newest = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(entry.path() / "bin" / "pg_dump") && std::regex_match(entry.path().filename().string(), std::regex(R"(\d+)")))
      newest = std::max(newest, std::stoi(entry.path().filename().string()));
  FILE* pipe = ::popen("pg_dump --version 2>/dev/null", "r");
  char line[256] = {0};
  if (pipe == nullptr) return newest;
  const bool read = std::fgets(line, sizeof line, pipe) != nullptr;
  ::pclose(pipe);
  std::cmatch m;
  return read && std::regex_search(line, m, std::regex(R"(\) (\d+))")) ? std::max(newest, std::stoi(m[1])) : newest;
}

// Debian 12 has pg_dump 15 only; scripts/install-pg-dump-17 puts Debian 13's pg_dump 17 in
// tests/pgversions/debian13/bin. With that first on PATH the engine runs it for 16 and 17 sources, as
// it runs any pg_dump on PATH that is newer than those side by side under /usr/lib/postgresql.
class PgDump17OnPath : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string bin = std::string(OPENDBS_SOURCE_DIR) + "/tests/pgversions/debian13/bin";
    const char* path = std::getenv("PATH");
    if (fs::exists(bin + "/pg_dump")) ::setenv("PATH", (bin + ":" + (path ? path : "/usr/bin:/bin")).c_str(), 1);
  }
};
const auto* const pg_dump_17_on_path = ::testing::AddGlobalTestEnvironment(new PgDump17OnPath);

class PostgresVersions : public EngineTest, public ::testing::WithParamInterface<int> {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    server_bin_dir_ = server_bin_dir(GetParam());
    if (server_bin_dir_.empty())
      GTEST_SKIP() << "PostgreSQL " << GetParam() << " binaries are not installed: run scripts/install-deps "
                   << "(npm ci in tests/pgversions)";
    std::string error;
    source_ = PgServer::create(&error, "", server_bin_dir_);
    ASSERT_TRUE(source_) << error;
    ASSERT_EQ(std::stoi(source_->query("SHOW server_version_num")) / 10000, GetParam());
  }

  engines::PlanSpec version_plan(const std::string& method) const {
    engines::PlanSpec p;
    p.plan_id = "v" + std::to_string(GetParam()) + method;
    p.database_type = "PostgreSQL";
    p.backup_method = method;
    p.source = source_->endpoint();
    return p;
  }

  std::vector<engines::PrecheckItem> failed_items(const engines::PlanSpec& p) {
    std::vector<engines::PrecheckItem> failed;
    for (auto& item : engine_.precheck(p))
      if (item.state != "finish") failed.push_back(item);
    return failed;
  }

  // Waits until the log backup stored the segment being written now.
  void complete_current_segment(LogBackupRunner& runner) {
    const std::string name = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
    source_->query("SELECT pg_switch_wal()");
    ASSERT_TRUE(runner.completed(name, 30000)) << "segment " << name << " never completed";
  }

  // A tablespace `extra` on the source holding the table `archive`, a full backup "full" with the WAL
  // after it, and two moments after the backup with the table's content at each.
  struct TablespaceHistory {
    std::string oid, location, relation_file;  // relation_file: pg_tblspc/<oid>/... of `archive`
    int64_t first = 0, second = 0;
    std::string at_backup, at_first, at_second;
  };
  void back_up_a_tablespace(const engines::PlanSpec& p, TablespaceHistory& h) {
    h.location = dir_ + "/tablespace";
    ASSERT_EQ(run_as_server_user("mkdir " + h.location), 0);
    source_->query("CREATE TABLESPACE extra LOCATION '" + h.location + "'");
    source_->query("CREATE TABLE archive (id int PRIMARY KEY, body text) TABLESPACE extra");
    source_->query("INSERT INTO archive SELECT g, repeat('a', g % 100) FROM generate_series(1, 5000) g");
    source_->query("CHECKPOINT");
    h.oid = source_->query("SELECT oid FROM pg_tablespace WHERE spcname = 'extra'");
    h.relation_file = source_->query("SELECT pg_relation_filepath('archive')");
    ASSERT_EQ(h.relation_file.rfind("pg_tblspc/" + h.oid + "/", 0), 0u) << h.relation_file;
    const std::string bytes = source_->query("SELECT pg_relation_size('archive')");
    h.at_backup = source_->checksum("archive");
    LogBackupRunner runner(engine_, p, *repo_);
    ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 30000));

    // A tablespace's files come as an archive of their own (a COPY of its own before 15).
    Control control;
    auto full = full_backup(p, "full", control);
    ASSERT_TRUE(full.ok()) << full.error().message;
    auto manifest = repo_->load_manifest("full");
    ASSERT_TRUE(manifest.ok());
    const auto* stream = manifest->find_stream(h.relation_file);
    ASSERT_NE(stream, nullptr) << h.relation_file;
    EXPECT_EQ(std::to_string(stream->meta.size), bytes);
    EXPECT_NE(manifest->find_stream("global/pg_control"), nullptr);  // the data directory's archive too
    EXPECT_EQ(manifest->engine_metadata.at("tablespace_links").as_object().at("pg_tblspc/" + h.oid).as_string(),
              h.location);

    source_->query("INSERT INTO archive SELECT g, 'after the backup' FROM generate_series(5001, 6000) g");
    sleep_ms(50);
    h.first = now_ms();
    h.at_first = source_->checksum("archive");
    sleep_ms(50);
    source_->query("DELETE FROM archive WHERE id <= 1000");
    sleep_ms(50);
    h.second = now_ms();
    h.at_second = source_->checksum("archive");
    sleep_ms(50);
    source_->query("UPDATE archive SET body = 'too late'");
    complete_current_segment(runner);
    const auto stopped = runner.stop();
    ASSERT_FALSE(stopped.ok());
    EXPECT_EQ(stopped.error().code, "Cancelled") << stopped.error().message;
    ASSERT_TRUE(engine_.release_log(p).ok());
  }

  std::unique_ptr<PgServer> source_;
};

TEST_P(PostgresVersions, PhysicalBackupOfATablespaceRestoresToAMomentAsAnInPlaceTablespaceThatTakesWrites) {
  const auto p = version_plan("tablespace");
  TablespaceHistory h;
  ASSERT_NO_FATAL_FAILURE(back_up_a_tablespace(p, h));

  const std::string restored_dir = dir_ + "/restored";
  auto restored = restore_and_start(p, "full", h.first, restored_dir);
  ASSERT_TRUE(restored);
  // The tablespace is a directory inside the restored data directory, not a link to the source's location.
  const fs::path in_place = restored_dir + "/pg_tblspc/" + h.oid;
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(in_place))) << in_place;
  EXPECT_TRUE(fs::exists(restored_dir + "/" + h.relation_file)) << h.relation_file;
  EXPECT_EQ(restored->checksum("archive"), h.at_first);
  EXPECT_EQ(restored->query("SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace "
                            "WHERE c.relname = 'archive'"),
            "extra");
  restored->query("INSERT INTO archive VALUES (0, 'written after the restore')");
  restored->query("CHECKPOINT");
  EXPECT_EQ(restored->query("SELECT count(*) FROM archive"), "6001");
  // The restored cluster backed up in its turn: its in-place tablespace comes in the data directory's
  // archive, and the set restores — with the first restore's recovery settings, which the set carries
  // in postgresql.auto.conf, disabled (a recovery_target_time beside the new recovery_target would
  // make PostgreSQL refuse to start).
  auto again = version_plan("again");
  again.source = restored->endpoint();
  Control control;
  auto full = full_backup(again, "again", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_TRUE(full->metadata.at("tablespace_links").as_object().empty());
  auto manifest = repo_->load_manifest("again");
  ASSERT_TRUE(manifest.ok());
  EXPECT_NE(manifest->find_stream(h.relation_file), nullptr);
  {
    auto second = restore_and_start(again, "again", full->consistent_ms, dir_ + "/again");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->query("SELECT count(*) FROM archive"), "6001");
    EXPECT_EQ(second->query("SHOW recovery_target_time"), "");
    // Its recovery's settings (recovery_target_timeline, recovery_target_action, recovery_target) were
    // commented out when the recovery ended, like the first restore's, which the set carries.
    std::ifstream conf(dir_ + "/again/postgresql.auto.conf");
    int active = 0, ended = 0;
    for (std::string line; std::getline(conf, line);) {
      active += line.rfind("recovery_target", 0) == 0;
      ended += line == "# opendbs: recovery ended, disabled: recovery_target = 'immediate'";
    }
    EXPECT_EQ(active, 0);
    EXPECT_EQ(ended, 1);
  }

  // Moving the tablespace to a disk of its own, as docs/POSTGRES.md says: a new tablespace there, the
  // tables and indexes moved into it, the in-place one dropped.
  ASSERT_EQ(run_as_server_user("mkdir " + dir_ + "/own-disk"), 0);
  restored->query("CREATE TABLESPACE own LOCATION '" + dir_ + "/own-disk'");
  restored->query("ALTER TABLE ALL IN TABLESPACE extra SET TABLESPACE own");
  restored->query("ALTER INDEX ALL IN TABLESPACE extra SET TABLESPACE own");
  restored->query("DROP TABLESPACE extra");
  EXPECT_FALSE(fs::exists(fs::symlink_status(in_place)));
  EXPECT_EQ(restored->query("SELECT count(*) FROM archive WHERE id > 0"), "6000");
  EXPECT_EQ(restored->query("SELECT pg_relation_filepath('archive')").rfind("pg_tblspc/", 0), 0u);
  EXPECT_EQ(restored->query("SELECT count(*) FROM archive"), "6001");
}

// Delta restores into a directory restored before, whose server took a new table in the tablespace:
// first with the tablespace in place, then after it was moved to a disk of its own (server stopped,
// its directory moved, a symlink left in pg_tblspc/). The set's files come back where the tablespace
// is, the new table's files go, and the server starts at the moment asked for and takes writes.
TEST_P(PostgresVersions, DeltaRestoreOfATablespaceInPlaceOrMovedToItsOwnDiskRemovesWhatTheSetLacks) {
  const auto p = version_plan("tablespacedelta");
  TablespaceHistory h;
  ASSERT_NO_FATAL_FAILURE(back_up_a_tablespace(p, h));
  const std::string restored_dir = dir_ + "/restored";
  const std::string tablespace = restored_dir + "/pg_tblspc/" + h.oid;
  auto restored = restore_and_start(p, "full", h.first, restored_dir);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->checksum("archive"), h.at_first);
  // A table the set does not have, in the tablespace.
  const auto add_scratch = [&] {
    restored->query("CREATE TABLE scratch TABLESPACE extra AS SELECT g FROM generate_series(1, 1000) g");
    restored->query("CHECKPOINT");
    return restored->query("SELECT pg_relation_filepath('scratch')");
  };
  std::string scratch = add_scratch();
  ASSERT_TRUE(fs::exists(restored_dir + "/" + scratch)) << scratch;
  restored.reset();  // stops it

  restored = restore_and_start(p, "full", h.second, restored_dir);
  ASSERT_TRUE(restored);
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(tablespace)));
  EXPECT_FALSE(fs::exists(restored_dir + "/" + scratch));
  EXPECT_EQ(restored->checksum("archive"), h.at_second);
  EXPECT_EQ(restored->query("SELECT count(*) FROM pg_class WHERE relname = 'scratch'"), "0");
  restored->stop();

  const std::string own_disk = dir_ + "/own-disk";
  ASSERT_EQ(run_as_server_user("mv " + tablespace + " " + own_disk + " && ln -s " + own_disk + " " + tablespace), 0);
  std::string error;
  ASSERT_TRUE(restored->start(&error)) << error;
  scratch = add_scratch();
  ASSERT_TRUE(fs::exists(own_disk + "/" + scratch.substr(tablespace.size() - restored_dir.size()))) << scratch;
  restored.reset();

  engines::RestoreRequest request;
  request.set_id = "full";
  request.target_ms = h.first;
  request.target_dir = restored_dir;
  request.log_fetch = log_fetch();
  Control control;
  auto st = engine_.restore(p, *repo_, request, control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(fs::is_symlink(tablespace));
  EXPECT_TRUE(fs::exists(own_disk + "/" + h.relation_file.substr(("pg_tblspc/" + h.oid + "/").size())));
  EXPECT_FALSE(fs::exists(own_disk + "/" + scratch.substr(tablespace.size() - restored_dir.size())));
  // Files the restore rewrote on that disk are the restoring user's; the server's user needs them
  // (PgServer::open gives it the data directory, whose chown does not follow the link).
  if (::geteuid() == 0) {
    ASSERT_EQ(std::system(("chown -R postgres: " + own_disk).c_str()), 0);
  }
  share_repository_with_server();
  restored = PgServer::open(restored_dir, &error, server_bin_dir_);
  ASSERT_TRUE(restored) << error;
  for (int i = 0; i < 200 && restored->query("SELECT pg_is_in_recovery()") == "t"; ++i) sleep_ms(50);
  ASSERT_EQ(restored->query("SELECT pg_is_in_recovery()"), "f") << restored->log_tail();
  EXPECT_EQ(restored->checksum("archive"), h.at_first);
  EXPECT_EQ(restored->query("SELECT count(*) FROM pg_class WHERE relname = 'scratch'"), "0");
  restored->query("INSERT INTO archive VALUES (0, 'written after the delta restore')");
  EXPECT_EQ(restored->query("SELECT body FROM archive WHERE id = 0"), "written after the delta restore");
}

// A Native download is the set's files and nothing else: PostgreSQL started on the extracted tar
// recovers from backup_label and, like a restore, refuses the in-place tablespace directory until
// allow_in_place_tablespaces is on (docs/POSTGRES.md, "Downloads").
TEST_P(PostgresVersions, NativeDownloadOfATablespaceSetStartsOnceInPlaceTablespacesAreAllowed) {
  const auto p = version_plan("tablespacetar");
  TablespaceHistory h;
  ASSERT_NO_FATAL_FAILURE(back_up_a_tablespace(p, h));
  engines::DownloadRequest request;
  request.set_id = "full";
  request.format = "Native";
  request.out_path = dir_ + "/data.tar";
  Control control;
  auto downloaded = engine_.download(p, *repo_, request, control);
  ASSERT_TRUE(downloaded.ok()) << downloaded.error().message;
  const std::string data = dir_ + "/extracted";
  ASSERT_EQ(std::system(("mkdir -m 700 " + data + " && tar -xf " + request.out_path + " -C " + data).c_str()), 0);
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(data + "/pg_tblspc/" + h.oid)));

  std::string error;
  EXPECT_FALSE(PgServer::open(data, &error, server_bin_dir_));
  EXPECT_NE(error.find("unexpected directory entry"), std::string::npos) << error;
  std::ofstream(data + "/postgresql.auto.conf", std::ios::app) << "allow_in_place_tablespaces = on\n";
  auto server = PgServer::open(data, &error, server_bin_dir_);
  ASSERT_TRUE(server) << error;
  EXPECT_EQ(server->checksum("archive"), h.at_backup);
  server->query("INSERT INTO archive VALUES (0, 'written after the download')");
  EXPECT_EQ(server->query("SELECT count(*) FROM archive"), "5001");
}

TEST_P(PostgresVersions, CancellingTheBaseBackupStopsPromptlyAndTheNextOneSucceeds) {
  source_->query("CREATE TABLE bulk (id int, pad text)");
  source_->query("INSERT INTO bulk SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 100000) g");
  const auto p = version_plan("cancel");
  Control control;
  control.cancel_once_bytes_arrive();
  auto cancelled = full_backup(p, "cancelled", control);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, "Cancelled") << cancelled.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - control.cancelled_at, std::chrono::seconds(2));
  // The server ended its side of the backup with the connection: another one may start.
  Control fresh;
  auto after = full_backup(p, "after", fresh);
  EXPECT_TRUE(after.ok()) << after.error().message;
}

TEST_P(PostgresVersions, PhysicalFullAndWalBackupRestoreToAMomentAndStartOnTheSameVersion) {
  const auto p = version_plan("physical");
  for (const auto& item : failed_items(p)) ADD_FAILURE() << item.name << " " << item.state << ": " << item.message;

  source_->query("CREATE TABLE ledger (id int PRIMARY KEY, amount int, note text)");
  source_->query("INSERT INTO ledger SELECT g, g, md5(g::text) FROM generate_series(1, 20000) g");
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 30000));

  Control control;
  auto full = full_backup(p, "full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(control.last_percent.load(), 100);
  const auto& m = full->metadata;
  EXPECT_EQ(m.at("server_version").as_int64() / 10000, GetParam());
  EXPECT_NE(m.at("backup_label").as_string().find("START WAL LOCATION"), std::string::npos);
  auto manifest = repo_->load_manifest("full");
  ASSERT_TRUE(manifest.ok());
  EXPECT_NE(manifest->find_stream("global/pg_control"), nullptr);
  EXPECT_NE(manifest->find_stream("PG_VERSION"), nullptr);
  // Backup manifests came with PostgreSQL 13.
  EXPECT_EQ(manifest->find_stream("backup_manifest") != nullptr, GetParam() >= 13);

  source_->query("UPDATE ledger SET amount = amount * 2 WHERE id % 7 = 0");
  source_->query("DELETE FROM ledger WHERE id > 19000");
  sleep_ms(50);
  const int64_t moment = now_ms();
  const std::string at_moment = source_->checksum("ledger");
  sleep_ms(50);
  source_->query("UPDATE ledger SET amount = 0");
  ASSERT_NE(source_->checksum("ledger"), at_moment);
  complete_current_segment(runner);
  // The slot holds the WAL for the plan (wal_status and safe_wal_size exist from 13 on only).
  auto retention = engine_.log_retention(p);
  ASSERT_TRUE(retention.ok()) << retention.error().message;
  EXPECT_TRUE(retention->held);
  EXPECT_FALSE(retention->lost);
  EXPECT_FALSE(retention->safe_bytes.has_value());  // no max_slot_wal_keep_size
  const auto stopped = runner.stop();
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code, "Cancelled") << stopped.error().message;
  ASSERT_TRUE(engine_.release_log(p).ok());
  EXPECT_EQ(source_->query("SELECT count(*) FROM pg_replication_slots"), "0");

  auto restored = restore_and_start(p, "full", moment);
  ASSERT_TRUE(restored);
  EXPECT_EQ(std::stoi(restored->query("SHOW server_version_num")) / 10000, GetParam());
  EXPECT_EQ(restored->checksum("ledger"), at_moment);
}

TEST_P(PostgresVersions, LogicalBackupRoundTripsAlsoIntoAnOlderServerWhenPgDumpIsRecentEnoughAndIsRefusedAtPrecheckOtherwise) {
  source_->query("CREATE DATABASE shop");
  PgServer::Query shop{*source_, "shop"};
  shop("CREATE TABLE customers (id int PRIMARY KEY, name text, joined timestamptz DEFAULT now())");
  shop("CREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers, total numeric)");
  shop("INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 300) g");
  shop("INSERT INTO orders (customer, total) SELECT 1 + g % 300, g * 1.25 FROM generate_series(1, 2000) g");
  shop(kTypesTable);
  shop(kTypesRows);
  const std::string orders = shop("SELECT md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o");
  const std::string kinds = shop("SELECT md5(string_agg(k::text, '|' ORDER BY id)) FROM kinds k");
  auto p = version_plan("logical");
  p.backup_objects = R"([{"DBName":"shop"}])";

  const auto failed = failed_items(p);
  const int dump = pg_dump_major();
  if (dump < GetParam()) {
    // pg_dump refuses servers newer than itself: precheck says which pg_dump is needed, and a
    // backup started anyway fails before storing anything.
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].name, "CHECK_VERSION");
    EXPECT_NE(failed[0].message.find("pg_dump " + std::to_string(GetParam())), std::string::npos) << failed[0].message;
    Control control;
    auto full = full_backup(p, "logical", control);
    ASSERT_FALSE(full.ok());
    EXPECT_NE(full.error().message.find("pg_dump " + std::to_string(GetParam())), std::string::npos)
        << full.error().message;
    return;
  }
  for (const auto& item : failed) ADD_FAILURE() << item.name << " " << item.state << ": " << item.message;
  Control control;
  auto full = full_backup(p, "logical", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->metadata.at("server_version").as_int64() / 10000, GetParam());
  shop("DELETE FROM orders WHERE id > 100");

  auto dst = restore_logically(p, "logical", full->consistent_ms);
  ASSERT_TRUE(dst);
  PgServer::Query restored{*dst, "shop"};
  EXPECT_EQ(restored("SELECT md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o"), orders);
  EXPECT_EQ(restored("SELECT md5(string_agg(k::text, '|' ORDER BY id)) FROM kinds k"), kinds);
  EXPECT_EQ(restored("SELECT count(*) FROM customers"), "300");
  // The foreign key came back with the post-data section.
  EXPECT_THROW(restored("INSERT INTO orders (customer, total) VALUES (100000, 1)"), std::runtime_error);

  // A pg_dump newer than the source (17 for a 16 source) sets parameters the source lacks; the set
  // guards them, so its SQL download loads into a server of the source's version without an error.
  auto fresh = new_server();
  ASSERT_TRUE(fresh);
  ASSERT_EQ(load_sql_download(p, "logical", *fresh, "shop"), 0);
  PgServer::Query loaded{*fresh, "shop"};
  EXPECT_EQ(loaded("SELECT md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o"), orders);
  EXPECT_EQ(loaded("SELECT md5(string_agg(k::text, '|' ORDER BY id)) FROM kinds k"), kinds);

  // Into an older server (Debian's 15) the restore leaves out the settings that server lacks.
  if (GetParam() <= 15) return;
  auto older = new_server(debian_bin_dir());
  ASSERT_TRUE(older);
  Control into_older;
  auto st = restore_into(*older, p, "logical", full->consistent_ms, into_older);
  ASSERT_TRUE(st.ok()) << st.error().message;
  PgServer::Query in_older{*older, "shop"};
  EXPECT_EQ(in_older("SELECT md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o"), orders);
  EXPECT_EQ(in_older("SELECT md5(string_agg(k::text, '|' ORDER BY id)) FROM kinds k"), kinds);
}

// The locale providers new in 16 and 17, through a real logical backup of a server of that version:
// a database's ICU rules (16+) and the builtin provider (17) come back and collate as on the source.
class PostgresNewLocaleProviders : public PostgresVersions {};

TEST_P(PostgresNewLocaleProviders, IcuRulesAndTheBuiltinProviderRoundTripThroughALogicalBackup) {
  if (pg_dump_major() < GetParam()) GTEST_SKIP() << "no pg_dump " << GetParam() << ": run scripts/install-pg-dump-17";
  const std::string order = "SELECT string_agg(w, '' ORDER BY w) FROM words";
  // The rule puts g right after a.
  source_->query("CREATE DATABASE ruled TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und' ICU_RULES '&a < g'");
  PgServer::Query ruled{*source_, "ruled"};
  ruled("CREATE TABLE words (w text PRIMARY KEY); INSERT INTO words VALUES ('b'), ('g'), ('a')");
  ASSERT_EQ(ruled(order), "agb");
  std::string objects = R"([{"DBName":"ruled"})";
  if (GetParam() >= 17) {  // code point order
    source_->query("CREATE DATABASE built TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'");
    PgServer::Query built{*source_, "built"};
    built("CREATE TABLE words (w text PRIMARY KEY); INSERT INTO words VALUES ('é'), ('a'), ('B')");
    ASSERT_EQ(built(order), "Baé");
    objects += R"(,{"DBName":"built"})";
  }
  auto p = version_plan("logical");
  p.backup_objects = objects + "]";
  Control control;
  auto full = full_backup(p, "locales", control);
  ASSERT_TRUE(full.ok()) << full.error().message;

  auto dst = new_server();
  ASSERT_TRUE(dst);
  Control restoring;
  auto st = restore_into(*dst, p, "locales", full->consistent_ms, restoring);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(restoring.warnings.empty()) << restoring.warnings.front();
  EXPECT_EQ(dst->query("SELECT datlocprovider::text || ' ' || daticurules FROM pg_database WHERE datname = 'ruled'"),
            "i &a < g");
  EXPECT_EQ((PgServer::Query{*dst, "ruled"}(order)), "agb");
  if (GetParam() < 17) return;
  EXPECT_EQ(dst->query("SELECT datlocprovider::text || ' ' || datlocale FROM pg_database WHERE datname = 'built'"),
            "b C.UTF-8");
  EXPECT_EQ((PgServer::Query{*dst, "built"}(order)), "Baé");
}

std::string version_name(const ::testing::TestParamInfo<int>& info) { return "PG" + std::to_string(info.param); }

INSTANTIATE_TEST_SUITE_P(Majors, PostgresVersions, ::testing::Values(12, 13, 14, 15, 16, 17),
                         version_name);

INSTANTIATE_TEST_SUITE_P(Majors, PostgresNewLocaleProviders, ::testing::Values(16, 17),
                         version_name);

}  // namespace
}  // namespace opendbs::testing
