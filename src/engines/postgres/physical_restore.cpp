#include "engines/postgres/physical_restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "core/errors.h"
#include "core/file.h"
#include "core/log.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/delta_restore.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_stream.h"

namespace opendbs::engines::postgres {
namespace fs = std::filesystem;
namespace {

int64_t int_meta(const boost::json::object& o, const char* key, int64_t fallback) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().as_int64()
         : it != o.end() && it->value().is_uint64() ? static_cast<int64_t>(it->value().as_uint64())
                                                    : fallback;
}

struct WalPlan {
  std::vector<std::pair<std::string, std::string>> segments;  // (set id, WAL file name)
  // The newest partial set of the segment after the last complete one (the segment that was filling),
  // when the target needs it: restored zero-padded into pg_wal, where recovery reads it once the
  // restore_command answers that it has nothing more (docs/POSTGRES.md).
  std::optional<std::pair<std::string, std::string>> partial;
  bool stop_at_time = false;  // a commit later than the target follows it in the chosen WAL
  int64_t chain_end_ms = 0;
};

// The segments from the set's start onwards, in order, up to the first that holds a transaction end
// later than the target (recovery stops before it) or the end of the stored chain (recovery replays
// all of it: every transaction in it ended at or before the target).
core::Result<WalPlan> plan_wal(repo::Repository& repository, const std::string& plan_id, int64_t start_seq,
                               int64_t segment_size, int64_t target_ms, int64_t consistent_ms) {
  const std::string prefix = wal_set_prefix(plan_id);
  OPENDBS_ASSIGN(auto sets, repository.list_sets());
  std::map<int64_t, std::pair<std::string, std::string>> by_seq;
  for (const auto& id : sets) {
    if (id.rfind(prefix, 0) != 0) continue;
    const std::string name = id.substr(prefix.size());
    if (auto segno = wal_file_segno(name, static_cast<uint64_t>(segment_size)))
      by_seq[static_cast<int64_t>(*segno)] = {id, name};
  }
  WalPlan plan;
  plan.chain_end_ms = consistent_ms;
  int64_t seq = start_seq;
  for (; by_seq.count(seq); ++seq) {
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(by_seq[seq].first));
    plan.segments.push_back(by_seq[seq]);
    plan.chain_end_ms = std::max(plan.chain_end_ms, int_meta(manifest.engine_metadata, segment_meta::kEndMs, 0));
    if (int_meta(manifest.engine_metadata, segment_meta::kLastXactMs, -1) > target_ms) {
      plan.stop_at_time = true;
      return plan;
    }
  }
  if (target_ms <= plan.chain_end_ms) return plan;
  // The target lies beyond the complete segments: the one filling may hold it in a partial set.
  std::optional<std::pair<uint64_t, std::string>> newest;  // (bytes, set id)
  for (const auto& id : sets)
    if (auto partial = parse_partial_set_id(plan_id, id, static_cast<uint64_t>(segment_size));
        partial && static_cast<int64_t>(partial->first) == seq && (!newest || partial->second > newest->first))
      newest = std::make_pair(partial->second, id);
  if (newest) {
    OPENDBS_ASSIGN(auto manifest, repository.load_manifest(newest->second));
    plan.partial = std::make_pair(newest->second, newest->second.substr(prefix.size(), 24));
    plan.chain_end_ms = std::max(plan.chain_end_ms, int_meta(manifest.engine_metadata, segment_meta::kEndMs, 0));
    plan.stop_at_time = int_meta(manifest.engine_metadata, segment_meta::kLastXactMs, -1) > target_ms;
  }
  if (!plan.stop_at_time && target_ms > plan.chain_end_ms)
    return core::make_error("InvalidParameter", "RestoreTime " + pg_timestamp_literal(target_ms) +
                                                    " is after the end of the stored WAL (" +
                                                    pg_timestamp_literal(plan.chain_end_ms) + ")");
  return plan;
}

core::Status write_segment(repo::Repository& repository, const std::string& set_id, uint64_t segno,
                           uint64_t segment_size, const std::string& name, const fs::path& path, bool pad);

