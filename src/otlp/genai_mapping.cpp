#include "otlp/genai_mapping.h"

#include <algorithm>
#include <map>
#include <optional>

#include <simdjson.h>

#include "core/json.h"
#include "core/validate.h"

namespace omniflow::otlp {

namespace {

using simdjson::dom::element;

// The operation names that make an interaction.
bool IsInteractionOperation(std::string_view op) {
  return op == "chat" || op == "invoke_agent" || op == "text_completion" ||
         op == "generate_content";
}

// One parsed span; `doc` keeps the parse alive for `attributes` and `events`.
struct Span {
  std::unique_ptr<simdjson::dom::parser> doc;
  std::string span_id, parent, name;
  bool parent_remote = false;
  int64_t start_us = 0, end_us = 0, status_code = 0;
  std::string status_message;
  std::string op;
  simdjson::dom::object attributes;
  simdjson::dom::array events;
};

std::optional<Span> Parse(const std::string& json) {
  Span s;
  s.doc = std::make_unique<simdjson::dom::parser>();
  element root;
  if (s.doc->parse(json).get(root) != simdjson::SUCCESS) return std::nullopt;
  std::string_view text;
  if (root["span_id"].get(text) != simdjson::SUCCESS) return std::nullopt;
  s.span_id = std::string(text);
  if (root["parent_span_id"].get(text) == simdjson::SUCCESS) s.parent = std::string(text);
  if (root["parent_remote"].get(s.parent_remote) != simdjson::SUCCESS) s.parent_remote = false;
  if (root["name"].get(text) == simdjson::SUCCESS) s.name = std::string(text);
  if (root["status_message"].get(text) == simdjson::SUCCESS) s.status_message = std::string(text);
  if (root["start_us"].get(s.start_us) != simdjson::SUCCESS) s.start_us = 0;
  if (root["end_us"].get(s.end_us) != simdjson::SUCCESS) s.end_us = 0;
  if (root["status_code"].get(s.status_code) != simdjson::SUCCESS) s.status_code = 0;
  if (root["attributes"].get(s.attributes) != simdjson::SUCCESS) return std::nullopt;
  if (root["events"].get(s.events) != simdjson::SUCCESS) return std::nullopt;
  if (s.attributes["gen_ai.operation.name"].get(text) == simdjson::SUCCESS) s.op = std::string(text);
  return s;
}

std::optional<element> Attr(const Span& s, std::string_view key) {
  element e;
  if (s.attributes[key].get(e) != simdjson::SUCCESS) return std::nullopt;
  return e;
}

std::string StringAttr(const Span& s, std::string_view key) {
  std::string_view text;
  if (s.attributes[key].get(text) != simdjson::SUCCESS) return {};
  return std::string(text);
}

std::optional<int64_t> IntAttr(const Span& s, std::string_view key) {
  int64_t v;
  if (s.attributes[key].get(v) == simdjson::SUCCESS && v >= 0) return v;
  double d;
  if (s.attributes[key].get(d) == simdjson::SUCCESS && d >= 0) return static_cast<int64_t>(d);
  std::string_view text;
  if (s.attributes[key].get(text) == simdjson::SUCCESS && !text.empty() && text.size() < 19) {
    int64_t out = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      out = out * 10 + (c - '0');
    }
    return out;
  }
  return std::nullopt;
}

// A value that may be given as JSON text inside a string attribute (the conventions record
// messages that way) or as a structured value: the parsed JSON, kept alive by `holder`.
std::optional<element> Structured(element value, simdjson::dom::parser* holder) {
  std::string_view text;
  if (value.get(text) != simdjson::SUCCESS) return value;
  element parsed;
  if (holder->parse(text.data(), text.size()).get(parsed) != simdjson::SUCCESS) return std::nullopt;
  return parsed;
}

// The text of one message: its "text" parts (conventions: {"role","parts":[{"type":"text",
// "content"}]}), else its "content" string, else the "text" of an OpenAI-style content array.
std::string MessageText(element message) {
  std::string out;
  auto add = [&out](std::string_view piece) {
    if (piece.empty()) return;
    if (!out.empty()) out += "\n";
    out += piece;
  };
  simdjson::dom::array parts;
  if (message["parts"].get(parts) == simdjson::SUCCESS) {
    for (element part : parts) {
      std::string_view type, content;
      if (part["type"].get(type) == simdjson::SUCCESS && type != "text") continue;
      if (part["content"].get(content) == simdjson::SUCCESS) add(content);
    }
    return out;
  }
  std::string_view content;
  if (message["content"].get(content) == simdjson::SUCCESS) return std::string(content);
  if (message["content"].get(parts) == simdjson::SUCCESS) {
    for (element part : parts) {
      std::string_view text;
      if (part["text"].get(text) == simdjson::SUCCESS) add(text);
    }
  }
  // gen_ai.choice events: {"message": {"content": ...}}
  element inner;
  if (out.empty() && message["message"].get(inner) == simdjson::SUCCESS) return MessageText(inner);
  return out;
}

std::string RoleOf(element message) {
  std::string_view role;
  if (message["role"].get(role) == simdjson::SUCCESS) return std::string(role);
  return {};
}

// The text of the last message with `role` (any role when empty) in a messages attribute.
std::string LastText(const Span& s, std::string_view key, std::string_view role) {
  std::optional<element> value = Attr(s, key);
  if (!value) return {};
  simdjson::dom::parser holder;
  std::optional<element> messages = Structured(*value, &holder);
  std::string_view plain;
  if (!messages) {
    // Text that is not JSON (older gen_ai.prompt / gen_ai.completion): the text itself.
    if (value->get(plain) == simdjson::SUCCESS) return std::string(plain);
    return {};
  }
  simdjson::dom::array array;
  if (messages->get(array) != simdjson::SUCCESS) {
    // A bare string (older gen_ai.prompt / gen_ai.completion): the text itself.
    std::string_view text;
    if (value->get(text) == simdjson::SUCCESS) return std::string(text);
    return MessageText(*messages);
  }
  std::string found;
  for (element message : array) {
    const std::string r = RoleOf(message);
    if (role.empty() || r == role || (r.empty() && role == "assistant")) {
      std::string text = MessageText(message);
      if (!text.empty()) found = std::move(text);
    }
  }
  return found;
}

// The newest text among the span's events named `name` (gen_ai.user.message, gen_ai.choice).
std::string EventText(const Span& s, std::string_view name) {
  std::string found;
  for (element event : s.events) {
    std::string_view n;
    if (event["name"].get(n) != simdjson::SUCCESS || n != name) continue;
    element attributes;
    if (event["attributes"].get(attributes) != simdjson::SUCCESS) continue;
    std::string text = MessageText(attributes);
    if (!text.empty()) found = std::move(text);
  }
  return found;
}

// OpenLLMetry's flat form: gen_ai.prompt.N.role / .content, gen_ai.completion.N.content.
std::string IndexedText(const Span& s, std::string_view prefix, std::string_view role) {
  std::string found;
  for (int i = 0; i < 1000; ++i) {
    const std::string base = std::string(prefix) + "." + std::to_string(i) + ".";
    std::string content = StringAttr(s, base + "content");
    if (content.empty() && !Attr(s, base + "role")) break;
    const std::string r = StringAttr(s, base + "role");
    if (role.empty() || r == role || r.empty()) found = content;
  }
  return found;
}

std::string UserText(const Span& s) {
  std::string text = LastText(s, "gen_ai.input.messages", "user");
  if (text.empty()) text = LastText(s, "gen_ai.prompt", "user");
  if (text.empty()) text = EventText(s, "gen_ai.user.message");
  if (text.empty()) text = IndexedText(s, "gen_ai.prompt", "user");
  return text;
}

std::string AnswerText(const Span& s) {
  std::string text = LastText(s, "gen_ai.output.messages", "assistant");
  if (text.empty()) text = LastText(s, "gen_ai.completion", "assistant");
  if (text.empty()) text = EventText(s, "gen_ai.choice");
  if (text.empty()) text = EventText(s, "gen_ai.assistant.message");
  if (text.empty()) text = IndexedText(s, "gen_ai.completion", "");
  return text;
}

// Writes a tool call's arguments or result: JSON text inside a string is stored parsed when it
// parses, else as the string.
void WriteLoose(std::optional<element> value, JsonWriter* w) {
  if (!value) {
    w->Null();
    return;
  }
  std::string_view text;
  if (value->get(text) == simdjson::SUCCESS) {
    simdjson::dom::parser p;
    element parsed;
    if (!text.empty() && (text.front() == '{' || text.front() == '[') &&
        p.parse(text.data(), text.size()).get(parsed) == simdjson::SUCCESS) {
      w->Element(parsed);
    } else {
      w->String(text);
    }
    return;
  }
  w->Element(*value);
}

struct Usage {
  std::optional<int64_t> input, output, cached, reasoning;
  bool any() const { return input || output || cached || reasoning; }
};

Usage UsageOf(const Span& s) {
  Usage u;
  u.input = IntAttr(s, "gen_ai.usage.input_tokens");
  if (!u.input) u.input = IntAttr(s, "gen_ai.usage.prompt_tokens");
  u.output = IntAttr(s, "gen_ai.usage.output_tokens");
  if (!u.output) u.output = IntAttr(s, "gen_ai.usage.completion_tokens");
  for (const char* key : {"gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.input_tokens.cached",
                          "gen_ai.usage.cache_read_input_tokens"}) {
    if (!u.cached) u.cached = IntAttr(s, key);
  }
  for (const char* key : {"gen_ai.usage.reasoning.output_tokens",
                          "gen_ai.usage.output_tokens.reasoning", "gen_ai.usage.reasoning_tokens"}) {
    if (!u.reasoning) u.reasoning = IntAttr(s, key);
  }
  return u;
}

void Add(std::optional<int64_t>* sum, std::optional<int64_t> v) {
  if (v) *sum = sum->value_or(0) + *v;
}

class Trace {
 public:
  explicit Trace(std::span<const std::string> jsons) {
    for (const std::string& json : jsons) {
      std::optional<Span> s = Parse(json);
      if (!s) continue;
      const std::string id = s->span_id;
      spans_.try_emplace(id, std::move(*s));
    }
  }

