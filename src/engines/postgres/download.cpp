#include "engines/postgres/download.h"

#include <algorithm>
#include <ctime>

#include "core/errors.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/download_logical.h"
#include "engines/postgres/download_tar.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/postgres_engine.h"
#include "engines/postgres/server_config_files.h"
#include "engines/postgres/wal_sets.h"

namespace opendbs::engines::postgres {
namespace {

uint64_t stream_size(const repo::StreamEntry& s) {
  uint64_t n = 0;
  for (const auto& c : s.chunks) n += c.raw_len;
  return n;
}

uint64_t set_size(const repo::Manifest& m) {
  uint64_t n = 0;
  for (const auto& s : m.streams) n += stream_size(s);
  return n;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The data directory as a tar: every stream of the set under its own name (directories first, as
// stored), with its mode and mtime. backup_label and the WAL from the backup's start to its end are
// streams of the set, so the extracted directory starts as PostgreSQL starts a pg_basebackup copy.
// A set whose source kept its configuration files elsewhere gets the minimal ones a restore writes.
core::Status write_native_tar(repo::Repository& repository, const repo::Manifest& manifest, DownloadFile& out,
                              DownloadProgress& progress) {
  TarWriter tar(out);
  for (const auto& s : manifest.streams) {
    const int64_t mtime_s = s.meta.mtime_ms / 1000;
    if (repo::is_directory(s.meta)) {
      OPENDBS_TRY(tar.add_directory(s.name, s.meta.mode, mtime_s));
      continue;
    }
    OPENDBS_TRY(tar.begin_file(s.name, stream_size(s), s.meta.mode, mtime_s));
    OPENDBS_TRY(repository.read_stream(manifest.set_id, s.name, [&](std::string_view bytes) -> core::Status {
      OPENDBS_TRY(progress.add(bytes.size()));
      return tar.data(bytes);
    }));
    OPENDBS_TRY(tar.end_file());
  }
  for (const auto& name : config_files_missing_from(manifest)) {
    const std::string text = minimal_server_config(name);
    OPENDBS_TRY(tar.begin_file(name, text.size(), 0600, static_cast<int64_t>(std::time(nullptr))));
    OPENDBS_TRY(tar.data(text));
    OPENDBS_TRY(tar.end_file());
  }
  return tar.finish();
}

// The set a log file's download reads: the file's own set, or — for the segment that was filling
// when its log backup ended (UNCOMPLETED), which has none — its newest partial set.
core::Result<std::string> log_file_set(repo::Repository& repository, const std::string& set_id) {
  auto own = repository.load_manifest(set_id);
  if (own.ok() || !is_not_stored(own.error())) return own.ok() ? core::Result<std::string>(set_id) : own.error();
  OPENDBS_ASSIGN(auto ids, repository.list_sets());
  const std::string prefix = set_id + ".partial-";
  std::string newest;
  uint64_t most = 0;
  for (const auto& id : ids) {
    if (id.rfind(prefix, 0) != 0) continue;
    const std::string digits = id.substr(prefix.size());
    if (digits.empty() || digits.size() > 19 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    if (const uint64_t bytes = std::stoull(digits); newest.empty() || bytes > most) {
      most = bytes;
      newest = id;
    }
  }
  if (newest.empty()) return own.error();
  return newest;
}

// A WAL file as PostgreSQL keeps it: a segment whole, a history file as it is, and a segment stored in
// part — a timeline's last one (`<segment>.partial`, up to where the source left the timeline) or
// one that was filling (its newest partial set) — zero-padded to the segment size, as PostgreSQL
// archives a `.partial` and pg_receivewal writes one: without the suffix in pg_wal, recovery reads
// it up to its end. `padded`: whether it was.
core::Result<bool> write_wal_file(repo::Repository& repository, const repo::Manifest& manifest, DownloadFile& out,
                                  DownloadProgress& progress) {
  OPENDBS_TRY(repository.read_stream(manifest.set_id, "segment", [&](std::string_view bytes) -> core::Status {
    OPENDBS_TRY(progress.add(bytes.size()));
    return out.write(bytes);
  }));
  const auto& m = manifest.engine_metadata;
  const std::string kind = meta_text(m, "kind");
  if (kind != wal_kind::kTimelineEnd && kind != wal_kind::kFilling) return false;
  const auto segment_size = static_cast<uint64_t>(meta_int(m, meta::kSegmentSize, 0));
  if (segment_size == 0 || out.size() > segment_size)
    return core::errors::corrupt("set " + manifest.set_id + " is not part of a WAL segment");
  const std::string zeros(1 << 20, '\0');
  while (out.size() < segment_size)
    OPENDBS_TRY(out.write(std::string_view(zeros).substr(0, std::min<uint64_t>(zeros.size(), segment_size - out.size()))));
  return true;
}

}  // namespace

core::Status DownloadProgress::add(uint64_t bytes) {
  done_ += bytes;
  control_.progress(static_cast<int>(std::min<uint64_t>(99, 100 * done_ / std::max<uint64_t>(1, total_))), done_);
  if (control_.cancelled()) return cancelled_error();
  return {};
}

std::vector<std::string> download_formats(const std::string& method, bool log_file) {
  if (log_file || method == "physical") return {"Native"};
  if (method == "logical") return {"SQL", "CSV"};
  return {};
}

core::Result<DownloadResult> download_set(repo::Repository& repository, const DownloadRequest& request,
                                          TaskControl& control) {
  OPENDBS_ASSIGN(const auto set_id, request.log_file ? log_file_set(repository, request.set_id)
                                                     : core::Result<std::string>(request.set_id));
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(set_id));
  const auto& meta = manifest.engine_metadata;
  const std::string method = meta.contains("method") && meta.at("method").is_string()
                                 ? std::string(meta.at("method").as_string())
                                 : std::string(request.log_file ? "wal" : "physical");
  const auto formats = download_formats(method, request.log_file);
  if (std::find(formats.begin(), formats.end(), request.format) == formats.end())
    return core::make_error("InvalidParameter",
                            "BackupSetDataFormat " + request.format + " is not available for " +
                                (request.log_file ? std::string("a WAL segment") : "a " + method + " PostgreSQL set") +
                                ": choose " + joined(formats));
  OPENDBS_ASSIGN(auto out, DownloadFile::create(request.out_path));
  DownloadProgress progress(control, set_size(manifest));
  DownloadResult result;
  if (request.log_file) {
    OPENDBS_ASSIGN(const bool padded, write_wal_file(repository, manifest, out, progress));
    // A filling segment's file is named as pg_receivewal names one (a timeline's end already is).
    result.extension = padded && set_id != request.set_id ? "partial" : "";
  } else if (method == "physical") {
    OPENDBS_TRY(write_native_tar(repository, manifest, out, progress));
    result.extension = "tar";
  } else if (request.format == "SQL") {
    OPENDBS_TRY(write_sql_script(repository, request.set_id, meta, out, progress));
    result.extension = "sql";
  } else {
    OPENDBS_TRY(write_csv_tar(repository, request.set_id, meta, out, progress));
    result.extension = "csv.tar";
  }
  result.bytes = out.size();
  OPENDBS_TRY(out.finish());
  control.progress(100, progress.done());
  return result;
}

}  // namespace opendbs::engines::postgres

namespace opendbs::engines {

// PostgresEngine's download lives here with the conversions it dispatches to.
core::Result<DownloadResult> PostgresEngine::download(const PlanSpec& plan, repo::Repository& repository,
                                                      const DownloadRequest& request, TaskControl& control) {
  (void)plan;
  return postgres::download_set(repository, request, control);
}

}  // namespace opendbs::engines
