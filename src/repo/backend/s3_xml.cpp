#include "repo/backend/s3_xml.h"

#include <cstring>
#include <pugixml.hpp>

#include "core/errors.h"

namespace opendbs::repo::s3xml {
namespace {

// The local part of an element name ("s3:Key" -> "Key").
std::string_view local_name(const pugi::xml_node& node) {
  std::string_view name = node.name();
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child(const pugi::xml_node& parent, std::string_view name) {
  for (pugi::xml_node node : parent.children())
    if (local_name(node) == name) return node;
  return {};
}

std::string child_text(const pugi::xml_node& parent, std::string_view name) {
  return child(parent, name).text().as_string();
}

core::Result<pugi::xml_node> root_named(pugi::xml_document& doc, std::string_view body, std::string_view name) {
  const auto parsed = doc.load_buffer(body.data(), body.size());
  if (!parsed) return core::errors::io("S3 answered malformed XML (" + std::string(parsed.description()) + ")");
  pugi::xml_node root = doc.document_element();
  if (local_name(root) != name)
    return core::errors::io("S3 answered <" + std::string(root.name()) + "> where <" + std::string(name) +
                            "> was expected");
  return root;
}

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::optional<ErrorDocument> parse_error(std::string_view body) {
  pugi::xml_document doc;
  auto root = root_named(doc, body, "Error");
  if (!root.ok()) return std::nullopt;
  return ErrorDocument{child_text(*root, "Code"), child_text(*root, "Message")};
}

core::Result<ListPage> parse_list_page(std::string_view body) {
  pugi::xml_document doc;
  OPENDBS_ASSIGN(pugi::xml_node root, root_named(doc, body, "ListBucketResult"));
  ListPage page;
  for (pugi::xml_node node : root.children()) {
    if (local_name(node) != "Contents") continue;
    page.objects.push_back({child_text(node, "Key"), child(node, "Size").text().as_ullong()});
  }
  page.truncated = child_text(root, "IsTruncated") == "true";
  page.next_continuation_token = child_text(root, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty())
    return core::errors::io("S3 answered a truncated listing without a NextContinuationToken");
  return page;
}

core::Result<std::string> parse_upload_id(std::string_view body) {
  pugi::xml_document doc;
  OPENDBS_ASSIGN(pugi::xml_node root, root_named(doc, body, "InitiateMultipartUploadResult"));
  std::string id = child_text(root, "UploadId");
  if (id.empty()) return core::errors::io("S3 answered a multipart upload without an UploadId");
  return id;
}

std::string complete_multipart_body(const std::vector<CompletedPart>& parts) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& part : parts)
    out += "<Part><PartNumber>" + std::to_string(part.number) + "</PartNumber><ETag>" + escape(part.etag) +
           "</ETag></Part>";
  out += "</CompleteMultipartUpload>";
  return out;
}

}  // namespace opendbs::repo::s3xml
