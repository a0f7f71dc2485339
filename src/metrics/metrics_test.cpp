// The registry's output read back by a parser of the Prometheus text format (0.0.4): every
// line valid, HELP and TYPE before a family's samples, label values escaped, histogram buckets
// cumulative with +Inf equal to _count.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "metrics/captured.h"
#include "metrics/registry.h"
#include "metrics/request_metrics.h"

namespace omniflow::metrics {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Parsed {
  std::map<std::string, std::string> types;  // family -> type
  std::vector<Sample> samples;
  std::vector<std::string> errors;
};

// Reads a label set `{a="x",b="y"}` starting at text[i] == '{'; unescapes values.
bool ParseLabels(const std::string& text, size_t* i, std::map<std::string, std::string>* out) {
  ++*i;
  while (*i < text.size() && text[*i] != '}') {
    size_t eq = text.find('=', *i);
    if (eq == std::string::npos) return false;
    std::string name = text.substr(*i, eq - *i);
    if (!std::regex_match(name, std::regex("[a-zA-Z_][a-zA-Z0-9_]*"))) return false;
    if (eq + 1 >= text.size() || text[eq + 1] != '"') return false;
    std::string value;
    size_t j = eq + 2;
    for (; j < text.size() && text[j] != '"'; ++j) {
      if (text[j] == '\\') {
        ++j;
        if (j >= text.size()) return false;
        if (text[j] == 'n') value.push_back('\n');
        else if (text[j] == '\\' || text[j] == '"') value.push_back(text[j]);
        else return false;
      } else if (text[j] == '\n') {
        return false;
      } else {
        value.push_back(text[j]);
      }
    }
    if (j >= text.size()) return false;
    (*out)[name] = value;
    *i = j + 1;
    if (*i < text.size() && text[*i] == ',') ++*i;
  }
  if (*i >= text.size()) return false;
  ++*i;
  return true;
}

Parsed Parse(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  std::string line;
  std::string current;  // the family whose TYPE was seen last
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  const std::regex name_re(R"([a-zA-Z_:][a-zA-Z0-9_:]*)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.starts_with("# HELP ")) {
      if (!std::regex_match(line, m, help)) p.errors.push_back("bad HELP: " + line);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      if (!std::regex_match(line, m, type)) {
        p.errors.push_back("bad TYPE: " + line);
        continue;
      }
      if (p.types.count(m[1])) p.errors.push_back("TYPE twice: " + line);
      current = m[1];
      p.types[current] = m[2];
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, name_re)) {
      p.errors.push_back("bad name: " + line);
      continue;
    }
    if (i < line.size() && line[i] == '{' && !ParseLabels(line, &i, &s.labels)) {
      p.errors.push_back("bad labels: " + line);
      continue;
    }
    if (i >= line.size() || line[i] != ' ') {
      p.errors.push_back("no value: " + line);
      continue;
    }
    const std::string value = line.substr(i + 1);
    if (value == "+Inf" || value == "-Inf" || value == "NaN") {
      s.value = value == "NaN" ? std::nan("") : (value[0] == '+' ? 1e308 * 10 : -1e308 * 10);
    } else {
      size_t used = 0;
      try {
        s.value = std::stod(value, &used);
      } catch (...) {
        used = 0;
      }
      if (used != value.size() || value.empty()) p.errors.push_back("bad value: " + line);
    }
    // The sample belongs to the family whose TYPE came last.
    const bool belongs = s.name == current || s.name == current + "_bucket" ||
                         s.name == current + "_sum" || s.name == current + "_count";
    if (!belongs) p.errors.push_back("sample outside its family: " + line);
    p.samples.push_back(std::move(s));
  }
  return p;
}

