// S3Config: where an S3 repository lives and how to talk to it, read from an s3:// URL plus the
// environment. The syntax and every option are documented in docs/S3.md:
//
//   s3://BUCKET[/PREFIX][?option=value&...]
//   options: endpoint, region, path_style, access_key_id, secret_access_key, session_token,
//            multipart_threshold, part_size, upload_parallelism, list_page_size, connect_timeout_ms,
//            stall_timeout_ms, request_timeout_ms, verify_tls, ca_file, retry_count_max,
//            retry_backoff_ms, retry_for_ms
//
// A URL option wins over OPENDBS_S3_<OPTION IN UPPER CASE>, which wins over the AWS variables
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_DEFAULT_REGION,
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/result.h"
#include "repo/backend/http_client.h"
#include "repo/backend/retrying_backend.h"
#include "repo/backend/sigv4.h"

namespace opendbs::repo {

struct S3Config {
  std::string scheme = "https";  // of the endpoint: "https" or "http"
  std::string endpoint_host;     // "host" or "host:port", without the bucket
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; may be empty
  std::string region = "us-east-1";
  bool path_style = false;  // https://host/bucket/key rather than https://bucket.host/key
  sigv4::Credentials credentials;

  uint64_t multipart_threshold_bytes = 64ull << 20;  // objects of this size or more go in parts
  uint64_t part_size_bytes = 16ull << 20;            // grown when an object would need > 10000 parts
  int upload_parallelism = 4;                        // parts of one object in flight at once
  int list_page_size = 1000;                         // max-keys of each ListObjectsV2 request
  HttpOptions http;
  // Of the RetryingBackend that open_backend wraps around, and of each part. Retries go on for 15 s:
  // an endpoint restarting (a MinIO or s3rver process, a load balancer's backend) is away for seconds.
  RetryPolicy retry{.retry_count_max = 5, .backoff_initial_ms = 100, .backoff_max_ms = 10'000, .retry_for_ms = 15'000};
};

// Looks up an environment variable; replaceable so that tests need not touch the process's.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// Parses an s3:// URL; errors name the offending option and what it expects.
core::Result<S3Config> parse_s3_url(const std::string& url, const EnvLookup& env = process_env());

}  // namespace opendbs::repo
