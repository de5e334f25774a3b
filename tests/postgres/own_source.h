// Tests whose source server is their own (they restart, promote or restore it): a new PostgreSQL
// per test, of server_bin_dir_ (Debian's 15 unless a subclass sets it before SetUp), and what the
// timeline tests do to it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine_harness.h"

namespace opendbs::testing {

class OwnSourceTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    std::string error;
    source_ = PgServer::create(&error, "", server_bin_dir_);
    ASSERT_TRUE(source_) << error;
  }
  void TearDown() override {
    source_.reset();
    EngineTest::TearDown();
  }
  engines::PlanSpec source_plan(const std::string& id) const {
    auto p = plan(id);
    p.source = source_->endpoint();
    return p;
  }
  // The timeline of the WAL the server writes now.
  static std::string timeline_of(const PgServer& server) {
    return server.query("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)");
  }
  // Closes the segment being written; returns its name.
  std::string switch_wal() {
    const std::string name = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
    source_->query("SELECT pg_switch_wal()");
    return name;
  }
  // Restarts the source as a standby and promotes it (`pg_ctl promote`): a new timeline from the end
  // of the old one. `streamed`: only once the log backup streams from the standby, so that the
  // stream sees the old timeline end live.
  void promote_source(bool streamed) {
    source_->stop();
    ASSERT_EQ(run_as_server_user("touch " + source_->data_dir() + "/standby.signal"), 0);
    std::string error;
    ASSERT_TRUE(source_->start(&error)) << error;
    ASSERT_EQ(source_->query("SELECT pg_is_in_recovery()"), "t");
    bool streaming = !streamed;
    for (int i = 0; i < 600 && !streaming; ++i) {
      streaming = source_->query("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1";
      if (!streaming) sleep_ms(50);
    }
    ASSERT_TRUE(streaming) << "the log backup did not stream from the standby";
    ASSERT_EQ(run_as_server_user(server_bin_dir_ + "pg_ctl promote -w -t 60 -D " + source_->data_dir() +
                                 " > /dev/null"),
              0);
    ASSERT_EQ(source_->query("SELECT pg_is_in_recovery()"), "f");
  }
  // The bytes of a WAL set's stream.
  std::string stored(const std::string& set_id) {
    std::string out;
    EXPECT_TRUE(repo_->read_stream(set_id, "segment", [&](std::string_view b) {
      out.append(b);
      return core::Status{};
    }).ok()) << set_id;
    return out;
  }

  std::unique_ptr<PgServer> source_;
};

}  // namespace opendbs::testing
