#include "pg_server.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace opendbs::testing {
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string debian_bin_dir() { return "/usr/lib/postgresql/15/bin/"; }

std::string server_bin_dir(int major) {
  if (major == 15) return debian_bin_dir();
  // The npm packages' binaries find their libraries and share/ relative to themselves.
  const std::string bin = std::string(OPENDBS_SOURCE_DIR) + "/tests/pgversions/node_modules/pg" +
                          std::to_string(major) + "/native/bin/";
  return std::filesystem::exists(bin + "postgres") ? bin : "";
}

int run_as_server_user(const std::string& command) {
  const std::string full =
      ::geteuid() == 0 ? "runuser -u postgres -- sh -c " + shell_quote(command) : "sh -c " + shell_quote(command);
  return std::system(full.c_str());
}

std::string make_server_temp_dir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("opendbs-pg-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) return "";
  if (::geteuid() == 0) (void)std::system(("chown postgres:postgres " + shell_quote(tmpl)).c_str());
  return tmpl;
}

std::unique_ptr<PgServer> PgServer::create(std::string* error, const std::string& extra_conf,
                                           const std::string& bin_dir) {
  std::unique_ptr<PgServer> s(new PgServer);
  s->bin_ = bin_dir;
  s->root_ = make_server_temp_dir("src");
  s->data_dir_ = s->root_ + "/data";
  s->socket_dir_ = s->root_;
  if (run_as_server_user(s->bin_ + "initdb -A trust -U postgres -N -D " + shell_quote(s->data_dir_) + " > " +
                         shell_quote(s->root_ + "/initdb.log") + " 2>&1") != 0) {
    *error = "initdb failed, see " + s->root_ + "/initdb.log";
    return nullptr;
  }
  std::ofstream conf(s->data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "\nlisten_addresses = '127.0.0.1'\nwal_level = replica\nmax_wal_senders = 10\nmax_replication_slots = 10\n"
       << "fsync = off\nshared_buffers = 32MB\nlog_min_messages = warning\n"
       << extra_conf << "\n";
  conf.close();
  std::ofstream hba(s->data_dir_ + "/pg_hba.conf", std::ios::app);
  hba << "host replication all 127.0.0.1/32 trust\n";
  hba.close();
  if (!s->start(error)) return nullptr;
  return s;
}

std::unique_ptr<PgServer> PgServer::open(const std::string& data_dir, std::string* error,
                                         const std::string& bin_dir) {
  std::unique_ptr<PgServer> s(new PgServer);
  s->bin_ = bin_dir;
  s->data_dir_ = data_dir;
  s->socket_dir_ = make_server_temp_dir("sock");
  if (::geteuid() == 0) (void)std::system(("chown -R postgres:postgres " + shell_quote(data_dir)).c_str());
  if (!s->start(error)) return nullptr;
  return s;
}

bool PgServer::start(std::string* error) {
  if (port_ == 0) port_ = free_port();  // a restart keeps the port
  const std::string log = socket_dir_ + "/server.log";
  const std::string cmd = bin_ + "pg_ctl -w -t 60 -D " + shell_quote(data_dir_) + " -l " + shell_quote(log) +
                          " -o " + shell_quote("-p " + std::to_string(port_) + " -k " + socket_dir_) + " start > /dev/null";
  if (run_as_server_user(cmd) != 0) {
    *error = "pg_ctl start failed: " + log_tail();
    return false;
  }
  running_ = true;
  return true;
}

void PgServer::stop() {
  if (!running_) return;
  (void)run_as_server_user(bin_ + "pg_ctl -w -m fast -D " + shell_quote(data_dir_) + " stop > /dev/null 2>&1");
  running_ = false;
}

PgServer::~PgServer() {
  stop();
  std::error_code ec;
  if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  if (root_.empty() && !socket_dir_.empty()) std::filesystem::remove_all(socket_dir_, ec);
}

std::string PgServer::log() const {
  std::ifstream in(socket_dir_ + "/server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string PgServer::log_tail() const {
  const std::string all = log();
  return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
}

engines::Endpoint PgServer::endpoint(const std::string& user) const {
  engines::Endpoint e;
  e.host = "127.0.0.1";
  e.port = port_;
  e.user = user;
  e.database = "postgres";
  return e;
}

std::string PgServer::query(const std::string& sql) const { return Query{*this, "postgres"}(sql); }

std::string PgServer::Query::operator()(const std::string& sql) const {
  const std::string info =
      "host=127.0.0.1 port=" + std::to_string(server.port_) + " user=postgres dbname=" + database;
  PGconn* conn = PQconnectdb(info.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connect: " + message);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  const auto status = PQresultStatus(r);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string message = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
    throw std::runtime_error(sql + ": " + message);
  }
  std::string out = PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(conn);
  return out;
}

std::string PgServer::checksum(const std::string& table) const {
  return query("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM " + table +
               " t");
}

}  // namespace opendbs::testing
