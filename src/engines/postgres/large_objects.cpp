#include "engines/postgres/large_objects.h"

#include <libpq/libpq-fs.h>

#include <algorithm>
#include <charconv>

#include <boost/json.hpp>

#include "core/crypto.h"
#include "core/errors.h"
#include "engines/postgres/dump_session.h"

namespace opendbs::engines::postgres {
namespace {

constexpr size_t kSliceBytes = 1 << 20;         // read from and written to the server at a time
constexpr size_t kInlineBytes = 64 << 10;       // objects up to this size come whole with the oid list
constexpr size_t kSqlSliceBytes = 256 << 10;    // content per lo_put of the SQL download
constexpr uint64_t kObjectsPerTransaction = 1000;  // restore: COMMIT after so many objects
constexpr size_t kMaxRecordLine = 64;

std::string object_name(uint32_t oid) { return "large object " + std::to_string(oid); }

// Writes objects into the stream as the backup reads them, counting them and their bytes.
struct ObjectWriter {
  PgConnection& conn;
  repo::StreamWriter& out;
  TaskControl& control;
  const std::function<void(uint64_t)>& stored;
  std::string buffer = std::string(kSliceBytes, '\0');
  uint64_t count = 0, bytes = 0;

  core::Status content(std::string_view data) {
    OPENDBS_TRY(out.write(data));
    stored(data.size());
    bytes += data.size();
    return {};
  }

  // An object whose whole content the cursor brought.
  core::Status whole(uint32_t oid, std::string_view data) {
    ++count;
    OPENDBS_TRY(out.write(large_object_record_line(oid, data.size())));
    return content(data);
  }

