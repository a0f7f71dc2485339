#include "support/fake_llm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/json.h"
#include "support/http_client.h"

namespace omniflow::testing {

std::string TextCompletion(const std::string& text, const std::string& model, int prompt_tokens,
                           int completion_tokens) {
  return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":" + JsonString(model) +
         ",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":{\"role\":"
         "\"assistant\",\"content\":" + JsonString(text) + "}}],\"usage\":{\"prompt_tokens\":" +
         std::to_string(prompt_tokens) + ",\"completion_tokens\":" +
         std::to_string(completion_tokens) + ",\"total_tokens\":" +
         std::to_string(prompt_tokens + completion_tokens) + "}}";
}

std::string ToolCallsCompletion(const std::vector<FakeToolCall>& calls, const std::string& model) {
  std::string list;
  for (const FakeToolCall& c : calls) {
    if (!list.empty()) list.push_back(',');
    list += "{\"id\":" + JsonString(c.id) + ",\"type\":\"function\",\"function\":{\"name\":" +
            JsonString(c.name) + ",\"arguments\":" + JsonString(c.arguments) + "}}";
  }
  return "{\"id\":\"chatcmpl-2\",\"object\":\"chat.completion\",\"model\":" + JsonString(model) +
         ",\"choices\":[{\"index\":0,\"finish_reason\":\"tool_calls\",\"message\":{\"role\":"
         "\"assistant\",\"content\":null,\"tool_calls\":[" +
         list +
         "]}}],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":5,\"total_tokens\":25,"
         "\"prompt_tokens_details\":{\"cached_tokens\":8},"
         "\"completion_tokens_details\":{\"reasoning_tokens\":3}}}";
}

std::vector<std::string> TextStream(const std::vector<std::string>& pieces, bool usage,
                                    const std::string& model) {
  std::vector<std::string> events;
  const std::string head = "data: {\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\","
                           "\"model\":" + JsonString(model) + ",\"choices\":[{\"index\":0,";
  for (const std::string& piece : pieces) {
    events.push_back(head + "\"delta\":{\"content\":" + JsonString(piece) +
                     "},\"finish_reason\":null}]}\n\n");
  }
  events.push_back(head + "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
  if (usage) {
    events.push_back("data: {\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"model\":" +
                     JsonString(model) + ",\"choices\":[],\"usage\":{\"prompt_tokens\":13,"
                     "\"completion_tokens\":4,\"total_tokens\":17,\"prompt_tokens_details\":"
                     "{\"cached_tokens\":8},\"completion_tokens_details\":{\"reasoning_tokens\":1}}}\n\n");
  }
  events.push_back("data: [DONE]\n\n");
  return events;
}

std::vector<std::string> ToolCallsStream(const std::vector<FakeToolCall>& calls,
                                         const std::string& model) {
  std::vector<std::string> events;
  const std::string head = "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\","
                           "\"model\":" + JsonString(model) + ",\"choices\":[{\"index\":0,";
  for (size_t i = 0; i < calls.size(); ++i) {
    const FakeToolCall& c = calls[i];
    const size_t half = c.arguments.size() / 2;
    events.push_back(head + "\"delta\":{\"tool_calls\":[{\"index\":" + std::to_string(i) +
                     ",\"id\":" + JsonString(c.id) + ",\"type\":\"function\",\"function\":{\"name\":" +
                     JsonString(c.name) + ",\"arguments\":" + JsonString(c.arguments.substr(0, half)) +
                     "}}]},\"finish_reason\":null}]}\n\n");
    events.push_back(head + "\"delta\":{\"tool_calls\":[{\"index\":" + std::to_string(i) +
                     ",\"function\":{\"arguments\":" + JsonString(c.arguments.substr(half)) +
                     "}}]},\"finish_reason\":null}]}\n\n");
  }
  events.push_back(head + "\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n");
  events.push_back("data: [DONE]\n\n");
  return events;
}

FakeLlm::FakeLlm() {
  fallback_ = {200, TextCompletion("fallback answer"), {}, 0};
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    std::abort();
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeLlm::~FakeLlm() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> connections;
  {
    MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  for (std::thread& t : connections) t.join();
}

void FakeLlm::Push(FakeReply reply) {
  MutexLock lock(&mu_);
  queue_.push_back(std::move(reply));
}

void FakeLlm::SetFallback(FakeReply reply) {
  MutexLock lock(&mu_);
  fallback_ = std::move(reply);
}

void FakeLlm::SetResponder(std::function<FakeReply(const std::string&)> responder) {
  MutexLock lock(&mu_);
  responder_ = std::move(responder);
}

std::string FakeLlm::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

std::string FakeLlm::origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> FakeLlm::requests() const {
  MutexLock lock(&mu_);
  return requests_;
}

std::vector<std::string> FakeLlm::request_headers() const {
  MutexLock lock(&mu_);
  return headers_;
}

std::vector<std::string> FakeLlm::request_targets() const {
  MutexLock lock(&mu_);
  std::vector<std::string> targets;
  for (const std::string& head : headers_) {
    const size_t from = head.find(' ') + 1;
    targets.push_back(head.substr(from, head.find(' ', from) - from));
  }
  return targets;
}

int FakeLlm::calls() const {
  MutexLock lock(&mu_);
  return static_cast<int>(requests_.size());
}

void FakeLlm::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    MutexLock lock(&mu_);
    connections_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeLlm::Serve(int fd) {
  std::string data;
  char buffer[16384];
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline && !stopping_) {
    if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
      std::string head = data.substr(0, header_end);
      for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t at = head.find("content-length:");
      if (at != std::string::npos) content_length = std::strtoul(head.c_str() + at + 15, nullptr, 10);
    }
  }
  if (header_end == std::string::npos) {
    ::close(fd);
    return;
  }
  FakeReply reply;
  {
    MutexLock lock(&mu_);
    headers_.push_back(data.substr(0, header_end));
    requests_.push_back(data.substr(header_end + 4, content_length));
    if (queue_.empty()) {
      reply = responder_ ? responder_(requests_.back()) : fallback_;
    } else {
      reply = std::move(queue_.front());
      queue_.pop_front();
    }
  }
  for (int waited = 0; waited < reply.delay_ms && !stopping_; waited += 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!reply.events.empty()) {
    bool open = SendAll(fd, "HTTP/1.1 " + std::to_string(reply.status) +
                         " Scripted\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                         "Cache-Control: no-cache\r\nConnection: close\r\n\r\n");
    for (size_t i = 0; open && i < reply.events.size() && !stopping_; ++i) {
      if (i > 0 && reply.event_gap_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(reply.event_gap_ms));
      }
      open = SendAll(fd, reply.events[i]);
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
    return;
  }
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n" +
                    "Content-Type: " + reply.content_type + "\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(reply.body.size()) + "\r\n";
  for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
  out += "\r\n" + reply.body;
  SendAll(fd, out);
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

}  // namespace omniflow::testing
