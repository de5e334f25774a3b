#include "engines/postgres/excluded_dependents.h"

#include <gtest/gtest.h>

namespace opendbs::engines::postgres {
namespace {

// The shape of pg_dump 15's plain text: a TOC header before every entry, the SETs an entry needs
// written just before its header.
const std::string kScript =
    "--\n-- PostgreSQL database dump\n--\n\n"
    "SET check_function_bodies = false;\n\n"
    "--\n-- Name: count_b(); Type: FUNCTION; Schema: public; Owner: -\n--\n\n"
    "CREATE FUNCTION public.count_b() RETURNS bigint\n    LANGUAGE sql\n    BEGIN ATOMIC\n"
    " SELECT count(*) AS count\n    FROM public.fk_b;\nEND;\n\n\n"
    "SET default_tablespace = '';\n\n"
    "SET default_table_access_method = heap;\n\n"
    "--\n-- Name: fk_a; Type: TABLE; Schema: public; Owner: -\n--\n\n"
    "CREATE TABLE public.fk_a (\n    id integer NOT NULL\n);\n\n\n"
    "--\n-- Name: TABLE fk_a; Type: COMMENT; Schema: public; Owner: -\n--\n\n"
    "COMMENT ON TABLE public.fk_a IS 'y';\n\n\n"
    "--\n-- Name: v_b; Type: VIEW; Schema: public; Owner: -\n--\n\n"
    "CREATE VIEW public.v_b AS\n SELECT fk_b.id\n   FROM public.fk_b;\n\n\n"
    "--\n-- Name: VIEW v_b; Type: COMMENT; Schema: public; Owner: -\n--\n\n"
    "COMMENT ON VIEW public.v_b IS 'x';\n\n\n"
    "--\n-- Name: COLUMN v_b.id; Type: COMMENT; Schema: public; Owner: -\n--\n\n"
    "COMMENT ON COLUMN public.v_b.id IS 'z';\n\n\n"
    "--\n-- Name: fk_a fk_a_b_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -\n--\n\n"
    "ALTER TABLE ONLY public.fk_a\n    ADD CONSTRAINT fk_a_b_id_fkey FOREIGN KEY (b_id) REFERENCES public.fk_b(id);\n\n\n"
    "--\n-- PostgreSQL database dump complete\n--\n\n";

TEST(WithoutLeftOut, DropsTheEntriesNamedAndTheCommentsFollowingThemAndKeepsTheSetsOfTheNextEntry) {
  const std::string out = without_left_out(kScript, {{"FUNCTION", "public", "count_b()", "public.fk_b"},
                                                     {"VIEW", "public", "v_b", "public.fk_b"},
                                                     {"FK CONSTRAINT", "public", "fk_a fk_a_b_id_fkey", "public.fk_b"}});
  EXPECT_EQ(out.find("fk_b"), std::string::npos) << out;
  EXPECT_EQ(out.find("'x'"), std::string::npos) << out;
  EXPECT_EQ(out.find("'z'"), std::string::npos) << out;  // every comment of the dropped view
  EXPECT_NE(out.find("SET check_function_bodies = false;\n"), std::string::npos) << out;
  EXPECT_NE(out.find("SET default_tablespace = '';\n\nSET default_table_access_method = heap;\n\n--\n-- Name: fk_a;"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("CREATE TABLE public.fk_a (\n    id integer NOT NULL\n);\n"), std::string::npos) << out;
  EXPECT_NE(out.find("COMMENT ON TABLE public.fk_a IS 'y';\n"), std::string::npos) << out;
  EXPECT_NE(out.find("-- PostgreSQL database dump complete\n"), std::string::npos) << out;
}

TEST(WithoutLeftOut, MatchesWholeNamesTypesAndSchemasOnly) {
  EXPECT_EQ(without_left_out(kScript, {{"VIEW", "public", "v", ""}, {"TABLE", "public", "v_b", ""},
                                       {"VIEW", "other", "v_b", ""}, {"FK CONSTRAINT", "public", "fk_a", ""}}),
            kScript);
  EXPECT_EQ(without_left_out(kScript, {}), kScript);
}

TEST(WithoutLeftOutMatviews, KeepsTheViewsNotLeftOut) {
  boost::json::array views{boost::json::object{{"schema", "public"}, {"name", "mv_a"}},
                           boost::json::object{{"schema", "public"}, {"name", "mv_b"}}};
  const auto kept = without_left_out_matviews(views, {{"MATERIALIZED VIEW", "public", "mv_b", "public.fk_b"},
                                                      {"VIEW", "public", "mv_a", "public.fk_b"}});
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].as_object().at("name").as_string(), "mv_a");
}

}  // namespace
}  // namespace opendbs::engines::postgres