  // A larger object: its size, then its content read in slices.
  core::Status streamed(uint32_t oid) {
    const int fd = lo_open(conn.raw(), oid, INV_READ);
    if (fd < 0) return source_error("opening " + object_name(oid), conn.error_message());
    const pg_int64 size = lo_lseek64(conn.raw(), fd, 0, SEEK_END);
    if (size < 0 || lo_lseek64(conn.raw(), fd, 0, SEEK_SET) != 0)
      return source_error("seeking in " + object_name(oid), conn.error_message());
    ++count;
    OPENDBS_TRY(out.write(large_object_record_line(oid, static_cast<uint64_t>(size))));
    for (uint64_t left = static_cast<uint64_t>(size); left > 0;) {
      if (control.cancelled()) return cancelled_error();
      const int n = lo_read(conn.raw(), fd, buffer.data(), std::min<uint64_t>(left, buffer.size()));
      if (n <= 0)
        return source_error("reading " + object_name(oid), n < 0 ? conn.error_message() : "it ended before its size");
      OPENDBS_TRY(content(std::string_view(buffer.data(), static_cast<size_t>(n))));
      left -= static_cast<uint64_t>(n);
    }
    if (lo_close(conn.raw(), fd) != 0) return source_error("closing " + object_name(oid), conn.error_message());
    return {};
  }
};

std::string stream_of(const boost::json::object& database) {
  auto it = database.find("large_objects");
  if (it == database.end() || !it->value().is_object()) return "";
  auto s = it->value().as_object().find("stream");
  return s != it->value().as_object().end() && s->value().is_string() ? std::string(s->value().as_string()) : "";
}

// Feeds the database's stream through a reader to `sink`; `read(n)` is told of every n bytes read and
// may stop the reading with an error. The objects found must be as many as the manifest says.
core::Status read_objects(repo::Repository& repository, const std::string& set_id, const boost::json::object& database,
                          LargeObjectStreamReader::Sink sink, const std::function<core::Status(uint64_t)>& read) {
  const std::string stream = stream_of(database);
  if (stream.empty()) return {};
  LargeObjectStreamReader reader(std::move(sink));
  OPENDBS_TRY(repository.read_stream(set_id, stream, [&](std::string_view b) -> core::Status {
    OPENDBS_TRY(read(b.size()));
    return reader.feed(b);
  }));
  OPENDBS_TRY(reader.finish());
  if (reader.objects() != large_object_count(database))
    return core::errors::corrupt("the stream " + stream + " holds " + std::to_string(reader.objects()) +
                                 " large objects, the manifest " + std::to_string(large_object_count(database)));
  return {};
}

}  // namespace

std::string large_object_record_line(uint32_t oid, uint64_t length) {
  return std::to_string(oid) + " " + std::to_string(length) + "\n";
}

core::Result<boost::json::object> backup_large_objects(const Endpoint& ep, const std::string& snapshot,
                                                       const std::string& stream, repo::SetWriter& set,
                                                       TaskControl& control,
                                                       const std::function<void(uint64_t)>& stored) {
  OPENDBS_ASSIGN(auto conn, PgConnection::open(ep, ConnectionKind::sql));
  OPENDBS_TRY(use_dump_settings(*conn));
  OPENDBS_TRY(join_snapshot(*conn, snapshot));
  // A cursor (a database may hold millions of large objects) that brings the first kInlineBytes + 1
  // bytes of each: most objects are small and come whole, in one round trip per batch; a longer one
  // is read again on its own, in slices.
  OPENDBS_TRY(conn->query("DECLARE opendbs_large_objects NO SCROLL CURSOR FOR SELECT oid, pg_catalog.encode("
                          "pg_catalog.lo_get(oid, 0, " + std::to_string(kInlineBytes + 1) + "), 'hex')"
                          " FROM pg_catalog.pg_largeobject_metadata ORDER BY oid"));
  auto fetch = [&]() -> core::Result<Rows> {
    auto rows = conn->query("FETCH 100 FROM opendbs_large_objects");
    if (!rows.ok()) return rows.error().with_context("reading the large objects of database " + ep.database);
    return rows;
  };
  OPENDBS_ASSIGN(auto batch, fetch());
  if (batch.rows.empty()) {
    OPENDBS_TRY(conn->query("COMMIT"));
    return boost::json::object{};
  }
  OPENDBS_ASSIGN(auto out, set.add_stream(stream, repo::FileMeta{0, 0600, 0}));
  OPENDBS_TRY(out->write(kLargeObjectsMagic));
  ObjectWriter writer{*conn, *out, control, stored};
  while (!batch.rows.empty()) {
    if (control.cancelled()) return cancelled_error();
    for (const auto& row : batch.rows) {
      const auto oid = static_cast<uint32_t>(std::stoul(row[0].value_or("0")));
      OPENDBS_ASSIGN(auto head, core::from_hex(row[1].value_or("")));
      OPENDBS_TRY(head.size() <= kInlineBytes ? writer.whole(oid, head) : writer.streamed(oid));
    }
    OPENDBS_ASSIGN(batch, fetch());
  }
  OPENDBS_TRY(out->close());
  OPENDBS_TRY(conn->query("COMMIT"));
  return boost::json::object{{"stream", stream}, {"count", writer.count}, {"bytes", writer.bytes}};
}

namespace {

uint64_t large_objects_field(const boost::json::object& database, const char* field) {
  auto it = database.find("large_objects");
  if (it == database.end() || !it->value().is_object()) return 0;
  auto c = it->value().as_object().find(field);
  return c != it->value().as_object().end() && c->value().is_number() ? c->value().to_number<uint64_t>() : 0;
}

}  // namespace

uint64_t large_object_count(const boost::json::object& database) { return large_objects_field(database, "count"); }

uint64_t large_object_bytes(const boost::json::object& database) { return large_objects_field(database, "bytes"); }

core::Status restore_large_objects(PgConnection& conn, repo::Repository& repository, const std::string& set_id,
                                   const boost::json::object& database, TaskControl& control) {
  if (large_object_count(database) == 0) return {};
  OPENDBS_TRY(conn.query("BEGIN"));
  int fd = -1;
  uint64_t in_transaction = 0;
  LargeObjectStreamReader::Sink sink;
  sink.begin = [&](uint32_t oid, uint64_t) -> core::Status {
    if (lo_create(conn.raw(), oid) != oid) return source_error("creating " + object_name(oid), conn.error_message());
    fd = lo_open(conn.raw(), oid, INV_WRITE);
    if (fd < 0) return source_error("opening " + object_name(oid), conn.error_message());
    return {};
  };
  sink.data = [&](uint32_t oid, uint64_t, std::string_view bytes) -> core::Status {
    for (size_t at = 0; at < bytes.size(); at += kSliceBytes) {
      if (control.cancelled()) return cancelled_error();
      const size_t n = std::min(kSliceBytes, bytes.size() - at);
      if (lo_write(conn.raw(), fd, bytes.data() + at, n) != static_cast<int>(n))
        return source_error("writing " + object_name(oid), conn.error_message());
    }
    return {};
  };
  sink.end = [&](uint32_t oid) -> core::Status {
    if (lo_close(conn.raw(), fd) != 0) return source_error("closing " + object_name(oid), conn.error_message());
    if (++in_transaction < kObjectsPerTransaction) return {};
    in_transaction = 0;
    OPENDBS_TRY(conn.query("COMMIT; BEGIN"));
    return {};
  };
  OPENDBS_TRY(read_objects(repository, set_id, database, std::move(sink), [&](uint64_t) -> core::Status {
    return control.cancelled() ? core::Status(cancelled_error()) : core::Status{};
  }));
  OPENDBS_TRY(conn.query("COMMIT"));
  return {};
}

core::Status write_large_objects_sql(repo::Repository& repository, const std::string& set_id,
                                     const boost::json::object& database, DownloadFile& out,
                                     DownloadProgress& progress) {
  const uint64_t count = large_object_count(database);
  if (count == 0) return {};
  OPENDBS_TRY(out.write("\n-- " + std::to_string(count) +
                        " large objects, each under its original oid: created, then written in slices\n"));
  std::string slice;
  uint64_t slice_offset = 0;
  auto put = [&](uint32_t oid) -> core::Status {
    if (slice.empty()) return {};
    OPENDBS_TRY(out.write("SELECT pg_catalog.lo_put('" + std::to_string(oid) + "', " + std::to_string(slice_offset) +
                          ", '\\x" + core::to_hex(slice) + "');\n"));
    slice_offset += slice.size();
    slice.clear();
    return {};
  };
  LargeObjectStreamReader::Sink sink;
  sink.begin = [&](uint32_t oid, uint64_t) {
    slice_offset = 0;
    return out.write("SELECT pg_catalog.lo_create('" + std::to_string(oid) + "');\n");
  };
  sink.data = [&](uint32_t oid, uint64_t, std::string_view bytes) -> core::Status {
    while (!bytes.empty()) {
      const size_t n = std::min(bytes.size(), kSqlSliceBytes - slice.size());
      slice.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      if (slice.size() == kSqlSliceBytes) OPENDBS_TRY(put(oid));
    }
    return {};
  };
  sink.end = put;
  return read_objects(repository, set_id, database, std::move(sink), [&](uint64_t n) { return progress.add(n); });
}

core::Status write_large_objects_tar(repo::Repository& repository, const std::string& set_id,
                                     const boost::json::object& database, const std::string& dir, int64_t mtime_s,
                                     TarWriter& tar, DownloadProgress& progress) {
  if (large_object_count(database) == 0) return {};
  OPENDBS_TRY(tar.add_directory(dir + "/large_objects", 0755, mtime_s));
  LargeObjectStreamReader::Sink sink;
  sink.begin = [&](uint32_t oid, uint64_t length) {
    return tar.begin_file(dir + "/large_objects/" + std::to_string(oid), length, 0644, mtime_s);
  };
  sink.data = [&](uint32_t, uint64_t, std::string_view bytes) { return tar.data(bytes); };
  sink.end = [&](uint32_t) { return tar.end_file(); };
  return read_objects(repository, set_id, database, std::move(sink), [&](uint64_t n) { return progress.add(n); });
}

core::Status LargeObjectStreamReader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (in_object_) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(bytes.size(), length_ - offset_));
      OPENDBS_TRY(sink_.data(oid_, offset_, bytes.substr(0, n)));
      offset_ += n;
      bytes.remove_prefix(n);
      if (offset_ == length_) {
        in_object_ = false;
        ++objects_;
        OPENDBS_TRY(sink_.end(oid_));
      }
      continue;
    }
    const size_t nl = bytes.find('\n');
    line_.append(bytes.substr(0, nl == std::string_view::npos ? bytes.size() : nl + 1));
    bytes.remove_prefix(nl == std::string_view::npos ? bytes.size() : nl + 1);
    if (line_.size() > std::max(kMaxRecordLine, kLargeObjectsMagic.size()))
      return core::errors::corrupt("large object stream: a record line is too long");
    if (nl != std::string_view::npos) OPENDBS_TRY(line_done());
  }
  return {};
}

