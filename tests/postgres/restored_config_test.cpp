// What a physical restore leaves for the server that starts on the directory: configuration files
// when the source kept its own outside the data directory (Debian's layout), and no archiving into the
// source's WAL archive nor a link to the source's primary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/file.h"
#include "engine_harness.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

// The first value of the first row, or "ERROR: …" when connecting or the query fails.
std::string first_value(const engines::Endpoint& ep, const std::string& sql) {
  auto conn = engines::postgres::PgConnection::open(ep, engines::postgres::ConnectionKind::sql);
  if (!conn.ok()) return "ERROR: " + conn.error().message;
  auto rows = (*conn)->query(sql);
  if (!rows.ok()) return "ERROR: " + rows.error().message;
  return rows->rows.empty() || rows->rows[0].empty() ? "" : rows->rows[0][0].value_or("");
}

std::string file_text(const fs::path& p) {
  auto text = core::read_file(p.string());
  return text.ok() ? *text : "";
}

// A cluster laid out as Debian's packages make one: postgresql.conf, pg_hba.conf and pg_ident.conf in
// a configuration directory of their own, and the server started with `pg_ctl -D <that directory>`.
class DebianLayoutServer {
 public:
  explicit DebianLayoutServer(const std::string& extra_conf) : root_(make_server_temp_dir("deb")), port_(0) {
    const std::string data = root_ + "/data", conf = root_ + "/conf";
    if (run_as_server_user(debian_bin_dir() + "initdb -A trust -U postgres -N -D " + data + " > " + root_ +
                           "/initdb.log 2>&1") != 0 ||
        run_as_server_user("mkdir " + conf + " && mv " + data + "/postgresql.conf " + data + "/pg_hba.conf " + data +
                           "/pg_ident.conf " + conf + "/") != 0)
      return;
    std::ofstream(conf + "/postgresql.conf", std::ios::app)
        << "\ndata_directory = '" << data << "'\nhba_file = '" << conf << "/pg_hba.conf'\nident_file = '" << conf
        << "/pg_ident.conf'\nlisten_addresses = '127.0.0.1'\nwal_level = replica\nfsync = off\n"
        << "shared_buffers = 32MB\n" << extra_conf << "\n";
    std::ofstream(conf + "/pg_hba.conf", std::ios::app) << "host replication all 127.0.0.1/32 trust\n";
    port_ = free_port();
    if (run_as_server_user(debian_bin_dir() + "pg_ctl -w -t 60 -D " + conf + " -l " + root_ + "/server.log -o '-p " +
                           std::to_string(port_) + " -k " + root_ + "' start > /dev/null") != 0)
      port_ = 0;
  }
  ~DebianLayoutServer() {
    if (port_) (void)run_as_server_user(debian_bin_dir() + "pg_ctl -w -m fast -D " + root_ + "/conf stop > /dev/null");
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  bool running() const { return port_ != 0; }
  engines::Endpoint endpoint() const { return {"127.0.0.1", port_, "postgres", "", "postgres", false}; }
  std::string log() const { return file_text(root_ + "/server.log"); }

 private:
  std::string root_;
  int port_;
};

class PostgresRestoredConfig : public EngineTest {
 protected:
  // Restores `set_id` to its end into `dir` with the WAL copied beside the data.
  core::Status restore(const engines::PlanSpec& p, const std::string& set_id, int64_t target_ms, const std::string& dir) {
    engines::RestoreRequest request;
    request.set_id = set_id;
    request.target_ms = target_ms;
    request.target_dir = dir;
    Control control;
    return engine_.restore(p, *repo_, request, control);
  }
};

TEST_F(PostgresRestoredConfig, ASourceWithItsConfigurationElsewhereRestoresToADirectoryThatStartsOnItsOwn) {
  // max_connections above the default: recovery as a hot standby would refuse the minimal postgresql.conf.
  DebianLayoutServer src("max_connections = 150\n");
  ASSERT_TRUE(src.running()) << src.log();
  const auto ep = src.endpoint();
  ASSERT_EQ(first_value(ep, "CREATE TABLE kept AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g"), "");
  ASSERT_EQ(first_value(ep, "ALTER ROLE postgres PASSWORD 'restored-secret'"), "");
  const std::string sum = first_value(ep, "SELECT count(*) || md5(string_agg(v, ',' ORDER BY id)) FROM kept");

  auto p = plan("debian1");
  p.source = ep;
  Control control;
  auto full = full_backup(p, "deb-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  auto manifest = repo_->load_manifest("deb-full");
  ASSERT_TRUE(manifest.ok());
  ASSERT_EQ(manifest->find_stream("postgresql.conf"), nullptr);  // BASE_BACKUP sent the data directory only

  const fs::path dir = dir_ + "/restored-deb";
  auto st = restore(p, "deb-full", full->consistent_ms, dir.string());
  ASSERT_TRUE(st.ok()) << st.error().message;
  for (const char* name : {"postgresql.conf", "pg_hba.conf", "pg_ident.conf"}) {
    EXPECT_EQ(file_text(dir / name).rfind("# Written by opendbs: the backup set holds no copy of this file.", 0), 0u)
        << name;
    EXPECT_EQ(fs::status(dir / name).permissions(), fs::perms::owner_read | fs::perms::owner_write) << name;
  }
  EXPECT_NE(file_text(dir / "pg_hba.conf").find("host    all             all             127.0.0.1/32            scram-sha-256"),
            std::string::npos);

  // The Native download carries the same files, after the set's.
  engines::DownloadRequest download{"deb-full", "Native", false, dir_ + "/deb-full.tar"};
  ASSERT_TRUE(engine_.download(p, *repo_, download, control).ok());
  ASSERT_EQ(std::system(("tar -tvf " + download.out_path + " | tail -3 > " + dir_ + "/members").c_str()), 0);
  const std::string members = file_text(dir_ + "/members");
  for (const char* name : {" postgresql.conf\n", " pg_hba.conf\n", " pg_ident.conf\n"})
    EXPECT_NE(members.find(name), std::string::npos) << members;
  EXPECT_EQ(members.rfind("-rw-------", 0), 0u) << members;

  {
    // pg_ctl -D RESTOREDIR, as the README says; TCP from this machine with the role's password.
    std::string error;
    auto restored = PgServer::open(dir.string(), &error);
    ASSERT_TRUE(restored) << error;
    auto rep = restored->endpoint();
    rep.password = "restored-secret";
    for (int i = 0; i < 200 && first_value(rep, "SELECT pg_is_in_recovery()") != "f"; ++i) sleep_ms(50);
    EXPECT_EQ(first_value(rep, "SELECT pg_is_in_recovery()"), "f") << restored->log_tail();
    auto without_password = rep;
    without_password.password = "";
    EXPECT_NE(first_value(without_password, "SELECT 1").find("password"), std::string::npos);
    EXPECT_EQ(first_value(rep, "SELECT count(*) || md5(string_agg(v, ',' ORDER BY id)) FROM kept"), sum);
    EXPECT_EQ(first_value(rep, "SHOW max_connections"), "100");
    // The WAL copied beside the data for the recovery went with it.
    EXPECT_FALSE(fs::exists(dir / "opendbs_wal"));
  }

  // A delta restore keeps configuration files the set lacks: here the source's own, copied in.
  ASSERT_TRUE(core::write_file_durable((dir / "postgresql.conf").string(), "# the source's settings\n", 0600).ok());
  st = restore(p, "deb-full", full->consistent_ms, dir.string());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(file_text(dir / "postgresql.conf"), "# the source's settings\n");
  EXPECT_EQ(file_text(dir / "pg_ident.conf").rfind("# Written by opendbs", 0), 0u);
}

TEST_F(PostgresRestoredConfig, ARestoredServerNeitherArchivesIntoTheSourcesArchiveNorFollowsItsPrimary) {
  const std::string archive = make_server_temp_dir("archive");
  std::string error;
  auto src = PgServer::create(&error, "archive_mode = on\narchive_command = 'cp %p " + archive + "/%f'\n");
  ASSERT_TRUE(src) << error;
  // As ALTER SYSTEM leaves them in postgresql.auto.conf, e.g. for a pgBackRest or barman archive.
  src->query("ALTER SYSTEM SET archive_command = 'cp %p " + archive + "/%f'");
  src->query("ALTER SYSTEM SET primary_conninfo = 'host=192.0.2.1 port=5432'");
  src->query("ALTER SYSTEM SET primary_slot_name = 'elsewhere'");
  src->query("SELECT pg_reload_conf()");
  src->query("CREATE TABLE archived AS SELECT generate_series(1, 1000) AS id");

  auto p = plan("archive1");
  p.source = src->endpoint();
  Control control;
  auto full = full_backup(p, "arch-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  const std::string dir = dir_ + "/restored-arch";
  {
    auto restored = restore_and_start(p, "arch-full", full->consistent_ms, dir);
    ASSERT_TRUE(restored);
    EXPECT_EQ(restored->query("SHOW archive_mode"), "off");
    EXPECT_EQ(restored->query("SHOW primary_conninfo"), "");
    EXPECT_EQ(restored->query("SELECT count(*) FROM archived"), "1000");
    restored->query("INSERT INTO archived VALUES (0)");
    restored->query("SELECT pg_switch_wal()");
    restored->query("CHECKPOINT");
    sleep_ms(1500);  // the archiver would have copied the new timeline's history file and segment by now
  }
  // The source itself archives timeline 1 there; the restored server's timeline 2 must not appear.
  std::vector<std::string> source_files;
  for (const auto& e : fs::directory_iterator(archive)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.rfind("00000001", 0), 0u) << name << " came from the restored server";
    source_files.push_back(name);
  }
  const std::string conf = file_text(dir + "/postgresql.auto.conf");
  EXPECT_NE(conf.find("# opendbs: the source's, disabled: archive_command = 'cp %p " + archive), std::string::npos) << conf;
  EXPECT_NE(conf.find("# opendbs: the source's, disabled: primary_conninfo = "), std::string::npos) << conf;
  EXPECT_NE(conf.find("# opendbs: the source's, disabled: primary_slot_name = "), std::string::npos) << conf;
  EXPECT_NE(conf.find("\narchive_mode = 'off'\n"), std::string::npos) << conf;
  src.reset();
  std::error_code ec;
  fs::remove_all(archive, ec);
}

// The restore's recovery settings end with the recovery: postgresql.auto.conf, which pg_basebackup
// copies, keeps them only commented out, so a standby made of the restored cluster starts and follows
// it (with them active it stopped: "requested recovery stop point is before consistent recovery point").
TEST_F(PostgresRestoredConfig, AStandbyMadeOfTheRestoredClusterFollowsItWithoutTheRestoresRecoverySettings) {
  auto& src = shared_source();
  src.query("DROP TABLE IF EXISTS followed");
  src.query("CREATE TABLE followed AS SELECT generate_series(1, 100) AS id");
  auto p = plan("followed1");
  LogBackupRunner log(engine_, p, *repo_);
  ASSERT_TRUE(log.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  Control control;
  auto full = full_backup(p, "followed-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  src.query("INSERT INTO followed VALUES (101)");
  const int64_t moment = now_ms();
  src.query("INSERT INTO followed VALUES (102)");
  src.query("SELECT pg_switch_wal()");
  ASSERT_TRUE(log.wait_for([&](const auto& files) {
    return std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.end_ms >= moment; });
  }, 20000));
  (void)log.stop();  // a cancelled stream returns the cancellation

  const std::string dir = dir_ + "/restored-followed";
  auto restored = restore_and_start(p, "followed-full", moment, dir);
  ASSERT_TRUE(restored);
  ASSERT_EQ(restored->query("SELECT max(id) FROM followed"), "101");
  const std::string conf = file_text(dir + "/postgresql.auto.conf");
  EXPECT_NE(conf.find("\n# opendbs: recovery ended, disabled: restore_command = "), std::string::npos) << conf;
  EXPECT_NE(conf.find("\n# opendbs: recovery ended, disabled: recovery_target_time = "), std::string::npos) << conf;
  for (const char* active : {"\nrestore_command", "\nrecovery_target", "\nrecovery_end_command"})
    EXPECT_EQ(conf.find(active), std::string::npos) << active << " is still active:\n" << conf;

  const std::string standby_root = make_server_temp_dir("standby");
  const std::string standby_dir = standby_root + "/data";
  ASSERT_EQ(run_as_server_user(debian_bin_dir() + "pg_basebackup -h 127.0.0.1 -p " + std::to_string(restored->port()) +
                               " -U postgres -D " + standby_dir + " -R -X stream -c fast > " + standby_root +
                               "/basebackup.log 2>&1"),
            0)
      << file_text(standby_root + "/basebackup.log");
  std::string error;
  auto standby = PgServer::open(standby_dir, &error);
  ASSERT_TRUE(standby) << error;
  EXPECT_EQ(standby->query("SELECT pg_is_in_recovery()"), "t");
  restored->query("INSERT INTO followed VALUES (200)");
  for (int i = 0; i < 100 && standby->query("SELECT max(id) FROM followed") != "200"; ++i) sleep_ms(100);
  EXPECT_EQ(standby->query("SELECT max(id) FROM followed"), "200") << standby->log_tail();
  standby.reset();
  std::error_code ec;
  fs::remove_all(standby_root, ec);
}

}  // namespace
}  // namespace opendbs::testing
