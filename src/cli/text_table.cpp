#include "cli/text_table.h"

#include <algorithm>

namespace opendbs::cli {
namespace {

// Display width: UTF-8 continuation bytes take no column (the tables use "→" and "…").
size_t width_of(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string line(const std::vector<std::string>& cells, const std::vector<size_t>& widths) {
  std::string out;
  for (size_t c = 0; c < widths.size(); ++c) {
    const std::string cell = c < cells.size() ? cells[c] : "";
    out += cell;
    if (c + 1 < widths.size()) out += std::string(widths[c] - width_of(cell) + 2, ' ');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + "\n";
}

}  // namespace

std::string TextTable::render() const {
  std::vector<size_t> widths(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) {
    widths[c] = width_of(header_[c]);
    for (const auto& r : rows_)
      if (c < r.size()) widths[c] = std::max(widths[c], width_of(r[c]));
  }
  std::string out = line(header_, widths);
  for (const auto& r : rows_) out += line(r, widths);
  return out;
}

std::string key_values(const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, width_of(k));
  std::string out;
  for (const auto& [k, v] : rows) out += k + std::string(width - width_of(k) + 2, ' ') + v + "\n";
  return out;
}

}  // namespace opendbs::cli
