#include "cli/serve_command.h"

#include <cctype>
#include <cstdlib>

#include "cli/node.h"

namespace opendbs::cli {
namespace {

constexpr int64_t kMaxDurationMs = 366LL * 86400000;

// "6h", "30m", "90s", "500ms", "1d" or "0" as milliseconds, up to a year (a CLI11 transform: the
// option then reads a number).
std::string duration_to_ms(const std::string& text) {
  static const std::pair<const char*, int64_t> units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string unit = text.substr(digits);
  if (digits == 0 || digits > 12) throw CLI::ValidationError("a duration such as 6h, 30m, 90s or 500ms: " + text);
  const int64_t n = std::stoll(text.substr(0, digits));
  if (unit.empty() && n == 0) return "0";
  for (const auto& [name, ms] : units)
    if (unit == name) {
      if (n > kMaxDurationMs / ms) throw CLI::ValidationError("at most 366d: " + text);
      return std::to_string(n * ms);
    }
  throw CLI::ValidationError("a duration such as 6h, 30m, 90s or 500ms (0 = off): " + text);
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code, const engines::EngineRegistry& engines) {
  auto options = std::make_shared<NodeOptions>();
  auto* serve = app.add_subcommand("serve", "Run a node: the DBS API, metrics, scheduler and workers");
  serve->add_option("--data-dir", options->data_dir, "Data directory (catalog, keys, repository)")->capture_default_str();
  serve->add_option("--listen", options->listen, "HOST:PORT of the plain HTTP listener (port 0 = any)")
      ->capture_default_str();
  serve->add_option("--tls-listen", options->tls_listen, "HOST:PORT of the HTTPS listener (off when empty)");
  serve->add_option("--tls-cert", options->tls_cert, "PEM certificate (default: self-signed in DATA_DIR/tls)");
  serve->add_option("--tls-key", options->tls_key, "PEM private key");
  serve->add_option("--catalog", options->catalog_url, "Catalog URL (default sqlite:DATA_DIR/catalog.db)");
  serve->add_option("--repository", options->repository_url, "Repository: a directory or s3://bucket/prefix?...");
  serve->add_option("--workers", options->workers, "Concurrent tasks")->capture_default_str()->check(CLI::Range(1, 64));
  serve->add_option("--lease-ms", options->lease_ms, "Task lease; a killed node's tasks are taken again after it")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2000}, int64_t{3600000}));
  serve->add_option("--http-threads", options->http_threads, "HTTP I/O threads")->capture_default_str()->check(CLI::Range(1, 64));
  serve->add_option("--webhook-url", options->webhook.url, "POST notifications (JSON) to this URL");
  serve->add_option("--webhook-secret", options->webhook.secret,
                    "HMAC-SHA256 key for X-Opendbs-Signature (default: env OPENDBS_WEBHOOK_SECRET)");
  serve->add_option("--webhook-events", options->webhook.events,
                    "task.failed, task.succeeded, log_backup.lag, log_backup.retention, log_backup.release_pending, "
                    "plan.stale (default: all but task.succeeded)")
      ->delimiter(',')
      ->check(CLI::IsMember({"task.failed", "task.succeeded", "log_backup.lag", "log_backup.retention",
                             "log_backup.release_pending", "plan.stale"}));
  serve->add_option("--lag-alert-seconds", options->lag_alert_seconds, "log_backup.lag above this")->capture_default_str();
  serve->add_option("--download-url", options->download_url,
                    "Base of download links, e.g. https://backup.example.com (default: the listeners)")
      ->envname("OPENDBS_DOWNLOAD_URL");
  serve->add_option("--restore-root", options->restore_root,
                    "Restores write only below this directory; RestoreDir elsewhere is refused (default: anywhere)")
      ->envname("OPENDBS_RESTORE_ROOT");
  serve->add_option("--slot-retain-warn-bytes", options->slot_watch.warn_bytes,
                    "Warn (plan ErrMessage, log_backup.retention) when a source keeps this much log for a plan")
      ->capture_default_str()
      ->envname("OPENDBS_SLOT_RETAIN_WARN_BYTES");
  serve->add_option("--slot-watch-interval-ms", options->slot_watch.interval_ms, "How often the retained log is checked")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{200}, int64_t{3600000}))
      ->envname("OPENDBS_SLOT_WATCH_INTERVAL_MS");
  serve->add_option("--prune-interval", options->prune.interval_ms,
                    "How often the node prunes the repository (frees forgotten sets' data): 6h, 30m, ...; 0 = never")
      ->transform(duration_to_ms)
      ->type_name("DURATION")
      ->default_str("6h")
      ->envname("OPENDBS_PRUNE_INTERVAL");
  serve->add_option("--prune-retry", options->prune.retry_ms,
                    "Delay before a prune skipped because a backup was writing is tried again; also after retention")
      ->transform(duration_to_ms)
      ->type_name("DURATION")
      ->default_str("1m")
      ->check(CLI::Range(int64_t{100}, kMaxDurationMs, "a duration from 100ms"))
      ->envname("OPENDBS_PRUNE_RETRY");
  serve->callback([options, &exit_code, &engines] {
    if (options->webhook.secret.empty() && std::getenv("OPENDBS_WEBHOOK_SECRET"))
      options->webhook.secret = std::getenv("OPENDBS_WEBHOOK_SECRET");
    exit_code = run_serve(*options, engines);
  });
}

}  // namespace opendbs::cli
