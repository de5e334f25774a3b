#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>
#include <thread>

#include "catalog/sqlite/damage_for_tests.h"
#include "catalog/store.h"
#include "core/utf8.h"
#include "core/errors.h"
#include "core/ids.h"

using namespace opendbs;
using catalog::Kind;
using catalog::Record;
using catalog::testing::damage_document;

namespace {

struct TempCatalog {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("opendbs-cat-" + core::random_alnum(8));
  TempCatalog() { std::filesystem::create_directories(dir); }
  ~TempCatalog() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "catalog.db").string(); }
};

Record plan(const std::string& id, const std::string& account, int64_t t, const std::string& state) {
  Record r{id, account, "", state, t, {}};
  r.doc["BackupPlanId"] = id;
  r.doc["BackupPlanName"] = "name-" + id;
  return r;
}

}  // namespace

TEST(SqliteStore, PutGetListCountWithFiltersAndPaging) {
  TempCatalog tmp;
  auto store = catalog::open_store(tmp.path());
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->transact([](catalog::Tx& tx) -> core::Status {
    for (int i = 0; i < 10; ++i)
      OPENDBS_TRY(tx.put(Kind::plan, plan("p" + std::to_string(i), i < 7 ? "A" : "B", i, i % 2 ? "running" : "pause")));
    return {};
  }).ok());
  ASSERT_TRUE((*store)->transact([](catalog::Tx& tx) -> core::Status {
    auto got = tx.get(Kind::plan, "p3");
    EXPECT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ((*got)->doc.at("BackupPlanName").as_string(), "name-p3");
    EXPECT_FALSE(tx.get(Kind::plan, "nope")->has_value());
    EXPECT_FALSE(tx.get(Kind::task, "p3")->has_value());  // kinds are separate namespaces

    catalog::Query q{Kind::plan};
    q.account_id = "A";
    EXPECT_EQ(*tx.count(q), 7);
    q.states = {"running"};
    EXPECT_EQ(*tx.count(q), 3);  // p1 p3 p5
    q.states.clear();
    q.limit = 3;
    q.offset = 3;
    auto page = tx.list(q);
    EXPECT_EQ(page->size(), 3u);
    EXPECT_EQ(page->front().id, "p3");  // newest first: p6 p5 p4 | p3 p2 p1
    q = catalog::Query{Kind::plan};
    q.doc_equals = {{"BackupPlanName", "name-p8"}};
    EXPECT_EQ(tx.list(q)->at(0).id, "p8");
    q = catalog::Query{Kind::plan};
    q.ids = {"p1", "p9", "zz"};
    EXPECT_EQ(*tx.count(q), 2);
    q = catalog::Query{Kind::plan};
    q.sort_from_ms = 2;
    q.sort_to_ms = 4;
    EXPECT_EQ(*tx.count(q), 3);
    return {};
  }).ok());
}

TEST(SqliteStore, FailedTransactionKeepsNothing) {
  TempCatalog tmp;
  auto store = std::move(catalog::open_store(tmp.path()).value());
  auto st = store->transact([](catalog::Tx& tx) -> core::Status {
    OPENDBS_TRY(tx.put(Kind::plan, plan("p1", "A", 1, "wait")));
    return core::errors::internal("boom");
  });
  EXPECT_FALSE(st.ok());
  ASSERT_TRUE(store->transact([](catalog::Tx& tx) -> core::Status {
    EXPECT_FALSE(tx.get(Kind::plan, "p1")->has_value());
    return {};
  }).ok());
}

TEST(SqliteStore, SecondProcessSeesCommittedWritesAndReopenKeepsData) {
  TempCatalog tmp;
  auto a = std::move(catalog::open_store(tmp.path()).value());
  auto b = std::move(catalog::open_store(tmp.path()).value());  // like `opendbs admin` beside a node
  ASSERT_TRUE(b->transact([](catalog::Tx& tx) { return tx.put(Kind::user, Record{"u1", "A", "", "active", 1, {}}); }).ok());
  ASSERT_TRUE(a->transact([](catalog::Tx& tx) -> core::Status {
    EXPECT_TRUE(tx.get(Kind::user, "u1")->has_value());
    return {};
  }).ok());
  a.reset();
  b.reset();
  auto c = std::move(catalog::open_store(tmp.path()).value());
  ASSERT_TRUE(c->transact([](catalog::Tx& tx) -> core::Status {
    EXPECT_TRUE(tx.get(Kind::user, "u1")->has_value());
    return {};
  }).ok());
}

