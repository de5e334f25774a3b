// Downloads of real PostgreSQL sets (docs/POSTGRES.md, "Downloads"): a logical set as SQL loads into a
// fresh database with equal content, as CSV loads back with COPY; a physical set as a Native tar
// extracts to a data directory PostgreSQL starts from.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class PostgresDownload : public EngineTest {
 protected:
  core::Result<engines::DownloadResult> download(const engines::PlanSpec& p, const std::string& set_id,
                                                 const std::string& format, const std::string& out) {
    engines::DownloadRequest request;
    request.set_id = set_id;
    request.format = format;
    request.out_path = out;
    Control control;
    auto result = engine_.download(p, *repo_, request, control);
    if (result.ok()) {
      EXPECT_EQ(control.last_percent.load(), 100);
    }
    return result;
  }

  // A database "dlshop" with awkward types and names, backed up logically into set "dl-logical".
  engines::PlanSpec logical_set() {
    auto shop = new_database("dlshop");
    shop("CREATE TABLE kinds (id serial PRIMARY KEY, t text, n numeric, b bytea, j jsonb, a int[], ts timestamptz,"
         " doubled int GENERATED ALWAYS AS (id * 2) STORED)");
    shop("INSERT INTO kinds (t, n, b, j, a, ts) VALUES"
         " (E'tab\\there\\nnew line \\\\ \"quote\", comma', 1e-30, '\\xdeadbeef00', '{\"k\": [1, null]}', '{1,NULL}',"
         "  '2024-02-29 23:59:59.5+05:45'),"
         " ('', 0, '\\x', 'null', '{}', 'infinity'), (NULL, NULL, NULL, NULL, NULL, NULL),"
         " ('日本語 🎉', -1.5, NULL, '[]', '{-2147483648}', '-infinity')");
    shop("CREATE SCHEMA \"Odd Schema\"");
    shop("CREATE TABLE \"Odd Schema\".\"Mixed Case\" (k int PRIMARY KEY, \"Value\" text UNIQUE)");
    shop("INSERT INTO \"Odd Schema\".\"Mixed Case\" SELECT g, 'v' || g FROM generate_series(1, 5000) g");
    shop("CREATE TABLE empty_one (x int)");
    auto p = logical(plan("dl-logical"), R"([{"DBName":"dlshop"}])");
    Control control;
    auto full = full_backup(p, "dl-logical", control);
    EXPECT_TRUE(full.ok()) << full.error().message;
    return p;
  }

  static std::string kinds_sum(const PgServer::Query& q) {
    return q("SELECT md5(string_agg(k::text, '|' ORDER BY id)) FROM kinds k");
  }
  static std::string mixed_sum(const PgServer::Query& q) {
    return q("SELECT md5(string_agg(m::text, '|' ORDER BY k)) FROM \"Odd Schema\".\"Mixed Case\" m");
  }
};

TEST_F(PostgresDownload, LogicalSetAsSqlLoadsWithPsqlIntoAFreshDatabaseWithEqualContent) {
  auto p = logical_set();
  PgServer::Query shop{shared_source(), "dlshop"};
  const std::string kinds = kinds_sum(shop), mixed = mixed_sum(shop);

  auto result = download(p, "dl-logical", "SQL", dir_ + "/set.sql");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->extension, "sql");
  EXPECT_EQ(result->bytes, fs::file_size(dir_ + "/set.sql"));
  EXPECT_NE(slurp(dir_ + "/set.sql").find("COPY \"Odd Schema\".\"Mixed Case\" FROM stdin;"), std::string::npos);

  std::string error;
  auto dst = PgServer::create(&error);
  ASSERT_TRUE(dst) << error;
  dst->query("CREATE DATABASE fresh");
  ASSERT_EQ(psql(*dst, "fresh", "-f " + dir_ + "/set.sql"), 0);
  PgServer::Query fresh{*dst, "fresh"};
  EXPECT_EQ(kinds_sum(fresh), kinds);
  EXPECT_EQ(mixed_sum(fresh), mixed);
  EXPECT_EQ(fresh("SELECT count(*) FROM pg_indexes WHERE tablename = 'Mixed Case'"), "2");
  // Sequences continue after the loaded rows.
  EXPECT_EQ(fresh("INSERT INTO kinds (t) VALUES ('next') RETURNING id"), "5");
}

