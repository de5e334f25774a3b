// CreateRestoreTask and StartRestoreTask through the dispatcher, with a real SQLite catalog holding
// a plan's sets and log files: a restore is refused at the call, with nothing created, when the set
// it names cannot reach the moment asked for, when a physical restore has no RestoreDir, and (at
// Start) when another restore is writing into the same RestoreDir.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "api/dispatcher_fixture.h"
#include "core/ids.h"
#include "jobs/log_barriers.h"

namespace opendbs::api {
namespace {

using boost::json::object;
using catalog::Kind;
using testing::Answer;

// Moments of the tests' histories: epoch ms (the API reads values below 10^11 as seconds).
int64_t t(int64_t offset) { return 1700000000000 + offset; }
std::string ts(int64_t offset) { return std::to_string(t(offset)); }

class RestoreTaskCalls : public testing::DispatcherFixture {
 protected:
  // A configured PostgreSQL plan of `method` (its precheck stays queued: no task engine here).
  std::string postgres_plan(const std::string& method) {
    auto created = call("CreateBackupPlan", {{"BackupMethod", method}, {"DatabaseType", "PostgreSQL"},
                                             {"InstanceClass", "small"}});
    EXPECT_EQ(created.status, 200) << boost::json::serialize(created.body);
    plan_ = std::string(created.body.at("BackupPlanId").as_string());
    auto configured = call("ConfigureBackupPlan",
                           {{"BackupPlanId", plan_}, {"BackupPlanName", "p"}, {"SourceEndpointInstanceType", "Other"},
                            {"SourceEndpointIP", "127.0.0.1"}, {"SourceEndpointPort", "5432"},
                            {"SourceEndpointDatabaseName", "postgres"}, {"SourceEndpointUserName", "u"},
                            {"SourceEndpointPassword", "pw"}, {"BackupStrategyType", "manual"}});
    EXPECT_EQ(configured.status, 200) << boost::json::serialize(configured.body);
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto p, tx.get(Kind::plan, plan_));
      account_ = p->account_id;
      return {};
    }).ok());
    return plan_;
  }
  void put(Kind kind, const std::string& id, const std::string& state, object doc) {
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) {
      return tx.put(kind, catalog::Record{id, account_, plan_, state, 1, std::move(doc)});
    }).ok());
  }
  void put_set(const std::string& id, int64_t end_ms, int64_t log_start_seq) {
    put(Kind::backup_set, id, "finish", {{"BackupSetId", id}, {"StartTime", t(end_ms - 100)}, {"EndTime", t(end_ms)},
                                         {"_LogStartSeq", log_start_seq}});
  }
  void put_log(int64_t seq, int64_t end_ms) {
    put(Kind::log_file, plan_ + "-" + std::to_string(seq), "COMPLETED", {{"_Seq", seq}, {"EndTime", t(end_ms)}});
  }

  // A physical set whose WAL begins at `position` (jobs/log_barriers.h) of log file `log_start_seq`.
  void put_set_from(const std::string& id, int64_t end_ms, int64_t log_start_seq, int64_t position) {
    put(Kind::backup_set, id, "finish", {{"BackupSetId", id}, {"StartTime", t(end_ms - 100)}, {"EndTime", t(end_ms)},
                                         {"_LogStartSeq", log_start_seq}, {jobs::kLogStartPosition, position}});
  }
  // A log file holding a CREATE TABLESPACE at `position`; restores from sets begun before it reach
  // `latest_ms` (-1: no moment).
  void put_log_with_create(int64_t seq, int64_t end_ms, int64_t position, int64_t latest_ms) {
    object doc{{"_Seq", seq}, {"EndTime", t(end_ms)}};
    jobs::put_log_barriers(doc, {{position, latest_ms < 0 ? -1 : t(latest_ms), "CREATE TABLESPACE (oid 16390, location /srv/ts)"}});
    put(Kind::log_file, plan_ + "-" + std::to_string(seq), "COMPLETED", std::move(doc));
  }
  // full1 (EndTime 1000), then log file 6 holds a CREATE TABLESPACE that the engine would refuse to
  // replay: the last commit before it was at 2501, so 2500 is the latest moment full1 restores to.
  void history_up_to_a_tablespace_create() {
    postgres_plan("physical");
    put_set_from("full1", 1000, 5, 5000);
    put_log(5, 2000);
    put_log_with_create(6, 4000, 6100, 2500);
  }

  Answer create(ParamList extra) {
    ParamList params = {{"BackupPlanId", plan_}, {"RestoreTaskName", "r"}, {"DestinationEndpointInstanceType", "Agent"}};
    for (auto& p : extra) params.push_back(std::move(p));
    return call("CreateRestoreTask", std::move(params));
  }
  int64_t restore_tasks() {
    return call("DescribeRestoreTaskList", {{"BackupPlanId", plan_}}).body.at("TotalElements").as_int64();
  }
  object restore_task(const std::string& id) {
    auto list = call("DescribeRestoreTaskList", {{"RestoreTaskId", id}});
    return list.body.at("Items").at("RestoreTaskDetail").as_array().at(0).as_object();
  }

  // sets: full0 (EndTime 500, its chain reaches 900), full1 (1000) and full2 (3000), both reaching 8000.
  void physical_history() {
    postgres_plan("physical");
    put_set("full0", 500, 3);
    put_log(3, 900);
    put_set("full1", 1000, 5);
    put_set("full2", 3000, 7);
    for (int seq = 5; seq <= 8; ++seq) put_log(seq, seq * 1000);
  }

  std::string plan_, account_;
};