TEST(SqliteStore, ClaimTakesQueuedThenExpiredLeasesAndNeverTwice) {
  TempCatalog tmp;
  auto store = std::move(catalog::open_store(tmp.path()).value());
  ASSERT_TRUE(store->transact([](catalog::Tx& tx) -> core::Status {
    for (int i = 0; i < 50; ++i) OPENDBS_TRY(tx.put(Kind::task, Record{"t" + std::to_string(i), "A", "p", "queued", i, {}}));
    return {};
  }).ok());
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      for (;;) {
        auto t = store->claim_next_task("w" + std::to_string(w), 1000, 30000);
        ASSERT_TRUE(t.ok());
        if (!t->has_value()) return;
        std::lock_guard lock(mu);
        claimed.insert((*t)->id);
      }
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(claimed.size(), 50u);
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), 50u);
  // Leases run to 31000: nothing to claim before, everything after (a dead owner's tasks come back).
  EXPECT_FALSE(store->claim_next_task("x", 30999, 30000)->has_value());
  auto again = store->claim_next_task("x", 31001, 30000);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->id, "t0");
  EXPECT_EQ((*again)->doc.at("Attempts").as_int64(), 2);
  EXPECT_EQ((*again)->doc.at("_LeaseOwner").as_string(), "x");
}

TEST(SqliteStore, PlanListingsSeeNewWritesFromThisAndOtherConnections) {
  TempCatalog tmp;
  auto a = std::move(catalog::open_store(tmp.path()).value());
  auto b = std::move(catalog::open_store(tmp.path()).value());
  auto count_in = [](catalog::Store& s) {
    int64_t n = -1;
    EXPECT_TRUE(s.read([&](catalog::Tx& tx) -> core::Status {
      catalog::Query q{Kind::plan};
      q.account_id = "A";
      OPENDBS_ASSIGN(n, tx.count(q));
      auto page = tx.list(q);
      EXPECT_EQ(static_cast<int64_t>(page->size()), n);
      return {};
    }).ok());
    return n;
  };
  const uint64_t before = a->change_counter(Kind::plan);
  EXPECT_EQ(count_in(*a), 0);
  ASSERT_TRUE(a->transact([](catalog::Tx& tx) { return tx.put(Kind::plan, plan("p1", "A", 1, "wait")); }).ok());
  EXPECT_EQ(count_in(*a), 1);  // this connection's write
  EXPECT_NE(a->change_counter(Kind::plan), before);
  const uint64_t after_own = a->change_counter(Kind::plan);
  ASSERT_TRUE(a->transact([](catalog::Tx& tx) { return tx.put(Kind::node, Record{"n", "", "", "online", 1, {}}); }).ok());
  EXPECT_EQ(a->change_counter(Kind::plan), after_own);  // other kinds leave plan listings valid
  ASSERT_TRUE(b->transact([](catalog::Tx& tx) { return tx.put(Kind::plan, plan("p2", "A", 2, "wait")); }).ok());
  EXPECT_EQ(count_in(*a), 2);  // another connection's commit
  EXPECT_NE(a->change_counter(Kind::plan), after_own);
  // Inside a writing transaction the listing includes its own uncommitted row.
  ASSERT_TRUE(a->transact([](catalog::Tx& tx) -> core::Status {
    OPENDBS_TRY(tx.put(Kind::plan, plan("p3", "A", 3, "wait")));
    catalog::Query q{Kind::plan};
    EXPECT_EQ(*tx.count(q), 3);
    return {};
  }).ok());
}

