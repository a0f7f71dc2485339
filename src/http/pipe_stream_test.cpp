#include "http/pipe_stream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace omniflow::http {
namespace {

// The pieces a reader takes until the last one, and whether the last one was ok.
struct Drained {
  std::string data;
  bool ok = true;
};

Drained Drain(BodyStream& reader) {
  Drained out;
  for (;;) {
    std::atomic<bool> got{false};
    BodyStream::Piece piece;
    reader.Next([&](BodyStream::Piece p) {
      piece = std::move(p);
      got = true;
    });
    while (!got) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    out.data += piece.data;
    if (!piece.status.ok()) out.ok = false;
    if (piece.last || !piece.status.ok()) return out;
  }
}

TEST(Pipe, DeliversWhatArrivesToAWaitingReaderAtOnce) {
  auto pipe = std::make_shared<Pipe>();
  std::shared_ptr<BodyStream> reader = pipe->Reader();
  std::string first;
  reader->Next([&](BodyStream::Piece p) { first = p.data; });
  EXPECT_TRUE(first.empty());  // nothing yet: the reader waits
  ASSERT_TRUE(pipe->Push("data: 1\n\n"));
  EXPECT_EQ(first, "data: 1\n\n");  // handed over by the Push itself
  std::thread producer([&] {
    pipe->Push("data: 2\n\n");
    pipe->Close();
  });
  Drained rest = Drain(*reader);
  producer.join();
  EXPECT_EQ(rest.data, "data: 2\n\n");
  EXPECT_TRUE(rest.ok);
}

TEST(Pipe, TheProducerWaitsWhileTheBufferIsFull) {
  auto pipe = std::make_shared<Pipe>(8);
  std::shared_ptr<BodyStream> reader = pipe->Reader();
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int i = 0; i < 4; ++i) {
      pipe->Push("12345678");
      ++pushed;
    }
    pipe->Close();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(pushed.load(), 1);  // the second Push waits for room
  Drained all = Drain(*reader);
  producer.join();
  EXPECT_EQ(all.data, "12345678123456781234567812345678");
  EXPECT_TRUE(all.ok);
}

TEST(Pipe, AGoneReaderStopsTheProducer) {
  auto pipe = std::make_shared<Pipe>(4);
  std::shared_ptr<BodyStream> reader = pipe->Reader();
  ASSERT_TRUE(pipe->Push("abcd"));
  std::atomic<bool> result{true};
  std::thread producer([&] { result = pipe->Push("efgh"); });  // waits: the buffer is full
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  reader.reset();  // the client left
  producer.join();
  EXPECT_FALSE(result.load());
  EXPECT_FALSE(pipe->Push("more"));
}

TEST(Pipe, AFailedCloseEndsTheBodyAsTruncated) {
  auto pipe = std::make_shared<Pipe>();
  std::shared_ptr<BodyStream> reader = pipe->Reader();
  pipe->Push("partial");
  pipe->Close(Status::UpstreamFailed("broke off"));
  Drained d = Drain(*reader);
  EXPECT_EQ(d.data, "partial");
  EXPECT_FALSE(d.ok);
}

}  // namespace
}  // namespace omniflow::http
