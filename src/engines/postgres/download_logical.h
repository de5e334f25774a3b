// The conversions of logical sets (download.h): the SQL script and the CSV tar, and the two pieces
// they are built from that tests check on their own — COPY text rows turned into CSV rows, and the
// column names of a table read from pg_dump's CREATE TABLE.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/result.h"
#include "engines/engine.h"
#include "engines/postgres/download_tar.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

// Counts the bytes read from the repository and reports them as the task's progress.
class DownloadProgress {
 public:
  DownloadProgress(TaskControl& control, uint64_t total) : control_(control), total_(total) {}
  core::Status add(uint64_t bytes);  // "Cancelled" once the task is stopped
  uint64_t done() const { return done_; }

 private:
  TaskControl& control_;
  uint64_t total_, done_ = 0;
};

// psql script of every database of a logical set (manifest metadata "databases").
core::Status write_sql_script(repo::Repository& repository, const std::string& set_id,
                              const boost::json::object& metadata, DownloadFile& out, DownloadProgress& progress);
// Tar of one CSV file per table.
core::Status write_csv_tar(repo::Repository& repository, const std::string& set_id, const boost::json::object& metadata,
                           DownloadFile& out, DownloadProgress& progress);

// Turns COPY's text format (tab-separated, \N for NULL, backslash escapes) into CSV as
// COPY (FORMAT csv) writes it: NULL an empty unquoted field, "" an empty string, fields with a comma,
// quote, CR or LF quoted. Rows may arrive split anywhere; `emit` gets whole CSV rows.
class CopyTextToCsv {
 public:
  // `header_for(fields)` is called with the first row's field count and returns the header row
  // (without the line end), or "" for none; it is called with 0 at finish() when there was no row.
  CopyTextToCsv(std::function<std::string(size_t fields)> header_for, std::function<core::Status(std::string_view)> emit)
      : header_for_(std::move(header_for)), emit_(std::move(emit)) {}
  core::Status feed(std::string_view bytes);
  core::Status finish();

 private:
  core::Status row(std::string_view line);

  std::function<std::string(size_t)> header_for_;
  std::function<core::Status(std::string_view)> emit_;
  std::string pending_, out_;
  bool header_done_ = false;
};

// One CSV field, quoted when it needs to be.
std::string csv_field(std::string_view value);

// The columns COPY writes for `schema`.`table` (generated columns left out), from the pre-data DDL
// pg_dump wrote; empty when the statement is not found or lists no columns (typed or inheriting tables).
std::vector<std::string> table_columns(const std::string& ddl, const std::string& schema, const std::string& table);

}  // namespace opendbs::engines::postgres
