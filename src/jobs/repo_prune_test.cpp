// RepoPrune against a real repository in a temporary directory.
#include "jobs/repo_prune.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "catalog/store.h"
#include "repo/test_support.h"

using namespace opendbs;
using jobs::PruneResult;
using jobs::PruneRun;
using jobs::RepoPrune;
using jobs::RepoPruneOptions;
using repo::testing::random_data;

namespace {

class RepoPruneTest : public repo::testing::TempRepoTest {
 protected:
  void SetUp() override {
    TempRepoTest::SetUp();
    repo_ = init_repo();
    ASSERT_TRUE(repo_);
  }

  // The pack files on disk (data/xx/yyyy…).
  std::set<std::string> packs() const {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(repo_dir() + "/data"))
      if (e.is_regular_file()) out.insert(e.path().string());
    return out;
  }

  std::string file_text(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // A set whose writer stays open (its shared lock held) until the test commits it.
  std::unique_ptr<repo::SetWriter> open_writer(const std::string& id, const std::string& data) {
    auto set = repo_->begin_set(id);
    EXPECT_TRUE(set.ok());
    auto w = (*set)->add_stream("db", repo::FileMeta{data.size(), 0600, 1700000000000});
    EXPECT_TRUE(w.ok() && (*w)->write(data).ok() && (*w)->close().ok());
    return std::move(set).value();
  }

  std::unique_ptr<repo::Repository> repo_;
};

// Records the passes the prune thread makes, and lets a test wait for one.
struct RunLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<PruneRun> runs;

  void add(const PruneRun& run) {
    {
      std::lock_guard lock(mu);
      runs.push_back(run);
    }
    cv.notify_all();
  }
  bool wait_for(PruneResult result, size_t at_least = 1) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(20), [&] {
      return static_cast<size_t>(std::count_if(runs.begin(), runs.end(),
                                               [&](const PruneRun& r) { return r.result == result; })) >= at_least;
    });
  }
  size_t count() {
    std::lock_guard lock(mu);
    return runs.size();
  }
};

TEST_F(RepoPruneTest, PassDeletesThePacksOnlyAForgottenSetReferencedAndTheKeptSetStillRestores) {
  const auto kept = random_data(300000, 1), old = random_data(300000, 2);
  ASSERT_TRUE(write_set(*repo_, "kept", {{"db", kept}}).ok());
  const auto kept_packs = packs();
  ASSERT_TRUE(write_set(*repo_, "old", {{"db", old}}).ok());
  ASSERT_GT(packs().size(), kept_packs.size());
  ASSERT_TRUE(repo_->forget_set("old").ok());

  RepoPrune prune(*repo_, RepoPruneOptions{});
  const PruneRun run = prune.run_once();
  ASSERT_EQ(run.result, PruneResult::done) << run.error;
  EXPECT_EQ(packs(), kept_packs);  // exactly the packs of the forgotten set are gone
  EXPECT_GT(run.report.packs_deleted, 0u);
  EXPECT_GT(run.report.bytes_freed, 0u);
  EXPECT_GT(run.finished_ms, 0);

  const std::string target = dir_ + "/restored";
  ASSERT_TRUE(repo_->restore_set("kept", target, {.sync = false}).ok());
  EXPECT_EQ(file_text(target + "/db"), kept);
  auto check = repo_->check({.read_data = true});
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->clean() && check->warnings.empty());
}

