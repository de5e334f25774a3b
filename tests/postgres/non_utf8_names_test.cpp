// PostgreSQL's messages quote names in the database's own bytes: a SQL_ASCII database named in LATIN1
// ("caf\xE9") gives "permission denied for database caf\xE9", which no encoding setting can convert.
// Such a message must still name the object once the node records it in the catalog (core/utf8.h:
// the stray byte becomes the visible `\xE9`), and the record must stay readable — before, it made the
// plan's record, the account's plan list and the scheduler fail with Corrupt.
#include <gtest/gtest.h>

#include "catalog/store.h"
#include "core/utf8.h"
#include "engine_harness.h"

namespace opendbs::testing {
namespace {

class NonUtf8Names : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    drop();
    auto& src = shared_source();
    src.query("CREATE DATABASE nu_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    src.query("CREATE ROLE nu_reader LOGIN");
    // Only a SQL_ASCII connection passes the LATIN1 byte through unchecked.
    ascii_("CREATE DATABASE " + latin1_db_ + " ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    ascii_("REVOKE CONNECT ON DATABASE " + latin1_db_ + " FROM PUBLIC");
    latin1_("CREATE TABLE \"t\xE9st\" (id int); INSERT INTO \"t\xE9st\" VALUES (1)");
  }
  void TearDown() override {
    drop();
    EngineTest::TearDown();
  }
  void drop() {
    auto& src = shared_source();
    try {
      PgServer::Query{src, "nu_ascii"}("DROP DATABASE IF EXISTS " + latin1_db_);
    } catch (const std::exception&) {  // nu_ascii itself does not exist yet
    }
    src.query("DROP DATABASE IF EXISTS nu_ascii");
    src.query("DROP ROLE IF EXISTS nu_reader");
  }

  // The backup's failure, as the node records it in the plan's document, read back from the catalog.
  std::string recorded_failure(const core::Error& error) {
    auto store = catalog::open_store(dir_ + "/catalog.db");
    EXPECT_TRUE(store.ok());
    catalog::Record plan{"nuplan", "A", "", "running", 1, {}};
    plan.doc = {{"BackupPlanId", "nuplan"}, {"ErrMessage", error.message}};
    EXPECT_TRUE((*store)->transact([&](catalog::Tx& tx) { return tx.put(catalog::Kind::plan, plan); }).ok());
    std::string message;
    EXPECT_TRUE((*store)->read([&](catalog::Tx& tx) -> core::Status {
      catalog::Query q{catalog::Kind::plan};
      q.account_id = "A";
      OPENDBS_ASSIGN(auto plans, tx.list(q));  // DescribeBackupPlanList's read
      if (!plans.empty()) message = std::string(plans.front().doc.at("ErrMessage").as_string());
      return {};
    }).ok());
    return message;
  }

  core::Result<engines::FullBackupResult> back_up_as_reader() {
    auto p = plan("nu-plan");
    p.backup_method = "logical";
    p.source = shared_source().endpoint("nu_reader");
    p.backup_objects = R"([{"DBName":"caf*"}])";
    Control control;
    return full_backup(p, "nu-full-" + std::to_string(++sets_), control);
  }

  const std::string latin1_db_ = "\"caf\xE9\"";
  PgServer::Query ascii_{shared_source(), "nu_ascii"};
  PgServer::Query latin1_{shared_source(), "caf\xE9"};
  int sets_ = 0;
};

TEST_F(NonUtf8Names, ADatabaseTheRoleCannotConnectToIsNamedInTheRecordedFailure) {
  const auto full = back_up_as_reader();
  ASSERT_FALSE(full.ok());
  EXPECT_FALSE(core::is_valid_utf8(full.error().message));  // what PostgreSQL said, raw
  const std::string recorded = recorded_failure(full.error());
  EXPECT_TRUE(core::is_valid_utf8(recorded)) << recorded;
  EXPECT_NE(recorded.find("permission denied for database caf\\xE9"), std::string::npos) << recorded;
}

TEST_F(NonUtf8Names, ATableTheRoleCannotReadIsNamedInTheRecordedFailure) {
  ascii_("GRANT CONNECT ON DATABASE " + latin1_db_ + " TO nu_reader");
  const auto full = back_up_as_reader();
  ASSERT_FALSE(full.ok());
  const std::string recorded = recorded_failure(full.error());
  EXPECT_TRUE(core::is_valid_utf8(recorded)) << recorded;
  EXPECT_NE(recorded.find("t\\xE9st"), std::string::npos) << recorded;
}

}  // namespace
}  // namespace opendbs::testing
