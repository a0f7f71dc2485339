// Measures the detectors on the labelled corpus tests/fixtures/pii/corpus.jsonl (made by
// make_corpus.py there): per type, precision and recall, printed as a table, required at least
// 0.98 and 0.95 (0.90 for phone recall).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "redact/redactor.h"

namespace omniflow::redact {
namespace {

struct Gold {
  Span span;
  std::string region;
};

struct Row {
  int64_t id = 0;
  std::string text;
  std::vector<Gold> gold;
};

std::vector<Row> LoadCorpus() {
  std::ifstream in(std::string(OMNIFLOW_SOURCE_DIR) + "/tests/fixtures/pii/corpus.jsonl");
  std::vector<Row> rows;
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) {
      ADD_FAILURE() << "bad corpus line: " << line.substr(0, 80);
      continue;
    }
    Row row;
    std::string_view text;
    EXPECT_EQ(doc["text"].get(text), simdjson::SUCCESS);
    EXPECT_EQ(doc["id"].get(row.id), simdjson::SUCCESS);
    row.text = std::string(text);
    simdjson::dom::array spans = doc["spans"].get_array().value_unsafe();
    for (simdjson::dom::element s : spans) {
      std::string_view type, value, region;
      EXPECT_EQ(s["type"].get(type), simdjson::SUCCESS);
      EXPECT_EQ(s["value"].get(value), simdjson::SUCCESS);
      if (s["region"].get(region) != simdjson::SUCCESS) region = "";
      size_t at = row.text.find(value);
      std::optional<PiiType> t = PiiTypeFromName(type);
      if (at == std::string::npos || !t) {
        ADD_FAILURE() << "corpus row " << row.id << ": bad span";
        continue;
      }
      row.gold.push_back(Gold{Span{at, at + value.size(), *t}, std::string(region)});
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// A found span matches a labelled one of its type when it covers all of it and at most a few
// bytes (a bracket, a space) more on either side.
bool Matches(const Span& found, const Span& gold) {
  return found.type == gold.type && found.begin <= gold.begin && found.end >= gold.end &&
         gold.begin - found.begin <= 4 && found.end - gold.end <= 4;
}

TEST(RedactQuality, CorpusPhoneNumbersAreValidInTheirRegions) {
  // The corpus's own check, apart from the detector: each labelled phone number is valid for
  // libphonenumber in its region.
  for (const Row& row : LoadCorpus()) {
    for (const Gold& g : row.gold) {
      if (g.span.type != PiiType::kPhone) continue;
      PhoneDetector region({g.region});
      std::string_view value(row.text.data() + g.span.begin, g.span.end - g.span.begin);
      EXPECT_FALSE(region.E164(value).empty())
          << "row " << row.id << ": " << value << " " << g.region;
    }
  }
}

TEST(RedactQuality, PrecisionAndRecallPerTypeOnTheLabelledCorpus) {
  std::vector<Row> rows = LoadCorpus();
  ASSERT_GT(rows.size(), 1000u);
  RedactOptions options;
  options.types = kAllPiiTypes;
  Redactor redactor(options);
  std::array<int, kPiiTypeCount> gold{}, found{}, true_found{}, recalled{};
  int negatives = 0, negative_hits = 0;
  std::array<int, kPiiTypeCount> shown{}, shown_wrong{};
  for (const Row& row : rows) {
    Spans spans = redactor.FindAll(row.text);
    if (row.gold.empty()) {
      ++negatives;
      negative_hits += spans.empty() ? 0 : 1;
    }
    for (const Gold& g : row.gold) {
      const int t = static_cast<int>(g.span.type);
      ++gold[t];
      bool hit = false;
      for (const Span& s : spans) hit = hit || Matches(s, g.span);
      recalled[t] += hit ? 1 : 0;
      if (!hit && shown[t]++ < 8) {
        std::printf("  missed %-6s row %lld: %s\n", std::string(PiiTypeName(g.span.type)).c_str(),
                    static_cast<long long>(row.id), row.text.c_str());
      }
    }
    for (const Span& s : spans) {
      const int t = static_cast<int>(s.type);
      ++found[t];
      bool right = false;
      for (const Gold& g : row.gold) right = right || Matches(s, g.span);
      true_found[t] += right ? 1 : 0;
      if (!right && shown_wrong[t]++ < 40) {
        std::printf("  wrong  %-6s row %lld: \"%s\" in %s\n",
                    std::string(PiiTypeName(s.type)).c_str(), static_cast<long long>(row.id),
                    row.text.substr(s.begin, s.end - s.begin).c_str(), row.text.c_str());
      }
    }
  }
  std::ostringstream table;
  table << "| type   | labelled | found | correct | precision | recall |\n"
        << "|--------|---------:|------:|--------:|----------:|-------:|\n";
  for (int t = 0; t < kPiiTypeCount; ++t) {
    const double precision = found[t] == 0 ? 1.0 : double(true_found[t]) / found[t];
    const double recall = gold[t] == 0 ? 1.0 : double(recalled[t]) / gold[t];
    char line[160];
    std::snprintf(line, sizeof line, "| %-6s | %8d | %5d | %7d | %9.3f | %6.3f |\n",
                  std::string(PiiTypeName(static_cast<PiiType>(t))).c_str(), gold[t], found[t],
                  true_found[t], precision, recall);
    table << line;
    const double min_recall = static_cast<PiiType>(t) == PiiType::kPhone ? 0.90 : 0.95;
    EXPECT_GE(precision, 0.98) << PiiTypeName(static_cast<PiiType>(t));
    EXPECT_GE(recall, min_recall) << PiiTypeName(static_cast<PiiType>(t));
    EXPECT_GE(gold[t], 85) << "too few labelled " << PiiTypeName(static_cast<PiiType>(t));
  }
  std::printf("%s\n%d rows; %d hard negatives, %d of them with something found\n",
              table.str().c_str(), static_cast<int>(rows.size()), negatives, negative_hits);
  EXPECT_GE(negatives, 500);
}

}  // namespace
}  // namespace omniflow::redact