std::string text_meta(const boost::json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

// The partial segment the plan ends with, zero-padded into pg_wal. It must reach past the backup's
// stop: pg_wal already holds the backup's own WAL up to there, which a shorter copy would cut.
core::Status restore_partial(repo::Repository& repository, const WalPlan& wal, const boost::json::object& backup,
                             const fs::path& dir) {
  const auto& [set_id, name] = *wal.partial;
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(set_id));
  const auto end = parse_lsn(text_meta(manifest.engine_metadata, "end_lsn"));
  const auto stop = parse_lsn(text_meta(backup, meta::kStopLsn));
  if (!end || !stop || *end <= *stop)
    return core::make_error("InvalidParameter", "the WAL after backup set's stop (" + text_meta(backup, meta::kStopLsn) +
                                                    ") is not stored yet; choose an earlier RestoreTime");
  const uint64_t segment_size = static_cast<uint64_t>(int_meta(manifest.engine_metadata, meta::kSegmentSize, 0));
  const auto segno = wal_file_segno(name, segment_size);
  if (!segno) return core::errors::corrupt("set " + set_id + " does not name a WAL segment");
  return write_segment(repository, set_id, *segno, segment_size, name, dir / "pg_wal" / name, true);
}

// A value in postgresql.conf syntax: single quotes, a quote doubled, a backslash escaped.
std::string conf_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : c == '\\' ? std::string("\\\\") : std::string(1, c);
  return out + "'";
}

// One argument of restore_command: quoted for sh, and % doubled (PostgreSQL expands %f, %p and %%).
std::string command_argument(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : c == '%' ? std::string("%%") : std::string(1, c);
  return out + "'";
}

// The restore_command that serves recovery the planned segments and nothing after them: from the
// repository through `opendbs wal-fetch`, or from the copies in opendbs_wal/.
core::Result<std::string> restore_command(const fs::path& dir, const PlanSpec& plan, const RestoreRequest& request,
                                          const WalPlan& wal) {
  const auto& fetch = request.log_fetch;
  if (fetch.repository_url.empty())
    return "cp " + command_argument((dir / kRestoredWalDir).string()) + "/\"%f\" \"%p\"";
  std::string program = fetch.program;
  if (program.empty()) {
    std::error_code ec;
    program = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec) return core::errors::internal("cannot find this program's path for restore_command: " + ec.message());
  }
  // PostgreSQL runs the command in the data directory: a repository given as a relative path is
  // made absolute here (a URL such as s3://... is kept as it is).
  const std::string repository = fetch.repository_url.find("://") == std::string::npos
                                     ? fs::absolute(fetch.repository_url).lexically_normal().string()
                                     : fetch.repository_url;
  std::string command = command_argument(fs::absolute(program).string()) + " wal-fetch --repo " +
                        command_argument(repository);
  if (!fetch.key_file.empty())
    command += " --key-file " + command_argument(fs::absolute(fetch.key_file).lexically_normal().string());
  command += " --plan " + command_argument(plan.plan_id);
  // With no segment planned the backup's own WAL (in pg_wal) is all recovery reads: nothing is served.
  command += " --last " + (wal.segments.empty() ? std::string("none") : wal.segments.back().second);
  return command + " \"%f\" \"%p\"";
}

core::Status write_recovery_config(const fs::path& dir, const std::string& set_id, int64_t target_ms,
                                   const std::string& command, bool to_end_of_backup, bool stop_at_time) {
  std::ofstream conf(dir / "postgresql.auto.conf", std::ios::app);
  conf << "\n# opendbs: restore of backup set " << set_id << " to " << pg_timestamp_literal(target_ms) << "\n"
       << "restore_command = " << conf_quoted(command) << "\n"
       << "recovery_target_timeline = 'current'\n"
       << "recovery_target_action = 'promote'\n";
  if (to_end_of_backup) conf << "recovery_target = 'immediate'\n";
  else if (stop_at_time) conf << "recovery_target_time = " << conf_quoted(pg_timestamp_literal(target_ms)) << "\n";
  conf.close();
  std::ofstream signal(dir / "recovery.signal", std::ios::trunc);
  signal.close();
  if (!conf || !signal) return core::errors::io("cannot write the recovery settings into " + dir.string());
  std::error_code ec;
  fs::remove(dir / "standby.signal", ec);
  return {};
}

}  // namespace

