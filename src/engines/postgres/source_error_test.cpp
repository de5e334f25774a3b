#include <gtest/gtest.h>

#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {
namespace {

TEST(SourceError, APrivilegeTheRoleLacksIsForbiddenWhateverReportedIt) {
  // A query (SQLSTATE first), a COPY (the server's message) and pg_dump (its stderr).
  EXPECT_EQ(source_error("query", "42501: ERROR:  must be superuser or replication role").code, "Request.Forbidden");
  EXPECT_EQ(source_error("COPY of public.t", "ERROR:  permission denied for table t").code, "Request.Forbidden");
  EXPECT_EQ(source_error_code("pg_dump: error: query failed: ERROR:  permission denied for table t"), "Request.Forbidden");
}

TEST(SourceError, EverythingElseIsSourceUnreachableAndKeepsTheServersWords) {
  const auto e = source_error("reading a result", "server closed the connection unexpectedly");
  EXPECT_EQ(e.code, "SourceUnreachable");
  EXPECT_EQ(e.message, "PostgreSQL reading a result failed: server closed the connection unexpectedly");
  EXPECT_EQ(source_error("query", "42P01: ERROR:  relation \"x\" does not exist").code, "SourceUnreachable");
}

}  // namespace
}  // namespace opendbs::engines::postgres
