// A CREATE TABLESPACE in stored WAL as the log barrier it is, and the restore's refusal built on the
// same rule (LogBarrier::blocks) that the API's restorable ranges apply.
#include "engines/postgres/tablespace_barriers.h"

#include <gtest/gtest.h>

#include "engines/postgres/restore_wal_plan.h"
#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_stream.h"

namespace opendbs::engines::postgres {
namespace {

const TablespaceCreate kCreate{0x3000100, 16390, "/srv/ts", 1700000002000};

TEST(TablespaceBarriers, ARestoreFromASetBegunBeforeItReachesUpToJustBeforeTheLastCommitPrecedingIt) {
  const auto b = tablespace_barrier(kCreate);
  EXPECT_EQ(b.position, 0x3000100);
  EXPECT_EQ(b.latest_ms, 1700000001999);
  EXPECT_NE(b.what.find("oid 16390, location /srv/ts, WAL 0/3000100"), std::string::npos) << b.what;
  EXPECT_FALSE(b.blocks(0x3000000, 1700000001999));
  EXPECT_TRUE(b.blocks(0x3000000, 1700000002000));
  EXPECT_FALSE(b.blocks(0x3000200, 1700000009000)) << "a set begun after it holds the tablespace itself";
  EXPECT_EQ(tablespace_barrier({0x3000100, 16390, "/srv/ts", -1}).latest_ms, -1) << "no commit before it: none";
}

TEST(TablespaceBarriers, TheRestoreRefusesWhatTheBarrierBlocksNamingTheLatestMoment) {
  const boost::json::object segment{{segment_meta::kTablespaceCreates, tablespace_creates_meta({kCreate})}};
  ASSERT_EQ(tablespace_creates_of(segment).size(), 1u);
  EXPECT_EQ(tablespace_creates_of(segment)[0].path, "/srv/ts");
  const boost::json::object before{{"start_lsn", "0/3000000"}}, after{{"start_lsn", "0/3000200"}};
  EXPECT_TRUE(check_no_tablespace_created(segment, before, 1700000001999).ok());
  EXPECT_TRUE(check_no_tablespace_created(segment, after, 1700000009000).ok());
  const auto refused = check_no_tablespace_created(segment, before, 1700000002000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "InvalidParameter");
  EXPECT_TRUE(is_tablespace_refusal(refused.error()));
  for (const std::string& part : {std::string("/srv/ts"), pg_timestamp_literal(1700000001999), std::string("take a full backup")})
    EXPECT_NE(refused.error().message.find(part), std::string::npos) << part << " not in: " << refused.error().message;
}

}  // namespace
}  // namespace opendbs::engines::postgres
