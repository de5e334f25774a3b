#include "engines/postgres/pg_dump_version.h"

#include <gtest/gtest.h>

namespace opendbs::engines::postgres {
namespace {

TEST(PgDumpVersion, ReadsTheMajorVersionOfDebianAndUpstreamBuilds) {
  EXPECT_EQ(pg_dump_major_of("pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n"), 15);
  EXPECT_EQ(pg_dump_major_of("pg_dump (PostgreSQL) 17.2\n"), 17);
  EXPECT_EQ(pg_dump_major_of("pg_dump (PostgreSQL) 9.6.24\n"), 9);
  EXPECT_EQ(pg_dump_major_of("something else"), 0);
}

}  // namespace
}  // namespace opendbs::engines::postgres
