// What a database is besides its tables travels with a logical set: its settings (ALTER DATABASE ...
// SET, ALTER ROLE ... IN DATABASE ... SET), comment, grants, connection limit and ICU default
// collation, restored under the name the restore gives it, after its data are loaded; and the restore
// counts the bytes it loads.
#include <gtest/gtest.h>

#include <algorithm>

#include <boost/json.hpp>

#include "engine_harness.h"
#include "engines/postgres/create_database.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalDatabaseProps : public EngineTest {
 protected:
  // A logical backup of database `db` of the shared source into the set "<id>-full" of plan `id`.
  core::Result<engines::FullBackupResult> back_up(const std::string& id, const std::string& db) {
    plan_ = logical(plan(id), R"([{"DBName":")" + db + R"("}])");
    set_id_ = id + "-full";
    Control control;
    auto full = full_backup(plan_, set_id_, control);
    if (full.ok()) consistent_ms_ = full->consistent_ms;
    return full;
  }

  // Restores the set back_up() took into `dst` (RestoreObjects `objects`) with `control`.
  core::Status restore(PgServer& dst, const std::string& objects, Control& control) {
    return restore_into(dst, plan_, set_id_, consistent_ms_, control, objects);
  }

  static std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }

  // Database lpprops of the shared source with every property a set carries: a connection limit, a
  // comment, PUBLIC's privileges revoked, grants with and without grant option, its own search_path
  // and default_transaction_read_only, and roles' settings; lp_gone is a role destinations lack.
  void make_props_database() {
    auto& src = shared_source();
    drop_props_database();
    for (const char* role : kRoles) src.query(std::string("CREATE ROLE ") + role + " LOGIN");
    src.query("CREATE DATABASE lpprops CONNECTION LIMIT 3");
    PgServer::Query db{src, "lpprops"};
    db("CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, name text)");
    db("INSERT INTO app.items SELECT g, 'item ' || g FROM generate_series(1, 500) g");
    src.query("COMMENT ON DATABASE lpprops IS 'the shop''s data'");
    src.query("REVOKE ALL ON DATABASE lpprops FROM PUBLIC");
    src.query("GRANT CONNECT ON DATABASE lpprops TO lp_app, lp_gone");
    src.query("GRANT CREATE ON DATABASE lpprops TO lp_app WITH GRANT OPTION");
    src.query("ALTER DATABASE lpprops SET search_path = app, \"$user\", public");
    src.query("ALTER ROLE lp_app IN DATABASE lpprops SET work_mem = '8MB'");
    src.query("ALTER ROLE lp_gone IN DATABASE lpprops SET work_mem = '16MB'");
    src.query("ALTER DATABASE lpprops SET default_transaction_read_only = on");
  }
  void drop_props_database() {
    auto& src = shared_source();
    src.query("DROP DATABASE IF EXISTS lpprops");
    for (const char* role : kRoles) src.query(std::string("DROP ROLE IF EXISTS ") + role);
  }
  // make_props_database() backed up by plan `id`, and a new server to restore it into, with the roles
  // of lpprops but lp_gone; null (and a test failure) when either fails.
  std::unique_ptr<PgServer> props_backed_up(const std::string& id) {
    make_props_database();
    auto full = back_up(id, "lpprops");
    EXPECT_TRUE(full.ok()) << full.error().message;
    auto dst = full.ok() ? new_server() : nullptr;
    if (dst) dst->query("CREATE ROLE lp_app LOGIN; CREATE ROLE lp_reader LOGIN");
    return dst;
  }
  // Database `name` of `dst` has what make_props_database() gave lpprops (but for lp_gone).
  static void expect_props(PgServer& dst, const std::string& name) {
    PgServer::Query restored{dst, name};
    const std::string literal = engines::postgres::quote_literal(name);
    EXPECT_EQ(restored("SELECT count(*) FROM items"), "500");  // unqualified: the database's search_path
    EXPECT_EQ(restored("SHOW search_path"), "app, \"$user\", public");
    EXPECT_EQ(restored("SHOW default_transaction_read_only"), "on");
    EXPECT_EQ(dst.query("SELECT s.setconfig::text FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole"
                        " JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = " + literal +
                        " AND r.rolname = 'lp_app'"),
              "{work_mem=8MB}");
    EXPECT_EQ(dst.query("SELECT datconnlimit FROM pg_database WHERE datname = " + literal), "3");
    EXPECT_EQ(dst.query("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = " + literal),
              "the shop's data");
    EXPECT_EQ(dst.query("SELECT has_database_privilege('lp_app', " + literal + ", 'CONNECT')::text"
                        " || has_database_privilege('lp_app', " + literal + ", 'CREATE WITH GRANT OPTION')::text"
                        " || has_database_privilege('lp_reader', " + literal + ", 'CONNECT')::text"
                        " || has_database_privilege('lp_reader', " + literal + ", 'TEMP')::text"),
              "truetruefalsefalse");
  }
  static constexpr const char* kRoles[] = {"lp_app", "lp_reader", "lp_gone"};

  engines::PlanSpec plan_;
  std::string set_id_;
  int64_t consistent_ms_ = 0;
};