TEST_F(RepoPruneTest, PassWhileASetIsBeingWrittenIsSkippedAndTheNextOneAfterItsCommitFreesTheData) {
  ASSERT_TRUE(write_set(*repo_, "old", {{"db", random_data(200000, 3)}}).ok());
  ASSERT_TRUE(repo_->forget_set("old").ok());
  const auto before = packs();
  const auto writing = random_data(100000, 4);
  auto writer = open_writer("writing", writing);

  RepoPrune prune(*repo_, RepoPruneOptions{});
  const PruneRun skipped = prune.run_once();
  EXPECT_EQ(skipped.result, PruneResult::skipped_locked);
  EXPECT_NE(skipped.error.find("backup set writing"), std::string::npos) << skipped.error;
  EXPECT_TRUE(std::includes(packs().begin(), packs().end(), before.begin(), before.end()));  // nothing deleted

  ASSERT_TRUE(writer->commit({{"engine", "test"}}).ok());
  const PruneRun done = prune.run_once();
  ASSERT_EQ(done.result, PruneResult::done) << done.error;
  EXPECT_GT(done.report.bytes_freed, 0u);
  EXPECT_EQ(read_all(*repo_, "writing", "db"), writing);
}

TEST_F(RepoPruneTest, PassThatCannotReadAManifestFailsAndDeletesNothing) {
  ASSERT_TRUE(write_set(*repo_, "kept", {{"db", random_data(100000, 5)}}).ok());
  ASSERT_TRUE(write_set(*repo_, "old", {{"db", random_data(100000, 6)}}).ok());
  ASSERT_TRUE(repo_->forget_set("old").ok());
  std::ofstream(repo_dir() + "/sets/kept", std::ios::trunc) << "not a manifest";
  const auto before = packs();

  RepoPrune prune(*repo_, RepoPruneOptions{});
  const PruneRun run = prune.run_once();
  EXPECT_EQ(run.result, PruneResult::failed);
  EXPECT_NE(run.error.find("nothing deleted"), std::string::npos) << run.error;
  EXPECT_EQ(packs(), before);
}

