#include "engines/postgres/wal_fetch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/errors.h"
#include "core/file.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/timeline_history.h"
#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_sets.h"

namespace opendbs::engines::postgres {
namespace {

uint32_t name_timeline(const std::string& name) { return static_cast<uint32_t>(std::stoul(name.substr(0, 8), nullptr, 16)); }

// The long page header that opens every WAL segment (access/xlog_internal.h): the page's own LSN at
// byte 8 and the segment size at byte 32, in the server's byte order; XLP_LONG_HEADER in xlp_info.
core::Status check_segment_header(std::string_view head, uint64_t segno, uint64_t segment_size, const std::string& name) {
  if (head.size() < 40) return core::errors::corrupt("WAL file " + name + " in the repository is too short");
  uint16_t info = 0;
  uint64_t pageaddr = 0;
  uint32_t seg_size = 0;
  std::memcpy(&info, head.data() + 2, sizeof info);
  std::memcpy(&pageaddr, head.data() + 8, sizeof pageaddr);
  std::memcpy(&seg_size, head.data() + 32, sizeof seg_size);
  if (!(info & 0x0002) || pageaddr != segno * segment_size || seg_size != segment_size)
    return core::errors::corrupt("WAL file " + name + " in the repository does not hold the segment its name says");
  return {};
}

// A stored history file of timeline `tli` to `path`; false when it is not stored.
core::Result<bool> fetch_history_file(repo::Repository& repository, const std::string& plan_id, uint32_t tli,
                                      const std::string& path) {
  const std::string set_id = wal_set_prefix(plan_id) + history_file_name(tli);
  auto text = read_wal_set(repository, set_id);
  if (!text.ok() && is_not_stored(text.error())) return false;
  OPENDBS_TRY(text);
  OPENDBS_TRY(parse_timeline_history(tli, *text));
  OPENDBS_TRY(core::write_file_durable(path, *text, 0600));
  return true;
}

}  // namespace

core::Status write_wal_segment(repo::Repository& repository, const std::string& set_id, uint64_t segno,
                               uint64_t segment_size, const std::string& name, const std::string& path, bool pad) {
  const std::string part = path + ".opendbs-part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return core::errors::io("cannot create " + part + ": " + std::strerror(errno));
  std::string head;
  uint64_t written = 0;
  auto st = repository.read_stream(set_id, "segment", [&](std::string_view bytes) -> core::Status {
    if (head.size() < 40) {
      head.append(bytes.substr(0, 40 - head.size()));
      if (head.size() == 40) OPENDBS_TRY(check_segment_header(head, segno, segment_size, name));
    }
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return core::errors::io("cannot write " + part + ": " + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    written += bytes.size();
    return {};
  });
  if (st.ok() && pad && written < segment_size) {
    const std::string zeros(1 << 20, '\0');
    while (st.ok() && written < segment_size) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), segment_size - written));
      if (::write(fd, zeros.data(), n) != static_cast<ssize_t>(n))
        st = core::errors::io("cannot write " + part + ": " + std::strerror(errno));
      written += n;
    }
  }
  if (st.ok() && written != segment_size)
    st = core::errors::corrupt("WAL file " + name + " in the repository has " + std::to_string(written) +
                               " bytes, not " + std::to_string(segment_size));
  if (st.ok() && ::fsync(fd) != 0) st = core::errors::io("cannot sync " + part + ": " + std::strerror(errno));
  ::close(fd);
  if (st.ok() && ::rename(part.c_str(), path.c_str()) != 0)
    st = core::errors::io("cannot rename " + part + ": " + std::strerror(errno));
  if (!st.ok()) {
    ::unlink(part.c_str());
    return st;
  }
  const auto parent = std::filesystem::path(path).parent_path();
  return core::sync_dir(parent.empty() ? "." : parent.string());
}


uint32_t default_restore_timeline(const std::string& last) {
  return wal_file_segno(last, 16 << 20) ? name_timeline(last) : 1;
}

bool replays_wal_file(const std::string& name, const std::string& last, uint32_t timeline) {
  // Every stored history file, also of timelines after `timeline`: recovery probes for them to choose
  // the number it promotes to, and must pass over those the plan holds (see fetch_wal_file).
  if (auto tli = history_file_timeline(name)) return *tli >= 2;
  // Positions compare as the 16 hex digits after the timeline's 8 (any segment size).
  return wal_file_segno(last, 16 << 20) && wal_file_segno(name, 16 << 20) && name_timeline(name) <= timeline &&
         name.compare(8, 16, last, 8, 16) <= 0;
}

core::Result<bool> fetch_wal_file(repo::Repository& repository, const std::string& plan_id, const std::string& name,
                                  const std::string& last, uint32_t timeline, const std::string& path) {
  if (!replays_wal_file(name, last, timeline)) return false;
  if (auto tli = history_file_timeline(name)) return fetch_history_file(repository, plan_id, *tli, path);
  const std::string set_id = wal_set_prefix(plan_id) + name;
  auto manifest = repository.load_manifest(set_id);
  // The restore planned every segment up to `last` from sets it found: one gone now is damage, and
  // answering "absent" would let recovery end early and promote at a moment nobody chose.
  const bool missing = !manifest.ok() && is_not_stored(manifest.error());
  if (!manifest.ok() && !missing) return manifest.error();
  const int64_t segment_size = missing ? 0 : meta_int(manifest->engine_metadata, meta::kSegmentSize, 0);
  // Recovery to `timeline` reads each segment from one timeline of its history (the newest that
  // begins before the segment ends); the same segment of any other timeline is not in the plan.
  if (timeline > 1) {
    OPENDBS_ASSIGN(auto history, load_timeline_history(repository, plan_id, timeline));
    uint64_t size = static_cast<uint64_t>(segment_size);
    if (history && size == 0) {  // the segment is missing: the history set knows the segment size
      OPENDBS_ASSIGN(auto stored, repository.load_manifest(wal_set_prefix(plan_id) + history_file_name(timeline)));
      size = static_cast<uint64_t>(meta_int(stored.engine_metadata, meta::kSegmentSize, 16 << 20));
    }
    if (!history) history = TimelineHistory{timeline, {}};
    if (size == 0) size = 16 << 20;
    if (history->timeline_of_segment(*wal_file_segno(name, size), size) != name_timeline(name)) return false;
  }
  if (missing)
    return core::errors::corrupt("WAL segment " + name + ", which this restore replays, is missing from the repository "
                                 "(was the plan released or the repository pruned after the restore?)");
  const auto& m = manifest->engine_metadata;
  const auto segno = segment_size > 0 ? wal_file_segno(name, static_cast<uint64_t>(segment_size)) : std::nullopt;
  if (!m.contains("kind") || m.at("kind") != wal_kind::kSegment || !segno)
    return core::errors::corrupt("set " + set_id + " in the repository is not a WAL segment");
  OPENDBS_TRY(write_wal_segment(repository, set_id, *segno, static_cast<uint64_t>(segment_size), name, path, false));
  return true;
}

}  // namespace opendbs::engines::postgres
