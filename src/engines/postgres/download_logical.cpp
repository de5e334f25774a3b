#include "engines/postgres/download_logical.h"

#include <boost/json.hpp>

#include "core/errors.h"
#include "engines/postgres/database_properties.h"
#include "engines/postgres/event_triggers.h"
#include "engines/postgres/large_objects.h"
#include "engines/postgres/logical_backup.h"
#include "engines/postgres/matviews.h"
#include "engines/postgres/named_roles.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/restore_tablespaces.h"
#include "engines/postgres/wal_names.h"

namespace opendbs::engines::postgres {
namespace {

core::Result<std::string> read_text(repo::Repository& repository, const std::string& set_id, const std::string& stream,
                                    DownloadProgress& progress) {
  std::string out;
  OPENDBS_TRY(repository.read_stream(set_id, stream, [&](std::string_view b) -> core::Status {
    out.append(b);
    return progress.add(b.size());
  }));
  return out;
}

core::Status write_line_block(DownloadFile& out, const std::string& text) {
  OPENDBS_TRY(out.write(text));
  return text.empty() || text.back() == '\n' ? core::Status{} : out.write("\n");
}

// psql's \connect for any database name, as pg_dumpall writes it: a plain name as is, others as a
// quoted connection string (names with a line break cannot be written safely and are refused).
core::Result<std::string> connect_command(const std::string& name) {
  if (name.find_first_of("\r\n") != std::string::npos)
    return core::make_error("InvalidParameter", "database name with a line break cannot be written to an SQL script");
  bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (plain) return "\\connect " + name + "\n";
  std::string value = "'";
  for (char c : name) value += c == '\'' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  value += "'";
  return "\\connect -reuse-previous=on " + quote_ident("dbname=" + value) + "\n";
}

core::Status write_database_sql(repo::Repository& repository, const std::string& set_id, const boost::json::object& db,
                                bool several, DownloadFile& out, DownloadProgress& progress) {
  const std::string name = text_of(db, "name");
  const std::string prefix = text_of(db, "prefix");
  if (several) {
    OPENDBS_ASSIGN(auto connect, connect_command(name));
    OPENDBS_TRY(out.write("\n-- Database " + quote_ident(name) + "\nSELECT 'CREATE DATABASE ' || pg_catalog.quote_ident(" +
                          quote_literal(name) + ") WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = " +
                          quote_literal(name) + ")\\gexec\n" + connect));
  }
  OPENDBS_TRY(out.write(roles_named_comment(db)));
  OPENDBS_ASSIGN(auto pre, read_text(repository, set_id, prefix + "pre-data.sql", progress));
  OPENDBS_TRY(write_line_block(out, tablespaces_chosen_at_load(pre)));
  for (const auto& t : db.at("tables").as_array()) {
    const auto& table = t.as_object();
    OPENDBS_TRY(out.write("\nCOPY " + quote_ident(text_of(table, "schema")) + "." + quote_ident(text_of(table, "name")) +
                          " FROM stdin;\n"));
    // COPY's text format escapes every backslash in the data, so no data line can read "\.".
    char last = '\n';
    for (const auto& stream : table_streams(table))  // a table split for parallel copies: its parts in order
      OPENDBS_TRY(repository.read_stream(set_id, stream, [&](std::string_view b) -> core::Status {
        OPENDBS_TRY(progress.add(b.size()));
        if (!b.empty()) last = b.back();
        return out.write(b);
      }));
    OPENDBS_TRY(out.write(last == '\n' ? "\\.\n" : "\n\\.\n"));
  }
  OPENDBS_TRY(write_large_objects_sql(repository, set_id, db, out, progress));
  OPENDBS_ASSIGN(auto sequences, read_text(repository, set_id, prefix + "sequences.sql", progress));
  OPENDBS_TRY(out.write("\n"));
  OPENDBS_TRY(write_line_block(out, sequences));
  OPENDBS_ASSIGN(auto post, read_text(repository, set_id, prefix + "post-data.sql", progress));
  OPENDBS_TRY(write_line_block(out, tablespaces_chosen_at_load(post)));
  // post-data ends with the event triggers, which may refuse the refreshes (event_triggers.h).
  const auto frame = event_trigger_frame_sql(post);
  OPENDBS_TRY(out.write(frame.disable));
  OPENDBS_TRY(out.write(refresh_matviews_sql(db)));
  OPENDBS_TRY(out.write(database_properties_sql(db)));
  return out.write(frame.enable);
}

// A tar member name for a table: '/' and '%' in names are percent-encoded so that each table is one
// file directly under its database's directory.
std::string member_part(std::string_view s) {
  std::string out;
  for (char c : s) out += c == '/' ? std::string("%2F") : c == '%' ? std::string("%25") : std::string(1, c);
  return out;
}

std::string header_row(const std::vector<std::string>& columns) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + csv_field(columns[i]);
  return out;
}

// An identifier as pg_dump writes it, quoted or not, starting at `at`; `at` moves past it.
std::string parse_identifier(std::string_view s, size_t& at) {
  if (at < s.size() && s[at] == '"') return unquote_ident(s, at);
  std::string out;
  while (at < s.size() && s[at] != ' ' && s[at] != '.' && s[at] != '(' && s[at] != ',') out += s[at++];
  return out;
}

}  // namespace

