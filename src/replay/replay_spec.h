// What a replay replays and with what: the interactions search selects (the filter language of
// GET /api/search), how many and which, and the candidate settings. Parsed and validated by
// api/replay_request.h from the body of POST /api/replays (or the CLI's flags); stored as that
// body (ReplayInfo::spec_json) so that a restarted server can parse it again.
#pragma once

#include <string>

#include "store/analytics_store.h"

namespace omniflow::replay {

struct Candidate {
  std::string model;          // empty: the server's OMNIFLOW_LLM_MODEL
  std::string system_prompt;  // empty: the server's system prompt
  std::string base_url;       // empty: the server's OMNIFLOW_LLM_BASE_URL (and its key)
};

struct ReplaySpec {
  std::string name;
  SearchQuery filter;   // its limit and cursor are unused
  int limit = 100;      // items, 1..10000
  bool random = false;  // a uniform sample of the matches instead of the newest
  Candidate candidate;
  int concurrency = 4;  // items replayed at once, 1..16
};

}  // namespace omniflow::replay
