// A lock whose holder died on this host is stale at once; every other lock keeps its lease (§8).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "repo/lock.h"
#include "repo/lock_holder.h"
#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

class LockTest : public testing::TempRepoTest {
 protected:
  LockTest() : clock_(1700000000000) {}
  void SetUp() override {
    TempRepoTest::SetUp();
    auto o = testing::small_options();
    o.clock = &clock_;
    o.lock_lease_ms = 60000;
    repo_ = init_repo(o);
    ASSERT_TRUE(repo_);
  }
  void TearDown() override {
    for (pid_t child : children_) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
    }
    repo_.reset();
    TempRepoTest::TearDown();
  }
  // Writes an exclusive lock (a prune) held by `holder` whose lease runs for another `lease_ms`.
  void write_prune_lock(const LockHolder& holder, bool with_identity = true, int64_t lease_ms = 60000) {
    boost::json::object o{{"version", 1},          {"lock_id", std::string(32, 'a')},
                          {"kind", "exclusive"},   {"host", holder.host},
                          {"pid", holder.pid},     {"purpose", "prune"},
                          {"created_ms", clock_.now_ms()}, {"expires_ms", clock_.now_ms() + lease_ms}};
    if (with_identity) {
      o["boot_id"] = holder.boot_id;
      o["pid_ns"] = holder.pid_ns;
      o["start_ticks"] = holder.start_ticks;
    }
    ASSERT_TRUE(repo_->backend().put("locks/" + std::string(32, 'a'), boost::json::serialize(o)).ok());
  }
  bool lock_object_exists() { return repo_->backend().stat("locks/" + std::string(32, 'a'))->has_value(); }
  // A child process that waits for a signal, and its identity as its lock would record it.
  LockHolder live_child() {
    const pid_t child = ::fork();
    if (child == 0) {
      ::pause();
      ::_exit(0);
    }
    children_.push_back(child);
    LockHolder h = this_lock_holder();
    h.pid = child;
    h.start_ticks = process_start_ticks(child).value_or(0);
    EXPECT_GT(h.start_ticks, 0);
    return h;
  }
  // The identity of a process of this host that has exited and been reaped.
  LockHolder dead_process() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    LockHolder h = this_lock_holder();
    h.pid = child;
    return h;
  }
  bool backup_can_start() {
    auto set = repo_->begin_set("s" + std::to_string(++sets_));
    if (set.ok()) (*set)->abort();
    return set.ok();
  }

  core::ManualClock clock_;
  std::unique_ptr<Repository> repo_;
  std::vector<pid_t> children_;
  int sets_ = 0;
};

TEST_F(LockTest, ThisProcessRecordsWhoItIsSoThatItsDeathCanBeSeen) {
  const LockHolder me = this_lock_holder();
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_FALSE(me.boot_id.empty());
  EXPECT_FALSE(me.pid_ns.empty());
  EXPECT_GT(me.start_ticks, 0);
  EXPECT_FALSE(lock_holder_is_gone(me));
}

TEST_F(LockTest, ALockOfAProcessOfThisHostThatNoLongerExistsIsRemovedByTheNextLocker) {
  write_prune_lock(dead_process());
  EXPECT_TRUE(backup_can_start()) << "a killed prune must not hold off backups for its whole lease";
  EXPECT_FALSE(lock_object_exists());
}

TEST_F(LockTest, ALockOfALiveProcessOfThisHostIsRespectedUntilItDies) {
  const LockHolder holder = live_child();
  write_prune_lock(holder);
  auto set = repo_->begin_set("blocked");
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(locked_by_another(set.error())) << set.error().message;
  EXPECT_NE(set.error().message.find("pid " + std::to_string(holder.pid)), std::string::npos);
  ::kill(static_cast<pid_t>(holder.pid), SIGKILL);
  ::waitpid(static_cast<pid_t>(holder.pid), nullptr, 0);
  children_.clear();
  EXPECT_TRUE(backup_can_start());
}

TEST_F(LockTest, AKilledHolderNotYetReapedByItsParentHoldsNothing) {
  const LockHolder holder = live_child();
  write_prune_lock(holder);
  ::kill(static_cast<pid_t>(holder.pid), SIGKILL);
  for (int i = 0; i < 200 && process_start_ticks(holder.pid); ++i) ::usleep(5000);  // a zombie now
  EXPECT_TRUE(backup_can_start());
}

TEST_F(LockTest, APidNowUsedByAnotherProcessDoesNotKeepTheDeadHoldersLock) {
  LockHolder holder = this_lock_holder();  // this pid is alive, but the holder started at another time
  holder.start_ticks += 12345;
  write_prune_lock(holder);
  EXPECT_TRUE(backup_can_start());
}

TEST_F(LockTest, ALockOfAnotherHostKeepsItsLease) {
  LockHolder holder = dead_process();  // whatever that pid means here, it is another machine's
  holder.host = "another-host";
  write_prune_lock(holder);
  EXPECT_FALSE(backup_can_start());
  holder = dead_process();
  holder.boot_id = "00000000-0000-0000-0000-000000000000";  // same name, another machine (or boot)
  write_prune_lock(holder);
  EXPECT_FALSE(backup_can_start());
  holder = dead_process();
  holder.pid_ns = "pid:[1]";  // a container of the same name: its pids are not ours
  write_prune_lock(holder);
  EXPECT_FALSE(backup_can_start());
  clock_.advance_ms(61000);
  EXPECT_TRUE(backup_can_start()) << "the lease still ends it";
}

TEST_F(LockTest, ALockWithoutTheHoldersIdentityKeepsItsLease) {
  write_prune_lock(dead_process(), /*with_identity=*/false);  // written by an older opendbs
  EXPECT_FALSE(backup_can_start());
  clock_.advance_ms(61000);
  EXPECT_TRUE(backup_can_start());
}

TEST_F(LockTest, PruneRemovesLocksOfDeadProcessesBeforeTheirLeaseEnds) {
  write_prune_lock(dead_process());
  auto pruned = repo_->prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_FALSE(lock_object_exists());
}

}  // namespace
}  // namespace opendbs::repo
