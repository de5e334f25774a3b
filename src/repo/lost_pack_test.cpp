// A pack lost from the repository (a deleted object, a lifecycle rule, a damaged directory) is found
// before any set that would reuse it commits, leaves the index loudly, and is named with the sets it
// breaks by prune and check (lost_packs.h; docs/REPOSITORY.md §9).
#include <gtest/gtest.h>

#include <algorithm>

#include "core/file.h"
#include "repo/lost_packs.h"
#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

using testing::random_data;

class LostPackTest : public testing::TempRepoTest {
 protected:
  std::vector<std::string> packs() {
    std::vector<std::string> out;
    auto listed = backend()->list("data/");
    EXPECT_TRUE(listed.ok());
    if (!listed.ok()) return out;
    for (const auto& o : *listed) out.push_back(o.name.substr(o.name.rfind('/') + 1));
    std::sort(out.begin(), out.end());
    return out;
  }
  // Deletes one pack as an object store's lifecycle rule would; returns its id.
  std::string lose_a_pack() {
    const auto all = packs();
    EXPECT_FALSE(all.empty());
    const std::string id = all.front();
    EXPECT_TRUE(backend()->remove("data/" + id.substr(0, 2) + "/" + id).ok());
    return id;
  }
  std::string restored_file(Repository& repo, const std::string& set_id, const std::string& stream) {
    const std::string target = dir_ + "/restore-" + set_id;
    auto st = repo.restore_set(set_id, target, {.sync = false});
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    auto bytes = core::read_file(target + "/" + stream);
    return bytes.ok() ? *bytes : std::string();
  }
};

TEST_F(LostPackTest, ABackupReusingALostPackIsNotCommittedAndTheNextOneStoresItsChunksAgain) {
  const auto data = random_data(400000, 11);
  auto repo = init_repo();
  ASSERT_TRUE(write_set(*repo, "monday", {{"db", data}}).ok());
  const std::string lost = lose_a_pack();

  auto st = write_set(*repo, "tuesday", {{"db", data}});  // would deduplicate every chunk against monday
  ASSERT_FALSE(st.ok()) << "a set that cannot be restored must never commit";
  EXPECT_EQ(st.error().code, "Corrupt");
  EXPECT_NE(st.error().message.find("pack(s) " + lost), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("run the backup again"), std::string::npos) << st.error().message;
  EXPECT_EQ(*repo->list_sets(), std::vector<std::string>{"monday"});

  // The lost pack left the index files, so every process stores those chunks anew.
  auto other = open_repo();
  ASSERT_TRUE(write_set(*other, "tuesday", {{"db", data}}).ok());
  EXPECT_EQ(restored_file(*open_repo(), "tuesday", "db"), data);
  ASSERT_TRUE(write_set(*repo, "wednesday", {{"db", data}}).ok()) << "the first process too";
  EXPECT_EQ(restored_file(*repo, "wednesday", "db"), data);

  // Chunk ids are content addresses: storing the chunks again also heals monday, which uses the same ones.
  auto report = repo->check();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean()) << report->errors.front();
  EXPECT_EQ(restored_file(*repo, "monday", "db"), data);
}

TEST_F(LostPackTest, ABackupReusingManyPacksFindsTheLostOneWithOneListing) {
  const auto data = random_data(9000000, 12);
  auto repo = init_repo();
  ASSERT_TRUE(write_set(*repo, "big", {{"db", data}}).ok());
  ASSERT_GT(packs().size(), kLostPackStatsMax) << "the test needs more packs than are checked one by one";
  const std::string lost = lose_a_pack();
  auto st = write_set(*repo, "again", {{"db", data}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(lost), std::string::npos) << st.error().message;
  ASSERT_TRUE(write_set(*repo, "again", {{"db", data}}).ok());
  EXPECT_EQ(read_all(*repo, "again", "db"), data);
}

TEST_F(LostPackTest, ABackupWhosePacksAllExistCommitsAsBefore) {
  const auto data = random_data(300000, 13);
  auto repo = init_repo();
  ASSERT_TRUE(write_set(*repo, "a", {{"db", data}}).ok());
  ASSERT_TRUE(write_set(*repo, "b", {{"db", data + "tail"}}).ok());
  EXPECT_EQ(read_all(*repo, "b", "db"), data + "tail");
  EXPECT_TRUE(repo->check()->clean());
}

TEST_F(LostPackTest, PruneReportsTheLostPackAndTheSetsThatCanNoLongerBeRestored) {
  auto repo = init_repo();
  const auto broken = random_data(300000, 14), intact = random_data(300000, 15);
  ASSERT_TRUE(write_set(*repo, "broken", {{"db", broken}}).ok());
  ASSERT_TRUE(write_set(*repo, "intact", {{"db", intact}}).ok());
  const auto before = packs();
  const std::string lost = lose_a_pack();  // the lowest id: may belong to either set
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  ASSERT_EQ(pruned->lost_packs.size(), 1u);
  EXPECT_EQ(pruned->lost_packs[0].pack_id, lost);
  EXPECT_GT(pruned->lost_packs[0].chunks, 0u);
  ASSERT_EQ(pruned->damaged_sets.size(), 1u);
  const std::string damaged = pruned->damaged_sets[0];
  const std::string& data = damaged == "broken" ? broken : intact;

  // The next pass still names the damaged set (the pack is out of the index by now), and so does check.
  auto again = repo->prune();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->lost_packs.empty());
  EXPECT_EQ(again->damaged_sets, std::vector<std::string>{damaged});
  auto report = repo->check();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->damaged_sets, std::vector<std::string>{damaged});
  const bool named = std::any_of(report->errors.begin(), report->errors.end(), [&](const std::string& e) {
    return e.find("set " + damaged + " cannot be restored") != std::string::npos;
  });
  EXPECT_TRUE(named);

  // A new backup of the same data stores the lost chunks again and restores byte for byte; the damaged
  // set, whose chunks those are, is whole again.
  ASSERT_TRUE(write_set(*repo, "retaken", {{"db", data}}).ok());
  EXPECT_EQ(restored_file(*open_repo(), "retaken", "db"), data);
  EXPECT_TRUE(repo->check()->clean());
  EXPECT_EQ(restored_file(*repo, damaged, "db"), data);
}

// Dropping the index entries of a pack that does exist would make its chunks unreadable: what a
// listing does not show is confirmed with a stat before it counts as lost.
TEST_F(LostPackTest, AListingThatMissesAPackIsNoProofThatItIsLost) {
  auto repo = init_repo();
  ASSERT_TRUE(write_set(*repo, "a", {{"db", random_data(200000, 16)}}).ok());
  std::set<std::string> ids;
  for (const auto& id : packs()) ids.insert(id);
  RepoState state;
  state.backend = backend();
  state.options.worker_threads = 2;
  auto lost = confirm_lost_packs(state, ids, /*present=*/{});  // a listing that showed nothing
  ASSERT_TRUE(lost.ok());
  EXPECT_TRUE(lost->empty());
  const std::string gone = lose_a_pack();
  lost = confirm_lost_packs(state, ids, {});
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(*lost, std::set<std::string>{gone});
}

}  // namespace
}  // namespace opendbs::repo