TEST_F(RepoPruneTest, PassWhileARestoreTaskRunsIsSkippedBecauseSingleStreamReadsTakeNoLock) {
  ASSERT_TRUE(write_set(*repo_, "old", {{"db", random_data(100000, 11)}}).ok());
  ASSERT_TRUE(repo_->forget_set("old").ok());
  auto store = catalog::open_store("sqlite:" + dir_ + "/catalog.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  catalog::Record task{"t1", "A", "plan1", "running", 1, {{"TaskKind", "restore"}}};
  auto put = [&] { return (*store)->transact([&](catalog::Tx& tx) { return tx.put(catalog::Kind::task, task); }); };
  ASSERT_TRUE(put().ok());
  const auto before = packs();

  RepoPrune prune(*repo_, RepoPruneOptions{});
  prune.skip_while_tasks_read(**store);
  const PruneRun skipped = prune.run_once();
  EXPECT_EQ(skipped.result, PruneResult::skipped_locked);
  EXPECT_EQ(skipped.error, "a restore task is reading the repository");
  EXPECT_EQ(packs(), before);

  task.state = "succeeded";
  ASSERT_TRUE(put().ok());
  const PruneRun done = prune.run_once();
  ASSERT_EQ(done.result, PruneResult::done) << done.error;
  EXPECT_TRUE(packs().empty());
}

TEST_F(RepoPruneTest, ThreadRetriesSoonAfterASkippedPassAndSucceedsOnceTheWriterCommits) {
  ASSERT_TRUE(write_set(*repo_, "old", {{"db", random_data(200000, 7)}}).ok());
  ASSERT_TRUE(repo_->forget_set("old").ok());
  auto writer = open_writer("writing", random_data(50000, 8));

  RunLog log;
  RepoPrune prune(*repo_, RepoPruneOptions{.interval_ms = 3600000, .retry_ms = 50});
  prune.set_observer([&](const PruneRun& r) { log.add(r); });
  prune.start();
  ASSERT_TRUE(log.wait_for(PruneResult::skipped_locked, 2));  // retried after retry_ms, not after the interval
  ASSERT_TRUE(writer->commit({{"engine", "test"}}).ok());
  ASSERT_TRUE(log.wait_for(PruneResult::done));
  prune.stop();
  std::lock_guard lock(log.mu);
  EXPECT_GT(log.runs.back().report.bytes_freed, 0u);
  EXPECT_EQ(std::count_if(log.runs.begin(), log.runs.end(),
                          [](const PruneRun& r) { return r.result == PruneResult::failed; }),
            0);
}

TEST_F(RepoPruneTest, RequestSoonRunsAPassLongBeforeTheInterval) {
  RunLog log;
  RepoPrune prune(*repo_, RepoPruneOptions{.interval_ms = 3600000, .retry_ms = 50});
  prune.set_observer([&](const PruneRun& r) { log.add(r); });
  prune.start();
  ASSERT_TRUE(log.wait_for(PruneResult::done));  // the first pass, soon after start

  ASSERT_TRUE(write_set(*repo_, "old", {{"db", random_data(200000, 9)}}).ok());
  ASSERT_TRUE(repo_->forget_set("old").ok());
  prune.request_soon();
  ASSERT_TRUE(log.wait_for(PruneResult::done, 2));
  prune.stop();
  std::lock_guard lock(log.mu);
  EXPECT_GT(log.runs.back().report.bytes_freed, 0u);
  EXPECT_TRUE(packs().empty());
}

TEST_F(RepoPruneTest, StopReturnsPromptlyBetweenPasses) {
  RunLog log;
  RepoPrune prune(*repo_, RepoPruneOptions{.interval_ms = 3600000, .retry_ms = 3600000});
  prune.set_observer([&](const PruneRun& r) { log.add(r); });
  prune.start();
  const auto started = std::chrono::steady_clock::now();
  prune.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(log.count(), 0u);
}

TEST_F(RepoPruneTest, ZeroIntervalMeansTheNodeNeverPrunes) {
  ASSERT_TRUE(write_set(*repo_, "old", {{"db", random_data(100000, 10)}}).ok());
  ASSERT_TRUE(repo_->forget_set("old").ok());
  const auto before = packs();
  RunLog log;
  RepoPrune prune(*repo_, RepoPruneOptions{.interval_ms = 0, .retry_ms = 10});
  prune.set_observer([&](const PruneRun& r) { log.add(r); });
  prune.start();
  prune.request_soon();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  prune.stop();
  EXPECT_EQ(log.count(), 0u);
  EXPECT_EQ(packs(), before);
}

// A pack lost from the repository (a lifecycle rule, a deleted object): the full set that used it can
// no longer be restored, so the node takes it out of the restore ranges instead of reporting "done".
TEST_F(RepoPruneTest, PassThatFindsALostPackMarksTheDamagedFullSetFailedAndLeavesTheOthers) {
  ASSERT_TRUE(write_set(*repo_, "damaged", {{"db", random_data(200000, 21)}}).ok());
  const auto damaged_packs = packs();
  ASSERT_TRUE(write_set(*repo_, "healthy", {{"db", random_data(200000, 22)}}).ok());
  ASSERT_TRUE(std::filesystem::remove(*damaged_packs.begin()));
  auto store = catalog::open_store("sqlite:" + dir_ + "/catalog.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  for (const std::string id : {"damaged", "healthy"}) {
    catalog::Record set{id, "A", "plan1", "finish", 1, {{"BackupStatus", "finish"}, {"ErrMessage", ""}}};
    ASSERT_TRUE((*store)->transact([&](catalog::Tx& tx) { return tx.put(catalog::Kind::backup_set, set); }).ok());
  }
  auto set_record = [&](const std::string& id) {
    std::optional<catalog::Record> out;
    EXPECT_TRUE((*store)->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(out, tx.get(catalog::Kind::backup_set, id));
      return {};
    }).ok());
    return out.value_or(catalog::Record{});
  };

  RepoPrune prune(*repo_, RepoPruneOptions{});
  prune.skip_while_tasks_read(**store);
  const PruneRun run = prune.run_once();
  ASSERT_EQ(run.result, PruneResult::done) << run.error;
  ASSERT_EQ(run.report.lost_packs.size(), 1u);
  EXPECT_EQ(run.report.damaged_sets, std::vector<std::string>{"damaged"});
  EXPECT_EQ(run.sets_marked_failed, std::vector<std::string>{"damaged"});
  const auto damaged = set_record("damaged");
  EXPECT_EQ(damaged.state, "failed");
  EXPECT_EQ(damaged.doc.at("BackupStatus").as_string(), "failed");
  EXPECT_NE(std::string(damaged.doc.at("ErrMessage").as_string()).find("can no longer be restored"), std::string::npos);
  EXPECT_EQ(set_record("healthy").state, "finish");

  // The next pass still reports the set (its manifest is still there) but has nothing left to mark.
  const PruneRun again = prune.run_once();
  ASSERT_EQ(again.result, PruneResult::done) << again.error;
  EXPECT_EQ(again.report.damaged_sets, std::vector<std::string>{"damaged"});
  EXPECT_TRUE(again.sets_marked_failed.empty());
}

