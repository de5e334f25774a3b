// BackupObjects (DBS): which databases and tables a logical backup takes.
//   [{"DBName":"shop","TableIncludes":[{"TableName":"order*"}],"TableExcludes":[{"TableName":"tmp_?"}]}]
// Names are shell-style patterns (* ? [a-z] [!x] [^x]); a table pattern matches "table" or
// "schema.table". No entry for a database leaves it out; an entry without TableIncludes takes every
// table but the excluded ones. An empty BackupObjects takes everything.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace opendbs::engines::postgres {

class BackupObjects {
 public:
  static core::Result<BackupObjects> parse(const std::string& json);

  bool selects_database(const std::string& db) const;
  bool selects_table(const std::string& db, const std::string& schema, const std::string& table) const;

 private:
  struct Entry {
    std::string db;
    std::vector<std::string> includes, excludes;
  };
  std::vector<Entry> entries_;
};

}  // namespace opendbs::engines::postgres
