// S3Backend's multipart upload: initiate, send the parts from a few threads (each part retried on its
// own, so that one lost connection does not resend a whole pack), complete; abort on failure.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "core/errors.h"
#include "core/log.h"
#include "repo/backend/s3_backend.h"
#include "repo/backend/s3_xml.h"

namespace opendbs::repo {
namespace {

constexpr uint64_t kPartCountMax = 10'000;  // S3's limit on the parts of one upload

}  // namespace

core::Status S3Backend::put_multipart(const std::string& key, std::string_view data) {
  const uint64_t part_size =
      std::max<uint64_t>(config_.part_size_bytes, (data.size() + kPartCountMax - 1) / kPartCountMax);
  OPENDBS_ASSIGN(auto initiated, send({"POST", key, {{"uploads", ""}}, {}, {}}));
  if (initiated.status != 200) return error_from(initiated, "initiate multipart upload of " + key);
  OPENDBS_ASSIGN(const std::string upload_id, s3xml::parse_upload_id(initiated.body));

  std::vector<std::string> etags;
  if (auto status = upload_parts(key, upload_id, data, part_size, etags); !status.ok()) {
    abort_multipart(key, upload_id);
    return status;
  }
  std::vector<s3xml::CompletedPart> parts;
  for (size_t i = 0; i < etags.size(); ++i) parts.push_back({static_cast<int>(i + 1), etags[i]});
  const std::string body = s3xml::complete_multipart_body(parts);
  auto completed = send({"POST", key, {{"uploadId", upload_id}}, {{"Content-Type", "application/xml"}}, body});
  if (!completed.ok()) {
    abort_multipart(key, upload_id);
    return completed.error();
  }
  // CompleteMultipartUpload may fail after its 200 status line, with an <Error> for a body.
  if (completed->status != 200 || s3xml::parse_error(completed->body)) {
    abort_multipart(key, upload_id);
    return error_from(*completed, "complete multipart upload of " + key);
  }
  return {};
}

core::Status S3Backend::upload_parts(const std::string& key, const std::string& upload_id, std::string_view data,
                                     uint64_t part_size, std::vector<std::string>& etags) {
  const size_t part_count = std::max<size_t>(1, (data.size() + part_size - 1) / part_size);
  etags.assign(part_count, "");
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  core::Status first_error;

  auto upload_one = [&](size_t index) -> core::Status {
    const std::string_view part = data.substr(index * part_size, part_size);
    const sigv4::Pairs query = {{"partNumber", std::to_string(index + 1)}, {"uploadId", upload_id}};
    OPENDBS_ASSIGN(auto response, send({"PUT", key, query, {}, part}));
    const std::string what = "PUT part " + std::to_string(index + 1) + " of " + key;
    if (response.status != 200) return error_from(response, what);
    etags[index] = response.header("etag");
    if (etags[index].empty()) return core::errors::io(describe() + ": " + what + " answered without an ETag");
    return {};
  };
  auto worker = [&] {
    for (size_t index; !failed && (index = next++) < part_count;) {
      core::Status status = run_with_retries(config_.retry, real_sleeper(), [&] { return upload_one(index); });
      if (status.ok()) continue;
      std::lock_guard lock(error_mutex);
      if (!failed.exchange(true)) first_error = status;
    }
  };
  const size_t thread_count =
      std::min<size_t>(part_count, static_cast<size_t>(std::max(1, config_.upload_parallelism)));
  {
    std::vector<std::jthread> threads;
    for (size_t i = 1; i < thread_count; ++i) threads.emplace_back(worker);
    worker();
  }
  return first_error;
}

void S3Backend::abort_multipart(const std::string& key, const std::string& upload_id) {
  auto response = send({"DELETE", key, {{"uploadId", upload_id}}, {}, {}});
  if (response.ok() && (response->status == 204 || response->status == 200)) return;
  // Not fatal: the parts of an abandoned upload cost space until a bucket lifecycle rule removes them.
  core::log_event(core::LogLevel::warn, "s3_abort_multipart_failed",
                  {{"backend", describe()},
                   {"key", key},
                   {"upload_id", upload_id},
                   {"error", response.ok() ? "HTTP " + std::to_string(response->status) : response.error().message}});
}

}  // namespace opendbs::repo
