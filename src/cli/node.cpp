#include "cli/node.h"

#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "api/dispatcher.h"
#include "api/ops/restore_ranges.h"
#include "catalog/store.h"
#include "cli/data_dir_lock.h"
#include "core/crypto.h"
#include "core/errors.h"
#include "core/file.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "http/tls_certificate.h"
#include "iam/directory.h"
#include "jobs/download_links.h"
#include "jobs/runtime.h"
#include "jobs/repo_prune.h"
#include "jobs/slot_watch.h"
#include "repo/backend/backend.h"
#include "repo/repository.h"

namespace opendbs::cli {

struct Node::Parts {
  std::optional<DataDirLock> data_dir_lock;  // first: released last
  NodeOptions options;
  engines::EngineRegistry engines;
  std::unique_ptr<catalog::Store> store;
  std::unique_ptr<iam::SecretBox> secrets;
  std::unique_ptr<iam::Directory> directory;
  std::unique_ptr<repo::Repository> repository;
  std::unique_ptr<jobs::Notifier> notifier;
  std::unique_ptr<jobs::TaskRuntime> runtime;
  std::unique_ptr<jobs::DownloadLinks> downloads;
  std::unique_ptr<jobs::SlotWatch> slot_watch;
  std::unique_ptr<jobs::RepoPrune> prune;  // before the repository in destruction
  std::unique_ptr<api::Services> services;
  std::unique_ptr<api::Dispatcher> dispatcher;
  core::MetricsRegistry metrics;
  std::unique_ptr<http::Router> router;
  std::unique_ptr<http::Server> server;
};

namespace {

// The node's id (a BackupGatewayId: digits), kept in DATA_DIR/node-id so it survives restarts.
core::Result<std::string> node_id(const std::string& data_dir) {
  const std::string path = data_dir + "/node-id";
  auto existing = core::read_file(path);
  if (existing.ok()) {
    std::string id = *existing;
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
  }
  std::string id = "1" + std::to_string(std::stoull(core::to_hex(core::random_bytes(4)), nullptr, 16));
  OPENDBS_TRY(core::write_file_durable(path, id + "\n", 0644));
  return id;
}

// The root AccessKey on first start (DESIGN.md §5): from the environment, or generated and written once.
core::Status ensure_root_credentials(iam::Directory& directory, const std::string& data_dir) {
  std::optional<iam::AccessKeyPair> wanted;
  const char* id = std::getenv("OPENDBS_ROOT_ACCESS_KEY_ID");
  const char* secret = std::getenv("OPENDBS_ROOT_ACCESS_KEY_SECRET");
  if (id && secret && *id && *secret) wanted = iam::AccessKeyPair{id, secret};
  OPENDBS_ASSIGN(auto created, directory.ensure_root(wanted));
  if (!created || wanted) return {};
  boost::json::object creds{{"AccessKeyId", created->access_key_id}, {"AccessKeySecret", created->access_key_secret}};
  const std::string path = data_dir + "/root-credentials.json";
  OPENDBS_TRY(core::write_file_durable(path, boost::json::serialize(creds) + "\n", 0600));
  // The secret itself stays out of stderr, which often ends up in a log file others can read.
  std::fprintf(stderr, "opendbs: root AccessKey %s created; its secret is in %s (mode 0600)\n",
               created->access_key_id.c_str(), path.c_str());
  return {};
}

// The node's repository: opened with DATA_DIR/repository.key, created on first start.
core::Result<std::unique_ptr<repo::Repository>> open_repository(const NodeOptions& o) {
  const std::string key_path = o.data_dir + "/repository.key";
  auto key = core::read_file(key_path);
  if (!key.ok() && key.error().code != "NotFound") return key.error();
  if (!key.ok()) OPENDBS_TRY(core::write_file_durable(key_path, core::to_hex(core::random_bytes(32)) + "\n", 0600));
  repo::KeySource source;
  source.key_file = key_path;
  OPENDBS_ASSIGN(auto backend, repo::open_backend(o.repository_url));
  auto opened = repo::Repository::open(std::move(backend), source);
  if (opened.ok()) return opened;
  if (opened.error().code != "NotFound") return opened.error().with_context("repository " + o.repository_url);
  OPENDBS_ASSIGN(auto fresh_backend, repo::open_backend(o.repository_url));
  return repo::Repository::init(std::move(fresh_backend), source, repo::RepoOptions{});
}

// Where download links point: the plain listener for IntranetUrl, --download-url or else the TLS
// listener (when there is one) for InternetUrl; a wildcard listen address is replaced by the host name.
jobs::DownloadSettings download_settings(const Node::Parts& p, const std::string& host_name, const std::string& node_id) {
  auto host_of = [&](const std::string& listen) {
    const std::string host = listen.substr(0, listen.rfind(':'));
    return host.empty() || host == "0.0.0.0" || host == "[::]" ? host_name : host;
  };
  const auto& o = p.options;
  jobs::DownloadSettings s;
  s.links = p.downloads.get();
  s.node_id = node_id;
  const std::string plain = o.listen.empty() ? "" : "http://" + host_of(o.listen) + ":" + std::to_string(p.server->port());
  const std::string tls =
      o.tls_listen.empty() ? "" : "https://" + host_of(o.tls_listen) + ":" + std::to_string(p.server->tls_port());
  s.intranet_base = plain.empty() ? tls : plain;
  s.internet_base = tls.empty() ? plain : tls;
  if (!o.download_url.empty()) {  // --download-url: what clients outside reach the node at
    s.internet_base = o.download_url;
    while (s.internet_base.ends_with('/')) s.internet_base.pop_back();
  }
  return s;
}

void register_task_metrics(Node::Parts& p) {
  auto& duration = p.metrics.histogram("opendbs_task_duration_seconds", "Duration of finished tasks",
                                       {"kind", "outcome"}, {1, 5, 15, 60, 300, 900, 3600, 14400, 86400});
  auto& bytes = p.metrics.counter("opendbs_task_bytes_total", "Bytes processed by tasks", {"kind"});
  auto& failed = p.metrics.counter("opendbs_tasks_failed_total", "Tasks that ended failed", {"kind"});
  p.runtime->set_task_observer([&](const std::string& kind, const std::string& outcome, double seconds, uint64_t n) {
    duration.with({kind, outcome}).observe(seconds);
    bytes.with({kind}).inc(n);
    if (outcome == "failed") failed.with({kind}).inc();
  });
  // Running tasks' bytes count at each scrape too: a log backup runs for days, a full backup for hours.
  p.metrics.add_collect_hook([&] {
    for (const auto& [kind, n] : p.runtime->take_running_task_bytes()) bytes.with({kind}).inc(n);
  });
  auto& lag_bytes = p.metrics.gauge("opendbs_log_backup_lag_bytes", "Log not yet stored, per plan", {"plan"});
  auto& lag_seconds = p.metrics.gauge("opendbs_log_backup_lag_seconds", "Age of the oldest log not yet stored", {"plan"});
  p.metrics.add_collect_hook([&] {
    for (const auto& t : p.runtime->running_tasks()) {
      if (t.kind != jobs::task_kind::log_backup) continue;
      lag_bytes.with({t.plan_id}).set(static_cast<double>(t.lag_bytes));
      lag_seconds.with({t.plan_id}).set(t.lag_seconds);
    }
  });
}

// Per plan: the newest finished full backup and the restorable window, from the catalog at scrape time.
void register_plan_metrics(Node::Parts& p) {
  auto& last_full = p.metrics.gauge("opendbs_plan_last_full_backup_timestamp_seconds",
                                    "When the newest finished full backup of a plan is consistent", {"plan"});
  auto& window_start = p.metrics.gauge("opendbs_plan_restore_window_start_timestamp_seconds",
                                       "Earliest restorable moment of a plan", {"plan"});
  auto& window_end = p.metrics.gauge("opendbs_plan_restore_window_end_timestamp_seconds",
                                     "Latest restorable moment of a plan", {"plan"});
  p.metrics.add_collect_hook([&] {
    (void)p.store->read([&](catalog::Tx& tx) -> core::Status {
      catalog::Query plans{catalog::Kind::plan};
      plans.states = {"running", "pause", "check_pass", "init"};
      OPENDBS_ASSIGN(auto all, tx.list(plans));
      for (const auto& plan : all) {
        OPENDBS_ASSIGN(auto ranges, api::ops::restore_ranges(tx, plan.id));
        if (ranges.empty()) continue;
        last_full.with({plan.id}).set(static_cast<double>(ranges.back().full_set_end_ms.back()) / 1000);
        window_start.with({plan.id}).set(static_cast<double>(ranges.front().begin_ms) / 1000);
        window_end.with({plan.id}).set(static_cast<double>(ranges.back().end_ms) / 1000);
      }
      return {};
    });
  });
}

// Repository totals; computing them reads the index, so at most once a minute.
void register_repository_metrics(Node::Parts& p) {
  auto& stored = p.metrics.gauge("opendbs_repository_stored_bytes", "Bytes stored in the repository (packs)");
  auto& logical = p.metrics.gauge("opendbs_repository_logical_bytes", "Bytes of all sets before dedup and compression");
  auto& ratio = p.metrics.gauge("opendbs_repository_dedup_ratio", "Logical bytes per stored byte");
  auto last = std::make_shared<std::atomic<int64_t>>(0);
  p.metrics.add_collect_hook([&, last] {
    const int64_t now = core::SystemClock::instance().now_ms();
    if (now - last->load() < 60000) return;
    last->store(now);
    auto s = p.repository->stats();
    if (!s.ok()) return;
    stored.with().set(static_cast<double>(s->stored_bytes));
    logical.with().set(static_cast<double>(s->logical_bytes));
    ratio.with().set(s->dedup_ratio);
  });
}

// The log each source keeps for a plan's log backup, as SlotWatch last saw it.
void register_slot_metrics(Node::Parts& p) {
  auto& retained = p.metrics.gauge("opendbs_log_slot_retained_bytes",
                                   "Log a source keeps for a plan's log backup (PostgreSQL: its replication slot)", {"plan"});
  p.metrics.add_collect_hook([&] {
    for (const auto& [plan, bytes] : p.slot_watch->retained_bytes()) retained.with({plan}).set(static_cast<double>(bytes));
  });
  // A release that ends leaves its series at 0, so that an alert on > 0 clears.
  auto& releasing = p.metrics.gauge("opendbs_log_slot_release_pending",
                                    "Failed attempts so far of a slot release still being retried (0 once done)",
                                    {"plan", "source"});
  struct Shown {  // the series shown > 0 by the last scrape (the registry runs copies of its hooks)
    std::mutex mu;
    std::set<std::pair<std::string, std::string>> series;
  };
  p.metrics.add_collect_hook([&p, &releasing, shown = std::make_shared<Shown>()] {
    std::set<std::pair<std::string, std::string>> pending;
    for (const auto& r : p.slot_watch->pending_releases()) {
      releasing.with({r.plan_id, r.source}).set(static_cast<double>(r.attempts));
      pending.emplace(r.plan_id, r.source);
    }
    std::lock_guard lock(shown->mu);
    for (const auto& [plan, source] : shown->series)
      if (!pending.contains({plan, source})) releasing.with({plan, source}).set(0);
    shown->series = std::move(pending);
  });
}

// What the node's prune passes did (RepoPrune).
void register_prune_metrics(Node::Parts& p) {
  auto& runs = p.metrics.counter("opendbs_repository_prune_runs_total",
                                 "Prune passes by result (done, skipped_locked, failed)", {"result"});
  auto& bytes = p.metrics.counter("opendbs_repository_prune_freed_bytes_total", "Bytes prune deleted from the repository");
  auto& packs = p.metrics.counter("opendbs_repository_prune_packs_total",
                                  "Packs prune removed: deleted (garbage) or repacked (live part copied)", {"action"});
  auto& seconds = p.metrics.gauge("opendbs_repository_prune_last_duration_seconds",
                                  "Duration of the last prune pass that was not skipped");
  auto& last_success = p.metrics.gauge("opendbs_repository_prune_last_success_timestamp_seconds",
                                       "When the last prune pass finished successfully");
  // Damage a pass found (docs/REPOSITORY.md, Lost packs): alert on either being above 0.
  auto& lost = p.metrics.counter("opendbs_repository_lost_packs_total",
                                 "Packs prune found missing from the repository while its index listed them");
  auto& damaged = p.metrics.gauge("opendbs_repository_damaged_sets",
                                  "Sets the last prune pass found that can no longer be restored in full (chunks "
                                  "lost or damaged, or a damaged manifest)");
  for (auto r : {jobs::PruneResult::done, jobs::PruneResult::skipped_locked, jobs::PruneResult::failed})
    runs.with({jobs::to_string(r)});  // every series from the start, so that rate() and alerts see 0
  bytes.with();
  packs.with({"deleted"});
  packs.with({"repacked"});
  lost.with();
  damaged.with();
  p.prune->set_observer([&runs, &bytes, &packs, &seconds, &last_success, &lost, &damaged](const jobs::PruneRun& run) {
    runs.with({jobs::to_string(run.result)}).inc();
    if (run.result == jobs::PruneResult::skipped_locked) return;
    seconds.with().set(run.seconds);
    if (!run.unreadable_sets.empty()) damaged.with().set(static_cast<double>(run.unreadable_sets.size()));
    if (run.result != jobs::PruneResult::done) return;
    bytes.with().inc(run.report.bytes_freed);
    packs.with({"deleted"}).inc(run.report.packs_deleted);
    packs.with({"repacked"}).inc(run.report.packs_repacked);
    lost.with().inc(run.report.lost_packs.size());
    damaged.with().set(static_cast<double>(run.report.damaged_sets.size()));
    last_success.with().set(static_cast<double>(run.finished_ms) / 1000);
  });
}

void register_metrics(Node::Parts& p) {
  auto& requests = p.metrics.counter("opendbs_api_requests_total", "API requests by action and error code",
                                     {"action", "code"});
  auto& latency = p.metrics.histogram("opendbs_api_request_duration_seconds", "API request latency", {"action"},
                                      core::latency_buckets_seconds());
  p.dispatcher->set_observer([&requests, &latency](const api::RequestOutcome& o) {
    const std::string action = api::find_operation(o.action) ? o.action : "unknown";
    requests.with({action, o.code.empty() ? "OK" : o.code}).inc();
    latency.with({action}).observe(o.latency_seconds);
  });
  register_task_metrics(p);
  register_plan_metrics(p);
  register_repository_metrics(p);
  register_slot_metrics(p);
  register_prune_metrics(p);
  auto& unreadable = p.metrics.counter("opendbs_catalog_unreadable_records_total",
                                       "Catalog records met that are not readable JSON (left out of listings)", {"kind"});
  unreadable.with({"plan"});  // a series from the start, so that an alert on increase() sees 0
  p.store->on_unreadable_record([&unreadable](catalog::Kind kind, const std::string&) {
    unreadable.with({catalog::kind_name(kind)}).inc();
  });
  auto& tasks = p.metrics.gauge("opendbs_tasks", "Tasks by kind and state", {"kind", "state"});
  p.metrics.add_collect_hook([&p, &tasks] {
    (void)p.store->read([&](catalog::Tx& tx) -> core::Status {
      for (const char* kind : {"precheck", "full_backup", "log_backup", "restore", "download"})
        for (const char* state : {"queued", "running", "succeeded", "failed", "cancelled"}) {
          catalog::Query q{catalog::Kind::task};
          q.states = {state};
          q.doc_equals = {{"TaskKind", kind}};
          auto n = tx.count(q);
          tasks.with({kind, state}).set(n.ok() ? static_cast<double>(*n) : 0);
        }
      return {};
    });
  });
}

}  // namespace

Node::Node(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Node::~Node() {
  shutdown(2000);
  wait();
}

core::Result<std::unique_ptr<Node>> Node::start(const NodeOptions& options, engines::EngineRegistry engines) {
  auto p = std::make_unique<Parts>();
  p->options = options;
  p->engines = std::move(engines);
  auto& o = p->options;
  OPENDBS_TRY(core::make_dirs(o.data_dir, 0700));
  OPENDBS_ASSIGN(auto lock, DataDirLock::acquire(o.data_dir));
  p->data_dir_lock.emplace(std::move(lock));
  if (o.catalog_url.empty()) o.catalog_url = "sqlite:" + o.data_dir + "/catalog.db";
  if (o.repository_url.empty()) o.repository_url = o.data_dir + "/repository";
  OPENDBS_ASSIGN(p->store, catalog::open_store(o.catalog_url));
  OPENDBS_ASSIGN(auto box, iam::SecretBox::open_or_create(o.data_dir));
  p->secrets = std::make_unique<iam::SecretBox>(std::move(box));
  p->directory = std::make_unique<iam::Directory>(*p->store, *p->secrets);
  OPENDBS_TRY(ensure_root_credentials(*p->directory, o.data_dir));
  OPENDBS_ASSIGN(p->repository, open_repository(o));
  OPENDBS_ASSIGN(auto id, node_id(o.data_dir));
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  jobs::RuntimeOptions ro;
  ro.node_id = id;
  ro.node_identifier = host;
  ro.workers = o.workers;
  ro.lease_ms = o.lease_ms;
  ro.lag_alert_seconds = o.lag_alert_seconds;
  ro.restore_root = o.restore_root;
  if (o.restore_root.empty() && ::geteuid() == 0)
    core::log_event(core::LogLevel::warn, "restore_root_unset",
                    {{"hint", "restores may write any RestoreDir on this machine, as root: set --restore-root"}});
  // Restored servers fetch WAL through `opendbs wal-fetch` when they can read the repository and its
  // key: not when the node runs as root, whose restored directories go to another user
  // (docs/POSTGRES.md); those get the WAL copied beside the data.
  if (::geteuid() != 0) ro.log_fetch = {"", o.repository_url, o.data_dir + "/repository.key"};
  p->runtime = std::make_unique<jobs::TaskRuntime>(*p->store, *p->secrets, *p->repository, p->engines,
                                                   core::SystemClock::instance(), ro);
  p->notifier = std::make_unique<jobs::Notifier>(o.webhook);
  p->runtime->set_notifier(p->notifier.get());
  p->slot_watch = std::make_unique<jobs::SlotWatch>(*p->store, *p->secrets, p->engines, o.slot_watch);
  p->slot_watch->set_notifier(p->notifier.get());
  p->prune = std::make_unique<jobs::RepoPrune>(*p->repository, o.prune);
  p->prune->skip_while_tasks_read(*p->store);
  p->runtime->set_sets_forgotten_hook([prune = p->prune.get()] { prune->request_soon(); });
  p->services.reset(new api::Services{*p->store, *p->secrets, p->runtime.get(), core::SystemClock::instance(), id});
  p->services->restore_root = o.restore_root;
  p->dispatcher = std::make_unique<api::Dispatcher>(*p->services, *p->directory);
  OPENDBS_TRY(p->dispatcher->open_nonce_journal(o.data_dir + "/nonces"));
  p->downloads = std::make_unique<jobs::DownloadLinks>(p->secrets->derive_key(jobs::kDownloadKeyPurpose),
                                                      o.data_dir + "/downloads");
  p->router = std::make_unique<http::Router>(*p->dispatcher, p->metrics, p->downloads.get());
  register_metrics(*p);

  http::ServerOptions so;
  so.listen = o.listen;
  so.tls_listen = o.tls_listen;
  so.threads = o.http_threads;
  if (!o.tls_listen.empty()) {
    if (o.tls_cert.empty()) {
      OPENDBS_ASSIGN(auto pair, http::ensure_self_signed_certificate(o.data_dir));
      so.tls_cert_file = pair.first;
      so.tls_key_file = pair.second;
    } else {
      so.tls_cert_file = o.tls_cert;
      so.tls_key_file = o.tls_key;
    }
  }
  so.error_response = [](int status, std::string code, std::string message) {
    return http::Router::error(status, code, message);
  };
  auto* router = p->router.get();
  p->server = std::make_unique<http::Server>(so, [router](const http::Request& r) { return router->handle(r); });
  OPENDBS_TRY(p->server->start());
  p->runtime->set_downloads(download_settings(*p, host, id));
  p->runtime->start();
  p->slot_watch->start();
  p->prune->start();
  core::log_event(core::LogLevel::info, "node_started",
                  {{"NodeId", id}, {"Port", p->server->port()}, {"TlsPort", p->server->tls_port()},
                   {"DataDir", o.data_dir}, {"Repository", o.repository_url}});
  return std::unique_ptr<Node>(new Node(std::move(p)));
}

uint16_t Node::port() const { return parts_->server->port(); }
uint16_t Node::tls_port() const { return parts_->server->tls_port(); }

bool Node::shutdown(int grace_ms, std::chrono::milliseconds task_wait) {
  if (parts_->server) parts_->server->shutdown(grace_ms);
  if (parts_->slot_watch) parts_->slot_watch->stop();
  const bool tasks_ended = !parts_->runtime || parts_->runtime->stop(task_wait);
  // Last: it waits for a pass in progress (prune cannot be interrupted), and tasks are handed back first.
  if (parts_->prune) parts_->prune->stop();
  return tasks_ended;
}

void Node::wait() {
  if (parts_->server) parts_->server->wait();
}

int run_serve(const NodeOptions& options, engines::EngineRegistry engines) {
  // Block the stop signals before any thread starts, so that only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  auto node = Node::start(options, std::move(engines));
  if (!node.ok()) {
    std::fprintf(stderr, "opendbs serve: %s\n", node.error().message.c_str());
    return 1;
  }
  std::fprintf(stderr, "opendbs: serving the DBS API on http://%s:%u/%s\n",
               options.listen.substr(0, options.listen.rfind(':')).c_str(), (*node)->port(),
               options.tls_listen.empty() ? "" : (" and https on port " + std::to_string((*node)->tls_port())).c_str());
  int sig = 0;
  sigwait(&stop_signals, &sig);
  core::log_event(core::LogLevel::info, "node_stopping", {{"Signal", sig}});
  if (!(*node)->shutdown(10000, kTaskStopWait)) {
    // The runtime logged each task that did not end (task_not_ended). Their threads cannot be joined:
    // the process ends without them, and their leases expire so that the tasks run again.
    core::log_event(core::LogLevel::error, "node_stopped_with_tasks_running",
                    {{"WaitedMs", kTaskStopWait.count()}, {"ExitCode", 1}});
    std::fflush(stderr);
    std::_Exit(1);
  }
  (*node)->wait();
  return 0;
}

}  // namespace opendbs::cli
