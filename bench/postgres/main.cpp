// opendbs-pg-bench: the PostgreSQL engine alone, for bench/postgres/run.
//
//   opendbs-pg-bench init    --repo DIR
//   opendbs-pg-bench full    --repo DIR --host H --port P --user U --set ID [--method logical] [--discard 1]
//   opendbs-pg-bench restore --repo DIR --set ID --target DIR
//   opendbs-pg-bench wal-lag --repo DIR --host H --port P --user U --seconds N [--skip S] [--durable-ms MS]
//
// wal-lag runs the plan's continuous WAL backup for S + N seconds and samples the lag it reports
// (TaskControl::lag) once a second over the last N: p50, p99 and max of the seconds and bytes.
// --durable-ms sets how often the open segment becomes durable (0: whole segments only).
//
// The repository (local, passphrase from OPENDBS_BENCH_PASSPHRASE or "bench") is created on first
// use; new chunks are compressed with --compression (default zstd:1, as the other tools are run). Prints one JSON object with the measured seconds and sizes.
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engines/postgres/postgres_engine.h"
#include "repo/backend/local_backend.h"
#include "repo/repository.h"

namespace {

using namespace opendbs;

class NoCancel : public engines::TaskControl {
 public:
  bool cancelled() const override { return false; }
  void progress(int, uint64_t) override {}
};

// Keeps the latest lag the WAL stream reported; cancels the stream on stop().
class LagRecorder : public engines::TaskControl {
 public:
  bool cancelled() const override { return stopped_; }
  void progress(int, uint64_t) override {}
  void lag(uint64_t bytes, double seconds) override {
    std::lock_guard lock(mu_);
    bytes_ = bytes;
    seconds_ = seconds;
  }
  std::pair<uint64_t, double> latest() const {
    std::lock_guard lock(mu_);
    return {bytes_, seconds_};
  }
  void stop() { stopped_ = true; }

 private:
  std::atomic<bool> stopped_{false};
  mutable std::mutex mu_;
  uint64_t bytes_ = 0;
  double seconds_ = 0;
};

// The q-quantile (nearest rank) of `v`, which it sorts.
double quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// A set that drops every byte: `full --discard 1` measures the source and the protocol alone.
class DiscardingSet : public repo::SetWriter {
  class Sink : public repo::StreamWriter {
    core::Status write(std::string_view) override { return {}; }
    core::Status close() override { return {}; }
  };

 public:
  core::Result<std::unique_ptr<repo::StreamWriter>> add_stream(const std::string&, const repo::FileMeta&, repo::Cutting) override {
    return std::unique_ptr<repo::StreamWriter>(new Sink);
  }
  core::Status commit(const boost::json::object&) override { return {}; }
  void abort() override {}
  repo::SetStats stats() const override { return {}; }
};

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 2; i + 1 < argc; i += 2) args[std::string(argv[i]).substr(2)] = argv[i + 1];
  return args;
}

