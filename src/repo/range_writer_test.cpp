#include "repo/range_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace opendbs::repo {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `content` into a file of its size as ranges cut at `cuts`, in reverse order (restores write
// runs in any order), and returns what the file then holds.
std::string write_in_ranges(const std::string& dir, const std::string& content, std::vector<uint64_t> cuts) {
  const std::string path = dir + "/f";
  std::filesystem::remove(path);
  { std::ofstream(path, std::ios::binary); }
  std::filesystem::resize_file(path, content.size());
  cuts.insert(cuts.begin(), 0);
  cuts.push_back(content.size());
  AlignedBuffer buffer;
  for (size_t i = cuts.size() - 1; i-- > 0;) {
    const uint64_t offset = cuts[i], length = cuts[i + 1] - cuts[i];
    const uint64_t lead = offset % kDirectBlock;
    char* base = buffer.reserve(lead, length);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(base) % kDirectBlock, 0u);
    std::copy_n(content.data() + offset, length, base + lead);
    auto st = write_range(path, offset, base, length);
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  return read_all(path);
}

void expect_exact_writes(const std::string& dir) {
  std::mt19937 rng(7);
  std::string content(5 * kDirectBlock + 1234, '\0');
  for (auto& c : content) c = static_cast<char>(rng());
  // Aligned and unaligned starts and ends, ranges inside one block, ranges spanning several blocks,
  // and a file end that is not on a block boundary.
  for (const auto& cuts : std::vector<std::vector<uint64_t>>{
           {}, {4096, 8192}, {100, 200, 4000, 4097, 12288, 12300}, {1, 4095, 4096, 4097, 16383}, {20479}})
    EXPECT_EQ(write_in_ranges(dir, content, cuts), content) << ::testing::PrintToString(cuts);
}

TEST(RangeWriter, RangesLandExactlyWhateverTheirAlignment) {
  const auto dir = std::filesystem::temp_directory_path() / ("opendbs-range-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  expect_exact_writes(dir.string());
  std::filesystem::remove_all(dir);
}

// tmpfs refuses O_DIRECT: every byte then goes through the page cache.
TEST(RangeWriter, FilesystemsWithoutDirectIoGetTheSameBytes) {
  if (!std::filesystem::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  const auto dir = std::filesystem::path("/dev/shm") / ("opendbs-range-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  expect_exact_writes(dir.string());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace opendbs::repo
