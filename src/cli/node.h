// A running opendbs node: catalog, secrets, IAM, repository, task runtime, API and HTTP server wired
// together from a data directory. `opendbs serve` runs one until SIGTERM; tests run one in-process.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"
#include "engines/engine.h"
#include "jobs/notifier.h"
#include "jobs/repo_prune.h"
#include "jobs/slot_watch.h"

namespace opendbs::cli {

struct NodeOptions {
  std::string data_dir = "./opendbs-data";
  std::string listen = "127.0.0.1:8080";
  std::string tls_listen;
  std::string tls_cert, tls_key;
  std::string catalog_url;     // default sqlite:DATA_DIR/catalog.db
  std::string repository_url;  // default DATA_DIR/repository
  int workers = 2;
  int64_t lease_ms = 30000;  // how long a dead node's tasks wait before another node (or a restart) takes them
  int http_threads = 2;
  jobs::WebhookOptions webhook;
  double lag_alert_seconds = 300;
  jobs::SlotWatchOptions slot_watch;  // warnings about log a source keeps for a stopped log backup
  jobs::RepoPruneOptions prune;       // freeing the data of forgotten sets (docs/OPERATIONS.md, Reclaiming space)
  // Scheme, host and port that download links (BackupSetDownloadInternetUrl) start with, e.g.
  // https://backup.example.com behind a proxy; empty = the TLS listener, else the plain one.
  std::string download_url;
  // Restores write only below this directory (RestoreDir outside it is refused); "" = anywhere.
  std::string restore_root;
};

class Node {
 public:
  static core::Result<std::unique_ptr<Node>> start(const NodeOptions& options, engines::EngineRegistry engines);
  ~Node();
  uint16_t port() const;
  uint16_t tls_port() const;
  // Stops accepting, lets in-flight requests finish (up to grace_ms), hands running tasks back and
  // waits up to task_wait (default: without bound) for their runs to end. False when some did not
  // (logged: task_not_ended); their threads still run then, and only ending the process (or destroying
  // the Node, which waits for them without bound) stops them.
  bool shutdown(int grace_ms, std::chrono::milliseconds task_wait = std::chrono::milliseconds::max());
  void wait();

  struct Parts;

 private:
  explicit Node(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// How long SIGTERM waits for running tasks to hand themselves back before the process ends anyway.
inline constexpr std::chrono::milliseconds kTaskStopWait{20000};

// `opendbs serve ...` until SIGTERM/SIGINT. Returns the process exit code; exits 1 at once when tasks
// did not end within kTaskStopWait.
int run_serve(const NodeOptions& options, engines::EngineRegistry engines);

}  // namespace opendbs::cli
