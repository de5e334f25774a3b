// The XML documents of the S3 REST API that S3Backend reads and writes, on pugixml. Element names
// are matched without their namespace, since stores differ in whether they send one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "repo/backend/backend.h"

namespace opendbs::repo::s3xml {

struct ErrorDocument {
  std::string code;  // "NoSuchKey", "SlowDown", ...
  std::string message;
};

// The <Error> document of a failed request (also sent inside a 200 by CompleteMultipartUpload);
// nullopt when `body` holds no such document.
std::optional<ErrorDocument> parse_error(std::string_view body);

struct ListPage {
  std::vector<ObjectInfo> objects;  // full keys, as the store has them
  bool truncated = false;
  std::string next_continuation_token;
};

// A ListObjectsV2 <ListBucketResult>.
core::Result<ListPage> parse_list_page(std::string_view body);

// The UploadId of an <InitiateMultipartUploadResult>.
core::Result<std::string> parse_upload_id(std::string_view body);

struct CompletedPart {
  int number = 0;
  std::string etag;  // as the store sent it, quotes included
};

// The <CompleteMultipartUpload> request body listing the parts in order.
std::string complete_multipart_body(const std::vector<CompletedPart>& parts);

}  // namespace opendbs::repo::s3xml
