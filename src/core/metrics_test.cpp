#include "core/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <thread>

using namespace opendbs::core;

namespace {

// A strict reader of the text exposition format 0.0.4, enough to check what render() wrote.
struct Exposition {
  std::map<std::string, std::string> help, type;  // by metric name
  std::map<std::string, double> samples;          // by `name{k="v",...}` with unescaped values
  std::vector<std::string> order;                 // metric names in TYPE order
};

std::string parse_labels(std::string_view text, size_t& pos) {
  // Re-serialises the labels unescaped, so tests can look samples up by plain text.
  std::string out;
  if (pos >= text.size() || text[pos] != '{') return out;
  ++pos;
  out += '{';
  while (text.at(pos) != '}') {
    const size_t eq = text.find('=', pos);
    out += std::string(text.substr(pos, eq - pos)) + "=\"";
    pos = eq + 1;
    EXPECT_EQ(text.at(pos), '"');
    ++pos;
    while (text.at(pos) != '"') {
      char c = text[pos++];
      if (c == '\\') {
        const char e = text.at(pos++);
        EXPECT_TRUE(e == '\\' || e == '"' || e == 'n') << "bad escape \\" << e;
        c = e == 'n' ? '\n' : e;
      } else {
        EXPECT_NE(c, '\n');
      }
      out += c;
    }
    ++pos;
    out += '"';
    if (text.at(pos) == ',') out += text[pos++];
  }
  ++pos;
  return out + "}";
}

Exposition parse(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("# HELP ")) {
      const size_t space = line.find(' ', 7);
      e.help[line.substr(7, space - 7)] = line.substr(space + 1);
    } else if (line.starts_with("# TYPE ")) {
      const size_t space = line.find(' ', 7);
      e.type[line.substr(7, space - 7)] = line.substr(space + 1);
      e.order.push_back(line.substr(7, space - 7));
    } else {
      size_t pos = line.find_first_of("{ ");
      const std::string name = line.substr(0, pos);
      const std::string labels = parse_labels(line, pos);
      EXPECT_EQ(line.at(pos), ' ') << line;
      e.samples[name + labels] = std::stod(line.substr(pos + 1));
    }
  }
  return e;
}

}  // namespace

TEST(Metrics, CountersRenderWithHelpTypeAndLabels) {
  MetricsRegistry registry;
  auto& requests = registry.counter("opendbs_requests_total", "API requests by action and code.", {"action", "code"});
  requests.with({"StopBackupPlan", "200"}).inc();
  requests.with({"StopBackupPlan", "200"}).inc(2);
  requests.with({"DescribeRegions", "InvalidJobId"}).inc();
  registry.counter("opendbs_plain_total", "No labels.").with().inc(7);

  const auto e = parse(registry.render());
  EXPECT_EQ(e.type.at("opendbs_requests_total"), "counter");
  EXPECT_EQ(e.help.at("opendbs_requests_total"), "API requests by action and code.");
  EXPECT_EQ(e.samples.at(R"(opendbs_requests_total{action="StopBackupPlan",code="200"})"), 3);
  EXPECT_EQ(e.samples.at(R"(opendbs_requests_total{action="DescribeRegions",code="InvalidJobId"})"), 1);
  EXPECT_EQ(e.samples.at("opendbs_plain_total"), 7);
  EXPECT_EQ(e.order, (std::vector<std::string>{"opendbs_requests_total", "opendbs_plain_total"}));
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  registry.gauge("g", "line one\nback\\slash", {"v"}).with({"quote\" back\\ nl\n end"}).set(1);
  const std::string text = registry.render();
  EXPECT_NE(text.find(R"(# HELP g line one\nback\\slash)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(g{v="quote\" back\\ nl\n end"} 1)"), std::string::npos) << text;
  const auto e = parse(text);
  EXPECT_EQ(e.samples.at("g{v=\"quote\" back\\ nl\n end\"}"), 1);
}

