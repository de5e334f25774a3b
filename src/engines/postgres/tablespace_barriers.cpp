#include "engines/postgres/tablespace_barriers.h"

#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_sets.h"
#include "engines/postgres/wal_stream.h"

namespace opendbs::engines::postgres {

LogBarrier tablespace_barrier(const TablespaceCreate& create) {
  LogBarrier b;
  b.position = static_cast<int64_t>(create.lsn);
  b.latest_ms = create.xact_ms_before > 0 ? create.xact_ms_before - 1 : -1;
  b.what = "CREATE TABLESPACE (oid " + std::to_string(create.oid) + ", location " + create.path + ", WAL " +
           format_lsn(create.lsn) + ") made after the full backup set began: PostgreSQL replaying it would empty "
           "that location, on this node the source's own tablespace if it is here, and share it";
  return b;
}

std::vector<LogBarrier> tablespace_barriers(const std::vector<TablespaceCreate>& creates) {
  std::vector<LogBarrier> out;
  for (const auto& c : creates) out.push_back(tablespace_barrier(c));
  return out;
}

boost::json::array tablespace_creates_meta(const std::vector<TablespaceCreate>& creates) {
  boost::json::array out;
  for (const auto& c : creates)
    out.push_back({{"lsn", format_lsn(c.lsn)}, {"oid", c.oid}, {"path", c.path}, {"xact_ms_before", c.xact_ms_before}});
  return out;
}

std::vector<TablespaceCreate> tablespace_creates_of(const boost::json::object& segment_metadata) {
  std::vector<TablespaceCreate> out;
  const auto* creates = segment_metadata.if_contains(segment_meta::kTablespaceCreates);
  if (!creates || !creates->is_array()) return out;
  for (const auto& c : creates->as_array()) {
    if (!c.is_object()) continue;
    const auto& create = c.as_object();
    TablespaceCreate t;
    t.lsn = parse_lsn(meta_text(create, "lsn")).value_or(0);
    t.oid = static_cast<uint32_t>(meta_int(create, "oid", 0));
    t.path = meta_text(create, "path");
    t.xact_ms_before = meta_int(create, "xact_ms_before", -1);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace opendbs::engines::postgres
