// The opendbs command line, with the engines a build provides (the production main and the test
// node differ only in those).
#pragma once

#include "engines/engine.h"

namespace opendbs::cli {
int opendbs_main(int argc, char** argv, const engines::EngineRegistry& engines);
}
