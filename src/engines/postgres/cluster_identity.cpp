#include "engines/postgres/cluster_identity.h"

#include <cstring>
#include <fstream>

#include "core/errors.h"
#include "core/file.h"
#include "engines/postgres/unfinished_restore_dir.h"

namespace opendbs::engines::postgres {
namespace {

constexpr const char* kControlFile = "global/pg_control";

uint64_t first_u64(std::string_view bytes) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data(), sizeof v);
  return v;
}

}  // namespace

core::Result<uint64_t> data_directory_system_identifier(const std::filesystem::path& dir) {
  const auto path = dir / kControlFile;
  std::ifstream in(path, std::ios::binary);
  char bytes[8];
  if (!in.read(bytes, sizeof bytes)) {
    if (auto unfinished = unfinished_restore(dir); unfinished && unfinished->system_identifier)
      return *unfinished->system_identifier;
    return core::make_error("InvalidParameter", "RestoreDir " + dir.string() + " has no readable " + kControlFile +
                                                    ": it is not a PostgreSQL data directory a delta restore can update");
  }
  return first_u64(std::string_view(bytes, sizeof bytes));
}

core::Result<uint64_t> set_system_identifier(repo::Repository& repository, const repo::Manifest& manifest) {
  if (const auto* v = manifest.engine_metadata.if_contains("system_identifier"); v && v->is_string()) {
    const std::string text(v->as_string());
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 20)
      return std::stoull(text);
  }
  std::string head;
  OPENDBS_TRY(repository.read_stream(manifest.set_id, kControlFile, [&](std::string_view b) {
    if (head.size() < 8) head.append(b.substr(0, 8 - head.size()));
    return core::Status{};
  }));
  if (head.size() < 8) return core::errors::corrupt("backup set " + manifest.set_id + " has no whole " + kControlFile);
  return first_u64(head);
}

core::Status check_same_cluster(repo::Repository& repository, const repo::Manifest& manifest,
                                const std::filesystem::path& dir) {
  OPENDBS_ASSIGN(const uint64_t here, data_directory_system_identifier(dir));
  OPENDBS_ASSIGN(const uint64_t set, set_system_identifier(repository, manifest));
  if (here == set) return {};
  return core::make_error("InvalidParameter",
                          "RestoreDir " + dir.string() + " holds another PostgreSQL cluster (system identifier " +
                              std::to_string(here) + ") than backup set " + manifest.set_id + " (system identifier " +
                              std::to_string(set) +
                              "): a delta restore only updates a copy of the set's own cluster; nothing was written, "
                              "give an empty or new RestoreDir");
}

}  // namespace opendbs::engines::postgres
