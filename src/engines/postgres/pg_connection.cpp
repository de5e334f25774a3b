#include "engines/postgres/pg_connection.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cerrno>

#include "core/errors.h"

namespace opendbs::engines::postgres {
namespace {

constexpr int kPollSliceMs = 200;

std::string quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

core::Result<Rows> rows_of(PGresult* raw, PGconn* conn) {
  PgResult result(raw);
  if (!result) return source_error("query", trimmed(PQerrorMessage(conn)));
  const auto status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    return source_error("query", std::string(state ? state : "") + ": " + trimmed(PQresultErrorMessage(result.get())));
  }
  Rows rows;
  for (int c = 0; c < PQnfields(result.get()); ++c) rows.columns.emplace_back(PQfname(result.get(), c));
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    auto& row = rows.rows.emplace_back();
    for (int c = 0; c < PQnfields(result.get()); ++c)
      row.push_back(PQgetisnull(result.get(), r, c) ? std::nullopt
                                                     : std::optional<std::string>(PQgetvalue(result.get(), r, c)));
  }
  return rows;
}

}  // namespace

std::string conninfo(const Endpoint& endpoint, ConnectionKind kind) {
  std::string out = "host=" + quoted(endpoint.host.empty() ? "localhost" : endpoint.host);
  if (endpoint.port > 0) out += " port=" + std::to_string(endpoint.port);
  if (!endpoint.user.empty()) out += " user=" + quoted(endpoint.user);
  if (!endpoint.password.empty()) out += " password=" + quoted(endpoint.password);
  out += " dbname=" + quoted(endpoint.database.empty() ? "postgres" : endpoint.database);
  out += std::string(" sslmode=") + (endpoint.ssl ? "require" : "prefer");
  out += std::string(" application_name=") + kApplicationName;
  // A peer that vanished without closing (a host frozen or cut off, an expired NAT entry) is found by
  // TCP within about a minute, whether the connection idles (keepalives) or has data unacknowledged
  // (tcp_user_timeout), instead of a read that waits forever. Ignored for Unix sockets.
  out += " keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3 tcp_user_timeout=60000";
  if (kind == ConnectionKind::replication) out += " replication=true";
  return out;
}

std::optional<std::string> Rows::value(size_t row, const std::string& column) const {
  for (size_t c = 0; c < columns.size(); ++c)
    if (columns[c] == column && row < rows.size()) return rows[row][c];
  return std::nullopt;
}

core::Result<std::unique_ptr<PgConnection>> PgConnection::open(const Endpoint& endpoint, ConnectionKind kind,
                                                               int connect_timeout_s) {
  const std::string info = conninfo(endpoint, kind) + " connect_timeout=" + std::to_string(connect_timeout_s);
  PGconn* conn = PQconnectdb(info.c_str());
  if (conn == nullptr) return core::make_error("SourceUnreachable", "out of memory creating a libpq connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return core::make_error("SourceUnreachable", "cannot connect to PostgreSQL at " + endpoint.host + ":" +
                                                     std::to_string(endpoint.port) + ": " + message);
  }
  std::unique_ptr<PgConnection> connection(new PgConnection(conn));
  // A physical walsender takes no SET (and, attached to no database, converts nothing).
  if (kind == ConnectionKind::sql) OPENDBS_TRY(connection->use_client_encoding(""));
  return connection;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

core::Status PgConnection::use_client_encoding(const std::string& encoding) {
  const char* server = PQparameterStatus(conn_, "server_encoding");
  const std::string wanted = !encoding.empty() ? encoding : server ? server : "";
  const char* current = PQparameterStatus(conn_, "client_encoding");
  if (wanted.empty() || (current != nullptr && wanted == current)) return {};
  if (PQsetClientEncoding(conn_, wanted.c_str()) != 0)
    return source_error("setting client_encoding to " + wanted, error_message());
  return {};
}

core::Result<Rows> PgConnection::query(const std::string& sql) { return rows_of(PQexec(conn_, sql.c_str()), conn_); }

core::Result<Rows> PgConnection::query_params(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  return rows_of(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                              nullptr, 0),
                 conn_);
}

core::Status PgConnection::send(const std::string& command) {
  if (PQsendQuery(conn_, command.c_str()) != 1) return source_error("sending a command", error_message());
  return {};
}

