#include "repo/manifest.h"

#include <boost/json.hpp>

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/byte_order.h"
#include "repo/format.h"

namespace opendbs::repo {
namespace json = boost::json;
namespace {

std::string encode_chunks(const std::vector<ChunkRef>& chunks) {
  std::string out;
  out.reserve(chunks.size() * format::kManifestChunkRecordSize);
  for (const auto& c : chunks) {
    out.append(c.id);
    put_u32(out, c.raw_len);
  }
  return core::base64_encode(out);
}

core::Result<std::vector<ChunkRef>> decode_chunks(std::string_view b64) {
  OPENDBS_ASSIGN(auto raw, core::base64_decode(b64));
  if (raw.size() % format::kManifestChunkRecordSize != 0)
    return core::errors::corrupt("chunk list length is not a multiple of 36");
  std::vector<ChunkRef> out;
  out.reserve(raw.size() / format::kManifestChunkRecordSize);
  for (size_t at = 0; at < raw.size(); at += format::kManifestChunkRecordSize)
    out.push_back(ChunkRef{raw.substr(at, format::kIdSize), get_u32(raw, at + format::kIdSize)});
  return out;
}

core::Result<int64_t> int_of(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return core::errors::corrupt(std::string("manifest field ") + name + " is missing or not an integer");
}

core::Result<StreamEntry> parse_stream(const json::value& v) {
  if (!v.is_object()) return core::errors::corrupt("manifest stream is not an object");
  const auto& o = v.as_object();
  StreamEntry s;
  const auto* name = o.if_contains("name");
  const auto* chunks = o.if_contains("chunks");
  if (!name || !name->is_string() || !chunks || !chunks->is_string())
    return core::errors::corrupt("manifest stream lacks name or chunks");
  s.name = std::string(name->as_string());
  OPENDBS_TRY(validate_stream_name(s.name));
  OPENDBS_ASSIGN(auto size, int_of(o, "size"));
  OPENDBS_ASSIGN(auto mode, int_of(o, "mode"));
  OPENDBS_ASSIGN(s.meta.mtime_ms, int_of(o, "mtime_ms"));
  s.meta.size = static_cast<uint64_t>(size);
  s.meta.mode = static_cast<uint32_t>(mode);
  OPENDBS_ASSIGN(s.chunks, decode_chunks(std::string_view(chunks->as_string())));
  uint64_t total = 0;
  for (const auto& c : s.chunks) total += c.raw_len;
  if (total != s.meta.size)
    return core::errors::corrupt("stream " + s.name + ": chunk lengths sum to " + std::to_string(total) +
                                 ", size says " + std::to_string(s.meta.size));
  return s;
}

}  // namespace

const StreamEntry* Manifest::find_stream(std::string_view name) const {
  for (const auto& s : streams)
    if (s.name == name) return &s;
  return nullptr;
}

std::string encode_manifest(const MasterKey& key, const Manifest& m) {
  json::array streams;
  for (const auto& s : m.streams)
    streams.push_back(json::object{{"name", s.name},
                                   {"size", s.meta.size},
                                   {"mode", s.meta.mode},
                                   {"mtime_ms", s.meta.mtime_ms},
                                   {"chunks", encode_chunks(s.chunks)}});
  json::object o{{"version", format::kVersion},
                 {"set_id", m.set_id},
                 {"created_ms", m.created_ms},
                 {"engine_metadata", m.engine_metadata},
                 {"streams", std::move(streams)}};
  return core::aes256gcm_seal(key.data_key, json::serialize(o), std::string(format::kManifestAad) + m.set_id);
}

core::Result<Manifest> decode_manifest(const MasterKey& key, const std::string& set_id, std::string_view sealed) {
  auto text = core::aes256gcm_open(key.data_key, sealed, std::string(format::kManifestAad) + set_id);
  if (!text.ok()) return text.error().with_context("manifest of set " + set_id);
  boost::system::error_code ec;
  // Names are the source's bytes, which need not be UTF-8 (a SQL_ASCII database's names are whatever its
  // users wrote): json::serialize writes them as they are, and they are read back as they are.
  json::parse_options bytes_as_written;
  bytes_as_written.allow_invalid_utf8 = true;
  auto v = json::parse(*text, ec, {}, bytes_as_written);
  if (ec || !v.is_object()) return core::errors::corrupt("manifest of set " + set_id + " is not a JSON object");
  const auto& o = v.as_object();
  Manifest m;
  OPENDBS_ASSIGN(auto version, int_of(o, "version"));
  if (version != format::kVersion)
    return core::errors::corrupt("manifest of set " + set_id + " has unknown version " + std::to_string(version));
  const auto* id = o.if_contains("set_id");
  if (!id || !id->is_string() || id->as_string() != set_id)
    return core::errors::corrupt("manifest names another set than " + set_id);
  m.set_id = set_id;
  OPENDBS_ASSIGN(m.created_ms, int_of(o, "created_ms"));
  const auto* meta = o.if_contains("engine_metadata");
  const auto* streams = o.if_contains("streams");
  if (!meta || !meta->is_object() || !streams || !streams->is_array())
    return core::errors::corrupt("manifest of set " + set_id + " lacks engine_metadata or streams");
  m.engine_metadata = meta->as_object();
  for (const auto& s : streams->as_array()) {
    auto stream = parse_stream(s);
    if (!stream.ok()) return stream.error().with_context("manifest of set " + set_id);
    m.streams.push_back(std::move(*stream));
  }
  return m;
}

core::Status validate_set_id(const std::string& set_id) {
  bool ok = !set_id.empty() && set_id.size() <= format::kSetIdMaxLength && set_id != "." && set_id != "..";
  for (char c : set_id)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '-');
  if (!ok) return core::errors::invalid_parameter("set id", set_id, "[A-Za-z0-9._-]{1,128}");
  return {};
}

core::Status validate_stream_name(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find('\0') != std::string::npos)
    return core::errors::invalid_parameter("stream name", name, "a non-empty relative path");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    auto part = std::string_view(name).substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      return core::errors::invalid_parameter("stream name", name, "a relative path without empty, . or .. parts");
    start = end + 1;
  }
  return {};
}

std::string manifest_object_name(const std::string& set_id) { return std::string(format::kSetsPrefix) + set_id; }

}  // namespace opendbs::repo
