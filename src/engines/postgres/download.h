// Downloads of PostgreSQL sets (docs/POSTGRES.md, "Downloads"): a stored set converted into one file.
//   logical full set  → SQL: a psql script (schema, COPY ... FROM stdin data, sequences, indexes)
//                     → CSV: a tar (.csv.tar) of <database>/<schema>.<table>.csv, one per table, with a header row
//   physical full set → Native: a tar of the data directory (backup_label, the WAL the backup needs)
//   WAL file          → Native: as PostgreSQL keeps it — a segment whole, a history file as it is, a
//                       segment stored in part (a timeline's `.partial` end, or the segment filling
//                       when log backup ended) zero-padded to the segment size, named `.partial`
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

// The formats a set of this kind converts to: method "logical" or "physical"; log_file for WAL.
std::vector<std::string> download_formats(const std::string& method, bool log_file);

core::Result<DownloadResult> download_set(repo::Repository& repository, const DownloadRequest& request,
                                          TaskControl& control);

}  // namespace opendbs::engines::postgres