  // The nearest interaction-span ancestor of `s` (not `s` itself), or null.
  const Span* InteractionAncestor(const Span& s) const {
    const Span* at = &s;
    for (int hops = 0; hops < 256 && !at->parent.empty(); ++hops) {
      auto it = spans_.find(at->parent);
      if (it == spans_.end()) return nullptr;
      at = &it->second;
      if (IsInteractionOperation(at->op)) return at;
    }
    return nullptr;
  }

  // The outermost root above `s` (itself when it is one): null when it has none.
  const Span* RootOf(const Span& s) const {
    const Span* root = IsInteractionOperation(s.op) ? &s : nullptr;
    for (const Span* up = InteractionAncestor(s); up != nullptr; up = InteractionAncestor(*up)) {
      root = up;
    }
    return root;
  }

  std::vector<const Span*> Roots() const {
    std::vector<const Span*> roots;
    for (const auto& [id, s] : spans_) {
      if (IsInteractionOperation(s.op) && InteractionAncestor(s) == nullptr) roots.push_back(&s);
    }
    std::sort(roots.begin(), roots.end(), [](const Span* a, const Span* b) {
      return a->start_us != b->start_us ? a->start_us < b->start_us : a->span_id < b->span_id;
    });
    return roots;
  }

  // True when the parent links above `s` end within the trace: at a span with no parent or
  // with a remote one (or in a cycle, which no later span can mend). False at a missing span.
  bool AncestryArrived(const Span& s) const {
    const Span* at = &s;
    for (int hops = 0; hops < 256; ++hops) {
      if (at->parent.empty() || at->parent_remote) return true;
      auto it = spans_.find(at->parent);
      if (it == spans_.end()) return false;
      at = &it->second;
    }
    return true;
  }