TEST_F(PostgresDownload, LogicalSetAsCsvIsATarOfOneCsvPerTableWithHeadersThatCopyLoadsBack) {
  auto p = logical_set();
  PgServer::Query shop{shared_source(), "dlshop"};
  const std::string kinds = kinds_sum(shop), mixed = mixed_sum(shop);
  auto csv = download(p, "dl-logical", "CSV", dir_ + "/set.tar");
  ASSERT_TRUE(csv.ok()) << csv.error().message;
  EXPECT_EQ(csv->extension, "csv.tar");
  fs::create_directories(dir_ + "/csv");
  ASSERT_EQ(std::system(("tar -xf " + dir_ + "/set.tar -C " + dir_ + "/csv").c_str()), 0);
  const std::string mixed_csv = slurp(dir_ + "/csv/dlshop/Odd Schema.Mixed Case.csv");
  EXPECT_EQ(mixed_csv.substr(0, mixed_csv.find('\n')), "k,Value");
  EXPECT_EQ(slurp(dir_ + "/csv/dlshop/public.empty_one.csv"), "x\n");
  EXPECT_EQ(slurp(dir_ + "/csv/dlshop/public.kinds.csv").substr(0, 20), "id,t,n,b,j,a,ts\n1,\"t");

  // The schema from the SQL download, the rows from the CSV files: equal content.
  ASSERT_TRUE(download(p, "dl-logical", "SQL", dir_ + "/set.sql").ok());
  std::string error;
  auto dst = PgServer::create(&error);
  ASSERT_TRUE(dst) << error;
  dst->query("CREATE DATABASE fresh");
  ASSERT_EQ(psql(*dst, "fresh", "-f " + dir_ + "/set.sql"), 0);
  PgServer::Query fresh{*dst, "fresh"};
  fresh("TRUNCATE kinds, \"Odd Schema\".\"Mixed Case\"");
  ASSERT_EQ(psql(*dst, "fresh", "-c " + quoted("COPY kinds (id, t, n, b, j, a, ts) FROM STDIN (FORMAT csv, HEADER)") +
                                    " < " + quoted(dir_ + "/csv/dlshop/public.kinds.csv")), 0);
  ASSERT_EQ(psql(*dst, "fresh", "-c " + quoted("COPY \"Odd Schema\".\"Mixed Case\" FROM STDIN (FORMAT csv, HEADER)") +
                                    " < " + quoted(dir_ + "/csv/dlshop/Odd Schema.Mixed Case.csv")), 0);
  EXPECT_EQ(kinds_sum(fresh), kinds);
  EXPECT_EQ(mixed_sum(fresh), mixed);
}

TEST_F(PostgresDownload, PhysicalSetAsNativeTarExtractsToADataDirectoryPostgresStartsFrom) {
  auto& src = shared_source();
  src.query("DROP TABLE IF EXISTS dl_phys");
  src.query("CREATE TABLE dl_phys AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g");
  const std::string before = src.checksum("dl_phys");
  auto p = plan("dl-physical");
  Control control;
  auto full = full_backup(p, "dl-physical", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  src.query("INSERT INTO dl_phys VALUES (0, 'after the backup')");

  auto result = download(p, "dl-physical", "Native", dir_ + "/data.tar");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->extension, "tar");
  const std::string data = dir_ + "/extracted";
  ASSERT_EQ(::mkdir(data.c_str(), 0700), 0);
  ASSERT_EQ(std::system(("tar -xf " + dir_ + "/data.tar -C " + data).c_str()), 0);
  EXPECT_TRUE(fs::exists(data + "/backup_label"));
  EXPECT_TRUE(fs::exists(data + "/PG_VERSION"));
  // The server's backup manifest holds the CRC-32C of every file as the server read it: pg_verifybackup
  // checks the whole way — LZ4 transfer, tar parsing, chunks, repository, download — and the WAL,
  // independently of opendbs's own hashes.
  const std::string verify_log = dir_ + "/verifybackup.log";
  EXPECT_EQ(std::system((debian_bin_dir() + "pg_verifybackup " + data + " > " + verify_log + " 2>&1").c_str()), 0)
      << slurp(verify_log);
  std::string error;
  auto server = PgServer::open(data, &error);
  ASSERT_TRUE(server) << error;
  EXPECT_EQ(server->checksum("dl_phys"), before) << server->log_tail();
}

