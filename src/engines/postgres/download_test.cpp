// The pieces of downloads that need no server: the tar writer (checked by extracting with GNU tar),
// COPY text rows to CSV, and column names from pg_dump's DDL. Real sets: tests/postgres/download_test.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/crypto.h"
#include "core/file.h"
#include "engines/postgres/download_logical.h"
#include "engines/postgres/download_tar.h"

namespace opendbs::engines::postgres {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("opendbs-dl-" + core::to_hex(core::random_bytes(6)));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DownloadTar, GnuTarExtractsDirectoriesKnownAndPatchedSizesAndLongNames) {
  TempDir dir;
  const std::string deep = "pg_tblspc/16385/PG_15_202209061/" + std::string(90, 'd') + "/" + std::string(60, 'f');
  const std::string unsplittable = std::string(120, 'x') + "/" + std::string(110, 'y');
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 511);
  {
    auto file = DownloadFile::create(dir / "out.tar");
    ASSERT_TRUE(file.ok()) << file.error().message;
    TarWriter tar(*file);
    ASSERT_TRUE(tar.add_directory("base", 0700, 1700000000).ok());
    ASSERT_TRUE(tar.begin_file("base/1", big.size(), 0600, 1700000000).ok());
    ASSERT_TRUE(tar.data(std::string_view(big).substr(0, 1000)).ok());
    ASSERT_TRUE(tar.data(std::string_view(big).substr(1000)).ok());
    ASSERT_TRUE(tar.end_file().ok());
    ASSERT_TRUE(tar.begin_file("unsized.csv", std::nullopt, 0644, 1700000000).ok());
    ASSERT_TRUE(tar.data("a,b\n1,2\n").ok());
    ASSERT_TRUE(tar.end_file().ok());
    for (const auto& name : {deep, unsplittable}) {
      ASSERT_TRUE(tar.begin_file(name, 5, 0600, 1700000000).ok());
      ASSERT_TRUE(tar.data("hello").ok());
      ASSERT_TRUE(tar.end_file().ok());
    }
    ASSERT_TRUE(tar.begin_file("empty", 0, 0600, 1700000000).ok());
    ASSERT_TRUE(tar.end_file().ok());
    ASSERT_TRUE(tar.finish().ok());
    EXPECT_EQ(file->size() % 512, 0u);
    ASSERT_TRUE(file->finish().ok());
  }
  fs::create_directories(dir / "x");
  ASSERT_EQ(std::system(("tar -xf " + (dir / "out.tar") + " -C " + (dir / "x")).c_str()), 0);
  EXPECT_TRUE(fs::is_directory(dir / "x/base"));
  EXPECT_EQ(slurp(dir / "x/base/1"), big);
  EXPECT_EQ(fs::status(dir / "x/base/1").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(slurp(dir / "x/unsized.csv"), "a,b\n1,2\n");
  EXPECT_EQ(slurp(dir / ("x/" + deep)), "hello");
  EXPECT_EQ(slurp(dir / ("x/" + unsplittable)), "hello");
  EXPECT_TRUE(fs::exists(dir / "x/empty"));
  EXPECT_EQ(fs::file_size(dir / "x/empty"), 0u);
}

TEST(DownloadTar, AMemberShorterThanItsDeclaredSizeIsAnError) {
  TempDir dir;
  auto file = DownloadFile::create(dir / "short.tar");
  ASSERT_TRUE(file.ok());
  TarWriter tar(*file);
  ASSERT_TRUE(tar.begin_file("f", 10, 0600, 0).ok());
  ASSERT_TRUE(tar.data("12345").ok());
  EXPECT_FALSE(tar.end_file().ok());
}