core::Status write_sql_script(repo::Repository& repository, const std::string& set_id,
                              const boost::json::object& metadata, DownloadFile& out, DownloadProgress& progress) {
  const auto& databases = metadata.at("databases").as_array();
  const bool several = databases.size() > 1;
  const int64_t consistent_ms = metadata.contains("consistent_ms") ? metadata.at("consistent_ms").to_number<int64_t>() : 0;
  std::string head = "-- opendbs: logical backup set " + set_id + " (PostgreSQL " +
                     boost::json::serialize(metadata.contains("server_version") ? metadata.at("server_version")
                                                                                : boost::json::value("unknown")) +
                     "), consistent at " + pg_timestamp_literal(consistent_ms) + "\n";
  head += several ? "-- " + std::to_string(databases.size()) +
                        " databases: each is created when it does not exist, then loaded. Run it connected to\n"
                        "-- any database:  psql -v ON_ERROR_STOP=1 -d postgres -f FILE\n"
                  : "-- One database: load it into an empty database of your choice:\n"
                    "--   createdb NEWDB && psql -v ON_ERROR_STOP=1 -d NEWDB -f FILE\n";
  OPENDBS_TRY(out.write(head));
  for (const auto& db : databases)
    OPENDBS_TRY(write_database_sql(repository, set_id, db.as_object(), several, out, progress));
  return {};
}

core::Status write_csv_tar(repo::Repository& repository, const std::string& set_id, const boost::json::object& metadata,
                           DownloadFile& out, DownloadProgress& progress) {
  TarWriter tar(out);
  const int64_t mtime_s =
      (metadata.contains("consistent_ms") ? metadata.at("consistent_ms").to_number<int64_t>() : 0) / 1000;
  for (const auto& d : metadata.at("databases").as_array()) {
    const auto& db = d.as_object();
    const std::string dir = member_part(text_of(db, "name"));
    OPENDBS_TRY(tar.add_directory(dir, 0755, mtime_s));
    OPENDBS_ASSIGN(auto ddl, read_text(repository, set_id, text_of(db, "prefix") + "pre-data.sql", progress));
    for (const auto& t : db.at("tables").as_array()) {
      const auto& table = t.as_object();
      const std::string schema = text_of(table, "schema"), name = text_of(table, "name");
      const auto columns = table_columns(ddl, schema, name);
      OPENDBS_TRY(tar.begin_file(dir + "/" + member_part(schema) + "." + member_part(name) + ".csv", std::nullopt, 0644,
                                 mtime_s));
      CopyTextToCsv csv(
          [&](size_t fields) {
            if (fields == 0 || columns.size() == fields) return header_row(columns);
            std::vector<std::string> generic;  // the DDL did not tell: columns by position
            for (size_t i = 1; i <= fields; ++i) generic.push_back("column" + std::to_string(i));
            return header_row(generic);
          },
          [&](std::string_view rows) { return tar.data(rows); });
      for (const auto& stream : table_streams(table))
        OPENDBS_TRY(repository.read_stream(set_id, stream, [&](std::string_view b) -> core::Status {
          OPENDBS_TRY(progress.add(b.size()));
          return csv.feed(b);
        }));
      OPENDBS_TRY(csv.finish());
      OPENDBS_TRY(tar.end_file());
    }
    OPENDBS_TRY(write_large_objects_tar(repository, set_id, db, dir, mtime_s, tar, progress));
  }
  return tar.finish();
}