// A server message quoting a LATIN1 name, and a name cut inside a character, go into a document.
TEST(SqliteStore, StringsThatAreNotUtf8AreStoredEscapedAndTheRecordStaysReadable) {
  TempCatalog tmp;
  auto store = catalog::open_store(tmp.path());
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->transact([](catalog::Tx& tx) -> core::Status {
    Record r = plan("p1", "A", 1, "running");
    r.doc["ErrMessage"] = "permission denied for database caf\xE9";
    r.doc["_Objects"] = boost::json::array{boost::json::object{{"DBName\xFF", "e_\xC3\xBC\xC3"}}};
    return tx.put(Kind::plan, r);
  }).ok());
  ASSERT_TRUE((*store)->read([](catalog::Tx& tx) -> core::Status {
    auto got = tx.get(Kind::plan, "p1");
    EXPECT_TRUE(got.ok()) << got.error().message;
    if (!got.ok() || !got->has_value()) return {};
    EXPECT_EQ((*got)->doc.at("ErrMessage").as_string(), "permission denied for database caf\\xE9");
    EXPECT_EQ((*got)->doc.at("_Objects").as_array()[0].as_object().at("DBName\\xFF").as_string(), "e_\xC3\xBC\\xC3");
    auto all = tx.list(catalog::Query{Kind::plan});
    EXPECT_TRUE(all.ok() && all->size() == 1u);
    return {};
  }).ok());
}

// Earlier versions stored such strings raw: a node upgraded over that catalog reads them (escaped).
TEST(SqliteStore, RecordPoisonedByAnEarlierVersionIsReadAndRepairedOnTheNextWrite) {
  TempCatalog tmp;
  {
    auto store = catalog::open_store(tmp.path());
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->transact([](catalog::Tx& tx) { return tx.put(Kind::restore_task, plan("r1", "A", 1, "failed")); }).ok());
  }
  {  // what an earlier version wrote: the raw bytes of the server's message inside the JSON text
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(tmp.path().c_str(), &db), SQLITE_OK);
    const std::string doc = "{\"BackupPlanId\":\"r1\",\"ErrMessage\":\"FATAL:  database \\\"e_\xC3\xBC\xC3\\\" does not exist\"}";
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE records SET doc=? WHERE id='r1'", -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_text(st, 1, doc.data(), static_cast<int>(doc.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  auto store = catalog::open_store(tmp.path());
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->transact([](catalog::Tx& tx) -> core::Status {
    catalog::Query q{Kind::restore_task};
    q.account_id = "A";
    auto all = tx.list(q);
    EXPECT_TRUE(all.ok()) << all.error().message;
    if (!all.ok() || all->size() != 1u) return {};
    Record r = all->front();
    EXPECT_EQ(r.doc.at("ErrMessage").as_string(), "FATAL:  database \"e_\xC3\xBC\\xC3\" does not exist");
    r.state = "failed";
    return tx.put(Kind::restore_task, r);  // the next write stores valid UTF-8
  }).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(tmp.path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT doc FROM records WHERE id='r1'", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  const std::string stored(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), sqlite3_column_bytes(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_TRUE(core::is_valid_utf8(stored)) << stored;
  EXPECT_NE(stored.find("e_\xC3\xBC\\\\xC3"), std::string::npos) << stored;
}

namespace {

std::vector<std::string> ids_of(const core::Result<std::vector<Record>>& records) {
  std::vector<std::string> ids;
  if (records.ok())
    for (const auto& r : *records) ids.push_back(r.id);
  return ids;
}

}  // namespace

