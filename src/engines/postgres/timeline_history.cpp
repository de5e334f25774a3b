#include "engines/postgres/timeline_history.h"

#include <cctype>
#include <cstdio>
#include <sstream>

#include "core/errors.h"

namespace opendbs::engines::postgres {

std::optional<TimelineHistory::Span> TimelineHistory::span_of(uint32_t tli) const {
  Lsn begin = 0;
  for (const auto& a : ancestors) {
    if (a.timeline == tli) return Span{begin, a.end};
    begin = a.end;
  }
  if (tli == timeline) return Span{begin, std::nullopt};
  return std::nullopt;
}

uint32_t TimelineHistory::timeline_of_segment(uint64_t segno, uint64_t segment_size) const {
  const Lsn segment_end = (segno + 1) * segment_size;
  if (ancestors.empty() || ancestors.back().end < segment_end) return timeline;
  for (size_t i = ancestors.size() - 1; i > 0; --i)
    if (ancestors[i - 1].end < segment_end) return ancestors[i].timeline;
  return ancestors.front().timeline;
}

std::string history_file_name(uint32_t timeline) {
  char out[32];
  std::snprintf(out, sizeof out, "%08X.history", timeline);
  return out;
}

std::optional<uint32_t> history_file_timeline(const std::string& name) {
  if (name.size() != 16 || name.compare(8, 8, ".history") != 0) return std::nullopt;
  for (size_t i = 0; i < 8; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
  return static_cast<uint32_t>(std::stoul(name.substr(0, 8), nullptr, 16));
}

core::Result<TimelineHistory> parse_timeline_history(uint32_t timeline, std::string_view text) {
  TimelineHistory out;
  out.timeline = timeline;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    size_t at = 0;
    while (at < line.size() && std::isspace(static_cast<unsigned char>(line[at]))) ++at;
    if (at == line.size() || line[at] == '#') continue;
    unsigned tli = 0, hi = 0, lo = 0;
    if (std::sscanf(line.c_str() + at, "%u %X/%X", &tli, &hi, &lo) != 3)
      return core::errors::corrupt("timeline history " + history_file_name(timeline) + ": cannot read \"" + line + "\"");
    const TimelineSwitch s{tli, (static_cast<Lsn>(hi) << 32) | lo};
    const bool ordered = out.ancestors.empty() ||
                         (s.timeline > out.ancestors.back().timeline && s.end >= out.ancestors.back().end);
    if (!ordered || s.timeline >= timeline)
      return core::errors::corrupt("timeline history " + history_file_name(timeline) + " is out of order at \"" + line +
                                   "\"");
    out.ancestors.push_back(s);
  }
  if (timeline > 1 && out.ancestors.empty())
    return core::errors::corrupt("timeline history " + history_file_name(timeline) + " names no parent timeline");
  return out;
}

}  // namespace opendbs::engines::postgres
