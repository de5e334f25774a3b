// BackupObjects (DBS): which databases and tables a logical backup takes.
//   [{"DBName":"shop","TableIncludes":[{"TableName":"order*"}],"TableExcludes":[{"TableName":"tmp_?"}]}]
// Names are shell-style patterns (* ? [a-z] [!x] [^x]); a table pattern matches "table" or
// "schema.table". No entry for a database leaves it out; an entry without TableIncludes takes every
// table but the excluded ones. An empty BackupObjects takes everything.
// Partitions follow their partitioned table (as pg_dump --table-and-children): a partition is taken
// when it or one of its ancestors is included and none of them is excluded. Inheritance children
// (INHERITS, not partitions) hold rows of their own and are chosen by their own name only.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace opendbs::engines::postgres {

class BackupObjects {
 public:
  static core::Result<BackupObjects> parse(const std::string& json);

  bool selects_database(const std::string& db) const;
  bool selects_table(const std::string& db, const std::string& schema, const std::string& table) const;
  // (schema, table) of a table, then of the partitioned tables it is a partition of, nearest first.
  using Lineage = std::vector<std::pair<std::string, std::string>>;
  bool selects_table(const std::string& db, const Lineage& lineage) const;

  // A table of a database, with the index among them of the partitioned table it is a partition of.
  struct Table {
    std::string schema, name;
    std::optional<size_t> parent;
  };
  // Which of `tables` a logical backup of `db` keeps: those chosen with their lineage, and the
  // partitioned ancestors of those (the DDL pg_dump attaches them to), chosen themselves or not.
  std::vector<bool> kept_tables(const std::string& db, const std::vector<Table>& tables) const;

  // The TableIncludes patterns of `db`'s entries that match none of `tables` (a misspelt name, a
  // dropped table): pg_dump refuses a -t that matches nothing, and a set silently without the table is
  // worse than a loud precheck.
  std::vector<std::string> unmatched_includes(const std::string& db, const std::vector<Table>& tables) const;

 private:
  struct Entry {
    std::string db;
    std::vector<std::string> includes, excludes;
  };
  std::vector<Entry> entries_;
};

// "a, b, c": patterns as messages name them.
std::string joined_patterns(const std::vector<std::string>& patterns);

}  // namespace opendbs::engines::postgres
