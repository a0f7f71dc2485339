// A small pool of threads for blocking work (LLM calls, upstream HTTP) so that the I/O threads
// never block. The queue is bounded: Post refuses at once when it is full.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"

namespace omniflow::agent {

class WorkerPool {
 public:
  WorkerPool(int threads, size_t max_queue);
  ~WorkerPool();  // Stop()

  // Finishes the queued work, then joins the threads; later Posts are refused. Idempotent.
  void Stop();

  // Queues `job`; Unavailable when the queue is full or the pool is stopping. Thread-safe.
  Status Post(std::function<void()> job);

 private:
  void Run();
  size_t max_queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                   // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace omniflow::agent
