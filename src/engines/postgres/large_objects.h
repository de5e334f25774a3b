// Large objects (pg_largeobject) in logical sets. `pg_dump --schema-only` leaves them out and the
// COPYs of user tables never see them, so a logical backup reads them itself, on the database's
// exported snapshot, into one stream per database; a restore recreates each under its original oid
// (tables refer to large objects by oid) after the tables' data, and the downloads write them out.
// Owners and grants of large objects are not kept, like those of every other object of a logical set
// (pg_dump --no-owner --no-privileges): the restoring role owns them.
//
// The stream is the line "opendbs-large-objects 1", then for each object, in oid order, the line
// "<oid> <length>" and exactly <length> bytes of its content. The database's manifest entry names it:
// "large_objects": {"stream": ..., "count": ..., "bytes": ...}; no entry means no large objects (and
// sets written before large objects were backed up have none).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/result.h"
#include "engines/engine.h"
#include "engines/postgres/download_logical.h"
#include "engines/postgres/pg_connection.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

inline constexpr std::string_view kLargeObjectsMagic = "opendbs-large-objects 1\n";

// Reads every large object of `ep.database` on the exported `snapshot` into the stream `stream` of
// `set`: those of up to 64 KiB a hundred at a time, a larger one in slices of 1 MiB (never a whole
// object in memory); `stored(n)` is told of every n bytes
// stored. Returns the manifest value for the database's "large_objects", or an empty object when the
// database has none (then no stream is written). A large object the role may not read fails with
// SourcePermissionDenied naming it.
core::Result<boost::json::object> backup_large_objects(const Endpoint& ep, const std::string& snapshot,
                                                       const std::string& stream, repo::SetWriter& set,
                                                       TaskControl& control,
                                                       const std::function<void(uint64_t)>& stored);

// The number of large objects a database entry of a set's manifest holds (0 without an entry).
uint64_t large_object_count(const boost::json::object& database);
// Their bytes (0 without an entry).
uint64_t large_object_bytes(const boost::json::object& database);

// Recreates the large objects of the set's `database` entry through `conn` (connected to the restored
// database) under their original oids, in transactions of up to 1000 objects; a cancel stops it
// between slices. Nothing to do when the entry has none.
core::Status restore_large_objects(PgConnection& conn, repo::Repository& repository, const std::string& set_id,
                                   const boost::json::object& database, TaskControl& control);

// The SQL download's part for them: `SELECT pg_catalog.lo_create('<oid>');` per object, then
// `SELECT pg_catalog.lo_put('<oid>', <offset>, '\x…');` per slice of 256 KiB.
core::Status write_large_objects_sql(repo::Repository& repository, const std::string& set_id,
                                     const boost::json::object& database, DownloadFile& out, DownloadProgress& progress);
// The CSV download's part for them: the file `<dir>/large_objects/<oid>` per object, its raw content.
core::Status write_large_objects_tar(repo::Repository& repository, const std::string& set_id,
                                     const boost::json::object& database, const std::string& dir, int64_t mtime_s,
                                     TarWriter& tar, DownloadProgress& progress);

// Parses the stream as it arrives in pieces of any size: begin(oid, length), then data(oid, offset,
// bytes) for the content (pieces as they come, never empty), then end(oid), for each object.
class LargeObjectStreamReader {
 public:
  struct Sink {
    std::function<core::Status(uint32_t oid, uint64_t length)> begin;
    std::function<core::Status(uint32_t oid, uint64_t offset, std::string_view bytes)> data;
    std::function<core::Status(uint32_t oid)> end;
  };
  explicit LargeObjectStreamReader(Sink sink) : sink_(std::move(sink)) {}
  core::Status feed(std::string_view bytes);
  // Corrupt when the stream stopped inside its first line, a record's line or an object's content.
  core::Status finish();
  uint64_t objects() const { return objects_; }

 private:
  core::Status line_done();

  Sink sink_;
  bool magic_done_ = false;
  std::string line_;
  uint32_t oid_ = 0;
  uint64_t length_ = 0, offset_ = 0, objects_ = 0;
  bool in_object_ = false;
};

// The line that starts an object's record: "<oid> <length>\n".
std::string large_object_record_line(uint32_t oid, uint64_t length);

}  // namespace opendbs::engines::postgres
