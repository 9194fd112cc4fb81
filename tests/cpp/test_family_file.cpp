// Parsing of compiled family files and integrals; malformed input is rejected with a message.
#include <string>

#include "algebra/integral.hpp"
#include "check.hpp"
#include "family/family_file.hpp"
#include "family/family_source.hpp"
#include "family/point.hpp"

using namespace sailir;

int main() {
  FamilyDef tb = load_family("trianglebox");
  CHECK(tb.n == 7);
  CHECK(tb.templates.size() == 9);
  std::size_t terms = 0;
  for (auto& t : tb.templates) terms += t.terms.size();
  CHECK(terms == 109);
  CHECK(tb.masters.size() == 16);
  CHECK(tb.irreducible.size() == 1 && tb.irreducible[0] == 6);

  CHECK(format_integral(parse_integral(" I[2, 1,2,1,2,2,-4] ", 7), 7) == "I[2,1,2,1,2,2,-4]");
  CHECK_THROWS(parse_integral("I[2,1,2,1,2,2]", 7));
  CHECK_THROWS(parse_integral("I[2,1,2,1,2,2,1.5]", 7));
  CHECK_THROWS(parse_integral("J[2,1,2,1,2,2,1]", 7));
  CHECK_THROWS(parse_integral("I[2,1,2,1,2,2,400]", 7));

  NumericPoint p = resolve_point(tb, "m2=31/7");
  CHECK(format_point(p) == "d=41,m1=1,m2=31/7,m3=47");
  CHECK_THROWS(resolve_point(tb, "x=3"));
  CHECK_THROWS(resolve_point(tb, "m1=2"));
  CHECK_THROWS(resolve_point(tb, "d=4.5"));
  CHECK_THROWS(resolve_point(tb, "m3=1/0"));
  CHECK_THROWS(point_in_field(resolve_point(tb, "m2=1/65537"), nmod_t{65537}));

  // Corrupt files: wrong magic, truncation, wrong identities version.
  std::string text(builtin_family_files()[0].second);
  CHECK_THROWS(parse_family_file("hello\n", "x"));
  CHECK_THROWS(parse_family_file(text.substr(0, text.size() / 2), "x"));
  std::string wrong = text;
  wrong.replace(wrong.find("identities-version 1"), 20, "identities-version 9");
  CHECK_THROWS(parse_family_file(wrong, "x"));
  CHECK_THROWS(load_family("no-such-family"));
  TEST_MAIN_END();
}
