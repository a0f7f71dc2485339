// A small pool of threads for blocking work (LLM calls, upstream HTTP) so that the I/O threads
// never block. The queue is bounded: Post refuses at once when it is full.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "core/mutex.h"
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
  Mutex mu_;
  CondVar cv_;  // signalled when a job is queued or stopping_ is set
  std::deque<std::function<void()>> jobs_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace omniflow::agent
