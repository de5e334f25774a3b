#include "cli/output_format.h"

#include "cli/text_table.h"

#include <boost/json.hpp>
#include <sstream>

namespace opendbs::cli {
namespace {

void indent(std::ostringstream& out, int depth) { out << std::string(static_cast<size_t>(depth) * 2, ' '); }

void write(std::ostringstream& out, const boost::json::value& v, int depth) {
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) { out << "{}"; return; }
    out << "{\n";
    size_t i = 0;
    for (const auto& kv : o) {
      indent(out, depth + 1);
      out << boost::json::serialize(boost::json::value(kv.key())) << ": ";
      write(out, kv.value(), depth + 1);
      out << (++i < o.size() ? ",\n" : "\n");
    }
    indent(out, depth);
    out << "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) { out << "[]"; return; }
    out << "[\n";
    for (size_t i = 0; i < a.size(); ++i) {
      indent(out, depth + 1);
      write(out, a[i], depth + 1);
      out << (i + 1 < a.size() ? ",\n" : "\n");
    }
    indent(out, depth);
    out << "]";
  } else {
    out << boost::json::serialize(v);
  }
}

std::string cell(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_object() || v.is_array()) return "…";
  return boost::json::serialize(v);
}

// Long values (JSON documents, policies) would make every row as wide as the widest; cut them.
std::string cut(std::string text) { return text.size() > 40 ? text.substr(0, 39) + "~" : text; }

}  // namespace

std::string pretty_json(const boost::json::value& value) {
  std::ostringstream out;
  write(out, value, 0);
  out << "\n";
  return out.str();
}

std::string as_table(const boost::json::object& answer) {
  if (answer.contains("Items") && answer.at("Items").is_object()) {
    for (const auto& kv : answer.at("Items").as_object()) {
      if (!kv.value().is_array()) continue;
      const auto& items = kv.value().as_array();
      if (items.empty() || !items[0].is_object()) return "(no " + std::string(kv.key()) + ")\n";
      std::vector<std::string> header;
      for (const auto& f : items[0].as_object())
        if (!f.value().is_object() && !f.value().is_array()) header.emplace_back(f.key());
      TextTable table(header);
      for (const auto& item : items) {
        std::vector<std::string> row;
        for (const auto& h : header) row.push_back(item.as_object().contains(h) ? cut(cell(item.at(h))) : "");
        table.add(std::move(row));
      }
      return table.render();
    }
  }
  TextTable table({"FIELD", "VALUE"});
  for (const auto& kv : answer)
    if (!kv.value().is_object() && !kv.value().is_array()) table.add({std::string(kv.key()), cut(cell(kv.value()))});
  return table.render();
}

}  // namespace opendbs::cli