TEST(SqliteStore, ARecordThatIsNotJsonIsSkippedByListingsCountedAndNamedWhenReadDirectly) {
  TempCatalog tmp;
  auto store = std::move(catalog::open_store(tmp.path()).value());
  std::vector<std::string> reported;
  store->on_unreadable_record([&](Kind kind, const std::string& id) { reported.push_back(std::string(catalog::kind_name(kind)) + "/" + id); });
  ASSERT_TRUE(store->transact([](catalog::Tx& tx) -> core::Status {
    for (int i = 1; i <= 3; ++i) {
      OPENDBS_TRY(tx.put(Kind::plan, plan("p" + std::to_string(i), "A", i, "running")));
      OPENDBS_TRY(tx.put(Kind::restore_task, plan("r" + std::to_string(i), "A", i, "succeeded")));
    }
    return {};
  }).ok());
  damage_document(tmp.path(), Kind::plan, "p2");
  damage_document(tmp.path(), Kind::restore_task, "r2");
  const std::vector<std::string> others_plans{"p3", "p1"}, others_restores{"r3", "r1"};
  ASSERT_TRUE(store->read([&](catalog::Tx& tx) -> core::Status {
    catalog::Query plans{Kind::plan};
    plans.account_id = "A";
    auto listed = tx.list(plans);  // plans: through the listing's id cache
    EXPECT_TRUE(listed.ok()) << listed.error().message;
    EXPECT_EQ(ids_of(listed), others_plans);
    catalog::Query restores{Kind::restore_task};
    restores.account_id = "A";
    auto restores_listed = tx.list(restores);  // other kinds: one SQL query
    EXPECT_TRUE(restores_listed.ok()) << restores_listed.error().message;
    EXPECT_EQ(ids_of(restores_listed), others_restores);
    restores.doc_equals = {{"BackupPlanName", "name-r3"}};  // a filter on the documents' fields
    auto filtered = tx.list(restores);
    EXPECT_TRUE(filtered.ok()) << filtered.error().message;
    EXPECT_EQ(ids_of(filtered), std::vector<std::string>{"r3"});
    auto counted = tx.count(restores);
    EXPECT_TRUE(counted.ok() && *counted == 1) << (counted.ok() ? "" : counted.error().message);

    auto direct = tx.get(Kind::plan, "p2");
    EXPECT_FALSE(direct.ok());
    if (!direct.ok()) {
      EXPECT_EQ(direct.error().code, "Corrupt");
      EXPECT_NE(direct.error().message.find("plan p2"), std::string::npos) << direct.error().message;
      EXPECT_NE(direct.error().message.find("records"), std::string::npos) << direct.error().message;
    }
    return {};
  }).ok());
  EXPECT_EQ(reported, (std::vector<std::string>{"plan/p2", "restore_task/r2", "plan/p2"}));
}

TEST(SqliteStore, ATaskThatIsNotJsonIsLeftQueuedAndTheOthersAreClaimed) {
  TempCatalog tmp;
  auto store = std::move(catalog::open_store(tmp.path()).value());
  std::vector<std::string> reported;
  store->on_unreadable_record([&](Kind, const std::string& id) { reported.push_back(id); });
  ASSERT_TRUE(store->transact([](catalog::Tx& tx) -> core::Status {
    OPENDBS_TRY(tx.put(Kind::task, Record{"t1", "A", "p", "queued", 1, {}}));
    OPENDBS_TRY(tx.put(Kind::task, Record{"t2", "A", "p", "running", 2, {{"_LeaseExpiresMs", 10}}}));
    return tx.put(Kind::task, Record{"t3", "A", "p", "queued", 3, {}});
  }).ok());
  damage_document(tmp.path(), Kind::task, "t1");  // the oldest queued task
  damage_document(tmp.path(), Kind::task, "t2");  // a running task whose lease would be read
  auto first = store->claim_next_task("w", 1000, 30000);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->id, "t3");
  auto none = store->claim_next_task("w", 1000, 30000);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(reported.empty());
  EXPECT_EQ(reported.front(), "t1");
}

// A node passes over the tasks it runs already (a run whose lease lapsed goes on): they stay as they
// are, and the next claimable one is taken instead.
TEST(SqliteStore, AClaimPassesOverTasksTheClaimantRefusesAndLeavesThemUntouched) {
  TempCatalog tmp;
  auto store = std::move(catalog::open_store(tmp.path()).value());
  ASSERT_TRUE(store->transact([](catalog::Tx& tx) -> core::Status {
    OPENDBS_TRY(tx.put(Kind::task, Record{"lapsed", "A", "p", "running", 1, {{"_LeaseOwner", "w"}, {"_LeaseExpiresMs", 10}, {"Attempts", 1}}}));
    return tx.put(Kind::task, Record{"next", "A", "p", "queued", 2, {}});
  }).ok());
  const auto not_lapsed = [](const Record& t) { return t.id != "lapsed"; };
  auto first = store->claim_next_task("w", 1000, 30000, not_lapsed);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->id, "next");
  auto none = store->claim_next_task("w", 1000, 30000, not_lapsed);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store->read([](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto lapsed, tx.get(Kind::task, "lapsed"));
    EXPECT_EQ(lapsed->doc.at("Attempts").as_int64(), 1);
    EXPECT_EQ(lapsed->doc.at("_LeaseExpiresMs").as_int64(), 10);
    return {};
  }).ok());
  auto taken = store->claim_next_task("w", 1000, 30000);  // once it is claimable again
  ASSERT_TRUE(taken.ok() && taken->has_value());
  EXPECT_EQ((*taken)->id, "lapsed");
}
