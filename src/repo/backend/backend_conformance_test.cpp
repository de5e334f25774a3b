// The Backend contract (backend.h), checked against every implementation: LocalBackend, and
// S3Backend against a real s3rver with path-style and virtual-hosted addressing, in multipart mode,
// and as open_backend() builds it from an s3:// URL (RetryingBackend around S3Backend).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "core/ids.h"
#include "repo/backend/local_backend.h"
#include "repo/backend/s3_backend.h"
#include "repo/backend/s3rver_process.h"

using namespace opendbs;
using repo::testing::S3rverProcess;

namespace {

struct BackendKind {
  std::string name;
  // Makes an empty backend whose objects no other test sees.
  std::function<core::Result<std::unique_ptr<repo::Backend>>(const std::string& unique)> make;
};

void PrintTo(const BackendKind& kind, std::ostream* out) { *out << kind.name; }

core::Result<std::unique_ptr<repo::Backend>> s3_backend(const std::string& unique, bool path_style,
                                                        uint64_t multipart_threshold) {
  OPENDBS_ASSIGN(auto server, S3rverProcess::shared());
  auto config = server->config("conformance/" + unique, path_style);
  config.multipart_threshold_bytes = multipart_threshold;
  config.part_size_bytes = 4096;
  return std::unique_ptr<repo::Backend>(std::make_unique<repo::S3Backend>(config));
}

// The directory under which the Local kind makes its roots; removed when the test binary exits.
const std::filesystem::path& local_roots() {
  struct Roots {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("opendbs-conformance-" + core::random_alnum(8));
    ~Roots() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Roots roots;
  return roots.path;
}

std::vector<BackendKind> backend_kinds() {
  return {
      {"Local",
       [](const std::string& unique) -> core::Result<std::unique_ptr<repo::Backend>> {
         auto root = local_roots() / unique;
         return std::unique_ptr<repo::Backend>(std::make_unique<repo::LocalBackend>(root.string()));
       }},
      {"S3PathStyle", [](const std::string& u) { return s3_backend(u, true, 64ull << 20); }},
      {"S3VirtualHosted", [](const std::string& u) { return s3_backend(u, false, 64ull << 20); }},
      {"S3Multipart", [](const std::string& u) { return s3_backend(u, true, 1); }},
      {"S3FromUrl",
       [](const std::string& unique) -> core::Result<std::unique_ptr<repo::Backend>> {
         OPENDBS_ASSIGN(auto server, S3rverProcess::shared());
         return repo::open_backend(std::string("s3://") + S3rverProcess::kBucket + "/conformance/" + unique +
                                   "?endpoint=" + server->path_style_endpoint() + "&region=us-east-1" +
                                   "&access_key_id=S3RVER&secret_access_key=S3RVER&retry_backoff_ms=10");
       }},
  };
}

class BackendConformance : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    auto made = GetParam().make(core::random_alnum(10));
    ASSERT_TRUE(made.ok()) << made.error().message;
    backend_ = std::move(made).value();
  }

  repo::Backend& backend() { return *backend_; }

  std::unique_ptr<repo::Backend> backend_;
};

std::string random_payload(size_t size) { return core::random_bytes(size); }

}  // namespace

TEST_P(BackendConformance, PutThenGetReturnsExactlyTheStoredBytes) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, size_t{100'003}}) {
    const std::string name = "data/" + std::to_string(size);
    const std::string data = random_payload(size);
    ASSERT_TRUE(backend().put(name, data).ok());
    auto read = backend().get(name);
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(*read, data) << "size " << size;
  }
}

TEST_P(BackendConformance, PutOverAnExistingObjectReplacesIt) {
  ASSERT_TRUE(backend().put("index/0", "first version").ok());
  ASSERT_TRUE(backend().put("index/0", "second").ok());
  EXPECT_EQ(*backend().get("index/0"), "second");
  EXPECT_EQ((*backend().stat("index/0"))->size, 6u);
}

TEST_P(BackendConformance, MissingObjectIsNotFoundForGetAndRangeAndAbsentForStat) {
  EXPECT_EQ(backend().get("data/none").error().code, "NotFound");
  EXPECT_EQ(backend().get_range("data/none", 0, 10).error().code, "NotFound");
  auto info = backend().stat("data/none");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->has_value());
}

