// Large objects in logical sets (docs/POSTGRES.md, "Logical backups"): read on the set's snapshot
// (changes made while the backup runs are not in it), restored under their original oids with equal
// content, written by the SQL download (psql loads them) and the CSV download (a file each); a role
// that may not read one fails the backup.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "core/crypto.h"
#include "engine_harness.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

class PostgresLargeObjects : public EngineTest {
 protected:
  // Database "lobs": table docs refers to an empty large object, a text, every byte value, 5 MiB
  // (past the 1 MiB slices of the backup and the restore) and a sparse one (zeros up to 2.5 MB, then
  // bytes); one more (oid 424242) no table refers to.
  void SetUp() override {
    EngineTest::SetUp();
    auto lobs = new_database("lobs");
    lobs("CREATE TABLE docs (id int PRIMARY KEY, name text, body oid)");
    lobs("INSERT INTO docs VALUES (1, 'empty', lo_from_bytea(0, '')),"
         " (2, 'text', lo_from_bytea(0, convert_to('hello, large object', 'UTF8'))), (5, 'sparse', lo_create(0))");
    lobs("INSERT INTO docs SELECT 3, 'bytes', lo_from_bytea(0, decode(string_agg(lpad(to_hex(g), 2, '0'), ''"
         " ORDER BY g), 'hex')) FROM generate_series(0, 255) g");
    lobs("INSERT INTO docs SELECT 4, 'big', lo_from_bytea(0, decode(string_agg(md5(g::text), '' ORDER BY g), 'hex'))"
         " FROM generate_series(1, 5 * 65536 + 7) g");  // 16 bytes a row: 5 MiB + 112 bytes
    lobs("SELECT lo_put(body, 2500000, 'tail') FROM docs WHERE id = 5");
    lobs("SELECT lo_from_bytea(424242, 'no table refers to me')");
    at_backup_ = contents(lobs);
    big_sha256_ = lobs("SELECT encode(sha256(lo_get(body)), 'hex') FROM docs WHERE id = 4");
  }

  // Every large object of the database: oid, length and md5 of its content, in oid order.
  static std::string contents(const PgServer::Query& q) {
    return q("SELECT string_agg(oid || ':' || length(lo_get(oid)) || ':' || md5(lo_get(oid)), ',' ORDER BY oid)"
             " FROM pg_largeobject_metadata");
  }

  engines::PlanSpec logical_plan(const std::string& id) { return logical(plan(id), R"([{"DBName":"lobs"}])"); }

  // A logical backup of lobs into `set_id` during which the source's large objects change: once the
  // tables' COPY reports its first bytes (on the set's snapshot, before the large objects are read),
  // one is overwritten, one unlinked and one created.
  core::Result<engines::FullBackupResult> backup_while_they_change(const engines::PlanSpec& p,
                                                                   const std::string& set_id) {
    Control control;
    std::atomic<bool> changed{false};
    control.on_progress = [&](int, uint64_t bytes) {
      if (bytes == 0 || changed.exchange(true)) return;
      PgServer::Query lobs{shared_source(), "lobs"};
      lobs("SELECT lo_put(body, 0, 'HELLO') FROM docs WHERE id = 2");
      lobs("SELECT lo_unlink(424242)");
      lobs("SELECT lo_from_bytea(0, 'after the snapshot')");
    };
    auto full = full_backup(p, set_id, control);
    EXPECT_TRUE(changed);
    EXPECT_NE(contents(PgServer::Query{shared_source(), "lobs"}), at_backup_);
    return full;
  }

  std::string at_backup_, big_sha256_;
};

TEST_F(PostgresLargeObjects, LogicalRestoreRecreatesEveryLargeObjectUnderItsOriginalOidAsTheSnapshotSawIt) {
  auto p = logical_plan("lobs-restore");
  auto full = backup_while_they_change(p, "lobs-full");
  ASSERT_TRUE(full.ok()) << full.error().message;
  const auto& db = full->metadata.at("databases").as_array().at(0).as_object();
  EXPECT_EQ(db.at("large_objects").at("count").to_number<int>(), 6);
  EXPECT_EQ(std::string(db.at("large_objects").at("stream").as_string()),
            std::string(db.at("prefix").as_string()) + "large_objects");

  auto dst = restore_logically(p, "lobs-full", full->consistent_ms);
  ASSERT_TRUE(dst);
  PgServer::Query restored{*dst, "lobs"};
  EXPECT_EQ(contents(restored), at_backup_);
  EXPECT_EQ(restored("SELECT count(*) FROM docs WHERE body NOT IN (SELECT oid FROM pg_largeobject_metadata)"), "0");
  EXPECT_EQ(restored("SELECT convert_from(lo_get(body), 'UTF8') FROM docs WHERE id = 2"), "hello, large object");
  EXPECT_EQ(restored("SELECT length(lo_get(body)) FROM docs WHERE id = 5"), "2500004");
}

