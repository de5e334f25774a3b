// Closes repository streams on a background thread. StreamWriter::close() waits until every chunk
// of the stream is stored; a data directory has thousands of small files, and waiting for each in
// turn would leave the reader idle between them. Closing in the background keeps the base backup
// stream flowing while earlier files finish.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "core/result.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

class StreamCloser {
 public:
  explicit StreamCloser(size_t max_pending = 256);
  ~StreamCloser();  // finishes the queue
  // Queues `writer` to be closed; blocks while `max_pending` are waiting. Fails with the first error
  // any close returned.
  core::Status close_later(std::unique_ptr<repo::StreamWriter> writer);
  // Waits until every queued stream is closed; the first error, if any.
  core::Status finish();

 private:
  void run();

  const size_t max_pending_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<repo::StreamWriter>> queue_;
  size_t closing_ = 0;
  bool stopping_ = false;
  core::Status first_error_;
  std::thread thread_;
};

}  // namespace opendbs::engines::postgres
