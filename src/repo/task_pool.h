// A fixed set of threads fed by a bounded queue: submit() blocks while the queue is full, which is
// what keeps a backup's memory bounded however fast the input arrives.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace opendbs::repo {

class TaskPool {
 public:
  TaskPool(unsigned threads, size_t queue_capacity) : capacity_(queue_capacity) {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }
  ~TaskPool() {
    {
      std::lock_guard lk(mutex_);
      stop_ = true;
    }
    has_work_.notify_all();
    for (auto& t : threads_) t.join();
  }
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  void submit(std::function<void()> task) {
    std::unique_lock lk(mutex_);
    has_room_.wait(lk, [this] { return queue_.size() < capacity_; });
    queue_.push_back(std::move(task));
    has_work_.notify_one();
  }

  // Blocks until the queue is empty and no task is running.
  void wait_idle() {
    std::unique_lock lk(mutex_);
    idle_.wait(lk, [this] { return queue_.empty() && running_ == 0; });
  }

 private:
  void run() {
    std::unique_lock lk(mutex_);
    for (;;) {
      has_work_.wait(lk, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      auto task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      has_room_.notify_one();
      lk.unlock();
      task();
      lk.lock();
      --running_;
      if (queue_.empty() && running_ == 0) idle_.notify_all();
    }
  }

  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable has_work_, has_room_, idle_;
  std::deque<std::function<void()>> queue_;
  unsigned running_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace opendbs::repo
