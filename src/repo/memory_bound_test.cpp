// A backup's memory is bounded whatever the input size (docs/REPOSITORY.md §12): when the backend is
// slower than the input, StreamWriter::write blocks instead of buffering.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

// Holds every pack upload until released.
class GatedBackend final : public Backend {
 public:
  explicit GatedBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
  void open_gate() {
    std::lock_guard lk(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  core::Status put(const std::string& name, std::string_view data) override {
    if (name.rfind("data/", 0) == 0) {
      std::unique_lock lk(mutex_);
      cv_.wait(lk, [this] { return open_; });
    }
    return inner_->put(name, data);
  }
  core::Result<std::string> get(const std::string& n) override { return inner_->get(n); }
  core::Result<std::string> get_range(const std::string& n, uint64_t o, uint64_t l) override {
    return inner_->get_range(n, o, l);
  }
  core::Result<std::optional<ObjectInfo>> stat(const std::string& n) override { return inner_->stat(n); }
  core::Result<std::vector<ObjectInfo>> list(const std::string& p) override { return inner_->list(p); }
  core::Status remove(const std::string& n) override { return inner_->remove(n); }
  std::string describe() const override { return "gated"; }

 private:
  std::unique_ptr<Backend> inner_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

class MemoryBoundTest : public testing::TempRepoTest {};

TEST_F(MemoryBoundTest, WriterBlocksWhileTheBackendIsStalledSoMemoryStaysBounded) {
  init_repo();
  auto gated = std::make_unique<GatedBackend>(backend());
  GatedBackend* gate = gated.get();
  auto repo = Repository::open(std::move(gated), testing::passphrase(), testing::small_options());
  ASSERT_TRUE(repo.ok());
  auto set = (*repo)->begin_set("big");
  ASSERT_TRUE(set.ok());
  auto stream = (*set)->add_stream("db", {});
  ASSERT_TRUE(stream.ok());

  // Incompressible input offered much faster than the stalled backend takes it.
  std::string piece(65536, '\0');
  std::mt19937 rng(1);
  std::atomic<uint64_t> accepted{0};
  const uint64_t offered = 8ull << 20;
  std::thread producer([&] {
    for (uint64_t done = 0; done < offered; done += piece.size()) {
      for (auto& c : piece) c = static_cast<char>(rng());
      ASSERT_TRUE((*stream)->write(piece).ok());
      accepted += piece.size();
    }
    ASSERT_TRUE((*stream)->close().ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Chunker buffer (2 × 16 KiB) + queue (2 × workers chunks) + chunks in the workers + the open pack
  // and one sealed pack per worker (64 KiB each), plus one piece in flight: well under 1 MiB.
  EXPECT_LT(accepted.load(), 1u << 20) << "write() kept accepting bytes the backend could not take";
  gate->open_gate();
  producer.join();
  EXPECT_EQ(accepted.load(), offered);
  ASSERT_TRUE((*set)->commit({}).ok());
  EXPECT_EQ((*set)->stats().bytes_in, offered);
}

}  // namespace
}  // namespace opendbs::repo