core::Result<bool> PgConnection::wait_readable(TaskControl* control, int wait_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms < 0 ? 0 : wait_ms);
  for (;;) {
    if (control != nullptr && control->cancelled()) return cancelled_error();
    int slice = kPollSliceMs;
    if (wait_ms >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      slice = std::min<int>(slice, static_cast<int>(left.count()));
    }
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    if (fd.fd < 0) return source_error("waiting for the server", "the connection is closed");
    const int n = ::poll(&fd, 1, slice);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return source_error("waiting for the server", "poll failed");
  }
}

core::Result<PgResult> PgConnection::next_result(TaskControl* control) {
  for (;;) {
    if (PQconsumeInput(conn_) != 1) return source_error("reading a result", error_message());
    if (!PQisBusy(conn_)) return PgResult(PQgetResult(conn_));
    OPENDBS_TRY(wait_readable(control));
  }
}

core::Result<PgConnection::CopyRead> PgConnection::poll_copy_data(TaskControl* control, int wait_ms) {
  for (bool waited = false;; waited = true) {
    char* buffer = nullptr;
    const int n = PQgetCopyData(conn_, &buffer, 1);
    CopyRead out;
    if (n > 0) {
      out.bytes.assign(buffer, static_cast<size_t>(n));
      PQfreemem(buffer);
      return out;
    }
    if (n == -1) {
      out.end = true;
      return out;
    }
    if (n == -2) return source_error("reading the copy stream", error_message());
    if (waited && wait_ms >= 0) {
      out.idle = true;
      return out;
    }
    OPENDBS_ASSIGN(const bool readable, wait_readable(control, wait_ms));
    if (readable && PQconsumeInput(conn_) != 1) return source_error("reading the copy stream", error_message());
    if (!readable) {
      out.idle = true;
      return out;
    }
  }
}

core::Result<std::optional<std::string>> PgConnection::get_copy_data(TaskControl* control) {
  for (;;) {
    OPENDBS_ASSIGN(auto read, poll_copy_data(control, -1));
    if (read.end) return std::optional<std::string>();
    if (!read.idle) return std::optional<std::string>(std::move(read.bytes));
  }
}

core::Status PgConnection::put_copy_data(std::string_view bytes) {
  if (PQputCopyData(conn_, bytes.data(), static_cast<int>(bytes.size())) != 1 || PQflush(conn_) != 0)
    return source_error("sending to the server", error_message());
  return {};
}

core::Status PgConnection::put_copy_end() {
  if (PQputCopyEnd(conn_, nullptr) != 1 || PQflush(conn_) != 0)
    return source_error("ending the copy stream", error_message());
  return {};
}

std::string PgConnection::error_message() const { return trimmed(PQerrorMessage(conn_)); }

core::Result<std::set<std::string>> query_names(PgConnection& conn, const std::string& sql) {
  OPENDBS_ASSIGN(auto rows, conn.query(sql));
  std::set<std::string> names;
  for (const auto& row : rows.rows)
    if (row[0]) names.insert(*row[0]);
  return names;
}

std::string sqlstate_of(const core::Error& error) {
  const auto at = error.message.find(": ");
  // Messages read "query: XXXXX: text"; the SQLSTATE is the second field.
  if (at == std::string::npos) return "";
  const auto rest = error.message.substr(at + 2);
  return rest.size() > 5 && rest[5] == ':' ? rest.substr(0, 5) : "";
}

namespace {
std::string quoted(std::string_view s, char quote) {
  std::string out(1, quote);
  for (char c : s) {
    out += c;
    if (c == quote) out += c;
  }
  return out + quote;
}
}  // namespace

std::string quote_ident(std::string_view s) { return quoted(s, '"'); }
std::string quote_literal(std::string_view s) { return quoted(s, '\''); }

std::string unquote_ident(std::string_view s, size_t& at) {
  std::string out;
  for (++at; at < s.size(); ++at) {
    if (s[at] != '"') {
      out += s[at];
    } else if (at + 1 < s.size() && s[at + 1] == '"') {
      out += '"';
      ++at;
    } else {
      ++at;
      break;
    }
  }
  return out;
}

core::Error cancelled_error() { return core::make_error("Cancelled", "cancelled"); }

std::string_view source_error_code(std::string_view detail) {
  const bool denied = detail.starts_with("42501:") || detail.find("permission denied") != std::string_view::npos;
  return denied ? "SourcePermissionDenied" : "SourceUnreachable";
}

core::Error source_error(const std::string& what, const std::string& detail) {
  return core::make_error(source_error_code(detail), "PostgreSQL " + what + " failed: " + detail);
}

}  // namespace opendbs::engines::postgres