  // The spans that belong to `root`: below it, or (outside every root's subtree) starting in
  // its turn: after it and before the next root.
  std::vector<const Span*> Members(const Span* root, const std::vector<const Span*>& roots) const {
    std::vector<const Span*> members;
    for (const auto& [id, s] : spans_) {
      if (&s == root) continue;
      const Span* owner = RootOf(s);
      if (owner == nullptr) owner = TurnOf(s, roots);
      if (owner == root) members.push_back(&s);
    }
    std::sort(members.begin(), members.end(), [](const Span* a, const Span* b) {
      return a->start_us != b->start_us ? a->start_us < b->start_us : a->span_id < b->span_id;
    });
    return members;
  }

 private:
  static const Span* TurnOf(const Span& s, const std::vector<const Span*>& roots) {
    const Span* owner = roots.empty() ? nullptr : roots.front();
    for (const Span* r : roots) {
      if (r->start_us <= s.start_us) owner = r;
    }
    return owner;
  }

  std::map<std::string, Span> spans_;
};

// The first non-empty value of `get` over the root, then its members in order.
template <typename Get>
std::string FirstOf(const Span* root, const std::vector<const Span*>& members, Get get) {
  std::string v = get(*root);
  for (const Span* m : members) {
    if (!v.empty()) break;
    v = get(*m);
  }
  return v;
}

MappedInteraction MapOne(const std::string& trace_id, const Span* root,
                         const std::vector<const Span*>& members) {
  std::vector<const Span*> chats;
  std::vector<const Span*> tools;
  for (const Span* m : members) {
    if (IsInteractionOperation(m->op)) chats.push_back(m);
    if (m->op == "execute_tool") tools.push_back(m);
  }
  // The user's message: the root's, else the first chat's. The answer: the root's, else the
  // last chat's.
  std::string user = UserText(*root);
  for (size_t i = 0; user.empty() && i < chats.size(); ++i) user = UserText(*chats[i]);
  std::string answer = AnswerText(*root);
  for (size_t i = chats.size(); answer.empty() && i > 0; --i) answer = AnswerText(*chats[i - 1]);

  JsonWriter w;
  w.BeginObject().Field("user_message", user).Field("assistant_response", answer);
  const std::string thread = FirstOf(root, members, [](const Span& s) {
    return StringAttr(s, "gen_ai.conversation.id");
  });
  if (IsValidThreadId(thread)) w.Field("thread_id", thread);

  w.Key("tool_calls").BeginArray();
  if (!tools.empty()) {
    for (const Span* t : tools) {
      std::string name = StringAttr(*t, "gen_ai.tool.name");
      if (name.empty()) name = t->name.empty() ? "tool" : t->name;
      w.BeginObject().Field("tool_name", name);
      const std::string call_id = StringAttr(*t, "gen_ai.tool.call.id");
      if (!call_id.empty()) w.Field("tool_call_id", call_id);
      w.Key("arguments");
      WriteLoose(Attr(*t, "gen_ai.tool.call.arguments"), &w);
      w.Key("result");
      WriteLoose(Attr(*t, "gen_ai.tool.call.result"), &w);
      w.Field("status", t->status_code == 2 ? "error" : "success");
      if (t->status_code == 2 && !t->status_message.empty()) w.Field("error", t->status_message);
      w.EndObject();
    }
  } else {
    // The assistant's tool calls in the messages, with results from later tool responses.
    std::vector<const Span*> with_messages = {root};
    with_messages.insert(with_messages.end(), chats.begin(), chats.end());
    std::map<std::string, std::string> results;  // call id -> result JSON
    std::vector<std::string> calls;              // tool call JSON objects but the result
    std::vector<std::string> call_ids;
    std::vector<simdjson::dom::parser> holders(with_messages.size() * 2);
    size_t h = 0;
    for (const Span* s : with_messages) {
      for (const char* key : {"gen_ai.input.messages", "gen_ai.output.messages"}) {
        std::optional<element> value = Attr(*s, key);
        simdjson::dom::parser& holder = holders[h++];
        if (!value) continue;
        std::optional<element> messages = Structured(*value, &holder);
        simdjson::dom::array array;
        if (!messages || messages->get(array) != simdjson::SUCCESS) continue;
        for (element message : array) {
          simdjson::dom::array parts;
          if (message["parts"].get(parts) != simdjson::SUCCESS) continue;
          for (element part : parts) {
            std::string_view type, id, name;
            if (part["type"].get(type) != simdjson::SUCCESS) continue;
            if (part["id"].get(id) != simdjson::SUCCESS) id = {};
            if (type == "tool_call" && part["name"].get(name) == simdjson::SUCCESS &&
                std::find(call_ids.begin(), call_ids.end(), id) == call_ids.end()) {
              JsonWriter c;
              c.BeginObject().Field("tool_name", name);
              if (!id.empty()) c.Field("tool_call_id", id);
              element args;
              c.Key("arguments");
              WriteLoose(part["arguments"].get(args) == simdjson::SUCCESS
                             ? std::optional<element>(args) : std::nullopt, &c);
              c.EndObject();
              calls.push_back(c.Release());
              call_ids.emplace_back(id);
            } else if (type == "tool_call_response" && !id.empty()) {
              element response;
              JsonWriter r;
              WriteLoose(part["response"].get(response) == simdjson::SUCCESS
                             ? std::optional<element>(response) : std::nullopt, &r);
              results[std::string(id)] = r.Release();
            }
          }
        }
      }
    }
    for (size_t i = 0; i < calls.size(); ++i) {
      // calls[i] is an open object's text; close it with the result and status.
      std::string call = calls[i];
      call.pop_back();
      auto it = call_ids[i].empty() ? results.end() : results.find(call_ids[i]);
      call += ",\"result\":" + (it == results.end() ? std::string("null") : it->second) +
              ",\"status\":\"success\"}";
      w.Raw(call);
    }
  }
  w.EndArray();

  w.Key("metadata").BeginObject().Field("source", "otlp").Field("trace_id", trace_id)
      .Field("span_id", root->span_id);
  std::string model = FirstOf(root, chats, [](const Span& s) {
    std::string m = StringAttr(s, "gen_ai.response.model");
    return m.empty() ? StringAttr(s, "gen_ai.request.model") : m;
  });
  if (!model.empty()) w.Field("model", model);
  // The root's usage when it reports one (an agent span totals its calls); else the sum over
  // its chat spans, each counted once.
  Usage usage = UsageOf(*root);
  if (!usage.any()) {
    for (const Span* c : chats) {
      Usage u = UsageOf(*c);
      Add(&usage.input, u.input);
      Add(&usage.output, u.output);
      Add(&usage.cached, u.cached);
      Add(&usage.reasoning, u.reasoning);
    }
  }
  if (usage.any()) {
    w.Key("usage").BeginObject();
    if (usage.input) w.Field("input_tokens", *usage.input);
    if (usage.output) w.Field("output_tokens", *usage.output);
    if (usage.cached) w.Field("cached_input_tokens", *usage.cached);
    if (usage.reasoning) w.Field("reasoning_tokens", *usage.reasoning);
    w.EndObject();
  }
  const std::string agent = FirstOf(root, members, [](const Span& s) {
    return StringAttr(s, "gen_ai.agent.id");
  });
  if (!agent.empty()) w.Field("assistant_id", agent);
  const std::string agent_name = FirstOf(root, members, [](const Span& s) {
    return StringAttr(s, "gen_ai.agent.name");
  });
  if (!agent_name.empty()) w.Field("agent_name", agent_name);
  const std::string operation = root->op;
  w.Field("operation", operation);
  w.EndObject();
  w.EndObject();

  MappedInteraction out;
  out.trace_id = trace_id;
  out.span_id = root->span_id;
  out.start_us = root->start_us;
  out.save_body = w.Release();
  return out;
}

}  // namespace