// The node's catalog with a `finish` full-set record for each of `ids`.
std::unique_ptr<catalog::Store> catalog_with_sets(const std::string& dir, const std::vector<std::string>& ids) {
  auto store = catalog::open_store("sqlite:" + dir + "/catalog.db");
  EXPECT_TRUE(store.ok()) << store.error().message;
  for (const auto& id : ids) {
    catalog::Record set{id, "A", "plan1", "finish", 1, {{"BackupStatus", "finish"}, {"ErrMessage", ""}}};
    EXPECT_TRUE((*store)->transact([&](catalog::Tx& tx) { return tx.put(catalog::Kind::backup_set, set); }).ok());
  }
  return std::move(store).value();
}

catalog::Record set_record(catalog::Store& store, const std::string& id) {
  std::optional<catalog::Record> out;
  EXPECT_TRUE(store.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(out, tx.get(catalog::Kind::backup_set, id));
    return {};
  }).ok());
  return out.value_or(catalog::Record{});
}

std::string err_message(const catalog::Record& r) {
  auto it = r.doc.find("ErrMessage");
  return it == r.doc.end() ? "" : std::string(it->value().as_string());
}

// A bit-rotted manifest: prune cannot tell the set's data from garbage and deletes nothing, but the pass
// says so at error level with the remedy, and the set leaves the restore ranges.
TEST_F(RepoPruneTest, PassStoppedByADamagedManifestNamesTheForgetRemedyAndMarksTheSetFailed) {
  ASSERT_TRUE(write_set(*repo_, "rotten", {{"db", random_data(100000, 41)}}).ok());
  ASSERT_TRUE(write_set(*repo_, "healthy", {{"db", random_data(100000, 42)}}).ok());
  ASSERT_TRUE(write_set(*repo_, "old", {{"db", random_data(100000, 43)}}).ok());
  ASSERT_TRUE(repo_->forget_set("old").ok());
  {
    const std::string path = repo_dir() + "/sets/rotten";
    std::string bytes = file_text(path);
    bytes[bytes.size() / 2] ^= 0x40;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  const auto before = packs();
  auto store = catalog_with_sets(dir_, {"rotten", "healthy"});

  RepoPrune prune(*repo_, RepoPruneOptions{});
  prune.skip_while_tasks_read(*store);
  const PruneRun run = prune.run_once();
  EXPECT_EQ(run.result, PruneResult::failed);
  EXPECT_NE(run.error.find("nothing deleted"), std::string::npos) << run.error;
  EXPECT_NE(run.error.find("`opendbs repo forget rotten`"), std::string::npos) << run.error;
  EXPECT_EQ(packs(), before);
  ASSERT_EQ(run.unreadable_sets.size(), 1u);
  EXPECT_EQ(run.unreadable_sets.begin()->first, "rotten");
  EXPECT_EQ(run.sets_marked_failed, std::vector<std::string>{"rotten"});
  const auto rotten = set_record(*store, "rotten");
  EXPECT_EQ(rotten.state, "failed");
  EXPECT_NE(err_message(rotten).find("manifest in the repository is damaged"), std::string::npos) << err_message(rotten);
  EXPECT_NE(err_message(rotten).find("`opendbs repo forget rotten`"), std::string::npos) << err_message(rotten);
  EXPECT_EQ(set_record(*store, "healthy").state, "finish");

  // Once the operator forgot it, the next pass frees the garbage again.
  ASSERT_TRUE(repo_->forget_set("rotten").ok());
  const PruneRun after = prune.run_once();
  ASSERT_EQ(after.result, PruneResult::done) << after.error;
  EXPECT_GT(after.report.packs_deleted, 0u);
}

// A flipped byte in a pack that is still there: the restore that meets it drops the chunk from the
// index and asks for a pass, which marks the full sets using the chunk failed, naming it.
TEST_F(RepoPruneTest, ARestoreThatFindsADamagedChunkBringsAPassThatMarksTheSetsUsingItFailed) {
  const auto data = random_data(200000, 44);
  ASSERT_TRUE(write_set(*repo_, "monday", {{"db", data}}).ok());
  const std::string monday_pack = *packs().begin();
  ASSERT_TRUE(write_set(*repo_, "other", {{"db", random_data(100000, 45)}}).ok());
  auto store = catalog_with_sets(dir_, {"monday", "other"});
  RunLog log;
  RepoPrune prune(*repo_, RepoPruneOptions{.interval_ms = 3600000, .retry_ms = 50});
  prune.skip_while_tasks_read(*store);
  prune.set_observer([&](const PruneRun& r) { log.add(r); });
  prune.start();
  ASSERT_TRUE(log.wait_for(PruneResult::done)) << "the first pass, before any damage";

  // One of monday's packs gets a flipped byte in its first blob: the pack is present, the bytes are wrong.
  std::string bytes = file_text(monday_pack);
  bytes[100] ^= 0x40;
  std::ofstream(monday_pack, std::ios::binary | std::ios::trunc) << bytes;
  auto restored = repo_->restore_set("monday", dir_ + "/restored", {.sync = false});
  ASSERT_FALSE(restored.ok());
  EXPECT_NE(restored.error().message.find("authentication tag mismatch"), std::string::npos)
      << restored.error().message;

  ASSERT_TRUE(log.wait_for(PruneResult::done, 2)) << "the damage brings a pass long before the interval";
  prune.stop();
  PruneRun run;
  {
    std::lock_guard lock(log.mu);
    run = log.runs.back();
  }
  EXPECT_EQ(run.report.damaged_sets, std::vector<std::string>{"monday"});
  ASSERT_EQ(run.sets_marked_failed, std::vector<std::string>{"monday"});
  EXPECT_EQ(run.report.missing.at("monday").first_chunk.size(), 64u);
  EXPECT_EQ(set_record(*store, "other").state, "finish");
  for (const auto& id : run.sets_marked_failed) {
    const auto record = set_record(*store, id);
    EXPECT_EQ(record.state, "failed");
    EXPECT_NE(err_message(record).find("failed its integrity check"), std::string::npos) << err_message(record);
    EXPECT_NE(err_message(record).find("its chunk " + run.report.missing.at(id).first_chunk), std::string::npos)
        << err_message(record);
  }

  // The next backup of the same data stores the chunk again and restores byte for byte.
  ASSERT_TRUE(write_set(*repo_, "tuesday", {{"db", data}}).ok());
  ASSERT_TRUE(repo_->restore_set("tuesday", dir_ + "/tuesday", {.sync = false}).ok());
  EXPECT_EQ(file_text(dir_ + "/tuesday/db"), data);
}

}  // namespace
