// For tests: one HTTP request with libcurl, a real client, and what came back.
#pragma once

#include <curl/curl.h>
#include <strings.h>

#include <sstream>
#include <string>
#include <vector>

namespace opendbs::http::testing_fetch {

struct Fetched {
  long status = 0;
  std::string headers;  // the status line and header lines, as received
  std::string body;

  // The value of the header `name` (case-insensitive), "" when absent.
  std::string header(const std::string& name) const {
    std::istringstream lines(headers);
    for (std::string line; std::getline(lines, line);) {
      if (line.size() <= name.size() || line[name.size()] != ':') continue;
      if (strncasecmp(line.data(), name.data(), name.size()) != 0) continue;
      std::string value = line.substr(name.size() + 1);
      while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
      return value;
    }
    return "";
  }
};

inline size_t append_to(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

inline Fetched fetch(const std::string& url, const std::vector<std::string>& request_headers, bool head = false) {
  Fetched f;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : request_headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOBODY, head ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_to);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &f.headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_to);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &f.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &f.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return f;
}

}  // namespace opendbs::http::testing_fetch
