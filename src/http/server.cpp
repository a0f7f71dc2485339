// Boost 1.74 with g++ 12 in C++20 needs <utility> before Asio's headers.
#include <utility>

#include "http/server.h"

#include <array>
#include <atomic>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/json.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/thread_name.h"
#include "http/request_id.h"

namespace omniflow::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string_view SV(beast::string_view s) { return {s.data(), s.size()}; }

class Session;

// State every session sees.
struct Shared {
  const Router* router = nullptr;
  ServerOptions options;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  Mutex mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions GUARDED_BY(mu);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared* shared) : stream_(std::move(socket)), shared_(shared) {
    shared_->connections.fetch_add(1, std::memory_order_relaxed);
    // Beast reads at most the buffer's free capacity (at least 512 bytes) per call: with room
    // for a typical request, one recvmsg reads it whole instead of three for a 1.3 KB save.
    buffer_.reserve(kReadBuffer);
  }
  ~Session() {
    {
      MutexLock lock(&shared_->mu);
      shared_->sessions.erase(this);
    }
    shared_->connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void Start() {
    {
      MutexLock lock(&shared_->mu);
      shared_->sessions.emplace(this, weak_from_this());
    }
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::ReadHeader, shared_from_this()));
  }

  // On a graceful stop: an idle connection closes now; a busy one after its response.
  void CloseIfIdle() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->stream_.socket().close();
    });
  }

 private:
  void ReadHeader() {
    busy_ = false;
    if (shared_->stopping.load()) return Close();
    parser_.emplace();
    parser_->body_limit(shared_->options.max_body);
    parser_->header_limit(static_cast<uint32_t>(shared_->options.max_header));
    stream_.expires_after(shared_->options.read_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    busy_ = true;
    start_ = std::chrono::steady_clock::now();
    auto& msg = parser_->get();
    if (msg.version() != 11 && msg.version() != 10) {
      return Fail(400, "unsupported HTTP version: use HTTP/1.1");
    }
    // RFC 9112 6.1: a Transfer-Encoding the server does not understand is answered with 400 and
    // the connection closed, never ignored (the body would be read as the next request).
    size_t encodings = 0;
    for (const auto& field : msg) {
      if (field.name() != bhttp::field::transfer_encoding) continue;
      if (++encodings > 1 || !beast::iequals(field.value(), "chunked")) {
        return Fail(400, "Transfer-Encoding must be exactly \"chunked\"");
      }
    }
    if (encodings == 1 && msg.find(bhttp::field::content_length) != msg.end()) {
      return Fail(400, "a request may not carry both Transfer-Encoding and Content-Length");
    }
    if (auto length = parser_->content_length(); length && *length > shared_->options.max_body) {
      return Fail(413, "request body is larger than the limit of " +
                           std::to_string(shared_->options.max_body) + " bytes");
    }
    auto expect = msg.find(bhttp::field::expect);
    if (expect != msg.end() && beast::iequals(expect->value(), "100-continue")) {
      continue_.emplace(bhttp::status::continue_, 11);
      return bhttp::async_write(stream_, *continue_,
                                beast::bind_front_handler(&Session::OnContinue,
                                                          shared_from_this()));
    }
    ReadBody();
  }

  void OnContinue(beast::error_code ec, size_t) {
    if (ec) return Close();
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof || ec == net::error::bad_descriptor) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return Fail(413, "request body is larger than the limit of " +
                           std::to_string(shared_->options.max_body) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      return Fail(431, "request headers are larger than the limit of " +
                           std::to_string(shared_->options.max_header) + " bytes");
    }
    if (ec.category() == beast::error_code(bhttp::error::end_of_stream).category()) {
      return Fail(400, "malformed HTTP request");
    }
    Close();
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    auto& msg = parser_->get();
    request_.method = SV(msg.method_string());
    request_.SetTarget(SV(msg.target()));
    request_.headers.clear();
    for (const auto& field : msg) request_.headers.emplace_back(SV(field.name_string()), SV(field.value()));
    request_.body = msg.body();
    request_.request_id = RequestId(request_.Header("x-request-id"));
    keep_alive_ = msg.keep_alive();

    stream_.expires_never();  // the handler may wait for the writer; no read is pending
    shared_->router->Dispatch(request_, [self = shared_from_this()](Response response) {
      net::dispatch(self->stream_.get_executor(),
                    [self, response = std::move(response)]() mutable {
                      self->Write(std::move(response));
                    });
    }, &route_);
  }

  // Answers a request that could not be read whole, then closes.
  void Fail(int status, std::string message) {
    keep_alive_ = false;
    linger_ = true;
    route_ = -1;
    if (start_ == std::chrono::steady_clock::time_point()) start_ = std::chrono::steady_clock::now();
    request_.method = parser_ ? SV(parser_->get().method_string()) : std::string_view();
    request_.path = parser_ ? SV(parser_->get().target()) : std::string_view();
    request_.path = request_.path.substr(0, request_.path.find('?'));
    // The caller's id when its headers were read (a body too large, say).
    std::optional<std::string_view> given;
    if (parser_) {
      auto field = parser_->get().find("x-request-id");
      if (field != parser_->get().end()) given = SV(field->value());
    }
    request_.request_id = RequestId(given);
    Response r = ErrorResponse(status, message);
    r.close = true;
    Write(std::move(r));
  }

  std::string_view RequestId(std::optional<std::string_view> given) {
    return RequestIdFor(given, &request_id_);
  }

  void Write(Response r) {
    if (r.stream) return WriteStreamHead(std::move(r));
    response_.emplace();
    response_->version(11);
    response_->result(static_cast<unsigned>(r.status));
    response_->set(bhttp::field::server, "omniflow");
    response_->set(bhttp::field::content_type, r.content_type);
    response_->set("X-Content-Type-Options", "nosniff");
    response_->set("X-Request-Id", beast::string_view(request_.request_id.data(), request_.request_id.size()));
    if (!r.log_error.empty()) {
      // The client learns that something failed and the id to quote; the log learns why.
      spdlog::error("event=internal_error request_id={} path=\"{}\" error=\"{}\"",
                    request_.request_id, LogSafe(request_.path),
                    LogSafe(r.log_error));
      if (!r.body.empty() && r.body.back() == '}') {  // the id, for the caller to quote
        std::string body;
        JsonWriter(&body).BeginObjectFrom(r.body).Field("request_id", request_.request_id).EndObject();
        r.body = std::move(body);
      }
    }
    for (auto& [name, value] : r.headers) response_->set(name, value);
    response_->keep_alive(keep_alive_ && !r.close && !shared_->stopping.load());
    response_->body() = std::move(r.body);
    response_->prepare_payload();
    Log(r);
    stream_.expires_after(shared_->options.read_timeout);
    bhttp::async_write(stream_, *response_,
                       beast::bind_front_handler(&Session::OnWrite, shared_from_this(),
                                                 response_->need_eof()));
  }

  // A streamed body (see BodyStream): the head now, then each piece as the producer makes it,
  // asking for the next only once the last is written. Chunked for HTTP/1.1; for HTTP/1.0 the
  // body ends with the connection.
  void WriteStreamHead(Response r) {
    stream_head_.emplace();
    auto& head = *stream_head_;
    head.version(11);
    head.result(static_cast<unsigned>(r.status));
    head.set(bhttp::field::server, "omniflow");
    head.set(bhttp::field::content_type, r.content_type);
    head.set("X-Content-Type-Options", "nosniff");
    head.set("X-Request-Id", beast::string_view(request_.request_id.data(), request_.request_id.size()));
    for (auto& [name, value] : r.headers) head.set(name, value);
    chunked_ = parser_ && parser_->get().version() == 11;
    if (chunked_) head.chunked(true);
    stream_keep_alive_ = chunked_ && keep_alive_ && !r.close && !shared_->stopping.load();
    head.keep_alive(stream_keep_alive_);
    body_stream_ = std::move(r.stream);
    stream_log_.status = r.status;
    stream_log_.log_user = std::move(r.log_user);
    stream_log_.log_path = std::move(r.log_path);
    piece_last_ = false;
    stream_serializer_.emplace(head);
    stream_.expires_after(shared_->options.read_timeout);
    bhttp::async_write_header(stream_, *stream_serializer_,
                              beast::bind_front_handler(&Session::OnStreamWritten,
                                                        shared_from_this()));
  }

  void OnStreamWritten(beast::error_code ec, size_t) {
    if (ec) return EndStream(false, "the client went away or stopped reading: " + ec.message());
    if (piece_last_) return EndStream(true, {});
    // No timeout while the producer works (it runs off the io threads, under its own limits);
    // each write has one.
    stream_.expires_never();
    body_stream_->Next([self = shared_from_this()](BodyStream::Piece piece) {
      // Posted, never run inline: a producer answering at once cannot recurse.
      net::post(self->stream_.get_executor(), [self, piece = std::move(piece)]() mutable {
        self->OnPiece(std::move(piece));
      });
    });
  }

  void OnPiece(BodyStream::Piece piece) {
    if (!piece.status.ok()) return EndStream(false, piece.status.message());
    piece_ = std::move(piece.data);
    piece_last_ = piece.last;
    // The write operation keeps its own copy of this sequence; the bytes stay in members.
    std::vector<net::const_buffer> buffers;
    chunk_head_.clear();
    chunk_tail_.clear();
    if (chunked_ && !piece_.empty()) {
      chunk_head_ = fmt::format("{:x}\r\n", piece_.size());
      chunk_tail_ = "\r\n";
    }
    if (chunked_ && piece_last_) chunk_tail_ += "0\r\n\r\n";
    if (!chunk_head_.empty()) buffers.push_back(net::buffer(chunk_head_));
    if (!piece_.empty()) buffers.push_back(net::buffer(piece_));
    if (!chunk_tail_.empty()) buffers.push_back(net::buffer(chunk_tail_));
    if (buffers.empty()) return OnStreamWritten({}, 0);  // an empty piece: ask for the next
    streamed_ += piece_.size();
    stream_.expires_after(shared_->options.read_timeout);
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&Session::OnStreamWritten, shared_from_this()));
  }

  // After the last piece (`complete`), or when the body cannot be completed: releases the
  // producer, logs, and reads the next request or closes.
  void EndStream(bool complete, const std::string& why) {
    body_stream_.reset();
    stream_serializer_.reset();
    stream_head_.reset();
    piece_ = std::string();
    if (!complete) {
      spdlog::warn("event=stream_aborted request_id={} path=\"{}\" bytes={} reason=\"{}\"",
                   request_.request_id, LogSafe(request_.path), streamed_, LogSafe(why));
    }
    streamed_ = 0;
    Log(stream_log_);
    if (complete && stream_keep_alive_) return ReadHeader();
    Close();
  }

  void Log(const Response& r) {
    const auto duration = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start_);
    const auto micros = duration.count();
    if (shared_->options.on_answered) shared_->options.on_answered(route_, r.status, duration);
    spdlog::info("method={} path=\"{}\" status={} dur_ms={:.3f} user={} request_id={}",
                 LogSafe(request_.method), LogSafe(r.log_path.empty() ? request_.path : r.log_path),
                 r.status,
                 static_cast<double>(micros) / 1000.0, MaskUserId(r.log_user),
                 request_.request_id);
    start_ = {};
  }

  void OnWrite(bool close, beast::error_code ec, size_t) {
    response_.reset();
    if (ec) return Close();
    if (close) return linger_ ? Linger() : Close();
    ReadHeader();
  }

  // After refusing a request whose body was not read, reads and drops what the client is still
  // sending (bounded in time and bytes) so that closing does not reset the connection before
  // the client has read the error.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    drain_ = std::make_unique<std::array<char, 16384>>();
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(net::buffer(*drain_), [self = shared_from_this()](
                                                      beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kMaxDrain) return self->Close();
      self->DrainSome();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  Shared* shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  // A streamed response (WriteStreamHead): its head, the producer, the piece being written.
  std::optional<bhttp::response<bhttp::empty_body>> stream_head_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> stream_serializer_;
  std::shared_ptr<BodyStream> body_stream_;
  std::string piece_, chunk_head_, chunk_tail_;
  bool chunked_ = false;
  bool piece_last_ = false;
  bool stream_keep_alive_ = false;
  size_t streamed_ = 0;
  Response stream_log_;  // status and user, logged when the stream ends
  Request request_;
  std::string request_id_;  // a generated X-Request-Id; request_.request_id may view it
  int route_ = -1;  // the router's index of the route serving request_ (-1: none)
  bool keep_alive_ = false;
  bool busy_ = false;
  bool linger_ = false;
  static constexpr size_t kMaxDrain = 8 << 20;
  static constexpr size_t kReadBuffer = 8 << 10;
  size_t drained_ = 0;
  std::unique_ptr<std::array<char, 16384>> drain_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions options, const Router* router)
      : ioc(options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency())),
        acceptor(net::make_strand(ioc)),
        signals(ioc, SIGINT, SIGTERM),
        drain_timer(ioc) {
    shared.router = router;
    shared.options = std::move(options);
    if (shared.options.threads <= 0)
      shared.options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        // Out of descriptors or similar: log, back off briefly, keep accepting.
        spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
      } else if (shared.connections.load() >= shared.options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), &shared)->Start();
      }
      Accept();
    });
  }

  void BeginStop() {
    if (shared.stopping.exchange(true)) return;
    if (on_stop) on_stop();
    net::post(acceptor.get_executor(), [this] {
      beast::error_code ec;
      acceptor.close(ec);
    });
    // The sessions are taken out under the lock and closed after it: a session whose other
    // owners let go meanwhile is destroyed when the last of these references goes, and its
    // destructor takes shared.mu (held here, that was a self-deadlock: the stop never ended).
    std::vector<std::shared_ptr<Session>> open;
    {
      MutexLock lock(&shared.mu);
      open.reserve(shared.sessions.size());
      for (auto& [ptr, weak] : shared.sessions) {
        if (auto session = weak.lock()) open.push_back(std::move(session));
      }
    }
    for (const std::shared_ptr<Session>& session : open) session->CloseIfIdle();
    open.clear();
    drain_deadline = std::chrono::steady_clock::now() + shared.options.drain_timeout;
    WaitDrained();
  }

  void WaitDrained() {
    if (shared.connections.load() == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
      if (shared.connections.load() != 0) {
        spdlog::warn("event=drain_timeout open_connections={}", shared.connections.load());
      }
      ioc.stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(20));
    drain_timer.async_wait([this](beast::error_code) { WaitDrained(); });
  }

  net::io_context ioc;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer drain_timer;
  std::chrono::steady_clock::time_point drain_deadline;
  Shared shared;
  std::function<void()> on_stop;
};

Server::Server(ServerOptions options, const Router* router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() = default;

Status Server::Listen() {
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->shared.options.host, ec);
  if (ec) return Status::InvalidArgument("not an IP address: " + impl_->shared.options.host);
  tcp::endpoint endpoint(address, impl_->shared.options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + impl_->shared.options.host + ":" +
                               std::to_string(impl_->shared.options.port) + ": " + ec.message());
  }
  return Status::Ok();
}

uint16_t Server::port() const {
  beast::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void Server::Run(std::function<void()> on_stop) {
  impl_->on_stop = std::move(on_stop);
  impl_->signals.async_wait([this](beast::error_code ec, int) {
    if (!ec) impl_->BeginStop();
  });
  impl_->Accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->shared.options.threads; ++i) {
    threads.emplace_back([this] {
      NameThisThread("of-io");
      impl_->ioc.run();
    });
  }
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void Server::Stop() {
  net::post(impl_->ioc, [this] { impl_->BeginStop(); });
}

}  // namespace omniflow::http
