#include "core/metrics.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

namespace opendbs::core {
namespace {

[[maybe_unused]] bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

// Backslash and newline always; double quotes only inside label values.
std::string escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="x",b="y"}`, with an extra label appended when given (le for buckets); empty when no labels.
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  // Built with append (not operator+ chains, which g++ 12 at -O3 flags with a false -Wrestrict).
  std::string out;
  auto add = [&out](std::string_view name, std::string_view value) {
    out.append(out.empty() ? "{" : ",").append(name).append("=\"").append(value).append("\"");
  };
  for (size_t i = 0; i < names.size(); ++i) add(names[i], escape_label_value(values[i]));
  if (!extra_name.empty()) add(extra_name, extra_value);
  if (!out.empty()) out.append("}");
  return out;
}

void render_header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP " + std::string(name) + " " + escape(help, false) + "\n";
  out += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
}

void render_family(std::string& out, const CounterFamily& f) {
  render_header(out, f.name(), f.help(), "counter");
  f.for_each([&](const auto& labels, const Counter& c) {
    out += f.name() + label_set(f.label_names(), labels) + " " + std::to_string(c.value()) + "\n";
  });
}

void render_family(std::string& out, const GaugeFamily& f) {
  render_header(out, f.name(), f.help(), "gauge");
  f.for_each([&](const auto& labels, const Gauge& g) {
    out += f.name() + label_set(f.label_names(), labels) + " " + format_number(g.value()) + "\n";
  });
}

void render_family(std::string& out, const HistogramFamily& f) {
  render_header(out, f.name(), f.help(), "histogram");
  f.for_each([&](const auto& labels, const Histogram& h) {
    const auto counts = h.cumulative_counts();
    const auto& bounds = h.upper_bounds();
    for (size_t i = 0; i < counts.size(); ++i) {
      const std::string le = i < bounds.size() ? format_number(bounds[i]) : "+Inf";
      out +=
          f.name() + "_bucket" + label_set(f.label_names(), labels, "le", le) + " " + std::to_string(counts[i]) + "\n";
    }
    out += f.name() + "_sum" + label_set(f.label_names(), labels) + " " + format_number(h.sum()) + "\n";
    out += f.name() + "_count" + label_set(f.label_names(), labels) + " " + std::to_string(counts.back()) + "\n";
  });
}

}  // namespace

Histogram::Histogram(const std::vector<double>& upper_bounds)
    : bounds_(upper_bounds), buckets_(new std::atomic<uint64_t>[upper_bounds.size() + 1]) {
  assert(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();  // le is inclusive
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) out[i] = running += buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> latency_buckets_seconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& label_values) {
  assert(label_values.size() == label_names_.size());
  std::lock_guard lock(mu_);
  auto& slot = series_[label_values];
  if (!slot) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      slot = std::make_unique<Histogram>(bounds_);
    } else {
      slot = std::make_unique<Metric>();
    }
  }
  return *slot;
}

template <class Metric>
void Family<Metric>::for_each(const std::function<void(const std::vector<std::string>&, const Metric&)>& visit) const {
  std::lock_guard lock(mu_);
  for (const auto& [labels, metric] : series_) visit(labels, *metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <class F, class... Args>
F& MetricsRegistry::add_family(const std::string& name, const std::vector<std::string>& label_names, Args&&... args) {
  assert(valid_name(name, true));
  for ([[maybe_unused]] const auto& l : label_names) assert(valid_name(l, false) && l != "le");
  std::lock_guard lock(mu_);
  for (auto& family : families_) {
    const std::string& existing = std::visit([](const auto& f) -> const std::string& { return f->name(); }, family);
    if (existing != name) continue;
    assert(std::holds_alternative<std::unique_ptr<F>>(family));  // one name, one type
    return *std::get<std::unique_ptr<F>>(family);
  }
  auto family = std::make_unique<F>(name, std::forward<Args>(args)...);
  F& ref = *family;
  families_.emplace_back(std::move(family));
  return ref;
}

CounterFamily& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names) {
  return add_family<CounterFamily>(name, label_names, help, label_names);
}

GaugeFamily& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  return add_family<GaugeFamily>(name, label_names, help, label_names);
}

HistogramFamily& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                            std::vector<std::string> label_names, std::vector<double> upper_bounds) {
  return add_family<HistogramFamily>(name, label_names, help, label_names, std::move(upper_bounds));
}

void MetricsRegistry::add_collect_hook(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  hooks_.push_back(std::move(hook));
}

std::string MetricsRegistry::render() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mu_);
    hooks = hooks_;
  }
  for (const auto& hook : hooks) hook();  // outside the lock: hooks may register or update metrics
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& family : families_) std::visit([&](const auto& f) { render_family(out, *f); }, family);
  return out;
}

std::string escape_label_value(std::string_view value) { return escape(value, true); }

}  // namespace opendbs::core