core::Status physical_restore(const PlanSpec& plan, repo::Repository& repository, const RestoreRequest& request,
                              TaskControl& control) {
  if (request.target_dir.empty())
    return core::make_error("InvalidParameter", "a physical PostgreSQL restore needs RestoreDir (a directory on the node)");
  const fs::path dir = fs::absolute(request.target_dir);
  std::error_code ec;
  const bool delta = fs::exists(dir, ec) && !fs::is_empty(dir, ec);
  if (delta && !fs::exists(dir / "PG_VERSION"))
    return core::make_error("InvalidParameter", "RestoreDir " + dir.string() +
                                                    " is not empty and not a PostgreSQL data directory");
  if (delta && fs::exists(dir / "postmaster.pid"))
    return core::make_error("InvalidParameter", "RestoreDir " + dir.string() +
                                                    " holds a running PostgreSQL (postmaster.pid): stop it first");
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(request.set_id));
  const auto& m = manifest.engine_metadata;
  if (!m.contains("method") || m.at("method") != "physical")
    return core::make_error("InvalidParameter", "backup set " + request.set_id + " is not a physical PostgreSQL backup");
  const int64_t consistent_ms = int_meta(m, meta::kConsistentMs, 0);
  const bool to_end_of_backup = request.target_ms <= consistent_ms;
  WalPlan wal;
  if (!to_end_of_backup) {
    OPENDBS_ASSIGN(wal, plan_wal(repository, plan.plan_id, int_meta(m, meta::kStartSeq, 0),
                                 int_meta(m, meta::kSegmentSize, 16 << 20), request.target_ms, consistent_ms));
  }
  control.progress(1, 0);
  if (delta) {
    OPENDBS_ASSIGN(auto stats, delta_restore(repository, request.set_id, dir, control));
    core::log_event(core::LogLevel::info, "postgres_delta_restore",
                    {{"set", request.set_id}, {"dir", dir.string()}, {"files_kept", stats.files_kept},
                     {"files_written", stats.files_written}, {"bytes_written", stats.bytes_written},
                     {"paths_removed", stats.paths_removed}});
  } else {
    OPENDBS_TRY(repository.restore_set(request.set_id, dir.string()));
  }
  if (control.cancelled()) return cancelled_error();
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  fs::create_directories(dir / "pg_wal" / "archive_status", ec);
  if (ec) return core::errors::io("cannot create " + (dir / "pg_wal").string() + ": " + ec.message());
  control.progress(80, 0);
  if (wal.partial) OPENDBS_TRY(restore_partial(repository, wal, m, dir));
  const bool copy = request.log_fetch.repository_url.empty();
  if (copy) {
    fs::create_directories(dir / kRestoredWalDir, ec);
    if (ec) return core::errors::io("cannot create " + (dir / kRestoredWalDir).string() + ": " + ec.message());
    const auto segment_size = static_cast<uint64_t>(int_meta(m, meta::kSegmentSize, 16 << 20));
    for (size_t i = 0; i < wal.segments.size(); ++i) {
      if (control.cancelled()) return cancelled_error();
      const auto& [set_id, name] = wal.segments[i];
      const auto segno = wal_file_segno(name, segment_size);
      if (!segno) return core::errors::corrupt("set " + set_id + " does not name a WAL segment");
      OPENDBS_TRY(write_segment(repository, set_id, *segno, segment_size, name, dir / kRestoredWalDir / name, false));
      control.progress(80 + static_cast<int>(19 * (i + 1) / wal.segments.size()), 0);
    }
  }
  OPENDBS_ASSIGN(auto command, restore_command(dir, plan, request, wal));
  OPENDBS_TRY(write_recovery_config(dir, request.set_id, request.target_ms, command, to_end_of_backup, wal.stop_at_time));
  core::log_event(core::LogLevel::info, "postgres_restore_prepared",
                  {{"set", request.set_id}, {"dir", dir.string()}, {"target_ms", request.target_ms},
                   {"wal_segments", wal.segments.size()}, {"wal", copy ? "copied" : "fetched by restore_command"},
                   {"partial_segment", wal.partial ? wal.partial->first : ""},
                   {"stop_at_time", wal.stop_at_time}});
  control.progress(100, 0);
  return {};
}

