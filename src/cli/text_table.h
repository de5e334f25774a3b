// Aligned columns for the friendly commands' human output. Cells are never cut: an operator copies
// ids out of these tables.
#pragma once

#include <string>
#include <vector>

namespace opendbs::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  // Header and rows, columns two spaces apart, no trailing blanks.
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "NAME   value" lines for one object's details.
std::string key_values(const std::vector<std::pair<std::string, std::string>>& rows);

}  // namespace opendbs::cli
