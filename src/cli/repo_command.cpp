#include "cli/repo_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "core/crypto.h"
#include "core/errors.h"
#include "core/file.h"
#include "core/ids.h"
#include "repo/repository.h"

namespace opendbs::cli {
namespace {
namespace fs = std::filesystem;
using repo::Repository;

struct RepoArgs {
  std::string url;
  std::string password_file;
  std::string key_file;
  std::string compression = "zstd";
  uint64_t pack_size_mib = 16;
  unsigned threads = 0;
};

[[noreturn]] void fail(const core::Error& e) {
  std::cerr << "opendbs repo: " << e.message << " [" << e.code << "]\n";
  throw CLI::RuntimeError(core::error_kind(e.code).exit_code);
}

template <class T>
T check(core::Result<T> r) {
  if (!r.ok()) fail(r.error());
  return std::move(r).value();
}

void check(const core::Status& s) {
  if (!s.ok()) fail(s.error());
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

std::string read_password_file(const std::string& path) {
  auto text = check(core::read_file(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

repo::KeySource key_source(const RepoArgs& a) {
  if (!a.key_file.empty()) return {std::nullopt, a.key_file};
  if (!a.password_file.empty()) return {read_password_file(a.password_file), std::nullopt};
  if (const char* env = std::getenv("OPENDBS_REPO_PASSWORD"); env && *env) return {std::string(env), std::nullopt};
  fail(core::errors::missing_parameter("passphrase (--password-file, --key-file or OPENDBS_REPO_PASSWORD)"));
}

repo::RepoOptions options_of(const RepoArgs& a) {
  repo::RepoOptions o;
  o.compression = check(repo::parse_compression(a.compression));
  o.pack_target_size = a.pack_size_mib * 1024 * 1024;
  o.worker_threads = a.threads;
  return o;
}

std::unique_ptr<Repository> open_repo(const RepoArgs& a) {
  auto backend = check(repo::open_backend(a.url));
  return check(Repository::open(std::move(backend), key_source(a), options_of(a)));
}

// Prints "<label> <bytes> (<rate>)" on stderr every half second while a long operation runs, when
// stderr is a terminal.
class Progress {
 public:
  explicit Progress(std::string label) : label_(std::move(label)), start_(std::chrono::steady_clock::now()) {
    if (::isatty(STDERR_FILENO)) thread_ = std::thread([this] { run(); });
  }
  ~Progress() {
    {
      std::lock_guard lk(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
      std::cerr << "\r\033[K";
    }
  }
  void add(uint64_t n) { bytes_ += n; }
  uint64_t bytes() const { return bytes_; }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  void run() {
    std::unique_lock lk(mutex_);
    while (!cv_.wait_for(lk, std::chrono::milliseconds(500), [this] { return stop_; })) {
      const double s = seconds();
      std::cerr << "\r\033[K" << label_ << " " << human_bytes(static_cast<double>(bytes_)) << " ("
                << human_bytes(static_cast<double>(bytes_) / (s > 0 ? s : 1)) << "/s)" << std::flush;
    }
  }
  std::string label_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> bytes_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// --- backup -----------------------------------------------------------------------------------

struct SourceFile {
  std::string path;  // on disk
  std::string name;  // stream name in the set
  bool directory = false;
};

// Directories and regular files under each path, named relative to the path's parent directory (so
// `backup /var/lib/pg/data` stores `data/base/1/1259`). Symlinks and special files are skipped.
std::vector<SourceFile> collect_files(const std::vector<std::string>& paths) {
  std::vector<SourceFile> files;
  for (const auto& p : paths) {
    std::error_code ec;
    fs::path root = fs::absolute(p, ec).lexically_normal();
    if (root.has_filename() == false) root = root.parent_path();
    const auto status = fs::symlink_status(root, ec);
    if (ec) fail(core::errors::not_found("cannot read " + p + ": " + ec.message()));
    const fs::path base = root.parent_path();
    if (fs::is_regular_file(status)) {
      files.push_back({root.string(), root.lexically_relative(base).string()});
      continue;
    }
    files.push_back({root.string(), root.lexically_relative(base).string(), true});
    for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_symlink(ec)) continue;
      const bool dir = it->is_directory(ec);
      if (dir || it->is_regular_file(ec))
        files.push_back({it->path().string(), it->path().lexically_relative(base).string(), dir});
    }
    if (ec) fail(core::errors::io("cannot walk " + p + ": " + ec.message()));
  }
  return files;
}

core::Status copy_fd(int fd, repo::StreamWriter& out, Progress& progress, const std::string& what) {
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::errors::io("cannot read " + what + ": " + std::strerror(errno));
    if (n == 0) return out.close();
    OPENDBS_TRY(out.write(std::string_view(buf.data(), static_cast<size_t>(n))));
    progress.add(static_cast<uint64_t>(n));
  }
}

core::Status backup_file(repo::SetWriter& set, const SourceFile& f, Progress& progress) {
  int fd = ::open(f.path.c_str(), (f.directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    // A database removes files while it runs; a file that vanished is simply not in the set.
    if (errno == ENOENT) return {};
    return core::errors::io("cannot open " + f.path + ": " + std::strerror(errno));
  }
  struct ::stat st {};
  ::fstat(fd, &st);
  repo::FileMeta meta{static_cast<uint64_t>(st.st_size), static_cast<uint32_t>(st.st_mode & 07777),
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000};
  if (f.directory) meta = {0, repo::kModeDirectory | meta.mode, meta.mtime_ms};
  auto writer = set.add_stream(f.name, meta);
  if (!writer.ok()) {
    ::close(fd);
    return writer.error();
  }
  auto status = f.directory ? (*writer)->close() : copy_fd(fd, **writer, progress, f.path);
  ::close(fd);
  return status;
}

void run_backup(const RepoArgs& a, const std::vector<std::string>& paths, bool from_stdin, const std::string& name,
                std::string set_id) {
  if (from_stdin == !paths.empty() || (from_stdin && name.empty()))
    fail(core::make_error("InvalidParameter", "give PATHS..., or --stdin with --name NAME"));
  auto repo = open_repo(a);
  if (set_id.empty()) set_id = core::new_job_id();
  auto set = check(repo->begin_set(set_id));
  Progress progress("backup");
  boost::json::object meta{{"tool", "opendbs repo backup"}, {"created_ms", core::SystemClock::instance().now_ms()}};
  if (from_stdin) {
    auto writer = check(set->add_stream(name, repo::FileMeta{0, 0644, core::SystemClock::instance().now_ms()}));
    check(copy_fd(STDIN_FILENO, *writer, progress, "standard input"));
  } else {
    const auto files = collect_files(paths);
    boost::json::array sources;
    for (const auto& p : paths) sources.push_back(boost::json::string(fs::absolute(p).string()));
    meta["paths"] = std::move(sources);
    // Two readers keep both cores busy: each reads and chunks its file, the pool seals the chunks.
    std::atomic<size_t> next{0};
    std::mutex error_mutex;
    core::Status first_error;
    auto reader = [&] {
      for (size_t i; (i = next++) < files.size();) {
        auto st = backup_file(*set, files[i], progress);
        if (!st.ok()) {
          std::lock_guard lk(error_mutex);
          if (first_error.ok()) first_error = st;
          next = files.size();
        }
      }
    };
    std::thread second(reader);
    reader();
    second.join();
    check(first_error);
  }
  check(set->commit(meta));
  const auto s = set->stats();
  const double secs = progress.seconds();
  std::cout << "set " << set_id << ": " << human_bytes(static_cast<double>(s.bytes_in)) << " read, "
            << human_bytes(static_cast<double>(s.bytes_stored)) << " stored (" << s.chunks_new << " new of "
            << s.chunks << " chunks) in " << secs << " s, "
            << human_bytes(static_cast<double>(s.bytes_in) / (secs > 0 ? secs : 1)) << "/s\n";
}

// --- read side --------------------------------------------------------------------------------

void run_restore(const RepoArgs& a, const std::string& set_id, const std::string& target, bool to_stdout,
                 std::string stream, bool sync = true) {
  if (to_stdout == !target.empty()) fail(core::make_error("InvalidParameter", "give --target DIR or --stdout"));
  auto repo = open_repo(a);
  if (!to_stdout) {
    Progress progress("restore");
    check(repo->restore_set(set_id, target,
                            {.parallelism = 0, .sync = sync, .on_progress = [&](uint64_t n) { progress.add(n); }}));
    std::cout << "restored set " << set_id << " to " << target << " in " << progress.seconds() << " s\n";
    return;
  }
  if (stream.empty()) {
    auto m = check(repo->load_manifest(set_id));
    if (m.streams.size() != 1)
      fail(core::make_error("InvalidParameter", "set " + set_id + " has " + std::to_string(m.streams.size()) +
                                                    " streams: choose one with --stream"));
    stream = m.streams[0].name;
  }
  check(repo->read_stream(set_id, stream, [](std::string_view bytes) -> core::Status {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size())
      return core::errors::io("cannot write to standard output");
    return {};
  }));
  std::fflush(stdout);
}

void run_ls(const RepoArgs& a, const std::string& set_id) {
  auto repo = open_repo(a);
  if (set_id.empty()) {
    for (const auto& id : check(repo->list_sets())) {
      auto m = check(repo->load_manifest(id));
      uint64_t bytes = 0;
      for (const auto& s : m.streams) bytes += s.meta.size;
      std::cout << id << "  " << core::format_iso8601(m.created_ms) << "  " << m.streams.size() << " streams  "
                << human_bytes(static_cast<double>(bytes)) << "\n";
    }
    return;
  }
  auto m = check(repo->load_manifest(set_id));
  for (const auto& s : m.streams) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%s%04o", repo::is_directory(s.meta) ? "d" : "-", s.meta.mode & 07777);
    std::cout << mode << "  " << s.meta.size << "  " << core::format_iso8601(s.meta.mtime_ms) << "  " << s.name
              << "\n";
  }
}

// `cat SET` prints the manifest as JSON (chunk ids in hex); `cat SET STREAM` the stream's bytes.
void run_cat(const RepoArgs& a, const std::string& set_id, const std::string& stream) {
  if (!stream.empty()) return run_restore(a, set_id, "", true, stream);
  auto repo = open_repo(a);
  auto m = check(repo->load_manifest(set_id));
  boost::json::array streams;
  for (const auto& s : m.streams) {
    boost::json::array chunks;
    for (const auto& c : s.chunks) chunks.push_back({core::to_hex(c.id), c.raw_len});
    streams.push_back({{"name", s.name}, {"size", s.meta.size}, {"mode", s.meta.mode},
                       {"mtime_ms", s.meta.mtime_ms}, {"chunks", std::move(chunks)}});
  }
  boost::json::object out{{"set_id", m.set_id}, {"created_ms", m.created_ms},
                          {"engine_metadata", m.engine_metadata}, {"streams", std::move(streams)}};
  std::cout << boost::json::serialize(out) << "\n";
}

void run_check(const RepoArgs& a, bool read_data) {
  auto repo = open_repo(a);
  const auto start = std::chrono::steady_clock::now();
  auto report = check(repo->check({.read_data = read_data}));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& w : report.warnings) std::cerr << "warning: " << w << "\n";
  for (const auto& e : report.errors) std::cerr << "error: " << e << "\n";
  if (read_data)
    std::cout << report.packs_checked << " packs, " << human_bytes(static_cast<double>(report.bytes_read))
              << " read in " << secs << " s\n";
  if (!report.clean())
    fail(core::errors::corrupt(std::to_string(report.errors.size()) + " problems found; see the lines above"));
  std::cout << "no errors were found\n";
}

void run_prune(const RepoArgs& a) {
  auto repo = open_repo(a);
  auto r = check(repo->prune());
  std::cout << r.packs_deleted << " packs deleted, " << r.packs_repacked << " repacked, "
            << human_bytes(static_cast<double>(r.bytes_freed)) << " freed, " << r.locks_removed
            << " expired locks removed\n";
  // Damage is printed as well as logged: a prune run from cron mails its output.
  for (const auto& lost : r.lost_packs)
    std::cout << "pack " << lost.pack_id << " is lost (" << lost.chunks << " chunks): no set stores them any more\n";
  for (const auto& set : r.damaged_sets) {
    const auto& m = r.missing[set];
    std::cout << "set " << set << " can no longer be restored in full: its chunk " << m.first_chunk;
    if (m.chunks > 1) std::cout << " (and " << m.chunks - 1 << " more)";
    std::cout << " is in no pack (its pack was lost, or a read found the chunk damaged); back the source up again, "
              << "then forget the set (`opendbs repo forget " << set << "`)\n";
  }
}

void run_stats(const RepoArgs& a) {
  auto s = check(open_repo(a)->stats());
  std::cout << "sets " << s.sets << "\npacks " << s.packs << "\nstored " << s.stored_bytes << " ("
            << human_bytes(static_cast<double>(s.stored_bytes)) << ")\nlogical " << s.logical_bytes << " ("
            << human_bytes(static_cast<double>(s.logical_bytes)) << ")\nunique " << s.unique_bytes
            << "\ndedup_ratio " << s.dedup_ratio << "\n";
}

// --- init and keys ----------------------------------------------------------------------------

void run_init(const RepoArgs& a, const repo::ChunkerParams& chunker) {
  auto backend = check(repo::open_backend(a.url));
  auto o = options_of(a);
  o.chunker = chunker;
  auto repo = check(Repository::init(std::move(backend), key_source(a), o));
  std::cout << "created repository " << repo->repo_id() << " at " << a.url
            << "\nKeep the passphrase or key file safe: without it the data cannot be read. "
               "`opendbs repo key export` prints a master key for offline safekeeping.\n";
}

void add_key_commands(CLI::App& repo_cmd, RepoArgs& a) {
  auto* key = repo_cmd.add_subcommand("key", "Manage key slots")->require_subcommand(1);
  auto* list = key->add_subcommand("list", "List key slots");
  list->callback([&a] {
    for (const auto& k : check(open_repo(a)->list_keys()))
      std::cout << k.slot_id << "  " << k.source << "  " << core::format_iso8601(k.created_ms) << "  " << k.label
                << "\n";
  });
  auto* add = key->add_subcommand("add", "Add a key slot for another passphrase or key file");
  static std::string new_password_file, new_key_file, label = "added";
  add->add_option("--new-password-file", new_password_file, "File with the new passphrase");
  add->add_option("--new-key-file", new_key_file, "File of at least 16 random bytes");
  add->add_option("--label", label, "Label shown by key list");
  add->callback([&a] {
    if (new_password_file.empty() == new_key_file.empty())
      fail(core::make_error("InvalidParameter", "give --new-password-file or --new-key-file"));
    repo::KeySource src = new_key_file.empty() ? repo::KeySource{read_password_file(new_password_file), std::nullopt}
                                               : repo::KeySource{std::nullopt, new_key_file};
    auto info = check(open_repo(a)->add_key(src, label));
    std::cout << "added key slot " << info.slot_id << "\n";
  });
  auto* remove = key->add_subcommand("remove", "Remove a key slot");
  static std::string slot;
  remove->add_option("SLOT", slot, "Slot id from key list")->required();
  remove->callback([&a] {
    check(open_repo(a)->remove_key(slot));
    std::cout << "removed key slot " << slot << "\n";
  });
  key->add_subcommand("export", "Print the master key (JSON) for offline safekeeping")->callback([&a] {
    std::cerr << "This is the repository's master key: anyone with it can read every backup.\n";
    std::cout << open_repo(a)->export_key() << "\n";
  });
}

}  // namespace

void add_repo_commands(CLI::App& app) {
  // Parsed values live as long as the program: CLI11 binds options to storage by reference.
  static RepoArgs a;
  auto* repo_cmd = app.add_subcommand("repo", "Work on a backup repository directly (no node needed)");
  repo_cmd->require_subcommand(1);
  repo_cmd->add_option("--repo", a.url, "Repository: a directory or s3://...")->required()->envname("OPENDBS_REPO");
  repo_cmd->add_option("--password-file", a.password_file, "File holding the passphrase (else OPENDBS_REPO_PASSWORD)");
  repo_cmd->add_option("--key-file", a.key_file, "Key file (random bytes, or an exported master key)");
  repo_cmd->add_option("--compression", a.compression, "zstd, zstd:1..19, lz4 or none (default zstd = zstd:1)");
  repo_cmd->add_option("--pack-size", a.pack_size_mib, "Target pack size in MiB (default 16)");
  repo_cmd->add_option("--threads", a.threads, "Worker threads (default: number of cores)");

  static repo::ChunkerParams chunker = repo::default_chunker_params();
  auto* init = repo_cmd->add_subcommand("init", "Create a repository");
  init->add_option("--chunk-min", chunker.min_size, "FastCDC minimum chunk size in bytes");
  init->add_option("--chunk-avg", chunker.avg_size, "FastCDC average chunk size in bytes (a power of two)");
  init->add_option("--chunk-max", chunker.max_size, "FastCDC maximum chunk size in bytes");
  init->callback([] { run_init(a, chunker); });

  static std::vector<std::string> paths;
  static bool from_stdin = false;
  static std::string name, set_id, target, stream;
  auto* backup = repo_cmd->add_subcommand("backup", "Store files, directories or standard input as a new set");
  backup->add_option("PATHS", paths, "Files and directories");
  backup->add_flag("--stdin", from_stdin, "Read the one stream from standard input");
  backup->add_option("--name", name, "Stream name for --stdin");
  backup->add_option("--set", set_id, "Set id (default: a new random id)");
  backup->callback([] { run_backup(a, paths, from_stdin, name, set_id); });

  static bool to_stdout = false, no_sync = false;
  auto* restore = repo_cmd->add_subcommand("restore", "Restore a set to a directory or one stream to stdout");
  restore->add_option("SET", set_id, "Set id")->required();
  restore->add_option("--target", target, "Directory to restore into");
  restore->add_flag("--stdout", to_stdout, "Write one stream to standard output");
  restore->add_option("--stream", stream, "Stream for --stdout (default: the only one)");
  restore->add_flag("--no-sync", no_sync, "Do not wait until the restored files are on disk");
  restore->callback([] { run_restore(a, set_id, target, to_stdout, stream, !no_sync); });

  auto* ls = repo_cmd->add_subcommand("ls", "List sets, or the streams of one set");
  ls->add_option("SET", set_id, "Set id");
  ls->callback([] { run_ls(a, set_id); });

  auto* cat = repo_cmd->add_subcommand("cat", "Print a set's manifest as JSON, or one stream's bytes");
  cat->add_option("SET", set_id, "Set id")->required();
  cat->add_option("STREAM", stream, "Stream name");
  cat->callback([] { run_cat(a, set_id, stream); });

  static bool read_data = false;
  auto* check_cmd = repo_cmd->add_subcommand("check", "Verify the repository's structure (and data)");
  check_cmd->add_flag("--read-data", read_data, "Read and verify every chunk");
  check_cmd->callback([] { run_check(a, read_data); });

  repo_cmd->add_subcommand("prune", "Delete data no set references; repack mostly-garbage packs")->callback([] {
    run_prune(a);
  });
  auto* forget = repo_cmd->add_subcommand("forget", "Remove a set's manifest (prune frees its data)");
  forget->add_option("SET", set_id, "Set id")->required();
  forget->callback([] {
    check(open_repo(a)->forget_set(set_id));
    std::cout << "forgot set " << set_id << "\n";
  });
  repo_cmd->add_subcommand("stats", "Stored and logical sizes, dedup ratio")->callback([] { run_stats(a); });
  add_key_commands(*repo_cmd, a);
}

}  // namespace opendbs::cli
