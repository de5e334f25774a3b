#include "cli/plan_settings.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

namespace opendbs::cli {
namespace {

std::map<std::string, std::string> as_map(const api::ParamList& params) {
  return {params.begin(), params.end()};
}

PlanFlags mysql_flags() {
  PlanFlags f;
  f.name = "orders";
  f.host = "db.example";
  f.port = 3306;
  f.user = "backup";
  f.password = "pw";
  return f;
}

TEST(ParseSchedule, SplitsDaysAndUtcTimeAndExpandsDaily) {
  EXPECT_EQ(*parse_schedule("Monday,Thursday@01:00"), std::make_pair(std::string("Monday,Thursday"), std::string("01:00")));
  EXPECT_EQ(parse_schedule("daily@23:30")->first, "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday");
  for (const char* bad : {"Monday", "@01:00", "Monday@"}) EXPECT_FALSE(parse_schedule(bad).ok()) << bad;
}

TEST(ConfigureParams, ServerSourceIsOtherWithAllConnectionFieldsAndManualByDefault) {
  auto p = as_map(*configure_params(mysql_flags(), "MySQL"));
  EXPECT_EQ(p["BackupPlanName"], "orders");
  EXPECT_EQ(p["SourceEndpointInstanceType"], "Other");
  EXPECT_EQ(p["SourceEndpointIP"], "db.example");
  EXPECT_EQ(p["SourceEndpointPort"], "3306");
  EXPECT_EQ(p["SourceEndpointUserName"], "backup");
  EXPECT_EQ(p["SourceEndpointPassword"], "pw");
  EXPECT_EQ(p["BackupStrategyType"], "manual");
  EXPECT_EQ(p.count("EnableBackupLog"), 0u);
  EXPECT_EQ(p.count("BackupRetentionPeriod"), 0u);
}

TEST(ConfigureParams, SqliteIsAFileOnTheNode) {
  PlanFlags f;
  f.name = "local";
  f.database = "/var/lib/app.db";
  auto p = as_map(*configure_params(f, "SQLite"));
  EXPECT_EQ(p["SourceEndpointInstanceType"], "Agent");
  EXPECT_EQ(p["SourceEndpointDatabaseName"], "/var/lib/app.db");
  EXPECT_EQ(p.count("SourceEndpointPassword"), 0u);
}

TEST(ConfigureParams, RetentionKeepsInfrequentAccessBelowArchiveBelowRetention) {
  for (int days : {2, 7, 30, 400, 730}) {
    PlanFlags f = mysql_flags();
    f.retention_days = days;
    auto p = as_map(*configure_params(f, "MySQL"));
    const int ia = std::stoi(p["DuplicationInfrequentAccessPeriod"]), archive = std::stoi(p["DuplicationArchivePeriod"]);
    EXPECT_EQ(std::stoi(p["BackupRetentionPeriod"]), days);
    EXPECT_LT(ia, archive) << days;
    EXPECT_LT(archive, days) << days;
    EXPECT_GE(ia, 0) << days;
  }
  PlanFlags f = mysql_flags();
  f.retention_days = 1;
  EXPECT_EQ(configure_params(f, "MySQL").error().code, "InvalidParameterValid");
}

TEST(ConfigureParams, AUserWithoutAnyPasswordIsAMissingParameter) {
  PlanFlags f = mysql_flags();
  f.password.clear();
  unsetenv("OPENDBS_SOURCE_PASSWORD");
  auto r = configure_params(f, "MySQL");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "MissingParameter");
  setenv("OPENDBS_SOURCE_PASSWORD", "from-env", 1);
  EXPECT_EQ(as_map(*configure_params(f, "MySQL"))["SourceEndpointPassword"], "from-env");
  unsetenv("OPENDBS_SOURCE_PASSWORD");
}

boost::json::object running_plan() {
  return {{"BackupPlanStatus", "running"}, {"DatabaseType", "MySQL"}, {"SourceEndpointHost", "db.example"},
          {"SourceEndpointPort", "3306"}, {"SourceEndpointUserName", "backup"}, {"BackupPeriod", "Friday"}};
}

TEST(ConfigureCalls, OnlyWhatIsGivenChanges) {
  PlanFlags f;
  f.retention_days = 30;
  f.no_log = true;
  auto calls = *configure_calls(f, running_plan());
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].first, "ModifyStorageStrategy");
  EXPECT_EQ(calls[1].first, "DisableBackupLog");
  EXPECT_TRUE(configure_calls(PlanFlags{}, running_plan())->empty());
}

TEST(ConfigureCalls, ANewPortKeepsTheOtherSourceFieldsButNeedsThePasswordAgain) {
  PlanFlags f;
  f.port = 3307;
  unsetenv("OPENDBS_SOURCE_PASSWORD");
  EXPECT_EQ(configure_calls(f, running_plan()).error().code, "MissingParameter");
  f.password = "pw";
  auto calls = *configure_calls(f, running_plan());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].first, "ModifyBackupSourceEndpoint");
  auto p = as_map(calls[0].second);
  EXPECT_EQ(p["SourceEndpointIP"], "db.example");
  EXPECT_EQ(p["SourceEndpointPort"], "3307");
  EXPECT_EQ(p["SourceEndpointUserName"], "backup");
}

TEST(ConfigureCalls, ManualKeepsThePlansPeriodBecauseTheApiRequiresOne) {
  PlanFlags f;
  f.manual = true;
  auto calls = *configure_calls(f, running_plan());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(as_map(calls[0].second)["BackupStrategyType"], "manual");
  EXPECT_EQ(as_map(calls[0].second)["BackupPeriod"], "Friday");
}

TEST(ConfigureCalls, APlanNeverConfiguredGetsOneConfigureBackupPlan) {
  boost::json::object waiting{{"BackupPlanStatus", "wait"}, {"DatabaseType", "MySQL"}, {"BackupPlanName", "dbs1"}};
  PlanFlags f = mysql_flags();
  f.name.clear();
  auto calls = *configure_calls(f, waiting);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].first, "ConfigureBackupPlan");
  EXPECT_EQ(as_map(calls[0].second)["BackupPlanName"], "dbs1");
}

}  // namespace
}  // namespace opendbs::cli
