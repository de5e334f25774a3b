#include "engines/postgres/pg_dump_version.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "repo/test_support.h"

namespace opendbs::engines::postgres {
namespace {

namespace fs = std::filesystem;

TEST(PgDumpVersion, ReadsTheMajorVersionOfDebianAndUpstreamBuilds) {
  EXPECT_EQ(pg_dump_major_of("pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n"), 15);
  EXPECT_EQ(pg_dump_major_of("pg_dump (PostgreSQL) 17.2\n"), 17);
  EXPECT_EQ(pg_dump_major_of("pg_dump (PostgreSQL) 9.6.24\n"), 9);
  EXPECT_EQ(pg_dump_major_of("something else"), 0);
}

// A directory of clients installed side by side (<root>/<major>/bin/pg_dump), and a PATH holding
// only a pg_dump that prints the version it is given: each test decides what the node has.
class PgDumpChoice : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = repo::testing::make_temp_dir("pg-dump");
    const char* path = std::getenv("PATH");
    saved_path_ = path ? path : "";
    ::setenv("PATH", (dir_ + "/path").c_str(), 1);
  }
  void TearDown() override {
    ::setenv("PATH", saved_path_.c_str(), 1);
    fs::remove_all(dir_);
  }
  std::string root() const { return dir_ + "/lib"; }
  std::string installed(int major) const { return root() + "/" + std::to_string(major) + "/bin/pg_dump"; }
  void install(int major) const { script(installed(major), major); }
  void put_on_path(int major) const { script(dir_ + "/path/pg_dump", major); }

 private:
  static void script(const std::string& file, int major) {
    fs::create_directories(fs::path(file).parent_path());
    std::ofstream(file) << "#!/bin/sh\necho 'pg_dump (PostgreSQL) " << major << ".1'\n";
    ::chmod(file.c_str(), 0755);
  }
  std::string dir_, saved_path_;
};

TEST_F(PgDumpChoice, TakesTheOldestInstalledPgDumpAtLeastAsNewAsTheServer) {
  install(15);
  install(17);
  fs::create_directories(root() + "/16/bin");  // a server package without the client
  put_on_path(15);
  auto for_15 = pg_dump_for(150004, root());
  ASSERT_TRUE(for_15.ok()) << for_15.error().message;
  EXPECT_EQ(*for_15, installed(15));
  auto for_16 = pg_dump_for(160002, root());
  ASSERT_TRUE(for_16.ok()) << for_16.error().message;
  EXPECT_EQ(*for_16, installed(17));
  auto for_12 = pg_dump_for(120020, root());
  ASSERT_TRUE(for_12.ok()) << for_12.error().message;
  EXPECT_EQ(*for_12, installed(15));
}

TEST_F(PgDumpChoice, ASourceNewerThanEveryInstalledClientUsesTheOneOnPathIfItCan) {
  install(15);
  put_on_path(19);
  auto newer = pg_dump_for(180001, root());
  ASSERT_TRUE(newer.ok()) << newer.error().message;
  EXPECT_EQ(*newer, "pg_dump");
}

TEST_F(PgDumpChoice, NoPgDumpNewEnoughNamesTheClientToInstall) {
  install(15);
  put_on_path(15);
  auto none = pg_dump_for(170004, root());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "EngineUnavailable");
  EXPECT_NE(none.error().message.find("need pg_dump 17"), std::string::npos) << none.error().message;
  EXPECT_NE(none.error().message.find("postgresql-client-17"), std::string::npos) << none.error().message;
}

TEST_F(PgDumpChoice, WithoutClientsSideBySideThePgDumpOnPathIsUsed) {
  put_on_path(16);
  auto found = pg_dump_for(160000, root());
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(*found, "pg_dump");
  ::setenv("PATH", "/nonexistent", 1);
  auto missing = pg_dump_for(160000, root());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("install the PostgreSQL client"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace opendbs::engines::postgres
