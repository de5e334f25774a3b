#include <gtest/gtest.h>

#include <chrono>

#include "engine_harness.h"
#include "engines/postgres/wal_names.h"

namespace opendbs::testing {
namespace {

class PostgresPhysicalBackup : public EngineTest {};

TEST_F(PostgresPhysicalBackup, RestoresIntoADirectoryThatStartsWithTheSameTables) {
  auto& src = shared_source();
  src.query("CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric)");
  src.query("INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.5 FROM generate_series(1, 20000) g");
  src.query("CREATE TABLE notes (id serial PRIMARY KEY, body jsonb)");
  src.query("INSERT INTO notes (body) SELECT jsonb_build_object('n', g) FROM generate_series(1, 500) g");
  const std::string accounts = src.checksum("accounts"), notes = src.checksum("notes");

  const auto p = plan("full1");
  Control control;
  repo::SetStats first{};
  auto result = full_backup(p, "full-1", control, &first);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(control.last_percent.load(), 100);
  EXPECT_GT(result->consistent_ms, now_ms() - 60000);
  EXPECT_LE(result->consistent_ms, now_ms());
  const auto& m = result->metadata;
  EXPECT_EQ(m.at("method"), "physical");
  EXPECT_NE(m.at("backup_label").as_string().find("START WAL LOCATION"), std::string::npos);
  EXPECT_EQ(m.at("server_version").as_int64() / 10000, 15);
  EXPECT_EQ(m.at("transfer_compression"), "lz4");  // Debian's PostgreSQL 15 is built with LZ4
  const uint64_t segment = m.at("wal_segment_size").as_uint64();
  const auto start_lsn = engines::postgres::parse_lsn(std::string(m.at("start_lsn").as_string()));
  ASSERT_TRUE(start_lsn.has_value());
  EXPECT_EQ(result->log_start_seq, static_cast<int64_t>(*start_lsn / segment));
  auto manifest = repo_->load_manifest("full-1");
  ASSERT_TRUE(manifest.ok());
  EXPECT_NE(manifest->find_stream("PG_VERSION"), nullptr);
  EXPECT_NE(manifest->find_stream("global/pg_control"), nullptr);
  EXPECT_NE(manifest->find_stream("backup_manifest"), nullptr);

  // Rows changed after the backup are not in the restore.
  src.query("UPDATE accounts SET balance = 0 WHERE id <= 100");
  auto restored = restore_and_start(p, "full-1", result->consistent_ms);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->checksum("accounts"), accounts);
  EXPECT_EQ(restored->checksum("notes"), notes);

  // A second full backup after a small change stores a fraction of the first.
  repo::SetStats second{};
  auto again = full_backup(p, "full-2", control, &second);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_LT(second.bytes_stored, first.bytes_stored / 2) << first.bytes_stored << " then " << second.bytes_stored;
}

TEST_F(PostgresPhysicalBackup, CancellingDuringTheBaseBackupStopsPromptlyAndLeavesTheSourceUsable) {
  auto& src = shared_source();
  src.query("CREATE TABLE bulk (id int, pad text)");
  src.query("INSERT INTO bulk SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 200000) g");
  const auto p = plan("cancel1");
  Control control;
  control.cancel_once_bytes_arrive();
  auto result = full_backup(p, "cancelled", control);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "Cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - control.cancelled_at, std::chrono::seconds(2));

  Control fresh;
  auto after = full_backup(p, "after-cancel", fresh);
  EXPECT_TRUE(after.ok()) << (after.ok() ? "" : after.error().message);
  src.query("DROP TABLE bulk");
}

}  // namespace
}  // namespace opendbs::testing
