// The web console's static files (src/console/static/), embedded in the binary at build time by
// embed_assets.cmake, so a node serves its console with nothing on disk and nothing fetched from
// the internet.
#pragma once

#include <string_view>

namespace opendbs::console {

struct Asset {
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;
};

// The file at `path` below the console's root, e.g. "index.html" or "js/main.js" (no leading slash);
// nullptr if there is none. The returned object lives as long as the program.
const Asset* find_asset(std::string_view path);

}  // namespace opendbs::console
