// A delta restore decides what to rewrite by content: a file of the set's size and mtime whose bytes
// differ (checker G11: the set's mtimes are whole seconds, so a file the source wrote again within
// the second after an earlier backup read it looks unchanged) is brought back to the set's bytes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class PostgresDeltaContent : public EngineTest {};

TEST_F(PostgresDeltaContent, AFileOfTheSetsSizeAndMtimeWithOtherBytesIsRewrittenInPlaceByADeltaRestore) {
  auto& src = shared_source();
  src.query("CREATE TABLE delta_pages (id int PRIMARY KEY, body text)");
  src.query("INSERT INTO delta_pages SELECT g, 'opendbs-delta-marker-' || lpad(g::text, 6, '0') "
            "FROM generate_series(1, 20000) g");
  const std::string relation = src.query("SELECT pg_relation_filepath('delta_pages')");
  const std::string at_backup = src.checksum("delta_pages");
  const auto p = plan("deltacontent");
  Control control;
  auto full = full_backup(p, "dc-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;

  // Set A restored into a directory (not started), then one byte of one row changed in its heap
  // file, keeping the file's size and mtime to the nanosecond: what the quick check cannot see.
  const fs::path dir = fs::path(dir_) / "delta";
  engines::RestoreRequest request;
  request.set_id = "dc-full";
  request.target_ms = full->consistent_ms;
  request.target_dir = dir.string();
  ASSERT_TRUE(engine_.restore(p, *repo_, request, control).ok());
  const fs::path heap = dir / relation;
  const std::string original = read_bytes(heap);
  const size_t at = original.find("opendbs-delta-marker-004242");
  ASSERT_NE(at, std::string::npos);
  struct stat before {};
  ASSERT_EQ(::stat(heap.c_str(), &before), 0);
  {
    std::fstream f(heap, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at + std::string("opendbs-delta-").size()));
    f.put('M');  // "marker" → "Marker"
  }
  const timespec times[2] = {before.st_mtim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, heap.c_str(), times, 0), 0);
  struct stat tampered {};
  ASSERT_EQ(::stat(heap.c_str(), &tampered), 0);
  ASSERT_EQ(tampered.st_size, before.st_size);
  ASSERT_EQ(tampered.st_mtim.tv_sec, before.st_mtim.tv_sec);
  ASSERT_EQ(tampered.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  ASSERT_NE(read_bytes(heap), original);

  // The delta restore of A (and the start on it) brings the set's bytes back: the file is patched
  // where it differs, not replaced (same inode), and the server holds the rows as at the backup.
  auto restored = restore_and_start(p, "dc-full", full->consistent_ms, dir.string());
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->checksum("delta_pages"), at_backup);
  EXPECT_EQ(restored->query("SELECT count(*) FROM delta_pages WHERE body LIKE '%Marker%'"), "0");
  EXPECT_EQ(restored->query("SELECT body FROM delta_pages WHERE id = 4242"), "opendbs-delta-marker-004242");
  struct stat after {};
  ASSERT_EQ(::stat(heap.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the file was replaced rather than patched";
}

}  // namespace
}  // namespace opendbs::testing
