// libFuzzer target for the request decoder and the signature verifier: whatever a client sends must
// end in a value (a DecodedRequest or an Error), never a crash, a hang or a sanitizer report.
//
// Input format, so that seeds can be written from real requests (scripts/fuzz-smoke makes them from
// shared/dbs/signature-vectors.json):
//   METHOD SP TARGET LF  (name ":" value LF)*  LF  body
// Header names are lower-cased as the HTTP layer does; the verifier uses the vectors' secret, so a
// seed that is a genuine signed request reaches the success path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/percent_encoding.h"
#include "api/request_decoder.h"
#include "api/signature.h"

namespace {

std::string_view next_line(std::string_view& rest) {
  const size_t lf = rest.find('\n');
  const std::string_view line = rest.substr(0, lf);
  rest = lf == std::string_view::npos ? std::string_view{} : rest.substr(lf + 1);
  return line;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  opendbs::api::HttpRequestView request;
  const std::string_view request_line = next_line(rest);
  const size_t space = request_line.find(' ');
  request.method = request_line.substr(0, space);
  request.target = space == std::string_view::npos ? std::string_view{} : request_line.substr(space + 1);
  while (!rest.empty()) {
    const std::string_view line = next_line(rest);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    request.headers.emplace_back(lower(line.substr(0, colon)),
                                 colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1)));
  }
  request.body = rest;

  auto decoded = opendbs::api::decode_request(request);
  if (decoded.ok()) {
    (void)opendbs::api::verify_signature(request, *decoded, "testsecret");
    (void)opendbs::api::verify_signature(request, *decoded, "");
  }

  // Encoding is total and decoding inverts it, for any bytes.
  const std::string_view sample = request.target;
  auto round_trip = opendbs::api::percent_decode(opendbs::api::percent_encode(sample), true);
  if (!round_trip.ok() || *round_trip != sample) __builtin_trap();
  return 0;
}