std::string csv_field(std::string_view value) {
  if (!value.empty() && value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

core::Status CopyTextToCsv::feed(std::string_view bytes) {
  size_t at = 0;
  for (size_t nl = bytes.find('\n'); nl != std::string_view::npos; nl = bytes.find('\n', at)) {
    if (pending_.empty()) {
      OPENDBS_TRY(row(bytes.substr(at, nl - at)));
    } else {
      pending_.append(bytes.substr(at, nl - at));
      OPENDBS_TRY(row(pending_));
      pending_.clear();
    }
    at = nl + 1;
  }
  pending_.append(bytes.substr(at));
  if (out_.size() >= (1 << 16)) {
    OPENDBS_TRY(emit_(out_));
    out_.clear();
  }
  return {};
}

core::Status CopyTextToCsv::finish() {
  if (!pending_.empty()) return core::errors::corrupt("COPY data ends inside a row");
  if (!header_done_) {
    header_done_ = true;
    const std::string header = header_for_(0);
    if (!header.empty()) out_ += header + "\n";
  }
  if (!out_.empty()) OPENDBS_TRY(emit_(out_));
  out_.clear();
  return {};
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One field of COPY's text format with its backslash escapes resolved.
std::string unescape(std::string_view f) {
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '\\' || i + 1 == f.size()) {
      out += f[i];
      continue;
    }
    const char c = f[++i];
    switch (c) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': {
        int v = 0, n = 0;
        for (; n < 2 && i + 1 < f.size() && hex_digit(f[i + 1]) >= 0; ++n) v = v * 16 + hex_digit(f[++i]);
        out += n == 0 ? 'x' : static_cast<char>(v);
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0';
          for (int n = 1; n < 3 && i + 1 < f.size() && f[i + 1] >= '0' && f[i + 1] <= '7'; ++n) v = v * 8 + (f[++i] - '0');
          out += static_cast<char>(v);
        } else {
          out += c;  // \\ and any other escaped character stand for themselves
        }
    }
  }
  return out;
}

}  // namespace

core::Status CopyTextToCsv::row(std::string_view line) {
  size_t fields = 1;
  for (char c : line) fields += c == '\t';
  if (!header_done_) {
    header_done_ = true;
    const std::string header = header_for_(fields);
    if (!header.empty()) out_ += header + "\n";
  }
  size_t at = 0;
  for (size_t i = 0; i < fields; ++i) {
    size_t end = line.find('\t', at);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view field = line.substr(at, end - at);
    if (i) out_ += ',';
    if (field != "\\N") out_ += csv_field(unescape(field));
    at = end + 1;
  }
  out_ += '\n';
  return {};
}

std::vector<std::string> table_columns(const std::string& ddl, const std::string& schema, const std::string& table) {
  size_t at = 0;
  while (at < ddl.size()) {
    size_t end = ddl.find('\n', at);
    if (end == std::string::npos) end = ddl.size();
    std::string_view line(ddl.data() + at, end - at);
    at = end + 1;
    for (std::string_view start : {"CREATE TABLE ", "CREATE UNLOGGED TABLE "}) {
      if (!line.starts_with(start) || !line.ends_with(" (")) continue;
      size_t p = start.size();
      const std::string s = parse_identifier(line, p);
      if (p >= line.size() || line[p] != '.') continue;
      ++p;
      const std::string t = parse_identifier(line, p);
      if (s != schema || t != table || line.substr(p) != " (") continue;
      std::vector<std::string> columns;
      while (at < ddl.size()) {
        end = ddl.find('\n', at);
        if (end == std::string::npos) end = ddl.size();
        std::string_view col(ddl.data() + at, end - at);
        at = end + 1;
        if (col.starts_with(")")) return columns;
        size_t c = col.find_first_not_of(' ');
        if (c == std::string_view::npos || col.substr(c).starts_with("CONSTRAINT ")) continue;
        std::string name = parse_identifier(col, c);
        if (col.find(" GENERATED ALWAYS AS (") == std::string_view::npos) columns.push_back(std::move(name));
      }
      return columns;
    }
  }
  return {};
}

}  // namespace opendbs::engines::postgres