bool IsInteractionSpan(std::string_view span_json) {
  simdjson::dom::parser parser;
  element root;
  std::string_view op;
  if (parser.parse(span_json.data(), span_json.size()).get(root) != simdjson::SUCCESS) return false;
  if (root["attributes"]["gen_ai.operation.name"].get(op) != simdjson::SUCCESS) return false;
  return IsInteractionOperation(op);
}

bool AncestryComplete(std::span<const std::string> span_jsons) {
  Trace trace(span_jsons);
  for (const Span* root : trace.Roots()) {
    if (!trace.AncestryArrived(*root)) return false;
  }
  return true;
}

std::vector<MappedInteraction> MapTrace(std::span<const std::string> span_jsons) {
  std::string trace_id;
  for (const std::string& json : span_jsons) {
    simdjson::dom::parser parser;
    std::string_view id;
    if (parser.parse(json).at_key("trace_id").get(id) == simdjson::SUCCESS) {
      trace_id = std::string(id);
      break;
    }
  }
  Trace trace(span_jsons);
  std::vector<MappedInteraction> out;
  const std::vector<const Span*> roots = trace.Roots();
  for (const Span* root : roots) out.push_back(MapOne(trace_id, root, trace.Members(root, roots)));
  return out;
}

}  // namespace omniflow::otlp
