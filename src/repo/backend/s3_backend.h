// S3Backend: a repository in an S3-compatible object store (AWS S3, Alibaba Cloud OSS, MinIO, ...),
// spoken to directly over HTTP with our SigV4 signer and libcurl.
//
// Objects are keys "<prefix>/<name>" in one bucket. put() is one PUT below the multipart threshold
// and a multipart upload (parts sent in parallel, each retried on its own) from it on; S3 makes
// either visible only once complete, which gives the atomicity the Backend contract asks for.
// get_range() checks the byte count it receives against what it asked for and what Content-Range
// announces: a range past the end of the object is "Corrupt", a body cut short in transit is
// "ServiceUnavailable" (transient, so RetryingBackend fetches it again).
//
// Error codes: "NotFound" for a missing key; "ServiceUnavailable" for 5xx answers, SlowDown,
// RequestTimeout and transport failures; "IOError" for the other refusals (AccessDenied,
// NoSuchBucket, SignatureDoesNotMatch, ...), with the store's code and message in the text.
// Thread-safe: the configuration is immutable and HttpClient serializes its own state.
#pragma once

#include <memory>

#include "repo/backend/backend.h"
#include "repo/backend/http_client.h"
#include "repo/backend/s3_config.h"
#include "repo/backend/sigv4.h"

namespace opendbs::repo {

class S3Backend final : public Backend {
 public:
  explicit S3Backend(S3Config config);

  core::Status put(const std::string& name, std::string_view data) override;
  core::Result<std::string> get(const std::string& name) override;
  core::Result<std::string> get_range(const std::string& name, uint64_t offset, uint64_t length) override;
  core::Result<std::optional<ObjectInfo>> stat(const std::string& name) override;
  core::Result<std::vector<ObjectInfo>> list(const std::string& prefix) override;
  core::Status remove(const std::string& name) override;
  std::string describe() const override;

  const S3Config& config() const { return config_; }
  uint64_t connections_opened() const { return http_.connections_opened(); }

 private:
  struct Call {
    std::string method;
    std::string key;  // object key within the bucket; empty for bucket-level requests
    sigv4::Pairs query;
    sigv4::Pairs headers;
    std::string_view body;
  };

  core::Result<HttpResponse> send(const Call& call);
  core::Error error_from(const HttpResponse& response, const std::string& what) const;
  std::string key_of(const std::string& name) const;

  core::Status put_single(const std::string& key, std::string_view data);
  core::Status put_multipart(const std::string& key, std::string_view data);
  core::Status upload_parts(const std::string& key, const std::string& upload_id, std::string_view data,
                            uint64_t part_size, std::vector<std::string>& etags);
  void abort_multipart(const std::string& key, const std::string& upload_id);

  const S3Config config_;
  HttpClient http_;
};

}  // namespace opendbs::repo
