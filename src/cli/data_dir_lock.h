// A node's exclusive hold on its DATA_DIR. Two `opendbs serve` on one data directory share a node
// id and a catalog: both schedulers would start the same backups and both runtimes would run the same
// tasks. The hold is an flock on DATA_DIR/node.lock, which the kernel releases when the process ends
// in any way (kill -9 included), so it is never stale; the file names the holder's pid for the message.
#pragma once

#include <string>

#include "core/result.h"

namespace opendbs::cli {

class DataDirLock {
 public:
  // Takes the hold, or an error naming the process that has it.
  static core::Result<DataDirLock> acquire(const std::string& data_dir);
  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace opendbs::cli