TEST(Metrics, GaugesSetAndAddIncludingFractionsAndNegatives) {
  MetricsRegistry registry;
  auto& tasks = registry.gauge("opendbs_tasks", "Tasks by kind and state.", {"kind", "state"});
  tasks.with({"full_backup", "running"}).set(3);
  tasks.with({"full_backup", "running"}).add(-1);
  tasks.with({"restore", "queued"}).add(0.5);
  const auto e = parse(registry.render());
  EXPECT_EQ(e.type.at("opendbs_tasks"), "gauge");
  EXPECT_EQ(e.samples.at(R"(opendbs_tasks{kind="full_backup",state="running"})"), 2);
  EXPECT_EQ(e.samples.at(R"(opendbs_tasks{kind="restore",state="queued"})"), 0.5);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry registry;
  auto& latency =
      registry.histogram("opendbs_request_seconds", "Latency.", {"action"}, latency_buckets_seconds()).with({"Stop"});
  for (double v : {0.0005, 0.001, 0.003, 0.2, 20.0}) latency.observe(v);
  const auto e = parse(registry.render());
  EXPECT_EQ(e.type.at("opendbs_request_seconds"), "histogram");
  auto bucket = [&](std::string le) {
    return e.samples.at("opendbs_request_seconds_bucket{action=\"Stop\",le=\"" + le + "\"}");
  };
  EXPECT_EQ(bucket("0.001"), 2);  // le is inclusive
  EXPECT_EQ(bucket("0.0025"), 2);
  EXPECT_EQ(bucket("0.005"), 3);
  EXPECT_EQ(bucket("0.25"), 4);
  EXPECT_EQ(bucket("10"), 4);
  EXPECT_EQ(bucket("+Inf"), 5);
  EXPECT_EQ(e.samples.at(R"(opendbs_request_seconds_count{action="Stop"})"), 5);
  EXPECT_DOUBLE_EQ(e.samples.at(R"(opendbs_request_seconds_sum{action="Stop"})"), 20.2045);
}

TEST(Metrics, RegisteringANameAgainReturnsTheSameFamily) {
  MetricsRegistry registry;
  auto& a = registry.counter("c_total", "help", {"x"});
  auto& b = registry.counter("c_total", "help", {"x"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.with({"1"}), &b.with({"1"}));
  EXPECT_EQ(parse(registry.render()).order.size(), 1u);
}

TEST(Metrics, CollectHooksRunBeforeRender) {
  MetricsRegistry registry;
  auto& g = registry.gauge("queue_depth", "Depth.").with();
  int calls = 0;
  registry.add_collect_hook([&] { g.set(++calls * 10); });
  EXPECT_EQ(parse(registry.render()).samples.at("queue_depth"), 10);
  EXPECT_EQ(parse(registry.render()).samples.at("queue_depth"), 20);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  auto& family = registry.counter("hits_total", "Hits.", {"worker"});
  auto& histogram = registry.histogram("work_seconds", "Work.", {}, {1.0}).with();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto& shared = family.with({"shared"});  // the handle a caller caches
      for (int i = 0; i < 50000; ++i) {
        shared.inc();
        family.with({std::to_string(t % 2)}).inc();
        histogram.observe(0.5);
      }
    });
  }
  std::thread scraper([&] {
    for (int i = 0; i < 20; ++i) (void)registry.render();
  });
  for (auto& t : threads) t.join();
  scraper.join();
  const auto e = parse(registry.render());
  EXPECT_EQ(e.samples.at(R"(hits_total{worker="shared"})"), 200000);
  EXPECT_EQ(e.samples.at(R"(hits_total{worker="0"})"), 100000);
  EXPECT_EQ(e.samples.at(R"(work_seconds_bucket{le="1"})"), 200000);
  EXPECT_EQ(e.samples.at("work_seconds_sum"), 100000);
}