TEST_F(PostgresDownload, AFormatTheSetCannotTakeIsRefusedNamingBackupSetDataFormat) {
  auto p = logical_set();
  auto native = download(p, "dl-logical", "Native", dir_ + "/x");
  ASSERT_FALSE(native.ok());
  EXPECT_EQ(native.error().code, "InvalidParameter");
  EXPECT_NE(native.error().message.find("BackupSetDataFormat"), std::string::npos);
  EXPECT_NE(native.error().message.find("SQL, CSV"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ + "/x"));
}

TEST_F(PostgresDownload, AWalSegmentAsNativeIsTheSegmentPgWaldumpReads) {
  auto p = plan("dl-wal");
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  shared_source().query("CREATE TABLE IF NOT EXISTS dl_wal (x int); INSERT INTO dl_wal VALUES (1)");
  const std::string name = shared_source().query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  shared_source().query("SELECT pg_switch_wal()");
  ASSERT_TRUE(runner.completed(name, 20000)) << "segment " << name << " never completed";
  (void)runner.stop();

  engines::DownloadRequest request;
  request.set_id = "log-dl-wal-" + name;
  request.format = "Native";
  request.log_file = true;
  request.out_path = dir_ + "/" + name;
  Control control;
  auto result = engine_.download(p, *repo_, request, control);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->extension, "");
  EXPECT_EQ(result->bytes, 16u << 20);
  std::string stored;
  ASSERT_TRUE(repo_->read_stream(request.set_id, "segment", [&](std::string_view b) {
    stored.append(b);
    return core::Status{};
  }).ok());
  EXPECT_TRUE(slurp(request.out_path) == stored);
  EXPECT_EQ(std::system(("/usr/lib/postgresql/15/bin/pg_waldump -n 1 " + request.out_path + " > /dev/null 2>&1").c_str()), 0);

  request.format = "SQL";
  request.out_path = dir_ + "/no";
  auto sql = engine_.download(p, *repo_, request, control);
  ASSERT_FALSE(sql.ok());
  EXPECT_NE(sql.error().message.find("BackupSetDataFormat SQL is not available for a WAL segment: choose Native"),
            std::string::npos) << sql.error().message;
}

TEST_F(PostgresDownload, ASqlScriptOfSeveralDatabasesCreatesAndFillsEachOfThemOnAnotherServer) {
  std::string error;
  auto src = PgServer::create(&error);
  ASSERT_TRUE(src) << error;
  src->query("CREATE DATABASE alpha");
  src->query("CREATE DATABASE \"Beta-Db\"");  // a name psql must quote in \connect
  PgServer::Query alpha{*src, "alpha"}, beta{*src, "Beta-Db"};
  alpha("CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 100) g");
  beta("CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b SELECT generate_series(1, 50)");
  auto p = plan("dl-several");
  p.backup_method = "logical";
  p.source = src->endpoint();
  Control control;
  ASSERT_TRUE(full_backup(p, "dl-several", control).ok());
  ASSERT_TRUE(download(p, "dl-several", "SQL", dir_ + "/several.sql").ok());

  auto dst = PgServer::create(&error);
  ASSERT_TRUE(dst) << error;
  dst->query("CREATE DATABASE alpha");  // an existing database is filled, not created again
  ASSERT_EQ(psql(*dst, "postgres", "-f " + dir_ + "/several.sql"), 0);
  PgServer::Query alpha2{*dst, "alpha"}, beta2{*dst, "Beta-Db"};
  EXPECT_EQ(alpha2("SELECT md5(string_agg(v, ',' ORDER BY id)) FROM a"), alpha("SELECT md5(string_agg(v, ',' ORDER BY id)) FROM a"));
  EXPECT_EQ(beta2("SELECT sum(id) FROM b"), "1275");
}

}  // namespace
}  // namespace opendbs::testing
