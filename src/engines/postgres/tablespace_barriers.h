// The CREATE TABLESPACEs in stored WAL as the log barriers (engines/engine.h) they are to a restore
// from a full set that began before them: PostgreSQL's redo of one empties the directory at the
// location the source used and links the tablespace there — on the restore's machine, possibly the
// source's own live tablespace (docs/POSTGRES.md, "Tablespaces"). A restore refuses to replay one
// (restore_wal_plan.h), and the log backup reports them with their log files, so that the API's
// restorable ranges end where that refusal begins.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <vector>

#include "engines/engine.h"
#include "engines/postgres/wal_scanner.h"

namespace opendbs::engines::postgres {

// Recovery to a moment replays everything before the first commit later than it — a CREATE
// TABLESPACE too, which takes effect when replayed, ahead of its own commit — so the latest moment
// that stops short of it is just before the last commit preceding it in the WAL; none when the scanner
// saw no commit before it in its segment.
LogBarrier tablespace_barrier(const TablespaceCreate& create);
std::vector<LogBarrier> tablespace_barriers(const std::vector<TablespaceCreate>& creates);

// A segment set's record of them (segment_meta::kTablespaceCreates) and back.
boost::json::array tablespace_creates_meta(const std::vector<TablespaceCreate>& creates);
std::vector<TablespaceCreate> tablespace_creates_of(const boost::json::object& segment_metadata);

}  // namespace opendbs::engines::postgres