// `compression` as the repo commands take it ("zstd:1", the level the other tools are run with).
core::Result<std::unique_ptr<repo::Repository>> open_repo(const std::string& dir, const std::string& compression) {
  const char* pass = std::getenv("OPENDBS_BENCH_PASSPHRASE");
  repo::KeySource key{pass ? pass : "bench", std::nullopt};
  repo::RepoOptions options;
  OPENDBS_ASSIGN(options.compression, repo::parse_compression(compression));
  const bool exists = std::filesystem::exists(dir + "/config");
  auto backend = std::make_unique<repo::LocalBackend>(dir);
  if (exists) return repo::Repository::open(std::move(backend), key, options);
  return repo::Repository::init(std::move(backend), key, options);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int fail(const core::Error& e) {
  std::cerr << "error: " << e.code << ": " << e.message << "\n";
  return 1;
}

int wal_lag(engines::PostgresEngine& engine, const engines::PlanSpec& plan, repo::Repository& repository,
            int skip_s, int seconds) {
  LagRecorder control;
  std::atomic<int> completed{0};
  core::Status result;
  std::thread stream([&] {
    result = engine.log_backup(plan, repository, control, [&](const engines::LogFile& f) -> core::Status {
      if (f.status == "COMPLETED") ++completed;
      return {};
    });
  });
  std::vector<double> lag_s, lag_bytes;
  auto next = std::chrono::steady_clock::now();
  for (int i = 0; i < skip_s + seconds; ++i) {
    next += std::chrono::seconds(1);
    std::this_thread::sleep_until(next);
    if (i < skip_s) continue;
    const auto [bytes, secs] = control.latest();
    lag_s.push_back(secs);
    lag_bytes.push_back(static_cast<double>(bytes));
  }
  control.stop();
  stream.join();
  if (!result.ok() && result.error().code != "Cancelled") return fail(result.error());
  boost::json::array samples;
  for (double s : lag_s) samples.push_back(s);
  std::cout << boost::json::serialize(boost::json::object{{"samples", samples},
                                                          {"p50_s", quantile(lag_s, 0.5)},
                                                          {"p99_s", quantile(lag_s, 0.99)},
                                                          {"max_s", quantile(lag_s, 1.0)},
                                                          {"p50_bytes", quantile(lag_bytes, 0.5)},
                                                          {"max_bytes", quantile(lag_bytes, 1.0)},
                                                          {"segments_completed", completed.load()}})
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: opendbs-pg-bench init|full|restore|wal-lag --repo DIR ...\n";
    return 2;
  }
  const std::string command = argv[1];
  auto args = parse(argc, argv);
  auto repository = open_repo(args["repo"], args.count("compression") ? args["compression"] : "zstd:1");
  if (!repository.ok()) return fail(repository.error());
  engines::PostgresOptions engine_options;
  if (args.count("durable-ms")) engine_options.wal.durable_interval_ms = std::stoll(args["durable-ms"]);
  engines::PostgresEngine engine(engine_options);
  engines::PlanSpec plan;
  plan.plan_id = "bench";
  plan.backup_method = args.count("method") ? args["method"] : "physical";
  plan.source.host = args["host"];
  plan.source.port = args.count("port") ? std::stoi(args["port"]) : 5432;
  plan.source.user = args["user"];
  NoCancel control;
  const auto started = std::chrono::steady_clock::now();
  if (command == "init") return 0;
  if (command == "wal-lag")
    return wal_lag(engine, plan, **repository, args.count("skip") ? std::stoi(args["skip"]) : 0,
                   args.count("seconds") ? std::stoi(args["seconds"]) : 30);
  if (command == "full" && args["discard"] == "1") {
    DiscardingSet set;
    auto result = engine.full_backup(plan, set, control);
    if (!result.ok()) return fail(result.error());
    std::cout << boost::json::serialize(boost::json::object{{"seconds", seconds_since(started)}}) << "\n";
    return 0;
  }
  if (command == "full") {
    auto set = (*repository)->begin_set(args["set"]);
    if (!set.ok()) return fail(set.error());
    auto result = engine.full_backup(plan, **set, control);
    if (!result.ok()) return fail(result.error());
    auto st = (*set)->commit(result->metadata);
    if (!st.ok()) return fail(st.error());
    const auto stats = (*set)->stats();
    std::cout << boost::json::serialize(boost::json::object{{"seconds", seconds_since(started)},
                                                            {"bytes_in", stats.bytes_in},
                                                            {"bytes_stored", stats.bytes_stored}})
              << "\n";
    return 0;
  }
  if (command == "restore") {
    auto manifest = (*repository)->load_manifest(args["set"]);
    if (!manifest.ok()) return fail(manifest.error());
    engines::RestoreRequest request;
    request.set_id = args["set"];
    request.target_dir = args["target"];
    request.target_ms = manifest->engine_metadata.at("consistent_ms").as_int64();
    auto st = engine.restore(plan, **repository, request, control);
    if (!st.ok()) return fail(st.error());
    std::cout << boost::json::serialize(boost::json::object{{"seconds", seconds_since(started)}}) << "\n";
    return 0;
  }
  std::cerr << "unknown command " << command << "\n";
  return 2;
}
