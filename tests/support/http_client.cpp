#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

#include <gtest/gtest.h>

namespace omniflow::testing {

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

simdjson::dom::element HttpResponse::Json() const {
  if (!parser_) parser_ = std::make_shared<simdjson::dom::parser>();
  simdjson::dom::element root;
  auto error = parser_->parse(body).get(root);
  EXPECT_FALSE(error) << "not JSON: " << body.substr(0, 300);
  return root;
}

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

int HttpClient::Connect() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

namespace {

// Decodes the chunked body starting at data[pos]: 1 when complete (the last chunk and the
// blank line seen), 0 when more bytes are needed, -1 when malformed.
int DecodeChunked(const std::string& data, size_t pos, std::string* body, int* chunks) {
  body->clear();
  *chunks = 0;
  while (true) {
    const size_t eol = data.find("\r\n", pos);
    if (eol == std::string::npos) return 0;
    char* end = nullptr;
    const std::string size_text = data.substr(pos, eol - pos);
    const unsigned long size = std::strtoul(size_text.c_str(), &end, 16);
    if (size_text.empty() || (end && *end != '\0' && *end != ';')) return -1;
    pos = eol + 2;
    if (size == 0) return data.compare(pos, 2, "\r\n") == 0 ? 1 : (data.size() < pos + 2 ? 0 : -1);
    if (data.size() < pos + size + 2) return 0;
    body->append(data, pos, size);
    ++*chunks;
    pos += size + 2;
  }
}

}  // namespace

HttpResponse HttpClient::ReadResponse(int fd, int timeout_ms) {
  HttpResponse response;
  std::string data;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t header_end = std::string::npos;
  size_t body_length = 0;
  bool has_length = false, closed = false;
  char buf[65536];
  while (true) {
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        size_t line_end = data.find("\r\n");
        std::string status_line = data.substr(0, line_end);
        if (status_line.size() >= 12) response.status = std::atoi(status_line.c_str() + 9);
        size_t pos = line_end + 2;
        while (pos < header_end) {
          size_t eol = data.find("\r\n", pos);
          std::string line = data.substr(pos, eol - pos);
          size_t colon = line.find(':');
          if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            response.headers[Lower(line.substr(0, colon))] = value;
          }
          pos = eol + 2;
        }
        auto it = response.headers.find("content-length");
        if (it != response.headers.end()) {
          has_length = true;
          body_length = std::stoul(it->second);
        }
        if (response.status == 100) {  // interim response: drop it and read the real one
          data.erase(0, header_end + 4);
          response = HttpResponse();
          header_end = std::string::npos;
          continue;
        }
      }
    }
    if (header_end != std::string::npos && response.Header("transfer-encoding") == "chunked") {
      response.chunked = true;
      // Decoded once the last chunk may have come (or the peer closed), not on every read.
      const bool may_end = data.size() >= 7 && data.compare(data.size() - 7, 7, "\r\n0\r\n\r\n") == 0;
      const int state = !may_end && !closed ? 0 : DecodeChunked(data, header_end + 4, &response.body, &response.chunks);
      if (state != 0) {
        response.complete = state == 1;
        return response;
      }
      if (closed) {
        response.complete = false;
        return response;
      }
    } else if (header_end != std::string::npos) {
      size_t have = data.size() - header_end - 4;
      if (has_length && have >= body_length) {
        response.body = data.substr(header_end + 4, body_length);
        return response;
      }
      if (closed) {
        response.body = data.substr(header_end + 4);
        return response;
      }
    } else if (closed) {
      return HttpResponse();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return header_end == std::string::npos ? HttpResponse() : response;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      continue;
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

HttpResponse HttpClient::Request(const std::string& method, const std::string& target,
                                 const Headers& headers, const std::string& body,
                                 bool json_body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_type = false;
  for (const auto& [name, value] : headers) {
    req += name + ": " + value + "\r\n";
    if (Lower(name) == "content-type") has_type = true;
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (json_body && !has_type) req += "Content-Type: application/json\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0) fd_ = Connect();
    if (fd_ < 0) return HttpResponse();
    if (SendAll(fd_, req)) {
      HttpResponse r = ReadResponse(fd_, 30000);
      if (r.status != 0) {
        if (Lower(r.Header("connection")) == "close") {
          ::close(fd_);
          fd_ = -1;
        }
        return r;
      }
    }
    ::close(fd_);
    fd_ = -1;
  }
  return HttpResponse();
}

HttpResponse HttpClient::Raw(const std::string& raw, int timeout_ms) {
  int fd = Connect();
  if (fd < 0) return HttpResponse();
  HttpResponse r;
  if (SendAll(fd, raw)) r = ReadResponse(fd, timeout_ms);
  ::close(fd);
  return r;
}

std::string UrlEncode(const std::string& value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace omniflow::testing