// Restoring full2 to 2000 could only stop at full2's end (3000): a later moment than asked for.
TEST_F(RestoreTaskCalls, ARestoreTimeBeforeTheNamedSetsEndTimeIsRefusedNamingItsRange) {
  physical_history();
  const auto refused = create({{"BackupSetId", "full2"}, {"RestoreTime", ts(2000)}, {"RestoreDir", "/tmp/r"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.code(), "InvalidParameter");
  for (const std::string& part :
       std::vector<std::string>{"RestoreTime " + ts(2000), "BackupSetId full2", "EndTime " + ts(3000), "to " + ts(8000)})
    EXPECT_NE(refused.message().find(part), std::string::npos) << part << " not in: " << refused.message();
  EXPECT_EQ(restore_tasks(), 0);
  // The same moment without BackupSetId restores from full1, which ends before it.
  const auto chosen = create({{"RestoreTime", ts(2000)}, {"RestoreDir", "/tmp/r"}});
  ASSERT_EQ(chosen.status, 200) << boost::json::serialize(chosen.body);
  EXPECT_EQ(restore_task(std::string(chosen.body.at("RestoreTaskId").as_string())).at("BackupSetId"), "full1");
}

// full0's own chain ends at 900: 2000 lies in full1's range, which full0's log does not reach.
TEST_F(RestoreTaskCalls, ARestoreTimePastTheNamedSetsLogChainIsRefused) {
  physical_history();
  const auto refused = create({{"BackupSetId", "full0"}, {"RestoreTime", ts(2000)}, {"RestoreDir", "/tmp/r"}});
  EXPECT_EQ(refused.code(), "InvalidParameter");
  EXPECT_NE(refused.message().find("EndTime " + ts(500)), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("to " + ts(900)), std::string::npos) << refused.message();
  EXPECT_EQ(restore_tasks(), 0);
}

TEST_F(RestoreTaskCalls, ANamedSetRestoresToAnyMomentFromItsEndTimeToItsChainsEnd) {
  physical_history();
  for (const int64_t at : {3000, 5000, 8000}) {
    const auto ok = create({{"BackupSetId", "full2"}, {"RestoreTime", ts(at)}, {"RestoreDir", "/tmp/r"}});
    ASSERT_EQ(ok.status, 200) << at << ": " << boost::json::serialize(ok.body);
    const auto task = restore_task(std::string(ok.body.at("RestoreTaskId").as_string()));
    EXPECT_EQ(task.at("BackupSetId"), "full2");
    EXPECT_EQ(task.at("RestoreTime").as_int64(), t(at));
  }
  const auto set_alone = create({{"BackupSetId", "full2"}, {"RestoreDir", "/tmp/r"}});
  ASSERT_EQ(set_alone.status, 200);
  EXPECT_EQ(restore_task(std::string(set_alone.body.at("RestoreTaskId").as_string())).at("RestoreTime").as_int64(), t(3000));
}

// A logical set is a point (DescribeRestoreRangeInfo): it restores to its EndTime and no other moment.
TEST_F(RestoreTaskCalls, ALogicalSetRestoresOnlyToItsOwnEndTime) {
  postgres_plan("logical");
  put_set("dump1", 1000, -1);
  put_set("dump2", 2000, -1);
  const ParamList to_server = {{"DestinationEndpointIP", "127.0.0.1"}, {"DestinationEndpointPort", "5432"},
                               {"DestinationEndpointUserName", "u"}, {"DestinationEndpointPassword", "pw"}};
  auto logical = [&](ParamList extra) {
    ParamList params = {{"BackupPlanId", plan_}, {"RestoreTaskName", "r"}, {"DestinationEndpointInstanceType", "Other"}};
    for (const auto& p : to_server) params.push_back(p);
    for (auto& p : extra) params.push_back(std::move(p));
    return call("CreateRestoreTask", std::move(params));
  };
  const auto later = logical({{"BackupSetId", "dump1"}, {"RestoreTime", ts(2000)}});  // dump2's moment
  EXPECT_EQ(later.code(), "InvalidParameter");
  EXPECT_NE(later.message().find("restores only to its EndTime " + ts(1000)), std::string::npos) << later.message();
  EXPECT_EQ(logical({{"BackupSetId", "dump2"}, {"RestoreTime", ts(1000)}}).code(), "InvalidParameter");
  EXPECT_EQ(restore_tasks(), 0);
  EXPECT_EQ(logical({{"BackupSetId", "dump1"}, {"RestoreTime", ts(1000)}}).status, 200);
  EXPECT_EQ(logical({{"RestoreTime", ts(2000)}}).status, 200);
  EXPECT_EQ(logical({{"RestoreTime", ts(1500)}}).code(), "InvalidParameterValid");  // between two points
}

// A logical set loads into a server: a directory on the node is refused before any task exists
// (it used to fail only when started).
TEST_F(RestoreTaskCalls, ALogicalRestoreIntoADirectoryOnTheNodeIsRefusedAtCreate) {
  postgres_plan("logical");
  put_set("dump1", 1000, -1);
  const auto refused = call("CreateRestoreTask", {{"BackupPlanId", plan_}, {"RestoreTaskName", "r"},
                                                  {"BackupSetId", "dump1"}, {"DestinationEndpointInstanceType", "Agent"},
                                                  {"RestoreDir", (dir_ / "x").string()}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.message().find("DestinationEndpointInstanceType"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("a logical backup set loads into a database server"), std::string::npos)
      << refused.message();
  EXPECT_EQ(restore_tasks(), 0);
}

// DestinationEndpointDatabaseName names no directory: a physical restore into the node needs RestoreDir.
TEST_F(RestoreTaskCalls, APhysicalRestoreIntoTheNodeNeedsRestoreDir) {
  physical_history();
  const auto refused = create({{"BackupSetId", "full1"}, {"DestinationEndpointDatabaseName", "postgres"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.code(), "MissingParameter");
  EXPECT_NE(refused.message().find("RestoreDir"), std::string::npos) << refused.message();
  EXPECT_EQ(restore_tasks(), 0);
}

// With a restore root (opendbs serve --restore-root), RestoreDir must lie below it.
TEST_F(RestoreTaskCalls, ARestoreDirOutsideTheNodesRestoreRootIsRefusedNamingIt) {
  physical_history();
  services_->restore_root = (dir_ / "restores").string();
  const std::string outside = (dir_ / "restores" / ".." / "data").string();
  const auto refused = create({{"BackupSetId", "full1"}, {"RestoreDir", outside}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.code(), "InvalidParameter");
  EXPECT_NE(refused.message().find("RestoreDir " + outside + " (" + (dir_ / "data").string() +
                                   ") is not inside this node's restore root " + services_->restore_root),
            std::string::npos) << refused.message();
  EXPECT_EQ(restore_tasks(), 0);
  EXPECT_EQ(create({{"BackupSetId", "full1"}, {"RestoreDir", (dir_ / "restores" / "r1").string()}}).status, 200);
}

// Two restores writing one directory replace and delete each other's files: the second Start is
// refused while the first runs, naming it; the same directory spelt otherwise is the same directory,
// and one inside it overlaps it.
TEST_F(RestoreTaskCalls, ARestoreIntoTheDirectoryOfARunningRestoreIsRefusedAtStart) {
  physical_history();
  const std::string busy = (dir_ / "restored").string();
  auto created = [&](const std::string& restore_dir) {
    const auto a = create({{"BackupSetId", "full1"}, {"RestoreDir", restore_dir}});
    EXPECT_EQ(a.status, 200) << boost::json::serialize(a.body);
    return std::string(a.body.at("RestoreTaskId").as_string());
  };
  const std::string first = created(busy), second = created(busy + "/"), elsewhere = created(busy + "-2");
  ASSERT_EQ(call("StartRestoreTask", {{"RestoreTaskId", first}}).status, 200);

  const auto refused = call("StartRestoreTask", {{"RestoreTaskId", second}});
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.code(), "OperationDenied.PlanStatus");
  EXPECT_NE(refused.message().find("RestoreDir " + busy + " is being written by restore task " + first),
            std::string::npos) << refused.message();
  EXPECT_EQ(restore_task(second).at("RestoreStatus"), "init");  // nothing queued: it may be started later
  const auto inside = call("StartRestoreTask", {{"RestoreTaskId", created(busy + "/base")}});
  EXPECT_EQ(inside.status, 409);  // a delta restore of the first one removes what its set does not have
  EXPECT_NE(inside.message().find("overlaps " + busy + ", which restore task " + first), std::string::npos)
      << inside.message();
  EXPECT_EQ(call("StartRestoreTask", {{"RestoreTaskId", elsewhere}}).status, 200);

  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {  // the first one ends
    OPENDBS_ASSIGN(auto r, tx.get(Kind::restore_task, first));
    r->state = "finish";
    return tx.put(Kind::restore_task, *r);
  }).ok());
  EXPECT_EQ(call("StartRestoreTask", {{"RestoreTaskId", second}}).status, 200);
}

// history_up_to_a_tablespace_create, then full2, taken after the CREATE.
class RestoreAcrossATablespaceCreate : public RestoreTaskCalls {
 protected:
  void SetUp() override {
    RestoreTaskCalls::SetUp();
    history_up_to_a_tablespace_create();
    put_log(7, 6000);
    put_set_from("full2", 5000, 7, 7000);
  }
};

TEST_F(RestoreAcrossATablespaceCreate, TheRangeInfoEndsBeforeItAndALaterSetStartsANewRange) {
  const auto info = call("DescribeRestoreRangeInfo", {{"BackupPlanId", plan_}, {"BeginTimestampForRestore", ts(0)},
                                                      {"EndTimestampForRestore", ts(10000)}});
  ASSERT_EQ(info.status, 200) << boost::json::serialize(info.body);
  const auto& ranges = info.body.at("Items").at("DBSRecoverRange").as_array();
  ASSERT_EQ(ranges.size(), 2u) << boost::json::serialize(info.body);
  EXPECT_EQ(ranges[0].at("BeginTimestampForRestore").as_int64(), t(1000));
  EXPECT_EQ(ranges[0].at("EndTimestampForRestore").as_int64(), t(2500));
  EXPECT_EQ(ranges[1].at("BeginTimestampForRestore").as_int64(), t(5000));
  EXPECT_EQ(ranges[1].at("EndTimestampForRestore").as_int64(), t(6000));
}

TEST_F(RestoreAcrossATablespaceCreate, AMomentPastItIsRefusedNamingTheRangeAndWhyAndNothingIsCreated) {
  const auto refused = create({{"RestoreTime", ts(3000)}, {"RestoreDir", "/tmp/r"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.code(), "InvalidParameterValid");  // as any RestoreTime outside the ranges
  for (const std::string& part : std::vector<std::string>{ts(1000) + " (", "to " + ts(2500),
                                                          "CREATE TABLESPACE (oid 16390, location /srv/ts)",
                                                          "take a full backup"})
    EXPECT_NE(refused.message().find(part), std::string::npos) << part << " not in: " << refused.message();
  // Nearer full2's range, which it names, the moment is still said to lie past the CREATE.
  const auto nearer_full2 = create({{"RestoreTime", ts(4800)}, {"RestoreDir", "/tmp/r"}});
  for (const std::string& part : std::vector<std::string>{"is " + ts(5000) + " (", "after " + ts(2500) + " (",
                                                          "CREATE TABLESPACE (oid 16390, location /srv/ts)"})
    EXPECT_NE(nearer_full2.message().find(part), std::string::npos) << part << " not in: " << nearer_full2.message();
  const auto named = create({{"BackupSetId", "full1"}, {"RestoreTime", ts(3000)}, {"RestoreDir", "/tmp/r"}});
  EXPECT_EQ(named.status, 400);
  EXPECT_EQ(named.code(), "InvalidParameter");
  for (const std::string& part : std::vector<std::string>{"to " + ts(2500), "CREATE TABLESPACE (oid 16390"})
    EXPECT_NE(named.message().find(part), std::string::npos) << part << " not in: " << named.message();
  EXPECT_EQ(restore_tasks(), 0);

  EXPECT_EQ(create({{"RestoreTime", ts(2500)}, {"RestoreDir", "/tmp/r"}}).status, 200);
  const auto later = create({{"RestoreTime", ts(5500)}, {"RestoreDir", "/tmp/r"}});
  ASSERT_EQ(later.status, 200);
  EXPECT_EQ(restore_task(std::string(later.body.at("RestoreTaskId").as_string())).at("BackupSetId"), "full2");
}

// DescribeBackupPlanList's window (ShowRecoverTimeRange) ends where the last range does, before the
// CREATE TABLESPACE, while no full set follows it.
TEST_F(RestoreTaskCalls, ThePlanListsWindowEndsBeforeACreateTablespaceThatNoSetFollows) {
  history_up_to_a_tablespace_create();
  const auto list = call("DescribeBackupPlanList", {{"BackupPlanId", plan_}, {"ShowRecoverTimeRange", "true"}});
  ASSERT_EQ(list.status, 200) << boost::json::serialize(list.body);
  const auto& plan = list.body.at("Items").at("BackupPlanDetail").as_array().at(0);
  EXPECT_EQ(plan.at("BeginTimestampForRestore").as_int64(), t(1000));
  EXPECT_EQ(plan.at("EndTimestampForRestore").as_int64(), t(2500));
}

// After a gap in the log chain (log backup ended inside segment 6, UNCOMPLETED; the source had removed
// the rest, so the stream went on at segment 7) the plan's window ends where the chain from full1 does,
// as DescribeRestoreRangeInfo says, however far the log stored after the gap reaches. Once a full set
// taken after the gap finished, the window runs from full1's EndTime to the end of full2's chain
// (DescribeRestoreRangeInfo lists the two ranges; the window is their span).
TEST_F(RestoreTaskCalls, ThePlanListsWindowEndsAtAGapInTheLogChainUntilALaterFullSetFollowsIt) {
  postgres_plan("physical");
  put_set("full1", 1000, 5);
  put_log(5, 2000);
  put(Kind::log_file, plan_ + "-6", "UNCOMPLETED", {{"_Seq", 6}, {"EndTime", t(3000)}});
  put_log(7, 5000);
  put(Kind::log_file, plan_ + "-8", "FILLING", {{"_Seq", 8}, {"EndTime", t(7000)}});
  auto window = [&] {
    const auto list = call("DescribeBackupPlanList", {{"BackupPlanId", plan_}, {"ShowRecoverTimeRange", "true"}});
    EXPECT_EQ(list.status, 200) << boost::json::serialize(list.body);
    const auto& plan = list.body.at("Items").at("BackupPlanDetail").as_array().at(0);
    return std::make_pair(plan.at("BeginTimestampForRestore").as_int64(), plan.at("EndTimestampForRestore").as_int64());
  };
  EXPECT_EQ(window(), std::make_pair(t(1000), t(3000)));
  const auto info = call("DescribeRestoreRangeInfo", {{"BackupPlanId", plan_}, {"BeginTimestampForRestore", ts(0)},
                                                      {"EndTimestampForRestore", ts(10000)}});
  const auto& ranges = info.body.at("Items").at("DBSRecoverRange").as_array();
  ASSERT_EQ(ranges.size(), 1u) << boost::json::serialize(info.body);
  EXPECT_EQ(ranges[0].at("EndTimestampForRestore").as_int64(), t(3000));

  put_set("full2", 6000, 8);
  EXPECT_EQ(window(), std::make_pair(t(1000), t(7000)));
}

// StartBackupPlan clears the plan's message (a new full backup and log backup start) but for a gap in
// the log chain, which the full set it queues ends only once it has finished (jobs/log_chain.h).
TEST_F(RestoreTaskCalls, StartBackupPlanKeepsAGapInTheLogChainInThePlansMessage) {
  postgres_plan("physical");
  const std::string gap = "the log chain has a gap at 2026-11-29T05:31:28.328Z (...): restores to moments after it "
                          "need a new full backup; StartBackupPlan takes one";
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto p, tx.get(Kind::plan, plan_));
    p->doc["ErrMessage"] = "log backup failed: slot is active; " + gap;
    p->doc["_LogBackupFailure"] = "log backup failed: slot is active";
    p->doc["_LogGapWarning"] = gap;
    return tx.put(Kind::plan, *p);
  }).ok());
  ASSERT_EQ(call("StartBackupPlan", {{"BackupPlanId", plan_}}).status, 200);
  const auto list = call("DescribeBackupPlanList", {{"BackupPlanId", plan_}});
  EXPECT_EQ(list.body.at("Items").at("BackupPlanDetail").as_array().at(0).at("ErrMessage").as_string(), gap);
}

// A CREATE TABLESPACE with no commit between full1's consistent point and it: full1 restores to nothing.
TEST_F(RestoreTaskCalls, ASetEveryRestoreOfWhichWouldReplayACreateTablespaceIsRefusedSayingSo) {
  postgres_plan("physical");
  put_set_from("full1", 1000, 5, 5000);
  put_log_with_create(5, 2000, 5100, -1);
  const auto refused = create({{"BackupSetId", "full1"}, {"RestoreDir", "/tmp/r"}});
  EXPECT_EQ(refused.code(), "InvalidParameter");
  EXPECT_NE(refused.message().find("BackupSetId full1 restores to no moment"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("CREATE TABLESPACE (oid 16390"), std::string::npos) << refused.message();
  EXPECT_EQ(create({{"RestoreTime", ts(1000)}, {"RestoreDir", "/tmp/r"}}).code(), "InvalidParameterValid");
  EXPECT_EQ(restore_tasks(), 0);
}

// PostgreSQL keeps 63 bytes of a name: a longer NewDBName would be created clipped and then not found
// (or, cut inside a character, poison the error text). Refused at the call, before anything runs.
TEST_F(RestoreTaskCalls, ANewNameLongerThan63BytesIsRefusedNamingRestoreObjectsAndTheLimit) {
  physical_history();
  std::string long_db = "e_";
  for (int i = 0; i < 40; ++i) long_db += "\xC3\xBC";  // 82 bytes, 42 characters
  const std::string long_table(64, 't');
  for (const std::string& objects :
       {R"([{"DBName":"shop","NewDBName":")" + long_db + R"("}])",
        R"([{"DBName":"shop","TableIncludes":[{"TableName":"orders","NewTableName":")" + long_table + R"("}]}])"}) {
    const auto refused = create({{"BackupSetId", "full1"}, {"RestoreDir", "/tmp/r"}, {"RestoreObjects", objects}});
    EXPECT_EQ(refused.status, 400) << objects;
    EXPECT_EQ(refused.code(), "InvalidParameter");
    EXPECT_NE(refused.message().find("RestoreObjects"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("63 bytes"), std::string::npos) << refused.message();
  }
  EXPECT_EQ(restore_tasks(), 0);
  const std::string at_limit(63, 'd');
  EXPECT_EQ(create({{"BackupSetId", "full1"}, {"RestoreDir", "/tmp/r"},
                    {"RestoreObjects", R"([{"DBName":"shop","NewDBName":")" + at_limit + R"("}])"}}).status, 200);
}

// A NUL byte ends a name or a path for PostgreSQL and the file system: what ran would not be what was asked.
TEST_F(RestoreTaskCalls, ANulByteInANameOrInRestoreDirIsRefused) {
  physical_history();
  for (const std::string& objects : std::vector<std::string>{R"([{"DBName":"shop","NewDBName":"a\u0000b"}])", R"([{"DBName":"sh\u0000op"}])",
                                    R"([{"DBName":"shop","TableIncludes":[{"TableName":"o\u0000","NewTableName":"x"}]}])"}) {
    const auto refused = create({{"BackupSetId", "full1"}, {"RestoreDir", "/tmp/r"}, {"RestoreObjects", objects}});
    EXPECT_EQ(refused.status, 400) << objects;
    EXPECT_NE(refused.message().find("RestoreObjects"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("NUL"), std::string::npos) << refused.message();
  }
  const auto refused = create({{"BackupSetId", "full1"}, {"RestoreDir", std::string("/tmp/x\0y", 8)}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.code(), "InvalidParameter");
  EXPECT_NE(refused.message().find("RestoreDir"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("NUL"), std::string::npos) << refused.message();
  EXPECT_EQ(restore_tasks(), 0);
}

// What RestoreObjects asks must be doable as a whole, or it is refused at the call: a database named
// twice (one entry would be silently dropped), two tables of one database renamed onto one name (they
// would collide after all their rows were loaded), a schema in NewTableName (the table keeps its own).
TEST_F(RestoreTaskCalls, RestoreObjectsThatCannotAllBeCarriedOutAreRefusedSayingWhatIsWrong) {
  physical_history();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([{"DBName":"shop","NewDBName":"a"},{"DBName":"shop","NewDBName":"b"}])", "names database shop twice"},
      {R"([{"DBName":"shop","TableIncludes":[{"TableName":"tab_a","NewTableName":"zz"},{"TableName":"tab_b","NewTableName":"zz"}]}])",
       "tables tab_a and tab_b of database shop are both renamed to zz"},
      {R"([{"DBName":"shop","TableIncludes":[{"TableName":"sales.a","NewTableName":"zz"},{"TableName":"b","NewTableName":"zz"}]}])",
       "both renamed to zz"},
      {R"([{"DBName":"shop","TableIncludes":[{"TableName":"sales.orders","NewTableName":"public.orders2"}]}])",
       "keeps its schema"},
  };
  for (const auto& [objects, why] : cases) {
    const auto refused = create({{"BackupSetId", "full1"}, {"RestoreDir", "/tmp/r"}, {"RestoreObjects", objects}});
    EXPECT_EQ(refused.status, 400) << objects;
    EXPECT_EQ(refused.code(), "InvalidParameter") << objects;
    EXPECT_NE(refused.message().find("RestoreObjects"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find(why), std::string::npos) << refused.message();
  }
  EXPECT_EQ(restore_tasks(), 0);
  // Tables written in different schemas may share a new name; two databases may rename tables alike.
  for (const std::string& objects :
       {std::string(R"([{"DBName":"shop","TableIncludes":[{"TableName":"sales.a","NewTableName":"zz"},{"TableName":"public.a","NewTableName":"zz"}]}])"),
        std::string(R"([{"DBName":"shop","TableIncludes":[{"TableName":"a","NewTableName":"zz"}]},{"DBName":"crm","TableIncludes":[{"TableName":"a","NewTableName":"zz"}]}])")})
    EXPECT_EQ(create({{"BackupSetId", "full1"}, {"RestoreDir", "/tmp/r"}, {"RestoreObjects", objects}}).status, 200) << objects;
}

}  // namespace
}  // namespace opendbs::api