// StopBackupPlan ALL once the tables are loaded, while the large objects are being written: the
// restore stops there and the database it created is dropped, as for a cancel during the tables.
TEST_F(PostgresLargeObjects, ARestoreCancelledWhileItWritesTheLargeObjectsDropsTheDatabaseItCreated) {
  auto p = logical_plan("lobs-cancel");
  const int64_t consistent_ms = backed_up(p, "lobs-cancel");
  auto dst = new_server();
  ASSERT_TRUE(dst);

  // Progress says 50 % once docs (one table of two steps: the table, the large objects) is loaded;
  // the restore's own check after the tables passes, any later one is told to stop.
  struct CancelAfterTheTables : Control {
    bool cancelled() const override { return tables_done && checks_after++ > 0; }
    std::atomic<bool> tables_done{false};
    mutable std::atomic<int> checks_after{0};
  } control;
  control.on_progress = [&](int percent, uint64_t) { control.tables_done = control.tables_done || percent > 1; };
  auto st = restore_into(*dst, p, "lobs-cancel", consistent_ms, control);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "Cancelled") << st.error().message;
  EXPECT_NE(st.error().message.find("the databases the restore had created were dropped: lobs"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(control.last_percent.load(), 50) << "the large objects were all written";
  EXPECT_GT(control.checks_after.load(), 1);
  EXPECT_EQ(dst->query("SELECT count(*) FROM pg_database WHERE datname = 'lobs'"), "0");
}

TEST_F(PostgresLargeObjects, TheSqlDownloadLoadsThemWithPsqlAndTheCsvDownloadHoldsAFileForEach) {
  auto p = logical_plan("lobs-download");
  auto full = backup_while_they_change(p, "lobs-dl");
  ASSERT_TRUE(full.ok()) << full.error().message;
  for (const char* format : {"SQL", "CSV"}) {
    engines::DownloadRequest request;
    request.set_id = "lobs-dl";
    request.format = format;
    request.out_path = dir_ + "/set." + format;
    Control control;
    auto result = engine_.download(p, *repo_, request, control);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(control.last_percent.load(), 100);
  }

  auto dst = new_server();
  ASSERT_TRUE(dst);
  dst->query("CREATE DATABASE fresh");
  ASSERT_EQ(psql(*dst, "fresh", "-f " + dir_ + "/set.SQL"), 0);
  EXPECT_EQ(contents(PgServer::Query{*dst, "fresh"}), at_backup_);

  fs::create_directories(dir_ + "/csv");
  ASSERT_EQ(std::system(("tar -xf " + dir_ + "/set.CSV -C " + dir_ + "/csv").c_str()), 0);
  const std::string files = dir_ + "/csv/lobs/large_objects/";
  PgServer::Query lobs{shared_source(), "lobs"};
  EXPECT_EQ(std::distance(fs::directory_iterator(files), fs::directory_iterator()), 6);
  EXPECT_EQ(fs::file_size(files + lobs("SELECT body FROM docs WHERE id = 1")), 0u);
  EXPECT_EQ(fs::file_size(files + lobs("SELECT body FROM docs WHERE id = 5")), 2500004u);
  std::ifstream in(files + lobs("SELECT body FROM docs WHERE id = 4"), std::ios::binary);
  std::stringstream big;
  big << in.rdbuf();
  EXPECT_EQ(core::to_hex(core::sha256(big.str())), big_sha256_);
  EXPECT_TRUE(fs::exists(files + "424242")) << "unlinked during the backup, present at its snapshot";
}

TEST_F(PostgresLargeObjects, ARoleThatMayNotReadALargeObjectFailsTheBackupWithSourcePermissionDenied) {
  auto& src = shared_source();
  src.query("DROP ROLE IF EXISTS lob_reader");
  src.query("CREATE ROLE lob_reader LOGIN");
  PgServer::Query lobs{src, "lobs"};
  lobs("GRANT SELECT ON docs TO lob_reader");  // the table, not its large objects
  auto p = logical_plan("lobs-denied");
  p.source = src.endpoint("lob_reader");
  Control control;
  auto denied = full_backup(p, "lobs-denied", control);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "SourcePermissionDenied");
  EXPECT_NE(denied.error().message.find("permission denied for large object"), std::string::npos)
      << denied.error().message;

  lobs("DO $$DECLARE o oid; BEGIN FOR o IN SELECT oid FROM pg_largeobject_metadata LOOP"
       " EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO lob_reader', o); END LOOP; END$$");
  auto granted = full_backup(p, "lobs-granted", control);
  ASSERT_TRUE(granted.ok()) << granted.error().message;
  auto dst = restore_logically(p, "lobs-granted", granted->consistent_ms);
  ASSERT_TRUE(dst);
  EXPECT_EQ(contents(PgServer::Query{*dst, "lobs"}), at_backup_);
  src.query("DROP DATABASE lobs");  // it holds the role's grants
  src.query("DROP ROLE lob_reader");
}

}  // namespace
}  // namespace opendbs::testing
