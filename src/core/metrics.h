// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4 for GET /metrics.
//
// Hot path: a labelled series is looked up once (Family::with, which takes a lock) and the returned
// reference is kept by the caller as a handle; updating it afterwards is one or two relaxed atomic
// operations. Series and families live as long as the registry, so handles never dangle.
//
// Thread safety: everything may be called from any thread. render() reads the atomics without
// stopping writers, so a histogram scraped mid-update may show a count one observation ahead of its
// buckets — the usual trade-off of Prometheus clients.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace opendbs::core {

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& upper_bounds);  // sorted, without +Inf
  void observe(double v);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  // Cumulative counts per bound, as exposed (le="bound"), the last being +Inf.
  std::vector<uint64_t> cumulative_counts() const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Seconds: 1 ms … 10 s, the range of API latencies.
std::vector<double> latency_buckets_seconds();

// Every series of one metric name, keyed by the values of its labels.
template <class Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}

  // The series for these label values (one per label name, in order), created at first use.
  Metric& with(const std::vector<std::string>& label_values);
  Metric& with() { return with(std::vector<std::string>{}); }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls `visit(label_values, metric)` for every series, in label-value order, under the lock.
  void for_each(const std::function<void(const std::vector<std::string>&, const Metric&)>& visit) const;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class MetricsRegistry {
 public:
  // Registering a name again returns the existing family; names must be valid Prometheus names and
  // a name may have one type only (violations are bugs and assert).
  CounterFamily& counter(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  HistogramFamily& histogram(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                             std::vector<double> upper_bounds);

  // Runs before every render(), e.g. to set gauges that are computed at scrape time.
  void add_collect_hook(std::function<void()> hook);

  // The exposition text (Content-Type: text/plain; version=0.0.4), families in registration order.
  std::string render() const;

 private:
  using AnyFamily =
      std::variant<std::unique_ptr<CounterFamily>, std::unique_ptr<GaugeFamily>, std::unique_ptr<HistogramFamily>>;
  template <class F, class... Args>
  F& add_family(const std::string& name, const std::vector<std::string>& label_names, Args&&... args);

  mutable std::mutex mu_;
  std::vector<AnyFamily> families_;
  std::vector<std::function<void()>> hooks_;
};

// Escapes a label value for the exposition format: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

}  // namespace opendbs::core
