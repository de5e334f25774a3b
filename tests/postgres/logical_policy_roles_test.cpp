// Row security policies name roles (`CREATE POLICY ... TO app_reader`), which a logical set does not
// carry: a restore into a server without them is refused before anything is written, naming the
// database, the policies and the roles, and goes through once the roles exist; a policy is never
// opened to PUBLIC instead. A set from before the record fails at the policy, naming the database,
// coded as the destination's refusal rather than SourceUnreachable (docs/POSTGRES.md, "Logical backups").
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalPolicyRoles : public EngineTest {
 protected:
  // Database "lprsec": app.sec with row security; p_read is TO lpr_reader, p_write TO "Lpr Writer" and
  // lpr_reader, p_all TO PUBLIC. Backed up logically as set "lpr-full".
  void SetUp() override {
    EngineTest::SetUp();
    shared_source().query("DO $$BEGIN CREATE ROLE lpr_reader; EXCEPTION WHEN duplicate_object THEN NULL; END$$");
    shared_source().query("DO $$BEGIN CREATE ROLE \"Lpr Writer\"; EXCEPTION WHEN duplicate_object THEN NULL; END$$");
    auto db = new_database("lprsec");
    db("CREATE SCHEMA app; CREATE TABLE app.sec (id int PRIMARY KEY, owner text)");
    db("INSERT INTO app.sec SELECT g, 'u' || g FROM generate_series(1, 50) g");
    db("ALTER TABLE app.sec ENABLE ROW LEVEL SECURITY");
    db("CREATE POLICY p_read ON app.sec FOR SELECT TO lpr_reader USING (true)");
    db("CREATE POLICY p_write ON app.sec FOR INSERT TO \"Lpr Writer\", lpr_reader WITH CHECK (true)");
    db("CREATE POLICY p_all ON app.sec FOR UPDATE USING (owner = current_user)");
    plan_ = logical(plan("logical-lpr"), R"([{"DBName":"lprsec"}])");
    consistent_ms_ = backed_up(plan_, "lpr-full");
    dst_ = new_server();
    ASSERT_TRUE(dst_);
  }

  core::Status restore(const std::string& set_id, int64_t target_ms) {
    Control control;
    return restore_into(*dst_, plan_, set_id, target_ms, control, R"([{"DBName":"lprsec","NewDBName":"lpr_r"}])");
  }
  std::string databases() const {
    return dst_->query("SELECT count(*) FROM pg_database WHERE datname = 'lpr_r'");
  }

  engines::PlanSpec plan_;
  int64_t consistent_ms_ = 0;
  std::unique_ptr<PgServer> dst_;
};

TEST_F(PostgresLogicalPolicyRoles, ARestoreIntoAServerWithoutThePoliciesRolesIsRefusedBeforeAnythingIsWritten) {
  auto st = restore("lpr-full", consistent_ms_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidParameter");
  const std::string& m = st.error().message;
  for (const char* part : {"database lprsec (restored as lpr_r)", "policy p_read on table app.sec (role lpr_reader)",
                           "policy p_write on table app.sec (role \"Lpr Writer\", lpr_reader)",
                           "(CREATE ROLE \"Lpr Writer\"; CREATE ROLE \"lpr_reader\";)", "never opened"})
    EXPECT_NE(m.find(part), std::string::npos) << part << " not in: " << m;
  EXPECT_EQ(m.find("p_all"), std::string::npos) << m;
  EXPECT_EQ(databases(), "0");

  dst_->query("CREATE ROLE lpr_reader");
  dst_->query("CREATE ROLE \"Lpr Writer\"");
  st = restore("lpr-full", consistent_ms_);
  ASSERT_TRUE(st.ok()) << st.error().message;
  PgServer::Query restored{*dst_, "lpr_r"};
  EXPECT_EQ(restored("SELECT string_agg(policyname || ':' || (SELECT string_agg(r, '+' ORDER BY r COLLATE \"C\")"
                     " FROM unnest(roles) r), ',' ORDER BY policyname) FROM pg_policies"),
            "p_all:public,p_read:lpr_reader,p_write:Lpr Writer+lpr_reader");
  EXPECT_EQ(restored("SELECT count(*) FROM app.sec"), "50");
}

TEST_F(PostgresLogicalPolicyRoles, ASetFromBeforeTheRecordFailsNamingTheDatabaseAsTheDestinationsRefusal) {
  auto set = repo_->begin_set("lpr-old");
  ASSERT_TRUE(set.ok()) << set.error().message;
  Control control;
  auto full = engine_.full_backup(plan_, **set, control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  for (auto& db : full->metadata.at("databases").as_array()) {
    ASSERT_TRUE(db.as_object().contains("roles_named"));
    db.as_object().erase("roles_named");
  }
  ASSERT_TRUE((*set)->commit(full->metadata).ok());

  auto st = restore("lpr-old", full->consistent_ms);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidParameter");
  EXPECT_EQ(st.error().message.rfind("database lprsec (restored as lpr_r): the destination server refused", 0), 0u)
      << st.error().message;
  EXPECT_NE(st.error().message.find("role \"lpr_reader\" does not exist"), std::string::npos) << st.error().message;
  EXPECT_EQ(databases(), "0");
}

}  // namespace
}  // namespace opendbs::testing