core::Status LargeObjectStreamReader::line_done() {
  const std::string line = std::move(line_);
  line_.clear();
  if (!magic_done_) {
    if (line != kLargeObjectsMagic) return core::errors::corrupt("not a large object stream of opendbs");
    magic_done_ = true;
    return {};
  }
  const size_t space = line.find(' ');
  const char* end = line.data() + line.size() - 1;  // before the '\n'
  auto oid = std::from_chars(line.data(), line.data() + std::min(space, line.size()), oid_);
  auto length = std::from_chars(line.data() + std::min(space + 1, line.size()), end, length_);
  if (space == std::string::npos || oid.ec != std::errc() || oid.ptr != line.data() + space ||
      length.ec != std::errc() || length.ptr != end)
    return core::errors::corrupt("large object stream: bad record line '" + line.substr(0, line.size() - 1) + "'");
  offset_ = 0;
  OPENDBS_TRY(sink_.begin(oid_, length_));
  if (length_ > 0) {
    in_object_ = true;
    return {};
  }
  ++objects_;
  return sink_.end(oid_);
}

core::Status LargeObjectStreamReader::finish() {
  if (!magic_done_) return core::errors::corrupt("large object stream: it ends before its first line");
  if (in_object_) return core::errors::corrupt("large object stream: it ends inside " + object_name(oid_));
  if (!line_.empty()) return core::errors::corrupt("large object stream: it ends inside a record line");
  return {};
}

}  // namespace opendbs::engines::postgres
