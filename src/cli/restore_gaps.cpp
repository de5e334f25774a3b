#include "cli/restore_gaps.h"

#include <algorithm>
#include <boost/json.hpp>
#include <vector>

#include "cli/human_format.h"

namespace opendbs::cli {
namespace {

struct Span {
  bool is_range = false;
  int64_t begin_ms = 0, end_ms = 0;
};

int64_t field(const boost::json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_int64() ? v->as_int64() : 0;
}

}  // namespace

std::string restore_gap_note(const boost::json::array& ranges, int64_t newest_log_end_ms) {
  std::vector<Span> spans;
  for (const auto& v : ranges) {
    if (!v.is_object()) continue;
    const auto& r = v.as_object();
    const auto* type = r.if_contains("RangeType");
    spans.push_back({type && type->is_string() && type->as_string() == "range", field(r, "BeginTimestampForRestore"),
                     field(r, "EndTimestampForRestore")});
  }
  if (spans.empty()) return "";
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin_ms < b.begin_ms; });
  int64_t end = 0;
  for (const auto& s : spans) end = std::max(end, s.end_ms);
  // The newest log lies past every range: the chain broke there, and only a new full set reaches on.
  if (newest_log_end_ms > end) return "gap since " + local_time(end) + ": a new full backup starts a new range";
  // A range that ends before the next one begins: the log between was lost (points of plans without
  // log backup are not ranges, and the moments between them were never meant to be restorable).
  for (size_t i = spans.size(); i-- > 1;) {
    const Span& before = spans[i - 1];
    if (before.is_range && spans[i].begin_ms > before.end_ms)
      return "not restorable " + local_time(before.end_ms) + " → " + local_time(spans[i].begin_ms) +
             " (a gap in the log chain)";
  }
  return "";
}

}  // namespace opendbs::cli
