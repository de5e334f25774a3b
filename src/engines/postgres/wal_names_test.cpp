#include "engines/postgres/wal_names.h"

#include <gtest/gtest.h>

namespace opendbs::engines::postgres {
namespace {

constexpr uint64_t k16MiB = 16 * 1024 * 1024;

TEST(WalNames, LsnTextRoundTrips) {
  EXPECT_EQ(parse_lsn("16/B374D848"), (uint64_t{0x16} << 32) | 0xB374D848);
  EXPECT_EQ(format_lsn((uint64_t{0x16} << 32) | 0xB374D848), "16/B374D848");
  EXPECT_EQ(parse_lsn("0/0"), 0u);
  EXPECT_FALSE(parse_lsn("nonsense").has_value());
  EXPECT_FALSE(parse_lsn("1/2x").has_value());
}

TEST(WalNames, SegmentFileNamesFollowPostgres) {
  EXPECT_EQ(wal_file_name(1, 3, k16MiB), "000000010000000000000003");
  // 256 segments of 16 MiB per 4 GiB "log id".
  EXPECT_EQ(wal_file_name(2, 256 + 5, k16MiB), "000000020000000100000005");
  EXPECT_EQ(wal_file_segno("000000020000000100000005", k16MiB), 261u);
  EXPECT_EQ(wal_file_segno("000000010000000000000003", 64 * 1024 * 1024), 3u);
  EXPECT_FALSE(wal_file_segno("00000001000000000000000", k16MiB).has_value());
  EXPECT_FALSE(wal_file_segno("00000001000000000000000G", k16MiB).has_value());
}

TEST(WalNames, SlotNamesAreValidReplicationSlotNames) {
  EXPECT_EQ(slot_name("dbs1abcXYZ-9"), "opendbs_dbs1abcxyz_9");
  EXPECT_EQ(slot_name(std::string(100, 'a')).size(), 63u);
}

TEST(WalNames, TimestampsConvertBetweenThePostgresEpochAndUnix) {
  EXPECT_EQ(pg_micros_to_unix_ms(0), 946684800000LL);
  EXPECT_EQ(pg_micros_to_unix_ms(12345500), 946684812345LL);
  EXPECT_EQ(pg_micros_to_unix_ms_up(12345500), 946684812346LL);
  EXPECT_EQ(pg_micros_to_unix_ms_up(12345000), 946684812345LL);
  EXPECT_EQ(unix_ms_to_pg_micros(946684800123LL), 123000);
  EXPECT_EQ(pg_timestamp_literal(1700000000123LL), "2023-11-14 22:13:20.123+00");
}

}  // namespace
}  // namespace opendbs::engines::postgres
