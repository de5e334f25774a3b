// A throwaway PostgreSQL server for the engine's integration tests: initdb into a temporary
// directory, a free port, trust authentication on 127.0.0.1, and a Unix socket inside the directory.
// PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (runuser).
// The binaries are Debian's PostgreSQL 15 unless a bin directory is given (server_bin_dir).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engines/engine.h"

namespace opendbs::testing {

// Debian's PostgreSQL 15 (postgresql-15) binaries, ending in '/'.
std::string debian_bin_dir();

class PgServer {
 public:
  // A new cluster with `extra_conf` appended to postgresql.conf; nullptr (and `error`) on failure.
  static std::unique_ptr<PgServer> create(std::string* error, const std::string& extra_conf = "",
                                          const std::string& bin_dir = debian_bin_dir());
  // A server on an existing data directory (e.g. a restore), which becomes owned by the server user.
  static std::unique_ptr<PgServer> open(const std::string& data_dir, std::string* error,
                                        const std::string& bin_dir = debian_bin_dir());
  ~PgServer();

  engines::Endpoint endpoint(const std::string& user = "postgres") const;
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }

  // The first column of the first row ("" when none); throws std::runtime_error on an SQL error.
  std::string query(const std::string& sql) const;
  // md5 of the table's rows in key order: equal checksums, equal contents.
  std::string checksum(const std::string& table) const;

  // Queries one database of the server: Query{server, "shop"}("SELECT ...").
  struct Query {
    const PgServer& server;
    std::string database;
    std::string operator()(const std::string& sql) const;
  };

  bool start(std::string* error);
  void stop();
  std::string log() const;       // the server's whole log
  std::string log_tail() const;  // its last 3000 bytes

 private:
  PgServer() = default;
  std::string bin_;       // initdb, pg_ctl and postgres, ending in '/'
  std::string root_;      // temporary directory owning everything (removed by the destructor), or ""
  std::string data_dir_;
  std::string socket_dir_;
  int port_ = 0;
  bool running_ = false;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// Runs a shell command as the server user; returns its exit status.
int run_as_server_user(const std::string& command);
std::string make_server_temp_dir(const std::string& tag);

// The bin directory (ending in '/') of PostgreSQL `major`'s initdb, pg_ctl and postgres: Debian's
// for 15, tests/pgversions' npm packages for the others (scripts/install-deps installs them); ""
// when not installed. Like this build's opendbs (wal-fetch), they must be reachable by the server user.
std::string server_bin_dir(int major);

}  // namespace opendbs::testing
