#include "cli/wal_fetch_command.h"

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "core/errors.h"
#include "core/file.h"
#include "engines/postgres/wal_fetch.h"
#include "repo/repository.h"

namespace opendbs::cli {
namespace {

constexpr int kFetched = 0;
constexpr int kAbsent = 1;
constexpr int kFatal = 255;  // PostgreSQL aborts recovery on exit codes above 125

struct WalFetchArgs {
  std::string repository_url, key_file, password_file, plan_id, last, timeline, name, path;
};

core::Result<repo::KeySource> key_source(const WalFetchArgs& a) {
  if (a.key_file.empty() == a.password_file.empty())
    return core::make_error("InvalidParameter", "give --key-file or --password-file");
  if (!a.key_file.empty()) return repo::KeySource{std::nullopt, a.key_file};
  OPENDBS_ASSIGN(auto text, core::read_file(a.password_file));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return repo::KeySource{text, std::nullopt};
}

// true: written to PATH; false: not a file this restore replays.
core::Result<bool> fetch(const WalFetchArgs& a, uint32_t timeline) {
  OPENDBS_ASSIGN(auto key, key_source(a));
  OPENDBS_ASSIGN(auto backend, repo::open_backend(a.repository_url));
  repo::RepoOptions options;
  options.worker_threads = 2;
  OPENDBS_ASSIGN(auto repository, repo::Repository::open(std::move(backend), key, options));
  return engines::postgres::fetch_wal_file(*repository, a.plan_id, a.name, a.last, timeline, a.path);
}

int run(const WalFetchArgs& a, const std::vector<std::string>& extra) {
  if (!extra.empty()) {
    std::cerr << "opendbs wal-fetch: unexpected argument " << extra.front() << "\n";
    return kFatal;
  }
  for (const auto& [value, flag] : {std::pair{&a.repository_url, "--repo"}, {&a.plan_id, "--plan"},
                                    {&a.last, "--last"}, {&a.name, "WAL_FILE"}, {&a.path, "PATH"}})
    if (value->empty()) {
      std::cerr << "opendbs wal-fetch: " << flag << " is missing\n";
      return kFatal;
    }
  uint32_t timeline = engines::postgres::default_restore_timeline(a.last);
  if (!a.timeline.empty()) {
    const auto parsed = std::strtoul(a.timeline.c_str(), nullptr, 10);
    if (a.timeline.find_first_not_of("0123456789") != std::string::npos || parsed == 0 || parsed > 0xFFFFFFFFul) {
      std::cerr << "opendbs wal-fetch: --timeline " << a.timeline << " is not a timeline number\n";
      return kFatal;
    }
    timeline = static_cast<uint32_t>(parsed);
  }
  // A file the restore does not replay is answered before the repository is opened: PostgreSQL
  // probes for files past the end of recovery, and those answers should cost nothing.
  if (!engines::postgres::replays_wal_file(a.name, a.last, timeline)) {
    std::cerr << "opendbs wal-fetch: " << a.name << " is not among the WAL files this restore replays (up to "
              << a.last << ") of timeline " << timeline << "\n";
    return kAbsent;
  }
  auto fetched = fetch(a, timeline);
  if (!fetched.ok()) {
    std::cerr << "opendbs wal-fetch: " << fetched.error().message << "\n";
    return kFatal;
  }
  if (!*fetched) std::cerr << "opendbs wal-fetch: " << a.name << " is not among the WAL files this restore replays\n";
  return *fetched ? kFetched : kAbsent;
}

}  // namespace

void add_wal_fetch_command(CLI::App& app, int& exit_code) {
  static WalFetchArgs a;  // CLI11 binds options to storage that outlives parsing
  auto* cmd = app.add_subcommand("wal-fetch", "restore_command of a PostgreSQL restored by opendbs: "
                                              "one WAL file from the repository to PATH");
  // Every check is ours, so that even a malformed command line exits with the code that makes
  // PostgreSQL stop (CLI11's usage errors exit 2, which it would read as "no such file").
  cmd->allow_extras();
  cmd->add_option("--repo", a.repository_url, "Repository: a directory or s3://...");
  cmd->add_option("--key-file", a.key_file, "Key file of the repository");
  cmd->add_option("--password-file", a.password_file, "File holding the repository's passphrase");
  cmd->add_option("--plan", a.plan_id, "Backup plan whose WAL backup holds the file");
  cmd->add_option("--last", a.last, "Last WAL segment the restore replays; later ones count as absent");
  cmd->add_option("--timeline", a.timeline,
                  "recovery_target_timeline of the restore (default: --last's); segments are served from the "
                  "timelines its history reads them from, and history files up to it");
  cmd->add_option("WAL_FILE", a.name, "WAL file name (PostgreSQL's %f)");
  cmd->add_option("PATH", a.path, "Where to write it (PostgreSQL's %p)");
  cmd->callback([&exit_code, cmd] { exit_code = run(a, cmd->remaining()); });
}

}  // namespace opendbs::cli
