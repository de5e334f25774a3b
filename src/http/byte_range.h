// Range requests on file responses (RFC 9110 §14): which part of a file of `size` bytes a GET with
// `Range` (and `If-Range`) asks for. Only a single byte range is served; a malformed or multi-range
// header is ignored, which the RFC allows, and the client gets the whole file. Free of Beast, so the
// rules are tested without a server.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace opendbs::http {

struct RangeAnswer {
  enum Kind { whole, partial, unsatisfiable };
  Kind kind = whole;
  std::uint64_t first = 0;   // partial: the first byte sent
  std::uint64_t length = 0;  // partial: how many bytes are sent (first + length <= size)
};

// The file's validators, as the response sends them in ETag and Last-Modified.
struct FileValidators {
  std::string etag;           // a strong entity tag, quotes included
  std::string last_modified;  // an IMF-fixdate
};

// `range` and `if_range` are the request's header values ("" when absent). If-Range that does not
// match the validators exactly (a weak or other tag, another date) asks for the whole file.
RangeAnswer answer_range(std::string_view range, std::string_view if_range, std::uint64_t size,
                         const FileValidators& validators);

// "bytes 0-99/1234" for a partial answer, "bytes */1234" for an unsatisfiable one.
std::string content_range(const RangeAnswer& answer, std::uint64_t size);

// The validators of a file of `size` bytes last modified at `mtime_s`.`mtime_ns`: the tag changes
// whenever the file is rewritten (download files are written once, through a rename).
FileValidators file_validators(std::uint64_t size, std::time_t mtime_s, long mtime_ns);

}  // namespace opendbs::http
