#include "engines/postgres/wal_sets.h"

#include <algorithm>

#include "core/errors.h"
#include "engines/postgres/wal_names.h"

namespace opendbs::engines::postgres {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<WalSet> parse_wal_set_id(const std::string& plan_id, const std::string& id, uint64_t segment_size) {
  const std::string prefix = wal_set_prefix(plan_id);
  if (id.rfind(prefix, 0) != 0) return std::nullopt;
  const std::string rest = id.substr(prefix.size());
  WalSet out;
  out.id = id;
  if (auto tli = history_file_timeline(rest)) {
    out.kind = WalSetKind::history;
    out.file = rest;
    out.timeline = *tli;
    return out;
  }
  out.file = rest.substr(0, 24);
  const auto segno = wal_file_segno(out.file, segment_size);
  if (!segno) return std::nullopt;
  out.segno = *segno;
  out.timeline = static_cast<uint32_t>(std::stoul(out.file.substr(0, 8), nullptr, 16));
  const std::string suffix = rest.substr(24);
  constexpr std::string_view kFilling = ".partial-";
  if (suffix.empty()) {
    out.kind = WalSetKind::segment;
  } else if (suffix == ".partial") {
    out.kind = WalSetKind::timeline_end;
  } else if (suffix.rfind(kFilling, 0) == 0 && all_digits(suffix.substr(kFilling.size()))) {
    out.kind = WalSetKind::filling;
    out.bytes = std::stoull(suffix.substr(kFilling.size()));
  } else {
    return std::nullopt;
  }
  return out;
}

core::Result<std::vector<WalSet>> list_wal_sets(repo::Repository& repository, const std::string& plan_id,
                                                uint64_t segment_size) {
  OPENDBS_ASSIGN(auto ids, repository.list_sets());
  std::vector<WalSet> out;
  for (const auto& id : ids)
    if (auto set = parse_wal_set_id(plan_id, id, segment_size)) out.push_back(std::move(*set));
  return out;
}

bool is_not_stored(const core::Error& error) { return error.code == core::errors::invalid_job_id("").code; }

int64_t meta_int(const boost::json::object& metadata, const char* key, int64_t fallback) {
  auto it = metadata.find(key);
  if (it == metadata.end()) return fallback;
  if (it->value().is_int64()) return it->value().as_int64();
  return it->value().is_uint64() ? static_cast<int64_t>(it->value().as_uint64()) : fallback;
}

std::string meta_text(const boost::json::object& metadata, const char* key) {
  auto it = metadata.find(key);
  return it != metadata.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

core::Result<std::string> read_wal_set(repo::Repository& repository, const std::string& set_id) {
  std::string out;
  OPENDBS_TRY(repository.read_stream(set_id, "segment", [&](std::string_view bytes) -> core::Status {
    out.append(bytes);
    return {};
  }));
  return out;
}

core::Result<std::optional<TimelineHistory>> load_timeline_history(repo::Repository& repository,
                                                                   const std::string& plan_id, uint32_t timeline) {
  if (timeline == 1) return std::optional<TimelineHistory>(TimelineHistory{});
  const std::string id = wal_set_prefix(plan_id) + history_file_name(timeline);
  auto text = read_wal_set(repository, id);
  if (!text.ok()) {
    if (is_not_stored(text.error())) return std::optional<TimelineHistory>();
    return text.error();
  }
  OPENDBS_ASSIGN(auto history, parse_timeline_history(timeline, *text));
  return std::optional<TimelineHistory>(std::move(history));
}

}  // namespace opendbs::engines::postgres
