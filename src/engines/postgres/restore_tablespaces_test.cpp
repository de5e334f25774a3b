#include "engines/postgres/restore_tablespaces.h"

#include <gtest/gtest.h>

namespace opendbs::engines::postgres {
namespace {

TEST(FitTablespaces, ASetOfATablespaceTheDestinationLacksBecomesTheDefaultAndIsReported) {
  const std::string script =
      "SET default_tablespace = ts1;\n\nCREATE TABLE public.t (\n    id integer\n);\n\n"
      "SET default_tablespace = '';\n\nCREATE TABLE public.u (id integer);\n"
      "SET default_tablespace = \"Fast \"\"SSD\"\"\";\n\nCREATE INDEX i ON public.t USING btree (id);\n"
      "SET default_tablespace = kept;\n";
  const auto fit = fit_tablespaces(script, {"pg_default", "pg_global", "kept"});
  EXPECT_EQ(fit.script,
            "SET default_tablespace = '';\n\nCREATE TABLE public.t (\n    id integer\n);\n\n"
            "SET default_tablespace = '';\n\nCREATE TABLE public.u (id integer);\n"
            "SET default_tablespace = '';\n\nCREATE INDEX i ON public.t USING btree (id);\n"
            "SET default_tablespace = kept;\n");
  EXPECT_EQ(fit.missing, (std::set<std::string>{"ts1", "Fast \"SSD\""}));
}

TEST(FitTablespaces, TablespacesTheDestinationHasAndOtherLinesAreLeftAsTheyAre) {
  const std::string script =
      "SET default_tablespace = \"Ts 1\";\nCREATE TABLE t (x int);\n"
      "  SET default_tablespace = gone;\n"             // not a line of pg_dump's own
      "SET default_tablespace = gone; -- comment\n"    // neither
      "SET default_tablespace = \"bad\"quote\";\nno newline at the end";
  const auto fit = fit_tablespaces(script, {"Ts 1"});
  EXPECT_EQ(fit.script, script);
  EXPECT_TRUE(fit.missing.empty());
}

TEST(TablespacesChosenAtLoad, ASetOfANamedTablespaceTakesItOnlyWhereTheServerHasIt) {
  EXPECT_EQ(tablespaces_chosen_at_load("SET default_tablespace = \"Ts 'one'\";\nSET default_tablespace = '';\n"),
            "SELECT pg_catalog.set_config('default_tablespace', CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_tablespace"
            " WHERE spcname = 'Ts ''one''') THEN 'Ts ''one''' ELSE '' END, false);\nSET default_tablespace = '';\n");
}

}  // namespace
}  // namespace opendbs::engines::postgres
