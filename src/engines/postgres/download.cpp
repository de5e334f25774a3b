#include "engines/postgres/download.h"

#include <algorithm>

#include "core/errors.h"
#include "engines/postgres/download_logical.h"
#include "engines/postgres/download_tar.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/postgres_engine.h"

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
  return tar.finish();
}

core::Status write_segment(repo::Repository& repository, const std::string& set_id, DownloadFile& out,
                           DownloadProgress& progress) {
  return repository.read_stream(set_id, "segment", [&](std::string_view bytes) -> core::Status {
    OPENDBS_TRY(progress.add(bytes.size()));
    return out.write(bytes);
  });
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
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(request.set_id));
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
    OPENDBS_TRY(write_segment(repository, request.set_id, out, progress));
    result.extension = "";
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
