#include "jobs/log_barriers.h"

#include <boost/json.hpp>

namespace opendbs::jobs {
namespace {

int64_t int_of(const boost::json::object& doc, const char* name, int64_t fallback) {
  const auto* v = doc.if_contains(name);
  return v && v->is_int64() ? v->as_int64() : fallback;
}

}  // namespace

void put_log_barriers(boost::json::object& log_file_doc, const std::vector<engines::LogBarrier>& barriers) {
  log_file_doc.erase(kLogBarriers);
  log_file_doc.erase(kHasLogBarrier);
  if (barriers.empty()) return;
  boost::json::array list;
  for (const auto& b : barriers)
    list.push_back(boost::json::object{{"Position", b.position}, {"LatestTime", b.latest_ms}, {"What", b.what}});
  log_file_doc[kLogBarriers] = std::move(list);
  log_file_doc[kHasLogBarrier] = "yes";
}

std::vector<engines::LogBarrier> log_barriers_of(const boost::json::object& log_file_doc) {
  std::vector<engines::LogBarrier> out;
  const auto* list = log_file_doc.if_contains(kLogBarriers);
  if (!list || !list->is_array()) return out;
  for (const auto& v : list->as_array()) {
    if (!v.is_object()) continue;
    const auto& o = v.as_object();
    const auto* what = o.if_contains("What");
    out.push_back({int_of(o, "Position", 0), int_of(o, "LatestTime", -1),
                   what && what->is_string() ? std::string(what->as_string()) : std::string()});
  }
  return out;
}

int64_t log_start_position_of(const boost::json::object& set_doc) { return int_of(set_doc, kLogStartPosition, 0); }

}  // namespace opendbs::jobs
