// A logical backup's sessions do not take the source database's or role's settings: COPY's text is
// the same under any DateStyle, IntervalStyle or extra_float_digits, row-level security fails the
// backup rather than leaving rows out, and a database's encoding travels with the set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "engine_harness.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalSettings : public EngineTest {};

// An environment variable set for one scope of the test process (the engine's connections and the
// programs it runs inherit it), then put back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Reads values in one fixed form, whatever the database sets.
const std::string kIso = "SET datestyle = ISO; SET intervalstyle = postgres; SET extra_float_digits = 3; ";

TEST_F(PostgresLogicalSettings, DatesIntervalsAndFloatsRestoreUnchangedFromADatabaseWithDmyDatesSqlIntervalsAndRoundedFloats) {
  auto& src = shared_source();
  auto db = new_database("lsstyles");
  src.query("ALTER DATABASE lsstyles SET datestyle = 'SQL, DMY'");
  src.query("ALTER DATABASE lsstyles SET intervalstyle = 'sql_standard'");
  src.query("ALTER DATABASE lsstyles SET extra_float_digits = 0");
  db("CREATE TABLE d (k int PRIMARY KEY, day date, ts timestamp, tz timestamptz, iv interval, f8 float8, f4 float4)");
  db(kIso + "INSERT INTO d VALUES"
            " (1, '2026-02-01', '2026-02-01 13:14:15', '2026-02-01 13:14:15+02', '1 day 02:00', 0.1::float8 + 0.2::float8,"
            "  1::float4 / 3),"
            " (2, '2026-03-04', '2026-03-04 05:06:07', '2026-03-04 05:06:07.25+00', '-3 days -04:00:00', pi(), 0.1::float4),"
            " (3, '2026-12-31', '2026-12-31 23:59:59.123456', '2026-12-31 23:59:59+05:30',"
            "  '-1 year -2 mons +3 days -04:05:06.5', 1e-310, 3.4e38::float4)");
  const std::string rows = kIso + "SELECT md5(string_agg(d::text, '|' ORDER BY k)) FROM d";
  const std::string source_rows = db(rows);

  auto p = logical(plan("ls-styles"), R"([{"DBName":"lsstyles"}])");
  Control control;
  auto full = full_backup(p, "ls-styles-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  auto dst = restore_logically(p, "ls-styles-full", full->consistent_ms);
  ASSERT_TRUE(dst);

  PgServer::Query restored{*dst, "lsstyles"};
  EXPECT_EQ(restored(rows), source_rows);
  EXPECT_EQ(restored(kIso + "SELECT day::text FROM d WHERE k = 2"), "2026-03-04");  // the database keeps SQL, DMY
  EXPECT_EQ(restored(kIso + "SELECT iv::text FROM d WHERE k = 2"), "-3 days -04:00:00");
  EXPECT_EQ(restored("SELECT f8 = 0.1::float8 + 0.2::float8 AND f4 = (1::float8 / 3)::float4 FROM d WHERE k = 1"), "t");
  EXPECT_EQ(restored("SELECT f8 = pi() FROM d WHERE k = 2"), "t");
  src.query("DROP DATABASE lsstyles");
}

// pg_read_all_data reads every table, but RLS policies still filter what the role sees: the backup
// must not store a table with rows missing.
TEST_F(PostgresLogicalSettings, ATableWhoseRowLevelSecurityHidesRowsFromTheRoleFailsTheBackupNamingTheTable) {
  auto& src = shared_source();
  src.query("DROP DATABASE IF EXISTS lsrls");
  src.query("DROP ROLE IF EXISTS ls_rls_reader");
  src.query("CREATE ROLE ls_rls_reader LOGIN IN ROLE pg_read_all_data");
  src.query("CREATE DATABASE lsrls");
  PgServer::Query db{src, "lsrls"};
  db("CREATE TABLE open_rows (x int); INSERT INTO open_rows VALUES (1)");
  db("CREATE TABLE sec (k int, owner text); INSERT INTO sec VALUES (1, 'alice'), (2, 'bob')");
  db("ALTER TABLE sec ENABLE ROW LEVEL SECURITY; CREATE POLICY mine ON sec USING (owner = current_user)");
  auto p = logical(plan("ls-rls"), R"([{"DBName":"lsrls"}])");
  p.source = src.endpoint("ls_rls_reader");
  Control control;
  auto full = full_backup(p, "ls-rls-full", control);
  ASSERT_FALSE(full.ok()) << "a set without the rows RLS hides";
  EXPECT_EQ(full.error().code, "SourcePermissionDenied") << full.error().message;
  EXPECT_NE(full.error().message.find("public.sec"), std::string::npos) << full.error().message;
  EXPECT_NE(full.error().message.find("BYPASSRLS"), std::string::npos) << full.error().message;

  // With BYPASSRLS the role backs up every row.
  src.query("ALTER ROLE ls_rls_reader BYPASSRLS");
  auto again = full_backup(p, "ls-rls-bypass", control);
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto dst = restore_logically(p, "ls-rls-bypass", again->consistent_ms);
  ASSERT_TRUE(dst);
  EXPECT_EQ((PgServer::Query{*dst, "lsrls"}("SELECT count(*) FROM sec")), "2");
  src.query("DROP DATABASE lsrls");
  src.query("DROP ROLE ls_rls_reader");
}

TEST_F(PostgresLogicalSettings, ALatin1DatabaseRestoresAsLatin1WithTheSameBytes) {
  auto& src = shared_source();
  auto db = new_database("lslatin1", "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
  db("CREATE TABLE l (k int PRIMARY KEY, t text)");
  db("INSERT INTO l VALUES (1, U&'\\00e9t\\00e9, caf\\00e9, \\00bd price')");  // été, café, ½ price
  // Every byte LATIN1 has above ASCII, one row each and all in one row.
  db("INSERT INTO l SELECT g, convert_from(decode(to_hex(g), 'hex'), 'LATIN1') FROM generate_series(128, 255) g");
  db("INSERT INTO l SELECT 1000, string_agg(t, '' ORDER BY k) FROM l WHERE k >= 128");
  const std::string bytes = "SELECT md5(string_agg(convert_to(t, 'LATIN1'), '\\x7c'::bytea ORDER BY k)) FROM l";
  const std::string source_bytes = db(bytes);

  auto p = logical(plan("ls-latin1"), R"([{"DBName":"lslatin1"}])");
  Control control;
  auto full = full_backup(p, "ls-latin1-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  const auto& entry = full->metadata.at("databases").as_array().at(0).as_object();
  EXPECT_EQ(entry.at("encoding"), "LATIN1");
  EXPECT_EQ(entry.at("collate"), "C");
  auto dst = restore_logically(p, "ls-latin1-full", full->consistent_ms);
  ASSERT_TRUE(dst);

  EXPECT_EQ(dst->query("SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype"
                       " FROM pg_database WHERE datname = 'lslatin1'"),
            "LATIN1 C C");
  PgServer::Query restored{*dst, "lslatin1"};
  EXPECT_EQ(restored(bytes), source_bytes);
  EXPECT_EQ(restored("SET client_encoding = UTF8; SELECT t FROM l WHERE k = 1"), "été, café, ½ price");
  EXPECT_EQ(restored("SELECT count(*) FROM l"), "130");
  src.query("DROP DATABASE lslatin1");
}

// An operator's PGCLIENTENCODING=UTF8 on the node would have the engine's sessions and pg_dump read a
// LATIN1 database's names and text converted to UTF-8: names then no longer match between the sessions
// that set the database's own encoding and those that do not. Every session and pg_dump uses the
// database's encoding instead, so the set and the restore are the same bytes.
TEST_F(PostgresLogicalSettings, ALatin1DatabaseBacksUpAndRestoresByteForByteWhileTheNodeSetsPgclientencodingUtf8) {
  auto& src = shared_source();
  // The set-up session speaks LATIN1 (the database's encoding, nothing set yet): these are LATIN1 bytes.
  auto db = new_database("lsenvlatin1", "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
  const std::string table = "\"\xe9" "cole\".\"caf\xe9\"";  // "école"."café"
  db("CREATE SCHEMA \"\xe9" "cole\"");
  db("CREATE TABLE " + table + " (k int PRIMARY KEY, \"pr\xe9\" text)");
  db("CREATE INDEX \"caf\xe9_pr\xe9\" ON " + table + " (\"pr\xe9\")");
  db("INSERT INTO " + table + " SELECT g, 'd\xe9j\xe0 ' || convert_from(decode(to_hex(g), 'hex'), 'LATIN1')"
     " FROM generate_series(128, 255) g");
  const std::string names =
      "SELECT string_agg(encode(nspname::text::bytea, 'hex') || '.' || encode(relname::text::bytea, 'hex'), ','"
      " ORDER BY relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname LIKE '%cole'";
  const std::string rows = "SELECT md5(string_agg(k || ':' || encode(convert_to(\"pr\xe9\", 'LATIN1'), 'hex'), ','"
                           " ORDER BY k)) FROM " + table;
  const std::string source_names = db(names), source_rows = db(rows);
  ASSERT_EQ(source_names, "e9636f6c65.636166e9,e9636f6c65.636166e95f706b6579,e9636f6c65.636166e95f7072e9");

  const auto p = logical(plan("ls-env-latin1"), R"([{"DBName":"lsenvlatin1"}])");
  auto dst = new_server();
  ASSERT_TRUE(dst);
  {
    ScopedEnv utf8("PGCLIENTENCODING", "UTF8");  // the engine's work only, not the test's own queries
    const int64_t consistent_ms = backed_up(p, "ls-env-latin1-full");
    ASSERT_GT(consistent_ms, 0);
    Control control;
    auto restored = restore_into(*dst, p, "ls-env-latin1-full", consistent_ms, control);
    ASSERT_TRUE(restored.ok()) << restored.error().message;
  }
  PgServer::Query restored{*dst, "lsenvlatin1"};
  EXPECT_EQ(restored("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'lsenvlatin1'"), "LATIN1");
  EXPECT_EQ(restored(names), source_names);
  EXPECT_EQ(restored(rows), source_rows);
  EXPECT_EQ(restored("SELECT count(*) FROM " + table), "128");
  src.query("DROP DATABASE lsenvlatin1");
}

// A SQL_ASCII database's names are bytes, here LATIN1's é and à: the set's manifest keeps them as they
// are (it was unreadable before, and the backup failed), and the restore recreates them byte for byte.
TEST_F(PostgresLogicalSettings, ASqlAsciiDatabaseWithNamesThatAreNotUtf8RestoresThemByteForByte) {
  auto& src = shared_source();
  auto db = new_database("lsascii", "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
  db("CREATE TABLE \"caf\xe9\" (k int PRIMARY KEY, \"pr\xe9\" text)");
  db("INSERT INTO \"caf\xe9\" VALUES (1, 'd\xe9j\xe0')");
  const auto p = logical(plan("ls-ascii"), R"([{"DBName":"lsascii"}])");
  const int64_t consistent_ms = backed_up(p, "ls-ascii-full");
  ASSERT_GT(consistent_ms, 0);
  auto dst = restore_logically(p, "ls-ascii-full", consistent_ms);
  ASSERT_TRUE(dst);
  PgServer::Query restored{*dst, "lsascii"};
  EXPECT_EQ(restored("SELECT encode(relname::text::bytea, 'hex') FROM pg_class WHERE relname LIKE 'caf%' AND relkind = 'r'"),
            "636166e9");
  EXPECT_EQ(restored("SELECT encode(\"pr\xe9\"::bytea, 'hex') FROM \"caf\xe9\""), "64e96ae0");
  src.query("DROP DATABASE lsascii");
}

}  // namespace
}  // namespace opendbs::testing
