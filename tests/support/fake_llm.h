// A scripted OpenAI-compatible chat-completions server for end-to-end tests: a real HTTP server
// on loopback (POSIX sockets, one thread per connection) that answers POST /v1/chat/completions
// (or an Azure-style /openai/deployments/<name>/chat/completions: it answers every path) from a
// queue of scripted replies (tool calls, text, errors, 429 with Retry-After, slow or malformed
// answers, server-sent event streams sent event by event) and records every request it
// received.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/mutex.h"

namespace omniflow::testing {

struct FakeReply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;  // wait this long before answering
  std::string content_type = "application/json";
  // When not empty: a stream of server-sent events (text/event-stream, no Content-Length, ended
  // by closing), each element sent as one write, `event_gap_ms` apart; `body` is unused.
  std::vector<std::string> events = {};
  int event_gap_ms = 0;
};

struct FakeToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, sent as the string OpenAI sends
};

// A chat-completions body whose message is plain text.
std::string TextCompletion(const std::string& text, const std::string& model = "fake-model",
                           int prompt_tokens = 11, int completion_tokens = 7);
// A chat-completions body whose message asks for `calls`.
std::string ToolCallsCompletion(const std::vector<FakeToolCall>& calls,
                                const std::string& model = "fake-model");

// The server-sent events of a streamed text answer: `pieces` as content deltas, then a final
// chunk with finish_reason and (when `usage`) the usage, then [DONE].
std::vector<std::string> TextStream(const std::vector<std::string>& pieces, bool usage = true,
                                    const std::string& model = "fake-model");
// The events of a streamed answer asking for `calls`, each call's arguments cut in two deltas.
std::vector<std::string> ToolCallsStream(const std::vector<FakeToolCall>& calls,
                                         const std::string& model = "fake-model");

class FakeLlm {
 public:
  FakeLlm();
  ~FakeLlm();
  FakeLlm(const FakeLlm&) = delete;
  FakeLlm& operator=(const FakeLlm&) = delete;

  // Queues replies, answered in order; when the queue is empty, `fallback` answers.
  void Push(FakeReply reply);
  void PushText(const std::string& text) { Push({200, TextCompletion(text), {}, 0}); }
  void PushToolCalls(const std::vector<FakeToolCall>& calls) {
    Push({200, ToolCallsCompletion(calls), {}, 0});
  }
  void SetFallback(FakeReply reply);
  // Answers from the request body when the queue is empty (instead of the fallback).
  void SetResponder(std::function<FakeReply(const std::string& request_body)> responder);

  // http://127.0.0.1:<port>/v1
  std::string base_url() const;
  // http://127.0.0.1:<port>, for use as any HTTP upstream (it answers every path).
  std::string origin() const;
  // Bodies of the chat-completions requests received so far, in order.
  std::vector<std::string> requests() const;
  // The raw header block of each request, in order.
  std::vector<std::string> request_headers() const;
  // The request target ("/v1/chat/completions?...") of each request, in order.
  std::vector<std::string> request_targets() const;
  int calls() const;

 private:
  void AcceptLoop();
  void Serve(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable Mutex mu_;
  std::deque<FakeReply> queue_ GUARDED_BY(mu_);
  FakeReply fallback_ GUARDED_BY(mu_);
  std::function<FakeReply(const std::string&)> responder_ GUARDED_BY(mu_);
  std::vector<std::string> requests_ GUARDED_BY(mu_);
  std::vector<std::string> headers_ GUARDED_BY(mu_);
  std::vector<std::thread> connections_ GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace omniflow::testing
