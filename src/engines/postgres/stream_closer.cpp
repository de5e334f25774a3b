#include "engines/postgres/stream_closer.h"

namespace opendbs::engines::postgres {

StreamCloser::StreamCloser(size_t max_pending) : max_pending_(max_pending), thread_([this] { run(); }) {}

StreamCloser::~StreamCloser() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StreamCloser::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left
    auto writer = std::move(queue_.front());
    queue_.pop_front();
    ++closing_;
    lock.unlock();
    auto st = writer->close();
    writer.reset();
    lock.lock();
    --closing_;
    if (!st.ok() && first_error_.ok()) first_error_ = st;
    cv_.notify_all();
  }
}

core::Status StreamCloser::close_later(std::unique_ptr<repo::StreamWriter> writer) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queue_.size() < max_pending_ || !first_error_.ok(); });
  if (!first_error_.ok()) return first_error_;
  queue_.push_back(std::move(writer));
  cv_.notify_all();
  return {};
}

core::Status StreamCloser::finish() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && closing_ == 0; });
  return first_error_;
}

}  // namespace opendbs::engines::postgres