// default_transaction_read_only = on would refuse every CREATE and COPY of the restore if it were set
// before the data; the database's search_path lets its users name app's tables unqualified. A role
// the destination lacks costs its setting and grant, with a warning, never the restore.
TEST_F(PostgresLogicalDatabaseProps, SettingsCommentGrantsAndConnectionLimitReachTheRenamedDatabaseAfterItsData) {
  auto dst = props_backed_up("lp-props");
  ASSERT_TRUE(dst);
  Control control;
  auto st = restore(*dst, R"([{"DBName":"lpprops","NewDBName":"lpcopy"}])", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  expect_props(*dst, "lpcopy");

  const std::string warnings = joined(control.warnings);
  EXPECT_NE(warnings.find("ALTER ROLE lp_gone IN DATABASE: the setting work_mem was not restored: role lp_gone does not exist"),
            std::string::npos) << warnings;
  EXPECT_NE(warnings.find("GRANT CONNECT TO lp_gone was not restored: role lp_gone does not exist"), std::string::npos)
      << warnings;
  EXPECT_EQ(std::count(warnings.begin(), warnings.end(), '\n'), 2) << warnings;
  drop_props_database();
}

// The SQL download gives the database it is loaded into the same properties, at the end of its part;
// what needs a role the server lacks is a WARNING, so psql's ON_ERROR_STOP run goes on to the end.
TEST_F(PostgresLogicalDatabaseProps, TheSqlDownloadGivesTheDatabaseItIsLoadedIntoItsSettingsCommentGrantsAndLimit) {
  auto dst = props_backed_up("lp-props-sql");
  ASSERT_TRUE(dst);
  ASSERT_EQ(load_sql_download(plan_, set_id_, *dst, "lpsql"), 0);
  expect_props(*dst, "lpsql");
  EXPECT_EQ(dst->query("SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
                       " WHERE d.datname = 'lpsql'"),
            "2");  // the database's own and lp_app's; lp_gone's was left out
  drop_props_database();
}

// pg_dump's script empties search_path; the source refreshed its views with the database's own, which
// the restore applies only after the refreshes: they must use it already.
TEST_F(PostgresLogicalDatabaseProps, MaterializedViewsAreRefreshedWithTheDatabasesOwnSearchPath) {
  auto& src = shared_source();
  auto db = new_database("lpmv");
  src.query("ALTER DATABASE lpmv SET search_path = app, public");
  db("CREATE SCHEMA app; CREATE TABLE app.prices (p int); INSERT INTO app.prices SELECT generate_series(1, 10)");
  // The function names its table unqualified, as the database's search_path lets it.
  db("CREATE FUNCTION public.total() RETURNS bigint LANGUAGE sql AS 'SELECT sum(p) FROM prices'");
  db("CREATE MATERIALIZED VIEW public.summary AS SELECT public.total() AS t");
  auto full = back_up("lp-mv", "lpmv");
  ASSERT_TRUE(full.ok()) << full.error().message;

  auto dst = new_server();
  ASSERT_TRUE(dst);
  Control control;
  auto st = restore(*dst, "", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(control.warnings.empty()) << joined(control.warnings);
  EXPECT_EQ((PgServer::Query{*dst, "lpmv"}("SELECT t FROM public.summary")), "55");
  src.query("DROP DATABASE lpmv");
}

// Under the ICU root collation lower and upper case interleave ("a" < "B" < "c"); under the libc
// C.UTF-8 locale of the test clusters upper case sorts first.
const std::string kOrder = "SELECT string_agg(x, '' ORDER BY x) FROM (VALUES ('c'), ('B'), ('a')) v(x)";

TEST_F(PostgresLogicalDatabaseProps, AnIcuDatabaseIsRestoredWithItsIcuLocaleAndCollatesAsBefore) {
  auto& src = shared_source();
  auto db = new_database("lpicu", "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und'");
  db("CREATE TABLE words (w text PRIMARY KEY); INSERT INTO words VALUES ('c'), ('B'), ('a')");
  ASSERT_EQ(db(kOrder), "aBc");

  auto full = back_up("lp-icu", "lpicu");
  ASSERT_TRUE(full.ok()) << full.error().message;
  const auto& entry = full->metadata.at("databases").as_array().at(0).as_object();
  EXPECT_EQ(entry.at("locale_provider"), "icu");
  EXPECT_EQ(entry.at("locale"), "und");

  auto dst = new_server();
  ASSERT_TRUE(dst);
  Control control;
  auto st = restore(*dst, "", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(dst->query("SELECT datlocprovider::text || ' ' || daticulocale FROM pg_database WHERE datname = 'lpicu'"), "i und");
  PgServer::Query restored{*dst, "lpicu"};
  EXPECT_EQ(restored(kOrder), "aBc");
  EXPECT_EQ(restored("SELECT string_agg(w, '' ORDER BY w) FROM words"), "aBc");
  EXPECT_TRUE(control.warnings.empty()) << joined(control.warnings);
  src.query("DROP DATABASE lpicu");
}

// PostgreSQL 14 has no ICU default collations: the database is created with its libc locale, and the
// restore says so.
TEST_F(PostgresLogicalDatabaseProps, AnIcuDatabaseRestoredIntoPostgres14GetsItsLibcLocaleWithAWarning) {
  const std::string bin14 = server_bin_dir(14);
  if (bin14.empty()) GTEST_SKIP() << "PostgreSQL 14 is not installed (tests/pgversions)";
  auto& src = shared_source();
  auto db = new_database("lpicu14", "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und'");
  db("CREATE TABLE words (w text); INSERT INTO words VALUES ('c'), ('B'), ('a')");
  auto full = back_up("lp-icu14", "lpicu14");
  ASSERT_TRUE(full.ok()) << full.error().message;

  auto dst = new_server(bin14);
  ASSERT_TRUE(dst);
  Control control;
  auto st = restore(*dst, "", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  const std::string collate = src.query("SELECT datcollate FROM pg_database WHERE datname = 'lpicu14'");
  EXPECT_EQ(dst->query("SELECT datcollate FROM pg_database WHERE datname = 'lpicu14'"), collate);
  EXPECT_EQ((PgServer::Query{*dst, "lpicu14"}("SELECT count(*) FROM words")), "3");
  const std::string warnings = joined(control.warnings);
  EXPECT_NE(warnings.find("database lpicu14: created with the libc locale provider (LC_COLLATE " + collate +
                          ") instead of the icu locale und, which the destination does not take: PostgreSQL 14 has no ICU"),
            std::string::npos) << warnings;
  src.query("DROP DATABASE lpicu14");
}

// The ICU rules and builtin provider of 16 and 17 sources, tried with create_database itself on
// servers of those versions and on 15, which lacks them (pg_versions_test.cpp takes them through real
// logical backups of 16 and 17).
class CreateDatabaseWithProvider : public PostgresLogicalDatabaseProps {
 protected:
  // Creates database "made" after `entry` on a new server of `major` (skipped when not installed);
  // returns "<datlocprovider> <locale> <rules>" as pg_database has them.
  std::string create_on(int major, const std::string& entry, Control& control) {
    const std::string bin = server_bin_dir(major);
    if (bin.empty()) return "not installed";
    auto server = new_server(bin);
    if (!server) return "no server";
    auto admin = engines::postgres::PgConnection::open(server->endpoint(), engines::postgres::ConnectionKind::sql);
    if (!admin.ok()) return admin.error().message;
    auto st = engines::postgres::create_database(**admin, boost::json::parse(entry).as_object(), "made", control);
    if (!st.ok()) return st.error().message;
    const std::string locale = major >= 17 ? "coalesce(datlocale, '-')" : "coalesce(daticulocale, '-')";
    const std::string rules = major >= 16 ? "coalesce(daticurules, '-')" : "'-'";
    return server->query("SELECT datlocprovider::text || ' ' || " + locale + " || ' ' || " + rules +
                         " FROM pg_database WHERE datname = 'made'");
  }
};

const std::string kUtf8 = R"("encoding": "UTF8", "collate": "C.UTF-8", "ctype": "C.UTF-8")";

TEST_F(CreateDatabaseWithProvider, IcuRulesAreKeptFrom16OnAndLeftOutWithAWarningOn15) {
  const std::string entry = "{" + kUtf8 + R"(, "locale_provider": "icu", "locale": "und", "icu_rules": "&a < g"})";
  Control on16;
  const std::string made16 = create_on(16, entry, on16);
  if (made16 == "not installed") GTEST_SKIP() << "PostgreSQL 16 is not installed (tests/pgversions)";
  EXPECT_EQ(made16, "i und &a < g");
  EXPECT_TRUE(on16.warnings.empty()) << joined(on16.warnings);
  Control on15;
  EXPECT_EQ(create_on(15, entry, on15), "i und -");
  EXPECT_NE(joined(on15.warnings).find("PostgreSQL 15 has no ICU rules"), std::string::npos) << joined(on15.warnings);
}

TEST_F(CreateDatabaseWithProvider, TheBuiltinProviderIsKeptOn17AndBecomesLibcWithAWarningBefore) {
  const std::string entry = "{" + kUtf8 + R"(, "locale_provider": "builtin", "locale": "C.UTF-8"})";
  Control on17;
  const std::string made17 = create_on(17, entry, on17);
  if (made17 == "not installed") GTEST_SKIP() << "PostgreSQL 17 is not installed (tests/pgversions)";
  EXPECT_EQ(made17, "b C.UTF-8 -");
  EXPECT_TRUE(on17.warnings.empty()) << joined(on17.warnings);
  Control on15;
  EXPECT_EQ(create_on(15, entry, on15), "c - -");
  EXPECT_NE(joined(on15.warnings).find("PostgreSQL 15 has no builtin locale provider"), std::string::npos)
      << joined(on15.warnings);
}

TEST_F(CreateDatabaseWithProvider, AnIcuLocaleIsKeptOn17) {
  Control on17;
  const std::string made = create_on(17, "{" + kUtf8 + R"(, "locale_provider": "icu", "locale": "und"})", on17);
  if (made == "not installed") GTEST_SKIP() << "PostgreSQL 17 is not installed (tests/pgversions)";
  EXPECT_EQ(made, "i und -");
  EXPECT_TRUE(on17.warnings.empty()) << joined(on17.warnings);
}

// The task's bytes (opendbs_task_bytes_total): every byte of COPY text loaded, and the large objects.
TEST_F(PostgresLogicalDatabaseProps, ALogicalRestoreReportsTheBytesItLoads) {
  auto& src = shared_source();
  auto db = new_database("lpbytes");
  // 20000 rows of at least 5 + 1 + 100 + 1 bytes of COPY text each, and a large object of 300000 bytes.
  db("CREATE TABLE t (k int, v text); INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(10000, 29999) g");
  db("SELECT lo_from_bytea(0, convert_to(repeat('y', 300000), 'UTF8'))");
  const uint64_t at_least = 20000 * 107 + 300000;
  auto full = back_up("lp-bytes", "lpbytes");
  ASSERT_TRUE(full.ok()) << full.error().message;

  auto dst = new_server();
  ASSERT_TRUE(dst);
  Control control;
  std::mutex mu;
  std::vector<std::pair<int, uint64_t>> reports;
  control.on_progress = [&](int percent, uint64_t bytes) {
    std::lock_guard lock(mu);
    reports.emplace_back(percent, bytes);
  };
  auto st = restore(*dst, "", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().first, 100);
  EXPECT_GE(reports.back().second, at_least);
  EXPECT_LT(reports.back().second, 2 * at_least);
  // Bytes come as they are loaded, not only at the end.
  EXPECT_TRUE(std::any_of(reports.begin(), reports.end(), [](const auto& r) { return r.first < 100 && r.second > 0; }));
  src.query("DROP DATABASE lpbytes");
}

// One big table is most of the set: the progress moves while its rows load, not only when it is done.
TEST_F(PostgresLogicalDatabaseProps, TheProgressMovesWhileABigTableLoads) {
  auto& src = shared_source();
  auto db = new_database("lpbig");
  db("CREATE TABLE big (k int, v text); INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 60000) g");
  auto full = back_up("lp-big", "lpbig");
  ASSERT_TRUE(full.ok()) << full.error().message;

  auto dst = new_server();
  ASSERT_TRUE(dst);
  Control control;
  std::mutex mu;
  std::vector<int> percents;
  control.on_progress = [&](int percent, uint64_t) {
    std::lock_guard lock(mu);
    percents.push_back(percent);
  };
  auto st = restore(*dst, "", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_FALSE(percents.empty());
  EXPECT_EQ(percents.back(), 100);
  EXPECT_TRUE(std::is_sorted(percents.begin(), percents.end()));
  // The one table finishing takes it to 99 % at once; percentages between come from its rows loading.
  EXPECT_GE(std::count_if(percents.begin(), percents.end(), [](int p) { return p > 1 && p < 99; }), 2)
      << "the progress stood still while the table loaded";
  src.query("DROP DATABASE lpbig");
}

}  // namespace
}  // namespace opendbs::testing
