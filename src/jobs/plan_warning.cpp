#include "jobs/plan_warning.h"

namespace opendbs::jobs {
namespace {

std::string doc_text(const boost::json::object& doc, const char* field) {
  auto it = doc.find(field);
  return it != doc.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

// `message` without `warning` (and the "; " that joined them).
std::string without(std::string message, const std::string& warning) {
  if (warning.empty()) return message;
  const auto at = message.find(warning);
  if (at == std::string::npos) return message;
  size_t from = at, to = at + warning.size();
  if (from >= 2 && message.compare(from - 2, 2, "; ") == 0) from -= 2;
  else if (message.compare(to, 2, "; ") == 0) to += 2;
  return message.erase(from, to - from);
}

}  // namespace

std::string plan_warning(const catalog::Record& plan, const char* field) { return doc_text(plan.doc, field); }

bool set_plan_warning(catalog::Record& plan, const char* field, const std::string& warning) {
  const std::string before = doc_text(plan.doc, "ErrMessage");
  const std::string base = without(before, doc_text(plan.doc, field));
  const std::string after = warning.empty() ? base : base.empty() ? warning : base + "; " + warning;
  if (after == before && doc_text(plan.doc, field) == warning) return false;
  plan.doc["ErrMessage"] = after;
  plan.doc[field] = warning;
  return true;
}

}  // namespace opendbs::jobs