TEST_P(BackendConformance, GetRangeReturnsExactlyTheRequestedBytes) {
  const std::string data = random_payload(10'000);
  ASSERT_TRUE(backend().put("packs/p", data).ok());
  for (auto [offset, length] : {std::pair<uint64_t, uint64_t>{0, 1}, {0, 10'000}, {4095, 2}, {9'999, 1}, {123, 4567}}) {
    auto read = backend().get_range("packs/p", offset, length);
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(*read, data.substr(offset, length)) << offset << "+" << length;
  }
}

TEST_P(BackendConformance, RangePastTheEndIsCorruptNeverShortData) {
  ASSERT_TRUE(backend().put("packs/short", "0123456789").ok());
  for (auto [offset, length] : {std::pair<uint64_t, uint64_t>{5, 6}, {9, 2}, {10, 1}, {100, 5}}) {
    auto read = backend().get_range("packs/short", offset, length);
    ASSERT_FALSE(read.ok()) << offset << "+" << length << " returned " << read->size() << " bytes";
    EXPECT_EQ(read.error().code, "Corrupt") << read.error().message;
  }
}

TEST_P(BackendConformance, StatReportsTheSize) {
  ASSERT_TRUE(backend().put("keys/k1", std::string(777, 'k')).ok());
  auto info = backend().stat("keys/k1");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->name, "keys/k1");
  EXPECT_EQ((*info)->size, 777u);
}

TEST_P(BackendConformance, ListReturnsEveryObjectUnderThePrefixWithItsSize) {
  const std::set<std::string> data = {"data/00/a", "data/00/ab", "data/ff/b", "data/c"};
  for (const auto& name : data) ASSERT_TRUE(backend().put(name, name).ok());
  ASSERT_TRUE(backend().put("index/1", "i").ok());

  auto listed = backend().list("data/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::set<std::string> names;
  for (const auto& object : *listed) {
    names.insert(object.name);
    EXPECT_EQ(object.size, object.name.size());
  }
  EXPECT_EQ(names, data);
  EXPECT_EQ(backend().list("data/00/a")->size(), 2u);
  EXPECT_EQ(backend().list("")->size(), 5u);
  EXPECT_TRUE(backend().list("nothing/")->empty());
}

TEST_P(BackendConformance, RemoveDeletesAndIsIdempotent) {
  ASSERT_TRUE(backend().put("locks/l", "x").ok());
  ASSERT_TRUE(backend().remove("locks/l").ok());
  EXPECT_EQ(backend().get("locks/l").error().code, "NotFound");
  EXPECT_TRUE(backend().remove("locks/l").ok());
  EXPECT_TRUE(backend().remove("locks/never-existed").ok());
  EXPECT_TRUE(backend().list("locks/")->empty());
}

TEST_P(BackendConformance, NamesOutsideTheContractAreRejected) {
  for (const char* name : {"../escape", "/absolute", "with space", "a/../b", "", "quote\"d"}) {
    EXPECT_FALSE(backend().put(name, "x").ok()) << name;
    EXPECT_FALSE(backend().get(name).ok()) << name;
  }
}

TEST_P(BackendConformance, ManyThreadsPutAndGetAtOnce) {
  constexpr int kThreads = 8, kObjectsPerThread = 6;
  std::mutex mutex;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(mutex);
    failures.push_back(what);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kObjectsPerThread; ++i) {
        const std::string name = "data/t" + std::to_string(t) + "/" + std::to_string(i);
        const std::string data = std::string(1000 + 37 * i, static_cast<char>('a' + t)) + name;
        if (auto put = backend().put(name, data); !put.ok()) fail("put " + name + ": " + put.error().message);
        auto read = backend().get(name);
        if (!read.ok()) fail("get " + name + ": " + read.error().message);
        if (read.ok() && *read != data) fail("get " + name + " returned other bytes");
        auto range = backend().get_range(name, 10, 100);
        if (!range.ok()) fail("get_range " + name + ": " + range.error().message);
        if (range.ok() && *range != data.substr(10, 100)) fail("get_range " + name + " returned other bytes");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, the first: " << failures.front();
  EXPECT_EQ(backend().list("data/")->size(), static_cast<size_t>(kThreads * kObjectsPerThread));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, BackendConformance, ::testing::ValuesIn(backend_kinds()),
                         [](const auto& info) { return info.param.name; });