namespace {

// The long page header that opens every WAL segment (access/xlog_internal.h): the page's own LSN at
// byte 8 and the segment size at byte 32, in the server's byte order; XLP_LONG_HEADER in xlp_info.
core::Status check_segment_header(std::string_view head, uint64_t segno, uint64_t segment_size, const std::string& name) {
  if (head.size() < 40) return core::errors::corrupt("WAL file " + name + " in the repository is too short");
  uint16_t info = 0;
  uint64_t pageaddr = 0;
  uint32_t seg_size = 0;
  std::memcpy(&info, head.data() + 2, sizeof info);
  std::memcpy(&pageaddr, head.data() + 8, sizeof pageaddr);
  std::memcpy(&seg_size, head.data() + 32, sizeof seg_size);
  if (!(info & 0x0002) || pageaddr != segno * segment_size || seg_size != segment_size)
    return core::errors::corrupt("WAL file " + name + " in the repository does not hold the segment its name says");
  return {};
}

// Streams `set_id`'s segment into `path` through a temporary file beside it, fsynced and renamed.
// `pad`: the set is a partial segment; zeroes fill it to the segment's size, where recovery finds the
// end of the WAL.
core::Status write_segment(repo::Repository& repository, const std::string& set_id, uint64_t segno,
                           uint64_t segment_size, const std::string& name, const fs::path& path, bool pad) {
  const fs::path part = path.string() + ".opendbs-part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return core::errors::io("cannot create " + part.string() + ": " + std::strerror(errno));
  std::string head;
  uint64_t written = 0;
  auto st = repository.read_stream(set_id, "segment", [&](std::string_view bytes) -> core::Status {
    if (head.size() < 40) {
      head.append(bytes.substr(0, 40 - head.size()));
      if (head.size() == 40) OPENDBS_TRY(check_segment_header(head, segno, segment_size, name));
    }
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return core::errors::io("cannot write " + part.string() + ": " + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    written += bytes.size();
    return {};
  });
  if (st.ok() && pad && written < segment_size) {
    const std::string zeros(1 << 20, '\0');
    while (st.ok() && written < segment_size) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), segment_size - written));
      if (::write(fd, zeros.data(), n) != static_cast<ssize_t>(n))
        st = core::errors::io("cannot write " + part.string() + ": " + std::strerror(errno));
      written += n;
    }
  }
  if (st.ok() && written != segment_size)
    st = core::errors::corrupt("WAL file " + name + " in the repository has " + std::to_string(written) +
                               " bytes, not " + std::to_string(segment_size));
  if (st.ok() && ::fsync(fd) != 0) st = core::errors::io("cannot sync " + part.string() + ": " + std::strerror(errno));
  ::close(fd);
  if (st.ok() && ::rename(part.c_str(), path.c_str()) != 0)
    st = core::errors::io("cannot rename " + part.string() + ": " + std::strerror(errno));
  if (!st.ok()) {
    ::unlink(part.c_str());
    return st;
  }
  return core::sync_dir(path.parent_path().empty() ? "." : path.parent_path().string());
}

}  // namespace

bool replays_wal_file(const std::string& name, const std::string& last) {
  // Names of one timeline compare as their positions: 8 hex digits of timeline, then 16 of position.
  return last.size() == 24 && name.size() == 24 && name.compare(0, 8, last, 0, 8) == 0 && name <= last;
}

core::Result<bool> fetch_wal_file(repo::Repository& repository, const std::string& plan_id, const std::string& name,
                                  const std::string& last, const std::string& path) {
  if (!replays_wal_file(name, last)) return false;
  const std::string set_id = wal_set_prefix(plan_id) + name;
  auto manifest = repository.load_manifest(set_id);
  // The restore planned every segment up to `last` from sets it found: one gone now is damage, and
  // answering "absent" would let recovery end early and promote at a moment nobody chose.
  if (!manifest.ok() && manifest.error().code == core::errors::invalid_job_id("").code)
    return core::errors::corrupt("WAL segment " + name + ", which this restore replays, is missing from the repository "
                                 "(was the plan released or the repository pruned after the restore?)");
  OPENDBS_TRY(manifest);
  const auto& m = manifest->engine_metadata;
  const int64_t segment_size = int_meta(m, meta::kSegmentSize, 0);
  const auto segno = segment_size > 0 ? wal_file_segno(name, static_cast<uint64_t>(segment_size)) : std::nullopt;
  if (!m.contains("kind") || m.at("kind") != "wal_segment" || !segno)
    return core::errors::corrupt("set " + set_id + " in the repository is not a WAL segment");
  OPENDBS_TRY(write_segment(repository, set_id, *segno, static_cast<uint64_t>(segment_size), name, path, false));
  return true;
}

}  // namespace opendbs::engines::postgres