// Checks every histogram of `p`: per label set, buckets ascending in le and cumulative, +Inf
// last and equal to _count.
void ExpectHistogramsConsistent(const Parsed& p) {
  for (const auto& [family, type] : p.types) {
    if (type != "histogram") continue;
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;  // labels -> (le, n)
    std::map<std::string, double> counts;
    for (const Sample& s : p.samples) {
      std::map<std::string, std::string> rest = s.labels;
      std::string le = rest["le"];
      rest.erase("le");
      std::string key;
      for (const auto& [k, v] : rest) key += k + "=" + v + ";";
      if (s.name == family + "_bucket") {
        buckets[key].push_back({le == "+Inf" ? 1e308 * 10 : std::stod(le), s.value});
      } else if (s.name == family + "_count") {
        counts[key] = s.value;
      }
    }
    ASSERT_FALSE(buckets.empty()) << family;
    for (const auto& [key, series] : buckets) {
      for (size_t i = 1; i < series.size(); ++i) {
        EXPECT_LT(series[i - 1].first, series[i].first) << family << " " << key;
        EXPECT_LE(series[i - 1].second, series[i].second) << family << " " << key;
      }
      EXPECT_TRUE(std::isinf(series.back().first)) << family << " " << key;
      ASSERT_TRUE(counts.count(key)) << family << " " << key;
      EXPECT_EQ(series.back().second, counts[key]) << family << " " << key;
    }
  }
}

