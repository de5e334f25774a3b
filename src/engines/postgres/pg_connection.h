// A libpq connection for the PostgreSQL engine: conninfo from an Endpoint, SQL and replication
// commands, and waiting on the socket in slices so that a cancelled task closes the connection
// promptly instead of blocking in libpq.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "engines/engine.h"

namespace opendbs::engines::postgres {

// The application_name of every connection opendbs opens (pg_stat_activity, synchronous_standby_names).
inline constexpr const char* kApplicationName = "opendbs";

enum class ConnectionKind {
  sql,          // an ordinary session
  replication,  // a physical walsender session (replication=true): BASE_BACKUP, START_REPLICATION
};

// "host=... port=... user=... password=... dbname=... [replication=true]" with values quoted.
std::string conninfo(const Endpoint& endpoint, ConnectionKind kind);

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// Rows of text values (NULL → nullopt) of one result set.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::optional<std::string> value(size_t row, const std::string& column) const;
};

class PgConnection {
 public:
  // Connects (with a connect timeout); a failure carries libpq's message. An ordinary session speaks
  // the database's own encoding (client_encoding = server_encoding), whatever the node's environment
  // (PGCLIENTENCODING), the server's configuration or the role's settings choose: names and text then
  // come and go as the bytes stored, and match between every session and pg_dump of the engine.
  static core::Result<std::unique_ptr<PgConnection>> open(const Endpoint& endpoint, ConnectionKind kind,
                                                          int connect_timeout_s = 10);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  PGconn* raw() { return conn_; }
  // Sets client_encoding through libpq (which then escapes and reports in it) to `encoding`, or to
  // the server's encoding when empty; nothing is sent when it is already that.
  core::Status use_client_encoding(const std::string& encoding);
  int server_version() const { return PQserverVersion(conn_); }

  // Runs one command (simple query protocol) and returns its single result set, or the server's
  // error with its SQLSTATE in front ("42710: ...").
  core::Result<Rows> query(const std::string& sql);
  core::Result<Rows> query_params(const std::string& sql, const std::vector<std::string>& params);

  // Sends a command without waiting for its results (then next_result / get_copy_data).
  core::Status send(const std::string& command);
  // The next result of the command sent, waiting for it in slices of at most 200 ms while checking
  // `control`; nullptr when the command has no more results.
  core::Result<PgResult> next_result(TaskControl* control);
  // One CopyData message of a COPY OUT / COPY BOTH; nullopt at the end of the copy.
  core::Result<std::optional<std::string>> get_copy_data(TaskControl* control);
  // Like get_copy_data, but waits at most `wait_ms`: `idle` is set when nothing arrived meanwhile.
  struct CopyRead {
    bool idle = false, end = false;
    std::string bytes;
  };
  core::Result<CopyRead> poll_copy_data(TaskControl* control, int wait_ms);
  // Sends one CopyData message and flushes it.
  core::Status put_copy_data(std::string_view bytes);
  // Ends our side of a COPY BOTH (after the server ended its side), so that the command's results follow.
  core::Status put_copy_end();

  std::string error_message() const;

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  // Waits until the socket is readable, or `wait_ms` passed (then false); -1 = no limit.
  core::Result<bool> wait_readable(TaskControl* control, int wait_ms = -1);
  PGconn* conn_;
};

// The non-NULL values of the first column of `sql`'s rows (names the server lists).
core::Result<std::set<std::string>> query_names(PgConnection& conn, const std::string& sql);

// SQLSTATE of an error returned by query(): the five characters before ": ", or "".
std::string sqlstate_of(const core::Error& error);

core::Error cancelled_error();
// An error the server (or a client program talking to it) reported while doing `what`. A refusal for
// want of a privilege (SQLSTATE 42501, "permission denied") is SourcePermissionDenied: the role lacks a
// grant, which no retry or network change fixes; anything else is SourceUnreachable.
core::Error source_error(const std::string& what, const std::string& detail);
std::string_view source_error_code(std::string_view detail);

// SQL quoting without a connection (standard_conforming_strings, on since PostgreSQL 9.1):
// "an identifier" with " doubled, 'a literal' with ' doubled.
std::string quote_ident(std::string_view s);
std::string quote_literal(std::string_view s);
// The inverse of quote_ident: the identifier whose opening quote is s[at], with "" read as ";
// `at` moves past the closing quote (or to the end when there is none).
std::string unquote_ident(std::string_view s, size_t& at);

}  // namespace opendbs::engines::postgres
