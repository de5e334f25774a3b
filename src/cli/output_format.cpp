#include "cli/output_format.h"

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

std::string render(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], std::min<size_t>(r[c].size(), 40));
  }
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      std::string text = cells[c].size() > 40 ? cells[c].substr(0, 39) + "~" : cells[c];
      out << text << std::string(width[c] - text.size() + (c + 1 < cells.size() ? 2 : 0), ' ');
    }
    out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out.str();
}

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
      std::vector<std::vector<std::string>> rows;
      for (const auto& item : items) {
        std::vector<std::string> row;
        for (const auto& h : header) row.push_back(item.as_object().contains(h) ? cell(item.at(h)) : "");
        rows.push_back(std::move(row));
      }
      return render(header, rows);
    }
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& kv : answer)
    if (!kv.value().is_object() && !kv.value().is_array()) rows.push_back({std::string(kv.key()), cell(kv.value())});
  return render({"FIELD", "VALUE"}, rows);
}

}  // namespace opendbs::cli
