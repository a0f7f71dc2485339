#include "agent/worker_pool.h"

#include "core/thread_name.h"

namespace omniflow::agent {

WorkerPool::WorkerPool(int threads, size_t max_queue) : max_queue_(max_queue) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Status WorkerPool::Post(std::function<void()> job) {
  {
    MutexLock lock(&mu_);
    if (stopping_ || jobs_.size() >= max_queue_) {
      return Status::Unavailable("the assistant is busy; retry shortly");
    }
    jobs_.push_back(std::move(job));
  }
  cv_.Signal();
  return Status::Ok();
}

void WorkerPool::Run() {
  NameThisThread("of-agent");
  while (true) {
    std::function<void()> job;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && jobs_.empty()) cv_.Wait(&mu_);
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace omniflow::agent