TEST(DownloadTar, HeaderChecksumCountsTheChecksumFieldAsSpaces) {
  const std::string h = tar_header("base/1", '0', 8192, 0600, 1700000000);
  ASSERT_EQ(h.size(), 512u);
  unsigned sum = 0;
  for (size_t i = 0; i < h.size(); ++i) sum += i >= 148 && i < 156 ? ' ' : static_cast<unsigned char>(h[i]);
  EXPECT_EQ(std::stoul(h.substr(148, 6), nullptr, 8), sum);
  EXPECT_EQ(h.substr(257, 5), "ustar");
  EXPECT_EQ(std::stoull(h.substr(124, 11), nullptr, 8), 8192u);
}

std::string convert(const std::vector<std::string>& pieces, const std::vector<std::string>& columns) {
  std::string out;
  CopyTextToCsv csv(
      [&](size_t fields) {
        std::string h;
        if (fields != 0 && fields != columns.size()) return std::string("mismatch ") + std::to_string(fields);
        for (size_t i = 0; i < columns.size(); ++i) h += (i ? "," : "") + csv_field(columns[i]);
        return h;
      },
      [&](std::string_view rows) {
        out.append(rows);
        return core::Status{};
      });
  for (const auto& p : pieces) EXPECT_TRUE(csv.feed(p).ok());
  EXPECT_TRUE(csv.finish().ok());
  return out;
}

TEST(CopyTextToCsv, NullIsEmptyAndAnEmptyStringIsQuotedAndEscapesAreResolved) {
  const std::string copy =
      "1\t\\N\t\tplain\n"
      "2\tcomma, \"quote\"\ttab\\there\\nnew line\\\\back\t\\x41\\101\\r\n";
  EXPECT_EQ(convert({copy}, {"id", "a", "b", "Odd \"name\""}),
            "id,a,b,\"Odd \"\"name\"\"\"\n"
            "1,,\"\",plain\n"
            "2,\"comma, \"\"quote\"\"\",\"tab\there\nnew line\\back\",\"AA\r\"\n");
}

TEST(CopyTextToCsv, RowsSplitAcrossPiecesConvertTheSame) {
  const std::string copy = "10\tx\n20\ty z\n30\t\\N\n";
  const std::string whole = convert({copy}, {"k", "v"});
  for (size_t cut = 1; cut < copy.size(); ++cut)
    EXPECT_EQ(convert({copy.substr(0, cut), copy.substr(cut)}, {"k", "v"}), whole) << cut;
  EXPECT_EQ(whole, "k,v\n10,x\n20,y z\n30,\n");
}

TEST(CopyTextToCsv, AnEmptyTableHasOnlyItsHeaderAndAFieldCountMismatchAsksAgain) {
  EXPECT_EQ(convert({}, {"a", "b"}), "a,b\n");
  EXPECT_EQ(convert({"1\t2\t3\n"}, {"a", "b"}), "mismatch 3\n1,2,3\n");
}

TEST(TableColumns, ReadsPgDumpCreateTableWithQuotedNamesSkippingConstraintsAndGeneratedColumns) {
  const std::string ddl =
      "SET search_path = '';\n"
      "CREATE TABLE public.other (\n    z integer\n);\n"
      "CREATE TABLE \"Odd Schema\".\"Mixed Case\" (\n"
      "    k integer NOT NULL,\n"
      "    \"Value \"\"x\"\"\" text,\n"
      "    doubled integer GENERATED ALWAYS AS ((k * 2)) STORED,\n"
      "    \"select\" text,\n"
      "    CONSTRAINT positive CHECK ((k > 0))\n"
      ");\n"
      "CREATE UNLOGGED TABLE public.fast (\n    a text\n);\n";
  EXPECT_EQ(table_columns(ddl, "Odd Schema", "Mixed Case"), (std::vector<std::string>{"k", "Value \"x\"", "select"}));
  EXPECT_EQ(table_columns(ddl, "public", "other"), (std::vector<std::string>{"z"}));
  EXPECT_EQ(table_columns(ddl, "public", "fast"), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(table_columns(ddl, "public", "missing").empty());
}

}  // namespace
}  // namespace opendbs::engines::postgres
