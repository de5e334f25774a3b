// Shared by the repo tests: temporary repositories with small, fast parameters.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "repo/backend/local_backend.h"
#include "repo/repository.h"

namespace opendbs::repo::testing {

inline std::string make_temp_dir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("opendbs-repo-" + tag + "-XXXXXX")).string();
  const char* made = ::mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  return tmpl;
}

// Small chunks and packs so that kilobytes of test data exercise many chunks and packs; cheap scrypt.
inline RepoOptions small_options() {
  RepoOptions o;
  o.chunker = {1024, 4096, 16384};
  o.pack_target_size = 64 * 1024;
  o.worker_threads = 2;
  o.scrypt_log_n = 10;
  return o;
}

inline KeySource passphrase(const std::string& p = "correct horse") { return KeySource{p, std::nullopt}; }

// A repository with default chunking in `dir` and a cheap key derivation, for the tests of modules
// that store sets through it (jobs, api, runtime).
inline std::unique_ptr<Repository> init_test_repository(const std::string& dir) {
  RepoOptions options;
  options.scrypt_log_n = 10;
  auto repo = Repository::init(std::make_unique<LocalBackend>(dir), passphrase("test"), options);
  EXPECT_TRUE(repo.ok()) << (repo.ok() ? "" : repo.error().message);
  return repo.ok() ? std::move(repo).value() : nullptr;
}

// Bytes that compress a little and repeat a little, like database pages.
inline std::string random_data(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(rng() % 4 == 0 ? rng() : 'a' + (i % 7));
  return out;
}

class TempRepoTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("t"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string repo_dir() const { return dir_ + "/repo"; }
  std::unique_ptr<Backend> backend() const { return std::make_unique<LocalBackend>(repo_dir()); }
  std::unique_ptr<Repository> init_repo(const RepoOptions& o = small_options()) {
    auto r = Repository::init(backend(), passphrase(), o);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : nullptr;
  }
  std::unique_ptr<Repository> open_repo(const RepoOptions& o = small_options()) {
    auto r = Repository::open(backend(), passphrase(), o);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : nullptr;
  }
  // Writes one set of named streams; returns the commit status.
  core::Status write_set(Repository& repo, const std::string& set_id,
                         const std::vector<std::pair<std::string, std::string>>& streams) {
    OPENDBS_ASSIGN(auto set, repo.begin_set(set_id));
    for (const auto& [name, data] : streams) {
      OPENDBS_ASSIGN(auto w, set->add_stream(name, FileMeta{data.size(), 0640, 1700000000123}));
      for (size_t at = 0; at < data.size(); at += 10007) OPENDBS_TRY(w->write(std::string_view(data).substr(at, 10007)));
      OPENDBS_TRY(w->close());
    }
    return set->commit(boost::json::object{{"engine", "test"}});
  }
  std::string read_all(Repository& repo, const std::string& set_id, const std::string& stream) {
    std::string out;
    auto st = repo.read_stream(set_id, stream, [&](std::string_view b) {
      out.append(b);
      return core::Status{};
    });
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    return out;
  }
  std::string dir_;
};

}  // namespace opendbs::repo::testing