double ValueOf(const Parsed& p, const std::string& name,
               const std::map<std::string, std::string>& labels) {
  for (const Sample& s : p.samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return -1;
}

TEST(MetricsRegistry, RendersEveryTypeInTheTextFormat) {
  Registry registry;
  registry.GetCounter("t_requests_total", "Requests", {{"kind", "a"}}).Add(3);
  registry.GetCounter("t_requests_total", "Requests", {{"kind", "b"}}).Add();
  registry.GetGauge("t_depth", "Depth\nwith a newline and a \\").Set(7.5);
  Histogram& h = registry.GetHistogram("t_latency_seconds", "Latency", {0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0, 30.0}) h.Observe(v);
  const std::string text = registry.Render();
  Parsed p = Parse(text);
  EXPECT_TRUE(p.errors.empty()) << p.errors.front() << "\n" << text;
  EXPECT_EQ(p.types["t_requests_total"], "counter");
  EXPECT_EQ(p.types["t_depth"], "gauge");
  EXPECT_EQ(p.types["t_latency_seconds"], "histogram");
  EXPECT_EQ(ValueOf(p, "t_requests_total", {{"kind", "a"}}), 3);
  EXPECT_EQ(ValueOf(p, "t_requests_total", {{"kind", "b"}}), 1);
  EXPECT_EQ(ValueOf(p, "t_depth", {}), 7.5);
  EXPECT_EQ(ValueOf(p, "t_latency_seconds_bucket", {{"le", "0.1"}}), 2);  // le is inclusive
  EXPECT_EQ(ValueOf(p, "t_latency_seconds_bucket", {{"le", "1"}}), 3);
  EXPECT_EQ(ValueOf(p, "t_latency_seconds_bucket", {{"le", "10"}}), 4);
  EXPECT_EQ(ValueOf(p, "t_latency_seconds_bucket", {{"le", "+Inf"}}), 6);
  EXPECT_EQ(ValueOf(p, "t_latency_seconds_count", {}), 6);
  EXPECT_DOUBLE_EQ(ValueOf(p, "t_latency_seconds_sum", {}), 52.65);
  ExpectHistogramsConsistent(p);
  EXPECT_NE(text.find("# HELP t_depth Depth\\nwith a newline and a \\\\\n"), std::string::npos)
      << text;
}

TEST(MetricsRegistry, EscapesLabelValues) {
  Registry registry;
  const std::string nasty = "a\"b\\c\nd";
  registry.GetCounter("t_escaped_total", "Escaped", {{"v", nasty}}).Add(2);
  const std::string text = registry.Render();
  EXPECT_NE(text.find(R"(t_escaped_total{v="a\"b\\c\nd"} 2)"), std::string::npos) << text;
  Parsed p = Parse(text);
  ASSERT_TRUE(p.errors.empty()) << p.errors.front();
  EXPECT_EQ(ValueOf(p, "t_escaped_total", {{"v", nasty}}), 2);
}

TEST(MetricsRegistry, SameNameAndLabelsIsTheSameInstrument) {
  Registry registry;
  Counter& a = registry.GetCounter("t_same_total", "Same", {{"k", "v"}});
  Counter& b = registry.GetCounter("t_same_total", "Same", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
}

TEST(MetricsRegistry, CollectorsRenderWhileTheirHandleLives) {
  Registry registry;
  {
    Registry::CollectorHandle handle = registry.AddCollector([](ExpositionWriter* out) {
      out->Family("t_collected", "Collected", "gauge");
      out->Sample("t_collected", {}, 42);
    });
    EXPECT_NE(registry.Render().find("t_collected 42\n"), std::string::npos);
  }
  EXPECT_EQ(registry.Render().find("t_collected"), std::string::npos);
}

TEST(MetricsRegistry, ConcurrentRecordingLosesNothing) {
  Registry registry;
  Counter& counter = registry.GetCounter("t_concurrent_total", "Concurrent");
  Histogram& histogram = registry.GetHistogram("t_concurrent_seconds", "Concurrent", {1, 2});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter.Add();
        histogram.Observe(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value(), 40000u);
  Histogram::Snapshot s = histogram.Read();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative[0], 40000u);
  EXPECT_DOUBLE_EQ(s.sum, 40000);
}

TEST(RequestMetrics, CountsByRoutePatternAndStatusWithUnmatchedAsNone) {
  Registry registry;
  RequestMetrics requests({{"GET", "/api/interactions/{interaction_id}"}, {"POST", "/api/save"}},
                          &registry);
  requests.Observe(0, 200, std::chrono::microseconds(1500));
  requests.Observe(0, 404, std::chrono::microseconds(300));
  requests.Observe(1, 201, std::chrono::microseconds(800));
  requests.Observe(1, 201, std::chrono::microseconds(900));
  requests.Observe(-1, 404, std::chrono::microseconds(10));
  const std::string text = registry.Render();
  Parsed p = Parse(text);
  ASSERT_TRUE(p.errors.empty()) << p.errors.front() << "\n" << text;
  EXPECT_EQ(ValueOf(p, "omniflow_http_requests_total",
                    {{"method", "GET"}, {"route", "/api/interactions/{interaction_id}"},
                     {"code", "200"}}),
            1);
  EXPECT_EQ(ValueOf(p, "omniflow_http_requests_total",
                    {{"method", "POST"}, {"route", "/api/save"}, {"code", "201"}}),
            2);
  EXPECT_EQ(ValueOf(p, "omniflow_http_requests_total",
                    {{"method", ""}, {"route", "none"}, {"code", "404"}}),
            1);
  EXPECT_EQ(ValueOf(p, "omniflow_http_request_duration_seconds_count",
                    {{"method", "POST"}, {"route", "/api/save"}}),
            2);
  EXPECT_DOUBLE_EQ(ValueOf(p, "omniflow_http_request_duration_seconds_sum",
                           {{"method", "POST"}, {"route", "/api/save"}}),
                   0.0017);
  ExpectHistogramsConsistent(p);
}

TEST(CapturedMetrics, EverySourceHasASeriesFromTheStart) {
  CountCaptured(CaptureSource::kImport, 0);
  Parsed p = Parse(Global().Render());
  ASSERT_TRUE(p.errors.empty()) << p.errors.front();
  for (const char* source : {"save_interaction", "tool_call_handler", "import", "otlp", "proxy"}) {
    EXPECT_GE(ValueOf(p, "omniflow_interactions_captured_total", {{"source", source}}), 0)
        << source;
  }
}

}  // namespace
}  // namespace omniflow::metrics
